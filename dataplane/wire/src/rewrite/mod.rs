//! Response rewriting: no backend host:port may reach a client.
//!
//! Only responses that name brokers are touched (Metadata, FindCoordinator,
//! DescribeCluster, the KIP-951 `node_endpoints` of Produce, Fetch,
//! ShareFetch and ShareAcknowledge) plus ApiVersions, whose version ranges
//! are clamped so that a client never picks a version this crate cannot
//! decode. Everything else is forwarded as the very bytes that arrived.

mod api_versions;
pub(crate) mod codec;
mod describe_cluster;
pub(crate) mod fetch;
mod find_coordinator;
mod metadata;
pub(crate) mod node_endpoints;
mod produce;
mod share;
pub(crate) mod tagged_walk;
#[cfg(test)]
mod walk_tests;

use std::borrow::Cow;

use bytes::Bytes;

use crate::api_key::{
    API_VERSIONS, DESCRIBE_CLUSTER, FETCH, FIND_COORDINATOR, METADATA, PRODUCE, SHARE_ACKNOWLEDGE,
    SHARE_FETCH,
};

pub use api_versions::{api_versions_unsupported_response, max_api_versions_version};

pub(crate) use api_versions::clamp as clamp_api_versions;
pub(crate) use api_versions::decode_body as decode_api_versions_body;
pub(crate) use metadata::walk as walk_metadata_response;

/// Where the gateway serves broker `node_id`. `None`: the broker has no
/// place on this listener (its port would fall outside the listener's
/// range, ...); the rewriter then leaves that broker out and reports it in
/// [`RewriteOutcome::unmapped`] so the caller can log it.
///
/// The host is a `Cow` because some mappings (SNI names) compute it per
/// node while others (port mapping) lend one configured host to every node.
pub trait BrokerAddressMap {
    fn broker_endpoint(&self, node_id: i32) -> Option<(Cow<'_, str>, i32)>;

    /// Told, for each broker a Metadata response lists, the address the
    /// backend gives for it, before that address is replaced: the gateway
    /// can tell from it that a broker moved or joined.
    fn note_backend_broker(&self, _node_id: i32, _host: &str, _port: i32) {}
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewritten {
    /// Forward the original bytes.
    Unchanged,
    /// A complete new frame, including the 4-byte length prefix.
    Replaced(Bytes),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewriteOutcome {
    pub frame: Rewritten,
    /// Node ids (sorted, each once) that had no address on this listener.
    pub unmapped: Vec<i32>,
}

/// Does a response to `(api_key, api_version)` need inspection at all? The
/// hot path asks this for every response, so it is a plain match.
pub fn response_needs_inspection(api_key: i16, api_version: i16) -> bool {
    match api_key {
        PRODUCE => api_version >= produce::FIRST_NODE_ENDPOINTS,
        FETCH => api_version >= fetch::FIRST_NODE_ENDPOINTS,
        METADATA | FIND_COORDINATOR | API_VERSIONS | DESCRIBE_CLUSTER => true,
        // node_endpoints is part of every ShareFetch / ShareAcknowledge
        // response version.
        SHARE_FETCH | SHARE_ACKNOWLEDGE => true,
        _ => false,
    }
}

/// Whether sluice handles a request of `api_key` at `api_version`: every
/// version of the apis it forwards blind, and for the ones whose responses
/// it rewrites, the versions it decodes (what its ApiVersions answers
/// advertise). A client asking for more is the one at fault.
pub fn request_version_handled(api_key: i16, api_version: i16) -> bool {
    api_versions::handled_versions(api_key)
        .is_none_or(|range| (range.min..=range.max).contains(&api_version))
}

#[cfg(test)]
#[test]
fn request_versions_handled_are_the_decoded_ones() {
    use kafka_protocol::messages::MetadataResponse;
    use kafka_protocol::protocol::Message;
    let max = MetadataResponse::VERSIONS.max;
    assert!(request_version_handled(METADATA, max));
    assert!(!request_version_handled(METADATA, max + 1));
    // Old Produce carries no broker address: every version from v0.
    assert!(request_version_handled(PRODUCE, 0));
    // Apis sluice forwards blind, and unknown ones, are never refused.
    assert!(request_version_handled(19, 99));
    assert!(request_version_handled(9_999, 0));
}

/// Rewrites one response. `body` = response frame without the length
/// prefix (header included). See the module docs for what changes; a
/// response that needs rewriting at a version kafka-protocol cannot decode
/// is `Err(UnsupportedVersion)`, never forwarded blind.
pub fn rewrite_response(
    api_key: i16,
    api_version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
) -> Result<RewriteOutcome, crate::WireError> {
    match api_key {
        PRODUCE => produce::rewrite(api_version, body, map),
        FETCH => fetch::rewrite(api_version, body, map),
        METADATA => metadata::rewrite(api_version, body, map),
        FIND_COORDINATOR => find_coordinator::rewrite(api_version, body, map),
        API_VERSIONS => api_versions::rewrite(api_version, body),
        DESCRIBE_CLUSTER => describe_cluster::rewrite(api_version, body, map),
        SHARE_FETCH => share::rewrite_fetch(api_version, body, map),
        SHARE_ACKNOWLEDGE => share::rewrite_acknowledge(api_version, body, map),
        _ => Ok(codec::unchanged()),
    }
}
