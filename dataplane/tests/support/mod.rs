//! Test support: a real Kafka cluster started by deploy/kafka-local.sh, the
//! real `sluice` binary, Kafka's own tools and kcat. Every process a test
//! starts is stopped when its handle drops; every port is picked free.
#![allow(dead_code)]

pub mod cp;
pub mod gateway;
pub mod harness;
pub mod http;
pub mod kafka;
pub mod ports;
pub mod produce;
pub mod raw;
pub mod tls;
pub mod wait;

use std::path::PathBuf;

/// The repository root (dataplane/..).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let unique = format!(
            "sluice-{tag}-{}-{}",
            std::process::id(),
            ports::next_serial()
        );
        let dir = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
