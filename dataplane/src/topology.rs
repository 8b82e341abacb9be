//! What the gateway knows about each backend cluster's brokers. Built by the
//! discovery thread (which owns all DNS and blocking I/O) and sent to shards
//! as immutable values.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use sluice_wire::broker_versions::BrokerApiVersions;

/// A backend address with the host name it was resolved from: the name is
/// what TLS verifies the backend's certificate against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub addr: SocketAddr,
}

/// The brokers of one backend cluster at one point in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendTopology {
    pub backend: String,
    pub cluster_id: Option<String>,
    /// Resolved `bootstrap_servers`, in configured order.
    pub bootstrap: Vec<Endpoint>,
    pub brokers: BTreeMap<i32, Endpoint>,
    /// What the brokers answer to ApiVersions: how sluice answers a client
    /// that has no upstream connection yet.
    pub api_versions: Option<Arc<BrokerApiVersions>>,
}

impl BackendTopology {
    pub fn broker_endpoint(&self, node_id: i32) -> Option<Endpoint> {
        self.brokers.get(&node_id).cloned()
    }

    /// Same brokers at the same addresses with the same api versions
    /// (cluster id aside).
    pub fn same_brokers(&self, other: &BackendTopology) -> bool {
        self.brokers == other.brokers
            && self.bootstrap == other.bootstrap
            && self.api_versions == other.api_versions
    }
}
