//! sluice-bench against a real Apache Kafka (KRaft, one broker) started by
//! the project's own deploy/kafka-local.sh on free loopback ports: short
//! produce, consume, e2e and ping runs must move data without errors.

mod support;

use sluice_test_support::harness::{self, TestFn};
use sluice_test_support::kafka::KafkaCluster;
use support::{bench_json, number};

fn main() {
    let tests: &[(&str, TestFn<KafkaCluster>)] = &[(
        "produce_consume_e2e_and_ping_against_a_real_broker",
        produce_consume_e2e_and_ping,
    )];
    harness::run_with_kafka(tests, || KafkaCluster::start(1));
}

fn assert_moved_data_cleanly(summary: &serde_json::Value) {
    let workload = summary["workload"].as_str().unwrap_or("?");
    assert_eq!(number(summary, "errors"), 0.0, "{workload}: {summary:#}");
    assert!(
        number(summary, "requests_per_sec") > 0.0,
        "{workload}: {summary:#}"
    );
}

fn produce_consume_e2e_and_ping(kafka: &KafkaCluster) {
    let bootstrap = kafka.bootstrap.as_str();
    let timing = ["--duration", "2", "--warmup", "1"];
    let mut args = vec![
        "produce",
        "--bootstrap",
        bootstrap,
        "--topic",
        "smoke",
        "--create-partitions",
        "3",
    ];
    args.extend(["--compression", "lz4", "--connections", "2"]);
    args.extend(timing);
    let produce = bench_json(&args);
    assert_moved_data_cleanly(&produce);
    assert!(number(&produce, "records_per_sec") > 0.0, "{produce:#}");

    let mut args = vec!["consume", "--bootstrap", bootstrap, "--topic", "smoke"];
    args.extend(timing);
    let consume = bench_json(&args);
    assert_moved_data_cleanly(&consume);
    assert!(number(&consume, "records") > 0.0, "{consume:#}");

    let mut args = vec![
        "e2e",
        "--bootstrap",
        bootstrap,
        "--topic",
        "smoke",
        "--rate",
        "1000",
    ];
    args.extend([
        "--record-size",
        "100",
        "--compression",
        "zstd",
        "--max-wait-ms",
        "100",
    ]);
    args.extend(timing);
    let e2e = bench_json(&args);
    assert_eq!(number(&e2e, "errors"), 0.0, "{e2e:#}");
    assert!(number(&e2e["record_latency_ms"], "count") > 0.0, "{e2e:#}");
    assert!(number(&e2e, "produced_records") > 0.0, "{e2e:#}");

    for api in ["apiversions", "metadata"] {
        let mut args = vec![
            "ping",
            "--bootstrap",
            bootstrap,
            "--api",
            api,
            "--pipeline",
            "4",
        ];
        args.extend(timing);
        assert_moved_data_cleanly(&bench_json(&args));
    }
}
