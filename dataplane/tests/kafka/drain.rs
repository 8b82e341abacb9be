//! SIGTERM under load fails no request: Kafka's verifiable producer sends
//! 2,000 records/s with acks=all and no retries through one sluice, which
//! is told to stop while a second one takes its ports. Every connection of
//! the first is closed between requests, so the producer sees no error and
//! every record is acknowledged and can be read back.

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
    let closes: Vec<String> = (first.logs().lines())
        .filter(|l| l.contains("connection closed") || l.contains("drain"))
        .map(str::to_owned)
        .collect();
    assert!(
        failed.is_empty(),
        "{} send errors, the first: {:?}; the first sluice's closes: {closes:#?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(acked, RECORDS, "records acknowledged");
    let values = java_read_from_start(&env.cluster.bootstrap, topic, RECORDS);
    let distinct: BTreeSet<&str> = values.lines().collect();
    assert_eq!(distinct.len(), RECORDS, "records read back");
    let log = first.logs();
    assert!(
        log.contains("reason_code=\"draining\""),
        "the drain's closes are not in the log"
    );
    drop(second);
}
