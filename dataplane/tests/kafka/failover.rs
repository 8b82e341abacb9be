//! A backend broker stops in the middle of a produce/consume run through the
//! gateway: clients carry on once leadership moves, and no record the
//! producer saw acknowledged (acks=all) is lost.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::clients::create_topic;
use crate::support::kafka::NODE_ID_BASE;
use crate::support::repo_root;
use crate::support::wait;
use crate::Env;

const RECORDS: usize = 20_000;
const STOP_AFTER_ACKED: usize = 4_000;
const PRODUCER_PROPERTIES: &str =
    "retries=2147483647\nenable.idempotence=true\ndelivery.timeout.ms=120000\n";

fn kafka_tool(name: &str, args: &[&str]) -> Command {
    let mut command = Command::new(repo_root().join("deploy/kafka-local.sh"));
    command.arg("tool").arg(name).args(args);
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    command
}

pub fn broker_stop_during_run(env: &Env) {
    let gw = env.gateway.bootstrap();
    let topic = "failover";
    create_topic(&gw, topic);
    let records = RECORDS.to_string();
    let consumer = kafka_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &gw,
            "--topic",
            topic,
            "--group",
            "failover-group",
            "--from-beginning",
            "--max-messages",
            &records,
            "--timeout-ms",
            "120000",
        ],
    )
    .spawn()
    .expect("start console consumer");
    // The verifiable producer turns retries off unless told otherwise; a
    // real producer retries through a leader change, so this one must too.
    let props = crate::support::TempDir::new("failover");
    let props_path = props.path().join("producer.properties");
    std::fs::write(&props_path, PRODUCER_PROPERTIES).expect("write producer properties");
    let props_arg = props_path.to_string_lossy().to_string();
    let mut producer = kafka_tool(
        "kafka-verifiable-producer",
        &[
            "--bootstrap-server",
            &gw,
            "--topic",
            topic,
            "--max-messages",
            &records,
            "--throughput",
            "2000",
            "--acks",
            "-1",
            "--producer.config",
            &props_arg,
        ],
    )
    .spawn()
    .expect("start verifiable producer");

    let (acked_tx, acked_rx) = mpsc::channel::<String>();
    let (error_tx, error_rx) = mpsc::channel::<String>();
    let stdout = producer.stdout.take().expect("producer stdout");
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) {
                if event["name"] == "producer_send_success" {
                    let _ = acked_tx.send(event["value"].as_str().unwrap_or_default().to_string());
                } else if event["name"] == "producer_send_error" {
                    let _ = error_tx.send(line);
                }
            }
        }
    });
    let mut acked = BTreeSet::new();
    wait::until(
        "the producer to get acknowledgements",
        Duration::from_secs(120),
        || {
            acked.extend(acked_rx.try_iter());
            (acked.len() >= STOP_AFTER_ACKED).then_some(())
        },
    );
    let victim = NODE_ID_BASE + 1;
    env.cluster.stop_node(victim);

    let status = producer.wait().expect("producer exit");
    reader.join().expect("reader thread");
    acked.extend(acked_rx.try_iter());
    assert!(status.success(), "verifiable producer failed");
    let errors: Vec<String> = error_rx.try_iter().take(5).collect();
    assert_eq!(
        acked.len(),
        RECORDS,
        "the producer did not carry on after the broker stopped; first errors: {errors:#?}"
    );

    // The consumer that ran through the failure carried on to the end
    // (it may see a record twice after a group rebalance, never fewer).
    let out = consumer.wait_with_output().expect("consumer exit");
    let during = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(
        during, RECORDS,
        "the consumer did not carry on after the broker stopped"
    );

    // Every acknowledged record is in the log, read back by a fresh group.
    let all = crate::support::kafka::tool_ok(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            &gw,
            "--topic",
            topic,
            "--group",
            "failover-check",
            "--from-beginning",
            "--max-messages",
            &records,
            "--timeout-ms",
            "90000",
        ],
        None,
    );
    let consumed: BTreeSet<String> = all.lines().map(str::to_string).collect();
    let lost: Vec<&String> = acked.difference(&consumed).take(10).collect();
    assert!(
        lost.is_empty(),
        "acknowledged records lost (first ten): {lost:?}"
    );
    env.cluster.start_node(victim);
}
