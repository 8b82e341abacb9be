//! `tls_server` listeners: a rustls `ServerConfig` per listener.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use super::pem::{certificates, certified_key, PemStore};
use super::resolver::SniCertResolver;
use super::{protocol_versions, provider};
use crate::config::{
    ClientAuthMode, ClientAuthentication, DocPath, ErrorList, PemSource, TlsServer,
};

/// Builds the listener's server configuration; `at` is the policy's
/// `config`. ALPN is left unset: Kafka clients do not send it.
pub(super) fn server_config(
    tls: &TlsServer,
    at: &DocPath,
    store: &mut PemStore,
    errors: &mut ErrorList,
) -> Option<Arc<ServerConfig>> {
    let provider = provider();
    let resolver = certificate_resolver(tls, at, store, &provider, errors);
    let auth_at = at.key("client_authentication");
    let verifier = client_verifier(
        &tls.client_authentication,
        &auth_at,
        store,
        &provider,
        errors,
    );
    let (resolver, verifier) = (resolver?, verifier?);
    let versions = protocol_versions(&tls.versions);
    let builder =
        match ServerConfig::builder_with_provider(provider).with_protocol_versions(&versions) {
            Ok(builder) => builder,
            Err(e) => {
                errors.push(at.key("versions"), format!("no usable TLS version: {e}"));
                return None;
            }
        };
    let builder = match verifier {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    Some(Arc::new(builder.with_cert_resolver(Arc::new(resolver))))
}

fn certificate_resolver(
    tls: &TlsServer,
    at: &DocPath,
    store: &mut PemStore,
    provider: &CryptoProvider,
    errors: &mut ErrorList,
) -> Option<SniCertResolver> {
    if tls.certificates.is_empty() {
        let message = "must list at least one {certificate, key} pair";
        errors.push(at.key("certificates"), message);
        return None;
    }
    let mut keys = Vec::with_capacity(tls.certificates.len());
    for (k, source) in tls.certificates.iter().enumerate() {
        let entry_at = at.key("certificates").index(k);
        // Keep going after a failure so every entry's errors are reported.
        if let Some(key) = certified_key(store, source, &entry_at, provider, errors) {
            keys.push((key, entry_at));
        }
    }
    if keys.len() != tls.certificates.len() {
        return None;
    }
    SniCertResolver::new(keys, errors)
}

/// `None` is failure (errors pushed); `Some(None)` means client
/// authentication is off.
fn client_verifier(
    auth: &ClientAuthentication,
    at: &DocPath,
    store: &mut PemStore,
    provider: &Arc<CryptoProvider>,
    errors: &mut ErrorList,
) -> Option<Option<Arc<dyn ClientCertVerifier>>> {
    if auth.mode == ClientAuthMode::None {
        return Some(None);
    }
    let roots = root_store(&auth.trust_bundles, &at.key("trust_bundles"), store, errors)?;
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
    let builder = match auth.mode {
        ClientAuthMode::Requested => builder.allow_unauthenticated(),
        ClientAuthMode::Required | ClientAuthMode::None => builder,
    };
    match builder.build() {
        Ok(verifier) => Some(Some(verifier)),
        Err(e) => {
            errors.push(
                at.key("trust_bundles"),
                format!("unusable trust bundles: {e}"),
            );
            None
        }
    }
}

/// Every certificate of every bundle as a trust anchor; `at` is the list.
fn root_store(
    bundles: &[PemSource],
    at: &DocPath,
    store: &mut PemStore,
    errors: &mut ErrorList,
) -> Option<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let mut complete = true;
    for (k, bundle) in bundles.iter().enumerate() {
        complete &= add_roots(&mut roots, bundle, &at.index(k), store, errors);
    }
    complete.then_some(roots)
}

/// Adds the bundle's certificates to `roots`; false (with errors) if any
/// is unusable.
pub(super) fn add_roots(
    roots: &mut RootCertStore,
    bundle: &PemSource,
    at: &DocPath,
    store: &mut PemStore,
    errors: &mut ErrorList,
) -> bool {
    let Some(certificates) = certificates(store, bundle, at, errors) else {
        return false;
    };
    for (n, certificate) in certificates.into_iter().enumerate() {
        if let Err(e) = roots.add(certificate) {
            let ordinal = n + 1;
            errors.push(
                at.clone(),
                format!("certificate {ordinal} in the bundle is not a usable CA certificate: {e}"),
            );
            return false;
        }
    }
    true
}
