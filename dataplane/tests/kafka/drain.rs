//! SIGTERM under load: Kafka's verifiable producer sends 2,000 records/s
//! with acks=all and no retries through one sluice, which is told to stop
//! while a second one takes its ports. Every connection of the first is
//! closed only while it rests between requests, so no request sluice has
//! read fails and every acknowledged record can be read back. What TCP
//! leaves open is a request the client writes at the instant its
//! connection closes; the test bounds that and reports it.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use crate::support::gateway::Gateway;
use crate::Env;
use sluice_test_support::kafka::{create_topic, java_read_from_start, tool_command, NODE_ID_BASE};
use sluice_test_support::{temp_dir, wait};

const RECORDS: usize = 24_000;
const WAIT: Duration = Duration::from_secs(120);

/// What the producer reported: one entry per acknowledged record, and
/// every error line.
enum Sent {
    Acked,
    Failed(String),
}

fn report(stdout: std::process::ChildStdout) -> Receiver<Sent> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let sent = if line.contains("\"producer_send_success\"") {
                Sent::Acked
            } else if line.contains("\"producer_send_error\"") {
                Sent::Failed(line)
            } else {
                continue;
            };
            if tx.send(sent).is_err() {
                return;
            }
        }
    });
    rx
}

pub fn sigterm_under_load_fails_no_request(env: &Env) {
    let topic = "drain-under-load";
    create_topic(&env.cluster.bootstrap, topic, 6, 3);
    let args = ["--shards", "2", "--no-pin"];
    let mut first = Gateway::start_port_mapping(&env.cluster.bootstrap, 3, NODE_ID_BASE, &args);
    let config = std::fs::read_to_string(&first.config_path).expect("config");
    let props_dir = temp_dir("drain");
    let props = props_dir.path().join("producer.properties");
    std::fs::write(&props, "retries=0\nenable.idempotence=false\n").expect("props");
    let mut producer = tool_command("kafka-verifiable-producer")
        .args(["--bootstrap-server", &first.bootstrap(), "--topic", topic])
        .args(["--max-messages", &RECORDS.to_string()])
        .args(["--throughput", "2000", "--acks", "-1"])
        .arg("--producer.config")
        .arg(&props)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start verifiable producer");
    let sent = report(producer.stdout.take().expect("producer stdout"));
    let (mut acked, mut failed) = (0, Vec::new());
    let tally = |acked: &mut usize, failed: &mut Vec<String>| {
        for s in sent.try_iter() {
            match s {
                Sent::Acked => *acked += 1,
                Sent::Failed(line) => failed.push(line),
            }
        }
    };
    assert!(wait::eventually(WAIT, || {
        tally(&mut acked, &mut failed);
        acked >= RECORDS / 4
    }));
    first.signal("-TERM");
    let second = Gateway::start(&config, first.port, &args);
    assert!(first.wait_exit(WAIT).success(), "the first sluice failed");
    let status = producer.wait().expect("producer exit");
    tally(&mut acked, &mut failed);
    assert!(status.success(), "verifiable producer failed");
    let log = first.logs();
    let drained = log.matches("reason_code=\"draining\"").count();
    assert!(drained > 0, "the drain's closes are not in the log");
    // A client may write requests at the very moment sluice closes its
    // resting connection; TCP cannot take them back, and with retries=0
    // the producer reports those batches failed. The verifiable producer's
    // throttle sends in bursts after pauses, so this happens: one CI run
    // on this machine saw 34 records of one burst fail this way, after
    // many runs with none. Nothing else may fail: no error of another
    // kind, failures on no more connections than the drain closed, and
    // every acknowledged record is in the log.
    eprintln!("drain under load: {} send errors", failed.len());
    let nodes: BTreeSet<&str> = (failed.iter())
        .map(|line| {
            assert!(line.contains("Disconnected from node"), "{line}");
            line.rsplit("Disconnected from node")
                .next()
                .unwrap_or_default()
        })
        .collect();
    assert!(
        nodes.len() <= drained,
        "failures on {} connections, {drained} drained: {failed:?}",
        nodes.len()
    );
    assert_eq!(acked + failed.len(), RECORDS, "records without an outcome");
    let values = java_read_from_start(&env.cluster.bootstrap, topic, acked);
    let distinct: BTreeSet<&str> = values.lines().collect();
    assert_eq!(distinct.len(), acked, "acknowledged records read back");
    drop(second);
}
