//! What every rewriter shares: splitting off the response header, handing
//! the message to kafka-protocol, and building the replacement frame.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::{Decodable, Encodable, Message, StrBytes};

use super::tagged_walk::Cursor;
use super::{BrokerAddressMap, RewriteOutcome, Rewritten};
use crate::frame::LENGTH_PREFIX;
use crate::WireError;

pub(crate) fn unsupported(key: ApiKey, version: i16) -> WireError {
    WireError::UnsupportedVersion {
        api_key: key as i16,
        version,
    }
}

/// The highest (and lowest) version kafka-protocol decodes is the contract
/// of the crate's generated `Message::VERSIONS`.
pub(crate) fn check_version<M: Message>(key: ApiKey, version: i16) -> Result<(), WireError> {
    if (M::VERSIONS.min..=M::VERSIONS.max).contains(&version) {
        Ok(())
    } else {
        Err(unsupported(key, version))
    }
}

/// Length of the response header at the start of `body`: the correlation id,
/// plus a tagged-field section in header v1.
pub(crate) fn response_header_len(
    key: ApiKey,
    version: i16,
    body: &[u8],
) -> Result<usize, WireError> {
    let mut c = Cursor::new(body);
    c.skip(4, "response correlation_id")?;
    if key.response_header_version(version) >= 1 {
        c.skip_tagged_fields("response header tagged fields")?;
    }
    Ok(body.len().saturating_sub(c.remaining()))
}

/// The header bytes (kept verbatim, unknown header tags included) and the
/// message after them, both sharing `body`'s memory.
pub(crate) fn split_response(
    key: ApiKey,
    version: i16,
    body: &Bytes,
) -> Result<(Bytes, Bytes), WireError> {
    let header_len = response_header_len(key, version, body)?;
    if header_len > body.len() {
        return Err(WireError::Truncated("response header"));
    }
    let mut message = body.clone();
    let header = message.split_to(header_len);
    Ok((header, message))
}

/// Decodes a message whose structure the caller has already walked, so the
/// crate's allocations are bounded by the bytes present. Decoding from
/// `Bytes` keeps record data as zero-copy slices of the original frame.
pub(crate) fn decode<M: Decodable>(
    key: ApiKey,
    version: i16,
    mut message: Bytes,
) -> Result<M, WireError> {
    M::decode(&mut message, version).map_err(|e| WireError::Decode {
        api_key: key as i16,
        version,
        reason: format!("{e:#}"),
    })
}

fn encode_error(key: ApiKey, version: i16, reason: String) -> WireError {
    WireError::Encode {
        api_key: key as i16,
        version,
        reason,
    }
}

/// A complete frame (length prefix included) of `header` followed by
/// `message` encoded at `version`.
pub(crate) fn encode_frame<M: Encodable>(
    key: ApiKey,
    version: i16,
    header: &[u8],
    message: &M,
) -> Result<Bytes, WireError> {
    let size = message
        .compute_size(version)
        .map_err(|e| encode_error(key, version, format!("{e:#}")))?;
    let len = header.len().saturating_add(size);
    let prefix = i32::try_from(len)
        .map_err(|_| encode_error(key, version, format!("frame of {len} bytes is too large")))?;
    let mut out = BytesMut::with_capacity(LENGTH_PREFIX.saturating_add(len));
    out.put_i32(prefix);
    out.put_slice(header);
    message
        .encode(&mut out, version)
        .map_err(|e| encode_error(key, version, format!("{e:#}")))?;
    Ok(out.freeze())
}

pub(crate) fn unchanged() -> RewriteOutcome {
    RewriteOutcome {
        frame: Rewritten::Unchanged,
        unmapped: Vec::new(),
    }
}

/// Re-encodes only when something was changed; the caller forwards the
/// original bytes otherwise.
pub(crate) fn finish<M: Encodable>(
    key: ApiKey,
    version: i16,
    header: &[u8],
    message: &M,
    changed: bool,
    unmapped: Unmapped,
) -> Result<RewriteOutcome, WireError> {
    let frame = if changed {
        Rewritten::Replaced(encode_frame(key, version, header, message)?)
    } else {
        Rewritten::Unchanged
    };
    Ok(RewriteOutcome {
        frame,
        unmapped: unmapped.into_sorted(),
    })
}

/// Node ids that had no address on this listener.
#[derive(Default)]
pub(crate) struct Unmapped(Vec<i32>);

impl Unmapped {
    pub(crate) fn push(&mut self, node_id: i32) {
        self.0.push(node_id);
    }

    /// Sorted and deduplicated, so the caller logs each broker once (and
    /// lookups can binary-search).
    pub(crate) fn sorted(&mut self) -> &[i32] {
        self.0.sort_unstable();
        self.0.dedup();
        &self.0
    }

    fn into_sorted(mut self) -> Vec<i32> {
        self.sorted();
        self.0
    }
}

/// Looks up `node_id` and updates `host`/`port` in place. `Some(changed)`
/// when the broker is mapped, `None` (and noted) when it is not.
pub(crate) fn map_endpoint(
    map: &dyn BrokerAddressMap,
    node_id: i32,
    host: &mut StrBytes,
    port: &mut i32,
    unmapped: &mut Unmapped,
) -> Option<bool> {
    let Some((new_host, new_port)) = map.broker_endpoint(node_id) else {
        unmapped.push(node_id);
        return None;
    };
    if host.as_str() == new_host && *port == new_port {
        return Some(false);
    }
    *host = StrBytes::from_string(new_host.into_owned());
    *port = new_port;
    Some(true)
}
