//! A connection over a limit is closed right after accept and counted;
//! one under it is served.

use crate::{assert_refused, config, connect_from, start, wait_admitted, wait_metric};
use crate::{wait_refused, WAIT};

#[test]
fn a_listener_refuses_connections_past_its_max_at_once() {
    let first = crate::gateway_ports();
    let gateway = start(&config(first, "{max_connections: 2}"), first, &[]);
    let held = [
        connect_from("127.0.0.1", &gateway),
        connect_from("127.0.0.1", &gateway),
    ];
    for client in &held {
        wait_admitted(&gateway, client);
    }
    let extra = connect_from("127.0.0.1", &gateway);
    assert_refused(&gateway, extra, "listener_max_connections");
    gateway.wait_log_line(&["connections refused", "limits.max_connections"], WAIT);
    wait_refused(&gateway, "plain", "listener_max_connections", 1.0);
    // A refused connection was never served, so it is not counted as accepted.
    let accepted = [("listener", "plain")];
    wait_metric(
        &gateway,
        "sluice_client_connections_accepted_total",
        &accepted,
        2.0,
    );

    // A place freed is a place taken again.
    let [first_client, _second] = held;
    let closed = crate::peer(&first_client);
    drop(first_client);
    gateway.wait_log_line(&["connection closed", &closed], WAIT);
    crate::connect_admitted("127.0.0.1", &gateway);
}

#[test]
fn per_ip_limits_with_an_override_for_one_address() {
    let first = crate::gateway_ports();
    let limits =
        r#"{max_connections_per_ip: 1, max_connections_per_ip_overrides: {"127.0.0.1": 2}}"#;
    let gateway = start(&config(first, limits), first, &[]);
    let overridden = [
        connect_from("127.0.0.1", &gateway),
        connect_from("127.0.0.1", &gateway),
    ];
    for client in &overridden {
        wait_admitted(&gateway, client);
    }
    let other = connect_from("127.0.0.2", &gateway);
    wait_admitted(&gateway, &other);
    let reason = "listener_max_connections_per_ip";
    assert_refused(&gateway, connect_from("127.0.0.1", &gateway), reason);
    assert_refused(&gateway, connect_from("127.0.0.2", &gateway), reason);
    wait_refused(&gateway, "plain", reason, 2.0);
}

#[test]
fn node_flags_limit_the_node_and_each_address() {
    let first = crate::gateway_ports();
    let flags = [
        "--max-connections",
        "2",
        "--max-connections-per-ip",
        "1",
        "--max-connections-per-ip-overrides",
        "127.0.0.3=0",
    ];
    let gateway = start(&config(first, ""), first, &flags);
    let per_ip = "node_max_connections_per_ip";
    assert_refused(&gateway, connect_from("127.0.0.3", &gateway), per_ip);
    let one = connect_from("127.0.0.1", &gateway);
    wait_admitted(&gateway, &one);
    assert_refused(&gateway, connect_from("127.0.0.1", &gateway), per_ip);
    let two = connect_from("127.0.0.2", &gateway);
    wait_admitted(&gateway, &two);
    let node = "node_max_connections";
    assert_refused(&gateway, connect_from("127.0.0.4", &gateway), node);
    wait_refused(&gateway, "plain", per_ip, 2.0);
    wait_refused(&gateway, "plain", node, 1.0);
}
