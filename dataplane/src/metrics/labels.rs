//! Bounded label values. Every reason a metric can carry comes from a closed
//! enum here, mapped from the typed errors with exhaustive matches: a new
//! error variant does not compile until it is given a label, and no label
//! value is ever built from wire input, a host name or a client id.

use kafka_protocol::messages::ApiKey;
use sluice_wire::WireError;

use crate::proxy::ConnError;

/// Declares a label enum with its label strings, `ALL` in declaration
/// order and `COUNT`, so counters can be fixed-size arrays indexed by it.
macro_rules! label_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $label:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            pub const COUNT: usize = Self::ALL.len();

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn index(self) -> usize {
                self as usize
            }
        }
    };
}

label_enum! {
    /// Why a client connection ended: one value per `ConnError` variant plus
    /// the three ways a connection ends without an error.
    CloseReason {
        ClientClosed => "client_closed",
        Draining => "draining",
        ResponseSideEnded => "response_side_ended",
        ClientFrame => "client_invalid_frame",
        ClientTruncated => "client_truncated",
        ClientIo => "client_io_error",
        BackendFrame => "backend_invalid_frame",
        BackendTruncated => "backend_truncated",
        BackendIo => "backend_io_error",
        BackendClosed => "backend_closed",
        Unsolicited => "backend_unsolicited",
        CorrelationMismatch => "backend_correlation_mismatch",
        Connect => "backend_connect_failed",
        UnknownBroker => "unknown_broker",
        NoBootstrap => "no_bootstrap",
        UnmappedPort => "unmapped_port",
        ListenerGone => "listener_gone",
        TooManyConnections => "too_many_connections",
        ClientGone => "client_gone",
        PlaintextOnTls => "plaintext_on_tls",
        PlaintextOnSni => "plaintext_on_sni",
        TlsHandshake => "tls_handshake_failed",
        HandshakeTimeout => "handshake_timeout",
        NoSni => "no_sni",
        UnknownSni => "unknown_sni",
        BackendTls => "backend_tls_failed",
        BackendServerName => "backend_server_name",
        ConfigChanged => "config_changed",
        PolicyRefused => "policy_refused",
        Internal => "internal_error",
    }
}

impl CloseReason {
    /// The words the connection-close log line has always used for the
    /// three error-free endings; errors are logged with their own message.
    pub fn text(self) -> &'static str {
        match self {
            CloseReason::ClientClosed => "client closed",
            CloseReason::Draining => "gateway draining",
            CloseReason::ResponseSideEnded => "response side ended",
            other => other.label(),
        }
    }

    pub fn of(err: &ConnError) -> CloseReason {
        use ConnError as E;
        match err {
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
            E::PolicyRefused(_) => CloseReason::PolicyRefused,
            E::Internal(_) => CloseReason::Internal,
        }
    }
}

label_enum! {
    /// Which limit of a produce policy refused a request.
    PolicyLimit {
        MinAcks => "min_acks",
        MaxBatchBytes => "max_batch_bytes",
    }
}

label_enum! {
    /// Why a frame was refused: one value per `WireError` variant.
    FrameReject {
        NegativeLength => "negative_length",
        TooLarge => "too_large",
        TooShort => "too_short",
        TlsOnPlaintext => "tls_on_plaintext",
        HttpOnKafka => "http_on_kafka",
        InvalidApiKey => "invalid_api_key",
        Truncated => "truncated",
        Malformed => "malformed",
        Decode => "decode",
        Encode => "encode",
        UnsupportedVersion => "unsupported_version",
    }
}

