//! A backend broker stops in the middle of a produce/consume run through the
//! gateway: clients carry on once leadership moves, and no record the
//! producer saw acknowledged (acks=all) is lost.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::clients::create_topic;
use crate::Env;
use sluice_test_support::kafka::{tool_command, tool_ok, NODE_ID_BASE};
use sluice_test_support::{temp_dir, wait, TempDir};

const TOPIC: &str = "failover";
const RECORDS: usize = 20_000;
const STOP_AFTER_ACKED: usize = 4_000;
/// The verifiable producer turns retries off unless told otherwise; a real
/// producer retries through a leader change, so this one must too.
const PRODUCER_PROPERTIES: &str =
    "retries=2147483647\nenable.idempotence=true\ndelivery.timeout.ms=120000\n";

fn kafka_tool(name: &str, args: &[&str]) -> Command {
    let mut command = tool_command(name);
    command.args(args);
    command.stdout(Stdio::piped()).stderr(Stdio::inherit());
    command
}

fn consumer_args<'a>(
    gw: &'a str,
    group: &'a str,
    records: &'a str,
    timeout_ms: &'a str,
) -> Vec<&'a str> {
    vec![
        "--bootstrap-server",
        gw,
        "--topic",
        TOPIC,
        "--group",
        group,
        "--from-beginning",
        "--max-messages",
        records,
        "--timeout-ms",
        timeout_ms,
    ]
}

/// The producer's acknowledged values and its error lines, as they come.
struct ProducerEvents {
    acked: mpsc::Receiver<String>,
    errors: mpsc::Receiver<String>,
    reader: JoinHandle<()>,
}

fn start_producer(gw: &str, props: &TempDir) -> (Child, ProducerEvents) {
    let props_path = props.path().join("producer.properties");
    std::fs::write(&props_path, PRODUCER_PROPERTIES).expect("write producer properties");
    let props_arg = props_path.to_string_lossy().to_string();
    let records = RECORDS.to_string();
    let args = [
        "--bootstrap-server",
        gw,
        "--topic",
        TOPIC,
        "--max-messages",
        &records,
        "--throughput",
        "2000",
        "--acks",
        "-1",
        "--producer.config",
        &props_arg,
    ];
    let mut producer = kafka_tool("kafka-verifiable-producer", &args)
        .spawn()
        .expect("start verifiable producer");
    let stdout = producer.stdout.take().expect("producer stdout");
    let (acked_tx, acked) = mpsc::channel();
    let (error_tx, errors) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if event["name"] == "producer_send_success" {
                let _ = acked_tx.send(event["value"].as_str().unwrap_or_default().to_string());
            } else if event["name"] == "producer_send_error" {
                let _ = error_tx.send(line);
            }
        }
    });
    (
        producer,
        ProducerEvents {
            acked,
            errors,
            reader,
        },
    )
}

pub fn broker_stop_during_run(env: &Env) {
    let gw = env.gateway.bootstrap();
    create_topic(&gw, TOPIC);
    let records = RECORDS.to_string();
    let consumer = kafka_tool(
        "kafka-console-consumer",
        &consumer_args(&gw, "failover-group", &records, "120000"),
    )
    .spawn()
    .expect("start console consumer");
    let props = temp_dir("failover");
    let (mut producer, events) = start_producer(&gw, &props);

    let mut acked = BTreeSet::new();
    wait::until(
        "the producer to get acknowledgements",
        Duration::from_secs(120),
        || {
            acked.extend(events.acked.try_iter());
            (acked.len() >= STOP_AFTER_ACKED).then_some(())
        },
    );
    let victim = NODE_ID_BASE + 1;
    env.cluster.stop_node(victim);

    let status = producer.wait().expect("producer exit");
    events.reader.join().expect("reader thread");
    acked.extend(events.acked.try_iter());
    assert!(status.success(), "verifiable producer failed");
    let errors: Vec<String> = events.errors.try_iter().take(5).collect();
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
    let all = tool_ok(
        "kafka-console-consumer",
        &consumer_args(&gw, "failover-check", &records, "90000"),
        None,
    );
    let consumed: BTreeSet<String> = all.lines().map(str::to_string).collect();
    let lost: Vec<&String> = acked.difference(&consumed).take(10).collect();
    assert!(
        lost.is_empty(),
        "acknowledged records lost (first ten): {lost:?}"
    );
    // Restarted, the broker carries traffic through its port again: sluice
    // refreshes its metadata when a connection meets a broker it has no
    // address for, instead of waiting for the next interval.
    env.cluster.start_node(victim);
    let port = env.gateway.port + 1 + (victim - NODE_ID_BASE) as u16;
    wait::until(
        "the restarted broker to answer through sluice",
        Duration::from_secs(120),
        || api_versions_answered(port).then_some(()),
    );
}

/// One ApiVersions v0 round trip through `port`.
fn api_versions_answered(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let request = [0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff];
    let mut prefix = [0u8; 8];
    conn.write_all(&request).is_ok()
        && conn.read_exact(&mut prefix).is_ok()
        && prefix[4..] == [0, 0, 0, 7]
}
