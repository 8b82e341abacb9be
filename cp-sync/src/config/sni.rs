//! SNI mapping: which TLS server name stands for which virtual cluster and
//! broker (DESIGN.md section 3).
//!
//! `per_cluster_suffix`: `bootstrap.<dns_label><sni_suffix>` and
//! `broker-<id>.<dns_label><sni_suffix>`. `shared_suffix`:
//! `bootstrap-<dns_label><sni_suffix>` and
//! `broker-<id>-<dns_label><sni_suffix>`. A `dns_label` starts with a letter,
//! so the node id and the label never run into each other.

use super::mapping::PortTarget;
use super::schema::{BrokerHostFormat, SniMapping};

/// What a TLS server name asks for: a virtual cluster (by its `dns_label`)
/// and its bootstrap or one of its brokers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SniRoute {
    pub dns_label: String,
    pub target: PortTarget,
}

impl SniMapping {
    /// The host name clients bootstrap from for the virtual cluster.
    pub fn bootstrap_host(&self, dns_label: &str) -> String {
        match self.broker_host_format {
            BrokerHostFormat::PerClusterSuffix => {
                format!("bootstrap.{dns_label}{}", self.sni_suffix)
            }
            BrokerHostFormat::SharedSuffix => format!("bootstrap-{dns_label}{}", self.sni_suffix),
        }
    }

    /// The host name written into responses for broker `node_id` (Kafka node
    /// ids are >= 0; a negative one gives a name [`route`](Self::route) does
    /// not read back).
    pub fn broker_host(&self, dns_label: &str, node_id: i32) -> String {
        match self.broker_host_format {
            BrokerHostFormat::PerClusterSuffix => {
                format!("broker-{node_id}.{dns_label}{}", self.sni_suffix)
            }
            BrokerHostFormat::SharedSuffix => {
                format!("broker-{node_id}-{dns_label}{}", self.sni_suffix)
            }
        }
    }

    /// Reads a TLS server name back into a route; `None` when it does not
    /// follow the mapping's format. Case-insensitive, as DNS is. Whether the
    /// label names an existing virtual cluster is for the caller to check.
    pub fn route(&self, server_name: &str) -> Option<SniRoute> {
        // A fully qualified name may end in a dot; DNS names compare case-insensitively.
        let name = server_name.trim_end_matches('.').to_ascii_lowercase();
        let suffix = self.sni_suffix.to_ascii_lowercase();
        let head = name.strip_suffix(&suffix)?;
        let separator = match self.broker_host_format {
            BrokerHostFormat::PerClusterSuffix => '.',
            BrokerHostFormat::SharedSuffix => '-',
        };
        if let Some(label) = head
            .strip_prefix("bootstrap")
            .and_then(|rest| rest.strip_prefix(separator))
        {
            return route_to(label, PortTarget::Bootstrap);
        }
        let rest = head.strip_prefix("broker-")?;
        let (id, label) = rest.split_once(separator)?;
        // Leading zeros would give one broker several names.
        let canonical = id == "0" || !id.starts_with('0');
        if id.is_empty() || !canonical || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let node_id = id.parse::<i32>().ok()?;
        route_to(label, PortTarget::Broker(node_id))
    }
}

/// A route for a label that could be a `dns_label` (one non-empty DNS label).
fn route_to(label: &str, target: PortTarget) -> Option<SniRoute> {
    let plausible = !label.is_empty()
        && !label.contains('.')
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plausible.then(|| SniRoute {
        dns_label: label.to_owned(),
        target,
    })
}
