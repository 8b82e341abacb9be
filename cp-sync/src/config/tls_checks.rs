//! Semantic checks on TLS settings. Files are not read here: that is
//! [`build_tls`](crate::tls::build_tls)'s job, so the control plane can
//! validate a config naming files that only exist on the gateway's hosts.

use super::errors::{DocPath, ErrorList};
use super::schema::{
    BackendTls, CertificateSource, ClientAuthMode, PemSource, TlsServer, TlsVersions,
};

/// Fields other than `enabled` are only checked when TLS is on: with it off
/// they are ignored, and a half-written block waiting to be enabled is fine.
pub(crate) fn check_backend_tls(tls: &BackendTls, at: &DocPath, errors: &mut ErrorList) {
    if !tls.enabled {
        return;
    }
    if let Some(bundle) = &tls.ca_bundle {
        check_pem(bundle, at.key("ca_bundle"), errors);
    }
    check_versions(&tls.tls_versions, &at.key("tls_versions"), errors);
    if let Some(identity) = &tls.client_identity {
        check_certificate(identity, &at.key("client_identity"), errors);
    }
}

/// `at` is the policy's `config`.
pub(crate) fn check_tls_server(tls: &TlsServer, at: &DocPath, errors: &mut ErrorList) {
    if tls.certificates.is_empty() {
        errors.push(
            at.key("certificates"),
            "must list at least one {certificate, key} pair",
        );
    }
    for (k, source) in tls.certificates.iter().enumerate() {
        check_certificate(source, &at.key("certificates").index(k), errors);
    }
    check_versions(&tls.versions, &at.key("versions"), errors);
    let auth = &tls.client_authentication;
    let at = at.key("client_authentication");
    if auth.mode != ClientAuthMode::None && auth.trust_bundles.is_empty() {
        let mode = match auth.mode {
            ClientAuthMode::Requested => "requested",
            _ => "required",
        };
        errors.push(
            at.key("trust_bundles"),
            format!(
                "mode {mode} needs at least one trust bundle: the CA certificates that sign \
                 client certificates"
            ),
        );
    }
    if auth.mode != ClientAuthMode::None {
        for (k, bundle) in auth.trust_bundles.iter().enumerate() {
            check_pem(bundle, at.key("trust_bundles").index(k), errors);
        }
    }
}

fn check_certificate(source: &CertificateSource, at: &DocPath, errors: &mut ErrorList) {
    check_pem(&source.certificate, at.key("certificate"), errors);
    check_pem(&source.key, at.key("key"), errors);
}

fn check_pem(source: &PemSource, at: DocPath, errors: &mut ErrorList) {
    if source.0.trim().is_empty() {
        errors.push(
            at,
            "must not be empty; write a file path or inline PEM text (-----BEGIN ...)",
        );
    }
}

fn check_versions(versions: &TlsVersions, at: &DocPath, errors: &mut ErrorList) {
    if versions.min > versions.max {
        errors.push(
            at.key("min"),
            format!(
                "min {} is above max {}; lower min or raise max",
                versions.min, versions.max
            ),
        );
    }
}
