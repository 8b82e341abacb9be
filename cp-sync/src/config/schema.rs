//! The configuration document as typed values.
//!
//! These types derive `Deserialize` for convenience, but plain serde stops at
//! the first error and cannot see unknown fields inside internally tagged
//! enums. Read documents with [`parse_config_str`] (or [`load_config_file`]),
//! which reports every problem with its path.
//!
//! Values the schema already names but sluice does not implement yet are
//! rejected during parsing (authentication schemes other than `anonymous`,
//! `namespace`, virtual cluster policy chains, `tls_server`, `sni`) or by
//! [`validate`] (`acl_mode: enforce_on_gateway`, `tls.enabled: true`).
//!
//! [`parse_config_str`]: crate::config::parse_config_str
//! [`load_config_file`]: crate::config::load_config_file
//! [`validate`]: crate::config::validate

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::ports::{ListenerPorts, PortRange};

/// One configuration document: every entity the gateway serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub backend_clusters: Vec<BackendCluster>,
    #[serde(default)]
    pub virtual_clusters: Vec<VirtualCluster>,
    #[serde(default)]
    pub listeners: Vec<Listener>,
}

pub const DEFAULT_METADATA_UPDATE_INTERVAL_SECONDS: u64 = 60;

/// A real Kafka cluster the gateway forwards to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendCluster {
    pub name: String,
    /// `host:port` entries; IPv6 hosts in brackets (`[::1]:9092`).
    pub bootstrap_servers: Vec<String>,
    #[serde(default)]
    pub authentication: BackendAuthentication,
    #[serde(default)]
    pub tls: BackendTls,
    #[serde(default = "default_metadata_update_interval_seconds")]
    pub metadata_update_interval_seconds: u64,
}

fn default_metadata_update_interval_seconds() -> u64 {
    DEFAULT_METADATA_UPDATE_INTERVAL_SECONDS
}

/// How the gateway authenticates to a backend cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackendAuthentication {
    #[default]
    Anonymous,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendTls {
    #[serde(default)]
    pub enabled: bool,
}

/// What clients see as a Kafka cluster: a view onto one backend cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualCluster {
    pub name: String,
    /// RFC 1035 label, used in SNI host names.
    pub dns_label: String,
    /// Names a backend cluster.
    pub destination: Destination,
    /// Accepted client authentication schemes, in order of preference.
    #[serde(default = "default_virtual_authentication")]
    pub authentication: Vec<VirtualAuthentication>,
    #[serde(default)]
    pub acl_mode: AclMode,
}

pub(super) fn default_virtual_authentication() -> Vec<VirtualAuthentication> {
    vec![VirtualAuthentication::Anonymous]
}

/// A reference to another entity by its `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    pub name: String,
}

impl Destination {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

/// How clients authenticate to a virtual cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VirtualAuthentication {
    Anonymous,
}

/// Who enforces Kafka ACLs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AclMode {
    /// The backend cluster enforces its own ACLs.
    #[default]
    Passthrough,
    /// The gateway enforces ACLs itself (not supported yet).
    EnforceOnGateway,
}

/// Where the gateway accepts client connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    pub name: String,
    #[serde(default = "default_addresses")]
    pub addresses: Vec<IpAddr>,
    pub ports: Vec<PortRange>,
    #[serde(default)]
    pub policies: Vec<ListenerPolicy>,
}

pub(super) fn default_addresses() -> Vec<IpAddr> {
    vec![IpAddr::V4(Ipv4Addr::UNSPECIFIED)]
}

impl Listener {
    /// The listener's ports, sorted and merged.
    pub fn listener_ports(&self) -> ListenerPorts {
        ListenerPorts::new(&self.ports)
    }

    /// Every port, ascending.
    pub fn sorted_ports(&self) -> Vec<u16> {
        self.listener_ports().sorted_ports()
    }

    pub fn first_port(&self) -> Option<u16> {
        self.listener_ports().first_port()
    }

    /// The listener's host mapping; a validated listener has exactly one.
    pub fn host_mapping(&self) -> Option<&HostMapping> {
        // `find_map` again once there are policies of other kinds.
        self.policies
            .iter()
            .map(|policy| match policy {
                ListenerPolicy::ForwardToVirtualCluster(mapping) => mapping,
            })
            .next()
    }
}

/// A listener policy: `{type: ..., config: {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "config", rename_all = "snake_case")]
pub enum ListenerPolicy {
    /// Sends the listener's connections to one virtual cluster.
    ForwardToVirtualCluster(HostMapping),
}

/// How brokers are told apart on a listener (DESIGN.md section 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostMapping {
    PortMapping(PortMapping),
}

impl HostMapping {
    /// The virtual cluster the mapping forwards to.
    pub fn destination(&self) -> &Destination {
        match self {
            HostMapping::PortMapping(mapping) => &mapping.destination,
        }
    }
}

/// One port per broker, after an optional bootstrap port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortMapping {
    /// Names a virtual cluster.
    pub destination: Destination,
    /// Host name or IP written into responses in place of backend hosts.
    pub advertised_host: String,
    #[serde(default)]
    pub bootstrap_port: BootstrapPort,
    /// Node id served on the first broker port.
    #[serde(default)]
    pub min_broker_id: i32,
}

/// Whether the listener's first port is a bootstrap port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapPort {
    /// The first port is the bootstrap; brokers follow.
    #[default]
    AtStart,
    /// No bootstrap port; the first port is broker `min_broker_id`.
    None,
}
