//! First-stage shapes of the document, decoded before the public types.
//!
//! They mirror the public schema but leave out `deny_unknown_fields` (unknown
//! fields are collected by `serde_ignored` instead, all of them), and hold
//! lists and polymorphic parts as raw values so each element is decoded on
//! its own and one bad element does not hide the errors of the others.

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::schema::{AclMode, BootstrapPort};

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
}

#[derive(Deserialize)]
#[serde(expecting = "a mapping like {enabled: false}")]
pub(super) struct RawBackendTls {
    pub enabled: Option<bool>,
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
}

/// A `forward_to_virtual_cluster` policy without its `type`.
#[derive(Deserialize)]
#[serde(expecting = "a mapping with a config")]
pub(super) struct RawForward {
    pub config: Value,
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
