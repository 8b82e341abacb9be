//! A real Apache Kafka (KRaft) cluster on loopback, run by the project's
//! own `deploy/kafka-local.sh`, and Kafka's clients: its Java tools and
//! kcat (librdkafka).

mod availability;
mod tools;

use std::path::PathBuf;
use std::process::{Command, Stdio};

pub(crate) use availability::print_skip_notice_once;
pub use availability::{availability, Availability, REQUIRE_ENV};
pub use tools::{
    create_topic, java_consume, java_read_from_start, kafka_python_round_trip, kcat_in, kcat_ok,
    kcat_output, kcat_read_from_start, tool, tool_command, tool_ok, tool_with_jvm_opts,
};

use crate::{ports, repo_root, temp_dir, TempDir};

/// The node id of a cluster's first broker; the next ones follow it.
pub const NODE_ID_BASE: i32 = 1;

/// `deploy/kafka-local.sh`, the one place that knows how to install and
/// run Kafka.
pub fn script() -> PathBuf {
    repo_root().join("deploy/kafka-local.sh")
}

/// A running cluster; stopped, and its data removed, when dropped.
pub struct KafkaCluster {
    dir: TempDir,
    pub brokers: usize,
    pub port_base: u16,
    /// `host:port` of every broker, comma-separated.
    pub bootstrap: String,
}

impl KafkaCluster {
    pub fn start(brokers: usize) -> KafkaCluster {
        KafkaCluster::start_with(brokers, &[])
    }

    /// Starts with extra `kafka-local.sh start` flags (e.g. the --tls-* ones).
    pub fn start_with(brokers: usize, extra: &[&str]) -> KafkaCluster {
        let dir = temp_dir("kafka");
        // kafka-local.sh takes up to three blocks of `brokers` ports from
        // the base: broker listeners, controllers, and the internal
        // listeners of TLS clusters.
        let port_base = ports::free_port_block(3 * brokers as u16);
        let out = Command::new(script())
            .args(["start", "--dir"])
            .arg(dir.path())
            .args(["--brokers", &brokers.to_string()])
            .args(["--port-base", &port_base.to_string()])
            .args(["--node-id-base", &NODE_ID_BASE.to_string()])
            .args(extra)
            .stderr(Stdio::inherit())
            .output()
            .expect("run deploy/kafka-local.sh start");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let bootstrap = stdout.lines().last().unwrap_or_default().trim().to_string();
        // Built before the check so that a half-started cluster is stopped.
        let cluster = KafkaCluster {
            dir,
            brokers,
            port_base,
            bootstrap,
        };
        assert!(
            out.status.success(),
            "kafka-local.sh start failed:\n{stdout}"
        );
        cluster
    }

    /// Client ports of the brokers (the controller ports follow them).
    pub fn broker_ports(&self) -> Vec<u16> {
        (0..self.brokers as u16)
            .map(|i| self.port_base + i)
            .collect()
    }

    pub fn stop_node(&self, node: i32) {
        let status = Command::new(script())
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .args(["--node", &node.to_string()])
            .status()
            .expect("run kafka-local.sh stop");
        assert!(status.success(), "stopping node {node} failed");
    }

    /// Sends `signal` (e.g. `-STOP`, `-CONT`) to node `node`'s JVM.
    pub fn signal_node(&self, node: i32, signal: &str) {
        let pidfile = self
            .dir
            .path()
            .join(format!("node-{node}"))
            .join("kafka.pid");
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap_or_else(|e| panic!("read {}: {e}", pidfile.display()));
        let status = Command::new("kill")
            .args([signal, pid.trim()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} node {node} failed");
    }

    pub fn start_node(&self, node: i32) {
        let status = Command::new(script())
            .args(["start-node", "--dir"])
            .arg(self.dir.path())
            .args(["--node", &node.to_string()])
            .stdout(Stdio::null())
            .status()
            .expect("run kafka-local.sh start-node");
        assert!(status.success(), "restarting node {node} failed");
    }

    /// Restarts stopped node `node` listening on, and advertising, `port`:
    /// a broker that moved. `bootstrap` still names its old port, which
    /// clients skip as long as another broker there answers.
    pub fn start_node_at(&self, node: i32, port: u16) {
        let status = Command::new(script())
            .args(["start-node", "--dir"])
            .arg(self.dir.path())
            .args(["--node", &node.to_string(), "--port", &port.to_string()])
            .stdout(Stdio::null())
            .status()
            .expect("run kafka-local.sh start-node --port");
        assert!(status.success(), "moving node {node} to port {port} failed");
    }
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .status();
    }
}
