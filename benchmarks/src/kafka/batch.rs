//! Record batches: building them for Produce, and walking the batch headers
//! of Fetch data to count records without decoding them.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

/// Byte offsets inside a v2 record batch header.
const BATCH_LENGTH_AT: usize = 8;
const MAGIC_AT: usize = 16;
const ATTRIBUTES_AT: usize = 21;
const LAST_OFFSET_DELTA_AT: usize = 23;
const RECORD_COUNT_AT: usize = 57;
/// Header bytes before the first record.
pub const BATCH_HEADER_LEN: usize = 61;
const CONTROL_BATCH: i16 = 1 << 5;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("record batch of magic {0} (only v2 batches are supported)")]
    Magic(i8),
    #[error("record batch length {0} is shorter than a batch header")]
    Length(i32),
    #[error("cannot decode record batch: {0}")]
    Decode(String),
}

/// What the complete batches at the front of some Fetch data hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchWalk {
    pub batches: u64,
    /// Data records; control records (transaction markers) are left out.
    pub records: u64,
    /// Bytes of the complete batches (a partial batch at the end, which a
    /// broker may send when a size limit cuts it, is not counted).
    pub bytes: u64,
    /// The offset after the last complete batch.
    pub next_offset: Option<i64>,
}

fn be_i64(data: &[u8], at: usize) -> i64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&data[at..at + 8]);
    i64::from_be_bytes(raw)
}

fn be_i32(data: &[u8], at: usize) -> i32 {
    let mut raw = [0u8; 4];
    raw.copy_from_slice(&data[at..at + 4]);
    i32::from_be_bytes(raw)
}

/// Walks batch headers only: record counts and offsets come from the
/// header, so compressed batches cost nothing to count.
pub fn walk(data: &[u8]) -> Result<BatchWalk, BatchError> {
    let mut walk = BatchWalk::default();
    let mut rest = data;
    while rest.len() >= BATCH_HEADER_LEN {
        let length = be_i32(rest, BATCH_LENGTH_AT);
        if length < (BATCH_HEADER_LEN - 12) as i32 {
            return Err(BatchError::Length(length));
        }
        let total = 12 + length as usize;
        if rest.len() < total {
            break;
        }
        let magic = rest[MAGIC_AT] as i8;
        if magic != 2 {
            return Err(BatchError::Magic(magic));
        }
        let base_offset = be_i64(rest, 0);
        let last_delta = be_i32(rest, LAST_OFFSET_DELTA_AT);
        let attributes = i16::from_be_bytes([rest[ATTRIBUTES_AT], rest[ATTRIBUTES_AT + 1]]);
        if attributes & CONTROL_BATCH == 0 {
            walk.records += be_i32(rest, RECORD_COUNT_AT).max(0) as u64;
        }
        walk.batches += 1;
        walk.bytes += total as u64;
        walk.next_offset = Some(base_offset.saturating_add(last_delta as i64 + 1));
        rest = &rest[total..];
    }
    Ok(walk)
}

/// The complete batches at the front of `data`, each as its own slice.
pub fn split_batches(data: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut at = 0;
    while data.len() - at >= BATCH_HEADER_LEN {
        let length = be_i32(&data[at..], BATCH_LENGTH_AT);
        if length < (BATCH_HEADER_LEN - 12) as i32 || data.len() - at < 12 + length as usize {
            break;
        }
        let end = at + 12 + length as usize;
        out.push(data.slice(at..end));
        at = end;
    }
    out
}

/// Encodes `values` as one v2 record batch. Sequence numbers count down
/// from -1 so the encoder keeps all records in one batch and the batch
/// carries "no sequence", as a non-idempotent producer sends.
pub fn encode_batch(values: &[Bytes], compression: Compression) -> anyhow::Result<Bytes> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, value)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: i as i32 - 1,
            timestamp: now_ms,
            key: None,
            value: Some(value.clone()),
            headers: IndexMap::new(),
        })
        .collect();
    let mut out = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut out, &records, &options)?;
    Ok(out.freeze())
}

/// A record value of `size` bytes of lowercase text: compressible about as
/// much as typical JSON or log payloads, unlike zeros (which compress to
/// nothing) or random bytes (which do not compress at all).
pub fn text_value(size: usize, seed: u64) -> Bytes {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut value = BytesMut::with_capacity(size);
    for i in 0..size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let byte = if i % 8 == 7 {
            b' '
        } else {
            b'a' + (state % 16) as u8
        };
        value.put_u8(byte);
    }
    value.freeze()
}

