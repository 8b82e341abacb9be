//! Rewritten ApiVersions responses, remembered per shard. A broker answers
//! every ApiVersions request of one version with the same bytes (only the
//! correlation id differs), and the clamped answer depends on nothing else,
//! so a repeat costs a byte comparison instead of a decode and re-encode.

use bytes::{BufMut, Bytes, BytesMut};

/// Distinct (version, broker answer) pairs kept; a shard talks to few
/// broker versions, so a handful is plenty.
const ENTRIES: usize = 8;

struct Entry {
    version: i16,
    /// The broker's response after the correlation id.
    input: Bytes,
    /// The gateway's answer after the correlation id.
    output: Bytes,
}

#[derive(Default)]
pub struct ResponseMemo {
    entries: Vec<Entry>,
}

impl ResponseMemo {
    /// The remembered answer to `body` (response without the length prefix),
    /// as a complete frame for `correlation_id`.
    pub fn lookup(&self, version: i16, body: &[u8], correlation_id: i32) -> Option<Bytes> {
        let rest = body.get(4..)?;
        let entry = (self.entries.iter()).find(|e| e.version == version && e.input[..] == *rest)?;
        Some(frame(correlation_id, &entry.output))
    }

    /// Remembers `answer` (a complete frame) as the answer to `body`.
    pub fn store(&mut self, version: i16, body: &Bytes, answer: &Bytes) {
        let (Some(input), Some(output)) = (body.get(4..), answer.get(8..)) else {
            return;
        };
        if self.entries.len() >= ENTRIES {
            self.entries.remove(0);
        }
        self.entries.push(Entry {
            version,
            input: Bytes::copy_from_slice(input),
            output: Bytes::copy_from_slice(output),
        });
    }
}

fn frame(correlation_id: i32, rest: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(8 + rest.len());
    out.put_i32((4 + rest.len()) as i32);
    out.put_i32(correlation_id);
    out.put_slice(rest);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_gets_the_stored_answer_with_its_own_correlation_id() {
        let mut memo = ResponseMemo::default();
        let body = Bytes::from_static(&[0, 0, 0, 7, 1, 2, 3]);
        let answer = Bytes::from_static(&[0, 0, 0, 6, 0, 0, 0, 7, 9, 9]);
        assert!(memo.lookup(3, &body, 7).is_none());
        memo.store(3, &body, &answer);
        let repeat = [0, 0, 0, 42, 1, 2, 3];
        let got = memo.lookup(3, &repeat, 42).unwrap();
        assert_eq!(&got[..], &[0, 0, 0, 6, 0, 0, 0, 42, 9, 9]);
        assert!(memo.lookup(2, &repeat, 42).is_none(), "another version");
        assert!(
            memo.lookup(3, &[0, 0, 0, 42, 1, 2, 4], 42).is_none(),
            "another answer"
        );
    }

    #[test]
    fn keeps_a_bounded_number_of_entries() {
        let mut memo = ResponseMemo::default();
        for i in 0..20u8 {
            let body = Bytes::from(vec![0, 0, 0, 1, i]);
            memo.store(3, &body, &Bytes::from(vec![0, 0, 0, 5, 0, 0, 0, 1, i]));
        }
        assert_eq!(memo.entries.len(), ENTRIES);
        assert!(memo.lookup(3, &[0, 0, 0, 1, 19], 1).is_some());
        assert!(memo.lookup(3, &[0, 0, 0, 1, 0], 1).is_none());
    }
}
