//! First-stage shapes of the document, decoded before the public types.
//!
//! They mirror the public schema but leave out `deny_unknown_fields` (unknown
//! fields are collected by `serde_ignored` instead, all of them), and hold
//! lists and polymorphic parts as raw values so each element is decoded on
//! its own and one bad element does not hide the errors of the others.

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::schema::{
    AclMode, BootstrapPort, BrokerHostFormat, ClientAuthMode, PrincipalSource, TlsVersion,
};

#[derive(Deserialize)]
#[serde(expecting = "a mapping with backend_clusters, virtual_clusters and listeners")]
pub(super) struct RawDocument {
    pub backend_clusters: Option<Value>,
    pub virtual_clusters: Option<Value>,
    pub listeners: Option<Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a backend cluster mapping")]
pub(super) struct RawBackendCluster {
    pub name: String,
    pub bootstrap_servers: Vec<String>,
    pub authentication: Option<Value>,
    pub tls: Option<RawBackendTls>,
    pub metadata_update_interval_seconds: Option<u64>,
    pub insecure_allow_anonymous_virtual_cluster_auth: Option<bool>,
}

#[derive(Deserialize)]
#[serde(expecting = "a mapping like {enabled: false}")]
pub(super) struct RawBackendTls {
    pub enabled: Option<bool>,
    pub ca_bundle: Option<String>,
    pub insecure_skip_verify: Option<bool>,
    pub tls_versions: Option<RawTlsVersions>,
    pub client_identity: Option<RawCertificateSource>,
}

#[derive(Deserialize)]
#[serde(expecting = "a mapping like {min: \"1.2\", max: \"1.3\"}")]
pub(super) struct RawTlsVersions {
    pub min: Option<TlsVersion>,
    pub max: Option<TlsVersion>,
}

#[derive(Deserialize)]
#[serde(expecting = "a mapping like {certificate: /path/cert.pem, key: /path/key.pem}")]
pub(super) struct RawCertificateSource {
    pub certificate: String,
    pub key: String,
}

#[derive(Deserialize)]
#[serde(expecting = "a virtual cluster mapping")]
pub(super) struct RawVirtualCluster {
    pub name: String,
    pub dns_label: String,
    pub destination: RawDestination,
    pub authentication: Option<Vec<Value>>,
    pub acl_mode: Option<AclMode>,
    pub namespace: Option<Value>,
    pub cluster_policies: Option<Vec<Value>>,
    pub produce_policies: Option<Vec<Value>>,
    pub consume_policies: Option<Vec<Value>>,
}

#[derive(Deserialize)]
#[serde(expecting = "a mapping like {name: ...}")]
pub(super) struct RawDestination {
    pub name: String,
}

#[derive(Deserialize)]
#[serde(expecting = "a listener mapping")]
pub(super) struct RawListener {
    pub name: String,
    pub addresses: Option<Value>,
    pub ports: Vec<Value>,
    pub policies: Option<Vec<Value>>,
    pub limits: Option<Value>,
}

/// A listener policy without its `type`.
#[derive(Deserialize)]
#[serde(expecting = "a mapping with a config")]
pub(super) struct RawPolicy {
    pub config: Value,
}

/// A `tls_server` config. Certificates stay raw so each is decoded (and
/// its errors reported) on its own.
#[derive(Deserialize)]
#[serde(expecting = "a tls_server config mapping")]
pub(super) struct RawTlsServer {
    pub certificates: Vec<Value>,
    pub versions: Option<RawTlsVersions>,
    pub allow_plaintext: Option<bool>,
    pub client_authentication: Option<RawClientAuthentication>,
}

#[derive(Deserialize)]
#[serde(expecting = "a mapping like {mode: required, trust_bundles: [...]}")]
pub(super) struct RawClientAuthentication {
    pub mode: Option<ClientAuthMode>,
    pub trust_bundles: Option<Vec<String>>,
    pub principal: Option<PrincipalSource>,
}

/// An `sni` config without its `type`. The port is read wide so an out of
/// range value gets a port message rather than a bare integer type error.
#[derive(Deserialize)]
#[serde(expecting = "an sni config mapping")]
pub(super) struct RawSniMapping {
    pub sni_suffix: String,
    pub advertised_port: i64,
    pub broker_host_format: Option<BrokerHostFormat>,
}

/// A `port_mapping` config without its `type`.
#[derive(Deserialize)]
#[serde(expecting = "a port_mapping config mapping")]
pub(super) struct RawPortMapping {
    pub destination: RawDestination,
    pub advertised_host: String,
    pub bootstrap_port: Option<BootstrapPort>,
    pub min_broker_id: Option<i32>,
}

/// A variant with no fields: every key left after `type` is unknown.
#[derive(Deserialize)]
#[serde(expecting = "a mapping")]
pub(super) struct RawEmpty {}
