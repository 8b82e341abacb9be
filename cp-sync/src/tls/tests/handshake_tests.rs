//! Real rustls handshakes against the configurations `build_tls` makes.

use std::sync::Arc;

use rcgen::SanType;
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConfig, ProtocolVersion, ServerConfig};

use super::super::{build_tls, client_principal};
use super::{
    client_accepting_any, client_trusting, config_with, handshake, inline, pair, self_signed,
    tls_server, Ca, Leaf, TempDir,
};
use crate::config::{
    BackendTls, ClientAuthMode, ClientAuthentication, PemSource, PrincipalSource, TlsServer,
    TlsVersion, TlsVersions,
};

fn server_for(tls: TlsServer) -> Arc<ServerConfig> {
    let config = config_with(vec![tls], vec![]);
    match build_tls(&config) {
        Ok(materials) => materials.servers["l0"].clone(),
        Err(errors) => panic!("server config failed:\n{errors}"),
    }
}

fn backend_for(tls: BackendTls) -> Arc<ClientConfig> {
    let config = config_with(vec![], vec![tls]);
    match build_tls(&config) {
        Ok(materials) => materials.backends["b0"].clone(),
        Err(errors) => panic!("backend config failed:\n{errors}"),
    }
}

/// The certificate the server presented to a client asking for `name`.
fn chosen(server: &Arc<ServerConfig>, name: &str, sni: bool) -> Vec<u8> {
    let mut client = client_accepting_any(&[&TLS13]);
    client.enable_sni = sni;
    let (client, _) = handshake(Arc::new(client), server.clone(), name).expect("handshake");
    let certificates = client.peer_certificates().expect("server certificate");
    certificates[0].to_vec()
}

#[test]
fn plain_tls_handshake() {
    let ca = Ca::new("ca");
    let leaf = ca.server(&["kafka.example.com"]);
    let dir = TempDir::new("plain");
    let files = pair(
        dir.write("s.pem", &leaf.cert_pem),
        dir.write("s.key", &leaf.key_pem),
    );
    let server = server_for(tls_server(vec![files]));
    assert!(server.alpn_protocols.is_empty(), "ALPN stays unset");
    let (client, server) =
        handshake(client_trusting(&ca.pem, None), server, "kafka.example.com").expect("handshake");
    assert_eq!(client.protocol_version(), Some(ProtocolVersion::TLSv1_3));
    assert_eq!(server.server_name(), Some("kafka.example.com"));
    assert!(server.peer_certificates().is_none());
}

#[test]
fn certificate_is_chosen_by_sni() {
    let ca = Ca::new("ca");
    let exact = ca.server(&["a.example.com", "bootstrap.example.com"]);
    let wildcard = ca.server(&["*.team-b.example.com"]);
    let specific = ca.server(&["broker-1.team-b.example.com"]);
    let server = server_for(tls_server(vec![
        inline(&exact),
        inline(&wildcard),
        inline(&specific),
    ]));
    let cases: [(&str, &Leaf); 7] = [
        ("a.example.com", &exact),
        ("BOOTSTRAP.example.com", &exact),
        ("broker-0.team-b.example.com", &wildcard),
        // An exact name wins over a wildcard, whatever the order.
        ("broker-1.team-b.example.com", &specific),
        // A wildcard covers exactly one label: not zero, not two.
        ("team-b.example.com", &exact),
        ("x.broker-0.team-b.example.com", &exact),
        ("unknown.example.org", &exact),
    ];
    for (name, expected) in cases {
        assert_eq!(chosen(&server, name, true), expected.der.to_vec(), "{name}");
    }
    assert_eq!(
        chosen(&server, "broker-0.team-b.example.com", false),
        exact.der.to_vec()
    );
}

fn mtls_server(ca: &Ca, leaf: &Leaf, mode: ClientAuthMode) -> Arc<ServerConfig> {
    server_for(TlsServer {
        client_authentication: ClientAuthentication {
            mode,
            trust_bundles: vec![PemSource::new(&ca.pem)],
            principal: PrincipalSource::SubjectCn,
        },
        ..tls_server(vec![inline(leaf)])
    })
}

#[test]
fn mtls_required() {
    let server_ca = Ca::new("server-ca");
    let client_ca = Ca::new("client-ca");
    let leaf = server_ca.server(&["kafka.example.com"]);
    let server = mtls_server(&client_ca, &leaf, ClientAuthMode::Required);
    let name = "kafka.example.com";
    let anonymous = handshake(client_trusting(&server_ca.pem, None), server.clone(), name);
    let error = anonymous.expect_err("no client certificate must fail");
    assert!(error.starts_with("server:"), "{error}");
    let stranger = Ca::new("other").client("mallory", vec![]);
    let untrusted = handshake(
        client_trusting(&server_ca.pem, Some(&stranger)),
        server.clone(),
        name,
    );
    let error = untrusted.expect_err("untrusted client certificate must fail");
    assert!(error.contains("UnknownIssuer"), "{error}");
    let email = SanType::Rfc822Name("alice@example.com".try_into().expect("ia5"));
    let alice = client_ca.client("alice", vec![email]);
    let (_, server) = handshake(client_trusting(&server_ca.pem, Some(&alice)), server, name)
        .expect("trusted client certificate");
    let presented = server.peer_certificates().expect("client certificate");
    let principal = |source| client_principal(&presented[0], source);
    assert_eq!(
        principal(PrincipalSource::SubjectCn).as_deref(),
        Some("alice")
    );
    assert_eq!(
        principal(PrincipalSource::SanEmail).as_deref(),
        Some("alice@example.com")
    );
}

