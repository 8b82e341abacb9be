//! The built-in responder (not Kafka) driven by the tool's own workloads:
//! every workload moves data and makes no error, and the JSON summaries
//! have the documented shape. These check the tool, not Kafka behaviour;
//! kafka_smoke.rs runs the same workloads against a real broker.

mod support;

use sluice_test_support::ports::free_port_block;
use sluice_test_support::{temp_dir, text};
use support::{bench, bench_json, number, Background};

fn responder(brokers: u16) -> (Background, String) {
    let base = free_port_block(brokers);
    let listen = format!("127.0.0.1:{base}");
    let brokers = brokers.to_string();
    let args = [
        "responder",
        "--listen",
        &listen,
        "--brokers",
        &brokers,
        "--partitions",
        "4",
        "--fetch-bytes",
        "65536",
        "--quiet",
    ];
    let child = Background::start(&args, "sluice-bench responder (not Kafka): listening on");
    (child, listen)
}

const SHORT: [&str; 4] = ["--duration", "1", "--warmup", "0.5"];

fn run(workload: &str, target: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![workload, "--bootstrap", target];
    args.extend_from_slice(&SHORT);
    args.extend_from_slice(extra);
    bench_json(&args)
}

fn assert_clean_throughput(summary: &serde_json::Value) {
    let workload = summary["workload"].as_str().unwrap_or("?");
    assert_eq!(number(summary, "errors"), 0.0, "{workload}: {summary:#}");
    assert!(
        number(summary, "requests_per_sec") > 0.0,
        "{workload}: {summary:#}"
    );
    assert!(
        summary["latency_ms"]["p50"].as_f64().unwrap_or(0.0) > 0.0,
        "{workload}: {summary:#}"
    );
}

#[test]
fn produce_consume_and_ping_run_clean_against_the_responder() {
    let (_responder, target) = responder(2);
    let produce = run(
        "produce",
        &target,
        &[
            "--connections",
            "2",
            "--pipeline",
            "4",
            "--compression",
            "lz4",
        ],
    );
    assert_clean_throughput(&produce);
    assert!(number(&produce, "mb_per_sec") > 0.0 && number(&produce, "records_per_sec") > 0.0);
    assert_eq!(number(&produce, "connections"), 4.0, "two per leader");

    let consume = run("consume", &target, &[]);
    assert_clean_throughput(&consume);
    assert!(number(&consume, "records_per_sec") > 0.0 && number(&consume, "mb_per_sec") > 0.0);

    for api in ["apiversions", "metadata"] {
        let ping = run(
            "ping",
            &target,
            &[
                "--api",
                api,
                "--pipeline",
                "8",
                "--threads",
                "2",
                "--no-pin",
            ],
        );
        assert_clean_throughput(&ping);
        assert_eq!(number(&ping, "executors"), 2.0);
    }
}

#[test]
fn produce_with_acks_0_and_a_rate_limit() {
    let (_responder, target) = responder(1);
    let summary = run(
        "produce",
        &target,
        &["--acks", "0", "--rate", "2000", "--records-per-batch", "10"],
    );
    assert_eq!(number(&summary, "errors"), 0.0, "{summary:#}");
    let rate = number(&summary, "records_per_sec");
    assert!(rate > 0.0 && rate < 4000.0, "rate limit not kept: {rate}");
    assert!(summary["latency_ms"].is_null(), "acks=0 has no round trip");
}

#[test]
fn json_summary_has_every_documented_field() {
    let (_responder, target) = responder(1);
    let summary = run("ping", &target, &[]);
    for field in [
        "tool",
        "version",
        "workload",
        "target",
        "executors",
        "connections",
        "duration_s",
        "warmup_s",
        "requests",
        "records",
        "bytes",
        "errors",
        "warmup_errors",
        "error_kinds",
        "mb_per_sec",
        "records_per_sec",
        "requests_per_sec",
        "latency_ms",
        "record_latency_ms",
        "produced_records",
        "produced_records_per_sec",
        "tool_cpu_seconds",
        "notes",
    ] {
        assert!(
            summary.get(field).is_some(),
            "field {field} missing: {summary:#}"
        );
    }
    for field in ["count", "min", "mean", "p50", "p90", "p99", "p999", "max"] {
        assert!(
            summary["latency_ms"][field].is_number(),
            "latency_ms.{field}: {summary:#}"
        );
    }
    assert_eq!(summary["tool"], "sluice-bench");
    assert_eq!(summary["workload"], "ping");
    assert_eq!(summary["target"], target.as_str());
}

