//! What `/status` reports: this node, the configuration in force, shards,
//! listeners and the brokers discovery knows. Written by the non-shard
//! threads that learn these things (sync, discovery), read by the admin
//! thread. Only names, addresses and ports: nothing from authentication or
//! TLS settings, so no secret can reach the output.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use cp_sync::config::{HostMapping, Listener};
use cp_sync::Snapshot;
use serde_json::{json, Value};

use crate::readiness::Readiness;
use crate::topology::BackendTopology;

pub struct StatusBoard {
    node_id: String,
    shards: usize,
    started: Instant,
    config: Mutex<Option<Arc<Snapshot>>>,
    topologies: Mutex<BTreeMap<String, Arc<BackendTopology>>>,
}

impl StatusBoard {
    pub fn new(node_id: String, shards: usize) -> Self {
        StatusBoard {
            node_id,
            shards,
            started: Instant::now(),
            config: Mutex::new(None),
            topologies: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn set_config(&self, snapshot: &Arc<Snapshot>) {
        *self.config.lock().unwrap_or_else(PoisonError::into_inner) = Some(snapshot.clone());
    }

    pub fn set_topology(&self, topology: &Arc<BackendTopology>) {
        let mut topologies = self
            .topologies
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        topologies.insert(topology.backend.clone(), topology.clone());
    }

    pub fn to_json(&self, readiness: &Readiness) -> Value {
        let config = self
            .config
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let topologies = self
            .topologies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let shards: Vec<Value> = (readiness.shard_bindings().iter().enumerate())
            .map(|(shard, b)| json!({"shard": shard, "epoch": b.epoch, "listeners_bound": b.bound}))
            .collect();
        let (listeners, backends) = match &config {
            Some(snapshot) => (
                listeners_json(snapshot),
                backends_json(snapshot, &topologies),
            ),
            None => (Vec::new(), Vec::new()),
        };
        json!({
            "node_id": self.node_id,
            "version": env!("CARGO_PKG_VERSION"),
            "uptime_seconds": self.started.elapsed().as_secs(),
            "ready": readiness.is_ready(),
            "not_ready_because": readiness.missing(),
            "draining": readiness.is_draining(),
            "config": config.as_ref().map(|s| json!({"epoch": s.epoch, "source": s.source})),
            "shard_count": self.shards,
            "shards": shards,
            "listeners": listeners,
            "backends": backends,
            "file_descriptors": file_descriptors(),
        })
    }
}

/// Read now, so each request sees the current count; null where the
/// system would not say.
fn file_descriptors() -> Value {
    let limit = crate::fd_limit::nofile_limit().ok();
    json!({
        "open": crate::fd_limit::open_fds().ok(),
        "soft_limit": limit.map(|l| l.soft),
        "hard_limit": limit.map(|l| l.hard),
    })
}

fn listeners_json(snapshot: &Snapshot) -> Vec<Value> {
    let config = &snapshot.config;
    (config.listeners.iter())
        .map(|listener| {
            let (mapping, clusters) = match listener.host_mapping() {
                Some(HostMapping::PortMapping(m)) => {
                    ("port_mapping", vec![m.destination.name.clone()])
                }
                Some(HostMapping::Sni(_)) => {
                    let all = config.virtual_clusters.iter().map(|vc| vc.name.clone());
                    ("sni", all.collect())
                }
                None => ("none", Vec::new()),
            };
            json!({
                "name": listener.name,
                "addresses": listener.addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "ports": ports(listener),
                "tls": listener.tls_server().is_some(),
                "host_mapping": mapping,
                "virtual_clusters": clusters,
            })
        })
        .collect()
}

fn ports(listener: &Listener) -> Vec<u16> {
    listener.listener_ports().ports().collect()
}

fn backends_json(
    snapshot: &Snapshot,
    topologies: &BTreeMap<String, Arc<BackendTopology>>,
) -> Vec<Value> {
    (snapshot.config.backend_clusters.iter())
        .map(|backend| {
            let topology = topologies.get(&backend.name);
            let brokers: BTreeMap<String, String> = (topology.iter())
                .flat_map(|t| t.brokers.iter())
                .map(|(node, endpoint)| {
                    (node.to_string(), host_port(&endpoint.host, endpoint.port))
                })
                .collect();
            json!({
                "name": backend.name,
                "bootstrap_servers": backend.bootstrap_servers,
                "cluster_id": topology.and_then(|t| t.cluster_id.clone()),
                "brokers": brokers,
            })
        })
        .collect()
}

/// IPv6 literals in brackets, so the port stays unambiguous.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Endpoint;

    #[test]
    fn status_lists_listeners_backends_and_brokers() {
        let yaml = r#"
backend_clusters:
  - { name: kafka, bootstrap_servers: ["127.0.0.1:9092"] }
virtual_clusters:
  - { name: vc, dns_label: vc, destination: { name: kafka } }
listeners:
  - name: plain
    addresses: ["127.0.0.1"]
    ports: ["19092-19094"]
    policies:
      - type: forward_to_virtual_cluster
        config: { type: port_mapping, destination: { name: vc }, advertised_host: 127.0.0.1 }
"#;
        let format = cp_sync::config::ConfigFormat::Yaml;
        let config = cp_sync::config::parse_config_str(yaml, format).expect("valid config");
        let tls = cp_sync::tls::build_tls(&config).expect("no TLS files");
        let snapshot = Snapshot::new(4, "test.yaml", config, tls, Default::default());
        let board = StatusBoard::new("node-a".into(), 1);
        board.set_config(&snapshot);
        let endpoint = |host: &str, port| Endpoint {
            host: host.into(),
            port,
            addr: "127.0.0.1:1".parse().unwrap(),
        };
        board.set_topology(&Arc::new(BackendTopology {
            backend: "kafka".into(),
            cluster_id: Some("c1".into()),
            bootstrap: vec![],
            brokers: [(1, endpoint("k1", 9092)), (2, endpoint("::1", 9093))].into(),
            api_versions: None,
        }));
        let readiness = Readiness::new(1, true);
        readiness.shard_bound(0, 4, true);
        let status = board.to_json(&readiness);
        assert_eq!(status["node_id"], "node-a");
        assert_eq!(status["config"]["epoch"], 4);
        assert_eq!(
            status["listeners"][0]["ports"],
            json!([19092, 19093, 19094])
        );
        assert_eq!(status["listeners"][0]["virtual_clusters"], json!(["vc"]));
        assert_eq!(status["backends"][0]["brokers"]["1"], "k1:9092");
        assert_eq!(status["backends"][0]["brokers"]["2"], "[::1]:9093");
        assert_eq!(status["shards"][0]["epoch"], 4);
        assert_eq!(status["ready"], false);
        let fds = &status["file_descriptors"];
        assert!(fds["open"].as_u64().is_some_and(|n| n > 0), "{fds}");
        assert!(
            fds["soft_limit"].as_u64() <= fds["hard_limit"].as_u64(),
            "{fds}"
        );
    }
}
