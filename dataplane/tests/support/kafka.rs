//! A real Apache Kafka (KRaft) cluster on loopback, run by the project's own
//! deploy/kafka-local.sh, and Kafka's CLI tools and kcat.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use super::{ports, repo_root, TempDir};

pub const NODE_ID_BASE: i32 = 1;

pub struct KafkaCluster {
    dir: TempDir,
    pub brokers: usize,
    pub port_base: u16,
    pub bootstrap: String,
}

fn script() -> PathBuf {
    repo_root().join("deploy/kafka-local.sh")
}

impl KafkaCluster {
    pub fn start(brokers: usize) -> KafkaCluster {
        KafkaCluster::start_with(brokers, &[])
    }

    /// Starts with extra `kafka-local.sh start` flags (e.g. the --tls-* ones).
    pub fn start_with(brokers: usize, extra: &[&str]) -> KafkaCluster {
        let dir = TempDir::new("kafka");
        let port_base = ports::free_port_block(2 * brokers as u16);
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
        let cluster = KafkaCluster {
            dir,
            brokers,
            port_base,
            bootstrap,
        };
        assert!(out.status.success(), "kafka-local.sh start failed");
        cluster
    }

    /// Backend ports of the brokers (the controller ports follow them).
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
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", "--dir"])
            .arg(self.dir.path())
            .status();
    }
}

/// Runs a Kafka CLI tool to completion, feeding `stdin`.
pub fn tool(name: &str, args: &[&str], stdin: Option<&str>) -> Output {
    tool_with_jvm_opts(name, args, stdin, "")
}

/// As [`tool`], with extra JVM options (e.g. `-Djdk.net.hosts.file=...`).
pub fn tool_with_jvm_opts(
    name: &str,
    args: &[&str],
    stdin: Option<&str>,
    jvm_opts: &str,
) -> Output {
    let mut child = Command::new(script())
        .env("SLUICE_KAFKA_TOOL_OPTS", jvm_opts)
        .arg("tool")
        .arg(name)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kafka tool");
    feed(&mut child, stdin);
    child.wait_with_output().expect("wait for kafka tool")
}

/// A tool that must succeed; returns its stdout.
pub fn tool_ok(name: &str, args: &[&str], stdin: Option<&str>) -> String {
    let out = tool(name, args, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

pub fn kcat_ok(args: &[&str], stdin: Option<&str>) -> String {
    kcat_in(None, args, stdin)
}

/// Runs kcat, with `hosts` (if given) as its /etc/hosts: a private mount
/// namespace, so test names resolve to loopback without touching the system's
/// files.
pub fn kcat_in(hosts: Option<&std::path::Path>, args: &[&str], stdin: Option<&str>) -> String {
    let out = kcat_output(hosts, args, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kcat {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// Runs kcat to completion, whatever its exit status (see [`kcat_in`]).
pub fn kcat_output(hosts: Option<&std::path::Path>, args: &[&str], stdin: Option<&str>) -> Output {
    // kcat has no overall deadline of its own; a hang must fail the test.
    let mut command = match hosts {
        None => Command::new("timeout"),
        Some(hosts) => {
            let mut c = Command::new("unshare");
            c.args([
                "-m",
                "sh",
                "-c",
                "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
            ]);
            c.arg(hosts).arg("timeout");
            c
        }
    };
    let mut child = command
        .args(["180", "kcat"])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kcat (installed by deploy/kafka-local.sh install)");
    feed(&mut child, stdin);
    child.wait_with_output().expect("wait for kcat")
}

fn feed(child: &mut std::process::Child, stdin: Option<&str>) {
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let text = text.to_string();
        // A writer thread, so a tool that fills its stdout pipe cannot deadlock us.
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
}

/// The first `count` records of `topic` (values, one per line), read from
/// the beginning by Kafka's console consumer without a group.
pub fn java_read_from_start(bootstrap: &str, topic: &str, count: usize) -> String {
    let count = count.to_string();
    let args = [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--from-beginning",
        "--max-messages",
        &count,
        "--timeout-ms",
        "90000",
    ];
    tool_ok("kafka-console-consumer", &args, None)
}

/// The same with kcat (librdkafka), also without a group.
pub fn kcat_read_from_start(bootstrap: &str, topic: &str, count: usize) -> String {
    let count = count.to_string();
    let args = [
        "-b",
        bootstrap,
        "-C",
        "-t",
        topic,
        "-o",
        "beginning",
        "-c",
        &count,
        "-q",
        "-f",
        "%s\n",
    ];
    kcat_ok(&args, None)
}
