//! Produce policies enforced in front of the real cluster, as Kafka's Java
//! producer and librdkafka see them: POLICY_VIOLATION with the reason, and
//! nothing written.

use crate::clients::create_topic;
use crate::support::gateway::{port_mapping_config, Gateway};
use crate::support::http::scrape;
use crate::support::produce::produce_unacknowledged;
use crate::support::raw::RawConn;
use crate::Env;
use sluice_test_support::kafka::{
    java_read_from_start, kcat_ok, kcat_output, tool, tool_ok, NODE_ID_BASE,
};
use sluice_test_support::{ports, wait};

const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

const POLICIES: &str = "    produce_policies:
      - { type: produce_limits, config: { min_acks: all } }
      - { type: produce_limits, config: { max_batch_bytes: 20000 } }
";

fn gateway_with_policies(env: &Env) -> Gateway {
    let first = ports::free_port_block(5);
    let config = port_mapping_config(&env.cluster.bootstrap, first, 5, NODE_ID_BASE);
    let config = config.replacen(
        "    dns_label: vc\n",
        &format!("    dns_label: vc\n{POLICIES}"),
        1,
    );
    assert!(config.contains("produce_limits"), "{config}");
    let admin = ports::free_addr();
    Gateway::start(
        &config,
        first,
        &["--shards", "2", "--no-pin", "--admin-listen", &admin],
    )
}

fn java_produce(gw: &str, topic: &str, acks: &str, values: &str) -> String {
    let out = tool(
        "kafka-console-producer",
        &[
            "--bootstrap-server",
            gw,
            "--topic",
            topic,
            "--producer-property",
            &format!("acks={acks}"),
        ],
        Some(values),
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn kcat_produce(gw: &str, topic: &str, acks: &str, values: &str) -> String {
    let acks = format!("acks={acks}");
    let out = kcat_output(
        None,
        &["-b", gw, "-P", "-t", topic, "-X", &acks],
        Some(values),
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn produce_policies_refuse_with_policy_violation(env: &Env) {
    let gw = gateway_with_policies(env);
    let bootstrap = gw.bootstrap();
    let topic = "policy-guarded";
    create_topic(&bootstrap, topic);

    let output = java_produce(&bootstrap, topic, "1", "java-acks-1\n");
    assert!(output.contains("PolicyViolationException"), "{output}");
    assert!(
        output.contains("acks=1 is below the virtual cluster's min_acks all"),
        "{output}"
    );
    let output = kcat_produce(&bootstrap, topic, "1", "kcat-acks-1\n");
    assert!(output.contains("Policy violation"), "{output}");
    let large = format!("{}\n", "x".repeat(30_000));
    let output = kcat_produce(&bootstrap, topic, "all", &large);
    assert!(output.contains("Policy violation"), "{output}");

    java_produce(&bootstrap, topic, "all", "java-acks-all\n");
    kcat_ok(
        &["-b", &bootstrap, "-P", "-t", topic, "-X", "acks=all"],
        Some("kcat-acks-all\n"),
    );
    refused_acks_0_closes_its_connection(&gw, topic);
    assert_refusals_counted(&gw);
    assert_only_accepted_records_written(env, &bootstrap, topic);
}

/// acks=0 expects no answer, so the refusal closes the connection.
fn refused_acks_0_closes_its_connection(gw: &Gateway, topic: &str) {
    let mut raw = RawConn::connect(&gw.bootstrap());
    produce_unacknowledged(&mut raw, topic, "raw-acks-0");
    assert!(
        raw.closed_by_peer(),
        "acks=0 produce left the connection open"
    );
    let line = [
        "connection closed",
        "reason_code=\"policy_refused\"",
        "acks=0",
    ];
    gw.wait_log_line(&line, WAIT);
}

/// Every refusal is counted under the limit it broke (shards publish their
/// counters once a second).
fn assert_refusals_counted(gw: &Gateway) {
    wait::until("refusals counted", WAIT, || {
        let m = scrape(gw.admin());
        let refused = |limit| m.sum("sluice_policy_refusals_total", &[("limit", limit)]);
        (refused("min_acks") >= 3.0 && refused("max_batch_bytes") >= 1.0).then_some(())
    });
}

/// The two accepted records are there, and nothing refused was written:
/// the end offsets add up to two.
fn assert_only_accepted_records_written(env: &Env, bootstrap: &str, topic: &str) {
    let consumed = java_read_from_start(bootstrap, topic, 2);
    let mut got: Vec<&str> = consumed.lines().collect();
    got.sort_unstable();
    assert_eq!(got, ["java-acks-all", "kcat-acks-all"]);
    let args = [
        "--bootstrap-server",
        &env.cluster.bootstrap,
        "--topic",
        topic,
    ];
    let offsets = tool_ok("kafka-get-offsets", &args, None);
    let total: i64 = (offsets.lines())
        .filter_map(|l| l.rsplit(':').next()?.trim().parse::<i64>().ok())
        .sum();
    assert_eq!(total, 2, "{offsets}");
}
