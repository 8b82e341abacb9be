//! The two round trips a blocking background thread makes to learn the
//! backend brokers: ApiVersions (to pick a Metadata version), then Metadata.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, MetadataRequest, MetadataResponse, RequestHeader as KafkaRequestHeader,
};
use kafka_protocol::protocol::{Encodable, Message, StrBytes};

use crate::api_key;
use crate::rewrite::codec::{check_version, decode, split_response};
use crate::rewrite::tagged_walk::Cursor;
use crate::rewrite::{decode_api_versions_body, walk_metadata_response};
use crate::WireError;

const CLIENT_ID: &str = "sluice-discovery";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendBroker {
    pub node_id: i32,
    pub host: String,
    pub port: i32,
    pub rack: Option<String>,
}

/// A complete ApiVersions v0 request frame (length prefix included). v0
/// because every broker answers it in a layout this crate decodes.
///
/// Written by hand because the layout is fixed and this must not fail;
/// tests decode it with kafka-protocol.
pub fn encode_api_versions_request(correlation_id: i32) -> Bytes {
    // Request header v1: api_key, api_version, correlation_id, client_id.
    // The v0 request body is empty.
    let body_len = 2 + 2 + 4 + 2 + CLIENT_ID.len();
    let mut out = BytesMut::with_capacity(4 + body_len);
    // CLIENT_ID is a short constant, so both lengths fit their fields.
    out.put_i32(body_len as i32);
    out.put_i16(api_key::API_VERSIONS);
    out.put_i16(0);
    out.put_i32(correlation_id);
    out.put_i16(CLIENT_ID.len() as i16);
    out.put_slice(CLIENT_ID.as_bytes());
    out.freeze()
}

/// From an ApiVersions response body (frame without prefix, header
/// included) to a request of `request_version`, including the v0 fallback:
/// the highest Metadata version both the broker and kafka-protocol support.
pub fn choose_metadata_version(body: &[u8], request_version: i16) -> Result<i16, WireError> {
    let body = Bytes::copy_from_slice(body);
    let (_, message) = split_response(ApiKey::ApiVersions, request_version, &body)?;
    let (_, response) = decode_api_versions_body(request_version, message)?;
    if response.error_code != 0 {
        return Err(WireError::Malformed(format!(
            "broker answered ApiVersions with error code {}",
            response.error_code
        )));
    }
    let api = response
        .api_keys
        .iter()
        .find(|a| a.api_key == api_key::METADATA)
        .ok_or_else(|| WireError::Malformed("broker does not offer the Metadata api".to_owned()))?;
    let ours = MetadataResponse::VERSIONS;
    let max = api.max_version.min(ours.max);
    if max < api.min_version.max(ours.min) {
        return Err(WireError::Malformed(format!(
            "no Metadata version in common: broker supports {}..={}, gateway {}..={}",
            api.min_version, api.max_version, ours.min, ours.max
        )));
    }
    Ok(max)
}

/// A complete Metadata request frame asking for no topics: only brokers and
/// cluster id are wanted. (An empty list; null would mean all topics from v1
/// on and is not allowed in v0.)
pub fn encode_metadata_request(correlation_id: i32, version: i16) -> Result<Bytes, WireError> {
    const KEY: ApiKey = ApiKey::Metadata;
    check_version::<MetadataRequest>(KEY, version)?;
    let header = KafkaRequestHeader::default()
        .with_request_api_key(KEY as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
    let request = MetadataRequest::default().with_topics(Some(Vec::new()));
    let header_version = KEY.request_header_version(version);
    let encode_err = |e| metadata_encode_error(version, e);
    let len = header
        .compute_size(header_version)
        .and_then(|h| Ok(h + request.compute_size(version)?))
        .map_err(encode_err)?;
    let prefix = i32::try_from(len).map_err(|_| {
        metadata_encode_error(version, format!("request of {len} bytes is too large"))
    })?;
    let mut out = BytesMut::with_capacity(4 + len);
    out.put_i32(prefix);
    header
        .encode(&mut out, header_version)
        .and_then(|()| request.encode(&mut out, version))
        .map_err(encode_err)?;
    Ok(out.freeze())
}

fn metadata_encode_error(version: i16, reason: impl std::fmt::Display) -> WireError {
    WireError::Encode {
        api_key: api_key::METADATA,
        version,
        reason: format!("{reason:#}"),
    }
}

/// Cluster id and brokers from a Metadata response body (frame without
/// prefix, header included) to a request of `version`.
pub fn decode_metadata_brokers(
    body: &Bytes,
    version: i16,
) -> Result<(Option<String>, Vec<BackendBroker>), WireError> {
    const KEY: ApiKey = ApiKey::Metadata;
    check_version::<MetadataResponse>(KEY, version)?;
    let (_, message) = split_response(KEY, version, body)?;
    walk_metadata_response(&mut Cursor::new(&message), version)?;
    let response: MetadataResponse = decode(KEY, version, message)?;
    if response.error_code != 0 {
        return Err(WireError::Malformed(format!(
            "broker answered Metadata with error code {}",
            response.error_code
        )));
    }
    let brokers = response
        .brokers
        .into_iter()
        .map(|b| BackendBroker {
            node_id: b.node_id.0,
            host: b.host.to_string(),
            port: b.port,
            rack: b.rack.map(|r| r.to_string()),
        })
        .collect();
    Ok((response.cluster_id.map(|c| c.to_string()), brokers))
}
