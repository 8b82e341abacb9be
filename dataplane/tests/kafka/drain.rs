//! SIGTERM under load: Kafka's verifiable producer sends 2,000 records/s
//! with acks=all and no retries through one sluice, which is told to stop
//! while a second one takes its ports. Every connection of the first is
//! closed only while it rests between requests, so no request sluice has
//! read fails, no send fails, and every record is acknowledged and can be
//! read back.

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
    // The one failure TCP leaves possible is a request the client writes at
    // the very instant sluice closes its resting connection. sluice closes
    // only after two looks 10 ms apart found the connection idle with no
    // byte waiting; that window has never been hit in this test's runs, so
    // an error here is a drain bug until shown otherwise.
    assert!(
        failed.is_empty(),
        "{} send errors during the drain: {failed:?}",
        failed.len()
    );
    assert_eq!(acked, RECORDS, "records without an acknowledgement");
    let values = java_read_from_start(&env.cluster.bootstrap, topic, acked);
    let distinct: BTreeSet<&str> = values.lines().collect();
    assert_eq!(distinct.len(), acked, "acknowledged records read back");
    drop(second);
}
