//! `build_tls` errors with their paths, what gets built, and fingerprints.

use super::super::{build_tls, tls_fingerprint};
use super::{config_with, inline, pair, tls_server, Ca, TempDir};
use crate::config::{
    BackendTls, CertificateSource, ClientAuthMode, ClientAuthentication, Config, ConfigErrors,
    PemSource, TlsServer,
};

fn errors_of(config: &Config) -> Vec<String> {
    match build_tls(config) {
        Ok(materials) => panic!("expected errors, built {materials:?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

const CERT0: &str = "listeners[0].policies[0].config.certificates[0]";

#[test]
fn builds_servers_and_enabled_backends_by_name() {
    let ca = Ca::new("ca");
    let leaf = ca.server(&["kafka.example.com"]);
    let gateway = ca.client("gateway", vec![]);
    let dir = TempDir::new("build");
    let files = pair(
        dir.write("s.pem", &leaf.cert_pem),
        dir.write("s.key", &leaf.key_pem),
    );
    let ca_file = dir.write("ca.pem", &ca.pem);
    let mtls = TlsServer {
        client_authentication: ClientAuthentication {
            mode: ClientAuthMode::Required,
            trust_bundles: vec![ca_file.clone()],
            ..ClientAuthentication::default()
        },
        ..tls_server(vec![files])
    };
    let enabled = BackendTls {
        enabled: true,
        ca_bundle: Some(ca_file),
        client_identity: Some(pair(
            dir.write("gw.pem", &gateway.cert_pem),
            dir.write("gw.key", &gateway.key_pem),
        )),
        ..BackendTls::default()
    };
    let config = config_with(
        vec![mtls, tls_server(vec![inline(&leaf)])],
        vec![enabled, BackendTls::default()],
    );
    let materials = build_tls(&config).expect("valid TLS files");
    let mut servers: Vec<&String> = materials.servers.keys().collect();
    servers.sort();
    assert_eq!(servers, ["l0", "l1"]);
    let backends: Vec<&String> = materials.backends.keys().collect();
    assert_eq!(backends, ["b0"]);
    // The fingerprint of a build covers exactly the files tls_fingerprint
    // reads, or the sync thread would rebuild forever.
    assert_eq!(materials.fingerprint, tls_fingerprint(&config));
    // Debug names the configurations and never shows key material.
    let shown = format!("{materials:?}");
    assert!(
        shown.contains("\"l0\", \"l1\"") && shown.contains("\"b0\""),
        "{shown}"
    );
    assert!(!shown.contains("PRIVATE"), "{shown}");
    assert!(!shown.contains(&leaf.key_pem[30..60]), "{shown}");
}

#[test]
fn no_tls_builds_nothing() {
    let config = config_with(vec![], vec![BackendTls::default()]);
    let materials = build_tls(&config).expect("nothing to read");
    assert!(materials.servers.is_empty() && materials.backends.is_empty());
    assert_eq!(materials.fingerprint, tls_fingerprint(&Config::default()));
}

#[test]
fn unreadable_files_are_errors_at_their_fields() {
    let dir = TempDir::new("missing");
    let missing = dir.path("missing.key").display().to_string();
    let ca = Ca::new("ca");
    let leaf = ca.server(&["a.example.com"]);
    let source = pair(PemSource::new(&leaf.cert_pem), PemSource::new(&missing));
    let config = config_with(vec![tls_server(vec![source])], vec![]);
    assert_eq!(
        errors_of(&config),
        [format!(
            "{CERT0}.key: cannot read {missing}: No such file or directory"
        )]
    );
}

#[test]
fn pem_without_the_expected_items() {
    let ca = Ca::new("ca");
    let leaf = ca.server(&["a.example.com"]);
    let other = ca.server(&["b.example.com"]);
    let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    let not_der = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
    let cases = [
        (
            pair(
                PemSource::new(&leaf.cert_pem),
                PemSource::new(&leaf.cert_pem),
            ),
            ".key: no private key found in PEM",
        ),
        (
            pair(PemSource::new(&leaf.key_pem), PemSource::new(&leaf.key_pem)),
            ".certificate: no certificates in PEM",
        ),
        (
            pair(
                PemSource::new(&leaf.cert_pem),
                PemSource::new(&other.key_pem),
            ),
            ".key: key does not match the certificate",
        ),
        (
            pair(PemSource::new(bad_base64), PemSource::new(&leaf.key_pem)),
            ".certificate: invalid PEM",
        ),
        (
            pair(PemSource::new(not_der), PemSource::new(&leaf.key_pem)),
            ".certificate: not a usable certificate",
        ),
    ];
    for (source, expected) in cases {
        let config = config_with(vec![tls_server(vec![source])], vec![]);
        let errors = errors_of(&config);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(
            errors[0].starts_with(&format!("{CERT0}{expected}")),
            "{errors:#?}"
        );
    }
}

#[test]
fn every_error_at_once_in_config_order() {
    let ca = Ca::new("ca");
    let leaf = ca.server(&["a.example.com"]);
    let dir = TempDir::new("many");
    let key_only = dir.write("key-only.pem", &leaf.key_pem);
    let missing = PemSource::new(dir.path("nope.pem").display().to_string());
    let bad_server = TlsServer {
        client_authentication: ClientAuthentication {
            mode: ClientAuthMode::Required,
            trust_bundles: vec![missing.clone()],
            ..ClientAuthentication::default()
        },
        ..tls_server(vec![
            pair(missing.clone(), key_only.clone()),
            pair(
                PemSource::new(&leaf.cert_pem),
                PemSource::new(&leaf.cert_pem),
            ),
        ])
    };
    let good = BackendTls {
        enabled: true,
        ..BackendTls::default()
    };
    let bad_backend = BackendTls {
        enabled: true,
        ca_bundle: Some(key_only.clone()),
        client_identity: Some(CertificateSource {
            certificate: missing.clone(),
            key: key_only,
        }),
        ..BackendTls::default()
    };
    let config = config_with(vec![bad_server], vec![good, bad_backend]);
    let errors = build_tls(&config).expect_err("broken files");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "backend_clusters[2].tls.ca_bundle",
            "backend_clusters[2].tls.client_identity.certificate",
            "listeners[0].policies[0].config.certificates[0].certificate",
            "listeners[0].policies[0].config.certificates[1].key",
            "listeners[0].policies[0].config.client_authentication.trust_bundles[0]",
        ],
        "{errors}"
    );
    assert_eq!(
        errors.errors()[0].to_string(),
        "backend_clusters[2].tls.ca_bundle: no certificates in PEM"
    );
    assert!(
        errors.errors()[4].message.starts_with("cannot read "),
        "{errors}"
    );
}

#[test]
fn unused_files_are_not_read() {
    let dir = TempDir::new("unused");
    let missing = PemSource::new(dir.path("nope.pem").display().to_string());
    let ca = Ca::new("ca");
    let leaf = ca.server(&["a.example.com"]);
    // Trust bundles with client authentication off, a CA bundle with
    // verification off, and anything of a backend with TLS off.
    let server = TlsServer {
        client_authentication: ClientAuthentication {
            trust_bundles: vec![missing.clone()],
            ..ClientAuthentication::default()
        },
        ..tls_server(vec![inline(&leaf)])
    };
    let skip = BackendTls {
        enabled: true,
        insecure_skip_verify: true,
        ca_bundle: Some(missing.clone()),
        ..BackendTls::default()
    };
    let off = BackendTls {
        ca_bundle: Some(missing.clone()),
        client_identity: Some(pair(missing.clone(), missing)),
        ..BackendTls::default()
    };
    let config = config_with(vec![server], vec![skip, off]);
    let materials = build_tls(&config).map_err(|e: ConfigErrors| e.to_string());
    assert!(materials.is_ok(), "{materials:?}");
}

#[test]
fn fingerprint_follows_file_contents() {
    let ca = Ca::new("ca");
    let first = ca.server(&["a.example.com"]);
    let second = ca.server(&["a.example.com"]);
    let dir = TempDir::new("fingerprint");
    let cert = dir.write("s.pem", &first.cert_pem);
    let key = dir.write("s.key", &first.key_pem);
    let config = config_with(vec![tls_server(vec![pair(cert, key)])], vec![]);
    let original = tls_fingerprint(&config);
    assert_eq!(build_tls(&config).map(|m| m.fingerprint), Ok(original));
    assert_eq!(
        tls_fingerprint(&config),
        original,
        "stable while nothing changes"
    );
    dir.write("s.pem", &second.cert_pem);
    let rotated = tls_fingerprint(&config);
    assert_ne!(rotated, original);
    // A missing file hashes as a marker: no panic, and a change.
    std::fs::remove_file(dir.path("s.key")).expect("remove key");
    let missing = tls_fingerprint(&config);
    assert_ne!(missing, rotated);
    assert!(build_tls(&config).is_err());
    dir.write("s.key", &first.key_pem);
    assert_eq!(tls_fingerprint(&config), rotated);
    dir.write("s.pem", &first.cert_pem);
    assert_eq!(tls_fingerprint(&config), original);
}

#[test]
fn fingerprint_covers_inline_pem() {
    let ca = Ca::new("ca");
    let a = config_with(vec![tls_server(vec![inline(&ca.server(&["a"]))])], vec![]);
    let b = config_with(vec![tls_server(vec![inline(&ca.server(&["a"]))])], vec![]);
    assert_ne!(tls_fingerprint(&a), tls_fingerprint(&b));
}
