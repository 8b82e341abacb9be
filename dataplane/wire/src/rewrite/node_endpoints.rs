//! KIP-951 `node_endpoints`: Produce, Fetch, ShareFetch and ShareAcknowledge
//! responses name the current leaders of partitions that moved, so that a
//! client can go there without a Metadata round trip. Each message has its
//! own generated `NodeEndpoint` type with the same fields.

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, FetchResponse, ProduceResponse};
use kafka_protocol::protocol::{Decodable, Encodable, Message, StrBytes};

use super::codec::{
    check_version, decode, finish, map_endpoint, response_header_len, split_response, unchanged,
    Unmapped,
};
use super::tagged_walk::{Cursor, WalkResult};
use super::{BrokerAddressMap, RewriteOutcome};
use crate::WireError;

/// A response whose top-level tagged fields may carry `node_endpoints`
/// (Produce v10+, Fetch v16+).
pub(super) trait TaggedEndpoints: Message + Decodable + Encodable {
    const KEY: ApiKey;
    type Endpoint: Endpoint;
    fn endpoints(&mut self) -> &mut Vec<Self::Endpoint>;
}

impl TaggedEndpoints for ProduceResponse {
    const KEY: ApiKey = ApiKey::Produce;
    type Endpoint = kafka_protocol::messages::produce_response::NodeEndpoint;
    fn endpoints(&mut self) -> &mut Vec<Self::Endpoint> {
        &mut self.node_endpoints
    }
}

impl TaggedEndpoints for FetchResponse {
    const KEY: ApiKey = ApiKey::Fetch;
    type Endpoint = kafka_protocol::messages::fetch_response::NodeEndpoint;
    fn endpoints(&mut self) -> &mut Vec<Self::Endpoint> {
        &mut self.node_endpoints
    }
}

/// Walks the message with `walk` (which skips record data by its length)
/// and decodes, rewrites and re-encodes only when `node_endpoints` is there.
pub(super) fn rewrite_tagged<M: TaggedEndpoints>(
    version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
    walk: fn(&mut Cursor<'_>, i16) -> WalkResult<bool>,
) -> Result<RewriteOutcome, WireError> {
    check_version::<M>(M::KEY, version)?;
    let header_len = response_header_len(M::KEY, version, body)?;
    let message = body
        .get(header_len..)
        .ok_or(WireError::Truncated("response header"))?;
    // The common case ends here: no leader moved, nothing to decode.
    if !walk(&mut Cursor::new(message), version)? {
        return Ok(unchanged());
    }
    // Decoding from `Bytes` keeps records as slices of `body`; they are
    // copied once, into the new frame.
    let (header, message) = split_response(M::KEY, version, body)?;
    let mut response: M = decode(M::KEY, version, message)?;
    let mut unmapped = Unmapped::default();
    let changed = rewrite(response.endpoints(), map, &mut unmapped);
    finish(M::KEY, version, &header, &response, changed, unmapped)
}

/// The fields of one generated `NodeEndpoint` type the rewriter touches.
pub(crate) trait Endpoint {
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
pub(crate) fn rewrite<E: Endpoint>(
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
pub(crate) fn walk(c: &mut Cursor<'_>) -> WalkResult<usize> {
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
