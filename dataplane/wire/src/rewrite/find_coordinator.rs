//! FindCoordinator (api key 10): the single form of v0-v3 and the batched
//! `coordinators` of v4+.

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, BrokerId, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use super::codec::{check_version, decode, finish, map_endpoint, split_response, Unmapped};
use super::tagged_walk::{Cursor, WalkResult};
use super::{BrokerAddressMap, RewriteOutcome};
use crate::WireError;

const KEY: ApiKey = ApiKey::FindCoordinator;
const FIRST_FLEXIBLE: i16 = 3;
const FIRST_BATCHED: i16 = 4;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;

/// The coordinator fields common to both forms, borrowed from whichever
/// one the response uses.
struct Entry<'a> {
    error_code: &'a mut i16,
    error_message: Option<&'a mut Option<StrBytes>>,
    node_id: &'a mut BrokerId,
    host: &'a mut StrBytes,
    port: &'a mut i32,
}

/// An unmapped coordinator becomes COORDINATOR_NOT_AVAILABLE: the client
/// retries FindCoordinator rather than failing, and the operator sees the
/// broker in the log. Entries that already carry an error pass unchanged.
pub(super) fn rewrite(
    version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
) -> Result<RewriteOutcome, WireError> {
    check_version::<FindCoordinatorResponse>(KEY, version)?;
    let (header, message) = split_response(KEY, version, body)?;
    walk(&mut Cursor::new(&message), version)?;
    let mut r: FindCoordinatorResponse = decode(KEY, version, message)?;

    let mut unmapped = Unmapped::default();
    let mut changed = false;
    if version >= FIRST_BATCHED {
        for c in &mut r.coordinators {
            let entry = Entry {
                error_code: &mut c.error_code,
                error_message: Some(&mut c.error_message),
                node_id: &mut c.node_id,
                host: &mut c.host,
                port: &mut c.port,
            };
            changed |= rewrite_entry(entry, map, &mut unmapped);
        }
    } else {
        let entry = Entry {
            error_code: &mut r.error_code,
            // v0 has no error_message field to explain the error in.
            error_message: (version >= 1).then_some(&mut r.error_message),
            node_id: &mut r.node_id,
            host: &mut r.host,
            port: &mut r.port,
        };
        changed = rewrite_entry(entry, map, &mut unmapped);
    }
    finish(KEY, version, &header, &r, changed, unmapped)
}

fn rewrite_entry(e: Entry<'_>, map: &dyn BrokerAddressMap, unmapped: &mut Unmapped) -> bool {
    if *e.error_code != 0 {
        return false;
    }
    let node_id = e.node_id.0;
    if let Some(changed) = map_endpoint(map, node_id, e.host, e.port, unmapped) {
        return changed;
    }
    *e.error_code = COORDINATOR_NOT_AVAILABLE;
    *e.node_id = BrokerId(-1);
    *e.host = StrBytes::new();
    *e.port = -1;
    if let Some(message) = e.error_message {
        *message = Some(StrBytes::from_string(format!(
            "sluice: broker {node_id} has no address on this listener"
        )));
    }
    true
}

pub(super) fn walk(c: &mut Cursor<'_>, version: i16) -> WalkResult<()> {
    let flex = version >= FIRST_FLEXIBLE;
    if version >= 1 {
        c.skip(4, "throttle_time_ms")?;
    }
    if version < FIRST_BATCHED {
        c.skip(2, "error_code")?;
        if version >= 1 {
            c.string(flex, "error_message")?;
        }
        c.skip(4, "node_id")?;
        c.string(flex, "host")?;
        c.skip(4, "port")?;
    } else {
        c.array(true, "coordinators", |c| {
            c.string(true, "coordinator key")?;
            c.skip(4, "coordinator node_id")?;
            c.string(true, "coordinator host")?;
            c.skip(4 + 2, "coordinator port and error_code")?;
            c.string(true, "coordinator error_message")?;
            c.skip_tagged_fields("coordinator tagged fields")
        })?;
    }
    c.struct_tags(flex, "find_coordinator tagged fields")
}
