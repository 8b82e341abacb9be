//! What produce policies read from a request, and the refusal they answer
//! with, at every Produce version.

mod common;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Message};
use sluice_wire::produce::{
    min_refusable_version, refuse_produce, summarize_produce_request, walk_produce_request,
    ProduceItem, ProducedPartition, TopicRef, POLICY_VIOLATION,
};
use sluice_wire::WireError;

const SIZES: &[&[usize]] = &[&[10, 0, 2000], &[70_000]];

fn versions() -> std::ops::RangeInclusive<i16> {
    ProduceRequest::VERSIONS.min..=ProduceRequest::VERSIONS.max
}

#[test]
fn summary_names_every_partition_and_its_record_bytes() {
    for v in versions() {
        for txn in [None, Some("txn-1")] {
            let body = common::produce_request(v, -1, txn, Some("client"), SIZES);
            let summary = summarize_produce_request(&body, v).unwrap();
            assert_eq!(summary.acks, -1);
            assert_eq!(summary.topics.len(), 2, "v{v}");
            for (k, (topic, sizes)) in summary.topics.iter().zip(SIZES).enumerate() {
                let expected = if v >= 13 {
                    TopicRef::Id(uuid::Uuid::from_u128(k as u128 + 5).into_bytes())
                } else {
                    TopicRef::Name(format!("topic-{k}"))
                };
                assert_eq!(topic.topic, expected, "v{v}");
                let partitions: Vec<ProducedPartition> = (sizes.iter().enumerate())
                    .map(|(j, &records_bytes)| ProducedPartition {
                        index: j as i32,
                        records_bytes,
                    })
                    .collect();
                assert_eq!(topic.partitions, partitions, "v{v}");
            }
        }
    }
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    for v in versions() {
        let body = common::produce_request(v, 1, Some("t"), None, SIZES);
        for n in 0..body.len() {
            match summarize_produce_request(&body[..n], v) {
                Err(WireError::Truncated(_)) => {}
                other => panic!("v{v} prefix {n}: {other:?}"),
            }
        }
    }
}

#[test]
fn the_walk_visits_each_topic_then_its_partitions() {
    for v in versions() {
        let body = common::produce_request(v, 1, None, None, SIZES);
        let summary = summarize_produce_request(&body, v).unwrap();
        let mut items = Vec::new();
        let acks = walk_produce_request(&body, v, |item| items.push(item)).unwrap();
        assert_eq!(acks, 1);
        let expected: Vec<ProduceItem<'_>> = (summary.topics.iter())
            .flat_map(|t| {
                let partitions = t.partitions.iter().cloned().map(ProduceItem::Partition);
                std::iter::once(ProduceItem::Topic(t.topic.key())).chain(partitions)
            })
            .collect();
        assert_eq!(items, expected, "v{v}");
    }
}

#[test]
fn forged_counts_are_refused_before_allocating() {
    let v = 9;
    let mut body = common::produce_request(v, 1, None, None, &[]);
    // topic_data is the last field before the request's tagged fields:
    // replace its (empty) compact count with a huge one.
    let at = body.len() - 2;
    body.truncate(at);
    body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x07, 0]);
    assert!(matches!(
        summarize_produce_request(&body, v),
        Err(WireError::Truncated("topic_data"))
    ));
}

#[test]
fn refusal_decodes_as_the_broker_would_have_answered() {
    for v in min_refusable_version()..=ProduceResponse::VERSIONS.max {
        let body = common::produce_request(v, -1, None, None, SIZES);
        let summary = summarize_produce_request(&body, v).unwrap();
        let frame = refuse_produce(7, v, &summary.topics, POLICY_VIOLATION, |t, p| {
            format!("{}/{} has {} bytes", t.topic, p.index, p.records_bytes)
        })
        .unwrap();
        let len = i32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
        assert_eq!(len + 4, frame.len(), "v{v}");
        let mut rest = Bytes::copy_from_slice(&frame[4..]);
        let hv = ApiKey::Produce.response_header_version(v);
        let header = ResponseHeader::decode(&mut rest, hv).unwrap();
        assert_eq!(header.correlation_id, 7);
        let response = ProduceResponse::decode(&mut rest, v).unwrap();
        assert!(rest.is_empty(), "v{v}: trailing bytes");
        assert_eq!(response.responses.len(), 2);
        for topic in &response.responses {
            for p in &topic.partition_responses {
                assert_eq!(p.error_code, POLICY_VIOLATION);
                assert_eq!(p.base_offset, -1);
                let message = p.error_message.as_ref().map(|m| m.to_string());
                if v >= 8 {
                    assert!(message.unwrap().contains(" bytes"), "v{v}");
                }
            }
        }
        let names: Vec<String> = response
            .responses
            .iter()
            .map(|t| t.name.to_string())
            .collect();
        if v < 13 {
            assert_eq!(names, ["topic-0", "topic-1"]);
        } else {
            assert_eq!(response.responses[1].topic_id, uuid::Uuid::from_u128(6));
        }
    }
}

#[test]
fn refusal_below_the_decoders_range_is_an_error() {
    let old = min_refusable_version() - 1;
    assert!(matches!(
        refuse_produce(1, old, &[], POLICY_VIOLATION, |_, _| String::new()),
        Err(WireError::UnsupportedVersion { .. })
    ));
}
