//! Produce and Fetch responses at every version kafka-protocol supports,
//! with and without KIP-951 `node_endpoints`.

mod common;

use bytes::Bytes;
use common::fetch::fetch;
use common::*;
use kafka_protocol::messages::produce_response::{
    self, BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ApiKey, BrokerId, FetchResponse, ProduceResponse, TopicName};
use kafka_protocol::protocol::Message;
use sluice_wire::rewrite::response_needs_inspection;

const PRODUCE_ENDPOINTS: i16 = 10;
const FETCH_ENDPOINTS: i16 = 16;

fn produce_partition(v: i16, index: i32) -> PartitionProduceResponse {
    let mut p = PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(if index == 1 { 6 } else { 0 })
        .with_base_offset(1000 + i64::from(index))
        .with_log_append_time_ms(1_700_000_000_000);
    if v >= 5 {
        p = p.with_log_start_offset(10);
    }
    if v >= 8 {
        p = p
            .with_record_errors(vec![BatchIndexAndErrorMessage::default()
                .with_batch_index(2)
                .with_batch_index_error_message(Some(s("bad record")))])
            .with_error_message(Some(s("partial failure")));
    }
    if v >= PRODUCE_ENDPOINTS && index == 1 {
        p = p.with_current_leader(
            produce_response::LeaderIdAndEpoch::default()
                .with_leader_id(BrokerId(3))
                .with_leader_epoch(8),
        );
    }
    p
}

fn produce(v: i16, endpoints: &[i32]) -> ProduceResponse {
    let mut topic = TopicProduceResponse::default()
        .with_partition_responses((0..3).map(|i| produce_partition(v, i)).collect());
    topic = if v >= 13 {
        topic.with_topic_id(uuid::Uuid::from_u128(0xabcdef))
    } else {
        topic.with_name(TopicName(s("orders")))
    };
    let mut r = ProduceResponse::default()
        .with_responses(vec![topic])
        .with_throttle_time_ms(5);
    if v >= 9 {
        r = r.with_unknown_tagged_field(4, Bytes::from_static(b"kept"));
    }
    r.node_endpoints = endpoints
        .iter()
        .map(|&id| {
            let (_, host, port) = BACKEND[(id - 1) as usize];
            produce_response::NodeEndpoint::default()
                .with_node_id(BrokerId(id))
                .with_host(s(host))
                .with_port(port)
                .with_rack(Some(s("rack-b")))
        })
        .collect();
    r
}

#[test]
fn produce_every_version() {
    let map = TestMap::all();
    for v in ProduceResponse::VERSIONS.min..=ProduceResponse::VERSIONS.max {
        let inspect = v >= PRODUCE_ENDPOINTS;
        assert_eq!(response_needs_inspection(0, v), inspect, "v{v}");
        assert_unchanged(ApiKey::Produce, v, &produce(v, &[]), &map);
        if !inspect {
            continue;
        }
        let original = produce(v, &[3, 1]);
        let (got, unmapped) = round_trip(ApiKey::Produce, v, &original, &map);
        let mut expected = original.clone();
        for e in &mut expected.node_endpoints {
            e.host = map.host(e.node_id.0);
            e.port = map.port(e.node_id.0);
        }
        assert_eq!(got, expected, "v{v}");
        assert!(unmapped.is_empty());
    }
}

#[test]
fn produce_unmapped_endpoints_are_dropped() {
    let map = TestMap::only(&[1]);
    for v in PRODUCE_ENDPOINTS..=ProduceResponse::VERSIONS.max {
        let (got, unmapped) = round_trip(ApiKey::Produce, v, &produce(v, &[3, 1, 2]), &map);
        let mut expected = produce(v, &[1]);
        expected.node_endpoints[0].host = map.host(1);
        expected.node_endpoints[0].port = map.port(1);
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![2, 3]);
    }
}

#[test]
fn fetch_every_version() {
    let map = TestMap::all();
    for v in FetchResponse::VERSIONS.min..=FetchResponse::VERSIONS.max {
        let inspect = v >= FETCH_ENDPOINTS;
        assert_eq!(response_needs_inspection(1, v), inspect, "v{v}");
        assert_unchanged(ApiKey::Fetch, v, &fetch(v, &[]), &map);
        if !inspect {
            continue;
        }
        let original = fetch(v, &[3]);
        let (got, unmapped) = round_trip(ApiKey::Fetch, v, &original, &map);
        let mut expected = original.clone();
        expected.node_endpoints[0].host = map.host(3);
        expected.node_endpoints[0].port = map.port(3);
        // Whole-struct equality covers the records; say it explicitly too.
        for (g, e) in got.responses[0]
            .partitions
            .iter()
            .zip(&original.responses[0].partitions)
        {
            assert_eq!(g.records, e.records);
            assert!(g.records.as_ref().is_some_and(|r| r.len() >= 700));
        }
        assert_eq!(got, expected, "v{v}");
        assert!(unmapped.is_empty());
    }
}

#[test]
fn fetch_unmapped_endpoints_are_dropped() {
    let map = TestMap::only(&[2]);
    for v in FETCH_ENDPOINTS..=FetchResponse::VERSIONS.max {
        let (got, unmapped) = round_trip(ApiKey::Fetch, v, &fetch(v, &[1, 2, 3]), &map);
        let mut expected = fetch(v, &[2]);
        expected.node_endpoints[0].host = map.host(2);
        expected.node_endpoints[0].port = map.port(2);
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![1, 3]);
    }
}

#[test]
fn versions_beyond_the_crate_are_unsupported() {
    use sluice_wire::rewrite::rewrite_response;
    use sluice_wire::WireError::UnsupportedVersion;
    let body = body_of(&response_frame(ApiKey::Produce, 13, &produce(13, &[])));
    let v = ProduceResponse::VERSIONS.max + 1;
    assert!(response_needs_inspection(0, v));
    assert_eq!(
        rewrite_response(0, v, &body, &TestMap::all()),
        Err(UnsupportedVersion {
            api_key: 0,
            version: v
        })
    );
    let v = FetchResponse::VERSIONS.max + 1;
    assert_eq!(
        rewrite_response(1, v, &body, &TestMap::all()),
        Err(UnsupportedVersion {
            api_key: 1,
            version: v
        })
    );
}

#[test]
fn truncated_or_corrupt_input_never_panics() {
    for v in PRODUCE_ENDPOINTS..=ProduceResponse::VERSIONS.max {
        for endpoints in [&[][..], &[1, 3]] {
            let frame = response_frame(ApiKey::Produce, v, &produce(v, endpoints));
            assert_prefixes_fail(ApiKey::Produce, v, &frame);
            assert_mutations_survive(ApiKey::Produce, v, &frame);
        }
    }
    for v in FETCH_ENDPOINTS..=FetchResponse::VERSIONS.max {
        for endpoints in [&[][..], &[1, 3]] {
            let frame = response_frame(ApiKey::Fetch, v, &fetch(v, endpoints));
            assert_prefixes_fail(ApiKey::Fetch, v, &frame);
            assert_mutations_survive(ApiKey::Fetch, v, &frame);
        }
    }
}