#[test]
fn compare_interleaves_targets_and_reports_ratios_and_cpu_per_gb() {
    let (first, first_target) = responder(1);
    let (_second, second_target) = responder(1);
    let dir = temp_dir("compare");
    let json = dir.path().join("compare.json");
    let direct = format!("direct={first_target},pid={}", first.pid());
    let other = format!("other={second_target}");
    let json_arg = json.to_string_lossy().into_owned();
    let args = [
        "compare",
        "--target",
        &direct,
        "--target",
        &other,
        "--rounds",
        "2",
        "--pause",
        "0",
        "--quiet",
        "--json",
        &json_arg,
        "produce",
        "--duration",
        "0.5",
        "--warmup",
        "0.2",
    ];
    let out = bench(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("vs direct") && stdout.contains("target CPU s/GB"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["rounds"], 2);
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["figures"]["mb_per_sec"]["ratio_to_first"], 1.0);
    assert_eq!(targets[1]["rounds"].as_array().unwrap().len(), 2);
    assert!(
        targets[0]["figures"]["target_cpu_s_per_gb"]["median"].is_number(),
        "{report:#}"
    );
    assert!(
        targets[1]["figures"].get("target_cpu_s_per_gb").is_none(),
        "no pid, no target CPU"
    );
    for target in targets {
        for round in target["rounds"].as_array().unwrap() {
            assert_eq!(round["summary"]["errors"], 0, "{round:#}");
        }
    }
}

#[test]
fn connections_reports_memory_per_connection_and_connect_rate() {
    let (responder, target) = responder(1);
    let pid = responder.pid().to_string();
    let args = [
        "connections",
        "--bootstrap",
        &target,
        "--connections",
        "200",
        "--pid",
        &pid,
        "--settle",
        "0.2",
        "--duration",
        "1",
    ];
    let summary = bench_json(&args);
    assert_eq!(summary["connections_opened"], 200, "{summary:#}");
    assert_eq!(summary["connection_failures"], 0, "{summary:#}");
    assert!(summary["rss_before_bytes"].is_number() && summary["bytes_per_connection"].is_number());
    let storm = &summary["storm"];
    assert!(number(storm, "requests_per_sec") > 0.0, "{summary:#}");
    assert_eq!(number(storm, "errors"), 0.0, "{summary:#}");
}

#[test]
fn relay_forwards_a_workload_unchanged() {
    let (_responder, target) = responder(1);
    let port = free_port_block(1);
    let listen = format!("127.0.0.1:{port}");
    let _relay = Background::start(
        &["relay", "--listen", &listen, "--to", &target, "--quiet"],
        "sluice-bench relay: relaying",
    );
    let ping = run("ping", &listen, &["--pipeline", "4"]);
    assert_clean_throughput(&ping);
}

#[test]
fn responder_closes_connections_on_unknown_apis_with_a_log_line() {
    use std::io::{Read, Write};
    let base = free_port_block(1);
    let listen = format!("127.0.0.1:{base}");
    let child = Background::start(&["responder", "--listen", &listen], "listening on");
    let mut stream = std::net::TcpStream::connect(&listen).unwrap();
    // DescribeGroups (key 15) v0, correlation 1, no client id, empty body.
    let frame = [0, 0, 0, 10, 0, 15, 0, 0, 0, 0, 0, 1, 0xff, 0xff];
    stream.write_all(&frame).unwrap();
    let mut buf = [0u8; 16];
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    assert_eq!(
        stream.read(&mut buf).unwrap(),
        0,
        "connection should be closed"
    );
    // The responder logs the close after closing; the line follows.
    child.wait_for_line(
        &[
            "sluice-bench responder (not Kafka): closing connection",
            "DescribeGroups",
        ],
        std::time::Duration::from_secs(10),
    );
}