impl FrameReject {
    pub fn of(err: &WireError) -> FrameReject {
        use WireError as W;
        match err {
            W::NegativeLength(_) => FrameReject::NegativeLength,
            W::FrameTooLarge { .. } => FrameReject::TooLarge,
            W::FrameTooShort { .. } => FrameReject::TooShort,
            W::TlsOnPlaintext => FrameReject::TlsOnPlaintext,
            W::HttpOnKafka => FrameReject::HttpOnKafka,
            W::InvalidApiKey(_) => FrameReject::InvalidApiKey,
            W::Truncated(_) => FrameReject::Truncated,
            W::Malformed(_) => FrameReject::Malformed,
            W::Decode { .. } => FrameReject::Decode,
            W::Encode { .. } => FrameReject::Encode,
            W::UnsupportedVersion { .. } => FrameReject::UnsupportedVersion,
        }
    }
}

label_enum! {
    /// Which party's bytes or handshake a counter is about.
    Side {
        Client => "client",
        Backend => "backend",
    }
}

label_enum! {
    /// Why a TLS handshake (client side: termination; backend side: the
    /// gateway's own handshake to a broker) did not produce a connection.
    TlsFailure {
        BadCertificate => "bad_certificate",
        NoCertificate => "no_certificate",
        Incompatible => "incompatible",
        AlertReceived => "alert_received",
        ProtocolError => "protocol_error",
        Eof => "eof",
        Timeout => "timeout",
        Io => "io_error",
        NoSni => "no_sni",
        UnknownSni => "unknown_sni",
        Plaintext => "plaintext",
        BadServerName => "bad_server_name",
        Other => "other",
    }
}

impl TlsFailure {
    /// The TLS failure a connection error stands for, if it is one.
    pub fn of(err: &ConnError) -> Option<(Side, TlsFailure)> {
        use ConnError as E;
        Some(match err {
            E::TlsHandshake(io) => (Side::Client, TlsFailure::of_io(io)),
            E::NoSni => (Side::Client, TlsFailure::NoSni),
            E::UnknownSni(_) => (Side::Client, TlsFailure::UnknownSni),
            E::PlaintextOnTls | E::PlaintextOnSni => (Side::Client, TlsFailure::Plaintext),
            E::BackendTls { source, .. } => (Side::Backend, TlsFailure::of_io(source)),
            E::BackendServerName(_) => (Side::Backend, TlsFailure::BadServerName),
            _ => return None,
        })
    }

    /// futures-rustls reports rustls errors as `io::Error`s wrapping them.
    fn of_io(err: &std::io::Error) -> TlsFailure {
        if let Some(tls) = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            return TlsFailure::of_rustls(tls);
        }
        match err.kind() {
            std::io::ErrorKind::UnexpectedEof => TlsFailure::Eof,
            std::io::ErrorKind::TimedOut => TlsFailure::Timeout,
            _ => TlsFailure::Io,
        }
    }

    fn of_rustls(err: &rustls::Error) -> TlsFailure {
        use rustls::Error as R;
        match err {
            R::InvalidCertificate(_) => TlsFailure::BadCertificate,
            R::NoCertificatesPresented => TlsFailure::NoCertificate,
            R::PeerIncompatible(_) => TlsFailure::Incompatible,
            R::AlertReceived(_) => TlsFailure::AlertReceived,
            R::PeerMisbehaved(_)
            | R::InappropriateMessage { .. }
            | R::InappropriateHandshakeMessage { .. }
            | R::InvalidMessage(_) => TlsFailure::ProtocolError,
            _ => TlsFailure::Other,
        }
    }
}

label_enum! {
    /// Why opening an upstream connection failed.
    BackendError {
        Connect => "connect",
        Tls => "tls",
        ServerName => "server_name",
        UnknownBroker => "unknown_broker",
        NoBootstrap => "no_bootstrap",
    }
}

impl BackendError {
    pub fn of(err: &ConnError) -> Option<BackendError> {
        use ConnError as E;
        Some(match err {
            E::Connect { .. } => BackendError::Connect,
            E::BackendTls { .. } => BackendError::Tls,
            E::BackendServerName(_) => BackendError::ServerName,
            E::UnknownBroker { .. } => BackendError::UnknownBroker,
            E::NoBootstrap(_) => BackendError::NoBootstrap,
            _ => return None,
        })
    }
}

