//! Second decoding stage for the TLS and SNI parts of the schema.

use serde_yaml_ng::Value;

use super::document::decode;
use super::errors::{DocPath, ErrorList};
use super::raw::{
    RawBackendTls, RawCertificateSource, RawClientAuthentication, RawSniMapping, RawTlsServer,
    RawTlsVersions,
};
use super::schema::{
    BackendTls, CertificateSource, ClientAuthentication, PemSource, SniMapping, TlsServer,
    TlsVersion, TlsVersions,
};

/// Backend TLS has no lists, so the whole mapping was decoded with its
/// backend and only defaults are left to fill in.
pub(super) fn backend_tls(raw: Option<RawBackendTls>) -> BackendTls {
    let Some(raw) = raw else {
        return BackendTls::default();
    };
    BackendTls {
        enabled: raw.enabled.unwrap_or(false),
        ca_bundle: raw.ca_bundle.map(PemSource),
        insecure_skip_verify: raw.insecure_skip_verify.unwrap_or(false),
        tls_versions: versions(raw.tls_versions),
        client_identity: raw.client_identity.map(certificate_source),
    }
}

fn versions(raw: Option<RawTlsVersions>) -> TlsVersions {
    let raw = raw.unwrap_or(RawTlsVersions {
        min: None,
        max: None,
    });
    TlsVersions {
        min: raw.min.unwrap_or_else(TlsVersion::lowest),
        max: raw.max.unwrap_or_else(TlsVersion::highest),
    }
}

fn certificate_source(raw: RawCertificateSource) -> CertificateSource {
    CertificateSource {
        certificate: PemSource(raw.certificate),
        key: PemSource(raw.key),
    }
}

/// The `config` of a `tls_server` policy, found at `at`. Every certificate
/// entry is decoded even after one fails, so all their errors show.
pub(super) fn build_tls_server(
    value: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<TlsServer> {
    let raw: RawTlsServer = decode(value, at, errors)?;
    let mut certificates = Vec::with_capacity(raw.certificates.len());
    let mut complete = true;
    for (k, entry) in raw.certificates.iter().enumerate() {
        let path = at.key("certificates").index(k);
        match decode::<RawCertificateSource>(entry, &path, errors) {
            Some(source) => certificates.push(certificate_source(source)),
            None => complete = false,
        }
    }
    if !complete {
        return None;
    }
    Some(TlsServer {
        certificates,
        versions: versions(raw.versions),
        allow_plaintext: raw.allow_plaintext.unwrap_or(false),
        client_authentication: client_authentication(raw.client_authentication),
    })
}

fn client_authentication(raw: Option<RawClientAuthentication>) -> ClientAuthentication {
    let Some(raw) = raw else {
        return ClientAuthentication::default();
    };
    ClientAuthentication {
        mode: raw.mode.unwrap_or_default(),
        trust_bundles: (raw.trust_bundles.into_iter().flatten())
            .map(PemSource)
            .collect(),
        principal: raw.principal.unwrap_or_default(),
    }
}

/// An `sni` host mapping without its `type`, found at `at`.
pub(super) fn build_sni_mapping(
    rest: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<SniMapping> {
    let raw: RawSniMapping = decode(rest, at, errors)?;
    // Port 0 fits a u16 and is left to validation, which also sees configs
    // built in code; only what a u16 cannot hold is caught here.
    let Ok(advertised_port) = u16::try_from(raw.advertised_port) else {
        errors.push(
            at.key("advertised_port"),
            format!("port {} is out of range 1-65535", raw.advertised_port),
        );
        return None;
    };
    Some(SniMapping {
        sni_suffix: raw.sni_suffix,
        advertised_port,
        broker_host_format: raw.broker_host_format.unwrap_or_default(),
    })
}
