//! What sluice's integration tests share: a real Apache Kafka (KRaft)
//! cluster started by `deploy/kafka-local.sh` and Kafka's own clients, the
//! decision whether Kafka tests can run here, a `sluice-cp` server, child
//! processes that log to a file and die with their handle, test
//! certificates, free loopback ports and waits on conditions.
//!
//! Every process a helper starts is stopped when its handle drops; every
//! port is picked free, never fixed.

pub mod certs;
pub mod control_plane;
pub mod harness;
pub mod jwt;
pub mod kafka;
pub mod ports;
pub mod process;
pub mod wait;

use std::path::PathBuf;
use std::process::Output;

pub use tempfile::TempDir;

/// The repository root (the workspace directory holding `deploy/`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// A fresh directory under the system temp dir, named after `tag` so a
/// leftover one says which test made it; removed on drop.
pub fn temp_dir(tag: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("sluice-{tag}-"))
        .tempdir()
        .expect("create temp dir")
}

/// Output bytes of a tool as text, for messages and assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The stdout of a command that must have succeeded; otherwise fails the
/// test with `what` and everything the command printed.
pub fn ok_stdout(what: &str, out: Output) -> String {
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        text(&out.stderr)
    );
    stdout
}
