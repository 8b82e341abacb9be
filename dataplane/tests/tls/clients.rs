//! Real clients through TLS listeners: Kafka's Java tools and kcat, given
//! only a bootstrap name and the gateway's CA, produce and consume with a
//! consumer group; every virtual cluster reaches its own backend.

use std::collections::BTreeSet;
use std::path::Path;

use crate::setup::{Env, PER_CLUSTER, SHARED};
use sluice_test_support::kafka::{kcat_in, kcat_ok, tool_with_jvm_opts};
use sluice_test_support::ok_stdout;

const RECORDS: usize = 500;

fn records(prefix: &str) -> String {
    (0..RECORDS).map(|i| format!("{prefix}-{i}\n")).collect()
}

fn set_of(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A Java client properties file trusting `ca` (PEM) over TLS.
fn java_ssl_props(env: &Env, name: &str, ca: &Path) -> String {
    let path = env.dir.path().join(format!("{name}.properties"));
    let text = format!(
        "security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location={}\n",
        ca.display()
    );
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().to_string()
}

fn java_ok(env: &Env, tool: &str, args: &[&str], stdin: Option<&str>) -> String {
    let out = tool_with_jvm_opts(tool, args, stdin, &env.jvm_opts());
    ok_stdout(&format!("{tool} {args:?}"), out)
}

/// Java producer and consumer group through `bootstrap`, optionally over TLS.
pub fn java_round_trip(env: &Env, bootstrap: &str, topic: &str, props: Option<&str>) {
    let mut base = vec!["--bootstrap-server", bootstrap];
    if let Some(props) = props {
        base.extend(["--command-config", props]);
    }
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run = |tool: &str, args: Vec<String>, stdin: Option<&str>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        java_ok(env, tool, &args, stdin)
    };
    run(
        "kafka-topics",
        with(&[
            "--create",
            "--topic",
            topic,
            "--partitions",
            "3",
            "--replication-factor",
            "1",
        ]),
        None,
    );
    let values = records(&format!("java-{topic}"));
    run(
        "kafka-console-producer",
        with(&["--topic", topic]),
        Some(&values),
    );
    let group = format!("{topic}-java");
    let consumed = run(
        "kafka-console-consumer",
        with(&[
            "--topic",
            topic,
            "--group",
            &group,
            "--from-beginning",
            "--max-messages",
            "500",
            "--timeout-ms",
            "60000",
        ]),
        None,
    );
    assert_eq!(
        set_of(&consumed),
        set_of(&values),
        "Java round trip through {bootstrap}"
    );
}

/// kcat producer and balanced consumer through `bootstrap` over TLS.
pub fn kcat_round_trip(env: &Env, bootstrap: &str, topic: &str) {
    let ca = env.gateway_ca_path.to_string_lossy().to_string();
    let tls = ["-X", "security.protocol=ssl", "-X"];
    let ca_opt = format!("ssl.ca.location={ca}");
    let mut base: Vec<&str> = vec!["-b", bootstrap];
    base.extend(tls);
    base.push(&ca_opt);
    let hosts = Some(env.hosts.as_path());
    let values = records(&format!("kcat-{topic}"));
    let produce: Vec<&str> = base
        .iter()
        .copied()
        .chain(["-P", "-t", topic, "-X", "acks=all"])
        .collect();
    kcat_in(hosts, &produce, Some(&values));
    let group = format!("{topic}-kcat");
    let consume: Vec<&str> = (base.iter().copied())
        .chain([
            "-G",
            &group,
            "-X",
            "auto.offset.reset=earliest",
            "-c",
            "500",
            "-q",
            "-f",
            "%s\n",
            topic,
        ])
        .collect();
    let consumed = kcat_in(hosts, &consume, None);
    assert_eq!(
        set_of(&consumed),
        set_of(&values),
        "kcat round trip through {bootstrap}"
    );
}

/// Topics the backend itself lists (asked directly, not through sluice).
fn backend_topics(env: &Env, bootstrap: &str, tls: bool) -> BTreeSet<String> {
    let ca = format!("ssl.ca.location={}", env.kafka_ca_path.display());
    let mut args = vec!["-b", bootstrap, "-L", "-J"];
    if tls {
        args.extend(["-X", "security.protocol=ssl", "-X", &ca]);
    }
    let listing = kcat_in(None, &args, None);
    let json: serde_json::Value = serde_json::from_str(&listing).expect("kcat -L -J output");
    (json["topics"].as_array().into_iter().flatten())
        .filter_map(|t| t["topic"].as_str().map(str::to_string))
        .collect()
}

fn two_clusters_on_one_port(env: &Env, name: impl Fn(&str) -> String, tag: &str) {
    let props = java_ssl_props(env, tag, &env.gateway_ca_path);
    for label in ["vc-a", "vc-b"] {
        let bootstrap = name(label);
        java_round_trip(
            env,
            &bootstrap,
            &format!("{tag}-{label}-java"),
            Some(&props),
        );
        kcat_round_trip(env, &bootstrap, &format!("{tag}-{label}-kcat"));
    }
    let on_plain = backend_topics(env, &env.plain.bootstrap, false);
    let on_tls = backend_topics(env, &env.tls.bootstrap, true);
    for suffix in ["java", "kcat"] {
        let (a, b) = (
            format!("{tag}-vc-a-{suffix}"),
            format!("{tag}-vc-b-{suffix}"),
        );
        assert!(
            on_plain.contains(&a) && !on_tls.contains(&a),
            "{a} must be on the plaintext backend only"
        );
        assert!(
            on_tls.contains(&b) && !on_plain.contains(&b),
            "{b} must be on the TLS backend only"
        );
    }
}

pub fn sni_per_cluster(env: &Env) {
    let port = env.per_cluster_port;
    two_clusters_on_one_port(
        env,
        |label| format!("bootstrap.{label}{PER_CLUSTER}:{port}"),
        "per",
    );
}

pub fn sni_shared_suffix(env: &Env) {
    let port = env.shared_port;
    two_clusters_on_one_port(
        env,
        |label| format!("bootstrap-{label}{SHARED}:{port}"),
        "shared",
    );
}

pub fn backend_mtls(env: &Env) {
    let bootstrap = format!("127.0.0.1:{}", env.mapped_port);
    java_round_trip(env, &bootstrap, "mtls-java", None);
    let values = records("kcat-mtls");
    kcat_ok(&["-b", &bootstrap, "-P", "-t", "mtls-kcat"], Some(&values));
    let consumed = kcat_ok(
        &[
            "-b",
            &bootstrap,
            "-G",
            "mtls-kcat",
            "-X",
            "auto.offset.reset=earliest",
            "-c",
            "500",
            "-q",
            "-f",
            "%s\n",
            "mtls-kcat",
        ],
        None,
    );
    // vc-c's only backend is the mutual-TLS one: the round trips went there.
    assert_eq!(set_of(&consumed), set_of(&values));
}
