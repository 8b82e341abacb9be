//! A reload that changes only a listener's `limits` closes none of its
//! connections; the new limits apply to the connections that come next.

use sluice_test_support::ports;
use support_config::two_listeners;

use crate::support::gateway::Gateway;
use crate::{assert_ends, assert_open, assert_refused, connect_admitted, connect_from, connect_to};
use crate::{peer, wait_admitted, WAIT};

mod support_config {
    /// Listener `plain` (with `limits`) from `plain`, listener `other`
    /// (none) from `other`, four ports each, in front of nothing.
    pub fn two_listeners(plain: u16, other: u16, limits: &str) -> String {
        let listener = |name: &str, first: u16, limits: &str| {
            format!(
                "  - name: {name}\n    addresses: [\"127.0.0.1\"]\n    ports: [\"{first}-{}\"]\n    \
                 policies:\n      - type: forward_to_virtual_cluster\n        config: {{ type: \
                 port_mapping, destination: {{ name: vc }}, advertised_host: 127.0.0.1 }}\n{limits}",
                first + 3
            )
        };
        format!(
            "backend_clusters:\n  - {{ name: kafka, bootstrap_servers: [\"{}\"] }}\n\
             virtual_clusters:\n  - {{ name: vc, dns_label: vc, destination: {{ name: kafka }} }}\n\
             listeners:\n{}{}",
            crate::NO_BACKEND,
            listener("plain", plain, &format!("    limits: {limits}\n")),
            listener("other", other, ""),
        )
    }
}

#[test]
fn changing_limits_on_reload_keeps_open_connections() {
    let (plain, other) = (ports::free_port_block(4), ports::free_port_block(4));
    let config = two_listeners(plain, other, "{max_connections: 1, idle_timeout_ms: 60000}");
    // One shard: the reload reaches both connections in one step.
    let gateway = Gateway::start(&config, plain, &["--shards", "1", "--no-pin"]);
    let kept = connect_from("127.0.0.1", &gateway);
    wait_admitted(&gateway, &kept);
    let mut moved = connect_to("127.0.0.1", other);
    wait_admitted(&gateway, &moved);
    assert_refused(
        &gateway,
        connect_from("127.0.0.1", &gateway),
        "listener_max_connections",
    );

    // New limits (and timeouts) for plain; new ports for other.
    let moved_to = ports::free_port_block(4);
    let limits = r#"{max_connections: 2, max_connections_per_ip_overrides: {"10.0.0.1": 1}, first_frame_timeout_ms: 0, frame_timeout_ms: 5, idle_timeout_ms: 0}"#;
    std::fs::write(&gateway.config_path, two_listeners(plain, moved_to, limits))
        .expect("write config");
    gateway.signal("-HUP");
    gateway.wait_log_line(&["configuration applied", "epoch=2"], WAIT);

    // The listener that changed loses its connection...
    assert_ends(&mut moved);
    gateway.wait_log_line(
        &["connection closed", &peer(&moved), "config_changed"],
        WAIT,
    );
    // ...the one whose limits changed keeps it, and takes a second one.
    assert_open(&kept);
    let kept_peer = peer(&kept);
    let closed = gateway.logs();
    let closed = closed
        .lines()
        .find(|l| l.contains("connection closed") && l.contains(&kept_peer));
    assert_eq!(
        closed, None,
        "a connection was closed by a change of limits"
    );
    let second = connect_admitted("127.0.0.1", &gateway);
    assert_open(&second);
}
