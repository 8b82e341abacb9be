//! Metadata (api key 3), every version kafka-protocol decodes.

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, BrokerId, MetadataResponse};

use super::codec::{check_version, decode, finish, map_endpoint, split_response, Unmapped};
use super::tagged_walk::{Cursor, WalkResult};
use super::{BrokerAddressMap, RewriteOutcome};
use crate::WireError;

const KEY: ApiKey = ApiKey::Metadata;
const FIRST_FLEXIBLE: i16 = 9;
const LEADER_NOT_AVAILABLE: i16 = 5;

/// Brokers get the gateway's address for them; brokers without one are
/// dropped, and partitions they lead get leader -1 with
/// LEADER_NOT_AVAILABLE, so the client retries instead of dialling a node it
/// cannot reach.
pub(super) fn rewrite(
    version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
) -> Result<RewriteOutcome, WireError> {
    check_version::<MetadataResponse>(KEY, version)?;
    let (header, message) = split_response(KEY, version, body)?;
    walk(&mut Cursor::new(&message), version)?;
    let mut response: MetadataResponse = decode(KEY, version, message)?;

    let mut unmapped = Unmapped::default();
    let mut changed = false;
    response.brokers.retain_mut(|b| {
        map.note_backend_broker(b.node_id.0, b.host.as_str(), b.port);
        match map_endpoint(map, b.node_id.0, &mut b.host, &mut b.port, &mut unmapped) {
            Some(c) => {
                changed |= c;
                true
            }
            None => false,
        }
    });
    let dropped = unmapped.sorted();
    if !dropped.is_empty() {
        changed = true;
        orphan_partitions(&mut response, dropped);
    }
    finish(KEY, version, &header, &response, changed, unmapped)
}

fn orphan_partitions(response: &mut MetadataResponse, dropped: &[i32]) {
    let partitions = response
        .topics
        .iter_mut()
        .flat_map(|t| t.partitions.iter_mut());
    for p in partitions {
        if dropped.binary_search(&p.leader_id.0).is_ok() {
            p.leader_id = BrokerId(-1);
            p.error_code = LEADER_NOT_AVAILABLE;
        }
    }
}

/// Structure of a MetadataResponse at `version`, field by field as
/// MetadataResponse.json lays it out.
pub(crate) fn walk(c: &mut Cursor<'_>, version: i16) -> WalkResult<()> {
    let flex = version >= FIRST_FLEXIBLE;
    if version >= 3 {
        c.skip(4, "throttle_time_ms")?;
    }
    c.array(flex, "brokers", |c| {
        c.skip(4, "broker node_id")?;
        c.string(flex, "broker host")?;
        c.skip(4, "broker port")?;
        if version >= 1 {
            c.string(flex, "broker rack")?;
        }
        c.struct_tags(flex, "broker tagged fields")
    })?;
    if version >= 2 {
        c.string(flex, "cluster_id")?;
    }
    if version >= 1 {
        c.skip(4, "controller_id")?;
    }
    c.array(flex, "topics", |c| walk_topic(c, version))?;
    if (8..=10).contains(&version) {
        c.skip(4, "cluster_authorized_operations")?;
    }
    if version >= 13 {
        c.skip(2, "error_code")?;
    }
    c.struct_tags(flex, "metadata tagged fields")
}

fn walk_topic(c: &mut Cursor<'_>, version: i16) -> WalkResult<()> {
    let flex = version >= FIRST_FLEXIBLE;
    c.skip(2, "topic error_code")?;
    c.string(flex, "topic name")?;
    if version >= 10 {
        c.skip(16, "topic_id")?;
    }
    if version >= 1 {
        c.skip(1, "is_internal")?;
    }
    c.array(flex, "partitions", |c| {
        // error_code, partition_index, leader_id
        c.skip(2 + 4 + 4, "partition")?;
        if version >= 7 {
            c.skip(4, "leader_epoch")?;
        }
        c.i32_array(flex, "replica_nodes")?;
        c.i32_array(flex, "isr_nodes")?;
        if version >= 5 {
            c.i32_array(flex, "offline_replicas")?;
        }
        c.struct_tags(flex, "partition tagged fields")
    })?;
    if version >= 8 {
        c.skip(4, "topic_authorized_operations")?;
    }
    c.struct_tags(flex, "topic tagged fields")
}
