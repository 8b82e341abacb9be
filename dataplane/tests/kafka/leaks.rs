//! What clients are told about brokers: only gateway addresses, never a
//! backend host:port. Also: both shards take connections.

use std::collections::BTreeSet;
use std::time::Duration;

use kafka_protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, DescribeClusterRequest,
    DescribeClusterResponse, MetadataRequest, MetadataResponse,
};
use kafka_protocol::protocol::StrBytes;

use crate::support::raw::RawConn;
use crate::Env;
use sluice_test_support::kafka::{kcat_ok, tool_ok};

/// Gateway ports and backend ports of this run.
struct Ports {
    gateway: BTreeSet<i32>,
    backend: BTreeSet<i32>,
}

fn ports(env: &Env) -> Ports {
    let first = env.gateway.port as i32;
    Ports {
        gateway: (first..first + 5).collect(),
        backend: env
            .cluster
            .broker_ports()
            .into_iter()
            .map(i32::from)
            .collect(),
    }
}

fn assert_gateway_endpoint(ports: &Ports, host: &str, port: i32, what: &str) {
    assert_eq!(
        host, "127.0.0.1",
        "{what}: host {host} is not the advertised host"
    );
    assert!(
        !ports.backend.contains(&port),
        "{what}: backend port {port} reached the client"
    );
    assert!(
        ports.gateway.contains(&port),
        "{what}: port {port} is not a gateway port"
    );
}

/// Versions of `key` that both the gateway (as it advertises) and the broker support.
fn supported(conn: &mut RawConn, key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let versions: ApiVersionsResponse = conn.call(ApiKey::ApiVersions, 3, &api_versions_request());
    let api = versions
        .api_keys
        .iter()
        .find(|k| k.api_key == key as i16)
        .expect("api advertised");
    api.min_version..=api.max_version
}

pub fn no_backend_address(env: &Env) {
    let ports = ports(env);
    let mut conn = RawConn::connect(&env.gateway.bootstrap());
    for version in supported(&mut conn, ApiKey::Metadata) {
        let request = MetadataRequest::default().with_topics(Some(vec![]));
        let response: MetadataResponse = conn.call(ApiKey::Metadata, version, &request);
        assert_eq!(response.brokers.len(), 3, "Metadata v{version} brokers");
        for b in &response.brokers {
            assert_gateway_endpoint(&ports, &b.host, b.port, &format!("Metadata v{version}"));
        }
    }
    for version in supported(&mut conn, ApiKey::FindCoordinator) {
        let group = StrBytes::from_static_str("leak-check");
        let request = if version < 4 {
            FindCoordinatorRequest::default().with_key(group)
        } else {
            FindCoordinatorRequest::default().with_coordinator_keys(vec![group])
        };
        // Until the offsets topic exists the broker answers
        // COORDINATOR_NOT_AVAILABLE with no host: ask again until it names one.
        let response = sluice_test_support::wait::until(
            "the group coordinator to be available",
            Duration::from_secs(60),
            || {
                let response: FindCoordinatorResponse =
                    conn.call(ApiKey::FindCoordinator, version, &request);
                let known = match version < 4 {
                    true => response.error_code == 0,
                    false => response.coordinators.iter().all(|c| c.error_code == 0),
                };
                known.then_some(response)
            },
        );
        let what = format!("FindCoordinator v{version}");
        if version < 4 {
            assert_gateway_endpoint(&ports, &response.host, response.port, &what);
        } else {
            for c in &response.coordinators {
                assert_gateway_endpoint(&ports, &c.host, c.port, &what);
            }
        }
    }
    for version in supported(&mut conn, ApiKey::DescribeCluster) {
        let response: DescribeClusterResponse = conn.call(
            ApiKey::DescribeCluster,
            version,
            &DescribeClusterRequest::default(),
        );
        assert_eq!(response.brokers.len(), 3, "DescribeCluster v{version}");
        for b in &response.brokers {
            assert_gateway_endpoint(
                &ports,
                &b.host,
                b.port,
                &format!("DescribeCluster v{version}"),
            );
        }
    }
    clients_see_only_gateway(env, &ports);
}

/// The same, as kcat (librdkafka) and Kafka's own tools report it.
fn clients_see_only_gateway(env: &Env, ports: &Ports) {
    let gw = env.gateway.bootstrap();
    let listing = kcat_ok(&["-b", &gw, "-L", "-J"], None);
    let json: serde_json::Value =
        serde_json::from_str(&listing).expect("kcat -L -J output is JSON");
    let brokers = json["brokers"].as_array().expect("brokers in kcat listing");
    assert_eq!(brokers.len(), 3, "{listing}");
    for broker in brokers {
        let name = broker["name"].as_str().unwrap_or_default();
        let (host, port) = name.rsplit_once(':').expect("host:port");
        assert_gateway_endpoint(ports, host, port.parse().unwrap(), "kcat -L");
    }
    let versions = tool_ok(
        "kafka-broker-api-versions",
        &["--bootstrap-server", &gw],
        None,
    );
    for port in &ports.backend {
        assert!(
            !versions.contains(&format!(":{port} ")),
            "backend port {port} in:\n{versions}"
        );
    }
    let endpoints = versions.lines().filter(|l| l.contains("(id:")).count();
    assert_eq!(endpoints, 3, "{versions}");
}

pub fn api_versions_request() -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("sluice-test"))
        .with_client_software_version(StrBytes::from_static_str("1"))
}

pub fn both_shards_serve(env: &Env) {
    for _ in 0..64 {
        let mut conn = RawConn::connect(&env.gateway.bootstrap());
        let versions: ApiVersionsResponse =
            conn.call(ApiKey::ApiVersions, 3, &api_versions_request());
        assert_eq!(versions.error_code, 0);
        assert!(!versions.api_keys.is_empty());
    }
    for shard in ["shard=0", "shard=1"] {
        env.gateway.wait_log_line(
            &["connection closed", shard, "client closed"],
            Duration::from_secs(30),
        );
    }
}
