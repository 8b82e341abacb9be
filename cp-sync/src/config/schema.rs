//! The configuration document as typed values.
//!
//! These types derive `Deserialize` for convenience, but plain serde stops at
//! the first error and cannot see unknown fields inside internally tagged
//! enums. Read documents with [`parse_config_str`] (or [`load_config_file`]),
//! which reports every problem with its path.
//!
//! Values the schema already names but sluice does not implement yet are
//! rejected during parsing (authentication schemes other than `anonymous`,
//! `namespace`, cluster and consume policy chains) or by [`validate`]
//! (`acl_mode: enforce_on_gateway`).
//!
//! TLS settings name their certificates and keys ([`PemSource`]); the files
//! are read by [`build_tls`](crate::tls::build_tls), never by a shard.
//!
//! [`parse_config_str`]: crate::config::parse_config_str
//! [`load_config_file`]: crate::config::load_config_file
//! [`validate`]: crate::config::validate

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

pub use super::auth_schema::{BackendAuthentication, VirtualAuthentication};

use super::limits::ListenerLimits;
use super::policies::ProducePolicy;
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
    /// Lets clients of an anonymous virtual cluster in front of this
    /// backend use the gateway's own backend credential.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_allow_anonymous_virtual_cluster_auth: bool,
}

impl BackendCluster {
    /// Whether connections opened under `self` are still right under
    /// `other`. Tuning fields (the metadata refresh interval) apply to live
    /// connections and do not count.
    pub fn connects_like(&self, other: &BackendCluster) -> bool {
        let retuned = BackendCluster {
            metadata_update_interval_seconds: other.metadata_update_interval_seconds,
            ..self.clone()
        };
        retuned == *other
    }
}

fn default_metadata_update_interval_seconds() -> u64 {
    DEFAULT_METADATA_UPDATE_INTERVAL_SECONDS
}

/// TLS from the gateway to a backend cluster. With `enabled: false` the
/// other fields are ignored (kept so TLS can be switched off and on again
/// without rewriting them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendTls {
    #[serde(default)]
    pub enabled: bool,
    /// CA certificates that sign the brokers' certificates; `None` trusts
    /// the public web PKI roots (webpki-roots).
    #[serde(default)]
    pub ca_bundle: Option<PemSource>,
    /// Accepts any broker certificate (handshake signatures are still
    /// checked). Dangerous: anyone on the path can impersonate the backend.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    #[serde(default)]
    pub tls_versions: TlsVersions,
    /// Certificate and key the gateway presents when brokers ask for one.
    #[serde(default)]
    pub client_identity: Option<CertificateSource>,
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
    /// Checks on every Produce request, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub produce_policies: Vec<ProducePolicy>,
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
    /// Left out when every limit has its default, so a document without
    /// `limits` reads back as it was written.
    #[serde(default, skip_serializing_if = "ListenerLimits::is_default")]
    pub limits: ListenerLimits,
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
        self.policies.iter().find_map(|policy| match policy {
            ListenerPolicy::ForwardToVirtualCluster(mapping) => Some(mapping),
            ListenerPolicy::TlsServer(_) => None,
        })
    }

    /// The listener's TLS termination settings; a validated listener has at
    /// most one, and `None` means plaintext.
    pub fn tls_server(&self) -> Option<&TlsServer> {
        self.policies.iter().find_map(|policy| match policy {
            ListenerPolicy::TlsServer(tls) => Some(tls),
            ListenerPolicy::ForwardToVirtualCluster(_) => None,
        })
    }
}

/// A listener policy: `{type: ..., config: {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "config", rename_all = "snake_case")]
pub enum ListenerPolicy {
    /// Sends the listener's connections to virtual clusters.
    ForwardToVirtualCluster(HostMapping),
    /// Terminates TLS on the listener's ports.
    TlsServer(TlsServer),
}

/// How brokers are told apart on a listener (DESIGN.md section 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HostMapping {
    PortMapping(PortMapping),
    Sni(SniMapping),
}

