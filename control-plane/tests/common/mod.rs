//! Starting a real `sluice-cp serve` on a free port with a temporary data
//! directory, and talking to it.
#![allow(dead_code)]

use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use control_plane::client::{AdminClient, ClientError, Verb};
use control_plane::secret::AdminToken;
use serde_json::Value;
use sluice_test_support::control_plane::CpServer;

pub const TOKEN: &str = "test-admin-token-0123456789";

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_sluice-cp")
}

/// A running control plane, driven through its admin API; killed when
/// dropped.
pub struct Cp {
    server: CpServer,
}

impl Deref for Cp {
    type Target = CpServer;

    fn deref(&self) -> &CpServer {
        &self.server
    }
}

impl Cp {
    /// Starts on a free port chosen by the kernel (`--listen 127.0.0.1:0`).
    pub fn start(dir: &Path) -> Cp {
        Cp::start_with(dir, 0, Some(TOKEN))
    }

    /// `port` 0 picks a free one; `token` None lets the server use its
    /// stored or generated token.
    pub fn start_with(dir: &Path, port: u16, token: Option<&str>) -> Cp {
        let server = CpServer::start(Path::new(binary()), dir, port, token);
        Cp { server }
    }

    pub fn admin(&self) -> AdminClient {
        self.admin_with(Some(TOKEN))
    }

    pub fn admin_with(&self, token: Option<&str>) -> AdminClient {
        let token = token.map(|t| AdminToken::new(t).unwrap());
        AdminClient::new(&self.url, token, Some(&self.ca())).unwrap()
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
