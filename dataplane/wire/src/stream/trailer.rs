//! The top-level tagged fields of a streamed Fetch response, rewritten in
//! exactly as many bytes as they had: the frame's length prefix has gone
//! out already. Endpoints that no longer fit are dropped (the client then
//! asks Metadata for the new leader, as it did before KIP-951), and the
//! space left over is filled with an unknown tagged field, which every
//! Kafka client skips by design.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::NodeEndpoint;
use kafka_protocol::protocol::{Decodable, Encodable};

use crate::rewrite::node_endpoints;
use crate::rewrite::tagged_walk::Cursor;
use crate::rewrite::BrokerAddressMap;
use crate::WireError;

const NODE_ENDPOINTS: u32 = 0;
/// Tag of the filler field: no Fetch version kafka-protocol knows (and the
/// gateway lets clients pick) defines it, and it encodes in one byte.
const FILLER: u32 = 127;

/// `None` when `trailer` holds no `node_endpoints` (forward it as it is);
/// otherwise the replacement, `trailer.len()` bytes long. Also returns the
/// node ids that had no address on this listener.
pub fn rewrite_fetch_trailer(
    version: i16,
    trailer: &[u8],
    map: &dyn BrokerAddressMap,
) -> Result<Option<(Bytes, Vec<i32>)>, WireError> {
    let fields = tagged_fields(trailer)?;
    // `tagged_fields` refuses a second node_endpoints, so this is the one.
    let Some(&(_, content)) = fields.iter().find(|(tag, _)| *tag == NODE_ENDPOINTS) else {
        return Ok(None);
    };
    let mut endpoints = decode_endpoints(content, version)?;
    let mut unmapped = crate::rewrite::codec::Unmapped::default();
    node_endpoints::rewrite(&mut endpoints, map, &mut unmapped);
    let unmapped = unmapped.sorted().to_vec();
    let encoded = encode_endpoints(&endpoints, version)?;
    let mut kept: Vec<(u32, &[u8])> = fields
        .iter()
        .map(|&(tag, content)| match tag {
            NODE_ENDPOINTS => (tag, encoded.as_slice()),
            _ => (tag, content),
        })
        .collect();
    if let Some(out) = fill_to(&kept, trailer.len()) {
        return Ok(Some((out, unmapped)));
    }
    kept.retain(|(tag, _)| *tag != NODE_ENDPOINTS);
    let out = fill_to(&kept, trailer.len()).ok_or_else(|| {
        WireError::Malformed("fetch response tagged fields too short to rewrite".into())
    })?;
    Ok(Some((out, unmapped)))
}

/// Every (tag, content) of a tagged-field section that must span `data`.
fn tagged_fields(data: &[u8]) -> Result<Vec<(u32, &[u8])>, WireError> {
    let mut c = Cursor::new(data);
    let count = c.uvarint("fetch response tagged fields")?;
    let mut fields: Vec<(u32, &[u8])> = Vec::new();
    for _ in 0..count {
        let tag = c.uvarint("tag")?;
        // Only the first node_endpoints is rewritten: a second one would
        // reach the client with backend addresses.
        if tag == NODE_ENDPOINTS && fields.iter().any(|(t, _)| *t == NODE_ENDPOINTS) {
            return Err(WireError::Malformed(
                "fetch response carries node_endpoints twice".into(),
            ));
        }
        let size = c.uvarint("tagged field size")?;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        fields.push((tag, c.take(size, "tagged field")?));
    }
    if c.remaining() != 0 {
        return Err(WireError::Malformed(format!(
            "{} bytes after the fetch response's tagged fields",
            c.remaining()
        )));
    }
    Ok(fields)
}

