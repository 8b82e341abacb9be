//! TLS to the target (`--tls-ca`, `--server-name`, `--tls-cert`/`--tls-key`):
//! rustls with the ring provider, over std sockets for the blocking setup
//! connection and over glommio sockets (futures-rustls) for the workloads.
//!
//! The settings of the run in progress live in one process-wide slot that
//! every connect reads: connections are opened on several executor threads
//! and by the setup code, and `compare` switches TLS on and off between
//! targets. Reading the slot costs one uncontended lock per connect, never
//! anything per request.

use std::path::Path;
use std::sync::{Arc, RwLock};

use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::cli::TlsArgs;
use crate::error::BenchError;

/// A client-side TLS set-up: the rustls configuration and the server name
/// to send (None: the host part of each address connected to).
#[derive(Debug, Clone)]
pub struct TlsClient {
    pub config: Arc<ClientConfig>,
    pub server_name: Option<String>,
}

static CURRENT: RwLock<Option<Arc<TlsClient>>> = RwLock::new(None);

/// Sets (or clears) the TLS settings every following connect uses.
pub fn set_current(tls: Option<Arc<TlsClient>>) {
    match CURRENT.write() {
        Ok(mut slot) => *slot = tls,
        Err(poisoned) => *poisoned.into_inner() = tls,
    }
}

/// The TLS settings in force, if any.
pub fn current() -> Option<Arc<TlsClient>> {
    match CURRENT.read() {
        Ok(slot) => slot.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// Builds the client configuration from the flags; `None` without
/// `--tls-ca`. `resume: false` turns session resumption off (every
/// handshake is a full one).
pub fn from_args(args: &TlsArgs, resume: bool) -> Result<Option<Arc<TlsClient>>, BenchError> {
    let Some(ca) = &args.tls_ca else {
        if args.server_name.is_some() || args.tls_cert.is_some() || args.tls_key.is_some() {
            return Err(BenchError::Usage(
                "--server-name, --tls-cert and --tls-key need --tls-ca".to_string(),
            ));
        }
        return Ok(None);
    };
    if let Some(name) = &args.server_name {
        ServerName::try_from(name.clone())
            .map_err(|e| BenchError::Usage(format!("--server-name {name:?}: {e}")))?;
    }
    let mut roots = RootCertStore::empty();
    for cert in read_certs(ca, "--tls-ca")? {
        roots
            .add(cert)
            .map_err(|e| BenchError::Usage(format!("--tls-ca {}: {e}", ca.display())))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BenchError::Usage(format!("TLS: {e}")))?
        .with_root_certificates(roots);
    let mut config = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs(cert, "--tls-cert")?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| BenchError::Usage(format!("--tls-key {}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| BenchError::Usage(format!("--tls-cert/--tls-key: {e}")))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => {
            return Err(BenchError::Usage(
                "--tls-cert and --tls-key go together".to_string(),
            ))
        }
    };
    if !resume {
        config.resumption = Resumption::disabled();
    }
    Ok(Some(Arc::new(TlsClient {
        config: Arc::new(config),
        server_name: args.server_name.clone(),
    })))
}

fn read_certs(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>, BenchError> {
    let bad = |reason: String| BenchError::Usage(format!("{flag} {}: {reason}", path.display()));
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE in the file".to_string()));
    }
    Ok(certs)
}

impl TlsClient {
    /// The name to verify and send for a connection to `addr` (HOST:PORT):
    /// `--server-name` when given, else the host (an IP address is checked
    /// against the certificate's IP address entries).
    pub fn name_for(&self, addr: &str) -> std::io::Result<ServerName<'static>> {
        let host = match &self.server_name {
            Some(name) => name.as_str(),
            None => host_of(addr),
        };
        ServerName::try_from(host.to_string()).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{host:?} is not a usable TLS server name ({e}); pass --server-name"),
            )
        })
    }
}

/// `127.0.0.1:9092` -> `127.0.0.1`, `[::1]:9092` -> `::1`.
pub fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_part_of_addresses() {
        assert_eq!(host_of("127.0.0.1:9092"), "127.0.0.1");
        assert_eq!(host_of("[::1]:9092"), "::1");
        assert_eq!(host_of("kafka.example.com:9093"), "kafka.example.com");
    }

    #[test]
    fn flags_without_a_ca_are_refused() {
        let args = TlsArgs {
            tls_ca: None,
            server_name: Some("x".to_string()),
            tls_cert: None,
            tls_key: None,
        };
        assert!(from_args(&args, true).is_err());
        let none = TlsArgs {
            tls_ca: None,
            server_name: None,
            tls_cert: None,
            tls_key: None,
        };
        assert!(from_args(&none, true).unwrap().is_none());
    }
}
