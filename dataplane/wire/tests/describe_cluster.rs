//! DescribeCluster at every version.

mod common;

use bytes::Bytes;
use common::*;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{ApiKey, BrokerId, DescribeClusterResponse};
use kafka_protocol::protocol::Message;

const KEY: ApiKey = ApiKey::DescribeCluster;

fn versions() -> impl Iterator<Item = i16> {
    DescribeClusterResponse::VERSIONS.min..=DescribeClusterResponse::VERSIONS.max
}

fn response(v: i16) -> DescribeClusterResponse {
    let brokers = BACKEND
        .iter()
        .map(|&(id, host, port)| {
            let b = DescribeClusterBroker::default()
                .with_broker_id(BrokerId(id))
                .with_host(s(host))
                .with_port(port)
                .with_rack(Some(s("rack-a")));
            if v >= 2 {
                b.with_is_fenced(id == 2)
            } else {
                b
            }
        })
        .collect();
    let r = DescribeClusterResponse::default()
        .with_throttle_time_ms(9)
        .with_cluster_id(s("cluster-xyz"))
        .with_controller_id(BrokerId(1))
        .with_brokers(brokers)
        .with_cluster_authorized_operations(0x0ff8)
        .with_unknown_tagged_field(3, Bytes::from_static(b"kept"));
    if v >= 1 {
        r.with_endpoint_type(1)
    } else {
        r
    }
}

#[test]
fn every_version_rewrites_broker_addresses() {
    let map = TestMap::all();
    for v in versions() {
        let original = response(v);
        let (got, unmapped) = round_trip(KEY, v, &original, &map);
        let mut expected = original.clone();
        for b in &mut expected.brokers {
            b.host = map.host(b.broker_id.0);
            b.port = map.port(b.broker_id.0);
        }
        assert_eq!(got, expected, "v{v}");
        assert!(unmapped.is_empty());
    }
}

#[test]
fn every_version_drops_unmapped_brokers() {
    let map = TestMap::only(&[2]);
    for v in versions() {
        let original = response(v);
        let (got, unmapped) = round_trip(KEY, v, &original, &map);
        let mut expected = original.clone();
        expected.brokers.retain(|b| b.broker_id.0 == 2);
        expected.brokers[0].host = map.host(2);
        expected.brokers[0].port = map.port(2);
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![1, 3]);
    }
}

#[test]
fn truncated_or_corrupt_input_never_panics() {
    for v in versions() {
        let frame = response_frame(KEY, v, &response(v));
        assert_prefixes_fail(KEY, v, &frame);
        assert_mutations_survive(KEY, v, &frame);
    }
}
