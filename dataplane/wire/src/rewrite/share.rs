//! ShareFetch (api key 78) and ShareAcknowledge (api key 79), KIP-932 share
//! groups. Unlike Produce and Fetch, `node_endpoints` is a regular field of
//! these responses; it is decoded only when it is not empty.

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, ShareAcknowledgeResponse, ShareFetchResponse};

use super::codec::{
    check_version, decode, finish, response_header_len, split_response, unchanged, Unmapped,
};
use super::node_endpoints::{self, walk_leader};
use super::tagged_walk::{Cursor, WalkResult};
use super::{BrokerAddressMap, RewriteOutcome};
use crate::WireError;

pub(super) fn rewrite_fetch(
    version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
) -> Result<RewriteOutcome, WireError> {
    const KEY: ApiKey = ApiKey::ShareFetch;
    check_version::<ShareFetchResponse>(KEY, version)?;
    if !has_endpoints(KEY, version, body, walk_fetch)? {
        return Ok(unchanged());
    }
    let (header, message) = split_response(KEY, version, body)?;
    let mut response: ShareFetchResponse = decode(KEY, version, message)?;
    let mut unmapped = Unmapped::default();
    let changed = node_endpoints::rewrite(&mut response.node_endpoints, map, &mut unmapped);
    finish(KEY, version, &header, &response, changed, unmapped)
}

pub(super) fn rewrite_acknowledge(
    version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
) -> Result<RewriteOutcome, WireError> {
    const KEY: ApiKey = ApiKey::ShareAcknowledge;
    check_version::<ShareAcknowledgeResponse>(KEY, version)?;
    if !has_endpoints(KEY, version, body, walk_acknowledge)? {
        return Ok(unchanged());
    }
    let (header, message) = split_response(KEY, version, body)?;
    let mut response: ShareAcknowledgeResponse = decode(KEY, version, message)?;
    let mut unmapped = Unmapped::default();
    let changed = node_endpoints::rewrite(&mut response.node_endpoints, map, &mut unmapped);
    finish(KEY, version, &header, &response, changed, unmapped)
}

fn has_endpoints(
    key: ApiKey,
    version: i16,
    body: &Bytes,
    walk: fn(&mut Cursor<'_>) -> WalkResult<usize>,
) -> WalkResult<bool> {
    let header_len = response_header_len(key, version, body)?;
    let message = body
        .get(header_len..)
        .ok_or(WireError::Truncated("response header"))?;
    Ok(walk(&mut Cursor::new(message))? > 0)
}

/// Walks a ShareFetchResponse v1; returns the node_endpoints count.
pub(super) fn walk_fetch(c: &mut Cursor<'_>) -> WalkResult<usize> {
    c.skip(4 + 2, "throttle_time_ms and error_code")?;
    c.string(true, "error_message")?;
    c.skip(4, "acquisition_lock_timeout_ms")?;
    c.array(true, "responses", |c| {
        c.skip(16, "topic_id")?;
        c.array(true, "partitions", |c| {
            c.skip(4 + 2, "partition_index and error_code")?;
            c.string(true, "partition error_message")?;
            c.skip(2, "acknowledge_error_code")?;
            c.string(true, "acknowledge_error_message")?;
            walk_leader(c)?;
            c.bytes(true, "records")?;
            c.array(true, "acquired_records", |c| {
                c.skip(8 + 8 + 2, "acquired records")?;
                c.skip_tagged_fields("acquired records tagged fields")
            })?;
            c.skip_tagged_fields("partition tagged fields")
        })?;
        c.skip_tagged_fields("topic tagged fields")
    })?;
    let count = node_endpoints::walk(c)?;
    c.skip_tagged_fields("share_fetch response tagged fields")?;
    Ok(count)
}

/// Walks a ShareAcknowledgeResponse v1; returns the node_endpoints count.
pub(super) fn walk_acknowledge(c: &mut Cursor<'_>) -> WalkResult<usize> {
    c.skip(4 + 2, "throttle_time_ms and error_code")?;
    c.string(true, "error_message")?;
    c.array(true, "responses", |c| {
        c.skip(16, "topic_id")?;
        c.array(true, "partitions", |c| {
            c.skip(4 + 2, "partition_index and error_code")?;
            c.string(true, "partition error_message")?;
            walk_leader(c)?;
            c.skip_tagged_fields("partition tagged fields")
        })?;
        c.skip_tagged_fields("topic tagged fields")
    })?;
    let count = node_endpoints::walk(c)?;
    c.skip_tagged_fields("share_acknowledge response tagged fields")?;
    Ok(count)
}
