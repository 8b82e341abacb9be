//! The SASL cluster that authentication tests run against:
//! `deploy/kafka-local.sh start --sasl-users` serves PLAIN, SCRAM-SHA-256
//! and SCRAM-SHA-512 on its client listener, each knowing the given users.
//! Checked here with Kafka's own Java tools and kcat, straight to Kafka.

use std::path::Path;

use sluice_test_support::harness::{self, TestFn};
use sluice_test_support::kafka::{kcat_output, tool, KafkaCluster};
use sluice_test_support::{temp_dir, TempDir};

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
    let auth = |password: &str| {
        let bootstrap = env.cluster.bootstrap.clone();
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
    let produced = run(PASSWORD, &["-P", "-t", "sasl-kcat"], Some("one\ntwo\n"));
    assert!(produced.status.success(), "{produced:?}");
    let consumed = run(
        PASSWORD,
        &["-C", "-t", "sasl-kcat", "-o", "beginning", "-c", "2", "-q"],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&consumed.stdout), "one\ntwo\n");
    let refused = run("wrong-password", &["-L"], None);
    assert!(!refused.status.success(), "{refused:?}");
}

fn main() {
    let tests: &[(&str, TestFn<Env>)] = &[
        (
            "java_clients_log_in_with_every_mechanism",
            java_clients_log_in_with_every_mechanism,
        ),
        ("kcat_logs_in_with_plain", kcat_logs_in_with_plain),
    ];
    harness::run_with_kafka(tests, || Env {
        cluster: KafkaCluster::start_with(1, &["--sasl-users", &format!("{USER}:{PASSWORD}")]),
        dir: temp_dir("sasl"),
    });
}
