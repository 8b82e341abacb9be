//! The admin listener, metrics, OTLP push and log formats, on a gateway
//! whose backend never answers: everything here is about the gateway
//! itself, so no Kafka is needed (tests/kafka/observability.rs covers the
//! counts of real traffic).

#[path = "observability/admin.rs"]
mod admin;
#[path = "observability/admin_limits.rs"]
mod admin_limits;
#[path = "observability/logs.rs"]
mod logs;
#[path = "observability/otlp.rs"]
mod otlp;
mod support;
#[path = "observability/tls.rs"]
mod tls;

use std::net::TcpListener;

use sluice_test_support::ports;
use support::gateway::{port_mapping_config, Gateway};

/// A backend address that accepts TCP connections and never answers, so
/// metadata discovery hangs until its timeout.
pub(crate) struct SilentBackend {
    listener: TcpListener,
}

impl SilentBackend {
    pub(crate) fn new() -> SilentBackend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind silent backend");
        SilentBackend { listener }
    }

    pub fn addr(&self) -> String {
        self.listener.local_addr().expect("local addr").to_string()
    }
}

/// A gateway in front of `backend` with its admin listener on a free port;
/// started without waiting for it to serve.
pub fn gateway(backend: &str, extra: &[&str], env: &[(&str, &str)]) -> Gateway {
    let first = ports::free_port_block(4);
    let admin = ports::free_addr();
    let config = port_mapping_config(backend, first, 4, 0);
    let mut args = vec!["--shards", "2", "--no-pin", "--broker-wait-ms", "200"];
    args.extend(["--admin-listen", admin.as_str()]);
    args.extend(extra);
    Gateway::spawn_env(&config, first, &args, env)
}

/// Metric names in `text`: `sluice_...` words, histogram suffixes removed.
/// A client that sends an ApiVersions v0 request and waits (at most 30 s)
/// for the gateway to answer or close: sluice connects upstream only once
/// a client has spoken.
pub fn speak_and_wait_for_close(addr: &str) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("read timeout");
    conn.write_all(&[0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff])
        .expect("write");
    let _ = conn.read(&mut [0u8; 1]);
}

fn metric_names(text: &str) -> std::collections::BTreeSet<String> {
    let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    (words.filter(|w| w.starts_with("sluice_")))
        .map(|w| {
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|s| w.strip_suffix(s))
                .unwrap_or(w);
            base.to_string()
        })
        .collect()
}

#[test]
fn the_dashboard_uses_only_documented_metrics() {
    let root = sluice_test_support::repo_root();
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect(path);
    let dashboard = metric_names(&read("deploy/grafana/sluice-dashboard.json"));
    let readme = read("README.md");
    let section = readme
        .split("### Metrics and health")
        .nth(1)
        .expect("README has a Metrics and health section");
    let documented = metric_names(section);
    let missing: Vec<_> = dashboard.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "dashboard metrics not in the README: {missing:?}"
    );
    assert!(dashboard.len() >= 15, "{dashboard:?}");
}
