//! `tls_server`, `sni` and backend `tls`: parsing, defaults and every
//! validation error at its exact path.

use super::super::{
    parse_config_str, validate, BackendTls, BrokerHostFormat, CertificateSource, ClientAuthMode,
    ClientAuthentication, Config, ConfigFormat, HostMapping, ListenerPolicy, PemSource,
    PrincipalSource, SniMapping, TlsServer, TlsVersion, TlsVersions,
};

/// One SNI listener with TLS and mTLS, one port-mapped TLS listener with
/// inline PEM, and a backend with every TLS field.
pub(super) const TLS_YAML: &str = r#"
backend_clusters:
  - name: secure
    bootstrap_servers: ["kafka-1.internal:9093"]
    tls:
      enabled: true
      ca_bundle: /etc/sluice/backend-ca.pem
      insecure_skip_verify: false
      tls_versions: { min: "1.2", max: "1.3" }
      client_identity: { certificate: /etc/sluice/gateway.pem, key: /etc/sluice/gateway.key }
virtual_clusters:
  - name: team-a
    dns_label: team-a
    destination: { name: secure }
  - name: team-b
    dns_label: team-b
    destination: { name: secure }
listeners:
  - name: sni
    ports: [9092]
    policies:
      - type: tls_server
        config:
          certificates:
            - { certificate: /etc/sluice/a.pem, key: /etc/sluice/a.key }
            - { certificate: /etc/sluice/b.pem, key: /etc/sluice/b.key }
          versions: { min: 1.3, max: TLSv1.3 }
          allow_plaintext: false
          client_authentication:
            mode: required
            trust_bundles: [/etc/sluice/clients-ca.pem]
            principal: san_uri
      - type: forward_to_virtual_cluster
        config:
          type: sni
          sni_suffix: .kafka.example.com
          advertised_port: 9092
          broker_host_format: shared_suffix
  - name: tls-ports
    ports: ["19092-19095"]
    policies:
      - type: tls_server
        config:
          certificates:
            - certificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
              key: /etc/sluice/ports.key
          allow_plaintext: true
      - type: forward_to_virtual_cluster
        config: { type: port_mapping, destination: { name: team-a }, advertised_host: 127.0.0.1 }
"#;

const TLS_JSON: &str = r#"{
  "backend_clusters": [{
    "name": "secure",
    "bootstrap_servers": ["kafka-1.internal:9093"],
    "tls": {
      "enabled": true,
      "ca_bundle": "/etc/sluice/backend-ca.pem",
      "insecure_skip_verify": false,
      "tls_versions": {"min": "1.2", "max": "1.3"},
      "client_identity": {"certificate": "/etc/sluice/gateway.pem", "key": "/etc/sluice/gateway.key"}
    }
  }],
  "virtual_clusters": [
    {"name": "team-a", "dns_label": "team-a", "destination": {"name": "secure"}},
    {"name": "team-b", "dns_label": "team-b", "destination": {"name": "secure"}}
  ],
  "listeners": [
    {
      "name": "sni",
      "ports": [9092],
      "policies": [
        {"type": "tls_server", "config": {
          "certificates": [
            {"certificate": "/etc/sluice/a.pem", "key": "/etc/sluice/a.key"},
            {"certificate": "/etc/sluice/b.pem", "key": "/etc/sluice/b.key"}
          ],
          "versions": {"min": 1.3, "max": "TLSv1.3"},
          "allow_plaintext": false,
          "client_authentication": {
            "mode": "required",
            "trust_bundles": ["/etc/sluice/clients-ca.pem"],
            "principal": "san_uri"
          }
        }},
        {"type": "forward_to_virtual_cluster", "config": {
          "type": "sni",
          "sni_suffix": ".kafka.example.com",
          "advertised_port": 9092,
          "broker_host_format": "shared_suffix"
        }}
      ]
    },
    {
      "name": "tls-ports",
      "ports": ["19092-19095"],
      "policies": [
        {"type": "tls_server", "config": {
          "certificates": [{
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "key": "/etc/sluice/ports.key"
          }],
          "allow_plaintext": true
        }},
        {"type": "forward_to_virtual_cluster", "config": {
          "type": "port_mapping", "destination": {"name": "team-a"}, "advertised_host": "127.0.0.1"
        }}
      ]
    }
  ]
}"#;

