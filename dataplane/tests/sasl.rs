//! SASL against a real Kafka whose client listener demands it
//! (`deploy/kafka-local.sh start --sasl-users`: PLAIN, SCRAM-SHA-256 and
//! SCRAM-SHA-512). First the cluster itself, with Kafka's Java tools and
//! kcat; then sluice in front of it, logging in with its own credential:
//! clients' logins passed through to the broker, clients' logins checked by
//! sluice, sessions, and what failing clients can do. Clients are Kafka's
//! Java tools, kcat (librdkafka) and kafka-python.

use std::path::Path;

#[path = "sasl/abuse.rs"]
mod abuse;
#[path = "sasl/oauth.rs"]
mod oauth;
#[path = "sasl/reauth.rs"]
mod reauth;
mod support;

use std::time::Duration;

use cp_sync::scram::{ScramAlgorithm, ScramVerifier};
use sluice_test_support::harness::{self, TestFn};
use sluice_test_support::kafka::NODE_ID_BASE;
use sluice_test_support::kafka::{
    kafka_python_round_trip, kcat_output, tool, tool_with_jvm_opts, KafkaCluster,
};
use sluice_test_support::ports;
use sluice_test_support::{temp_dir, TempDir};
use support::gateway::{port_mapping_config, Gateway};
use support::http::scrape;

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
    let login = (mechanism, USER, password);
    topics_at(env, &env.cluster.bootstrap, login, args)
}

/// kafka-topics through `bootstrap`, logged in as `(mechanism, user, password)`.
fn topics_at(
    env: &Env,
    bootstrap: &str,
    (mechanism, user, password): (&str, &str, &str),
    args: &[&str],
) -> std::process::Output {
    let props = client_properties(env.dir.path(), mechanism, user, password);
    let mut all = vec!["--bootstrap-server", bootstrap];
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
    kcat_round_trip(&env.cluster.bootstrap, "sasl-kcat", USER, PASSWORD);
}

/// kcat produces and reads back two records through `bootstrap` as `user`
/// with PLAIN; a wrong password is refused.
fn kcat_round_trip(bootstrap: &str, topic: &str, user: &str, password: &str) {
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
            format!("sasl.username={user}"),
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
    let produced = run(password, &["-P", "-t", topic], Some("one\ntwo\n"));
    assert!(produced.status.success(), "{produced:?}");
    let consumed = run(
        password,
        &["-C", "-t", topic, "-o", "beginning", "-c", "2", "-q"],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&consumed.stdout), "one\ntwo\n");
    let refused = run("wrong-password", &["-L"], None);
    assert!(!refused.status.success(), "{refused:?}");
}

/// A gateway in front of the SASL cluster: it logs in with `backend` (its
/// password from the environment) and its clients with `schemes`.
fn gateway(env: &Env, backend: &str, schemes: &str, vars: &[(&str, &str)]) -> Gateway {
    gateway_with(env, backend, schemes, vars, &[])
}

fn gateway_with(
    env: &Env,
    backend: &str,
    schemes: &str,
    vars: &[(&str, &str)],
    extra_args: &[&str],
) -> Gateway {
    let first = ports::free_port_block(3);
    let credential = format!(
        "    authentication: {{type: {backend}, username: {USER}, password: \"${{env:SLUICE_TEST_BACKEND_PASSWORD}}\"}}\n"
    );
    let config = port_mapping_config(&env.cluster.bootstrap, first, 3, NODE_ID_BASE)
        .replacen(
            "    metadata_update_interval_seconds: 5\n",
            &format!("    metadata_update_interval_seconds: 5\n{credential}"),
            1,
        )
        .replacen(
            "    destination: { name: kafka }\n",
            &format!("    destination: {{ name: kafka }}\n    authentication:\n{schemes}"),
            1,
        );
    let mut args = vec!["--shards", "1", "--no-pin"];
    args.extend_from_slice(extra_args);
    let mut all_vars = vec![("SLUICE_TEST_BACKEND_PASSWORD", PASSWORD)];
    all_vars.extend_from_slice(vars);
    let gw = Gateway::spawn_env(&config, first, &args, &all_vars);
    gw.wait_log("sluice is serving", Duration::from_secs(60));
    gw.wait_log("backend brokers discovered", Duration::from_secs(60));
    gw
}

