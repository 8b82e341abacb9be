//! SASL as Kafka carries it: the mechanism a SaslHandshake request names,
//! the bytes a SaslAuthenticate request carries, and in those bytes who is
//! logging in (a PLAIN message, a SCRAM client-first message). Read by
//! bounds-checked walks; nothing here allocates from a declared length.

use crate::api_key::{SASL_AUTHENTICATE, SASL_HANDSHAKE};
use crate::header::skip_request_header;
use crate::rewrite::tagged_walk::Cursor;
use crate::WireError;

/// SaslAuthenticate v2 is the first flexible version.
const AUTHENTICATE_FIRST_FLEXIBLE: i16 = 2;

/// The mechanism a SaslHandshake request (v0 or v1) asks for.
pub fn handshake_mechanism(body: &[u8], api_version: i16) -> Result<&str, WireError> {
    let mut c = Cursor::new(body);
    skip_request_header(&mut c, SASL_HANDSHAKE, api_version)?;
    let name = c.string_bytes(false, "mechanism")?;
    std::str::from_utf8(name).map_err(|_| WireError::Malformed("mechanism is not UTF-8".into()))
}

/// The SASL bytes of a SaslAuthenticate request.
pub fn authenticate_bytes(body: &[u8], api_version: i16) -> Result<&[u8], WireError> {
    let mut c = Cursor::new(body);
    skip_request_header(&mut c, SASL_AUTHENTICATE, api_version)?;
    let len = c.bytes_prefix(api_version >= AUTHENTICATE_FIRST_FLEXIBLE, "auth_bytes")?;
    c.take(len, "auth_bytes")
}

/// A SASL/PLAIN message (RFC 4616): `authzid NUL authcid NUL passwd`.
pub struct PlainMessage<'a> {
    pub authzid: &'a str,
    pub username: &'a str,
    pub password: &'a [u8],
}

/// The password is never printed.
impl std::fmt::Debug for PlainMessage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainMessage")
            .field("authzid", &self.authzid)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

pub fn parse_plain(message: &[u8]) -> Result<PlainMessage<'_>, WireError> {
    let malformed = |why: &str| WireError::Malformed(format!("SASL/PLAIN message: {why}"));
    let mut parts = message.splitn(3, |b| *b == 0);
    let (Some(authzid), Some(username), Some(password)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("expected authzid, user name and password"));
    };
    let text = |bytes| std::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8"));
    let (authzid, username) = (text(authzid)?, text(username)?);
    if username.is_empty() || password.is_empty() {
        return Err(malformed("empty user name or password"));
    }
    if password.contains(&0) {
        return Err(malformed("NUL in the password"));
    }
    Ok(PlainMessage {
        authzid,
        username,
        password,
    })
}

/// The user name of a SCRAM client-first message (`n,,n=NAME,r=...`),
/// unescaped (`=2C` is `,`, `=3D` is `=`): who a passed-through SCRAM
/// login is for.
pub fn scram_username(client_first: &[u8]) -> Result<String, WireError> {
    let malformed = |why: &str| WireError::Malformed(format!("SCRAM client-first message: {why}"));
    let text = std::str::from_utf8(client_first).map_err(|_| malformed("not UTF-8"))?;
    let bare = text
        .splitn(3, ',')
        .nth(2)
        .ok_or_else(|| malformed("no GS2 header"))?;
    let name = (bare.split(',').next())
        .and_then(|field| field.strip_prefix("n="))
        .ok_or_else(|| malformed("no user name"))?;
    unescape_scram_name(name)
}

/// A SCRAM user name as sent (`n=` field), unescaped: `=2C` is `,` and
/// `=3D` is `=`, the only escapes RFC 5802 has. Empty names are refused.
pub fn unescape_scram_name(name: &str) -> Result<String, WireError> {
    let malformed = |why: &str| WireError::Malformed(format!("SCRAM user name: {why}"));
    let mut out = String::with_capacity(name.len());
    let mut pieces = name.split('=');
    out.push_str(pieces.next().unwrap_or_default());
    for piece in pieces {
        let unescaped = match piece.get(..2) {
            Some("2C") => ',',
            Some("3D") => '=',
            _ => return Err(malformed("bad escape")),
        };
        out.push(unescaped);
        out.push_str(piece.get(2..).unwrap_or_default());
    }
    match out.is_empty() {
        true => Err(malformed("empty")),
        false => Ok(out),
    }
}

/// Who sends the requests below: the gateway's own discovery client.
const CLIENT_ID: &str = "sluice-discovery";

/// A SaslHandshake v1 request frame (length prefix included).
pub fn encode_handshake_request(correlation_id: i32, mechanism: &str) -> bytes::Bytes {
    let mut body = request_header(SASL_HANDSHAKE, correlation_id);
    put_string(&mut body, mechanism);
    framed(body)
}

/// A SaslAuthenticate v1 request frame carrying `auth_bytes`.
pub fn encode_authenticate_request(correlation_id: i32, auth_bytes: &[u8]) -> bytes::Bytes {
    use bytes::BufMut;
    let mut body = request_header(SASL_AUTHENTICATE, correlation_id);
    body.put_i32(i32::try_from(auth_bytes.len()).unwrap_or(i32::MAX));
    body.put_slice(auth_bytes);
    framed(body)
}

/// The error code of a SaslHandshake v1 response (body with its header).
pub fn handshake_response_error(body: &[u8]) -> Result<i16, WireError> {
    let mut c = Cursor::new(body);
    c.skip(4, "correlation_id")?;
    c.i16("error_code")
}

/// A SaslAuthenticate v1 response as a client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateResponse<'a> {
    pub error_code: i16,
    pub error_message: Option<String>,
    /// The server's SASL bytes (a SCRAM server message).
    pub auth_bytes: &'a [u8],
}

/// Reads a SaslAuthenticate v1 response (body with its header).
pub fn authenticate_response(body: &[u8]) -> Result<AuthenticateResponse<'_>, WireError> {
    let mut c = Cursor::new(body);
    c.skip(4, "correlation_id")?;
    let error_code = c.i16("error_code")?;
    let message = c.string_bytes(false, "error_message")?;
    let error_message =
        (!message.is_empty()).then(|| String::from_utf8_lossy(message).into_owned());
    let len = c.bytes_prefix(false, "auth_bytes")?;
    let auth_bytes = c.take(len, "auth_bytes")?;
    Ok(AuthenticateResponse {
        error_code,
        error_message,
        auth_bytes,
    })
}

/// Request header v1 of a v1 request: api key, version, correlation id,
/// client id.
fn request_header(api_key: i16, correlation_id: i32) -> bytes::BytesMut {
    use bytes::BufMut;
    let mut out = bytes::BytesMut::new();
    out.put_i16(api_key);
    out.put_i16(1);
    out.put_i32(correlation_id);
    put_string(&mut out, CLIENT_ID);
    out
}

fn put_string(out: &mut bytes::BytesMut, text: &str) {
    use bytes::BufMut;
    out.put_i16(i16::try_from(text.len()).unwrap_or(i16::MAX));
    out.put_slice(text.as_bytes());
}

fn framed(body: bytes::BytesMut) -> bytes::Bytes {
    use bytes::BufMut;
    let mut out = bytes::BytesMut::with_capacity(4 + body.len());
    out.put_i32(i32::try_from(body.len()).unwrap_or(i32::MAX));
    out.put_slice(&body);
    out.freeze()
}
