//! Errors at the tool's edges. The exit code tells scripts whether the
//! invocation was wrong (2: bad flags, unreachable target) or the run failed
//! (1), so a CI job can tell "fix the command line" from "the gateway broke".

use crate::kafka::ProtocolError;

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
