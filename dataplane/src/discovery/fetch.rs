//! One blocking Metadata round trip to a backend broker. Runs only on the
//! discovery thread.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;

use crate::backend_login::{LoginError, LoginExchange};
use crate::topology::Endpoint;
use cp_sync::credentials::BackendLogin;
use cp_sync::scram::SaltedCache;
use sluice_wire::broker_versions::BrokerApiVersions;
use sluice_wire::discovery::{
    decode_metadata_brokers, encode_api_versions_request, encode_metadata_request,
    read_api_versions, BackendBroker, API_VERSIONS_VERSION,
};

/// Metadata responses for clusters with many brokers stay far below this;
/// anything larger is treated as a broken peer.
const MAX_DISCOVERY_FRAME: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot resolve {0}: {1}")]
    Resolve(String, String),
    #[error("{addr}: {source}")]
    Io {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{addr}: {source}")]
    Wire {
        addr: SocketAddr,
        source: sluice_wire::WireError,
    },
    #[error("{addr}: response frame of {len} bytes is not plausible")]
    BadFrame { addr: SocketAddr, len: i64 },
    #[error("{addr}: {host:?} is not a valid TLS server name")]
    ServerName { addr: SocketAddr, host: String },
    #[error("{addr}: TLS: {source}")]
    Tls {
        addr: SocketAddr,
        source: rustls::Error,
    },
    #[error("backend credentials: {0}")]
    Credentials(String),
    #[error("{addr}: {source}")]
    Login {
        addr: SocketAddr,
        source: LoginError,
    },
}

/// Brokers and cluster id as one backend broker reported them.
pub struct FetchedMetadata {
    pub cluster_id: Option<String>,
    pub brokers: Vec<BackendBroker>,
    pub api_versions: BrokerApiVersions,
}

/// Resolves a host and port (DNS happens here, on the discovery thread).
pub fn resolve(host: &str, port: u16) -> Result<Vec<Endpoint>, FetchError> {
    let resolve_error =
        |e: std::io::Error| FetchError::Resolve(format!("{host}:{port}"), e.to_string());
    let addrs = (host, port).to_socket_addrs().map_err(resolve_error)?;
    Ok(addrs
        .map(|addr| Endpoint {
            host: host.to_string(),
            port,
            addr,
        })
        .collect())
}

/// One Metadata round trip; over TLS when the backend has a TLS config,
/// verifying the certificate against `host`.
pub fn fetch_metadata(
    endpoint: &Endpoint,
    timeout: Duration,
    tls: Option<&Arc<rustls::ClientConfig>>,
    login: Option<&BackendLogin>,
) -> Result<FetchedMetadata, FetchError> {
    let addr = endpoint.addr;
    let io = |source| FetchError::Io { addr, source };
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    let Some(config) = tls else {
        return exchange(stream, addr, login);
    };
    let name = ServerName::try_from(endpoint.host.clone()).map_err(|_| FetchError::ServerName {
        addr,
        host: endpoint.host.clone(),
    })?;
    let session = rustls::ClientConnection::new(config.clone(), name)
        .map_err(|source| FetchError::Tls { addr, source })?;
    exchange(rustls::StreamOwned::new(session, stream), addr, login)
}

fn exchange(
    mut stream: impl Read + Write,
    addr: SocketAddr,
    login: Option<&BackendLogin>,
) -> Result<FetchedMetadata, FetchError> {
    let io = |source| FetchError::Io { addr, source };
    let wire = |source| FetchError::Wire { addr, source };
    let request = encode_api_versions_request(1).map_err(wire)?;
    stream.write_all(&request).map_err(io)?;
    stream.flush().map_err(io)?;
    let body = read_frame(&mut stream, addr)?;
    let api_versions = read_api_versions(&body, API_VERSIONS_VERSION).map_err(wire)?;
    let version = api_versions.metadata_version().map_err(wire)?;
    if let Some(login) = login {
        log_in(&mut stream, addr, login)?;
    }

    let request = encode_metadata_request(2, version).map_err(wire)?;
    stream.write_all(&request).map_err(io)?;
    stream.flush().map_err(io)?;
    let body = read_frame(&mut stream, addr)?;
    let (cluster_id, brokers) = decode_metadata_brokers(&body.into(), version).map_err(wire)?;
    Ok(FetchedMetadata {
        cluster_id,
        brokers,
        api_versions,
    })
}

/// The gateway's SASL login, before anything else is asked.
fn log_in(
    stream: &mut (impl Read + Write),
    addr: SocketAddr,
    login: &BackendLogin,
) -> Result<(), FetchError> {
    let io = |source| FetchError::Io { addr, source };
    // A refresh a minute: deriving SCRAM's salted password each time costs
    // this thread little.
    let mut salted = SaltedCache::default();
    let mut exchange = LoginExchange::new(login, &mut salted);
    let mut frame = exchange.start();
    loop {
        stream.write_all(&frame).map_err(io)?;
        stream.flush().map_err(io)?;
        let body = read_frame(stream, addr)?;
        match exchange.answer(&body) {
            Ok(Some(next)) => frame = next,
            Ok(None) => return Ok(()),
            Err(source) => return Err(FetchError::Login { addr, source }),
        }
    }
}

fn read_frame(stream: &mut impl Read, addr: SocketAddr) -> Result<Vec<u8>, FetchError> {
    let mut prefix = [0u8; 4];
    stream
        .read_exact(&mut prefix)
        .map_err(|source| FetchError::Io { addr, source })?;
    let len = i32::from_be_bytes(prefix);
    let size = usize::try_from(len).unwrap_or(usize::MAX);
    if !(4..=MAX_DISCOVERY_FRAME).contains(&size) {
        return Err(FetchError::BadFrame {
            addr,
            len: len.into(),
        });
    }
    let mut body = vec![0u8; size];
    stream
        .read_exact(&mut body)
        .map_err(|source| FetchError::Io { addr, source })?;
    Ok(body)
}
