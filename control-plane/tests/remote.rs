//! cp-sync's control-plane source (`cp_sync::remote`) against a real
//! `sluice-cp serve`: the node side of configuration distribution.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::*;
use cp_sync::remote::{remote_config_sync, RemoteError, RemoteOptions};
use cp_sync::sync::{ConfigSync, SyncHandle};
use cp_sync::Snapshot;
use crossbeam_channel::Receiver;
use serde_json::Value;
use sluice_test_support::wait::eventually;

const WAIT: Duration = Duration::from_secs(30);

fn options(url: &str, node_dir: &Path) -> RemoteOptions {
    RemoteOptions {
        url: url.to_owned(),
        cert: node_dir.join("node.pem"),
        key: node_dir.join("node.key"),
        ca: node_dir.join("ca.pem"),
        cache_file: node_dir.join("config-cache.json"),
        node_id: None,
        // Short, so reconnecting and retrying happen within a test.
        poll_wait: Duration::from_millis(500),
    }
}

/// A spawned sync thread and the snapshots it publishes.
struct Node {
    handle: SyncHandle,
    thread: JoinHandle<()>,
    published: Receiver<Arc<Snapshot>>,
}

impl Node {
    fn spawn(sync: ConfigSync) -> Node {
        let (tx, published) = crossbeam_channel::unbounded();
        let publish = Box::new(move |snapshot| {
            let _ = tx.send(snapshot);
        });
        let (handle, thread) = sync.spawn(publish).unwrap();
        Node {
            handle,
            thread,
            published,
        }
    }

    fn next(&self) -> Arc<Snapshot> {
        self.published
            .recv_timeout(WAIT)
            .expect("no snapshot published")
    }

    fn stop(self) {
        self.handle.stop();
        self.thread.join().unwrap();
    }
}

fn servers(snapshot: &Snapshot) -> Vec<String> {
    snapshot.config.backend_clusters[0]
        .bootstrap_servers
        .clone()
}

fn node_status(cp: &Cp, id: &str) -> Option<Value> {
    let nodes = cp.admin().get("/v1/nodes").unwrap();
    nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id)
        .cloned()
}

fn applied(cp: &Cp, id: &str, version: u64) -> bool {
    node_status(cp, id).is_some_and(|n| {
        n["applied_version"] == version && n["last_errors"] == serde_json::json!([])
    })
}

fn setup(temp: &Path, node_id: &str) -> (Cp, PathBuf) {
    let cp = Cp::start(&temp.join("cp"));
    let node_dir = temp.join(node_id);
    issue_node_cert(&cp.admin(), node_id, &node_dir);
    (cp, node_dir)
}

#[test]
fn publishes_each_version_as_it_is_applied() {
    let temp = tempfile::tempdir().unwrap();
    let (cp, node_dir) = setup(temp.path(), "edge-1");
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let (sync, first) = remote_config_sync(options(&cp.url, &node_dir)).unwrap();
    assert_eq!(servers(&first), ["k1:9092"]);
    assert!(first.source.ends_with("version 1"), "{}", first.source);
    assert!(node_dir.join("config-cache.json").exists());

    let node = Node::spawn(sync);
    for (version, server) in [(2, "k2:9092"), (3, "k3:9092")] {
        apply_yaml(&admin, &config_yaml(server));
        let snapshot = node.next();
        assert_eq!(servers(&snapshot), [server]);
        assert!(snapshot.source.ends_with(&format!("version {version}")));
        assert!(eventually(WAIT, || applied(&cp, "edge-1", version)));
    }
    let status = node_status(&cp, "edge-1").unwrap();
    assert_eq!(status["sluice_version"], env!("CARGO_PKG_VERSION"));
    assert_ne!(status["hostname"], "");
    node.stop();
}

