//! Kafka's own clients: the Java CLI tools shipped with Kafka (run through
//! `kafka-local.sh tool`) and kcat (librdkafka).

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use super::script;
use crate::ok_stdout;

/// How long kcat may run: it has no overall deadline of its own, and a
/// hang must fail the test rather than stall the run.
const KCAT_TIMEOUT_SECONDS: &str = "180";

/// `kafka-local.sh tool NAME`, for a caller that wants to read a
/// long-running tool's output as it comes.
pub fn tool_command(name: &str) -> Command {
    let mut command = Command::new(script());
    command.arg("tool").arg(name);
    command
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
    let mut command = tool_command(name);
    command.env("SLUICE_KAFKA_TOOL_OPTS", jvm_opts).args(args);
    run_fed(&mut command, stdin, "kafka tool")
}

/// A tool that must succeed; returns its stdout.
pub fn tool_ok(name: &str, args: &[&str], stdin: Option<&str>) -> String {
    ok_stdout(&format!("{name} {args:?}"), tool(name, args, stdin))
}

/// Creates `topic` with `kafka-topics` through `bootstrap`.
pub fn create_topic(bootstrap: &str, topic: &str, partitions: u32, replication: u16) {
    let partitions = partitions.to_string();
    let replication = replication.to_string();
    let args = [
        "--bootstrap-server",
        bootstrap,
        "--create",
        "--topic",
        topic,
        "--partitions",
        &partitions,
        "--replication-factor",
        &replication,
    ];
    tool_ok("kafka-topics", &args, None);
}

/// `count` records of `topic` (values, one per line) read by Kafka's
/// console consumer: as a member of `group`, from its committed offsets
/// (the beginning for a new group), or without a group from the beginning.
pub fn java_consume(bootstrap: &str, topic: &str, group: Option<&str>, count: usize) -> String {
    let count = count.to_string();
    let mut args = vec!["--bootstrap-server", bootstrap, "--topic", topic];
    if let Some(group) = group {
        args.extend(["--group", group]);
    }
    args.extend(["--from-beginning", "--max-messages", &count]);
    args.extend(["--timeout-ms", "90000"]);
    tool_ok("kafka-console-consumer", &args, None)
}

/// The first `count` records of `topic`, read without a group.
pub fn java_read_from_start(bootstrap: &str, topic: &str, count: usize) -> String {
    java_consume(bootstrap, topic, None, count)
}

/// Runs kcat, which must succeed; returns its stdout.
pub fn kcat_ok(args: &[&str], stdin: Option<&str>) -> String {
    kcat_in(None, args, stdin)
}

/// Runs kcat, with `hosts` (if given) as its /etc/hosts: a private mount
/// namespace, so test names resolve to loopback without touching the system's
/// files.
pub fn kcat_in(hosts: Option<&Path>, args: &[&str], stdin: Option<&str>) -> String {
    ok_stdout(&format!("kcat {args:?}"), kcat_output(hosts, args, stdin))
}

/// Runs kcat to completion, whatever its exit status (see [`kcat_in`]).
pub fn kcat_output(hosts: Option<&Path>, args: &[&str], stdin: Option<&str>) -> Output {
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
    command.args([KCAT_TIMEOUT_SECONDS, "kcat"]).args(args);
    run_fed(
        &mut command,
        stdin,
        "kcat (installed by deploy/kafka-local.sh install)",
    )
}

/// The same as [`java_read_from_start`] with kcat, also without a group.
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

/// Runs `command` to completion with `stdin` as its input.
fn run_fed(command: &mut Command, stdin: Option<&str>, what: &str) -> Output {
    let input = if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = command
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    feed(&mut child, stdin);
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait for {what}: {e}"))
}

fn feed(child: &mut Child, stdin: Option<&str>) {
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let text = text.to_string();
        // A writer thread, so a tool that fills its stdout pipe cannot deadlock us.
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
}

/// A produce and read-back round trip of `count` records with kafka-python
/// (`deploy/clients/kafka_python_roundtrip.py`, run by kafka-local.sh with
/// the client it installs), optionally logging in as
/// `(mechanism, user, password)`, or `("OAUTHBEARER", token_file, _)`. The
/// values read back on success.
pub fn kafka_python_round_trip(
    bootstrap: &str,
    topic: &str,
    count: usize,
    login: Option<(&str, &str, &str)>,
) -> Result<String, String> {
    let script = crate::repo_root().join("deploy/clients/kafka_python_roundtrip.py");
    let mut command = Command::new(super::script());
    command.arg("python").arg(script);
    command.args(["--bootstrap", bootstrap, "--topic", topic]);
    command.args(["--count", &count.to_string()]);
    match login {
        Some(("OAUTHBEARER", token_file, _)) => {
            command.args(["--mechanism", "OAUTHBEARER", "--token-file", token_file]);
        }
        Some((mechanism, user, password)) => {
            let login = ["--mechanism", mechanism, "--username", user];
            command.args(login).args(["--password", password]);
        }
        None => {}
    }
    let out = command.output().expect("run kafka-local.sh python");
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}
