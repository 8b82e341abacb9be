//! SNI host name formulas, and the example files that use TLS.

use std::path::{Path, PathBuf};

use super::super::{
    load_config_file, BrokerHostFormat, ClientAuthMode, HostMapping, PortTarget, SniMapping,
    SniRoute,
};

fn mapping(format: BrokerHostFormat) -> SniMapping {
    SniMapping {
        sni_suffix: ".kafka.example.com".to_owned(),
        advertised_port: 9092,
        broker_host_format: format,
    }
}

fn route(label: &str, target: PortTarget) -> Option<SniRoute> {
    Some(SniRoute {
        dns_label: label.to_owned(),
        target,
    })
}

#[test]
fn per_cluster_suffix_names() {
    let sni = mapping(BrokerHostFormat::PerClusterSuffix);
    assert_eq!(
        sni.bootstrap_host("team-a"),
        "bootstrap.team-a.kafka.example.com"
    );
    assert_eq!(
        sni.broker_host("team-a", 3),
        "broker-3.team-a.kafka.example.com"
    );
    assert_eq!(
        sni.route("bootstrap.team-a.kafka.example.com"),
        route("team-a", PortTarget::Bootstrap)
    );
    assert_eq!(
        sni.route("BROKER-12.Team-A.kafka.example.COM"),
        route("team-a", PortTarget::Broker(12))
    );
    let misses = [
        "bootstrap-team-a.kafka.example.com",
        "broker-3-team-a.kafka.example.com",
        "broker-x.team-a.kafka.example.com",
        "broker-.team-a.kafka.example.com",
        "broker-3.team-a.other.example.com",
        "bootstrap..kafka.example.com",
        "bootstrap.a.b.kafka.example.com",
        "kafka.example.com",
        "broker-99999999999.team-a.kafka.example.com",
    ];
    for name in misses {
        assert_eq!(sni.route(name), None, "{name}");
    }
}

#[test]
fn shared_suffix_names() {
    let sni = mapping(BrokerHostFormat::SharedSuffix);
    assert_eq!(
        sni.bootstrap_host("team-a"),
        "bootstrap-team-a.kafka.example.com"
    );
    assert_eq!(
        sni.broker_host("team-a", 0),
        "broker-0-team-a.kafka.example.com"
    );
    assert_eq!(
        sni.route("bootstrap-team-a.kafka.example.com"),
        route("team-a", PortTarget::Bootstrap)
    );
    // The node id ends at the first '-': labels start with a letter.
    assert_eq!(
        sni.route("broker-7-a-1-b.kafka.example.com"),
        route("a-1-b", PortTarget::Broker(7))
    );
    for name in [
        "bootstrap.team-a.kafka.example.com",
        "broker-7.team-a.kafka.example.com",
        "broker-team-a.kafka.example.com",
        "bootstrap-.kafka.example.com",
    ] {
        assert_eq!(sni.route(name), None, "{name}");
    }
}

#[test]
fn names_read_back_for_every_format() {
    for format in [
        BrokerHostFormat::PerClusterSuffix,
        BrokerHostFormat::SharedSuffix,
    ] {
        let sni = mapping(format);
        for label in ["a", "team-a", "x9"] {
            let bootstrap = sni.bootstrap_host(label);
            assert_eq!(sni.route(&bootstrap), route(label, PortTarget::Bootstrap));
            for node in [0, 1, 42, i32::MAX] {
                let broker = sni.broker_host(label, node);
                assert_eq!(sni.route(&broker), route(label, PortTarget::Broker(node)));
            }
        }
    }
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/examples")
        .join(name)
}

/// Parses and validates only: the certificate paths exist on a gateway
/// host, not here.
fn load_example(name: &str) -> super::super::Config {
    match load_config_file(&example(name)) {
        Ok(config) => config,
        Err(errors) => panic!("{name} is invalid:\n{errors}"),
    }
}

#[test]
fn example_sni_per_cluster_parses() {
    let config = load_example("sni-per-cluster.yaml");
    let listener = &config.listeners[0];
    let Some(HostMapping::Sni(sni)) = listener.host_mapping() else {
        panic!("first listener has no sni mapping");
    };
    assert_eq!(sni.broker_host_format, BrokerHostFormat::PerClusterSuffix);
    assert!(listener.tls_server().is_some());
    assert!(config.virtual_clusters.len() >= 2);
}

#[test]
fn example_sni_shared_suffix_parses() {
    let config = load_example("sni-shared-suffix.yaml");
    let listener = &config.listeners[0];
    let Some(HostMapping::Sni(sni)) = listener.host_mapping() else {
        panic!("first listener has no sni mapping");
    };
    assert_eq!(sni.broker_host_format, BrokerHostFormat::SharedSuffix);
    let tls = listener.tls_server().expect("tls_server");
    assert_eq!(tls.client_authentication.mode, ClientAuthMode::Required);
}

#[test]
fn example_backend_tls_parses() {
    let config = load_example("backend-tls.yaml");
    assert!(config.backend_clusters.iter().all(|b| b.tls.enabled));
    assert!(config.backend_clusters[0].tls.ca_bundle.is_some());
    assert!(config.backend_clusters[0].tls.client_identity.is_some());
}

#[test]
fn reference_doc_sni_example_parses() {
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let markdown =
        std::fs::read_to_string(readme).expect("README with the configuration reference");
    let section = markdown
        .find("#### Host mapping: `sni`")
        .map(|start| &markdown[start..])
        .expect("sni section");
    let opening = "```yml\n";
    let start = section.find(opening).expect("yml block") + opening.len();
    let length = section[start..].find("```").expect("block closed");
    let config = super::super::parse_config_str(
        &section[start..start + length],
        super::super::ConfigFormat::Yaml,
    );
    let config = config.unwrap_or_else(|errors| panic!("README sni example:\n{errors}"));
    let Some(HostMapping::Sni(sni)) = config.listeners[0].host_mapping() else {
        panic!("README sni example has no sni mapping");
    };
    // The worked example's second row.
    assert_eq!(
        sni.bootstrap_host("team-a"),
        "bootstrap-team-a.kafka.example.com"
    );
    assert_eq!(
        sni.broker_host("team-b", 2),
        "broker-2-team-b.kafka.example.com"
    );
}
