//! ShareFetch and ShareAcknowledge (KIP-932): node_endpoints is a regular
//! field there, at every version kafka-protocol supports.

mod common;

use bytes::Bytes;
use common::*;
use kafka_protocol::messages::share_acknowledge_response::{self, ShareAcknowledgeTopicResponse};
use kafka_protocol::messages::share_fetch_response::{
    self, AcquiredRecords, ShareFetchableTopicResponse,
};
use kafka_protocol::messages::{ApiKey, BrokerId, ShareAcknowledgeResponse, ShareFetchResponse};
use kafka_protocol::protocol::Message;
use sluice_wire::rewrite::{response_needs_inspection, rewrite_response};
use sluice_wire::WireError;

fn share_fetch(endpoints: &[i32]) -> ShareFetchResponse {
    let partition = share_fetch_response::PartitionData::default()
        .with_partition_index(4)
        .with_error_message(Some(s("")))
        .with_current_leader(
            share_fetch_response::LeaderIdAndEpoch::default()
                .with_leader_id(2)
                .with_leader_epoch(3),
        )
        .with_records(Some(record_bytes(9, 900)))
        .with_acquired_records(vec![AcquiredRecords::default()
            .with_first_offset(1)
            .with_last_offset(9)
            .with_delivery_count(1)]);
    let topic = ShareFetchableTopicResponse::default()
        .with_topic_id(uuid::Uuid::from_u128(7))
        .with_partitions(vec![partition]);
    let mut r = ShareFetchResponse::default()
        .with_acquisition_lock_timeout_ms(30_000)
        .with_responses(vec![topic])
        .with_unknown_tagged_field(1, Bytes::from_static(b"kept"));
    r.node_endpoints = endpoints
        .iter()
        .map(|&id| {
            let (_, host, port) = BACKEND[(id - 1) as usize];
            share_fetch_response::NodeEndpoint::default()
                .with_node_id(BrokerId(id))
                .with_host(s(host))
                .with_port(port)
        })
        .collect();
    r
}

fn share_ack(endpoints: &[i32]) -> ShareAcknowledgeResponse {
    let partition = share_acknowledge_response::PartitionData::default()
        .with_partition_index(4)
        .with_error_code(6)
        .with_current_leader(
            share_acknowledge_response::LeaderIdAndEpoch::default()
                .with_leader_id(1)
                .with_leader_epoch(3),
        );
    let topic = ShareAcknowledgeTopicResponse::default()
        .with_topic_id(uuid::Uuid::from_u128(7))
        .with_partitions(vec![partition]);
    let mut r = ShareAcknowledgeResponse::default().with_responses(vec![topic]);
    r.node_endpoints = endpoints
        .iter()
        .map(|&id| {
            let (_, host, port) = BACKEND[(id - 1) as usize];
            share_acknowledge_response::NodeEndpoint::default()
                .with_node_id(BrokerId(id))
                .with_host(s(host))
                .with_port(port)
                .with_rack(Some(s("r")))
        })
        .collect();
    r
}

#[test]
fn share_fetch_every_version() {
    let map = TestMap::only(&[1, 2]);
    for v in ShareFetchResponse::VERSIONS.min..=ShareFetchResponse::VERSIONS.max {
        assert!(response_needs_inspection(ApiKey::ShareFetch as i16, v));
        assert_unchanged(ApiKey::ShareFetch, v, &share_fetch(&[]), &map);
        let (got, unmapped) = round_trip(ApiKey::ShareFetch, v, &share_fetch(&[1, 3, 2]), &map);
        let mut expected = share_fetch(&[1, 2]);
        for e in &mut expected.node_endpoints {
            e.host = map.host(e.node_id.0);
            e.port = map.port(e.node_id.0);
        }
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![3]);
    }
}

#[test]
fn share_acknowledge_every_version() {
    let map = TestMap::only(&[1, 2]);
    for v in ShareAcknowledgeResponse::VERSIONS.min..=ShareAcknowledgeResponse::VERSIONS.max {
        assert!(response_needs_inspection(
            ApiKey::ShareAcknowledge as i16,
            v
        ));
        assert_unchanged(ApiKey::ShareAcknowledge, v, &share_ack(&[]), &map);
        let (got, unmapped) = round_trip(ApiKey::ShareAcknowledge, v, &share_ack(&[2, 3]), &map);
        let mut expected = share_ack(&[2]);
        expected.node_endpoints[0].host = map.host(2);
        expected.node_endpoints[0].port = map.port(2);
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![3]);
    }
}

/// ShareFetch v0 (Kafka 4.0 early access) is not decodable by the crate, so
/// it is refused rather than forwarded with backend addresses in it.
#[test]
fn share_v0_is_unsupported() {
    let body = body_of(&response_frame(ApiKey::ShareFetch, 1, &share_fetch(&[])));
    assert_eq!(
        rewrite_response(78, 0, &body, &TestMap::all()),
        Err(WireError::UnsupportedVersion {
            api_key: 78,
            version: 0
        })
    );
}

#[test]
fn truncated_or_corrupt_input_never_panics() {
    for endpoints in [&[][..], &[1, 3]] {
        let frame = response_frame(ApiKey::ShareFetch, 1, &share_fetch(endpoints));
        assert_prefixes_fail(ApiKey::ShareFetch, 1, &frame);
        assert_mutations_survive(ApiKey::ShareFetch, 1, &frame);
        let frame = response_frame(ApiKey::ShareAcknowledge, 1, &share_ack(endpoints));
        assert_prefixes_fail(ApiKey::ShareAcknowledge, 1, &frame);
        assert_mutations_survive(ApiKey::ShareAcknowledge, 1, &frame);
    }
}
