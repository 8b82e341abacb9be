//! Unit tests for the config module, with shared fixtures.

mod auth_tests;
mod error_tests;
mod limits_tests;
mod mapping_tests;
mod multi_error_tests;
mod parse_tests;
mod policy_tests;
mod sni_tests;
mod tls_error_tests;
mod tls_tests;
mod unsupported_tests;

use super::{parse_config_str, ConfigErrors, ConfigFormat};

/// Every field set, two of each entity where it matters.
pub(super) const FULL_YAML: &str = r#"
backend_clusters:
  - name: local
    bootstrap_servers: ["127.0.0.1:9092", "kafka-1.internal:9092", "[::1]:9093"]
    authentication: { type: anonymous }
    tls: { enabled: false }
    metadata_update_interval_seconds: 30
  - name: other
    bootstrap_servers: ["kafka-2.internal:9092"]
virtual_clusters:
  - name: team-a
    dns_label: team-a
    destination: { name: local }
    authentication: [ { type: anonymous } ]
    acl_mode: passthrough
    namespace: null
    cluster_policies: []
    produce_policies: []
    consume_policies: []
  - name: team-b
    dns_label: b2
    destination: { name: other }
listeners:
  - name: plain
    addresses: ["0.0.0.0"]
    ports: [19092, "19093-19096"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: { name: team-a }
          advertised_host: 127.0.0.1
          bootstrap_port: at_start
          min_broker_id: 0
  - name: loopback-v6
    addresses: ["::1", "127.0.0.1"]
    ports: ["29092-29094"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: { name: team-b }
          advertised_host: localhost
          bootstrap_port: none
          min_broker_id: 1
"#;

/// The same document as [`FULL_YAML`], as JSON.
pub(super) const FULL_JSON: &str = r#"{
  "backend_clusters": [
    {
      "name": "local",
      "bootstrap_servers": ["127.0.0.1:9092", "kafka-1.internal:9092", "[::1]:9093"],
      "authentication": {"type": "anonymous"},
      "tls": {"enabled": false},
      "metadata_update_interval_seconds": 30
    },
    {"name": "other", "bootstrap_servers": ["kafka-2.internal:9092"]}
  ],
  "virtual_clusters": [
    {
      "name": "team-a",
      "dns_label": "team-a",
      "destination": {"name": "local"},
      "authentication": [{"type": "anonymous"}],
      "acl_mode": "passthrough",
      "namespace": null,
      "cluster_policies": [],
      "produce_policies": [],
      "consume_policies": []
    },
    {"name": "team-b", "dns_label": "b2", "destination": {"name": "other"}}
  ],
  "listeners": [
    {
      "name": "plain",
      "addresses": ["0.0.0.0"],
      "ports": [19092, "19093-19096"],
      "policies": [
        {
          "type": "forward_to_virtual_cluster",
          "config": {
            "type": "port_mapping",
            "destination": {"name": "team-a"},
            "advertised_host": "127.0.0.1",
            "bootstrap_port": "at_start",
            "min_broker_id": 0
          }
        }
      ]
    },
    {
      "name": "loopback-v6",
      "addresses": ["::1", "127.0.0.1"],
      "ports": ["29092-29094"],
      "policies": [
        {
          "type": "forward_to_virtual_cluster",
          "config": {
            "type": "port_mapping",
            "destination": {"name": "team-b"},
            "advertised_host": "localhost",
            "bootstrap_port": "none",
            "min_broker_id": 1
          }
        }
      ]
    }
  ]
}"#;

/// Only required fields; every test that breaks one thing starts here.
pub(super) const MINIMAL_YAML: &str = r#"
backend_clusters:
  - name: local
    bootstrap_servers: ["127.0.0.1:9092"]
virtual_clusters:
  - name: team-a
    dns_label: team-a
    destination: { name: local }
listeners:
  - name: plain
    ports: ["19092-19097"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: { name: team-a }
          advertised_host: 127.0.0.1
"#;

/// Parses YAML that must fail and returns its errors as `(path, message)`.
pub(super) fn errors_of(yaml: &str) -> Vec<(String, String)> {
    match parse_config_str(yaml, ConfigFormat::Yaml) {
        Ok(config) => panic!("expected errors, parsed {config:#?}"),
        Err(errors) => pairs(&errors),
    }
}

pub(super) fn pairs(errors: &ConfigErrors) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|error| (error.path.clone(), error.message.clone()))
        .collect()
}

/// [`MINIMAL_YAML`] with `from` replaced by `to` (which must occur).
pub(super) fn minimal_with(from: &str, to: &str) -> String {
    assert!(MINIMAL_YAML.contains(from), "fixture has no {from:?}");
    MINIMAL_YAML.replacen(from, to, 1)
}

/// Asserts that `yaml` fails with an error at exactly `path` whose message
/// contains `fragment`.
#[track_caller]
pub(super) fn assert_error(yaml: &str, path: &str, fragment: &str) {
    let errors = errors_of(yaml);
    assert!(
        errors
            .iter()
            .any(|(p, message)| p == path && message.contains(fragment)),
        "no error at {path:?} containing {fragment:?}; got {errors:#?}"
    );
}

/// Asserts the one and only error.
#[track_caller]
pub(super) fn assert_only_error(yaml: &str, path: &str, fragment: &str) {
    let errors = errors_of(yaml);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    assert_eq!(errors[0].0, path, "{errors:#?}");
    assert!(errors[0].1.contains(fragment), "{errors:#?}");
}
