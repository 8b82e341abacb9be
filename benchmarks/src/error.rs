//! Errors at the tool's edges, and the error type for everything a Kafka
//! peer can get wrong. The exit code tells scripts whether the
//! invocation was wrong (2: bad flags, unreachable target) or the run failed
//! (1), so a CI job can tell "fix the command line" from "the gateway broke".

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::ApiKey;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The target could not be reached at all; nothing was measured.
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    /// Flags that clap accepted but that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// The target answered, but not in a way a run can start from
    /// (missing topic, failed CreateTopics, unsupported versions...).
    #[error("{0}")]
    Setup(String),
    #[error("{context}: {source}")]
    Protocol {
        context: String,
        source: ProtocolError,
    },
    #[error("{0}")]
    Io(String),
}

impl BenchError {
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::Connect { .. } | BenchError::Usage(_) => 2,
            _ => 1,
        }
    }

    pub fn protocol(context: impl Into<String>, source: ProtocolError) -> BenchError {
        BenchError::Protocol {
            context: context.into(),
            source,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("connection closed by peer")]
    Closed,
    #[error("connection closed by peer in the middle of a frame")]
    Truncated,
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {size} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge { size: usize, max: usize },
    #[error("negative frame length {0}")]
    NegativeLength(i32),
    #[error("malformed {api:?} v{version} response: {reason}")]
    Malformed {
        api: ApiKey,
        version: i16,
        reason: String,
    },
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    #[error("response correlation id {got} does not match the request's {expected}")]
    Correlation { expected: i32, got: i32 },
    #[error("a response arrived with no request in flight")]
    Unsolicited,
    #[error("{api:?} failed: {error}")]
    Kafka { api: ApiKey, error: ResponseError },
    #[error("{0}")]
    Unsupported(String),
    #[error("cannot encode {api:?} v{version}: {reason}")]
    Encode {
        api: ApiKey,
        version: i16,
        reason: String,
    },
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    #[error("TLS: {0}")]
    Tls(String),
}

impl ProtocolError {
    /// A short label for error tallies: stable across occurrences, so equal
    /// failures add up instead of each printing its own line.
    pub fn kind(&self) -> String {
        match self {
            ProtocolError::Io(e) => format!("i/o error: {:?}", e.kind()),
            ProtocolError::Malformed { api, .. } => format!("malformed {api:?} response"),
            ProtocolError::Correlation { .. } => "correlation id mismatch".to_string(),
            ProtocolError::Kafka { api, error } => kafka_error_kind(*api, *error),
            ProtocolError::Encode { api, .. } => format!("cannot encode {api:?}"),
            ProtocolError::FrameTooLarge { .. } => "frame too large".to_string(),
            ProtocolError::NegativeLength(_) => "negative frame length".to_string(),
            ProtocolError::MalformedRequest(_) => "malformed request".to_string(),
            other => other.to_string(),
        }
    }

    pub fn is_timeout(&self) -> bool {
        match self {
            ProtocolError::Timeout(_) => true,
            ProtocolError::Io(e) => e.kind() == std::io::ErrorKind::TimedOut,
            _ => false,
        }
    }
}

/// The tally label of a Kafka error code in a response.
pub fn kafka_error_kind(api: ApiKey, error: ResponseError) -> String {
    format!("{api:?} {error}")
}
