//! ApiVersions at every version: clamping, the v0 fallback and the
//! gateway's own UNSUPPORTED_VERSION answer.

mod common;

use bytes::Bytes;
use common::*;
use kafka_protocol::messages::api_versions_response::{
    ApiVersion, FinalizedFeatureKey, SupportedFeatureKey,
};
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Message};
use sluice_wire::rewrite::{
    api_versions_unsupported_response, max_api_versions_version, rewrite_response, Rewritten,
};
use sluice_wire::WireError;

const KEY: ApiKey = ApiKey::ApiVersions;

fn versions() -> impl Iterator<Item = i16> {
    ApiVersionsResponse::VERSIONS.min..=ApiVersionsResponse::VERSIONS.max
}

fn api(key: ApiKey, min: i16, max: i16) -> ApiVersion {
    ApiVersion::default()
        .with_api_key(key as i16)
        .with_min_version(min)
        .with_max_version(max)
}

/// A broker newer than kafka-protocol 0.18: ranges above what it decodes.
fn newer_broker() -> Vec<ApiVersion> {
    vec![
        api(ApiKey::Produce, 0, 14),
        api(ApiKey::Fetch, 4, 20),
        api(ApiKey::ListOffsets, 1, 12),
        api(ApiKey::Metadata, 0, 15),
        api(ApiKey::FindCoordinator, 0, 7),
        api(ApiKey::ApiVersions, 0, 5),
        api(ApiKey::DescribeCluster, 0, 3),
        api(ApiKey::ShareFetch, 0, 2),
        api(ApiKey::ShareAcknowledge, 0, 0),
    ]
}

/// What the gateway makes of `newer_broker`: ListOffsets is not rewritten
/// and keeps its range; ShareAcknowledge has no version in common and goes.
fn newer_broker_clamped() -> Vec<ApiVersion> {
    vec![
        api(ApiKey::Produce, 0, 13),
        api(ApiKey::Fetch, 4, 18),
        api(ApiKey::ListOffsets, 1, 12),
        api(ApiKey::Metadata, 0, 13),
        api(ApiKey::FindCoordinator, 0, 6),
        api(ApiKey::ApiVersions, 0, 4),
        api(ApiKey::DescribeCluster, 0, 2),
        api(ApiKey::ShareFetch, 1, 1),
    ]
}

fn response(v: i16, apis: Vec<ApiVersion>) -> ApiVersionsResponse {
    let mut r = ApiVersionsResponse::default().with_api_keys(apis);
    if v >= 1 {
        r = r.with_throttle_time_ms(4);
    }
    if v >= 3 {
        r = r
            .with_supported_features(vec![SupportedFeatureKey::default()
                .with_name(s("metadata.version"))
                .with_min_version(1)
                .with_max_version(27)])
            .with_finalized_features_epoch(99)
            .with_finalized_features(vec![FinalizedFeatureKey::default()
                .with_name(s("metadata.version"))
                .with_min_version_level(27)
                .with_max_version_level(27)])
            .with_unknown_tagged_field(9, Bytes::from_static(b"kept"));
    }
    r
}

#[test]
fn every_version_clamps_rewritten_apis() {
    for v in versions() {
        let original = response(v, newer_broker());
        let (got, unmapped) = round_trip(KEY, v, &original, &TestMap::all());
        let mut expected = original.clone();
        expected.api_keys = newer_broker_clamped();
        assert_eq!(got, expected, "v{v}");
        assert!(unmapped.is_empty());
    }
}

#[test]
fn ranges_within_the_gateway_are_unchanged() {
    for v in versions() {
        let apis = vec![
            api(ApiKey::Produce, 3, 11),
            api(ApiKey::Fetch, 4, 15),
            api(ApiKey::Metadata, 0, 12),
            api(ApiKey::ApiVersions, 0, 3),
            api(ApiKey::ListOffsets, 1, 99),
        ];
        assert_unchanged(KEY, v, &response(v, apis), &TestMap::all());
    }
}

/// A broker that does not know the requested ApiVersions version answers in
/// the v0 layout with UNSUPPORTED_VERSION, whatever was asked.
#[test]
fn v0_fallback_is_decoded_as_v0_and_clamped() {
    let fallback = ApiVersionsResponse::default()
        .with_error_code(35)
        .with_api_keys(vec![api(ApiKey::ApiVersions, 0, 7)]);
    let frame = response_frame(KEY, 0, &fallback);
    for asked in versions().chain([max_api_versions_version() + 1, 9]) {
        let outcome = rewrite_response(KEY as i16, asked, &body_of(&frame), &TestMap::all());
        let outcome = outcome.unwrap_or_else(|e| panic!("asked v{asked}: {e}"));
        let got: ApiVersionsResponse = decode_frame(KEY, 0, replaced(&outcome));
        let expected = fallback
            .clone()
            .with_api_keys(vec![api(ApiKey::ApiVersions, 0, 4)]);
        assert_eq!(got, expected, "asked v{asked}");
    }
}

#[test]
fn too_new_response_without_fallback_is_unsupported() {
    let v = max_api_versions_version() + 1;
    let frame = response_frame(KEY, 4, &response(4, newer_broker()));
    let res = rewrite_response(KEY as i16, v, &body_of(&frame), &TestMap::all());
    assert_eq!(
        res,
        Err(WireError::UnsupportedVersion {
            api_key: 18,
            version: v
        })
    );
}

#[test]
fn gateway_unsupported_version_answer() {
    assert_eq!(
        max_api_versions_version(),
        ApiVersionsResponse::VERSIONS.max
    );
    let frame = api_versions_unsupported_response(-77);
    let mut body = body_of(&frame);
    assert_eq!(
        i32::from_be_bytes(frame[..4].try_into().unwrap()) as usize,
        body.len()
    );
    let header = ResponseHeader::decode(&mut body, 0).unwrap();
    assert_eq!(header.correlation_id, -77);
    let r = ApiVersionsResponse::decode(&mut body, 0).unwrap();
    assert!(body.is_empty());
    assert_eq!(r.error_code, 35);
    assert_eq!(r.api_keys, vec![api(ApiKey::ApiVersions, 0, 4)]);
    // And the gateway's own rewriter accepts it as it would a broker's.
    let outcome = rewrite_response(18, 4, &body_of(&frame), &TestMap::all()).unwrap();
    assert_eq!(outcome.frame, Rewritten::Unchanged);
}

#[test]
fn truncated_or_corrupt_input_never_panics() {
    for v in versions() {
        let frame = response_frame(KEY, v, &response(v, newer_broker()));
        assert_prefixes_fail(KEY, v, &frame);
        assert_mutations_survive(KEY, v, &frame);
    }
}
