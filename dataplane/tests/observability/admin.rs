//! Health probes, /status and /metrics over the gateway's whole life.

use std::net::TcpStream;
use std::time::Duration;

use crate::support::gateway::Gateway;
use crate::support::http::{get, scrape};
use crate::{gateway, SilentBackend};
use sluice_test_support::{ports, wait};

const WAIT: Duration = Duration::from_secs(30);

fn probe(gw: &Gateway, path: &str) -> Option<u16> {
    get(gw.admin(), path).map(|(code, _)| code)
}

fn wait_probe(gw: &Gateway, path: &str, code: u16) {
    wait::until(&format!("{path} to answer {code}"), WAIT, || {
        gw.assert_running();
        (probe(gw, path) == Some(code)).then_some(())
    });
}

#[test]
fn probes_follow_start_up_and_status_describes_the_node() {
    // Two silent bootstrap servers: start-up discovery waits for both to
    // time out, so the gateway is alive but not ready for several seconds.
    let (a, b) = (SilentBackend::new(), SilentBackend::new());
    let backend = format!("{},{}", a.addr(), b.addr());
    let args = ["--node-id", "test-node", "--ready-without-backends"];
    let mut gw = gateway(&backend, &args, &[]);
    wait_probe(&gw, "/health/probes/liveness", 200);
    let early = probe(&gw, "/health/probes/readiness");
    let serving = gw.logs().contains("sluice is serving");
    assert!(
        serving || early == Some(503),
        "ready before start-up finished: {early:?}"
    );
    wait_probe(&gw, "/health/probes/readiness", 200);

    let (code, body) = get(gw.admin(), "/status").expect("status");
    assert_eq!(code, 200);
    let status: serde_json::Value = serde_json::from_str(&body).expect("status is JSON");
    assert_eq!(status["node_id"], "test-node");
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(status["config"]["epoch"], 1);
    assert_eq!(status["shard_count"], 2);
    assert_eq!(status["shards"][1]["listeners_bound"], true);
    assert_eq!(status["listeners"][0]["name"], "plain");
    assert_eq!(status["listeners"][0]["ports"][0], gw.port);
    assert_eq!(status["backends"][0]["name"], "kafka");
    assert_eq!(get(gw.admin(), "/nope").map(|(c, _)| c), Some(404));

    let status = gw.stop();
    assert!(status.success());
    assert!(
        TcpStream::connect(gw.admin()).is_err(),
        "admin still open after exit"
    );
}

#[test]
fn not_ready_while_no_broker_of_a_backend_is_known() {
    let backend = SilentBackend::new();
    let gw = gateway(&backend.addr(), &[], &[]);
    gw.wait_log("sluice is serving", WAIT);
    gw.wait_log("backend metadata refresh failed", WAIT);
    assert_eq!(probe(&gw, "/health/probes/readiness"), Some(503));
    assert_eq!(probe(&gw, "/health/probes/liveness"), Some(200));
    let (_, body) = get(gw.admin(), "/status").expect("status");
    let status: serde_json::Value = serde_json::from_str(&body).expect("status is JSON");
    assert_eq!(status["ready"], false);
    let reasons = status["not_ready_because"].to_string();
    assert!(reasons.contains("backend kafka: unreachable"), "{reasons}");
    assert_eq!(scrape(gw.admin()).sum("sluice_ready", &[]), 0.0);
}

#[test]
fn metrics_count_connections_config_loads_and_discovery() {
    let backend = SilentBackend::new();
    let gw = gateway(&backend.addr(), &["--ready-without-backends"], &[]);
    gw.wait_log("sluice is serving", WAIT);
    let before = scrape(gw.admin());
    assert_eq!(before.sum("sluice_config_epoch", &[]), 1.0);
    assert_eq!(before.sum("sluice_config_loads_total", &[]), 1.0);
    let plain = [("listener", "plain")];
    assert_eq!(
        before.sum("sluice_client_connections_accepted_total", &plain),
        0.0
    );
    assert!(before.has("sluice_build_info") && before.has("sluice_bytes_in_total"));

    // Discovery never gets an answer: the connection gives up on the backend.
    crate::speak_and_wait_for_close(&gw.bootstrap());
    let no_bootstrap = [("listener", "plain"), ("reason", "no_bootstrap")];
    wait::until("the closed connection to be counted", WAIT, || {
        let m = scrape(gw.admin());
        (m.sum("sluice_client_connections_closed_total", &no_bootstrap) >= 1.0).then_some(m)
    });
    let m = scrape(gw.admin());
    assert!(m.sum("sluice_client_connections_accepted_total", &plain) >= 1.0);
    assert_eq!(m.sum("sluice_client_connections_active", &plain), 0.0);
    let errors = [("backend", "kafka"), ("reason", "no_bootstrap")];
    assert!(m.sum("sluice_backend_connection_errors_total", &errors) >= 1.0);
    assert!(
        m.sum(
            "sluice_metadata_refresh_duration_seconds_count",
            &[("backend", "kafka")]
        ) >= 1.0
    );
    assert_eq!(m.sum("sluice_ready", &[]), 1.0);

    // A rejected reload is counted; a good one moves the epoch.
    let original = std::fs::read_to_string(&gw.config_path).unwrap();
    std::fs::write(&gw.config_path, "listeners: [ { bogus: 1 } ]\n").unwrap();
    gw.signal("-HUP");
    gw.wait_log("configuration rejected", WAIT);
    // Counted right after the line is written, not before it.
    wait::until("the rejection to be counted", WAIT, || {
        let rejected = scrape(gw.admin()).sum("sluice_config_load_errors_total", &[]);
        (rejected >= 1.0).then_some(())
    });
    std::fs::write(&gw.config_path, original).unwrap();
    gw.signal("-HUP");
    gw.wait_log_line(&["configuration reloaded", "epoch=2"], WAIT);
    // The line is written before the configuration is handed to the shards
    // and the metrics, so a scrape right after it may still see epoch 1.
    let m = wait::until("the reload to reach the metrics", WAIT, || {
        let m = scrape(gw.admin());
        (m.sum("sluice_config_epoch", &[]) == 2.0).then_some(m)
    });
    assert_eq!(m.sum("sluice_config_loads_total", &[]), 2.0);
}

#[test]
fn metrics_off_leaves_only_the_non_shard_metrics() {
    let backend = SilentBackend::new();
    let gw = gateway(&backend.addr(), &["--metrics", "off"], &[]);
    gw.wait_log("sluice is serving", WAIT);
    let conn = TcpStream::connect(gw.bootstrap()).expect("connect");
    drop(conn);
    gw.wait_log("connection closed", WAIT);
    let m = scrape(gw.admin());
    assert!(m.has("sluice_build_info") && m.has("sluice_ready"));
    assert!(!m.has("sluice_client_connections_accepted_total"));
    assert!(!m.has("sluice_requests_total"));
}

#[test]
fn a_taken_admin_port_is_a_start_up_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let first = ports::free_port_block(2);
    let config = crate::support::gateway::port_mapping_config("127.0.0.1:1", first, 2, 0);
    let args = ["--shards", "1", "--no-pin", "--admin-listen", &addr];
    let mut gw = Gateway::spawn(&config, first, &args);
    let status = gw.wait_exit(WAIT);
    assert!(!status.success());
    let logs = gw.logs();
    assert!(
        logs.contains("cannot bind the admin listener (--admin-listen)"),
        "{logs}"
    );
    assert!(logs.contains(&addr), "{logs}");
}
