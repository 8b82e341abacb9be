//! Bounded label values. Every reason a metric can carry comes from a closed
//! enum here, mapped from the typed errors with exhaustive matches: a new
//! error variant does not compile until it is given a label, and no label
//! value is ever built from wire input, a host name or a client id.

use kafka_protocol::messages::ApiKey;
use sluice_wire::WireError;

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
    /// the four ways a connection ends without an error.
    CloseReason {
        ClientClosed => "client_closed",
        ClientLeft => "client_left",
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
        FirstFrameTimeout => "first_frame_timeout",
        FrameTimeout => "frame_timeout",
        IdleTimeout => "idle_timeout",
        UpstreamTimeout => "upstream_timeout",
        FrameOverBudget => "frame_over_budget",
        DrainTimeout => "drain_timeout",
        PolicyRefused => "policy_refused",
        AuthenticationFailed => "authentication_failed",
        SessionExpired => "session_expired",
        NotAuthenticated => "not_authenticated",
        SaslState => "sasl_protocol_error",
        BackendLogin => "backend_login_failed",
        Internal => "internal_error",
    }
}

impl CloseReason {
    /// The words the connection-close log line has always used for the
    /// three error-free endings; errors are logged with their own message.
    pub fn text(self) -> &'static str {
        match self {
            CloseReason::ClientClosed => "client closed",
            CloseReason::ClientLeft => "client left with requests in flight",
            CloseReason::Draining => "gateway draining",
            CloseReason::ResponseSideEnded => "response side ended",
            CloseReason::IdleTimeout => "idle for longer than the listener's idle_timeout_ms",
            CloseReason::AuthenticationFailed => "client authentication failed",
            other => other.label(),
        }
    }
}

/// How a connection ended, in label terms: what the close counters count
/// it under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseLabels {
    pub reason: CloseReason,
    /// The TLS handshake that failed, if one did.
    pub tls: Option<(Side, TlsFailure)>,
    /// The frame that was refused, if one was.
    pub frame: Option<(Side, FrameReject)>,
}

impl From<CloseReason> for CloseLabels {
    fn from(reason: CloseReason) -> Self {
        CloseLabels {
            reason,
            tls: None,
            frame: None,
        }
    }
}

label_enum! {
    /// The SASL mechanism of a login the gateway checked; `unsupported`
    /// for a mechanism the virtual cluster does not offer.
    SaslMechanism {
        Plain => "PLAIN",
        ScramSha256 => "SCRAM-SHA-256",
        ScramSha512 => "SCRAM-SHA-512",
        OauthBearer => "OAUTHBEARER",
        Unsupported => "unsupported",
    }
}

impl SaslMechanism {
    pub fn of(mechanism: Option<&str>) -> SaslMechanism {
        match mechanism {
            Some("PLAIN") => SaslMechanism::Plain,
            Some("SCRAM-SHA-256") => SaslMechanism::ScramSha256,
            Some("SCRAM-SHA-512") => SaslMechanism::ScramSha512,
            Some("OAUTHBEARER") => SaslMechanism::OauthBearer,
            _ => SaslMechanism::Unsupported,
        }
    }
}

/// Counters per (mechanism, result): ok then failed for each mechanism.
pub const AUTH_SLOTS: usize = SaslMechanism::COUNT * 2;

pub fn auth_slot(mechanism: SaslMechanism, ok: bool) -> usize {
    mechanism.index() * 2 + usize::from(!ok)
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
    /// futures-rustls reports rustls errors as `io::Error`s wrapping them.
    pub fn of_io(err: &std::io::Error) -> TlsFailure {
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
