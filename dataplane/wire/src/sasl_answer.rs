//! The gateway's own answers to SaslHandshake and SaslAuthenticate, for
//! virtual clusters that terminate SASL: encoded by kafka-protocol at the
//! version the client asked for, under its correlation id.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ResponseHeader, SaslAuthenticateResponse, SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Encodable, Message, StrBytes};

use crate::rewrite::codec::{check_version, encode_frame};
use crate::WireError;

/// Kafka's error codes for SASL.
pub const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
pub const ILLEGAL_SASL_STATE: i16 = 34;
pub const SASL_AUTHENTICATION_FAILED: i16 = 58;

/// What a client is told of any failed login: the same words whatever
/// went wrong, so the answer does not tell who exists.
pub const AUTHENTICATION_FAILED_MESSAGE: &str =
    "Authentication failed: Invalid username or password";

fn header_bytes(key: ApiKey, version: i16, correlation_id: i32) -> Result<Bytes, WireError> {
    let header_version = key.response_header_version(version);
    let mut out = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut out, header_version)
        .map_err(|e| WireError::Encode {
            api_key: key as i16,
            version,
            reason: format!("{e:#}"),
        })?;
    Ok(out.freeze())
}

/// A SaslHandshake response: `error_code` and the mechanisms offered.
pub fn handshake_answer(
    version: i16,
    correlation_id: i32,
    error_code: i16,
    mechanisms: &[&str],
) -> Result<Bytes, WireError> {
    const KEY: ApiKey = ApiKey::SaslHandshake;
    check_version::<SaslHandshakeResponse>(KEY, version)?;
    let message = SaslHandshakeResponse::default()
        .with_error_code(error_code)
        .with_mechanisms(
            mechanisms
                .iter()
                .map(|m| StrBytes::from_string((*m).to_owned()))
                .collect(),
        );
    let header = header_bytes(KEY, version, correlation_id)?;
    encode_frame(KEY, version, &header, &message)
}

/// What a SaslAuthenticate answer says.
#[derive(Debug, Clone, Default)]
pub struct AuthenticateAnswer<'a> {
    pub error_code: i16,
    /// Shown by the client; never a secret.
    pub error_message: Option<&'a str>,
    pub auth_bytes: &'a [u8],
    /// KIP-368: how long the session lasts; 0 for no limit (v1 and later).
    pub session_lifetime_ms: i64,
}

/// A SaslAuthenticate response.
pub fn authenticate_answer(
    version: i16,
    correlation_id: i32,
    answer: &AuthenticateAnswer<'_>,
) -> Result<Bytes, WireError> {
    const KEY: ApiKey = ApiKey::SaslAuthenticate;
    check_version::<SaslAuthenticateResponse>(KEY, version)?;
    let mut message = SaslAuthenticateResponse::default()
        .with_error_code(answer.error_code)
        .with_error_message(
            answer
                .error_message
                .map(|m| StrBytes::from_string(m.to_owned())),
        )
        .with_auth_bytes(Bytes::copy_from_slice(answer.auth_bytes));
    if version >= 1 {
        message = message.with_session_lifetime_ms(answer.session_lifetime_ms);
    }
    let header = header_bytes(KEY, version, correlation_id)?;
    encode_frame(KEY, version, &header, &message)
}

/// The highest SaslAuthenticate version the gateway answers.
pub fn max_authenticate_version() -> i16 {
    SaslAuthenticateResponse::VERSIONS.max
}
