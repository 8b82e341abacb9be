//! KIP-951 `node_endpoints`: Produce, Fetch, ShareFetch and ShareAcknowledge
//! responses name the current leaders of partitions that moved, so that a
//! client can go there without a Metadata round trip. Each message has its
//! own generated `NodeEndpoint` type with the same fields.

use kafka_protocol::protocol::StrBytes;

use super::codec::{map_endpoint, Unmapped};
use super::tagged_walk::{Cursor, WalkResult};
use super::BrokerAddressMap;

/// The fields of one generated `NodeEndpoint` type the rewriter touches.
pub(super) trait Endpoint {
    fn parts(&mut self) -> (i32, &mut StrBytes, &mut i32);
}

macro_rules! impl_endpoint {
    ($($t:ty),*) => {$(
        impl Endpoint for $t {
            fn parts(&mut self) -> (i32, &mut StrBytes, &mut i32) {
                (self.node_id.0, &mut self.host, &mut self.port)
            }
        }
    )*};
}

impl_endpoint!(
    kafka_protocol::messages::produce_response::NodeEndpoint,
    kafka_protocol::messages::fetch_response::NodeEndpoint,
    kafka_protocol::messages::share_fetch_response::NodeEndpoint,
    kafka_protocol::messages::share_acknowledge_response::NodeEndpoint
);

/// Endpoints get the gateway's address; unmapped ones are dropped (the
/// client then falls back to a Metadata request for that leader).
pub(super) fn rewrite<E: Endpoint>(
    endpoints: &mut Vec<E>,
    map: &dyn BrokerAddressMap,
    unmapped: &mut Unmapped,
) -> bool {
    let mut changed = false;
    endpoints.retain_mut(|e| {
        let (node_id, host, port) = e.parts();
        match map_endpoint(map, node_id, host, port, unmapped) {
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
    changed
}

/// A COMPACT_ARRAY of NodeEndpoint (only ever in flexible versions);
/// returns the element count.
pub(super) fn walk(c: &mut Cursor<'_>) -> WalkResult<usize> {
    let count = c.array_len(true, "node_endpoints")?;
    for _ in 0..count {
        c.skip(4, "node_endpoint node_id")?;
        c.string(true, "node_endpoint host")?;
        c.skip(4, "node_endpoint port")?;
        c.string(true, "node_endpoint rack")?;
        c.skip_tagged_fields("node_endpoint tagged fields")?;
    }
    Ok(count)
}

/// LeaderIdAndEpoch (leader_id, leader_epoch) of a flexible version.
pub(super) fn walk_leader(c: &mut Cursor<'_>) -> WalkResult<()> {
    c.skip(4 + 4, "current_leader")?;
    c.skip_tagged_fields("current_leader tagged fields")
}
