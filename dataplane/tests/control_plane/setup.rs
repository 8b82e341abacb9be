//! One Kafka cluster and one control plane shared by the trials; nodes are
//! started per trial.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use crate::support::cp::ControlPlane;
use crate::support::gateway::Gateway;
use sluice_test_support::kafka::{KafkaCluster, NODE_ID_BASE};
use sluice_test_support::{ports, temp_dir, TempDir};

pub const WAIT: Duration = Duration::from_secs(60);

pub struct Env {
    pub dir: TempDir,
    pub kafka: KafkaCluster,
    /// Behind a lock because the outage trial stops and restarts it.
    pub cp: Mutex<ControlPlane>,
    /// First ports of listener `a` (virtual cluster vc-a) and `b` (vc-b).
    pub port_a: u16,
    pub port_b: u16,
}

impl Env {
    pub fn start() -> Env {
        let dir = temp_dir("cp-e2e");
        let kafka = KafkaCluster::start(1);
        let cp_dir = dir.path().join("cp");
        let cp = ControlPlane::start(&cp_dir, 0);
        let port_a = ports::free_port_block(3);
        let port_b = ports::free_port_block(3);
        Env {
            dir,
            kafka,
            cp: Mutex::new(cp),
            port_a,
            port_b,
        }
    }

    pub fn cp(&self) -> std::sync::MutexGuard<'_, ControlPlane> {
        self.cp.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The configuration the trials start from; `b_label` and `a_host` vary it.
    pub fn config(&self, b_label: &str, a_host: &str) -> String {
        self.config_with_a_policies(b_label, a_host, "[]")
    }

    /// As [`Env::config`], with `produce_policies` (a YAML flow list) on vc-a.
    pub fn config_with_a_policies(&self, b_label: &str, a_host: &str, a_policies: &str) -> String {
        let (a, b) = (self.port_a, self.port_b);
        format!(
            r#"backend_clusters:
  - name: kafka
    bootstrap_servers: ["{kafka}"]
virtual_clusters:
  - {{ name: vc-a, dns_label: vc-a, destination: {{ name: kafka }}, produce_policies: {a_policies} }}
  - {{ name: vc-b, dns_label: {b_label}, destination: {{ name: kafka }} }}
listeners:
  - name: a
    addresses: ["127.0.0.1"]
    ports: ["{a}-{a_last}"]
    policies:
      - type: forward_to_virtual_cluster
        config: {{ type: port_mapping, destination: {{ name: vc-a }}, advertised_host: {a_host}, min_broker_id: {min} }}
  - name: b
    addresses: ["127.0.0.1"]
    ports: ["{b}-{b_last}"]
    policies:
      - type: forward_to_virtual_cluster
        config: {{ type: port_mapping, destination: {{ name: vc-b }}, advertised_host: 127.0.0.1, min_broker_id: {min} }}
"#,
            kafka = self.kafka.bootstrap,
            a_last = a + 2,
            b_last = b + 2,
            min = NODE_ID_BASE,
        )
    }

    /// A node started with only the control plane's URL and its certificate.
    pub fn node(&self, id: &str) -> Node {
        let dir = self.dir.path().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let cp = self.cp();
        let (cert, key, ca) = cp.issue_cert(id, &dir);
        let url = cp.url.clone();
        drop(cp);
        Node::start(id, &url, &cert, &key, &ca, &dir.join("cache.json"))
    }
}

pub struct Node {
    pub id: String,
    pub gateway: Gateway,
    pub args: Vec<String>,
}

impl Node {
    pub fn start(id: &str, url: &str, cert: &Path, key: &Path, ca: &Path, cache: &Path) -> Node {
        let args: Vec<String> = [
            "--control-plane",
            url,
            "--cp-cert",
            path(cert),
            "--cp-key",
            path(key),
            "--cp-ca",
            path(ca),
            "--cp-cache",
            path(cache),
            "--shards",
            "2",
            "--no-pin",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let gateway = Gateway::start("# unused: configured by the control plane\n", 0, &refs);
        Node {
            id: id.to_string(),
            gateway,
            args,
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
