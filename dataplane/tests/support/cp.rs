//! A real `sluice-cp` (the control plane), driven through its own CLI as a
//! team keeping its configuration in git would.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sluice_test_support::control_plane::CpServer;
use sluice_test_support::{temp_dir, wait};

use super::gateway::sluice_bin;

pub const TOKEN: &str = "sluice-test-admin-token-42";

/// Built next to `sluice` by `cargo test --workspace`.
pub fn sluice_cp_bin() -> PathBuf {
    let path = sluice_bin().with_file_name("sluice-cp");
    assert!(
        path.exists(),
        "{} missing: build it with `cargo build -p sluice-control-plane`",
        path.display()
    );
    path
}

/// A control plane the tests drive through its CLI.
pub struct ControlPlane {
    server: CpServer,
}

impl std::ops::Deref for ControlPlane {
    type Target = CpServer;

    fn deref(&self) -> &CpServer {
        &self.server
    }
}

impl ControlPlane {
    /// Starts on `port` (0: any free port) with its data in `dir`.
    pub fn start(dir: &Path, port: u16) -> ControlPlane {
        let server = CpServer::start(&sluice_cp_bin(), dir, port, Some(TOKEN));
        ControlPlane { server }
    }

    /// Applies a YAML document; returns the CLI's output.
    pub fn apply(&self, yaml: &str) -> String {
        let file = temp_dir("cp-apply");
        let path = file.path().join("config.yaml");
        std::fs::write(&path, yaml).unwrap();
        self.cli_ok(Some(TOKEN), &["apply", "-f", path.to_str().unwrap()])
    }

    /// The current version number, from the header `sluice-cp get` prints.
    pub fn version(&self) -> u64 {
        let out = self.cli_ok(Some(TOKEN), &["get"]);
        let header = out.lines().next().unwrap_or_default();
        let number = header.rsplit(' ').next().unwrap_or_default();
        number
            .parse()
            .unwrap_or_else(|_| panic!("no version in {header:?}"))
    }

    /// Node id -> applied version, from the `sluice-cp nodes` table.
    pub fn applied_versions(&self) -> Vec<(String, Option<u64>)> {
        let out = self.cli_ok(Some(TOKEN), &["nodes"]);
        (out.lines().skip(1))
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| {
                let columns: Vec<&str> = l.split_whitespace().collect();
                Some((columns.first()?.to_string(), columns.get(3)?.parse().ok()))
            })
            .collect()
    }
}

/// Waits `timeout` at most for `sluice-cp nodes` to show `node` at `version`.
pub fn wait_applied(cp: &ControlPlane, node: &str, version: u64, timeout: Duration) {
    let what = format!("node {node} to report version {version}");
    wait::until(&what, timeout, || {
        let applied = cp.applied_versions();
        applied
            .iter()
            .any(|(id, v)| id == node && *v == Some(version))
            .then_some(())
    });
}
