//! sluice in front of a real 3-broker Apache Kafka, driven by real clients:
//! Kafka's Java tools, kcat (librdkafka) and a raw protocol client.
//!
//! One cluster and one gateway serve every trial (starting Kafka is the
//! slow part), so trials run one at a time, the broker-failure trial last.

#[path = "kafka/admin.rs"]
mod admin;
#[path = "kafka/bad_input.rs"]
mod bad_input;
#[path = "kafka/clients.rs"]
mod clients;
#[path = "kafka/failover.rs"]
mod failover;
#[path = "kafka/leaks.rs"]
mod leaks;
#[path = "kafka/lifecycle.rs"]
mod lifecycle;
mod support;

use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};
use support::gateway::Gateway;
use support::kafka::{KafkaCluster, NODE_ID_BASE};

pub struct Env {
    pub cluster: KafkaCluster,
    pub gateway: Gateway,
}

type TestFn = fn(&Env);

fn main() {
    let mut args = Arguments::from_args();
    args.test_threads = Some(1);
    let tests: Vec<(&str, TestFn)> = vec![
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
            "brokers_without_a_port_are_reported",
            lifecycle::brokers_without_a_port_are_reported,
        ),
        (
            "broker_failure_loses_no_acknowledged_record",
            failover::broker_stop_during_run,
        ),
    ];
    let wanted: Vec<&(&str, TestFn)> = tests
        .iter()
        .filter(|(name, _)| !args.is_ignored_or_filtered(name))
        .collect();
    if wanted.is_empty() || args.list {
        let trials = tests
            .iter()
            .map(|(name, _)| Trial::test(*name, || Ok(())))
            .collect();
        libtest_mimic::run(&args, trials).exit();
    }
    let cluster = KafkaCluster::start(3);
    let gateway = Gateway::start_port_mapping(
        &cluster.bootstrap,
        3,
        NODE_ID_BASE,
        &["--shards", "2", "--no-pin"],
    );
    let env = Arc::new(Env { cluster, gateway });
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            let env = env.clone();
            Trial::test(name, move || {
                test(&env);
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    drop(env);
    conclusion.exit();
}

trait FilterExt {
    fn is_ignored_or_filtered(&self, name: &str) -> bool;
}

impl FilterExt for Arguments {
    fn is_ignored_or_filtered(&self, name: &str) -> bool {
        match &self.filter {
            Some(filter) if self.exact => filter != name,
            Some(filter) => !name.contains(filter.as_str()),
            None => false,
        }
    }
}
