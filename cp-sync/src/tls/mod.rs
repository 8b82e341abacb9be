//! TLS materials, built on the configuration thread.
//!
//! [`build_tls`] reads every certificate, key and CA bundle a config names
//! and turns them into finished rustls configurations, one per `tls_server`
//! listener and one per backend cluster with TLS enabled. Shards receive
//! them inside the snapshot and never touch a file. [`tls_fingerprint`] lets
//! the sync thread notice rotated files cheaply and rebuild.
//!
//! Every configuration uses the ring provider explicitly, never the
//! process-wide default, so nothing else in the process can change the
//! algorithms the gateway offers.

mod client;
mod pem;
mod principal;
mod resolver;
mod server;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::SupportedProtocolVersion;

use crate::config::{
    Config, ConfigErrors, DocPath, ErrorList, ListenerPolicy, TlsVersion, TlsVersions,
};

pub use client::NoCertificateVerification;
pub use principal::client_principal;

use pem::PemStore;

/// The rustls configurations of one snapshot.
#[derive(Clone, Default)]
pub struct TlsMaterials {
    /// By listener name: every listener with a `tls_server` policy.
    pub servers: HashMap<String, Arc<rustls::ServerConfig>>,
    /// By backend cluster name: every backend with `tls.enabled: true`.
    pub backends: HashMap<String, Arc<rustls::ClientConfig>>,
    /// Hash over every PEM byte read; the sync thread re-reads the files
    /// periodically and publishes a new snapshot when it changes
    /// (certificate rotation).
    pub fingerprint: u64,
}

/// Names only: the configurations hold private keys.
impl fmt::Debug for TlsMaterials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut servers: Vec<&str> = self.servers.keys().map(String::as_str).collect();
        servers.sort_unstable();
        let mut backends: Vec<&str> = self.backends.keys().map(String::as_str).collect();
        backends.sort_unstable();
        f.debug_struct("TlsMaterials")
            .field("servers", &servers)
            .field("backends", &backends)
            .field("fingerprint", &format_args!("{:016x}", self.fingerprint))
            .finish()
    }
}

/// Reads every PEM source `config` uses and builds the rustls
/// configurations. Errors carry the config path of the field that named the
/// file, e.g. `listeners[0].policies[0].config.certificates[0].key: no
/// private key found in PEM`, all of them at once.
///
/// Expects a validated config; only what validation cannot see (file
/// contents, keys, certificates) is checked here.
pub fn build_tls(config: &Config) -> Result<TlsMaterials, ConfigErrors> {
    let mut store = PemStore::load(config);
    let mut errors = ErrorList::default();
    let mut materials = TlsMaterials::default();
    let root = DocPath::root();
    for (i, backend) in config.backend_clusters.iter().enumerate() {
        if !backend.tls.enabled {
            continue;
        }
        let at = root.key("backend_clusters").index(i).key("tls");
        if let Some(client) = client::backend_config(&backend.tls, &at, &mut store, &mut errors) {
            materials.backends.insert(backend.name.clone(), client);
        }
    }
    for (i, listener) in config.listeners.iter().enumerate() {
        for (j, policy) in listener.policies.iter().enumerate() {
            let ListenerPolicy::TlsServer(tls) = policy else {
                continue;
            };
            let at = (root.key("listeners").index(i))
                .key("policies")
                .index(j)
                .key("config");
            if let Some(server) = server::server_config(tls, &at, &mut store, &mut errors) {
                materials.servers.insert(listener.name.clone(), server);
            }
        }
    }
    // Found backends first, then listeners: document order without sorting.
    errors.into_result(None)?;
    materials.fingerprint = store.fingerprint();
    Ok(materials)
}

/// Re-reads the PEM files `config` uses and hashes them, without parsing.
/// Equal to [`TlsMaterials::fingerprint`] of a build from the same files.
/// A file that cannot be read hashes as a marker, so it changing back to
/// readable is noticed too.
pub fn tls_fingerprint(config: &Config) -> u64 {
    PemStore::load(config).fingerprint()
}

/// The provider every configuration is built with.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls versions from `min` to `max` (validation ensures min <= max).
fn protocol_versions(versions: &TlsVersions) -> Vec<&'static SupportedProtocolVersion> {
    [TlsVersion::V1_2, TlsVersion::V1_3]
        .into_iter()
        .filter(|version| versions.min <= *version && *version <= versions.max)
        .map(|version| match version {
            TlsVersion::V1_2 => &rustls::version::TLS12,
            TlsVersion::V1_3 => &rustls::version::TLS13,
        })
        .collect()
}
