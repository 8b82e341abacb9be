//! The buffer frames are read into. Socket reads need initialised memory to
//! write into; zeroing a whole read chunk before every read would cost a
//! memset per syscall, most of it for bytes the read never fills. This
//! buffer remembers how far its allocation has been initialised and zeroes
//! each byte at most once per allocation, also when `BytesMut::reserve`
//! reclaims the same allocation (moving the data back to its start) once
//! the frames handed out from it are gone.

use bytes::{Bytes, BytesMut};

#[derive(Default)]
pub struct ReadBuffer {
    buf: BytesMut,
    /// Bytes from the start of `buf` known to be initialised; always >= len.
    initialized: usize,
    /// The allocation `buf` lives in, as far as it is known to be
    /// initialised: addresses `start..end` (empty before the first one).
    zeroed: std::ops::Range<usize>,
}

impl ReadBuffer {
    pub fn data(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Hands out the first `n` bytes (the caller checked `n <= len`) as a
    /// view of the memory they were read into.
    pub fn split_frame(&mut self, n: usize) -> Bytes {
        let n = n.min(self.buf.len());
        self.initialized -= n;
        self.buf.split_to(n).freeze()
    }

    /// `want` writable bytes right after the data, to read into; `commit`
    /// then says how many the read filled.
    pub fn spare(&mut self, want: usize) -> &mut [u8] {
        self.reserve(want);
        let len = self.buf.len();
        let end = len + want;
        if self.initialized < end {
            let from = self.initialized - len;
            for byte in &mut self.buf.spare_capacity_mut()[from..want] {
                byte.write(0);
            }
            self.initialized = end;
            let start = self.buf.as_ptr() as usize;
            self.zeroed.end = self.zeroed.end.max(start + end);
        }
        // SAFETY: `len..end` lies within the capacity (reserved above) and
        // was initialised, now or by an earlier call on this same
        // allocation, and no handed-out `Bytes` covers it.
        unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().add(len), want) }
    }

    /// Capacity for `additional` more bytes after the data.
    fn reserve(&mut self, additional: usize) {
        if self.buf.capacity() - self.buf.len() < additional {
            // The pointer alone is not enough: a new allocation may start
            // right where an exhausted one ended.
            let before = (self.buf.as_ptr(), self.buf.capacity());
            self.buf.reserve(additional);
            if (self.buf.as_ptr(), self.buf.capacity()) != before {
                self.initialized = self.initialized_after_move();
            }
        }
    }

    /// How much of `buf` is initialised after `reserve` moved it. Within
    /// the known allocation (reclaimed in place, or grown in place) that
    /// is what was initialised there already: memory stays initialised for
    /// as long as its allocation lives, and a new allocation can't start
    /// inside a live one. Anywhere else it is new memory holding only the
    /// copied data. This relies on how `BytesMut::reserve` reclaims (it
    /// moves the data to the start of the same allocation and leaves the
    /// rest as it was), as bytes 1.x does.
    fn initialized_after_move(&mut self) -> usize {
        let start = self.buf.as_ptr() as usize;
        let len = self.buf.len();
        if self.zeroed.contains(&start) && start + len <= self.zeroed.end {
            // Never more than the capacity, whatever the allocator did.
            return (self.zeroed.end - start).min(self.buf.capacity());
        }
        self.zeroed = start..start + len;
        len
    }

    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Gives the memory back when the buffer is empty and holds more than
    /// `limit` bytes, so an idle connection does not keep a large buffer.
    pub fn release_above(&mut self, limit: usize) {
        if self.buf.is_empty() && self.buf.capacity() > limit {
            self.buf = BytesMut::new();
            self.initialized = 0;
            self.zeroed = 0..0;
        }
    }

    /// Marks `n` bytes of the last `spare` region as data.
    pub fn commit(&mut self, n: usize) {
        let n = n.min(self.initialized - self.buf.len());
        // SAFETY: those bytes are initialised (see `spare`) and within capacity.
        unsafe { self.buf.set_len(self.buf.len() + n) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator, so the test needs no crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, bound: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % bound.max(1)
        }
    }

    #[test]
    fn behaves_like_a_plain_byte_queue() {
        let mut rng = Lcg(7);
        let mut buffer = ReadBuffer::default();
        let mut model: Vec<u8> = Vec::new();
        let mut next_byte = 0u8;
        let mut kept: Vec<(Bytes, Vec<u8>)> = Vec::new();
        for _ in 0..5000 {
            if rng.next(3) == 0 && !model.is_empty() {
                let n = rng.next(model.len()) + 1;
                let frame = buffer.split_frame(n);
                let expected: Vec<u8> = model.drain(..n).collect();
                assert_eq!(&frame[..], &expected[..]);
                kept.push((frame, expected));
            } else {
                let want = rng.next(70_000) + 1;
                let spare = buffer.spare(want);
                assert_eq!(spare.len(), want);
                let n = rng.next(want + 1);
                for byte in &mut spare[..n] {
                    *byte = next_byte;
                    model.push(next_byte);
                    next_byte = next_byte.wrapping_add(1);
                }
                buffer.commit(n);
            }
            assert_eq!(buffer.data(), &model[..]);
        }
        // Frames handed out earlier are never overwritten by later reads.
        for (frame, expected) in kept {
            assert_eq!(&frame[..], &expected[..]);
        }
    }

    #[test]
    fn a_reclaimed_allocation_is_not_zeroed_again() {
        let mut buffer = ReadBuffer::default();
        buffer.spare(65_536);
        buffer.commit(16_384);
        drop(buffer.split_frame(16_384));
        let before = buffer.data().as_ptr();
        // 48 KiB of capacity are left after the frame: reserving 64 KiB
        // moves the (empty) data back to the start of the same allocation.
        buffer.spare(65_536);
        assert_ne!(
            buffer.data().as_ptr(),
            before,
            "the allocation was reclaimed"
        );
        assert_eq!(buffer.initialized, 65_536 + 16_384 - 16_384);
        // A frame still held keeps its memory: the next reserve gets a new
        // allocation, of which only the copied data counts as initialised.
        buffer.commit(100);
        let held = buffer.split_frame(50);
        buffer.spare(200_000);
        assert_eq!(buffer.initialized, 50 + 200_000);
        assert_eq!(&held[..], &[0u8; 50][..]);
    }

    /// What `initialized_after_move` relies on: with no other handle on
    /// the allocation, `reserve` moves the data back to its start and leaves
    /// the bytes after it as they were. If a new `bytes` release changes
    /// this, this test fails and the read buffer must zero again.
    #[test]
    fn bytes_reclaims_in_place() {
        let mut buf = BytesMut::with_capacity(65_536);
        buf.resize(65_536, 0xab);
        let base = buf.as_ptr();
        let capacity = buf.capacity();
        drop(buf.split_to(16_384));
        buf.truncate(100);
        buf.reserve(capacity - 1_000);
        assert_eq!(buf.as_ptr(), base, "reserve reclaimed the allocation");
        assert!(buf.capacity() >= capacity - 1_000);
        let spare = buf.spare_capacity_mut();
        let kept = spare.len().min(capacity - 16_384 - 100);
        // SAFETY: the whole allocation was initialised by `resize` above and
        // is still owned by `buf`; this reads it back as plain bytes.
        let tail = unsafe { std::slice::from_raw_parts(spare.as_ptr().cast::<u8>(), kept) };
        assert!(tail.iter().all(|&b| b == 0xab), "bytes after the data kept");
    }

    #[test]
    fn commit_never_exceeds_the_spare_region() {
        let mut buffer = ReadBuffer::default();
        buffer.spare(8).copy_from_slice(b"abcdefgh");
        buffer.commit(100);
        assert_eq!(buffer.data(), b"abcdefgh");
    }
}
