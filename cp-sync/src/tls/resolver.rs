//! Choosing a listener's certificate by the client's SNI.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use x509_parser::extensions::GeneralName;

use crate::config::{DocPath, ErrorList};

/// Serves the certificate whose SAN DNS names cover the SNI name: an exact
/// name first, then a wildcard (`*.x.y` covers exactly one more label, as
/// clients check it). No SNI, or no certificate covering it: the first
/// certificate, so clients that skip hostname checks still connect.
pub(super) struct SniCertResolver {
    keys: Vec<Arc<CertifiedKey>>,
    /// Lowercase name -> index into `keys`; the first certificate naming it
    /// wins.
    exact: HashMap<String, usize>,
    /// Lowercase parent of a wildcard (`x.y` for `*.x.y`) -> index.
    wildcard: HashMap<String, usize>,
}

impl SniCertResolver {
    /// `keys` pairs each certificate with its config path for errors;
    /// `None` when a certificate cannot be read as X.509.
    pub(super) fn new(keys: Vec<(CertifiedKey, DocPath)>, errors: &mut ErrorList) -> Option<Self> {
        let mut resolver = SniCertResolver {
            keys: Vec::with_capacity(keys.len()),
            exact: HashMap::new(),
            wildcard: HashMap::new(),
        };
        let mut complete = true;
        for (index, (key, at)) in keys.into_iter().enumerate() {
            match dns_names(&key) {
                Ok(names) => resolver.add_names(index, names),
                Err(message) => {
                    errors.push(at.key("certificate"), message);
                    complete = false;
                }
            }
            resolver.keys.push(Arc::new(key));
        }
        complete.then_some(resolver)
    }

    fn add_names(&mut self, index: usize, names: Vec<String>) {
        for name in names {
            match name.strip_prefix("*.") {
                Some(parent) => self.wildcard.entry(parent.to_owned()).or_insert(index),
                None => self.exact.entry(name).or_insert(index),
            };
        }
    }

    /// The certificate for `server_name` (rustls passes it in lowercase).
    fn choose(&self, server_name: Option<&str>) -> Option<&Arc<CertifiedKey>> {
        let chosen = server_name.and_then(|name| {
            let name = name.to_ascii_lowercase();
            let exact = self.exact.get(&name);
            let wildcard = || {
                let (first, parent) = name.split_once('.')?;
                (!first.is_empty()).then(|| self.wildcard.get(parent))?
            };
            exact.or_else(wildcard).copied()
        });
        self.keys.get(chosen.unwrap_or(0))
    }
}

impl ResolvesServerCert for SniCertResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.choose(client_hello.server_name()).cloned()
    }
}

/// Names only; the keys stay out of logs.
impl fmt::Debug for SniCertResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = self.exact.keys().cloned().collect();
        names.extend(self.wildcard.keys().map(|parent| format!("*.{parent}")));
        names.sort_unstable();
        f.debug_struct("SniCertResolver")
            .field("certificates", &self.keys.len())
            .field("names", &names)
            .finish()
    }
}

/// The end-entity certificate's SAN DNS names, lowercase.
fn dns_names(key: &CertifiedKey) -> Result<Vec<String>, String> {
    let der = key
        .end_entity_cert()
        .map_err(|_| "no certificates in PEM".to_owned())?;
    let (_, certificate) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not a valid X.509 certificate: {e}"))?;
    let san = certificate
        .subject_alternative_name()
        .map_err(|e| format!("unreadable subject alternative names: {e}"))?;
    let names = san
        .map(|extension| {
            (extension.value.general_names.iter())
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(dns.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(names)
}
