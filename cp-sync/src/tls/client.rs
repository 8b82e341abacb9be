//! Backend clusters with TLS: a rustls `ClientConfig` per backend.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WantsClientCert;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::sign::SingleCertAndKey;
use rustls::{ClientConfig, ConfigBuilder, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::pem::{certified_key, PemStore};
use super::server::add_roots;
use super::{protocol_versions, provider};
use crate::config::{BackendTls, DocPath, ErrorList};

/// Builds the backend's client configuration; `at` is its `tls` mapping.
/// Brokers are verified against `ca_bundle`, or the web PKI roots
/// (webpki-roots) without one, unless `insecure_skip_verify` is set.
pub(super) fn backend_config(
    tls: &BackendTls,
    at: &DocPath,
    store: &mut PemStore,
    errors: &mut ErrorList,
) -> Option<Arc<ClientConfig>> {
    let provider = provider();
    let verified = server_verification(tls, at, store, &provider, errors);
    let identity = match &tls.client_identity {
        Some(source) => {
            let at = at.key("client_identity");
            Some(certified_key(store, source, &at, &provider, errors).map(Arc::new))
        }
        None => None,
    };
    let builder = verified?;
    let config = match identity {
        Some(identity) => {
            builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(identity?)))
        }
        None => builder.with_no_client_auth(),
    };
    Some(Arc::new(config))
}

fn server_verification(
    tls: &BackendTls,
    at: &DocPath,
    store: &mut PemStore,
    provider: &Arc<CryptoProvider>,
    errors: &mut ErrorList,
) -> Option<ConfigBuilder<ClientConfig, WantsClientCert>> {
    let roots = if tls.insecure_skip_verify {
        None
    } else {
        Some(backend_roots(tls, at, store, errors)?)
    };
    let versions = protocol_versions(&tls.tls_versions);
    let builder = ClientConfig::builder_with_provider(provider.clone());
    let builder = match builder.with_protocol_versions(&versions) {
        Ok(builder) => builder,
        Err(e) => {
            errors.push(
                at.key("tls_versions"),
                format!("no usable TLS version: {e}"),
            );
            return None;
        }
    };
    Some(match roots {
        Some(roots) => builder.with_root_certificates(roots),
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoCertificateVerification::new(
                provider.clone(),
            ))),
    })
}

fn backend_roots(
    tls: &BackendTls,
    at: &DocPath,
    store: &mut PemStore,
    errors: &mut ErrorList,
) -> Option<RootCertStore> {
    match &tls.ca_bundle {
        Some(bundle) => {
            let mut roots = RootCertStore::empty();
            add_roots(&mut roots, bundle, &at.key("ca_bundle"), store, errors).then_some(roots)
        }
        None => Some(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
    }
}

/// DANGEROUS: accepts any server certificate, from anyone, for any name,
/// expired or not. Only the handshake signatures are checked (with the
/// provider's algorithms), which proves the peer holds the key of the
/// certificate it sent, not who it is: anyone on the network path can
/// impersonate the backend. Used only for `insecure_skip_verify: true`,
/// meant for tests against self-signed brokers.
#[derive(Debug)]
pub struct NoCertificateVerification {
    provider: Arc<CryptoProvider>,
}

impl NoCertificateVerification {
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        Self { provider }
    }
}

impl ServerCertVerifier for NoCertificateVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
