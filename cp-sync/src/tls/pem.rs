//! Reading PEM sources once per build, hashing what was read, and parsing
//! certificates and keys with errors an operator can act on.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ClientAuthMode, Config, DocPath, ErrorList, ListenerPolicy, PemSource};

/// The bytes of every PEM source a config uses, read once, so one build
/// sees one version of each file and the fingerprint covers exactly what
/// was built from.
pub(super) struct PemStore {
    /// Keyed by the source text (path or inline PEM); a BTreeMap so the
    /// fingerprint does not depend on hash map order.
    contents: BTreeMap<String, Result<Vec<u8>, String>>,
}

impl PemStore {
    /// Reads every source that [`super::build_tls`] will use: certificates
    /// and keys of every `tls_server`, its trust bundles unless client
    /// authentication is off, and for backends with TLS enabled the CA
    /// bundle (unless verification is skipped) and client identity.
    pub(super) fn load(config: &Config) -> Self {
        let mut store = PemStore {
            contents: BTreeMap::new(),
        };
        for source in used_sources(config) {
            store.read(source);
        }
        store
    }

    /// The source's bytes, read now if `load` did not (which would be a bug
    /// in `used_sources`, caught by the fingerprint tests).
    pub(super) fn get(&mut self, source: &PemSource) -> Result<&[u8], String> {
        self.read(source);
        match self.contents.get(&source.0) {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(message)) => Err(message.clone()),
            None => Err(format!("{} was not read", source.describe())),
        }
    }

    fn read(&mut self, source: &PemSource) {
        if self.contents.contains_key(&source.0) {
            return;
        }
        let contents = if source.is_inline() {
            Ok(source.0.as_bytes().to_vec())
        } else {
            std::fs::read(&source.0)
                .map_err(|e| format!("cannot read {}: {}", source.0, io_message(&e)))
        };
        self.contents.insert(source.0.clone(), contents);
    }

    pub(super) fn fingerprint(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        for (source, contents) in &self.contents {
            source.hash(&mut hasher);
            match contents {
                Ok(bytes) => {
                    0u8.hash(&mut hasher);
                    bytes.hash(&mut hasher);
                }
                // The message names the failure (missing, permissions), so
                // a file going from missing to unreadable counts as a change.
                Err(message) => {
                    1u8.hash(&mut hasher);
                    message.hash(&mut hasher);
                }
            }
        }
        hasher.finish()
    }
}

fn used_sources(config: &Config) -> Vec<&PemSource> {
    let mut sources = Vec::new();
    for backend in config.backend_clusters.iter().filter(|b| b.tls.enabled) {
        if !backend.tls.insecure_skip_verify {
            sources.extend(&backend.tls.ca_bundle);
        }
        if let Some(identity) = &backend.tls.client_identity {
            sources.extend([&identity.certificate, &identity.key]);
        }
    }
    let servers = (config.listeners.iter())
        .flat_map(|listener| &listener.policies)
        .filter_map(|policy| match policy {
            ListenerPolicy::TlsServer(tls) => Some(tls),
            ListenerPolicy::ForwardToVirtualCluster(_) => None,
        });
    for tls in servers {
        for source in &tls.certificates {
            sources.extend([&source.certificate, &source.key]);
        }
        if tls.client_authentication.mode != ClientAuthMode::None {
            sources.extend(&tls.client_authentication.trust_bundles);
        }
    }
    sources
}

/// The OS message without Rust's " (os error N)" tail.
fn io_message(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// Every certificate in the source, in order; errors at `at`.
pub(super) fn certificates(
    store: &mut PemStore,
    source: &PemSource,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<Vec<CertificateDer<'static>>> {
    let bytes = match store.get(source) {
        Ok(bytes) => bytes,
        Err(message) => {
            errors.push(at.clone(), message);
            return None;
        }
    };
    let parsed: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(bytes).collect();
    match parsed {
        Ok(certificates) if certificates.is_empty() => {
            errors.push(at.clone(), "no certificates in PEM");
            None
        }
        Ok(certificates) => Some(certificates),
        Err(e) => {
            errors.push(at.clone(), format!("invalid PEM: {e}"));
            None
        }
    }
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) in the source.
pub(super) fn private_key(
    store: &mut PemStore,
    source: &PemSource,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<PrivateKeyDer<'static>> {
    let bytes = match store.get(source) {
        Ok(bytes) => bytes,
        Err(message) => {
            errors.push(at.clone(), message);
            return None;
        }
    };
    match PrivateKeyDer::from_pem_slice(bytes) {
        Ok(key) => Some(key),
        Err(rustls_pki_types::pem::Error::NoItemsFound) => {
            errors.push(at.clone(), "no private key found in PEM");
            None
        }
        Err(e) => {
            errors.push(at.clone(), format!("invalid PEM: {e}"));
            None
        }
    }
}

/// A certificate chain with its key, checked to belong together. `at` is
/// the `{certificate, key}` mapping; errors point at the field at fault.
pub(super) fn certified_key(
    store: &mut PemStore,
    source: &crate::config::CertificateSource,
    at: &DocPath,
    provider: &CryptoProvider,
    errors: &mut ErrorList,
) -> Option<CertifiedKey> {
    let chain = certificates(store, &source.certificate, &at.key("certificate"), errors);
    let key = private_key(store, &source.key, &at.key("key"), errors);
    let (chain, key) = (chain?, key?);
    match CertifiedKey::from_der(chain, key, provider) {
        Ok(certified) => Some(certified),
        Err(rustls::Error::InconsistentKeys(_)) => {
            errors.push(at.key("key"), "key does not match the certificate");
            None
        }
        Err(e @ rustls::Error::InvalidCertificate(_)) => {
            errors.push(
                at.key("certificate"),
                format!("not a usable certificate: {e}"),
            );
            None
        }
        Err(e) => {
            errors.push(at.key("key"), format!("unusable private key: {e}"));
            None
        }
    }
}