fn pem(text: &str) -> PemSource {
    PemSource::new(text)
}

fn pair(certificate: &str, key: &str) -> CertificateSource {
    CertificateSource {
        certificate: pem(certificate),
        key: pem(key),
    }
}

pub(super) fn parse(yaml: &str) -> Config {
    match parse_config_str(yaml, ConfigFormat::Yaml) {
        Ok(config) => config,
        Err(errors) => panic!("expected a valid config:\n{errors}"),
    }
}

#[test]
fn every_tls_field_parses() {
    let config = parse(TLS_YAML);
    let tls = &config.backend_clusters[0].tls;
    let expected_backend = BackendTls {
        enabled: true,
        ca_bundle: Some(pem("/etc/sluice/backend-ca.pem")),
        insecure_skip_verify: false,
        tls_versions: TlsVersions::default(),
        client_identity: Some(pair("/etc/sluice/gateway.pem", "/etc/sluice/gateway.key")),
    };
    assert_eq!(tls, &expected_backend);
    let sni = &config.listeners[0];
    let expected_server = TlsServer {
        certificates: vec![
            pair("/etc/sluice/a.pem", "/etc/sluice/a.key"),
            pair("/etc/sluice/b.pem", "/etc/sluice/b.key"),
        ],
        versions: TlsVersions {
            min: TlsVersion::V1_3,
            max: TlsVersion::V1_3,
        },
        allow_plaintext: false,
        client_authentication: ClientAuthentication {
            mode: ClientAuthMode::Required,
            trust_bundles: vec![pem("/etc/sluice/clients-ca.pem")],
            principal: PrincipalSource::SanUri,
        },
    };
    assert_eq!(sni.tls_server(), Some(&expected_server));
    let expected_mapping = HostMapping::Sni(SniMapping {
        sni_suffix: ".kafka.example.com".to_owned(),
        advertised_port: 9092,
        broker_host_format: BrokerHostFormat::SharedSuffix,
    });
    assert_eq!(sni.host_mapping(), Some(&expected_mapping));
    assert_eq!(sni.host_mapping().and_then(HostMapping::destination), None);
    let ports = &config.listeners[1];
    let server = ports.tls_server().expect("tls_server policy");
    assert!(server.allow_plaintext);
    assert!(server.certificates[0].certificate.is_inline());
    assert!(!server.certificates[0].key.is_inline());
    let destination = ports.host_mapping().and_then(HostMapping::destination);
    assert_eq!(destination.map(|d| d.name.as_str()), Some("team-a"));
}

#[test]
fn json_and_yaml_agree_and_round_trip() {
    let yaml = parse(TLS_YAML);
    let json = parse_config_str(TLS_JSON, ConfigFormat::Json).expect("valid json");
    assert_eq!(yaml, json);
    let text = serde_yaml_ng::to_string(&yaml).expect("serialize yaml");
    assert_eq!(parse(&text), yaml);
    let text = serde_json::to_string(&yaml).expect("serialize json");
    assert_eq!(
        parse_config_str(&text, ConfigFormat::Json),
        Ok(yaml.clone())
    );
    let direct: Config = serde_json::from_str(&text).expect("serde derive");
    assert_eq!(direct, yaml);
    assert_eq!(validate(&yaml), Ok(()));
}

