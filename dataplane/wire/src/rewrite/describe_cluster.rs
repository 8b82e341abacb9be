//! DescribeCluster (api key 60), every version kafka-protocol decodes (all
//! of them flexible).

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, DescribeClusterResponse};

use super::codec::{check_version, decode, finish, map_endpoint, split_response, Unmapped};
use super::tagged_walk::{Cursor, WalkResult};
use super::{BrokerAddressMap, RewriteOutcome};
use crate::WireError;

const KEY: ApiKey = ApiKey::DescribeCluster;

/// Brokers get the gateway's address; brokers without one are dropped. With
/// endpoint_type 2 (controllers, v1+) the list holds controllers, which the
/// map looks up like any other node id.
pub(super) fn rewrite(
    version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
) -> Result<RewriteOutcome, WireError> {
    check_version::<DescribeClusterResponse>(KEY, version)?;
    let (header, message) = split_response(KEY, version, body)?;
    walk(&mut Cursor::new(&message), version)?;
    let mut response: DescribeClusterResponse = decode(KEY, version, message)?;

    let mut unmapped = Unmapped::default();
    let mut changed = false;
    response.brokers.retain_mut(|b| {
        match map_endpoint(map, b.broker_id.0, &mut b.host, &mut b.port, &mut unmapped) {
            Some(c) => {
                changed |= c;
                true
            }
            None => {
                changed = true;
                false
            }
        }
    });
    finish(KEY, version, &header, &response, changed, unmapped)
}

pub(super) fn walk(c: &mut Cursor<'_>, version: i16) -> WalkResult<()> {
    c.skip(4 + 2, "throttle_time_ms and error_code")?;
    c.string(true, "error_message")?;
    if version >= 1 {
        c.skip(1, "endpoint_type")?;
    }
    c.string(true, "cluster_id")?;
    c.skip(4, "controller_id")?;
    c.array(true, "brokers", |c| {
        c.skip(4, "broker_id")?;
        c.string(true, "broker host")?;
        c.skip(4, "broker port")?;
        c.string(true, "broker rack")?;
        if version >= 2 {
            c.skip(1, "is_fenced")?;
        }
        c.skip_tagged_fields("broker tagged fields")
    })?;
    c.skip(4, "cluster_authorized_operations")?;
    c.skip_tagged_fields("describe_cluster tagged fields")
}
