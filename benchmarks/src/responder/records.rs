//! The record batches the responder answers Fetch with, built once at
//! start. Only base offsets change per answer; they sit outside the
//! batch's CRC, so no checksum is recomputed.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::Compression;

use crate::kafka::batch::{encode_batch, text_value};

pub struct FetchTemplate {
    data: Bytes,
    batch_len: usize,
    batches: usize,
    records_per_batch: i64,
}

impl FetchTemplate {
    /// As many equal batches as fit in `bytes` (at least one).
    pub fn build(
        bytes: usize,
        record_size: usize,
        records_per_batch: usize,
    ) -> anyhow::Result<FetchTemplate> {
        let values: Vec<Bytes> = (0..records_per_batch)
            .map(|i| text_value(record_size, i as u64))
            .collect();
        let batch = encode_batch(&values, Compression::None)?;
        let batches = (bytes / batch.len()).max(1);
        let mut data = BytesMut::with_capacity(batch.len() * batches);
        for _ in 0..batches {
            data.extend_from_slice(&batch);
        }
        Ok(FetchTemplate {
            data: data.freeze(),
            batch_len: batch.len(),
            batches,
            records_per_batch: records_per_batch as i64,
        })
    }

    pub fn full_len(&self) -> usize {
        self.data.len()
    }

    /// How many bytes an answer within `max_bytes` carries: whole batches,
    /// but always one, as Kafka does so a large batch never blocks a
    /// consumer.
    pub fn answer_len(&self, max_bytes: usize) -> usize {
        (max_bytes / self.batch_len).clamp(1, self.batches) * self.batch_len
    }

    /// Records in `len` bytes of batches.
    pub fn records_in(&self, len: usize) -> i64 {
        (len / self.batch_len) as i64 * self.records_per_batch
    }

    /// Appends `len` bytes of batches (see [`Self::answer_len`]) to `out`,
    /// numbered from `offset`; returns the offset after them.
    pub fn append(&self, out: &mut BytesMut, offset: i64, len: usize) -> i64 {
        let start = out.len();
        out.extend_from_slice(&self.data[..len]);
        let count = len / self.batch_len;
        for i in 0..count {
            let base = offset + i as i64 * self.records_per_batch;
            let at = start + i * self.batch_len;
            out[at..at + 8].copy_from_slice(&base.to_be_bytes());
        }
        offset + count as i64 * self.records_per_batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::batch::walk;

    #[test]
    fn answers_carry_consecutive_offsets_from_the_one_asked() {
        let template = FetchTemplate::build(10_000, 100, 10).unwrap();
        let mut out = BytesMut::from(&b"head"[..]);
        let next = template.append(&mut out, 500, template.answer_len(usize::MAX));
        let walked = walk(&out[4..]).unwrap();
        assert_eq!(walked.bytes as usize, template.full_len());
        assert_eq!(walked.next_offset, Some(next));
        assert_eq!(next, 500 + walked.records as i64);
        let mut one = BytesMut::new();
        template.append(&mut one, 0, template.answer_len(1));
        assert_eq!(walk(&one).unwrap().batches, 1);
    }
}
