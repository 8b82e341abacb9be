//! sluice in front of a real 3-broker Apache Kafka, driven by real clients:
//! Kafka's Java tools, kcat (librdkafka) and a raw protocol client.
//!
//! One cluster and one gateway serve every trial (starting Kafka is the
//! slow part), so trials run one at a time, the broker-failure and
//! broker-move trials last.

#[path = "kafka/admin.rs"]
mod admin;
#[path = "kafka/bad_input.rs"]
mod bad_input;
#[path = "kafka/budget.rs"]
mod budget;
#[path = "kafka/clients.rs"]
mod clients;
#[path = "kafka/deadlines.rs"]
mod deadlines;
#[path = "kafka/drain.rs"]
mod drain;
#[path = "kafka/failover.rs"]
mod failover;
#[path = "kafka/leaks.rs"]
mod leaks;
#[path = "kafka/lifecycle.rs"]
mod lifecycle;
#[path = "kafka/moved.rs"]
mod moved;
#[path = "kafka/observability.rs"]
mod observability;
#[path = "kafka/policies.rs"]
mod policies;
#[path = "kafka/streaming.rs"]
mod streaming;
mod support;

use sluice_test_support::harness::{self, TestFn};
use sluice_test_support::kafka::{KafkaCluster, NODE_ID_BASE};
use support::gateway::Gateway;

pub struct Env {
    pub cluster: KafkaCluster,
    pub gateway: Gateway,
}

fn main() {
    let tests: &[(&str, TestFn<Env>)] = &[
        (
            "java_clients_round_trip_with_consumer_group",
            clients::java_round_trip,
        ),
        (
            "kcat_round_trip_with_consumer_group",
            clients::kcat_round_trip,
        ),
        (
            "topic_administration_with_kafka_topics",
            admin::topic_lifecycle,
        ),
        (
            "no_backend_address_reaches_clients",
            leaks::no_backend_address,
        ),
        ("both_shards_serve_connections", leaks::both_shards_serve),
        (
            "bad_input_closes_only_that_connection",
            bad_input::bad_input_is_contained,
        ),
        (
            "sighup_reloads_listeners_and_keeps_connections",
            lifecycle::sighup_reloads_listeners_and_keeps_connections,
        ),
        (
            "sigterm_drains_in_flight_requests",
            lifecycle::sigterm_drains_in_flight_requests,
        ),
        (
            "a_client_leaving_mid_request_is_released",
            lifecycle::a_client_leaving_mid_request_is_released,
        ),
        (
            "unanswered_requests_are_released_at_their_deadline",
            deadlines::unanswered_requests_are_released_at_their_deadline,
        ),
        (
            "concurrent_huge_frames_stay_within_the_budget",
            budget::concurrent_huge_frames_stay_within_the_budget,
        ),
        (
            "sigterm_under_load_fails_no_request",
            drain::sigterm_under_load_fails_no_request,
        ),
        (
            "idle_connections_are_closed",
            deadlines::idle_connections_are_closed,
        ),
        (
            "brokers_without_a_port_are_reported",
            lifecycle::brokers_without_a_port_are_reported,
        ),
        (
            "observability_metrics_count_a_produce_consume_run",
            observability::metrics_count_a_produce_consume_run,
        ),
        (
            "observability_readiness_drops_while_draining",
            observability::readiness_drops_while_draining,
        ),
        (
            "observability_not_ready_until_a_backend_broker_is_known",
            observability::not_ready_until_a_backend_broker_is_known,
        ),
        (
            "large_fetch_responses_pass_while_arriving",
            streaming::large_fetch_responses_pass_while_arriving,
        ),
        (
            "produce_policies_refuse_with_policy_violation",
            policies::produce_policies_refuse_with_policy_violation,
        ),
        (
            "a_hung_brokers_clients_are_released_at_their_deadline",
            deadlines::a_hung_brokers_clients_are_released_at_their_deadline,
        ),
        (
            "broker_failure_loses_no_acknowledged_record",
            failover::broker_stop_during_run,
        ),
        (
            "a_moved_broker_is_found_through_metadata",
            moved::a_moved_broker_is_found_through_metadata,
        ),
    ];
    harness::run_with_kafka(tests, || {
        let cluster = KafkaCluster::start(3);
        let gateway = Gateway::start_port_mapping(
            &cluster.bootstrap,
            3,
            NODE_ID_BASE,
            &["--shards", "2", "--no-pin"],
        );
        Env { cluster, gateway }
    });
}