/// sluice logs in to discover the brokers, and a client's own PLAIN login
/// passes through it to the broker.
fn logins_pass_through_sluice(env: &Env) {
    let schemes = "      - {type: sasl_plain, mediation: passthrough}\n      \
                   - {type: sasl_scram, algorithm: sha512, mediation: passthrough}\n";
    let gw = gateway(env, "sasl_plain", schemes, &[]);
    let bootstrap = gw.bootstrap();
    let refused = topics_at(
        env,
        &bootstrap,
        ("SCRAM-SHA-256", USER, PASSWORD),
        &["--list"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    let offered =
        "'SCRAM-SHA-256' not enabled in the server, enabled mechanisms are [PLAIN, SCRAM-SHA-512]";
    assert!(
        stderr.contains(offered),
        "a mechanism not offered: {stderr}"
    );
    kcat_round_trip(&bootstrap, "through-sluice", USER, PASSWORD);
    for mechanism in ["PLAIN", "SCRAM-SHA-512"] {
        let topic = format!("passthrough-{}", mechanism.to_lowercase());
        java_round_trip(
            env,
            &bootstrap,
            &format!("{topic}-java"),
            (mechanism, USER, PASSWORD),
        );
        let login = Some((mechanism, USER, PASSWORD));
        let read = kafka_python_round_trip(&bootstrap, &format!("{topic}-py"), 3, login);
        assert_eq!(
            read.as_deref(),
            Ok("kp-0\nkp-1\nkp-2\n"),
            "kafka-python {mechanism}"
        );
        // The broker refuses a wrong password, and its message reaches
        // the client through sluice.
        let wrong = (mechanism, USER, "wrong-password");
        let refused = topics_at(env, &bootstrap, wrong, &["--list"]);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("Authentication failed"),
            "{mechanism}: {stderr}"
        );
        let topic = format!("{topic}-no");
        let refused = kafka_python_round_trip(&bootstrap, &topic, 1, Some(wrong));
        assert!(
            refused.is_err(),
            "kafka-python logged in with a wrong password"
        );
    }
    let log = gw.logs();
    assert!(!log.contains(PASSWORD), "a password reached the log");
    assert!(log.contains(&format!("principal=\"{USER}\"")), "{log}");
}

/// Kafka's Java console producer and consumer through `bootstrap`, logged
/// in as `(mechanism, user, password)`.
fn java_round_trip(env: &Env, bootstrap: &str, topic: &str, login: (&str, &str, &str)) {
    let (mechanism, user, password) = login;
    let props = client_properties(env.dir.path(), mechanism, user, password);
    java_round_trip_with(bootstrap, topic, &props, "");
}

/// Kafka's Java console producer, then consumer, of two records through
/// `bootstrap` with the client properties file `props` and `jvm` options.
fn java_round_trip_with(bootstrap: &str, topic: &str, props: &str, jvm: &str) {
    let common = [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        "--command-config",
        props,
    ];
    let produced = tool_with_jvm_opts("kafka-console-producer", &common, Some("j1\nj2\n"), jvm);
    assert!(produced.status.success(), "{props}: produce: {produced:?}");
    let mut args = common.to_vec();
    args.extend([
        "--from-beginning",
        "--max-messages",
        "2",
        "--timeout-ms",
        "60000",
    ]);
    let consumed = tool_with_jvm_opts("kafka-console-consumer", &args, None, jvm);
    assert_eq!(
        String::from_utf8_lossy(&consumed.stdout),
        "j1\nj2\n",
        "{props}: {consumed:?}"
    );
}

const DAVE_PASSWORD: &str = "dave-secret";
const ERIN_PASSWORD: &str = "erin-secret";

/// Terminating schemes: dave (PLAIN) and erin (SCRAM-SHA-512) are known to
/// sluice only, erin by a verifier.
fn terminating_schemes() -> String {
    let verifier =
        ScramVerifier::generate(ScramAlgorithm::Sha512, ERIN_PASSWORD, 4096).expect("a verifier");
    let fields: String = (verifier.to_yaml().lines())
        .map(|line| format!("            {line}\n"))
        .collect();
    format!(
        "      - type: sasl_plain\n        mediation: terminate\n        \
         principals: [{{username: dave, password: \"${{env:SLUICE_TEST_DAVE_PASSWORD}}\"}}]\n\
         \x20     - type: sasl_scram\n        algorithm: sha512\n        mediation: terminate\n\
         \x20       principals:\n          - username: erin\n{fields}"
    )
}

/// Clients log in to sluice as users the broker does not know; sluice
/// checks them itself and logs in to Kafka as alice, with SCRAM.
fn terminated_logins_are_checked_by_sluice(env: &Env) {
    let vars = [("SLUICE_TEST_DAVE_PASSWORD", DAVE_PASSWORD)];
    let admin = format!("127.0.0.1:{}", ports::free_port());
    let args = ["--admin-listen", admin.as_str()];
    let backend = "sasl_scram, algorithm: sha512";
    let gw = gateway_with(env, backend, &terminating_schemes(), &vars, &args);
    let bootstrap = gw.bootstrap();
    // A client that fails to log in costs the backend no connection.
    for _ in 0..3 {
        assert!(!kcat_list(&bootstrap, "dave", "wrong-password")
            .status
            .success());
    }
    let metrics = scrape(&admin);
    let opened = metrics.sum("sluice_backend_connections_opened_total", &[]);
    assert_eq!(
        opened, 0.0,
        "upstream connections for clients that never logged in"
    );
    let failed = [("mechanism", "PLAIN"), ("result", "failed")];
    assert!(metrics.sum("sluice_authentications_total", &failed) >= 3.0);
    kcat_round_trip(&bootstrap, "terminated", "dave", DAVE_PASSWORD);
    // The broker itself does not know dave: sluice used its own credential.
    let direct = kcat_list(&env.cluster.bootstrap, "dave", DAVE_PASSWORD);
    assert!(
        !direct.status.success(),
        "the broker knows dave: {direct:?}"
    );
    let erin = ("SCRAM-SHA-512", "erin", ERIN_PASSWORD);
    java_round_trip(env, &bootstrap, "terminated-java", erin);
    for (mechanism, user, password) in [("PLAIN", "dave", DAVE_PASSWORD), erin] {
        let topic = format!("terminated-py-{user}");
        let read =
            kafka_python_round_trip(&bootstrap, &topic, 3, Some((mechanism, user, password)));
        assert_eq!(
            read.as_deref(),
            Ok("kp-0\nkp-1\nkp-2\n"),
            "kafka-python as {user}"
        );
    }
    let listed = topics_at(env, &bootstrap, erin, &["--list"]);
    assert!(listed.status.success(), "erin with SCRAM: {listed:?}");
    assert!(String::from_utf8_lossy(&listed.stdout).contains("terminated"));
    let wrong = ("SCRAM-SHA-512", "erin", "wrong-password");
    let refused = topics_at(env, &bootstrap, wrong, &["--list"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("SaslAuthenticationException"), "{stderr}");
    let log = gw.logs();
    for secret in [PASSWORD, DAVE_PASSWORD, ERIN_PASSWORD, "wrong-password"] {
        assert!(!log.contains(secret), "{secret} reached the log");
    }
    assert!(log.contains("principal=\"dave\"") && log.contains("principal=\"erin\""));
    assert!(
        log.contains("reason_code=\"authentication_failed\""),
        "{log}"
    );

    let metrics = scrape(&admin);
    for mechanism in ["PLAIN", "SCRAM-SHA-512"] {
        let ok = [("mechanism", mechanism), ("result", "ok")];
        assert!(
            metrics.sum("sluice_authentications_total", &ok) >= 1.0,
            "{mechanism}"
        );
    }
}

fn main() {
    let tests: &[(&str, TestFn<Env>)] = &[
        (
            "java_clients_log_in_with_every_mechanism",
            java_clients_log_in_with_every_mechanism,
        ),
        ("kcat_logs_in_with_plain", kcat_logs_in_with_plain),
        ("logins_pass_through_sluice", logins_pass_through_sluice),
        (
            "terminated_logins_are_checked_by_sluice",
            terminated_logins_are_checked_by_sluice,
        ),
        (
            "logins_that_fail_are_contained",
            abuse::logins_that_fail_are_contained,
        ),
        (
            "oauth_tokens_are_checked_by_sluice",
            oauth::tokens_are_checked_by_sluice,
        ),
        (
            "sessions_end_unless_the_client_logs_in_again",
            reauth::sessions_end_unless_the_client_logs_in_again,
        ),
    ];
    harness::run_with_kafka(tests, || Env {
        cluster: KafkaCluster::start_with(1, &["--sasl-users", &format!("{USER}:{PASSWORD}")]),
        dir: temp_dir("sasl"),
    });
}

/// kcat's metadata listing through `bootstrap` as `user` with PLAIN.
fn kcat_list(bootstrap: &str, user: &str, password: &str) -> std::process::Output {
    let user = format!("sasl.username={user}");
    let password = format!("sasl.password={password}");
    let args = [
        "-L",
        "-b",
        bootstrap,
        "-X",
        "security.protocol=SASL_PLAINTEXT",
        "-X",
        "sasl.mechanisms=PLAIN",
        "-X",
        &user,
        "-X",
        &password,
    ];
    kcat_output(None, &args, None)
}
