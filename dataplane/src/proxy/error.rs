//! Why a proxied connection ended. Every variant says which side failed,
//! because that decides what is logged, counted and told to the client.

use std::net::SocketAddr;

use sluice_wire::WireError;

use super::clock::Expiry;
use crate::metrics::labels::{self, BackendError, CloseReason, FrameReject, TlsFailure};
use crate::metrics::CloseLabels;
use sluice_runtime::{OverBudget, ReadError};

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
    #[error("client sent an invalid frame")]
    ClientFrame(#[source] WireError),
    #[error("client frame incomplete")]
    ClientTruncated(#[source] ReadError),
    #[error("client socket error")]
    ClientIo(#[source] std::io::Error),
    #[error("backend sent an invalid frame")]
    BackendFrame(#[source] WireError),
    #[error("backend frame incomplete")]
    BackendTruncated(#[source] ReadError),
    #[error("backend socket error")]
    BackendIo(#[source] std::io::Error),
    #[error("backend closed the connection with {0} request(s) in flight")]
    BackendClosed(usize),
    #[error("backend sent data with no request in flight")]
    Unsolicited,
    #[error("backend answered correlation id {got}, expected {expected}")]
    CorrelationMismatch { expected: i32, got: i32 },
    #[error("cannot reach backend {addr}")]
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
    #[error("client TLS handshake failed")]
    TlsHandshake(#[source] std::io::Error),
    #[error("client did not finish its TLS handshake within {0} ms")]
    HandshakeTimeout(u128),
    #[error("client sent no SNI server name; this listener routes by name")]
    NoSni,
    #[error("unknown SNI server name {0:?}")]
    UnknownSni(String),
    #[error("TLS handshake with backend {addr} failed")]
    BackendTls {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("backend host {0:?} is not a valid TLS server name")]
    BackendServerName(String),
    #[error("configuration changed: {0}")]
    ConfigChanged(String),
    #[error("{0}")]
    Expired(Expiry),
    #[error("client frame refused")]
    FrameOverBudget(#[source] OverBudget),
    #[error("drain timeout with {0} request(s) in flight")]
    DrainTimeout(usize),
    /// A policy refused a request that no response could refuse.
    #[error("{0}")]
    PolicyRefused(String),
    /// A request other than ApiVersions and SASL before the client logged
    /// in, on a virtual cluster that requires a login.
    #[error("api key {api_key} before the client authenticated")]
    NotAuthenticated { api_key: i16 },
    /// SASL requests out of order, or in a form sluice does not take.
    #[error("SASL: {0}")]
    SaslState(String),
    /// The gateway's own login to the broker failed.
    #[error("logging in to the backend: {0}")]
    BackendLogin(#[source] crate::backend_login::LoginError),
    /// A bug in sluice: the connection's code panicked. Only this
    /// connection ends; the shard and its other connections go on.
    #[error("internal error (a bug in sluice, please report it): {0}")]
    Internal(String),
}

impl From<crate::auth::AuthError> for ConnError {
    fn from(err: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError;
        match err {
            AuthError::NotAuthenticated { api_key } => ConnError::NotAuthenticated { api_key },
            AuthError::SaslState(why) => ConnError::SaslState(why),
            AuthError::Frame(e) => ConnError::ClientFrame(e),
            AuthError::SessionExpired => ConnError::Expired(super::Expiry::Session),
        }
    }
}

impl ConnError {
    pub fn side(&self) -> Side {
        use ConnError::*;
        match self {
            ClientFrame(_) | ClientTruncated(_) | ClientIo(_) => Side::Client,
            ClientGone | PlaintextOnTls | PlaintextOnSni | TlsHandshake(_) => Side::Client,
            HandshakeTimeout(_) | FrameOverBudget(_) => Side::Client,
            Expired(Expiry::Upstream) => Side::Backend,
            Expired(_) => Side::Client,
            NoSni | UnknownSni(_) | PolicyRefused(_) => Side::Client,
            NotAuthenticated { .. } | SaslState(_) => Side::Client,
            BackendLogin(_) => Side::Backend,
            BackendTls { .. } | BackendServerName(_) => Side::Backend,
            BackendFrame(_) | BackendTruncated(_) | BackendIo(_) | BackendClosed(_) => {
                Side::Backend
            }
            Unsolicited | CorrelationMismatch { .. } | Connect { .. } => Side::Backend,
            UnknownBroker { .. } | NoBootstrap(_) => Side::Backend,
            UnmappedPort { .. } | ListenerGone(_) | ConfigChanged(_) => Side::Config,
            TooManyConnections(_) | Internal(_) | DrainTimeout(_) => Side::Gateway,
        }
    }

    pub fn from_client_read(err: ReadError) -> Self {
        match err {
            ReadError::Wire(e) => ConnError::ClientFrame(e),
            ReadError::Io(e) => ConnError::ClientIo(e),
            truncated @ ReadError::Truncated { .. } => ConnError::ClientTruncated(truncated),
            ReadError::OverBudget(e) => ConnError::FrameOverBudget(e),
        }
    }

    pub fn from_backend_read(err: ReadError) -> Self {
        match err {
            ReadError::Wire(e) => ConnError::BackendFrame(e),
            ReadError::Io(e) => ConnError::BackendIo(e),
            truncated @ ReadError::Truncated { .. } => ConnError::BackendTruncated(truncated),
            // Only client frames are budgeted; kept total for the match.
            ReadError::OverBudget(e) => ConnError::FrameOverBudget(e),
        }
    }
}

/// An error and the errors that caused it, on one line: `outer: cause: ...`.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(err) = cause {
            write!(f, ": {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

impl ConnError {
    /// What the close counters count this error under; mapped with
    /// exhaustive matches, so a new variant does not compile without one.
    pub fn labels(&self) -> CloseLabels {
        CloseLabels {
            reason: self.close_reason(),
            tls: self.tls_failure(),
            frame: match self {
                ConnError::ClientFrame(e) => Some((labels::Side::Client, FrameReject::of(e))),
                ConnError::BackendFrame(e) => Some((labels::Side::Backend, FrameReject::of(e))),
                _ => None,
            },
        }
    }

    pub fn close_reason(&self) -> CloseReason {
        use ConnError as E;
        match self {
            E::ClientFrame(_) => CloseReason::ClientFrame,
            E::ClientTruncated(_) => CloseReason::ClientTruncated,
            E::ClientIo(_) => CloseReason::ClientIo,
            E::BackendFrame(_) => CloseReason::BackendFrame,
            E::BackendTruncated(_) => CloseReason::BackendTruncated,
            E::BackendIo(_) => CloseReason::BackendIo,
            E::BackendClosed(_) => CloseReason::BackendClosed,
            E::Unsolicited => CloseReason::Unsolicited,
            E::CorrelationMismatch { .. } => CloseReason::CorrelationMismatch,
            E::Connect { .. } => CloseReason::Connect,
            E::UnknownBroker { .. } => CloseReason::UnknownBroker,
            E::NoBootstrap(_) => CloseReason::NoBootstrap,
            E::UnmappedPort { .. } => CloseReason::UnmappedPort,
            E::ListenerGone(_) => CloseReason::ListenerGone,
            E::TooManyConnections(_) => CloseReason::TooManyConnections,
            E::ClientGone => CloseReason::ClientGone,
            E::PlaintextOnTls => CloseReason::PlaintextOnTls,
            E::PlaintextOnSni => CloseReason::PlaintextOnSni,
            E::TlsHandshake(_) => CloseReason::TlsHandshake,
            E::HandshakeTimeout(_) => CloseReason::HandshakeTimeout,
            E::NoSni => CloseReason::NoSni,
            E::UnknownSni(_) => CloseReason::UnknownSni,
            E::BackendTls { .. } => CloseReason::BackendTls,
            E::BackendServerName(_) => CloseReason::BackendServerName,
            E::ConfigChanged(_) => CloseReason::ConfigChanged,
            E::Expired(expiry) => expiry.close_reason(),
            E::FrameOverBudget(_) => CloseReason::FrameOverBudget,
            E::DrainTimeout(_) => CloseReason::DrainTimeout,
            E::PolicyRefused(_) => CloseReason::PolicyRefused,
            E::NotAuthenticated { .. } => CloseReason::NotAuthenticated,
            E::SaslState(_) => CloseReason::SaslState,
            E::BackendLogin(_) => CloseReason::BackendLogin,
            E::Internal(_) => CloseReason::Internal,
        }
    }

    /// The TLS failure this error stands for, if it is one.
    pub fn tls_failure(&self) -> Option<(labels::Side, TlsFailure)> {
        use labels::Side as S;
        use ConnError as E;
        Some(match self {
            E::TlsHandshake(io) => (S::Client, TlsFailure::of_io(io)),
            E::NoSni => (S::Client, TlsFailure::NoSni),
            E::UnknownSni(_) => (S::Client, TlsFailure::UnknownSni),
            E::PlaintextOnTls | E::PlaintextOnSni => (S::Client, TlsFailure::Plaintext),
            E::BackendTls { source, .. } => (S::Backend, TlsFailure::of_io(source)),
            E::BackendServerName(_) => (S::Backend, TlsFailure::BadServerName),
            _ => return None,
        })
    }

    /// Why opening an upstream connection failed, if that is what this is.
    pub fn backend_error(&self) -> Option<BackendError> {
        use ConnError as E;
        Some(match self {
            E::Connect { .. } => BackendError::Connect,
            E::BackendTls { .. } => BackendError::Tls,
            E::BackendServerName(_) => BackendError::ServerName,
            E::UnknownBroker { .. } => BackendError::UnknownBroker,
            E::NoBootstrap(_) => BackendError::NoBootstrap,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    #[test]
    fn connection_errors_map_to_their_reasons() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let refused = || std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let cases = [
            (
                ConnError::ClientFrame(WireError::HttpOnKafka),
                "client_invalid_frame",
            ),
            (
                ConnError::Connect {
                    addr,
                    source: refused(),
                },
                "backend_connect_failed",
            ),
            (ConnError::UnknownSni("x.example".into()), "unknown_sni"),
            (
                ConnError::ConfigChanged("listener a changed".into()),
                "config_changed",
            ),
            (ConnError::TooManyConnections(1), "too_many_connections"),
            (ConnError::PolicyRefused("acks=0".into()), "policy_refused"),
            (
                ConnError::NotAuthenticated { api_key: 3 },
                "not_authenticated",
            ),
            (ConnError::SaslState("v0".into()), "sasl_protocol_error"),
            (ConnError::Internal("oops".into()), "internal_error"),
        ];
        for (err, label) in cases {
            assert_eq!(err.close_reason().label(), label, "{err}");
        }
        assert_eq!(CloseReason::Draining.text(), "gateway draining");
    }

    #[test]
    fn wire_errors_and_tls_failures_are_classified() {
        let err = WireError::FrameTooLarge { len: 10, max: 1 };
        assert_eq!(FrameReject::of(&err).label(), "too_large");
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let got = ConnError::TlsHandshake(eof).tls_failure();
        assert_eq!(got, Some((labels::Side::Client, TlsFailure::Eof)));
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, alert);
        let got = ConnError::TlsHandshake(wrapped).tls_failure();
        assert_eq!(got, Some((labels::Side::Client, TlsFailure::AlertReceived)));
        assert_eq!(ConnError::ClientGone.tls_failure(), None);
        let unknown = ConnError::UnknownBroker {
            node: 4,
            backend: "b".into(),
        };
        assert_eq!(unknown.backend_error(), Some(BackendError::UnknownBroker));
    }

    #[test]
    fn the_close_line_names_the_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = ConnError::BackendIo(io);
        assert_eq!(
            Chain(&err).to_string(),
            "backend socket error: reset by peer"
        );
        assert!(std::error::Error::source(&err).is_some());
        let frame = ConnError::ClientFrame(WireError::HttpOnKafka);
        assert_eq!(
            Chain(&frame).to_string(),
            "client sent an invalid frame: client sent an HTTP request to a Kafka port"
        );
    }
}
