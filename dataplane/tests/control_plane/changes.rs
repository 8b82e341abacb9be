//! Configuration applied through the control plane reaches every node;
//! reloads close only the connections whose listener, virtual cluster or
//! backend changed.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::setup::{Env, WAIT};
use crate::support::cp::wait_applied;
use crate::support::produce::{create_topic, produce, produce_once};
use crate::support::raw::RawConn;
use sluice_test_support::kafka::{java_read_from_start, kcat_ok, tool_command};
use sluice_test_support::{temp_dir, wait, TempDir};

/// Kafka's POLICY_VIOLATION error code.
const POLICY_VIOLATION: i16 = 44;

fn kcat_round_trip(bootstrap: &str, topic: &str) {
    let values: String = (0..200).map(|i| format!("{topic}-{i}\n")).collect();
    kcat_ok(
        &["-b", bootstrap, "-P", "-t", topic, "-X", "acks=all"],
        Some(&values),
    );
    let group = format!("{topic}-group");
    let consumed = kcat_ok(
        &[
            "-b",
            bootstrap,
            "-G",
            &group,
            "-X",
            "auto.offset.reset=earliest",
            "-c",
            "200",
            "-q",
            "-f",
            "%s\n",
            topic,
        ],
        None,
    );
    let got: BTreeSet<&str> = consumed.lines().collect();
    assert_eq!(
        got,
        values.lines().collect(),
        "round trip through {bootstrap}"
    );
}

pub fn two_nodes_converge(env: &Env) {
    let v1 = {
        let cp = env.cp();
        cp.apply(&env.config("vc-b", "127.0.0.1"));
        cp.version()
    };
    let one = env.node("node-1");
    let two = env.node("node-2");
    for node in ["node-1", "node-2"] {
        wait_applied(&env.cp(), node, v1, WAIT);
    }
    kcat_round_trip(&format!("127.0.0.1:{}", env.port_a), "cp-converge");

    let v2 = {
        let cp = env.cp();
        cp.apply(&env.config("vc-b-renamed", "127.0.0.1"));
        cp.version()
    };
    assert!(v2 > v1);
    for node in [&one, &two] {
        wait_applied(&env.cp(), &node.id, v2, WAIT);
        for shard in ["shard=0", "shard=1"] {
            node.gateway
                .wait_log_line(&["configuration applied", shard, "epoch=2"], WAIT);
        }
    }
}

pub fn connections_survive(env: &Env) {
    let v = {
        let cp = env.cp();
        cp.apply(&env.config("vc-b", "127.0.0.1"));
        cp.version()
    };
    let node = env.node("node-3");
    wait_applied(&env.cp(), &node.id, v, WAIT);
    let bootstrap_a = format!("127.0.0.1:{}", env.port_a);
    let mut producer = RawConn::connect(&bootstrap_a);
    let local_port = producer.stream.local_addr().unwrap().port();
    create_topic(&mut producer, "cp-survive");
    produce(&mut producer, "cp-survive", "before any change");

    // An unrelated virtual cluster changes: the connection carries on.
    apply_and_wait(env, &node.id, &env.config("vc-b-other", "127.0.0.1"));
    produce(&mut producer, "cp-survive", "after vc-b changed");
    assert_eq!(producer.stream.local_addr().unwrap().port(), local_port);

    // Its own virtual cluster's policies change: the connection carries on,
    // and its very next request is checked against them.
    let policies = "[{ type: produce_limits, config: { min_acks: all } }]";
    let guarded = env.config_with_a_policies("vc-b-other", "127.0.0.1", policies);
    apply_and_wait(env, &node.id, &guarded);
    let (code, message) = produce_once(&mut producer, "cp-survive", "refused: acks=1", 1);
    assert_eq!(code, POLICY_VIOLATION, "{message}");
    assert!(message.contains("min_acks all"), "{message}");
    produce(&mut producer, "cp-survive", "after vc-a policies changed");
    assert_eq!(producer.stream.local_addr().unwrap().port(), local_port);

    // Its own listener changes: that connection ends, a real producer recovers.
    let mut recovering = RecoveringProducer::start(&bootstrap_a, "cp-recover", 3000);
    recovering.wait_acked(500);
    apply_and_wait(env, &node.id, &env.config("vc-b-other", "localhost"));
    assert!(
        producer.closed_by_peer(),
        "connection of the changed listener left open"
    );
    node.gateway.wait_log_line(
        &[
            "connection closed",
            "configuration changed: listener a changed",
        ],
        WAIT,
    );
    recovering.finish();
    let consumed = java_read_from_start(&env.kafka.bootstrap, "cp-survive", 3);
    // One partition, so the order is the produce order; the refused record
    // would sit between the last two.
    assert_eq!(
        consumed.lines().collect::<Vec<_>>(),
        [
            "before any change",
            "after vc-b changed",
            "after vc-a policies changed"
        ],
        "records produced on the kept connection"
    );
}

fn apply_and_wait(env: &Env, node: &str, config: &str) {
    let version = {
        let cp = env.cp();
        cp.apply(config);
        cp.version()
    };
    wait_applied(&env.cp(), node, version, WAIT);
}

/// Kafka's verifiable producer with retries, counting acknowledgements.
struct RecoveringProducer {
    child: std::process::Child,
    acked: std::sync::mpsc::Receiver<()>,
    count: usize,
    total: usize,
    /// Holds the producer's properties file, which it reads as it starts.
    _props: TempDir,
}

impl RecoveringProducer {
    fn start(bootstrap: &str, topic: &str, total: usize) -> RecoveringProducer {
        let props_dir = temp_dir("recover");
        let props = props_dir.path().join("producer.properties");
        std::fs::write(&props, "retries=2147483647\nenable.idempotence=true\n").unwrap();
        let mut child = tool_command("kafka-verifiable-producer")
            .args(["--bootstrap-server", bootstrap, "--topic", topic])
            .args([
                "--max-messages",
                &total.to_string(),
                "--throughput",
                "500",
                "--acks",
                "-1",
            ])
            .arg("--producer.config")
            .arg(&props)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start verifiable producer");
        let stdout = child.stdout.take().expect("producer stdout");
        let (tx, acked) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("\"producer_send_success\"") {
                    let _ = tx.send(());
                }
            }
        });
        RecoveringProducer {
            child,
            acked,
            count: 0,
            total,
            _props: props_dir,
        }
    }

    fn wait_acked(&mut self, at_least: usize) {
        wait::until("acknowledged records", WAIT, || {
            self.count += self.acked.try_iter().count();
            (self.count >= at_least).then_some(())
        });
    }

    fn finish(mut self) {
        let status = self.child.wait().expect("producer exit");
        self.count += self.acked.try_iter().count();
        assert!(status.success(), "verifiable producer failed");
        assert_eq!(
            self.count, self.total,
            "the producer did not recover after its listener changed"
        );
    }
}
