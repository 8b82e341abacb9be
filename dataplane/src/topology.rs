//! What the gateway knows about each backend cluster's brokers. Built by the
//! discovery thread (which owns all DNS and blocking I/O) and sent to shards
//! as immutable values.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// One backend broker as the backend advertises it, with the address the
/// discovery thread resolved for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerEndpoint {
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
    pub bootstrap: Vec<SocketAddr>,
    pub brokers: BTreeMap<i32, BrokerEndpoint>,
}

impl BackendTopology {
    pub fn broker_addr(&self, node_id: i32) -> Option<SocketAddr> {
        self.brokers.get(&node_id).map(|b| b.addr)
    }

    /// Same brokers at the same addresses (cluster id and bootstrap list aside).
    pub fn same_brokers(&self, other: &BackendTopology) -> bool {
        self.brokers == other.brokers && self.bootstrap == other.bootstrap
    }
}
