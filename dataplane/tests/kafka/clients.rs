//! Produce, consume and consumer groups through the gateway with Kafka's Java
//! console tools and with kcat (librdkafka).

use std::collections::BTreeSet;

use crate::Env;
use sluice_test_support::kafka::{self, kcat_ok, tool_ok};

const RECORDS: usize = 10_000;
const MORE: usize = 100;

fn lines(prefix: &str, range: std::ops::Range<usize>) -> String {
    range.map(|i| format!("{prefix}-{i}\n")).collect()
}

fn set_of(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// A topic spread over every broker of the 3-broker cluster.
pub fn create_topic(gw: &str, topic: &str) {
    kafka::create_topic(gw, topic, 6, 3);
}

/// Sum of the committed offsets of `group` on `topic`, read through the gateway.
pub fn committed_total(gw: &str, group: &str, topic: &str) -> i64 {
    let out = tool_ok(
        "kafka-consumer-groups",
        &["--bootstrap-server", gw, "--describe", "--group", group],
        None,
    );
    out.lines()
        .filter(|l| l.split_whitespace().nth(1) == Some(topic))
        .filter_map(|l| l.split_whitespace().nth(3)?.parse::<i64>().ok())
        .sum()
}

pub fn java_round_trip(env: &Env) {
    let gw = env.gateway.bootstrap();
    let topic = "java-round-trip";
    create_topic(&gw, topic);
    let producer = [
        "--bootstrap-server",
        &gw,
        "--topic",
        topic,
        "--producer-property",
        "acks=all",
    ];
    tool_ok(
        "kafka-console-producer",
        &producer,
        Some(&lines("java", 0..RECORDS)),
    );

    let consumed = kafka::java_consume(&gw, topic, Some("java-group"), RECORDS);
    assert_eq!(
        set_of(&consumed),
        set_of(&lines("java", 0..RECORDS)),
        "first consumer did not get every record"
    );
    assert_eq!(
        committed_total(&gw, "java-group", topic),
        RECORDS as i64,
        "offsets not committed"
    );

    // A second consumer of the group starts after the committed offsets.
    tool_ok(
        "kafka-console-producer",
        &producer,
        Some(&lines("java", RECORDS..RECORDS + MORE)),
    );
    let resumed = kafka::java_consume(&gw, topic, Some("java-group"), MORE);
    assert_eq!(
        set_of(&resumed),
        set_of(&lines("java", RECORDS..RECORDS + MORE))
    );
}

fn kcat_consume(gw: &str, topic: &str, group: &str, count: usize) -> String {
    let count = count.to_string();
    kcat_ok(
        &[
            "-b",
            gw,
            "-G",
            group,
            "-X",
            "auto.offset.reset=earliest",
            "-c",
            &count,
            "-f",
            "%s\n",
            "-q",
            topic,
        ],
        None,
    )
}

pub fn kcat_round_trip(env: &Env) {
    let gw = env.gateway.bootstrap();
    let topic = "kcat-round-trip";
    create_topic(&gw, topic);
    let produce = ["-b", gw.as_str(), "-P", "-t", topic, "-X", "acks=all"];
    kcat_ok(&produce, Some(&lines("kcat", 0..RECORDS)));

    let consumed = kcat_consume(&gw, topic, "kcat-group", RECORDS);
    assert_eq!(
        set_of(&consumed),
        set_of(&lines("kcat", 0..RECORDS)),
        "kcat consumer did not get every record"
    );
    assert_eq!(
        committed_total(&gw, "kcat-group", topic),
        RECORDS as i64,
        "kcat offsets not committed"
    );

    kcat_ok(&produce, Some(&lines("kcat", RECORDS..RECORDS + MORE)));
    let resumed = kcat_consume(&gw, topic, "kcat-group", MORE);
    assert_eq!(
        set_of(&resumed),
        set_of(&lines("kcat", RECORDS..RECORDS + MORE))
    );
}
