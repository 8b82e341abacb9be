//! sluice-bench against a real Apache Kafka (KRaft, one broker) started by
//! the project's own deploy/kafka-local.sh on free loopback ports: short
//! produce, consume, e2e and ping runs must move data without errors.

mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use support::{bench_json, free_port_block, number, TempDir};

struct Kafka {
    dir: TempDir,
    bootstrap: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("deploy/kafka-local.sh"))
        .expect("benchmarks/ has a parent")
}

impl Kafka {
    fn start() -> Kafka {
        let dir = TempDir::new("kafka");
        // The broker takes port-base, its controller port-base + 1.
        let port_base = free_port_block(2);
        let out = Command::new(script())
            .args(["start", "--dir"])
            .arg(dir.path())
            .args(["--brokers", "1", "--port-base", &port_base.to_string()])
            .stderr(Stdio::inherit())
            .output()
            .expect("run deploy/kafka-local.sh start");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let bootstrap = stdout.lines().last().unwrap_or_default().trim().to_string();
        let kafka = Kafka { dir, bootstrap };
        assert!(
            out.status.success(),
            "kafka-local.sh start failed:\n{stdout}"
        );
        kafka
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .status();
    }
}

fn assert_moved_data_cleanly(summary: &serde_json::Value) {
    let workload = summary["workload"].as_str().unwrap_or("?");
    assert_eq!(number(summary, "errors"), 0.0, "{workload}: {summary:#}");
    assert!(
        number(summary, "requests_per_sec") > 0.0,
        "{workload}: {summary:#}"
    );
}

#[test]
fn produce_consume_e2e_and_ping_against_a_real_broker() {
    let kafka = Kafka::start();
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
