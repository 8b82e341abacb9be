//! A real `sluice-cp` (the control plane), driven through its own CLI as a
//! team keeping its configuration in git would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::gateway::sluice_bin;
use super::TempDir;

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

pub struct ControlPlane {
    child: Option<Child>,
    pub dir: PathBuf,
    pub port: u16,
    pub url: String,
}

impl ControlPlane {
    /// Starts on `port` (0: any free port) with its data in `dir`.
    pub fn start(dir: &Path, port: u16) -> ControlPlane {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.with_extension("log"))
            .unwrap();
        let mut child = Command::new(sluice_cp_bin())
            .args(["serve", "--data-dir"])
            .arg(dir)
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--admin-token",
                TOKEN,
            ])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("start sluice-cp");
        let stdout = child.stdout.take().expect("sluice-cp stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines
                .next()
                .and_then(Result::ok)
                .expect("sluice-cp exited before listening");
            if let Some(url) = line.strip_prefix("sluice-cp listening on ") {
                break url.to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in url");
        ControlPlane {
            child: Some(child),
            dir: dir.to_path_buf(),
            port,
            url,
        }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Runs `sluice-cp ARGS` against this server (admin token unless `token` is None).
    pub fn cli(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut command = Command::new(sluice_cp_bin());
        command
            .args(args)
            .env("SLUICE_CP_URL", &self.url)
            .env("SLUICE_CP_CA", self.ca());
        match token {
            Some(token) => command.env("SLUICE_CP_TOKEN", token),
            None => command.env_remove("SLUICE_CP_TOKEN"),
        };
        command.output().expect("run sluice-cp")
    }

    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(Some(TOKEN), args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "sluice-cp {args:?}:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    /// Applies a YAML document; returns the CLI's output.
    pub fn apply(&self, yaml: &str) -> String {
        let file = TempDir::new("cp-apply");
        let path = file.path().join("config.yaml");
        std::fs::write(&path, yaml).unwrap();
        self.cli_ok(&["apply", "-f", path.to_str().unwrap()])
    }

    /// Issues a node certificate into `out`: (cert, key, ca).
    pub fn issue_cert(&self, node_id: &str, out: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let status = Command::new(sluice_cp_bin())
            .args(["issue-cert", "--data-dir"])
            .arg(&self.dir)
            .args(["--node-id", node_id, "--out-dir"])
            .arg(out)
            .status()
            .expect("run sluice-cp issue-cert");
        assert!(status.success(), "issue-cert failed");
        (
            out.join("node.pem"),
            out.join("node.key"),
            out.join("ca.pem"),
        )
    }

    /// The current version number, from the header `sluice-cp get` prints.
    pub fn version(&self) -> u64 {
        let out = self.cli_ok(&["get"]);
        let header = out.lines().next().unwrap_or_default();
        let number = header.rsplit(' ').next().unwrap_or_default();
        number
            .parse()
            .unwrap_or_else(|_| panic!("no version in {header:?}"))
    }

    /// Node id -> applied version, from the `sluice-cp nodes` table.
    pub fn applied_versions(&self) -> Vec<(String, Option<u64>)> {
        let out = self.cli_ok(&["nodes"]);
        (out.lines().skip(1))
            .filter(|l| !l.starts_with(' '))
            .filter_map(|l| {
                let columns: Vec<&str> = l.split_whitespace().collect();
                Some((columns.first()?.to_string(), columns.get(3)?.parse().ok()))
            })
            .collect()
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits `timeout` at most for `sluice-cp nodes` to show `node` at `version`.
pub fn wait_applied(cp: &ControlPlane, node: &str, version: u64, timeout: Duration) {
    let what = format!("node {node} to report version {version}");
    super::wait::until(&what, timeout, || {
        let applied = cp.applied_versions();
        applied
            .iter()
            .any(|(id, v)| id == node && *v == Some(version))
            .then_some(())
    });
}
