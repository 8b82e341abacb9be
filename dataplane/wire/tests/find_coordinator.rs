//! FindCoordinator at every version: the single form (v0-v3) and the
//! batched `coordinators` (v4+).

mod common;

use bytes::Bytes;
use common::*;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{ApiKey, BrokerId, FindCoordinatorResponse};
use kafka_protocol::protocol::{Message, StrBytes};

const KEY: ApiKey = ApiKey::FindCoordinator;
const FIRST_BATCHED: i16 = 4;

fn versions() -> impl Iterator<Item = i16> {
    FindCoordinatorResponse::VERSIONS.min..=FindCoordinatorResponse::VERSIONS.max
}

fn single(v: i16, node: i32) -> FindCoordinatorResponse {
    let (_, host, port) = BACKEND[(node - 1) as usize];
    let mut r = FindCoordinatorResponse::default()
        .with_node_id(BrokerId(node))
        .with_host(s(host))
        .with_port(port);
    if v >= 1 {
        r = r.with_throttle_time_ms(3).with_error_message(None);
    }
    if v >= 3 {
        r = r.with_unknown_tagged_field(5, Bytes::from_static(b"x"));
    }
    r
}

fn coordinator(key: &str, node: i32) -> Coordinator {
    let (_, host, port) = BACKEND[(node - 1) as usize];
    Coordinator::default()
        .with_key(s(key))
        .with_node_id(BrokerId(node))
        .with_host(s(host))
        .with_port(port)
        .with_error_message(None)
}

fn failed(key: &str) -> Coordinator {
    Coordinator::default()
        .with_key(s(key))
        .with_node_id(BrokerId(-1))
        .with_host(StrBytes::new())
        .with_port(-1)
        .with_error_code(15)
        .with_error_message(Some(s("The coordinator is not available.")))
}

fn batched(coordinators: Vec<Coordinator>) -> FindCoordinatorResponse {
    FindCoordinatorResponse::default()
        .with_throttle_time_ms(3)
        .with_coordinators(coordinators)
        .with_unknown_tagged_field(5, Bytes::from_static(b"x"))
}

fn not_available(node: i32) -> String {
    format!("sluice: broker {node} has no address on this listener")
}

#[test]
fn single_form_rewrites_and_reports_unmapped() {
    let map = TestMap::only(&[1, 2]);
    for v in versions().filter(|&v| v < FIRST_BATCHED) {
        let (got, unmapped) = round_trip(KEY, v, &single(v, 2), &map);
        let mut expected = single(v, 2);
        expected.host = map.host(2);
        expected.port = map.port(2);
        assert_eq!(got, expected, "v{v}");
        assert!(unmapped.is_empty());

        let (got, unmapped) = round_trip(KEY, v, &single(v, 3), &map);
        let mut expected = single(v, 3);
        expected.error_code = 15;
        expected.node_id = BrokerId(-1);
        expected.host = StrBytes::new();
        expected.port = -1;
        if v >= 1 {
            expected.error_message = Some(s(&not_available(3)));
        }
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![3]);
    }
}

#[test]
fn single_form_error_passes_unchanged() {
    for v in versions().filter(|&v| v < FIRST_BATCHED) {
        let r = single(v, 3)
            .with_error_code(15)
            .with_node_id(BrokerId(-1))
            .with_host(StrBytes::new())
            .with_port(-1);
        assert_unchanged(KEY, v, &r, &TestMap::only(&[]));
    }
}

#[test]
fn batched_form_rewrites_each_coordinator() {
    let map = TestMap::only(&[1, 2]);
    for v in versions().filter(|&v| v >= FIRST_BATCHED) {
        let original = batched(vec![
            coordinator("group-a", 1),
            coordinator("group-b", 3),
            failed("group-c"),
            coordinator("group-d", 2),
        ]);
        let (got, unmapped) = round_trip(KEY, v, &original, &map);
        let mut expected = original.clone();
        for c in &mut expected.coordinators {
            match c.node_id.0 {
                -1 => {}
                3 => {
                    c.error_code = 15;
                    c.node_id = BrokerId(-1);
                    c.host = StrBytes::new();
                    c.port = -1;
                    c.error_message = Some(s(&not_available(3)));
                }
                id => {
                    c.host = map.host(id);
                    c.port = map.port(id);
                }
            }
        }
        assert_eq!(got, expected, "v{v}");
        assert_eq!(unmapped, vec![3]);
    }
}

#[test]
fn batched_form_with_only_errors_is_unchanged() {
    for v in versions().filter(|&v| v >= FIRST_BATCHED) {
        let r = batched(vec![failed("a"), failed("b")]);
        assert_unchanged(KEY, v, &r, &TestMap::all());
    }
}

#[test]
fn truncated_or_corrupt_input_never_panics() {
    for v in versions() {
        let frame = if v >= FIRST_BATCHED {
            response_frame(KEY, v, &batched(vec![coordinator("g", 1), failed("h")]))
        } else {
            response_frame(KEY, v, &single(v, 1))
        };
        assert_prefixes_fail(KEY, v, &frame);
        assert_mutations_survive(KEY, v, &frame);
    }
}
