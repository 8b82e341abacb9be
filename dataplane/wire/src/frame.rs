//! Frame boundaries: the 4-byte big-endian length prefix every Kafka request
//! and response starts with.

use crate::WireError;

pub const LENGTH_PREFIX: usize = 4;
pub const DEFAULT_MAX_FRAME: usize = 100 * 1024 * 1024;

/// First bytes of an HTTP request line. Read as a Kafka length prefix they
/// are all above 1 GiB, so with any sane `max` they could never be a frame;
/// naming them just gives the operator a better log line.
const HTTP_SIGNATURES: [&[u8; 4]; 9] = [
    b"GET ", b"POST", b"PUT ", b"HEAD", b"PRI ", b"DELE", b"OPTI", b"PATC", b"CONN",
];

/// Look at the start of a read buffer.
///
/// `Ok(None)`: fewer than 4 bytes yet. `Ok(Some(n))`: the frame at the start
/// of `buf` is `n` bytes *including* the 4-byte prefix; the caller waits
/// until it has `n` bytes. Nothing but the prefix is read, so the result
/// does not depend on how much of the body has arrived.
///
/// `max` bounds the declared length (prefix excluded). `min_body` is the
/// shortest valid body: 8 for requests (api_key + api_version +
/// correlation_id), 4 for responses (correlation_id). `detect_foreign` is
/// set only for the first frame of a client connection, where a TLS
/// ClientHello or an HTTP request is a likely misconfiguration worth naming.
pub fn frame_len(
    buf: &[u8],
    max: usize,
    min_body: usize,
    detect_foreign: bool,
) -> Result<Option<usize>, WireError> {
    let Some(prefix) = buf.first_chunk::<LENGTH_PREFIX>() else {
        return Ok(None);
    };
    if detect_foreign {
        detect_foreign_protocol(prefix)?;
    }
    let declared = i32::from_be_bytes(*prefix);
    let len = usize::try_from(declared).map_err(|_| WireError::NegativeLength(declared))?;
    if len > max {
        return Err(WireError::FrameTooLarge { len, max });
    }
    if len < min_body {
        return Err(WireError::FrameTooShort {
            len,
            need: min_body,
        });
    }
    Ok(Some(len + LENGTH_PREFIX))
}

fn detect_foreign_protocol(prefix: &[u8; LENGTH_PREFIX]) -> Result<(), WireError> {
    // A TLS record starts with content type 22 (handshake) and a 3.x
    // protocol version.
    let [content_type, major, _, _] = *prefix;
    if content_type == 0x16 && major == 0x03 {
        return Err(WireError::TlsOnPlaintext);
    }
    if HTTP_SIGNATURES.contains(&prefix) {
        return Err(WireError::HttpOnKafka);
    }
    Ok(())
}
