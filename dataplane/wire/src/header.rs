//! Request-header peeks for the hot path: the fixed first 8 bytes of a
//! request body and the first 4 of a response body, nothing else.

use kafka_protocol::messages::ApiKey;

use crate::rewrite::tagged_walk::Cursor;
use crate::WireError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHeader {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
}

/// `body` = frame without the length prefix. Reads only the three fixed
/// fields every request header version starts with.
pub fn peek_request_header(body: &[u8]) -> Result<RequestHeader, WireError> {
    let mut c = Cursor::new(body);
    let api_key = c.i16("request api_key")?;
    let api_version = c.i16("request api_version")?;
    let correlation_id = c.i32("request correlation_id")?;
    if api_key < 0 {
        return Err(WireError::InvalidApiKey(api_key));
    }
    Ok(RequestHeader {
        api_key,
        api_version,
        correlation_id,
    })
}

/// Correlation id of a response body (its first 4 bytes in every response
/// header version).
pub fn response_correlation_id(body: &[u8]) -> Result<i32, WireError> {
    Cursor::new(body).i32("response correlation_id")
}

/// Moves `c` from the start of a request body past its header: the fixed
/// fields, `client_id` (a plain nullable STRING even in header v2) and, in
/// header v2, the tagged fields. The walks that read one field of a request
/// body start here.
pub(crate) fn skip_request_header(
    c: &mut Cursor<'_>,
    api_key: i16,
    api_version: i16,
) -> Result<(), WireError> {
    c.skip(8, "request header")?;
    c.string(false, "request client_id")?;
    // The callers' api keys are known, so the header version is too; the
    // fallback only keeps this free of unwrap.
    if request_header_version(api_key, api_version).unwrap_or(1) >= 2 {
        c.skip_tagged_fields("request header tagged fields")?;
    }
    Ok(())
}

/// Request header version (1 or 2) for `(api_key, api_version)`; `None` for
/// an api key kafka-protocol does not know.
pub fn request_header_version(api_key: i16, api_version: i16) -> Option<i16> {
    ApiKey::try_from(api_key)
        .ok()
        .map(|key| key.request_header_version(api_version))
}

/// Response header version (0 or 1; always 0 for ApiVersions, whose response
/// must stay readable by a client that does not know the broker's versions).
pub fn response_header_version(api_key: i16, api_version: i16) -> Option<i16> {
    ApiKey::try_from(api_key)
        .ok()
        .map(|key| key.response_header_version(api_version))
}
