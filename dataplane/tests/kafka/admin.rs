//! Topic administration through the gateway with Kafka's own kafka-topics.

use crate::Env;
use sluice_test_support::kafka::tool_ok;

pub fn topic_lifecycle(env: &Env) {
    let gw = env.gateway.bootstrap();
    let topic = "admin-lifecycle";
    let base = ["--bootstrap-server", gw.as_str()];
    let topics = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        tool_ok("kafka-topics", &args, None)
    };
    topics(&[
        "--create",
        "--topic",
        topic,
        "--partitions",
        "4",
        "--replication-factor",
        "3",
    ]);

    let listed = topics(&["--list"]);
    assert!(
        listed.lines().any(|l| l.trim() == topic),
        "created topic not listed:\n{listed}"
    );

    let described = topics(&["--describe", "--topic", topic]);
    assert!(described.contains("PartitionCount: 4"), "{described}");
    assert!(described.contains("ReplicationFactor: 3"), "{described}");
    let partitions = described
        .lines()
        .filter(|l| l.contains("Partition:") && l.contains("Leader:"))
        .count();
    assert_eq!(partitions, 4, "{described}");

    topics(&["--delete", "--topic", topic]);
    sluice_test_support::wait::until(
        "the deleted topic to disappear from --list",
        std::time::Duration::from_secs(60),
        || {
            let listed = topics(&["--list"]);
            (!listed.lines().any(|l| l.trim() == topic)).then_some(())
        },
    );
}
