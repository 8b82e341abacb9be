//! A broker that comes back at another address. The first Metadata
//! response a client gets through sluice names the broker there, and sluice
//! refreshes its own view from that response instead of waiting for its
//! next metadata interval (an hour here) or for a connect to fail.
//!
//! Runs last: the cluster's bootstrap list keeps naming the old port.

use std::time::Duration;

use crate::support::gateway::{port_mapping_config, Gateway};
use crate::Env;
use sluice_test_support::kafka::{kcat_output, kcat_read_from_start, tool_ok, NODE_ID_BASE};
use sluice_test_support::{ports, wait};

const TOPIC: &str = "moved-broker";
const NOTICED: &str = "a Metadata response names a broker sluice has no such address for";

/// One record, acknowledged by every replica, through `bootstrap`.
fn produced(bootstrap: &str, value: &str) -> bool {
    let args = [
        "-P",
        "-b",
        bootstrap,
        "-t",
        TOPIC,
        "-X",
        "acks=all",
        "-X",
        "message.timeout.ms=10000",
    ];
    kcat_output(None, &args, Some(value)).status.success()
}

pub fn a_moved_broker_is_found_through_metadata(env: &Env) {
    let victim = NODE_ID_BASE + 2;
    // Its only partition lives on the victim alone: a record reaches the
    // moved broker or nothing.
    let create = [
        "--bootstrap-server",
        &env.cluster.bootstrap,
        "--create",
        "--topic",
        TOPIC,
        "--replica-assignment",
        &victim.to_string(),
    ];
    tool_ok("kafka-topics", &create, None);
    let count = 3 + 2;
    let first = ports::free_port_block(count);
    // sluice bootstraps from the brokers that stay: a failed connect to the
    // victim's old port would make it refresh before any client asks.
    let stay: Vec<&str> = env.cluster.bootstrap.split(',').take(2).collect();
    let config = port_mapping_config(&stay.join(","), first, count, NODE_ID_BASE).replace(
        "metadata_update_interval_seconds: 5",
        "metadata_update_interval_seconds: 3600",
    );
    let gw = Gateway::start(&config, first, &["--shards", "1", "--no-pin"]);
    let bootstrap = gw.bootstrap();
    assert!(produced(&bootstrap, "before"), "produce before the move");

    env.cluster.stop_node(victim);
    env.cluster.start_node_at(victim, ports::free_port());
    wait::until(
        "a record to reach the moved broker through sluice",
        Duration::from_secs(120),
        || produced(&bootstrap, "after").then_some(()),
    );
    assert!(
        gw.logs().contains(NOTICED),
        "sluice did not learn of the move from a Metadata response:\n{}",
        gw.logs()
    );
    let records = kcat_read_from_start(&bootstrap, TOPIC, 2);
    let records: Vec<&str> = records.lines().collect();
    assert_eq!(records, ["before", "after"]);
}
