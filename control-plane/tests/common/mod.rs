//! Starting a real `sluice-cp serve` on a free port with a temporary data
//! directory, and talking to it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use control_plane::client::{AdminClient, ClientError, Verb};
use control_plane::secret::AdminToken;
use serde_json::Value;

pub const TOKEN: &str = "test-admin-token-0123456789";

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_sluice-cp")
}

/// A running control plane; killed when dropped.
pub struct Cp {
    child: Child,
    pub url: String,
    pub port: u16,
    pub dir: PathBuf,
    /// Lines the server printed on stdout before it listened.
    pub banner: Vec<String>,
}

impl Cp {
    /// Starts on a free port chosen by the kernel (`--listen 127.0.0.1:0`).
    pub fn start(dir: &Path) -> Cp {
        Cp::start_with(dir, 0, Some(TOKEN))
    }

    /// `port` 0 picks a free one; `token` None lets the server use its
    /// stored or generated token.
    pub fn start_with(dir: &Path, port: u16, token: Option<&str>) -> Cp {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.with_extension("log"))
            .unwrap();
        let mut command = Command::new(binary());
        command
            .args(["serve", "--data-dir"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_remove("SLUICE_CP_ADMIN_TOKEN")
            .stdout(Stdio::piped())
            .stderr(log);
        if let Some(token) = token {
            command.args(["--admin-token", token]);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            // Keeps draining stdout until the server exits.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = Vec::new();
        let url = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!(
                        "sluice-cp did not start; see {}",
                        dir.with_extension("log").display()
                    )
                });
            if let Some(url) = line.strip_prefix("sluice-cp listening on ") {
                break url.to_owned();
            }
            banner.push(line);
        };
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Cp {
            child,
            url,
            port,
            dir: dir.to_path_buf(),
            banner,
        }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn admin(&self) -> AdminClient {
        self.admin_with(Some(TOKEN))
    }

    pub fn admin_with(&self, token: Option<&str>) -> AdminClient {
        let token = token.map(|t| AdminToken::new(t).unwrap());
        AdminClient::new(&self.url, token, Some(&self.ca())).unwrap()
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Cp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A small valid configuration; `server` tells versions apart.
pub fn config_yaml(server: &str) -> String {
    format!(
        r#"
backend_clusters:
  - name: main
    bootstrap_servers: ["{server}"]
virtual_clusters:
  - {{ name: team-a, dns_label: team-a, destination: {{ name: main }} }}
listeners:
  - name: plain
    ports: [19092, "19093-19096"]
    policies:
      - type: forward_to_virtual_cluster
        config: {{ type: port_mapping, destination: {{ name: team-a }}, advertised_host: 127.0.0.1 }}
"#
    )
}

pub fn apply_yaml(admin: &AdminClient, yaml: &str) -> Value {
    admin
        .call(
            Verb::Put,
            "/v1/config",
            Some(("application/yaml", yaml.to_owned())),
        )
        .unwrap()
}

pub fn current_version(admin: &AdminClient) -> u64 {
    admin.get("/v1/config").unwrap()["version"]
        .as_u64()
        .unwrap()
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it
/// held. For state that changes in another process.
pub fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Issues a node certificate through the admin API into `out`.
pub fn issue_node_cert(admin: &AdminClient, node_id: &str, out: &Path) {
    let answer = admin
        .post_json("/v1/certificates", &serde_json::json!({"node_id": node_id}))
        .unwrap();
    std::fs::create_dir_all(out).unwrap();
    for name in ["node.pem", "node.key", "ca.pem"] {
        std::fs::write(out.join(name), answer["files"][name].as_str().unwrap()).unwrap();
    }
}

/// An HTTPS agent presenting the node certificate in `dir`.
pub fn node_agent(ca: &Path, dir: &Path) -> ureq::Agent {
    let cert = dir.join("node.pem");
    let key = dir.join("node.key");
    cp_sync::remote::https_agent(
        Some(ca),
        Some((&cert, &key)),
        Some(Duration::from_secs(120)),
    )
    .unwrap()
}

/// GET with `agent`: (status, JSON body or null).
pub fn get(agent: &ureq::Agent, url: &str) -> (u16, Value) {
    let mut response = agent.get(url).call().unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The status, message and `path: message` errors of a refused call.
pub fn api_error(result: Result<Value, ClientError>) -> (u16, String, Vec<String>) {
    match result {
        Err(ClientError::Api {
            status,
            message,
            errors,
        }) => (
            status,
            message,
            errors.iter().map(|e| e.to_string()).collect(),
        ),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// PUT with a JSON body.
pub fn put_json(admin: &AdminClient, path: &str, body: &Value) -> Result<Value, ClientError> {
    admin.call(
        Verb::Put,
        path,
        Some(("application/json", body.to_string())),
    )
}

/// Whether some error starts with `prefix`.
pub fn has_error(errors: &[String], prefix: &str) -> bool {
    errors.iter().any(|e| e.starts_with(prefix))
}
