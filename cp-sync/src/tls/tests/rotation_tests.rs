//! Certificate rotation by the sync thread, and TLS errors rejecting a
//! configuration.

use std::sync::Arc;
use std::time::Duration;

use super::{client_accepting_any, handshake, Ca, Leaf, TempDir};
use crate::snapshot::Snapshot;
use crate::source::FileSource;
use crate::sync::ConfigSync;

/// A config file whose one listener serves `s.pem`/`s.key` from `dir`.
fn write_config(dir: &TempDir) -> std::path::PathBuf {
    let yaml = format!(
        r#"
backend_clusters:
  - name: local
    bootstrap_servers: ["127.0.0.1:9092"]
virtual_clusters:
  - name: team-a
    dns_label: team-a
    destination: {{ name: local }}
listeners:
  - name: tls
    addresses: ["127.0.0.1"]
    ports: ["19092-19095"]
    policies:
      - type: tls_server
        config:
          certificates:
            - certificate: {cert}
              key: {key}
      - type: forward_to_virtual_cluster
        config: {{ type: port_mapping, destination: {{ name: team-a }}, advertised_host: 127.0.0.1 }}
"#,
        cert = dir.path("s.pem").display(),
        key = dir.path("s.key").display(),
    );
    let path = dir.path("sluice.yaml");
    super::write_atomically(&path, &yaml);
    path
}

fn install(dir: &TempDir, leaf: &Leaf) {
    dir.write("s.pem", &leaf.cert_pem);
    dir.write("s.key", &leaf.key_pem);
}

/// The certificate the snapshot's `tls` listener presents.
fn served(snapshot: &Snapshot) -> Vec<u8> {
    let server = snapshot.tls.servers["tls"].clone();
    let client = Arc::new(client_accepting_any(&[&rustls::version::TLS13]));
    let (client, _) = handshake(client, server, "kafka.example.com").expect("handshake");
    client.peer_certificates().expect("certificate")[0].to_vec()
}

#[test]
fn sync_thread_publishes_rotated_certificates() {
    let ca = Ca::new("ca");
    let (first, second) = (
        ca.server(&["kafka.example.com"]),
        ca.server(&["kafka.example.com"]),
    );
    let dir = TempDir::new("rotation");
    install(&dir, &first);
    let source = FileSource::new(write_config(&dir));
    let mut sync = ConfigSync::new(Box::new(source)).with_tls_watch(Duration::from_millis(10));
    let initial = sync.load().expect("valid config and files");
    assert_eq!(initial.epoch, 1);
    assert_eq!(served(&initial), first.der.to_vec());
    let (tx, rx) = crossbeam_channel::unbounded();
    let publish = Box::new(move |snapshot: Arc<Snapshot>| {
        let _ = tx.send(snapshot);
    });
    let (handle, thread) = sync.spawn(publish).expect("spawn sync thread");
    install(&dir, &second);
    // Generous: the watch ticks every 10 ms; this only bounds a failure.
    let rotated = rx.recv_timeout(Duration::from_secs(30));
    handle.stop();
    thread.join().expect("sync thread exits");
    let rotated = rotated.expect("a snapshot with the new certificate");
    assert_eq!(rotated.epoch, 2);
    assert_eq!(rotated.config, initial.config, "only TLS changed");
    assert_ne!(rotated.tls.fingerprint, initial.tls.fingerprint);
    assert_eq!(served(&rotated), second.der.to_vec());
}

#[test]
fn broken_rotation_keeps_the_running_certificates() {
    let ca = Ca::new("ca");
    let (first, second) = (
        ca.server(&["kafka.example.com"]),
        ca.server(&["kafka.example.com"]),
    );
    let dir = TempDir::new("broken-rotation");
    install(&dir, &first);
    let mut sync = ConfigSync::new(Box::new(FileSource::new(write_config(&dir))));
    sync.load().expect("valid config and files");
    let mut published: Vec<Arc<Snapshot>> = Vec::new();
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut publish: crate::sync::Publish = Box::new(move |snapshot| {
        let _ = tx.send(snapshot);
    });
    // Nothing changed: nothing published.
    sync.check_tls(&mut publish);
    // The certificate is replaced but the key is not (yet).
    dir.write("s.pem", &second.cert_pem);
    sync.check_tls(&mut publish);
    sync.check_tls(&mut publish);
    published.extend(rx.try_iter());
    assert!(
        published.is_empty(),
        "a mismatched pair must not be published"
    );
    assert_eq!(sync.current().map(|s| s.epoch), Some(1));
    dir.write("s.key", &second.key_pem);
    sync.check_tls(&mut publish);
    published.extend(rx.try_iter());
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].epoch, 2);
    assert_eq!(served(&published[0]), second.der.to_vec());
}

#[test]
fn unusable_tls_files_reject_the_config() {
    let ca = Ca::new("ca");
    let leaf = ca.server(&["kafka.example.com"]);
    let dir = TempDir::new("reject");
    install(&dir, &leaf);
    let mut sync = ConfigSync::new(Box::new(FileSource::new(write_config(&dir))));
    sync.load().expect("valid config and files");
    std::fs::remove_file(dir.path("s.key")).expect("remove key");
    let errors = sync.load().expect_err("missing key file");
    assert_eq!(errors.len(), 1, "{errors}");
    assert_eq!(
        errors.errors()[0].path,
        "listeners[0].policies[0].config.certificates[0].key"
    );
    assert_eq!(
        sync.current().map(|s| s.epoch),
        Some(1),
        "running config stays"
    );
    install(&dir, &leaf);
    assert_eq!(sync.load().map(|s| s.epoch), Ok(2));
}