/// Api keys 0..=127 have a counter each; anything else shares the last.
pub const API_SLOTS: usize = 129;
const OTHER_API: usize = API_SLOTS - 1;

pub fn api_slot(api_key: i16) -> usize {
    usize::try_from(api_key)
        .ok()
        .filter(|&k| k < OTHER_API)
        .unwrap_or(OTHER_API)
}

/// The api key's name as kafka-protocol spells it ("Produce", "Fetch"),
/// its number when the crate does not know it, "other" for the shared slot.
pub fn api_label(slot: usize) -> String {
    match i16::try_from(slot) {
        Ok(key) if slot < OTHER_API => match ApiKey::try_from(key) {
            Ok(api) => format!("{api:?}"),
            Err(()) => key.to_string(),
        },
        _ => "other".to_string(),
    }
}

/// Backend round-trip histograms are kept for the two apis whose latency
/// operators watch (a long-polled Fetch would drown Produce in one
/// histogram), and one for everything else.
pub const RTT_CLASSES: usize = 3;

pub fn rtt_class(api_key: i16) -> usize {
    match api_key {
        0 => 0,
        1 => 1,
        _ => 2,
    }
}

pub fn rtt_class_label(class: usize) -> &'static str {
    match class {
        0 => "Produce",
        1 => "Fetch",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::net::SocketAddr;

    fn assert_bounded(labels: impl Iterator<Item = &'static str>) {
        let mut seen = HashSet::new();
        for label in labels {
            assert!(seen.insert(label), "duplicate label {label}");
            let snake = label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            assert!(snake, "label {label:?} is not snake_case");
        }
    }

    #[test]
    fn every_label_set_is_unique_and_snake_case() {
        assert_bounded(CloseReason::ALL.iter().map(|r| r.label()));
        assert_bounded(FrameReject::ALL.iter().map(|r| r.label()));
        assert_bounded(TlsFailure::ALL.iter().map(|r| r.label()));
        assert_bounded(BackendError::ALL.iter().map(|r| r.label()));
        for (i, reason) in CloseReason::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
    }

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
            (ConnError::Internal("oops".into()), "internal_error"),
        ];
        for (err, label) in cases {
            assert_eq!(CloseReason::of(&err).label(), label, "{err}");
        }
        assert_eq!(CloseReason::Draining.text(), "gateway draining");
    }

    #[test]
    fn wire_errors_and_tls_failures_are_classified() {
        let err = WireError::FrameTooLarge { len: 10, max: 1 };
        assert_eq!(FrameReject::of(&err).label(), "too_large");
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        let got = TlsFailure::of(&ConnError::TlsHandshake(eof));
        assert_eq!(got, Some((Side::Client, TlsFailure::Eof)));
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, alert);
        let got = TlsFailure::of(&ConnError::TlsHandshake(wrapped));
        assert_eq!(got, Some((Side::Client, TlsFailure::AlertReceived)));
        assert_eq!(TlsFailure::of(&ConnError::ClientGone), None);
        let unknown = ConnError::UnknownBroker {
            node: 4,
            backend: "b".into(),
        };
        assert_eq!(
            BackendError::of(&unknown),
            Some(BackendError::UnknownBroker)
        );
    }

    #[test]
    fn api_keys_have_bounded_slots_and_names() {
        assert_eq!(api_slot(0), 0);
        assert_eq!(api_slot(127), 127);
        assert_eq!(api_slot(128), API_SLOTS - 1);
        assert_eq!(api_slot(-1), API_SLOTS - 1);
        assert_eq!(api_label(0), "Produce");
        assert_eq!(api_label(1), "Fetch");
        assert_eq!(api_label(18), "ApiVersions");
        assert_eq!(api_label(API_SLOTS - 1), "other");
        assert_eq!(api_label(127), "127");
    }
}
