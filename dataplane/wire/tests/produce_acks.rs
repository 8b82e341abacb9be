//! `produce_acks` at every Produce request version.

mod common;

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::ProduceRequest;
use kafka_protocol::protocol::Message;
use sluice_wire::header::peek_request_header;
use sluice_wire::produce::produce_acks;
use sluice_wire::WireError;

/// One topic with one partition of 300 bytes of records.
fn produce_request(v: i16, acks: i16, txn: Option<&str>, client_id: Option<&str>) -> Vec<u8> {
    common::produce_request(v, acks, txn, client_id, &[&[300]])
}

/// Produce v0-v2 are gone from kafka-protocol 0.18 (and from Kafka 4), but
/// old clients still send them: header v1, then acks right away.
fn produce_request_v0_2(v: i16, acks: i16) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.put_i16(0);
    out.put_i16(v);
    out.put_i32(42);
    out.put_i16(3);
    out.put_slice(b"old");
    out.put_i16(acks);
    out.put_i32(1000);
    out.put_i32(0);
    out.to_vec()
}

#[test]
fn acks_at_every_version() {
    for v in ProduceRequest::VERSIONS.min..=ProduceRequest::VERSIONS.max {
        for acks in [0, 1, -1] {
            for txn in [None, Some("txn-id-1")] {
                for client in [None, Some("client-a")] {
                    let body = produce_request(v, acks, txn, client);
                    let h = peek_request_header(&body).unwrap();
                    assert_eq!((h.api_key, h.api_version, h.correlation_id), (0, v, 42));
                    assert_eq!(produce_acks(&body, v), Ok(acks), "v{v} {txn:?} {client:?}");
                }
            }
        }
    }
}

#[test]
fn acks_before_transactional_id_existed() {
    for v in 0..ProduceRequest::VERSIONS.min {
        for acks in [0, 1, -1] {
            let body = produce_request_v0_2(v, acks);
            assert_eq!(produce_acks(&body, v), Ok(acks), "v{v}");
        }
    }
}

#[test]
fn every_prefix_before_acks_is_an_error() {
    for v in ProduceRequest::VERSIONS.min..=ProduceRequest::VERSIONS.max {
        let body = produce_request(v, -1, Some("txn"), Some("client"));
        // The shortest prefix that holds acks: everything after it (timeout,
        // topics, records) is never looked at.
        let need = (0..=body.len())
            .find(|&n| produce_acks(&body[..n], v).is_ok())
            .unwrap();
        assert!(need + 300 < body.len(), "v{v}: walk went past acks");
        for n in 0..body.len() {
            match produce_acks(&body[..n], v) {
                Ok(acks) => assert!(n >= need && acks == -1, "v{v} prefix {n}"),
                Err(WireError::Truncated(_)) => assert!(n < need, "v{v} prefix {n}"),
                Err(e) => panic!("v{v} prefix {n}: {e}"),
            }
            // peek_request_header sees the same prefixes.
            assert_eq!(peek_request_header(&body[..n]).is_ok(), n >= 8);
        }
    }
}
