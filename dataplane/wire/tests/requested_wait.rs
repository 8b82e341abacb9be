//! The wait a client allowed the broker, read from Fetch, JoinGroup and
//! Produce requests at every version kafka-protocol knows.

mod common;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, FetchRequest, GroupId, JoinGroupRequest, ProduceRequest, RequestHeader,
};
use kafka_protocol::protocol::{Encodable, Message};
use sluice_wire::produce::produce_acks_and_timeout;
use sluice_wire::wait::requested_wait_ms;

fn body_of<M: Encodable>(key: ApiKey, v: i16, client_id: Option<&str>, message: &M) -> Vec<u8> {
    let mut header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(v)
        .with_correlation_id(7)
        .with_client_id(client_id.map(common::s));
    let hv = key.request_header_version(v);
    if hv >= 2 {
        header = header.with_unknown_tagged_field(9, Bytes::from_static(b"tag"));
    }
    let mut out = BytesMut::new();
    header.encode(&mut out, hv).unwrap();
    message.encode(&mut out, v).unwrap();
    out.to_vec()
}

#[test]
fn fetch_max_wait_at_every_version() {
    for v in FetchRequest::VERSIONS.min..=FetchRequest::VERSIONS.max {
        for client in [None, Some("consumer-1")] {
            let request = FetchRequest::default().with_max_wait_ms(500);
            let request = if v < 15 {
                request.with_replica_id((-1).into())
            } else {
                request
            };
            let body = body_of(ApiKey::Fetch, v, client, &request);
            assert_eq!(
                requested_wait_ms(ApiKey::Fetch as i16, v, &body),
                Some(500),
                "v{v}"
            );
        }
    }
}

#[test]
fn join_group_rebalance_timeout_at_every_version() {
    for v in JoinGroupRequest::VERSIONS.min..=JoinGroupRequest::VERSIONS.max {
        let request = JoinGroupRequest::default()
            .with_group_id(GroupId(common::s("group-a")))
            .with_session_timeout_ms(45_000)
            .with_rebalance_timeout_ms(300_000);
        let body = body_of(ApiKey::JoinGroup, v, Some("c"), &request);
        let expected = if v == 0 { 45_000 } else { 300_000 };
        assert_eq!(
            requested_wait_ms(ApiKey::JoinGroup as i16, v, &body),
            Some(expected),
            "v{v}"
        );
    }
}

#[test]
fn produce_timeout_at_every_version() {
    for v in ProduceRequest::VERSIONS.min..=ProduceRequest::VERSIONS.max {
        let body = common::produce_request(v, -1, Some("txn"), Some("p"), &[&[100]]);
        assert_eq!(produce_acks_and_timeout(&body, v), Ok((-1, 30_000)), "v{v}");
    }
}

#[test]
fn other_apis_and_short_bodies_have_no_wait() {
    let request = FetchRequest::default().with_max_wait_ms(500);
    let body = body_of(ApiKey::Fetch, 4, None, &request);
    assert_eq!(requested_wait_ms(ApiKey::Metadata as i16, 4, &body), None);
    // Header (8), null client_id (2), replica_id (4), max_wait_ms (4).
    for cut in 0..18 {
        assert_eq!(
            requested_wait_ms(ApiKey::Fetch as i16, 4, &body[..cut]),
            None
        );
    }
    let mut negative = body.clone();
    let at = body.len() - request_tail_len(&request);
    negative[at + 4..at + 8].copy_from_slice(&(-5i32).to_be_bytes());
    assert_eq!(
        requested_wait_ms(ApiKey::Fetch as i16, 4, &negative),
        Some(0)
    );
}

/// Length of the encoded Fetch v4 body after the header.
fn request_tail_len(request: &FetchRequest) -> usize {
    let mut out = BytesMut::new();
    request.encode(&mut out, 4).unwrap();
    out.len()
}