#[test]
fn keeps_running_without_the_control_plane_and_restarts_from_the_cache() {
    let temp = tempfile::tempdir().unwrap();
    let (cp, node_dir) = setup(temp.path(), "edge-2");
    apply_yaml(&cp.admin(), &config_yaml("k1:9092"));
    let (sync, _) = remote_config_sync(options(&cp.url, &node_dir)).unwrap();
    let node = Node::spawn(sync);
    let (dir, port, url) = (cp.dir.clone(), cp.port, cp.url.clone());
    cp.stop();

    // The sync thread still answers while the poller cannot reach the CP.
    node.handle.reload();
    assert_eq!(servers(&node.next()), ["k1:9092"]);

    // The control plane comes back on the same address with its state.
    let cp = Cp::start_with(&dir, port, Some(TOKEN));
    apply_yaml(&cp.admin(), &config_yaml("k2:9092"));
    assert_eq!(servers(&node.next()), ["k2:9092"]);
    // Reported only after the cache was written.
    assert!(eventually(WAIT, || applied(&cp, "edge-2", 2)));
    node.stop();
    cp.stop();

    // Restart while the control plane is down: the cache serves.
    let (sync, snapshot) = remote_config_sync(options(&url, &node_dir)).unwrap();
    assert_eq!(servers(&snapshot), ["k2:9092"]);
    assert!(snapshot.source.starts_with("cache "), "{}", snapshot.source);
    drop(sync);
}

fn tls_config_yaml(tls_dir: &Path) -> String {
    let cert = tls_dir.join("server.pem");
    let key = tls_dir.join("server.key");
    config_yaml("k1:9092").replace(
        "    policies:\n",
        &format!(
            "    policies:\n      - type: tls_server\n        config:\n          certificates:\n            - {{certificate: {}, key: {}}}\n",
            cert.display(),
            key.display()
        ),
    )
}

fn write_server_cert(tls_dir: &Path) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::create_dir_all(tls_dir).unwrap();
    std::fs::write(
        tls_dir.join("server.key"),
        certified.signing_key.serialize_pem(),
    )
    .unwrap();
    std::fs::write(tls_dir.join("server.pem"), certified.cert.pem()).unwrap();
}

#[test]
fn a_configuration_the_node_cannot_use_never_replaces_the_running_one() {
    let temp = tempfile::tempdir().unwrap();
    let (cp, node_dir) = setup(temp.path(), "edge-3");
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let (sync, _) = remote_config_sync(options(&cp.url, &node_dir)).unwrap();
    let node = Node::spawn(sync);

    // Valid for the control plane; its certificate files are missing on
    // the node, so build_tls fails there.
    let tls_dir = temp.path().join("tls");
    assert_eq!(apply_yaml(&admin, &tls_config_yaml(&tls_dir))["version"], 2);
    let refused = || {
        node_status(&cp, "edge-3").is_some_and(|n| {
            n["applied_version"] == 1 && n["last_errors"].to_string().contains("server.pem")
        })
    };
    assert!(
        eventually(WAIT, refused),
        "{:?}",
        node_status(&cp, "edge-3")
    );
    assert!(
        node.published.try_recv().is_err(),
        "nothing may be published"
    );
    node.stop();

    // Restarted now, the node falls back to its cache and says why.
    let (sync, snapshot) = remote_config_sync(options(&cp.url, &node_dir)).unwrap();
    assert!(snapshot.source.starts_with("cache "), "{}", snapshot.source);
    assert!(snapshot.config.listeners[0].policies.len() == 1);
    let node = Node::spawn(sync);

    // Installing the files heals it without a new version.
    write_server_cert(&tls_dir);
    let healed = node.next();
    assert_eq!(healed.config.listeners[0].policies.len(), 2);
    assert!(healed.tls.servers.contains_key("plain"));
    assert!(eventually(WAIT, || applied(&cp, "edge-3", 2)));
    node.stop();
}

#[test]
fn startup_problems_are_explained() {
    let temp = tempfile::tempdir().unwrap();
    let (cp, node_dir) = setup(temp.path(), "edge-4");
    let url = cp.url.clone();
    cp.stop();

    let error = remote_config_sync(options(&url, &node_dir)).unwrap_err();
    assert!(matches!(error, RemoteError::NoConfig { .. }), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("cannot reach the control plane") && text.contains("config-cache.json"),
        "{text}"
    );

    let plain = url.replace("https://", "http://");
    let error = remote_config_sync(options(&plain, &node_dir)).unwrap_err();
    assert!(error.to_string().contains("https://"), "{error}");

    let mut wrong_id = options(&url, &node_dir);
    wrong_id.node_id = Some("edge-5".into());
    let error = remote_config_sync(wrong_id).unwrap_err();
    assert!(error.to_string().contains("\"edge-4\""), "{error}");

    let mut missing = options(&url, &node_dir);
    missing.key = node_dir.join("nope.key");
    let error = remote_config_sync(missing).unwrap_err();
    assert!(error.to_string().contains("nope.key"), "{error}");
}
