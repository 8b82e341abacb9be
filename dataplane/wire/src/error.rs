//! The one error type of the crate. Every message names the reason in plain
//! words because the data plane logs it verbatim when it closes a connection.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    #[error("negative frame length {0}")]
    NegativeLength(i32),

    #[error("frame length {len} exceeds the maximum of {max} bytes")]
    FrameTooLarge { len: usize, max: usize },

    #[error("frame length {len} is shorter than the minimum of {need} bytes")]
    FrameTooShort { len: usize, need: usize },

    #[error("client sent a TLS ClientHello to a plaintext Kafka port (TLS is not enabled on this listener)")]
    TlsOnPlaintext,

    #[error("client sent an HTTP request to a Kafka port")]
    HttpOnKafka,

    #[error("invalid api key {0} (negative)")]
    InvalidApiKey(i16),

    #[error("message truncated: ran out of bytes reading {0}")]
    Truncated(&'static str),

    #[error("malformed message: {0}")]
    Malformed(String),

    #[error("cannot decode api key {api_key} version {version}: {reason}")]
    Decode {
        api_key: i16,
        version: i16,
        reason: String,
    },

    #[error("cannot encode api key {api_key} version {version}: {reason}")]
    Encode {
        api_key: i16,
        version: i16,
        reason: String,
    },

    #[error("api key {api_key} version {version} is not supported by the gateway's decoder")]
    UnsupportedVersion { api_key: i16, version: i16 },
}
