//! Discovery: request encoding and response decoding round trips.

mod common;

use bytes::Bytes;
use common::*;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, BrokerId, MetadataRequest, MetadataResponse,
    RequestHeader,
};
use kafka_protocol::protocol::{Decodable, Message};
use sluice_wire::discovery::{
    choose_metadata_version, decode_metadata_brokers, encode_api_versions_request,
    encode_metadata_request, read_api_versions, BackendBroker, API_VERSIONS_VERSION,
};
use sluice_wire::WireError;

/// Splits a request frame into its decoded header and the rest.
fn request_parts(frame: &Bytes, key: ApiKey, version: i16) -> (RequestHeader, Bytes) {
    let len = i32::from_be_bytes(frame[..4].try_into().unwrap());
    assert_eq!(len as usize, frame.len() - 4);
    let mut body = frame.slice(4..);
    let header = RequestHeader::decode(&mut body, key.request_header_version(version)).unwrap();
    assert_eq!(header.request_api_key, key as i16);
    assert_eq!(header.request_api_version, version);
    assert_eq!(header.client_id.as_deref(), Some("sluice-discovery"));
    (header, body)
}

#[test]
fn api_versions_request_round_trip() {
    let frame = encode_api_versions_request(77).unwrap();
    let v = API_VERSIONS_VERSION;
    let (header, mut body) = request_parts(&frame, ApiKey::ApiVersions, v);
    assert_eq!(header.correlation_id, 77);
    let request = ApiVersionsRequest::decode(&mut body, v).unwrap();
    assert_eq!(request.client_software_name.as_str(), "sluice");
    assert!(body.is_empty());
}

#[test]
fn the_brokers_api_versions_answer_clients_at_their_version() {
    let v = API_VERSIONS_VERSION;
    let versions = read_api_versions(&api_versions_body(v, Some((0, 99))), v).unwrap();
    let ours = MetadataResponse::VERSIONS.max;
    for asked in ApiVersionsResponse::VERSIONS.min..=ApiVersionsResponse::VERSIONS.max {
        let frame = versions.answer(asked, 1234).unwrap();
        let mut body = frame.slice(4..);
        assert_eq!(i32::from_be_bytes(body[..4].try_into().unwrap()), 1234);
        body = body.slice(4..);
        let answer = ApiVersionsResponse::decode(&mut body, asked).unwrap();
        assert!(body.is_empty(), "v{asked}: one whole answer");
        let metadata = answer.api_keys.iter().find(|a| a.api_key == 3).unwrap();
        assert_eq!(
            metadata.max_version, ours,
            "v{asked}: clamped to what sluice reads"
        );
    }
    let too_new = versions
        .answer(ApiVersionsResponse::VERSIONS.max + 1, 5)
        .unwrap();
    assert_eq!(&too_new[8..10], &35i16.to_be_bytes(), "UNSUPPORTED_VERSION");
}

#[test]
fn an_old_brokers_unsupported_version_answer_still_lists_its_apis() {
    let r = ApiVersionsResponse::default()
        .with_error_code(35)
        .with_api_keys(vec![ApiVersion::default()
            .with_api_key(3)
            .with_min_version(0)
            .with_max_version(8)]);
    let body = body_of(&response_frame(ApiKey::ApiVersions, 0, &r));
    let versions = read_api_versions(&body, API_VERSIONS_VERSION).unwrap();
    assert_eq!(versions.metadata_version(), Ok(8));
}

fn api_versions_body(v: i16, metadata: Option<(i16, i16)>) -> Bytes {
    let mut apis = vec![ApiVersion::default()
        .with_api_key(18)
        .with_min_version(0)
        .with_max_version(4)];
    if let Some((min, max)) = metadata {
        apis.push(
            ApiVersion::default()
                .with_api_key(3)
                .with_min_version(min)
                .with_max_version(max),
        );
    }
    let r = ApiVersionsResponse::default().with_api_keys(apis);
    body_of(&response_frame(ApiKey::ApiVersions, v, &r))
}

#[test]
fn metadata_version_choice() {
    for v in ApiVersionsResponse::VERSIONS.min..=ApiVersionsResponse::VERSIONS.max {
        let max = MetadataResponse::VERSIONS.max;
        assert_eq!(
            choose_metadata_version(&api_versions_body(v, Some((0, 12))), v),
            Ok(12)
        );
        assert_eq!(
            choose_metadata_version(&api_versions_body(v, Some((0, 99))), v),
            Ok(max)
        );
        assert!(matches!(
            choose_metadata_version(&api_versions_body(v, None), v),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            choose_metadata_version(&api_versions_body(v, Some((max + 1, max + 3))), v),
            Err(WireError::Malformed(_))
        ));
    }
    let body = api_versions_body(0, Some((0, 12)));
    for n in 0..body.len() {
        assert!(choose_metadata_version(&body[..n], 0).is_err());
    }
}

#[test]
fn metadata_request_round_trip() {
    for v in MetadataRequest::VERSIONS.min..=MetadataRequest::VERSIONS.max {
        let frame = encode_metadata_request(9, v).unwrap();
        let (header, mut body) = request_parts(&frame, ApiKey::Metadata, v);
        assert_eq!(header.correlation_id, 9);
        let request = MetadataRequest::decode(&mut body, v).unwrap();
        assert!(body.is_empty());
        assert_eq!(request.topics, Some(vec![]), "v{v}");
    }
    let v = MetadataRequest::VERSIONS.max + 1;
    assert_eq!(
        encode_metadata_request(9, v),
        Err(WireError::UnsupportedVersion {
            api_key: 3,
            version: v
        })
    );
}

#[test]
fn metadata_brokers_round_trip() {
    for v in MetadataResponse::VERSIONS.min..=MetadataResponse::VERSIONS.max {
        let brokers = BACKEND
            .iter()
            .map(|&(id, host, port)| {
                let b = MetadataResponseBroker::default()
                    .with_node_id(BrokerId(id))
                    .with_host(s(host))
                    .with_port(port);
                if v >= 1 && id != 2 {
                    b.with_rack(Some(s(&format!("rack-{id}"))))
                } else {
                    b
                }
            })
            .collect();
        let mut r = MetadataResponse::default().with_brokers(brokers);
        if v >= 2 {
            r = r.with_cluster_id(Some(s("cluster-xyz")));
        }
        let body = body_of(&response_frame(ApiKey::Metadata, v, &r));
        let (cluster_id, got) = decode_metadata_brokers(&body, v).unwrap();
        let expected: Vec<BackendBroker> = BACKEND
            .iter()
            .map(|&(id, host, port)| BackendBroker {
                node_id: id,
                host: host.to_owned(),
                port,
                rack: (v >= 1 && id != 2).then(|| format!("rack-{id}")),
            })
            .collect();
        assert_eq!(got, expected, "v{v}");
        assert_eq!(cluster_id.as_deref(), (v >= 2).then_some("cluster-xyz"));
        for n in 0..body.len() {
            assert!(decode_metadata_brokers(&body.slice(..n), v).is_err());
        }
    }
}

#[test]
fn metadata_top_level_error_is_reported() {
    let r = MetadataResponse::default().with_error_code(31);
    let body = body_of(&response_frame(ApiKey::Metadata, 13, &r));
    let err = decode_metadata_brokers(&body, 13).unwrap_err();
    assert!(err.to_string().contains("error code 31"), "{err}");
}