/// Marks a value as carrying a produce time (end-to-end latency).
const STAMP_MAGIC: &[u8; 4] = b"SLB1";
pub const STAMP_LEN: usize = 12;

/// The process-wide time origin of stamps: every thread of the tool reads
/// the same monotonic clock, so produce and consume sides agree.
pub fn anchor() -> Instant {
    static ANCHOR: OnceLock<Instant> = OnceLock::new();
    *ANCHOR.get_or_init(Instant::now)
}

/// A value of `size` bytes (at least [`STAMP_LEN`]) that starts with the
/// time it was made.
pub fn stamped_value(size: usize, filler: &Bytes) -> Bytes {
    let nanos = anchor().elapsed().as_nanos() as u64;
    let mut value = BytesMut::with_capacity(size.max(STAMP_LEN));
    value.put_slice(STAMP_MAGIC);
    value.put_u64(nanos);
    let rest = size.saturating_sub(STAMP_LEN).min(filler.len());
    value.put_slice(&filler[..rest]);
    value.freeze()
}

/// How long ago a stamped value was made; `None` for values from elsewhere.
pub fn stamp_age(value: &[u8], now: Instant) -> Option<Duration> {
    if value.len() < STAMP_LEN || &value[..4] != STAMP_MAGIC {
        return None;
    }
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&value[4..12]);
    let made = anchor() + Duration::from_nanos(u64::from_be_bytes(raw));
    Some(now.saturating_duration_since(made))
}

/// Ages of every stamped record in one complete batch (decompressing it).
pub fn stamp_ages(batch: Bytes, now: Instant) -> Result<Vec<Duration>, BatchError> {
    let mut buf = batch;
    let set =
        RecordBatchDecoder::decode(&mut buf).map_err(|e| BatchError::Decode(e.to_string()))?;
    Ok(set
        .records
        .iter()
        .filter(|r| !r.control)
        .filter_map(|r| r.value.as_deref().and_then(|v| stamp_age(v, now)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, size: usize) -> Vec<Bytes> {
        (0..n).map(|i| text_value(size, i as u64)).collect()
    }

    #[test]
    fn walk_counts_records_of_plain_and_compressed_batches() {
        for compression in [Compression::None, Compression::Lz4, Compression::Zstd] {
            let batch = encode_batch(&values(10, 100), compression).unwrap();
            let mut data = batch.to_vec();
            data.extend_from_slice(&batch);
            let walk = walk(&data).unwrap();
            assert_eq!(walk.batches, 2, "{compression:?}");
            assert_eq!(walk.records, 20);
            assert_eq!(walk.bytes as usize, data.len());
            assert_eq!(walk.next_offset, Some(10));
        }
    }

    #[test]
    fn a_partial_trailing_batch_is_left_for_the_next_fetch() {
        let batch = encode_batch(&values(3, 50), Compression::None).unwrap();
        let mut data = batch.to_vec();
        data.extend_from_slice(&batch[..batch.len() / 2]);
        let walk = walk(&data).unwrap();
        assert_eq!((walk.batches, walk.records), (1, 3));
        assert_eq!(split_batches(&Bytes::from(data)).len(), 1);
    }

    #[test]
    fn walk_rejects_legacy_and_nonsense_headers() {
        let batch = encode_batch(&values(1, 10), Compression::None).unwrap();
        let mut legacy = batch.to_vec();
        legacy[MAGIC_AT] = 1;
        assert_eq!(walk(&legacy), Err(BatchError::Magic(1)));
        let mut short = batch.to_vec();
        short[BATCH_LENGTH_AT..BATCH_LENGTH_AT + 4].copy_from_slice(&3i32.to_be_bytes());
        assert_eq!(walk(&short), Err(BatchError::Length(3)));
    }

    #[test]
    fn stamps_survive_a_compressed_batch() {
        let filler = text_value(100, 1);
        let stamped: Vec<Bytes> = (0..4).map(|_| stamped_value(64, &filler)).collect();
        assert!(stamped.iter().all(|v| v.len() == 64));
        let batch = encode_batch(&stamped, Compression::Zstd).unwrap();
        let ages = stamp_ages(batch, Instant::now() + Duration::from_secs(1)).unwrap();
        assert_eq!(ages.len(), 4);
        assert!(ages.iter().all(|a| *a >= Duration::from_secs(1)));
        assert_eq!(stamp_age(b"not stamped at all", Instant::now()), None);
    }
}