fn decode_endpoints(content: &[u8], version: i16) -> Result<Vec<NodeEndpoint>, WireError> {
    // Walked first: the count then bounds what decoding allocates.
    let count = node_endpoints::walk(&mut Cursor::new(content))?;
    let mut c = Cursor::new(content);
    c.uvarint("node_endpoints")?;
    let mut elements = Bytes::copy_from_slice(c.take(c.remaining(), "node_endpoints")?);
    (0..count)
        .map(|_| {
            NodeEndpoint::decode(&mut elements, version).map_err(|e| WireError::Decode {
                api_key: crate::api_key::FETCH,
                version,
                reason: format!("{e:#}"),
            })
        })
        .collect()
}

fn encode_endpoints(endpoints: &[NodeEndpoint], version: i16) -> Result<Vec<u8>, WireError> {
    let mut out = BytesMut::new();
    put_uvarint(&mut out, endpoints.len() as u64 + 1);
    for endpoint in endpoints {
        endpoint
            .encode(&mut out, version)
            .map_err(|e| WireError::Encode {
                api_key: crate::api_key::FETCH,
                version,
                reason: format!("{e:#}"),
            })?;
    }
    Ok(out.to_vec())
}

/// `fields` plus one or two filler fields, encoded in exactly `len` bytes;
/// `None` when they do not fit.
fn fill_to(fields: &[(u32, &[u8])], len: usize) -> Option<Bytes> {
    for fillers in 0..=2usize {
        let count = fields.len() + fillers;
        let used = uvarint_len(count as u64)
            + fields
                .iter()
                .map(|(t, c)| field_len(*t, c.len()))
                .sum::<usize>();
        let Some(room) = len.checked_sub(used) else {
            continue;
        };
        let Some(sizes) = filler_sizes(room, fillers) else {
            continue;
        };
        let mut out = BytesMut::with_capacity(len);
        put_uvarint(&mut out, count as u64);
        for (tag, content) in fields {
            put_uvarint(&mut out, u64::from(*tag));
            put_uvarint(&mut out, content.len() as u64);
            out.put_slice(content);
        }
        for size in sizes {
            put_uvarint(&mut out, u64::from(FILLER));
            put_uvarint(&mut out, size as u64);
            out.put_bytes(0, size);
        }
        debug_assert_eq!(out.len(), len);
        return (out.len() == len).then(|| out.freeze());
    }
    None
}

/// Content sizes of `fillers` filler fields taking exactly `room` bytes.
fn filler_sizes(room: usize, fillers: usize) -> Option<Vec<usize>> {
    match fillers {
        0 => (room == 0).then(Vec::new),
        1 => filler_content(room).map(|n| vec![n]),
        // An empty filler (2 bytes) first moves `room` off a size the
        // varint length cannot hit (130, 16387, ...).
        2 => filler_content(room.checked_sub(2)?).map(|n| vec![0, n]),
        _ => None,
    }
}

/// The content size of one filler field that takes exactly `room` bytes.
fn filler_content(room: usize) -> Option<usize> {
    let tag = uvarint_len(u64::from(FILLER));
    (1..=5).find_map(|size_len| {
        let content = room.checked_sub(tag + size_len)?;
        (uvarint_len(content as u64) == size_len).then_some(content)
    })
}

fn field_len(tag: u32, content: usize) -> usize {
    uvarint_len(u64::from(tag)) + uvarint_len(content as u64) + content
}

fn uvarint_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn put_uvarint(out: &mut BytesMut, mut n: u64) {
    while n >= 0x80 {
        out.put_u8((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fillers_reach_every_length_from_three_bytes() {
        let field: (u32, &[u8]) = (4, b"kept");
        for len in 3..20_000 {
            let out = fill_to(&[], len).unwrap_or_else(|| panic!("no fill for {len}"));
            assert_eq!(out.len(), len);
            let fields = tagged_fields(&out).unwrap();
            assert!(fields
                .iter()
                .all(|(tag, content)| *tag == FILLER && content.iter().all(|&b| b == 0)));
            if len >= 10 {
                let out = fill_to(&[field], len).unwrap();
                assert_eq!(tagged_fields(&out).unwrap()[0], field);
            }
        }
        assert!(fill_to(&[field], 6).is_none());
    }
}
