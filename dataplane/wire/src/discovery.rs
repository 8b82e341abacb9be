//! The two round trips a blocking background thread makes to learn the
//! backend brokers: ApiVersions (to pick a Metadata version), then Metadata.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, MetadataRequest, MetadataResponse,
    RequestHeader as KafkaRequestHeader,
};
use kafka_protocol::protocol::{Encodable, StrBytes};

use crate::broker_versions::BrokerApiVersions;
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

/// The ApiVersions version discovery asks with: the broker's answer then
/// carries everything a client's ApiVersions answer can (features
/// included). A broker too old for it answers in the v0 layout, which is
/// read too.
pub const API_VERSIONS_VERSION: i16 = 3;

/// A complete ApiVersions request frame (length prefix included) at
/// [`API_VERSIONS_VERSION`].
pub fn encode_api_versions_request(correlation_id: i32) -> Result<Bytes, WireError> {
    const KEY: ApiKey = ApiKey::ApiVersions;
    let version = API_VERSIONS_VERSION;
    let header = KafkaRequestHeader::default()
        .with_request_api_key(KEY as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
    let request = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("sluice"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
    encode_request(KEY, version, &header, &request)
}

/// The broker's ApiVersions answer to a request of `request_version`
/// (body with its header).
pub fn read_api_versions(
    body: &[u8],
    request_version: i16,
) -> Result<BrokerApiVersions, WireError> {
    let body = Bytes::copy_from_slice(body);
    let (_, message) = split_response(ApiKey::ApiVersions, request_version, &body)?;
    let (_, response) = decode_api_versions_body(request_version, message)?;
    BrokerApiVersions::new(response)
}

/// From an ApiVersions response body (frame without prefix, header
/// included) to a request of `request_version`, including the v0 fallback:
/// the highest Metadata version both the broker and kafka-protocol support.
pub fn choose_metadata_version(body: &[u8], request_version: i16) -> Result<i16, WireError> {
    read_api_versions(body, request_version)?.metadata_version()
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
    encode_request(KEY, version, &header, &request)
}

/// A request frame (length prefix included) of `header` and `request`.
fn encode_request<M: Encodable>(
    key: ApiKey,
    version: i16,
    header: &KafkaRequestHeader,
    request: &M,
) -> Result<Bytes, WireError> {
    let header_version = key.request_header_version(version);
    let encode_err = |e| encode_error(key, version, e);
    let len = header
        .compute_size(header_version)
        .and_then(|h| Ok(h + request.compute_size(version)?))
        .map_err(encode_err)?;
    let prefix = i32::try_from(len)
        .map_err(|_| encode_error(key, version, format!("request of {len} bytes is too large")))?;
    let mut out = BytesMut::with_capacity(4 + len);
    out.put_i32(prefix);
    header
        .encode(&mut out, header_version)
        .and_then(|()| request.encode(&mut out, version))
        .map_err(encode_err)?;
    Ok(out.freeze())
}

fn encode_error(key: ApiKey, version: i16, reason: impl std::fmt::Display) -> WireError {
    WireError::Encode {
        api_key: key as i16,
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
