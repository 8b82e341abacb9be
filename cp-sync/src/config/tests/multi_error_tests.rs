//! Many errors in one document: all reported, in document order.

use super::super::{
    parse_config_str, validate, AclMode, BackendAuthentication, BackendCluster, BackendTls, Config,
    ConfigFormat, Destination, Listener, PemSource, PortRange, VirtualAuthentication,
    VirtualCluster,
};

const BROKEN: &str = r#"
backend_clusters:
  - name: local
    bootstrap_servers: ["127.0.0.1:9092", "kafka-1"]
    colour: blue
virtual_clusters:
  - name: team-a
    dns_label: team-a
    destination: { name: missing }
listeners:
  - name: plain
    ports: ["19092-19097"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: { name: team-a }
          advertised_host: 127.0.0.1
          bootstrap_prot: at_start
          min_broker_id: -1
  - name: second
    addresses: ["127.0.0.1"]
    ports: ["19099-19095", 19097]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: { name: team-a }
          advertised_host: 127.0.0.1
          min_broker_id: lots
      - type: forward_to_virtual_cluster
        config: { type: port_mapping, destination: { name: team-a }, advertised_host: h, bootstrap_port: sometimes }
"#;

#[test]
fn every_error_is_reported_in_document_order() {
    let errors = parse_config_str(BROKEN, ConfigFormat::Yaml).expect_err("broken config");
    let expected = [
        "backend_clusters[0].bootstrap_servers[1]: \"kafka-1\" has no port; write host:port, e.g. kafka-1:9092 or [::1]:9092",
        "backend_clusters[0].colour: unknown field; remove it or fix its name",
        "virtual_clusters[0].destination.name: no backend cluster named \"missing\"",
        "listeners[0].policies[0].config.bootstrap_prot: unknown field; did you mean `bootstrap_port`?",
        "listeners[0].policies[0].config.min_broker_id: must be >= 0",
        "listeners[1].ports[0]: range 19099-19095 is inverted; write the lower port first (19095-19099)",
        "listeners[1].ports[1]: listeners \"second\" and \"plain\" (listeners[0].ports[0]) both use port 19097 on an overlapping address; give each listener its own ports",
        "listeners[1].policies[0].config.min_broker_id: invalid type: string \"lots\", expected i32",
        "listeners[1].policies[1].config.bootstrap_port: unknown variant `sometimes`, expected `at_start` or `none`",
    ];
    assert_eq!(errors.to_string(), expected.join("\n"));
}

#[test]
fn validate_reports_code_built_configs_in_schema_order() {
    let config = Config {
        backend_clusters: vec![BackendCluster {
            name: String::new(),
            bootstrap_servers: vec![],
            authentication: BackendAuthentication::Anonymous,
            tls: BackendTls {
                enabled: true,
                ca_bundle: Some(PemSource::new("")),
                ..BackendTls::default()
            },
            metadata_update_interval_seconds: 0,
            insecure_allow_anonymous_virtual_cluster_auth: false,
        }],
        virtual_clusters: vec![VirtualCluster {
            name: "v".to_owned(),
            dns_label: "V".to_owned(),
            destination: Destination::new("nowhere"),
            authentication: vec![VirtualAuthentication::Anonymous],
            acl_mode: AclMode::EnforceOnGateway,
            produce_policies: Vec::new(),
        }],
        listeners: vec![Listener {
            name: "l".to_owned(),
            addresses: vec![],
            ports: vec![PortRange::new(10, 5)],
            policies: vec![],
            limits: Default::default(),
        }],
    };
    let errors = validate(&config).expect_err("invalid");
    let paths: Vec<&str> = errors.iter().map(|error| error.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "backend_clusters[0].name",
            "backend_clusters[0].bootstrap_servers",
            "backend_clusters[0].tls.ca_bundle",
            "backend_clusters[0].metadata_update_interval_seconds",
            "virtual_clusters[0].dns_label",
            "virtual_clusters[0].destination.name",
            "virtual_clusters[0].acl_mode",
            "listeners[0].addresses",
            "listeners[0].ports[0]",
            "listeners[0].policies",
        ]
    );
}
