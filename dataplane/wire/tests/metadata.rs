//! Metadata at every version kafka-protocol supports.

mod common;

use bytes::Bytes;
use common::*;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{ApiKey, BrokerId, MetadataResponse, TopicName};
use kafka_protocol::protocol::Message;
use sluice_wire::rewrite::response_needs_inspection;

const KEY: ApiKey = ApiKey::Metadata;

fn versions() -> impl Iterator<Item = i16> {
    MetadataResponse::VERSIONS.min..=MetadataResponse::VERSIONS.max
}

fn broker(v: i16, (id, host, port): (i32, &str, i32)) -> MetadataResponseBroker {
    let b = MetadataResponseBroker::default()
        .with_node_id(BrokerId(id))
        .with_host(s(host))
        .with_port(port);
    if v >= 1 {
        b.with_rack(Some(s(&format!("rack-{id}"))))
    } else {
        b
    }
}

fn partition(v: i16, index: i32, leader: i32) -> MetadataResponsePartition {
    let ids = |xs: &[i32]| xs.iter().map(|&x| BrokerId(x)).collect::<Vec<_>>();
    let mut p = MetadataResponsePartition::default()
        .with_partition_index(index)
        .with_leader_id(BrokerId(leader))
        .with_replica_nodes(ids(&[1, 2, 3]))
        .with_isr_nodes(ids(&[leader]));
    if v >= 7 {
        p = p.with_leader_epoch(11);
    }
    if v >= 5 {
        p = p.with_offline_replicas(ids(&[3]));
    }
    p
}

fn response(v: i16) -> MetadataResponse {
    let mut topic = MetadataResponseTopic::default()
        .with_name(Some(TopicName(s("orders"))))
        .with_partitions((0..3).map(|i| partition(v, i, i + 1)).collect());
    if v >= 10 {
        topic = topic.with_topic_id(uuid::Uuid::from_u128(0xfeed));
    }
    if v >= 8 {
        topic = topic.with_topic_authorized_operations(0x0ff8);
    }
    let mut r = MetadataResponse::default()
        .with_brokers(BACKEND.iter().map(|&b| broker(v, b)).collect())
        .with_topics(vec![topic]);
    if v >= 1 {
        r = r.with_controller_id(BrokerId(2));
    }
    if v >= 2 {
        r = r.with_cluster_id(Some(s("cluster-xyz")));
    }
    if v >= 3 {
        r = r.with_throttle_time_ms(7);
    }
    if (8..=10).contains(&v) {
        r = r.with_cluster_authorized_operations(0x0ff8);
    }
    if v >= 9 {
        r = r.with_unknown_tagged_field(42, Bytes::from_static(b"kept"));
    }
    r
}

#[test]
fn every_version_rewrites_broker_addresses() {
    let map = TestMap::all();
    for v in versions() {
        assert!(response_needs_inspection(KEY as i16, v));
        let original = response(v);
        let (got, unmapped) = round_trip(KEY, v, &original, &map);
        let mut expected = original.clone();
        for b in &mut expected.brokers {
            b.host = map.host(b.node_id.0);
            b.port = map.port(b.node_id.0);
        }
        assert_eq!(got, expected, "v{v}");
        assert!(unmapped.is_empty());
    }
}

#[test]
fn every_version_drops_unmapped_brokers_and_orphans_their_partitions() {
    let map = TestMap::only(&[1, 2]);
    for v in versions() {
        let original = response(v);
        let (got, unmapped) = round_trip(KEY, v, &original, &map);
        let mut expected = original.clone();
        expected.brokers.retain(|b| b.node_id.0 != 3);
        for b in &mut expected.brokers {
            b.host = map.host(b.node_id.0);
            b.port = map.port(b.node_id.0);
        }
        let orphan = &mut expected.topics[0].partitions[2];
        assert_eq!(orphan.leader_id.0, 3);
        orphan.leader_id = BrokerId(-1);
        orphan.error_code = 5;
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![3]);
    }
}

/// Hears the backend's address of every broker, as the gateway's
/// topology check does.
struct Noting {
    map: TestMap,
    heard: std::cell::RefCell<Vec<(i32, String, i32)>>,
}

impl sluice_wire::rewrite::BrokerAddressMap for Noting {
    fn broker_endpoint(&self, node_id: i32) -> Option<(std::borrow::Cow<'_, str>, i32)> {
        self.map.broker_endpoint(node_id)
    }

    fn note_backend_broker(&self, node_id: i32, host: &str, port: i32) {
        self.heard
            .borrow_mut()
            .push((node_id, host.to_owned(), port));
    }
}

#[test]
fn every_version_tells_the_map_each_backend_address_mapped_or_not() {
    let expected: Vec<(i32, String, i32)> = (BACKEND.iter())
        .map(|&(id, host, port)| (id, host.to_owned(), port))
        .collect();
    for v in versions() {
        let noting = Noting {
            map: TestMap::only(&[1, 2]),
            heard: Default::default(),
        };
        rewrite(KEY, v, &response_frame(KEY, v, &response(v)), &noting);
        assert_eq!(*noting.heard.borrow(), expected, "v{v}");
    }
}

#[test]
fn already_gateway_addresses_are_unchanged() {
    let map = TestMap::all();
    for v in versions() {
        let mut r = response(v);
        for b in &mut r.brokers {
            b.host = map.host(b.node_id.0);
            b.port = map.port(b.node_id.0);
        }
        assert_unchanged(KEY, v, &r, &map);
    }
}

#[test]
fn unsupported_version_is_an_error() {
    let v = MetadataResponse::VERSIONS.max + 1;
    let frame = response_frame(KEY, 13, &response(13));
    let err =
        sluice_wire::rewrite::rewrite_response(KEY as i16, v, &body_of(&frame), &TestMap::all());
    assert_eq!(
        err,
        Err(sluice_wire::WireError::UnsupportedVersion {
            api_key: 3,
            version: v
        })
    );
}

#[test]
fn truncated_or_corrupt_input_never_panics() {
    for v in versions() {
        let frame = response_frame(KEY, v, &response(v));
        assert_prefixes_fail(KEY, v, &frame);
        assert_mutations_survive(KEY, v, &frame);
    }
}
