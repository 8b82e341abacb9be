//! Summing shard snapshots and rendering them.

use std::sync::Arc;
use std::time::Duration;

use super::histogram::{CellHistogram, HistogramCounts};
use super::hub::MetricsHub;
use super::labels::{CloseReason, FrameReject, Side, API_SLOTS};
use super::render;
use super::snapshot::{ListenerCounts, RouteCounts, RouteKey, ShardSnapshot, Totals};
use crate::readiness::Readiness;

fn key() -> RouteKey {
    RouteKey {
        listener: Arc::from("plain"),
        virtual_cluster: Arc::from("team-a"),
        backend: Arc::from("kafka"),
    }
}

fn latency(micros: u64) -> HistogramCounts {
    let h = CellHistogram::default();
    h.observe(Duration::from_micros(micros));
    h.snapshot()
}

fn shard(shard: usize, produce: u64, fetch: u64, closed_by_client: u64) -> ShardSnapshot {
    let mut listener = ListenerCounts {
        accepted: closed_by_client + 1,
        active: 1,
        ..ListenerCounts::default()
    };
    listener.closed[CloseReason::ClientClosed.index()] = closed_by_client;
    listener.frames_rejected[Side::Client.index()][FrameReject::HttpOnKafka.index()] = 1;
    let mut route = RouteCounts {
        bytes_in: 100 * produce,
        bytes_out: 10,
        backend_opened: 2,
        forward: latency(20),
        ..RouteCounts::default()
    };
    route.requests[0] = produce;
    route.requests[1] = fetch;
    route.responses[0] = produce;
    route.rtt[0] = latency(2_000);
    ShardSnapshot {
        shard,
        active: 1,
        budget: super::budget::BudgetCounts {
            capacity: 1000,
            used: 10 * shard as u64,
            waits: 2,
        },
        listeners: vec![(Arc::from("plain"), listener)],
        routes: vec![(key(), route)],
    }
}

#[test]
fn shard_snapshots_add_up() {
    let totals = Totals::of(&[shard(1, 3, 5, 2), shard(0, 4, 0, 1)]);
    assert_eq!(totals.shards, vec![(0, 1), (1, 1)]);
    let budget = totals.budget;
    assert_eq!((budget.capacity, budget.used, budget.waits), (2000, 10, 4));
    let listener = &totals.listeners["plain"];
    assert_eq!(listener.accepted, 5);
    assert_eq!(listener.active, 2);
    assert_eq!(listener.closed[CloseReason::ClientClosed.index()], 3);
    let route = &totals.routes[&key()];
    assert_eq!(route.requests[0], 7);
    assert_eq!(route.requests[1], 5);
    assert_eq!(route.bytes_in, 700);
    assert_eq!(route.backend_opened, 4);
    assert_eq!(route.forward.count(), 2);
    assert_eq!(route.rtt[0].count(), 2);
    assert_eq!(route.requests.len(), API_SLOTS);
}

fn line<'a>(text: &'a str, starts: &str) -> Option<&'a str> {
    text.lines().find(|l| l.starts_with(starts))
}

#[test]
fn totals_render_as_prometheus_text() {
    let totals = Totals::of(&[shard(0, 3, 5, 2), shard(1, 4, 0, 1)]);
    let text = render::text(&render::shard_families(&totals));
    let expect = [
        "sluice_requests_total{listener=\"plain\",virtual_cluster=\"team-a\",api_key=\"Produce\"} 7",
        "sluice_requests_total{listener=\"plain\",virtual_cluster=\"team-a\",api_key=\"Fetch\"} 5",
        "sluice_bytes_in_total{listener=\"plain\",virtual_cluster=\"team-a\"} 700",
        "sluice_client_connections_closed_total{listener=\"plain\",reason=\"client_closed\"} 3",
        "sluice_client_connections_active{listener=\"plain\"} 2",
        "sluice_shard_client_connections_active{shard=\"1\"} 1",
        "sluice_frames_rejected_total{listener=\"plain\",side=\"client\",reason=\"http_on_kafka\"} 2",
        "sluice_backend_connections_opened_total{backend=\"kafka\"} 4",
        "sluice_request_forward_seconds_bucket{listener=\"plain\",virtual_cluster=\"team-a\",le=\"0.000025\"} 2",
        "sluice_request_forward_seconds_count{listener=\"plain\",virtual_cluster=\"team-a\"} 2",
        "sluice_backend_round_trip_seconds_bucket{backend=\"kafka\",api_key=\"Produce\",le=\"0.0025\"} 2",
    ];
    for wanted in expect {
        assert!(
            text.lines().any(|l| l == wanted),
            "missing {wanted:?} in:\n{text}"
        );
    }
    // Zero series of reason- and api-labelled families are left out.
    assert!(line(
        &text,
        "sluice_responses_total{listener=\"plain\",virtual_cluster=\"team-a\",api_key=\"Fetch\""
    )
    .is_none());
    assert!(line(&text, "sluice_backend_connection_errors_total").is_none());
    // Every family has HELP and TYPE.
    for name in ["sluice_requests_total", "sluice_backend_round_trip_seconds"] {
        assert!(line(&text, &format!("# HELP {name} ")).is_some(), "{text}");
        assert!(line(&text, &format!("# TYPE {name} ")).is_some(), "{text}");
    }
}

#[test]
fn the_hub_keeps_the_latest_snapshot_of_every_shard() {
    let readiness = Arc::new(Readiness::new(2, true));
    let (hub, observers) = MetricsHub::new(2, true, readiness);
    observers[0].publish(shard(0, 1, 0, 0));
    observers[0].publish(shard(0, 2, 0, 0)); // replaces the uncollected one
    observers[1].publish(shard(1, 10, 0, 0));
    assert_eq!(hub.totals().routes[&key()].requests[0], 12);
    // Nothing new: the last snapshots still count.
    assert_eq!(hub.totals().routes[&key()].requests[0], 12);
    observers[1].publish(shard(1, 20, 0, 0));
    assert_eq!(hub.totals().routes[&key()].requests[0], 22);
    let text = hub.render_text();
    assert!(text.contains("sluice_ready 0"), "{text}");
    assert!(text.contains("sluice_build_info{version="), "{text}");
}

#[test]
fn a_disabled_hub_renders_only_non_shard_metrics() {
    let (hub, observers) = MetricsHub::new(1, false, Arc::new(Readiness::new(1, true)));
    observers[0].publish(shard(0, 1, 0, 0));
    let text = hub.render_text();
    assert!(!text.contains("sluice_requests_total"), "{text}");
    assert!(text.contains("sluice_ready"), "{text}");
}