impl HostMapping {
    /// The one virtual cluster a port mapping forwards to; `None` for an SNI
    /// mapping, which serves every virtual cluster by its `dns_label`.
    pub fn destination(&self) -> Option<&Destination> {
        match self {
            HostMapping::PortMapping(mapping) => Some(&mapping.destination),
            HostMapping::Sni(_) => None,
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

/// One port for every broker of every virtual cluster, told apart by the TLS
/// server name (SNI); see [`SniMapping::bootstrap_host`] for the names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SniMapping {
    /// Ends every host name, e.g. `.kafka.example.com`; starts with a dot.
    pub sni_suffix: String,
    /// The port written into responses next to the SNI host names.
    pub advertised_port: u16,
    #[serde(default)]
    pub broker_host_format: BrokerHostFormat,
}

/// How SNI host names are put together from the virtual cluster's
/// `dns_label`, the broker and the suffix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerHostFormat {
    /// `bootstrap.<dns_label><sni_suffix>`, `broker-<id>.<dns_label><sni_suffix>`:
    /// one DNS zone (and wildcard certificate) per virtual cluster.
    #[default]
    PerClusterSuffix,
    /// `bootstrap-<dns_label><sni_suffix>`, `broker-<id>-<dns_label><sni_suffix>`:
    /// one wildcard certificate covers every virtual cluster.
    SharedSuffix,
}

/// TLS termination on a listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServer {
    /// Chosen by the client's SNI against each certificate's DNS names; the
    /// first one serves clients without SNI or with a name none covers.
    pub certificates: Vec<CertificateSource>,
    #[serde(default)]
    pub versions: TlsVersions,
    /// Also accept plaintext Kafka connections on the same ports.
    #[serde(default)]
    pub allow_plaintext: bool,
    #[serde(default)]
    pub client_authentication: ClientAuthentication,
}

/// A certificate chain (end-entity first) and its private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSource {
    pub certificate: PemSource,
    pub key: PemSource,
}

/// A file path, or inline PEM text when it starts with `-----BEGIN`.
///
/// `Debug` shows a path but never inline text, which may be a private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PemSource(pub String);

impl PemSource {
    pub fn new(source: impl Into<String>) -> Self {
        Self(source.into())
    }

    /// True when the value is PEM text rather than a path.
    pub fn is_inline(&self) -> bool {
        self.0.trim_start().starts_with("-----BEGIN")
    }

    /// The path, or `inline PEM`, for messages.
    pub fn describe(&self) -> String {
        if self.is_inline() {
            "inline PEM".to_owned()
        } else {
            self.0.clone()
        }
    }
}

impl fmt::Debug for PemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_inline() {
            write!(f, "PemSource(<inline PEM, {} bytes>)", self.0.len())
        } else {
            f.debug_tuple("PemSource").field(&self.0).finish()
        }
    }
}

/// The TLS protocol versions offered, `min` to `max` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsVersions {
    #[serde(default = "TlsVersion::lowest")]
    pub min: TlsVersion,
    #[serde(default = "TlsVersion::highest")]
    pub max: TlsVersion,
}

impl Default for TlsVersions {
    fn default() -> Self {
        Self {
            min: TlsVersion::lowest(),
            max: TlsVersion::highest(),
        }
    }
}

/// A TLS protocol version; written `"1.2"` or `"1.3"` (`TLSv1.2` and an
/// unquoted YAML `1.2` are read too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl TlsVersion {
    pub fn lowest() -> Self {
        TlsVersion::V1_2
    }

    pub fn highest() -> Self {
        TlsVersion::V1_3
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        })
    }
}

/// Whether and how clients present certificates to a `tls_server` listener.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientAuthentication {
    #[serde(default)]
    pub mode: ClientAuthMode,
    /// CA certificates that sign client certificates; ignored with mode none.
    #[serde(default)]
    pub trust_bundles: Vec<PemSource>,
    #[serde(default)]
    pub principal: PrincipalSource,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMode {
    /// No client certificate is asked for.
    #[default]
    None,
    /// Asked for; a client without one is let in, one with an untrusted one
    /// is refused.
    Requested,
    /// A certificate signed by a trust bundle is needed to connect.
    Required,
}

/// Which part of a client certificate names the client (its principal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalSource {
    /// The subject's common name (CN).
    #[default]
    SubjectCn,
    /// The whole subject in RFC 4514 form (`CN=alice,OU=eng,O=Example`).
    Subject,
    /// The first DNS name in the subject alternative names.
    SanDns,
    /// The first URI in the subject alternative names (e.g. a SPIFFE id).
    SanUri,
    /// The first e-mail address in the subject alternative names.
    SanEmail,
}