#[test]
fn tls_defaults() {
    let yaml = TLS_YAML
        .replacen(
            "          versions: { min: 1.3, max: TLSv1.3 }\n          allow_plaintext: false\n",
            "",
            1,
        )
        .replacen("            principal: san_uri\n", "", 1)
        .replacen("          broker_host_format: shared_suffix\n", "", 1);
    let config = parse(&yaml);
    let server = config.listeners[0].tls_server().expect("tls_server");
    assert_eq!(server.versions, TlsVersions::default());
    assert_eq!(server.versions.min, TlsVersion::V1_2);
    assert_eq!(server.versions.max, TlsVersion::V1_3);
    assert!(!server.allow_plaintext);
    let auth = &server.client_authentication;
    assert_eq!(auth.principal, PrincipalSource::SubjectCn);
    let Some(HostMapping::Sni(sni)) = config.listeners[0].host_mapping() else {
        panic!("sni mapping");
    };
    assert_eq!(sni.broker_host_format, BrokerHostFormat::PerClusterSuffix);
    let minimal = yaml.replacen(
        "          client_authentication:\n            mode: required\n            trust_bundles: [/etc/sluice/clients-ca.pem]\n",
        "",
        1,
    );
    let config = parse(&minimal);
    let server = config.listeners[0].tls_server().expect("tls_server");
    assert_eq!(
        server.client_authentication,
        ClientAuthentication::default()
    );
    assert_eq!(server.client_authentication.mode, ClientAuthMode::None);
    let backend = TLS_YAML.replacen(
        "      ca_bundle: /etc/sluice/backend-ca.pem\n      insecure_skip_verify: false\n      tls_versions: { min: \"1.2\", max: \"1.3\" }\n      client_identity: { certificate: /etc/sluice/gateway.pem, key: /etc/sluice/gateway.key }\n",
        "",
        1,
    );
    let tls = parse(&backend).backend_clusters[0].tls.clone();
    let expected = BackendTls {
        enabled: true,
        ..BackendTls::default()
    };
    assert_eq!(tls, expected);
    assert_eq!(tls.tls_versions, TlsVersions::default());
}

#[test]
fn tls_version_spellings() {
    let version = |text: &str| serde_json::from_str::<TlsVersion>(text).map_err(|e| e.to_string());
    assert_eq!(version("\"1.2\""), Ok(TlsVersion::V1_2));
    assert_eq!(version("\"TLSv1.2\""), Ok(TlsVersion::V1_2));
    assert_eq!(version("1.3"), Ok(TlsVersion::V1_3));
    assert_eq!(version("\"TLSv1.3\""), Ok(TlsVersion::V1_3));
    assert!(version("\"1.1\"").is_err_and(|e| e.contains("unknown TLS version \"1.1\"")));
    assert!(version("1").is_err_and(|e| e.contains("unknown TLS version 1")));
    assert_eq!(
        serde_json::to_string(&TlsVersion::V1_2).ok(),
        Some("\"1.2\"".into())
    );
    assert!(TlsVersion::V1_2 < TlsVersion::V1_3);
}

#[test]
fn pem_source_debug_hides_inline_text() {
    let key = pem("-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n");
    let shown = format!("{key:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("inline PEM"), "{shown}");
    assert_eq!(key.describe(), "inline PEM");
    let path = pem("/etc/sluice/a.key");
    assert_eq!(format!("{path:?}"), "PemSource(\"/etc/sluice/a.key\")");
    assert_eq!(path.describe(), "/etc/sluice/a.key");
    let config = parse(TLS_YAML);
    assert!(!format!("{config:?}").contains("MIIB"));
}

#[test]
fn two_sni_listeners_are_fine() {
    let second = "  - name: sni-2\n    ports: [9093]\n    policies:\n      - type: tls_server\n        config: { certificates: [{certificate: c.pem, key: k.pem}] }\n      - type: forward_to_virtual_cluster\n        config: { type: sni, sni_suffix: .other.example.com, advertised_port: 443 }\n";
    let config = parse(&format!("{TLS_YAML}{second}"));
    assert_eq!(config.listeners.len(), 3);
    assert!(matches!(
        config.listeners[2].policies[1],
        ListenerPolicy::ForwardToVirtualCluster(HostMapping::Sni(_))
    ));
}
