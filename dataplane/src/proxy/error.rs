//! Why a proxied connection ended. Every variant says which side failed,
//! because that decides what is logged, counted and told to the client.

use std::net::SocketAddr;

use sluice_wire::WireError;

use super::frames::ReadError;

/// The party responsible for a connection ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Backend,
    Config,
    Gateway,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Backend => "backend",
            Side::Config => "config",
            Side::Gateway => "gateway",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("client sent an invalid frame: {0}")]
    ClientFrame(WireError),
    #[error("client {0}")]
    ClientTruncated(ReadError),
    #[error("client socket error: {0}")]
    ClientIo(std::io::Error),
    #[error("backend sent an invalid frame: {0}")]
    BackendFrame(WireError),
    #[error("backend {0}")]
    BackendTruncated(ReadError),
    #[error("backend socket error: {0}")]
    BackendIo(std::io::Error),
    #[error("backend closed the connection with {0} request(s) in flight")]
    BackendClosed(usize),
    #[error("backend sent data with no request in flight")]
    Unsolicited,
    #[error("backend answered correlation id {got}, expected {expected}")]
    CorrelationMismatch { expected: i32, got: i32 },
    #[error("cannot reach backend {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no backend broker {node} is known (backend {backend})")]
    UnknownBroker { node: i32, backend: String },
    #[error("no address of backend {0} is known yet")]
    NoBootstrap(String),
    #[error("port {port} of listener {listener} maps to no bootstrap or broker")]
    UnmappedPort { listener: String, port: u16 },
    #[error("listener {0} is no longer configured")]
    ListenerGone(String),
    #[error("shard connection limit of {0} reached")]
    TooManyConnections(usize),
    #[error("client closed before sending anything")]
    ClientGone,
    #[error("client sent plaintext to a TLS-only listener (allow_plaintext is off)")]
    PlaintextOnTls,
    #[error(
        "client sent plaintext to an SNI listener: without TLS there is no server name to route by"
    )]
    PlaintextOnSni,
    #[error("client TLS handshake failed: {0}")]
    TlsHandshake(std::io::Error),
    #[error("client did not finish its TLS handshake within {0} ms")]
    HandshakeTimeout(u128),
    #[error("client sent no SNI server name; this listener routes by name")]
    NoSni,
    #[error("unknown SNI server name {0:?}")]
    UnknownSni(String),
    #[error("TLS handshake with backend {addr} failed: {source}")]
    BackendTls {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("backend host {0:?} is not a valid TLS server name")]
    BackendServerName(String),
    #[error("configuration changed: {0}")]
    ConfigChanged(String),
    /// A policy refused a request that no response could refuse.
    #[error("{0}")]
    PolicyRefused(String),
    /// A bug in sluice: the connection's code panicked. Only this
    /// connection ends; the shard and its other connections go on.
    #[error("internal error (a bug in sluice, please report it): {0}")]
    Internal(String),
}

impl ConnError {
    pub fn side(&self) -> Side {
        use ConnError::*;
        match self {
            ClientFrame(_) | ClientTruncated(_) | ClientIo(_) => Side::Client,
            ClientGone | PlaintextOnTls | PlaintextOnSni | TlsHandshake(_) => Side::Client,
            HandshakeTimeout(_) => Side::Client,
            NoSni | UnknownSni(_) | PolicyRefused(_) => Side::Client,
            BackendTls { .. } | BackendServerName(_) => Side::Backend,
            BackendFrame(_) | BackendTruncated(_) | BackendIo(_) | BackendClosed(_) => {
                Side::Backend
            }
            Unsolicited | CorrelationMismatch { .. } | Connect { .. } => Side::Backend,
            UnknownBroker { .. } | NoBootstrap(_) => Side::Backend,
            UnmappedPort { .. } | ListenerGone(_) | ConfigChanged(_) => Side::Config,
            TooManyConnections(_) | Internal(_) => Side::Gateway,
        }
    }

    pub fn from_client_read(err: ReadError) -> Self {
        match err {
            ReadError::Wire(e) => ConnError::ClientFrame(e),
            ReadError::Io(e) => ConnError::ClientIo(e),
            truncated @ ReadError::Truncated { .. } => ConnError::ClientTruncated(truncated),
        }
    }

    pub fn from_backend_read(err: ReadError) -> Self {
        match err {
            ReadError::Wire(e) => ConnError::BackendFrame(e),
            ReadError::Io(e) => ConnError::BackendIo(e),
            truncated @ ReadError::Truncated { .. } => ConnError::BackendTruncated(truncated),
        }
    }
}
