//! ApiVersions (api key 18): clamps the version ranges of every api the
//! gateway rewrites to what it can decode, so a client never picks a
//! version whose response would have to be forwarded unread.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, DescribeClusterResponse, FetchResponse, FindCoordinatorResponse,
    MetadataResponse, ProduceResponse, ShareAcknowledgeResponse, ShareFetchResponse,
};
use kafka_protocol::protocol::{Message, VersionRange};

use super::codec::{check_version, decode, finish, split_response, Unmapped};
use super::tagged_walk::{Cursor, WalkResult};
use super::RewriteOutcome;
use crate::WireError;

const KEY: ApiKey = ApiKey::ApiVersions;
const FIRST_FLEXIBLE: i16 = 3;
const UNSUPPORTED_VERSION: i16 = 35;

/// Highest ApiVersions request version whose response the gateway decodes.
pub fn max_api_versions_version() -> i16 {
    ApiVersionsResponse::VERSIONS.max
}

/// A complete ApiVersions v0 response frame (length prefix included) with
/// UNSUPPORTED_VERSION and the ApiVersions range the gateway supports: what
/// a broker answers to a too-new ApiVersions request, so the client retries
/// with a version the gateway can read.
///
/// Written by hand because the layout is fixed and this must not fail;
/// tests decode it with kafka-protocol.
pub fn api_versions_unsupported_response(correlation_id: i32) -> Bytes {
    // correlation_id, error_code, array length, one (api_key, min, max).
    const BODY: i32 = 4 + 2 + 4 + 6;
    let mut out = BytesMut::with_capacity(4 + BODY as usize);
    out.put_i32(BODY);
    out.put_i32(correlation_id);
    out.put_i16(UNSUPPORTED_VERSION);
    out.put_i32(1);
    out.put_i16(KEY as i16);
    out.put_i16(ApiVersionsResponse::VERSIONS.min);
    out.put_i16(ApiVersionsResponse::VERSIONS.max);
    out.freeze()
}

/// The versions of `api_key` whose responses the gateway can handle, for
/// the apis it rewrites; `None` for every other api.
pub(super) fn handled_versions(api_key: i16) -> Option<VersionRange> {
    // Produce below v10 and Fetch below v16 carry no broker address and
    // pass through undecoded, so only the top of their range is bounded.
    let from_zero = |r: VersionRange| VersionRange { min: 0, max: r.max };
    Some(match ApiKey::try_from(api_key).ok()? {
        ApiKey::Produce => from_zero(ProduceResponse::VERSIONS),
        ApiKey::Fetch => from_zero(FetchResponse::VERSIONS),
        ApiKey::Metadata => MetadataResponse::VERSIONS,
        ApiKey::FindCoordinator => FindCoordinatorResponse::VERSIONS,
        ApiKey::ApiVersions => ApiVersionsResponse::VERSIONS,
        ApiKey::DescribeCluster => DescribeClusterResponse::VERSIONS,
        ApiKey::ShareFetch => ShareFetchResponse::VERSIONS,
        ApiKey::ShareAcknowledge => ShareAcknowledgeResponse::VERSIONS,
        _ => return None,
    })
}

pub(super) fn rewrite(version: i16, body: &Bytes) -> Result<RewriteOutcome, WireError> {
    let (header, message) = split_response(KEY, version, body)?;
    let (decoded_at, mut response) = decode_body(version, message)?;
    let changed = clamp(&mut response.api_keys);
    finish(
        KEY,
        decoded_at,
        &header,
        &response,
        changed,
        Unmapped::default(),
    )
}

/// Decodes an ApiVersions response message (header already removed) to a
/// request of `version`. A broker that does not know `version` answers in
/// the v0 layout with UNSUPPORTED_VERSION (error_code is the first field in
/// every version), so that answer is decoded as v0 whatever was asked.
pub(crate) fn decode_body(
    version: i16,
    message: Bytes,
) -> Result<(i16, ApiVersionsResponse), WireError> {
    let error_code = message.first_chunk::<2>().map(|b| i16::from_be_bytes(*b));
    let at = if error_code == Some(UNSUPPORTED_VERSION) {
        0
    } else {
        check_version::<ApiVersionsResponse>(KEY, version)?;
        version
    };
    walk(&mut Cursor::new(&message), at)?;
    Ok((at, decode(KEY, at, message)?))
}

/// Narrows each rewritten api to `broker ∩ handled`. An api left with no
/// common version is removed, as if the broker did not offer it.
pub(crate) fn clamp(apis: &mut Vec<ApiVersion>) -> bool {
    let mut changed = false;
    apis.retain_mut(|api| {
        let Some(handled) = handled_versions(api.api_key) else {
            return true;
        };
        let min = api.min_version.max(handled.min);
        let max = api.max_version.min(handled.max);
        if min > max {
            changed = true;
            return false;
        }
        changed |= (min, max) != (api.min_version, api.max_version);
        api.min_version = min;
        api.max_version = max;
        true
    });
    changed
}

pub(super) fn walk(c: &mut Cursor<'_>, version: i16) -> WalkResult<()> {
    let flex = version >= FIRST_FLEXIBLE;
    c.skip(2, "error_code")?;
    c.array(flex, "api_keys", |c| {
        c.skip(6, "api_keys entry")?;
        c.struct_tags(flex, "api_keys tagged fields")
    })?;
    if version >= 1 {
        c.skip(4, "throttle_time_ms")?;
    }
    if !flex {
        return Ok(());
    }
    c.tagged_fields("api_versions tagged fields", |tag, c| {
        match tag {
            // supported_features, finalized_features
            0 | 2 => c.array(true, "features", |c| {
                c.string(true, "feature name")?;
                c.skip(4, "feature versions")?;
                c.skip_tagged_fields("feature tagged fields")
            })?,
            1 => c.skip(8, "finalized_features_epoch")?,
            3 => c.skip(1, "zk_migration_ready")?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}
