//! A backend's ApiVersions as discovery learned them: which Metadata
//! version to ask for, and the gateway's own answer to a client's
//! ApiVersions when no upstream connection exists yet (a client of a
//! virtual cluster that terminates SASL, before it has logged in).

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, MetadataResponse};
use kafka_protocol::protocol::Message;

use crate::api_key;
use crate::rewrite::codec::encode_frame;
use crate::rewrite::{api_versions_unsupported_response, clamp_api_versions};
use crate::WireError;

const UNSUPPORTED_VERSION: i16 = 35;

/// The broker's answer, read and checked once.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerApiVersions {
    response: ApiVersionsResponse,
}

/// No float in an ApiVersions answer: equality is an equivalence.
impl Eq for BrokerApiVersions {}

impl BrokerApiVersions {
    /// A broker too old for the version asked answers UNSUPPORTED_VERSION
    /// with its list of apis, which is as good as a plain answer.
    pub(crate) fn new(response: ApiVersionsResponse) -> Result<Self, WireError> {
        let usable = response.error_code == 0
            || (response.error_code == UNSUPPORTED_VERSION && !response.api_keys.is_empty());
        if !usable {
            return Err(WireError::Malformed(format!(
                "broker answered ApiVersions with error code {}",
                response.error_code
            )));
        }
        Ok(BrokerApiVersions { response })
    }

    /// The highest Metadata version both the broker and the gateway know.
    pub fn metadata_version(&self) -> Result<i16, WireError> {
        let api = (self.response.api_keys.iter())
            .find(|a| a.api_key == api_key::METADATA)
            .ok_or_else(|| {
                WireError::Malformed("broker does not offer the Metadata api".to_owned())
            })?;
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

    /// The answer to a client's ApiVersions request of `version`, with the
    /// version ranges clamped as for a forwarded answer.
    pub fn answer(&self, version: i16, correlation_id: i32) -> Result<Bytes, WireError> {
        const KEY: ApiKey = ApiKey::ApiVersions;
        let supported = ApiVersionsResponse::VERSIONS;
        if version > supported.max || version < supported.min {
            return Ok(api_versions_unsupported_response(correlation_id));
        }
        let mut response = self.response.clone();
        response.error_code = 0;
        clamp_api_versions(&mut response.api_keys);
        // The ApiVersions response header is v0 at every version: the
        // correlation id alone.
        let header = correlation_id.to_be_bytes();
        encode_frame(KEY, version, &header, &response)
    }
}
