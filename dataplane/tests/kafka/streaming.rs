//! Large Fetch responses forwarded while they arrive (cut-through), read by
//! the Java consumer and by kcat: every record arrives intact.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::clients::create_topic;
use crate::support::gateway::Gateway;
use crate::Env;
use sluice_test_support::kafka::{
    java_read_from_start, kcat_ok, kcat_read_from_start, NODE_ID_BASE,
};

const RECORDS: usize = 3000;

/// Distinct 2 KiB values, so a byte out of place changes the set.
fn values() -> String {
    (0..RECORDS)
        .map(|i| format!("{i:05}-{}\n", format!("{:x}", i * 7919).repeat(2048 / 8)))
        .collect()
}

fn set_of(text: &str) -> BTreeSet<&str> {
    text.lines().filter(|l| !l.is_empty()).collect()
}

pub fn large_fetch_responses_pass_while_arriving(env: &Env) {
    let args = ["--shards", "2", "--no-pin", "--cut-through-bytes", "4096"];
    let gw = Gateway::start_port_mapping(&env.cluster.bootstrap, 3, NODE_ID_BASE, &args);
    let bootstrap = gw.bootstrap();
    let topic = "cut-through";
    create_topic(&bootstrap, topic);
    let values = values();
    kcat_ok(
        &[
            "-b",
            &env.cluster.bootstrap,
            "-P",
            "-t",
            topic,
            "-X",
            "acks=all",
        ],
        Some(&values),
    );

    let java = java_read_from_start(&bootstrap, topic, RECORDS);
    assert!(
        set_of(&java) == set_of(&values),
        "Java consumer got other records"
    );
    let kcat = kcat_read_from_start(&bootstrap, topic, RECORDS);
    assert!(set_of(&kcat) == set_of(&values), "kcat got other records");
    // Fetch v16+ (Kafka 4 clients) is walked as it passes, for KIP-951.
    gw.wait_log_line(
        &[
            "large response forwarded while it arrived",
            "api_key=1",
            "api_version=1",
        ],
        Duration::from_secs(10),
    );
}
