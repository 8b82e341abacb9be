use cp_sync::config::{Acks, ProduceLimits, ProducePolicy};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse, RequestHeader, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use sluice_wire::header::peek_request_header;

use super::{ProduceRules, ProduceVerdict};
use crate::metrics::labels::PolicyLimit;

fn limits(min_acks: Option<Acks>, max_batch_bytes: Option<u32>) -> ProducePolicy {
    ProducePolicy::ProduceLimits(ProduceLimits {
        min_acks,
        max_batch_bytes,
    })
}

/// A Produce v`v` request body with two partitions of `sizes` bytes.
fn request(v: i16, acks: i16, sizes: [usize; 2]) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(0)
        .with_request_api_version(v)
        .with_correlation_id(9);
    let partitions = sizes.iter().enumerate().map(|(i, &n)| {
        PartitionProduceData::default()
            .with_index(i as i32)
            .with_records(Some(bytes::Bytes::from(vec![1; n])))
    });
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_partition_data(partitions.collect());
    let body = ProduceRequest::default()
        .with_acks(acks)
        .with_topic_data(vec![topic]);
    let mut out = bytes::BytesMut::new();
    let hv = ApiKey::Produce.request_header_version(v);
    header.encode(&mut out, hv).unwrap();
    body.encode(&mut out, v).unwrap();
    out.to_vec()
}

fn check(rules: &ProduceRules, v: i16, acks: i16, sizes: [usize; 2]) -> ProduceVerdict {
    let body = request(v, acks, sizes);
    let header = peek_request_header(&body).unwrap();
    rules.check(&header, &body).unwrap()
}

/// Error code and message of every partition of a refusal.
fn refused(verdict: ProduceVerdict, v: i16) -> Vec<(i16, String)> {
    let ProduceVerdict::Refuse(frame, _) = verdict else {
        panic!("expected a refusal, got {verdict:?}");
    };
    let mut rest = frame.slice(8 + usize::from(v >= 9)..);
    let response = ProduceResponse::decode(&mut rest, v).unwrap();
    (response.responses.iter())
        .flat_map(|t| t.partition_responses.iter())
        .map(|p| {
            (
                p.error_code,
                p.error_message.as_deref().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn chain_folds_into_the_strictest_limits() {
    let rules = ProduceRules::compile(&[
        limits(Some(Acks::Leader), Some(100)),
        limits(Some(Acks::All), None),
        limits(None, Some(500)),
    ]);
    assert_eq!(
        rules,
        ProduceRules {
            min_acks: Some(Acks::All),
            max_batch_bytes: Some(100),
        }
    );
    assert!(ProduceRules::compile(&[]).is_empty());
}

#[test]
fn requests_within_the_limits_are_forwarded() {
    let rules = ProduceRules::compile(&[limits(Some(Acks::Leader), Some(100))]);
    for acks in [1, -1] {
        let verdict = check(&rules, 9, acks, [100, 0]);
        assert!(matches!(verdict, ProduceVerdict::Forward), "{verdict:?}");
    }
}

#[test]
fn weak_acks_are_refused_with_policy_violation() {
    let rules = ProduceRules::compile(&[limits(Some(Acks::All), None)]);
    for v in [3, 8, 9, 12] {
        let partitions = refused(check(&rules, v, 1, [10, 10]), v);
        assert_eq!(partitions.len(), 2);
        for (code, message) in partitions {
            assert_eq!(code, 44);
            if v >= 8 {
                assert!(message.contains("acks=1 is below"), "{message}");
            }
        }
    }
    let verdict = check(&rules, 9, 0, [10, 10]);
    let ProduceVerdict::Close(reason, limit) = verdict else {
        panic!("acks=0 cannot be answered: {verdict:?}");
    };
    assert_eq!(limit, PolicyLimit::MinAcks);
    assert!(reason.contains("acks=0"), "{reason}");
}

#[test]
fn oversized_partition_refuses_the_whole_request() {
    let rules = ProduceRules::compile(&[limits(None, Some(100))]);
    let verdict = check(&rules, 11, -1, [50, 101]);
    assert!(matches!(
        verdict,
        ProduceVerdict::Refuse(_, PolicyLimit::MaxBatchBytes)
    ));
    let partitions = refused(verdict, 11);
    assert_eq!(partitions[0].0, 44);
    assert!(
        partitions[0].1.contains("another partition"),
        "{partitions:?}"
    );
    assert!(
        partitions[1]
            .1
            .contains("101 bytes of records for orders-1 exceed max_batch_bytes 100"),
        "{partitions:?}"
    );
}

#[test]
fn malformed_requests_are_errors() {
    let rules = ProduceRules::compile(&[limits(None, Some(100))]);
    let body = request(9, -1, [50, 50]);
    let header = peek_request_header(&body).unwrap();
    assert!(rules.check(&header, &body[..body.len() - 10]).is_err());
}

/// A Produce v8 request body with `n` partitions of topic "wide", no records.
fn wide_request(n: usize) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(0)
        .with_request_api_version(8)
        .with_correlation_id(9);
    let partitions = (0..n).map(|i| PartitionProduceData::default().with_index(i as i32));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str("wide")))
        .with_partition_data(partitions.collect());
    let body = ProduceRequest::default()
        .with_acks(1)
        .with_topic_data(vec![topic]);
    let mut out = bytes::BytesMut::new();
    header.encode(&mut out, 1).unwrap();
    body.encode(&mut out, 8).unwrap();
    out.to_vec()
}

#[test]
fn a_refusal_too_wide_to_answer_closes_instead() {
    let rules = ProduceRules::compile(&[limits(Some(Acks::All), None)]);
    let verdict = |n| {
        let body = wide_request(n);
        let header = peek_request_header(&body).unwrap();
        rules.check(&header, &body).unwrap()
    };
    assert_eq!(refused(verdict(1_000), 8).len(), 1_000);
    let ProduceVerdict::Close(reason, PolicyLimit::MinAcks) = verdict(100_000) else {
        panic!("expected a close");
    };
    assert!(
        reason.contains("100001 topics and partitions, too many to answer one by one"),
        "{reason}"
    );
}
