//! SASL against a real Kafka whose client listener demands it
//! (`deploy/kafka-local.sh start --sasl-users`: PLAIN, SCRAM-SHA-256 and
//! SCRAM-SHA-512). First the cluster itself, with Kafka's Java tools and
//! kcat; then sluice in front of it, logging in to discover the brokers
//! with its own PLAIN credential while clients pass their logins through.

use std::path::Path;

mod support;

use std::time::Duration;

use sluice_test_support::harness::{self, TestFn};
use sluice_test_support::kafka::NODE_ID_BASE;
use sluice_test_support::kafka::{kcat_output, tool, KafkaCluster};
use sluice_test_support::ports;
use sluice_test_support::{temp_dir, TempDir};
use support::gateway::{port_mapping_config, Gateway};

const USER: &str = "alice";
const PASSWORD: &str = "alice-secret";

pub struct Env {
    cluster: KafkaCluster,
    dir: TempDir,
}

fn login_module(mechanism: &str) -> &'static str {
    match mechanism {
        "PLAIN" => "org.apache.kafka.common.security.plain.PlainLoginModule",
        _ => "org.apache.kafka.common.security.scram.ScramLoginModule",
    }
}

/// A Java client properties file logging in as `user` with `mechanism`.
fn client_properties(dir: &Path, mechanism: &str, user: &str, password: &str) -> String {
    let path = dir.join(format!("{mechanism}-{user}-{password}.properties"));
    let module = login_module(mechanism);
    let props = format!(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism={mechanism}\n\
         sasl.jaas.config={module} required username=\"{user}\" password=\"{password}\";\n"
    );
    std::fs::write(&path, props).expect("write client properties");
    path.display().to_string()
}

fn topics(env: &Env, mechanism: &str, password: &str, args: &[&str]) -> std::process::Output {
    let props = client_properties(env.dir.path(), mechanism, USER, password);
    let mut all = vec!["--bootstrap-server", env.cluster.bootstrap.as_str()];
    all.extend(["--command-config", props.as_str()]);
    all.extend(args);
    tool("kafka-topics", &all, None)
}

fn java_clients_log_in_with_every_mechanism(env: &Env) {
    for (i, mechanism) in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
        .iter()
        .enumerate()
    {
        let topic = format!("sasl-{i}");
        let created = topics(env, mechanism, PASSWORD, &["--create", "--topic", &topic]);
        assert!(created.status.success(), "{mechanism}: {created:?}");
        let refused = topics(env, mechanism, "wrong-password", &["--list"]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("SaslAuthenticationException"),
            "{mechanism} with a wrong password: {stderr}"
        );
    }
}

fn kcat_logs_in_with_plain(env: &Env) {
    kcat_round_trip(&env.cluster.bootstrap, "sasl-kcat");
}

/// kcat produces and reads back two records through `bootstrap` as alice
/// with PLAIN; a wrong password is refused.
fn kcat_round_trip(bootstrap: &str, topic: &str) {
    let auth = |password: &str| {
        let bootstrap = bootstrap.to_owned();
        vec![
            "-b".to_owned(),
            bootstrap,
            "-X".to_owned(),
            "security.protocol=SASL_PLAINTEXT".to_owned(),
            "-X".to_owned(),
            "sasl.mechanisms=PLAIN".to_owned(),
            "-X".to_owned(),
            format!("sasl.username={USER}"),
            "-X".to_owned(),
            format!("sasl.password={password}"),
        ]
    };
    let run = |password: &str, extra: &[&str], stdin: Option<&str>| {
        let mut args = auth(password);
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        kcat_output(None, &args, stdin)
    };
    let produced = run(PASSWORD, &["-P", "-t", topic], Some("one\ntwo\n"));
    assert!(produced.status.success(), "{produced:?}");
    let consumed = run(
        PASSWORD,
        &["-C", "-t", topic, "-o", "beginning", "-c", "2", "-q"],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&consumed.stdout), "one\ntwo\n");
    let refused = run("wrong-password", &["-L"], None);
    assert!(!refused.status.success(), "{refused:?}");
}

/// sluice logs in to discover the brokers (its password from the
/// environment), and a client's own PLAIN login passes through it.
fn plain_logins_pass_through_sluice(env: &Env) {
    let first = ports::free_port_block(3);
    let credential = format!(
        "    authentication: {{type: sasl_plain, username: {USER}, password: \"${{env:SLUICE_TEST_BACKEND_PASSWORD}}\"}}\n"
    );
    let config = port_mapping_config(&env.cluster.bootstrap, first, 3, NODE_ID_BASE).replacen(
        "    metadata_update_interval_seconds: 5\n",
        &format!("    metadata_update_interval_seconds: 5\n{credential}"),
        1,
    );
    let args = ["--shards", "1", "--no-pin"];
    let env_vars = [("SLUICE_TEST_BACKEND_PASSWORD", PASSWORD)];
    let gw = Gateway::spawn_env(&config, first, &args, &env_vars);
    gw.wait_log("sluice is serving", Duration::from_secs(60));
    gw.wait_log("backend brokers discovered", Duration::from_secs(60));
    kcat_round_trip(&gw.bootstrap(), "through-sluice");
    assert!(!gw.logs().contains(PASSWORD), "a password reached the log");
}

fn main() {
    let tests: &[(&str, TestFn<Env>)] = &[
        (
            "java_clients_log_in_with_every_mechanism",
            java_clients_log_in_with_every_mechanism,
        ),
        ("kcat_logs_in_with_plain", kcat_logs_in_with_plain),
        (
            "plain_logins_pass_through_sluice",
            plain_logins_pass_through_sluice,
        ),
    ];
    harness::run_with_kafka(tests, || Env {
        cluster: KafkaCluster::start_with(1, &["--sasl-users", &format!("{USER}:{PASSWORD}")]),
        dir: temp_dir("sasl"),
    });
}
