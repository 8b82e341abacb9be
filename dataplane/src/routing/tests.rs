//! What a reload does to open connections, by what changed.

use super::*;

const CONFIG: &str = r#"
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

fn table(epoch: u64, yaml: &str) -> RouteTable {
    let format = cp_sync::config::ConfigFormat::Yaml;
    let config = cp_sync::config::parse_config_str(yaml, format).expect("valid config");
    let tls = cp_sync::tls::build_tls(&config).expect("no TLS files");
    RouteTable::compile(&Snapshot::new(
        epoch,
        "test.yaml",
        config,
        tls,
        Default::default(),
    ))
}

fn with_limits(limits: &str) -> String {
    format!("{CONFIG}    limits: {limits}\n")
}

/// A connection to the bootstrap port under `routes`.
fn open_connection(routes: &RouteTable) -> ConnRoute {
    let listener = routes.listener("plain").expect("listener plain");
    listener.port_route(19092).expect("bootstrap route")
}

#[test]
fn listener_routes_carry_their_limits() {
    let routes = table(1, &with_limits("{max_connections: 5, idle_timeout_ms: 0}"));
    let listener = routes.listener("plain").expect("listener plain");
    assert_eq!(listener.limits.max_connections, Some(5));
    assert_eq!(listener.limits.idle_timeout(), None);
    let plain = table(1, CONFIG);
    let listener = plain.listener("plain").expect("listener plain");
    assert!(listener.limits.is_default());
}

#[test]
fn changing_only_limits_keeps_open_connections() {
    let before = table(1, CONFIG);
    let conn = open_connection(&before);
    let limited = with_limits(
        r#"{max_connections: 1, max_connections_per_ip: 1, max_connections_per_ip_overrides: {"127.0.0.1": 0}, first_frame_timeout_ms: 1, frame_timeout_ms: 1, idle_timeout_ms: 1}"#,
    );
    let after = table(2, &limited);
    assert_eq!(after.still_valid(&conn), Ok(()));
    let conn = open_connection(&after);
    assert_eq!(table(3, CONFIG).still_valid(&conn), Ok(()));
}

#[test]
fn changing_the_rest_of_a_listener_still_closes_its_connections() {
    let conn = open_connection(&table(1, &with_limits("{max_connections: 5}")));
    let moved = with_limits("{max_connections: 5}").replace("19092-19094", "19092-19095");
    assert_eq!(
        table(2, &moved).still_valid(&conn),
        Err("listener plain changed".to_owned())
    );
}