#[test]
fn mtls_requested() {
    let ca = Ca::new("ca");
    let leaf = ca.server(&["kafka.example.com"]);
    let server = mtls_server(&ca, &leaf, ClientAuthMode::Requested);
    let name = "kafka.example.com";
    let (_, anonymous) = handshake(client_trusting(&ca.pem, None), server.clone(), name)
        .expect("a client without a certificate is let in");
    assert!(anonymous.peer_certificates().is_none());
    let bob = ca.client("bob", vec![]);
    let (_, known) = handshake(client_trusting(&ca.pem, Some(&bob)), server.clone(), name)
        .expect("trusted client");
    assert_eq!(
        known.peer_certificates().map(|c| c[0].to_vec()),
        Some(bob.der.to_vec())
    );
    let stranger = Ca::new("other").client("mallory", vec![]);
    let refused = handshake(client_trusting(&ca.pem, Some(&stranger)), server, name);
    assert!(
        refused.is_err(),
        "an untrusted certificate is refused even when optional"
    );
}

#[test]
fn tls_versions_limit_the_handshake() {
    let ca = Ca::new("ca");
    let leaf = ca.server(&["kafka.example.com"]);
    let only_13 = TlsVersions {
        min: TlsVersion::V1_3,
        max: TlsVersion::V1_3,
    };
    let server = server_for(TlsServer {
        versions: only_13,
        ..tls_server(vec![inline(&leaf)])
    });
    let old_client = Arc::new(client_accepting_any(&[&TLS12]));
    let refused = handshake(old_client, server, "kafka.example.com");
    assert!(refused.is_err(), "a 1.2-only client must be refused");
    let only_12 = TlsVersions {
        min: TlsVersion::V1_2,
        max: TlsVersion::V1_2,
    };
    let server = server_for(TlsServer {
        versions: only_12,
        ..tls_server(vec![inline(&leaf)])
    });
    let client = Arc::new(client_accepting_any(&[&TLS12, &TLS13]));
    let (client, _) = handshake(client, server, "kafka.example.com").expect("1.2 handshake");
    assert_eq!(client.protocol_version(), Some(ProtocolVersion::TLSv1_2));
}

#[test]
fn backend_verifies_with_ca_bundle_and_presents_identity() {
    let ca = Ca::new("ca");
    let broker = ca.server(&["kafka-1.internal"]);
    let gateway = ca.client("sluice-gateway", vec![]);
    let dir = TempDir::new("backend");
    let backend = backend_for(BackendTls {
        enabled: true,
        ca_bundle: Some(dir.write("ca.pem", &ca.pem)),
        client_identity: Some(pair(
            dir.write("gw.pem", &gateway.cert_pem),
            dir.write("gw.key", &gateway.key_pem),
        )),
        ..BackendTls::default()
    });
    let broker_side = mtls_server(&ca, &broker, ClientAuthMode::Required);
    let (_, server) = handshake(backend.clone(), broker_side.clone(), "kafka-1.internal")
        .expect("trusted broker");
    let presented = server.peer_certificates().expect("gateway certificate");
    assert_eq!(
        client_principal(&presented[0], PrincipalSource::SubjectCn).as_deref(),
        Some("sluice-gateway")
    );
    let wrong_name = handshake(backend.clone(), broker_side, "kafka-2.internal");
    assert!(wrong_name.err().is_some_and(|e| e.starts_with("client:")));
    let impostor = server_for(tls_server(vec![inline(&self_signed(&[
        "kafka-1.internal",
    ]))]));
    let refused = handshake(backend, impostor, "kafka-1.internal");
    assert!(refused.err().is_some_and(|e| e.contains("UnknownIssuer")));
}

#[test]
fn backend_insecure_skip_verify_accepts_self_signed() {
    let backend = backend_for(BackendTls {
        enabled: true,
        insecure_skip_verify: true,
        tls_versions: TlsVersions {
            min: TlsVersion::V1_2,
            max: TlsVersion::V1_2,
        },
        ..BackendTls::default()
    });
    let broker = server_for(tls_server(vec![inline(&self_signed(&["anything"]))]));
    let (client, _) = handshake(backend, broker, "kafka-9.elsewhere").expect("anything goes");
    assert_eq!(client.protocol_version(), Some(ProtocolVersion::TLSv1_2));
}

#[test]
fn backend_without_ca_bundle_uses_public_roots() {
    let backend = backend_for(BackendTls {
        enabled: true,
        ..BackendTls::default()
    });
    let broker = server_for(tls_server(vec![inline(
        &Ca::new("private").server(&["kafka"]),
    )]));
    let refused = handshake(backend, broker, "kafka");
    assert!(refused.err().is_some_and(|e| e.contains("UnknownIssuer")));
}
