//! Reads whole Kafka frames off a socket into one growing buffer and hands
//! them out as `Bytes` views of that buffer: the frame that is forwarded is
//! the memory it was read into.
//!
//! Cancel safety: `next_frame` keeps everything it has read in `self.buf`,
//! and a read only counts once it completed, so dropping the future between
//! polls loses no bytes.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncReadExt};
use sluice_wire::frame::frame_len;
use sluice_wire::WireError;

use crate::budget::{ByteBudget, CoarseClock, OverBudget};
use crate::read_buffer::ReadBuffer;

/// What a read ended with, when it did not yield a frame.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("connection closed mid-frame ({buffered} of {expected} bytes received)")]
    Truncated { buffered: usize, expected: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
}

/// How the next frame starts.
pub enum FrameStart {
    /// All of it is buffered.
    Whole(Bytes),
    /// A frame of this many bytes (length prefix included) that is not all
    /// here yet; at least its prefix and the 4 bytes after it are buffered.
    Large(usize),
    /// Clean end of stream at a frame boundary.
    Closed,
}

/// The limits one side of a connection is read with.
#[derive(Debug, Clone, Copy)]
pub struct FrameLimits {
    pub max_frame: usize,
    /// Shortest valid body: 8 for requests (api key, version, correlation
    /// id), 4 for responses (correlation id).
    pub min_body: usize,
    pub read_chunk: usize,
}

/// What a reader of client frames tells its shard: the budget its frames
/// are reserved from, and since when it has been waiting for the rest of a
/// started frame (which the shard's sweep times out).
pub struct ReadHooks {
    pub budget: Rc<ByteBudget>,
    pub clock: Rc<CoarseClock>,
    /// Set while the reader waits for the rest of a frame it has the
    /// start of; `None` while it waits for nothing or for the budget.
    pub started: Rc<Cell<Option<Instant>>>,
}

pub struct FrameReader<R> {
    src: R,
    buf: ReadBuffer,
    limits: FrameLimits,
    /// Only the first bytes of a client connection can be a TLS ClientHello
    /// or an HTTP request line worth naming in the log.
    first: bool,
    detect_foreign: bool,
    /// Size of the next read: starts small and doubles while reads fill it,
    /// up to `read_chunk`, so idle and light connections keep small buffers.
    next_read: usize,
    hooks: Option<ReadHooks>,
    /// Budget bytes held for the frame being received, or for the last
    /// frame handed out until the caller asks for more (by then it has
    /// been forwarded).
    held: usize,
    held_done: bool,
}

/// The smallest read, and what an idle connection's buffer shrinks back to.
const MIN_READ: usize = 4096;

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(src: R, limits: FrameLimits, detect_foreign: bool) -> Self {
        FrameReader {
            src,
            buf: ReadBuffer::default(),
            limits,
            first: true,
            detect_foreign,
            next_read: MIN_READ.min(limits.read_chunk),
            hooks: None,
            held: 0,
            held_done: false,
        }
    }

    /// The largest frame taken, length prefix included.
    pub fn max_frame(&self) -> usize {
        self.limits.max_frame
    }

    /// Changes the largest frame taken from the next frame on: a client
    /// that has not logged in may send less than one that has.
    pub fn set_max_frame(&mut self, max_frame: usize) {
        self.limits.max_frame = max_frame;
    }

    /// Reserves frames from a budget and reports started frames.
    pub fn with_hooks(mut self, hooks: ReadHooks) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// Waits until a whole frame is buffered, without taking it; true if
    /// the peer closed first with nothing buffered.
    pub async fn wait_for_frame(&mut self) -> Result<bool, ReadError> {
        loop {
            let lim = self.limits;
            let detect = self.first && self.detect_foreign;
            let wanted = frame_len(self.buf.data(), lim.max_frame, lim.min_body, detect)?;
            if wanted.is_some_and(|len| self.buf.len() >= len) {
                return Ok(false);
            }
            if self.fill(wanted).await? == 0 {
                return self.clean_end(wanted).map(|()| true);
            }
        }
    }

    /// Bytes received but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame including its 4-byte length prefix, or `None`
    /// on a clean end of stream at a frame boundary.
    pub async fn next_frame(&mut self) -> Result<Option<Bytes>, ReadError> {
        loop {
            let lim = self.limits;
            let detect = self.first && self.detect_foreign;
            let wanted = frame_len(self.buf.data(), lim.max_frame, lim.min_body, detect)?;
            if let Some(frame) = self.buffered_frame()? {
                return Ok(Some(frame));
            }
            if self.fill(wanted).await? == 0 {
                return self.clean_end(wanted).map(|()| None);
            }
        }
    }

    /// Like [`FrameReader::next_frame`], but a frame of at least `large`
    /// bytes is announced as soon as its start is here, so that it can be
    /// forwarded while the rest arrives (with [`FrameReader::data`],
    /// [`FrameReader::take`] and [`FrameReader::read_more`]).
    pub async fn next_frame_or_large(&mut self, large: usize) -> Result<FrameStart, ReadError> {
        loop {
            let lim = self.limits;
            let detect = self.first && self.detect_foreign;
            let wanted = frame_len(self.buf.data(), lim.max_frame, lim.min_body, detect)?;
            if let Some(frame) = self.buffered_frame()? {
                return Ok(FrameStart::Whole(frame));
            }
            let read = match wanted {
                Some(len) if len >= large && self.buf.len() >= 8 => {
                    self.first = false;
                    return Ok(FrameStart::Large(len));
                }
                // A large frame is read a chunk at a time from here on.
                Some(len) if len >= large => self.fill(None).await?,
                _ => self.fill(wanted).await?,
            };
            if read == 0 {
                return self.clean_end(wanted).map(|()| FrameStart::Closed);
            }
        }
    }

    /// The peer closed: cleanly at a frame boundary, or mid-frame (of
    /// `wanted` bytes, if its length was read).
    fn clean_end(&self, wanted: Option<usize>) -> Result<(), ReadError> {
        match self.buf.len() {
            0 => Ok(()),
            buffered => Err(ReadError::Truncated {
                buffered,
                expected: wanted.unwrap_or(4),
            }),
        }
    }

    /// The bytes received and not yet taken.
    pub fn data(&self) -> &[u8] {
        self.buf.data()
    }

    /// The first `n` buffered bytes (at most what is buffered), as a view
    /// of the memory they were read into.
    pub fn take(&mut self, n: usize) -> Bytes {
        self.buf.split_frame(n)
    }

    /// Checks what is buffered as the start of a frame (length, and on a
    /// connection's first bytes, another protocol), without taking it.
    pub fn check_start(&self) -> Result<(), ReadError> {
        let lim = self.limits;
        let detect = self.first && self.detect_foreign;
        frame_len(self.buf.data(), lim.max_frame, lim.min_body, detect)?;
        Ok(())
    }

    /// One more read, a chunk long; 0 at end of stream.
    pub async fn read_more(&mut self) -> Result<usize, ReadError> {
        self.fill(None).await
    }

    /// A complete frame if one is already buffered; never reads.
    pub fn buffered_frame(&mut self) -> Result<Option<Bytes>, ReadError> {
        let lim = self.limits;
        let detect = self.first && self.detect_foreign;
        match frame_len(self.buf.data(), lim.max_frame, lim.min_body, detect)? {
            Some(len) if self.buf.len() >= len => {
                self.first = false;
                if let Some(hooks) = &self.hooks {
                    hooks.started.set(None);
                    self.held_done = true;
                }
                Ok(Some(self.buf.split_frame(len)))
            }
            _ => Ok(None),
        }
    }

    /// Waits until the peer sends something or closes; true if it closed.
    /// Used while no response is expected, to notice a peer that went away.
    pub async fn closed_or_readable(&mut self) -> Result<bool, ReadError> {
        if !self.buf.is_empty() {
            return Ok(false);
        }
        Ok(self.fill(None).await? == 0)
    }

    async fn fill(&mut self, frame_len: Option<usize>) -> Result<usize, ReadError> {
        if self.hooks.is_some() {
            self.account(frame_len).await?;
        }
        let start = self.buf.len();
        if start == 0 && self.next_read <= MIN_READ {
            self.buf.release_above(4 * MIN_READ);
        }
        let want = match frame_len {
            // A large frame is read in reads that double with what has
            // arrived, not all at once: the memory a peer makes the gateway
            // hold stays within about twice what it really sent, whatever
            // length its prefix claims.
            Some(len) if len > start => (len - start).min(self.next_read.max(start)),
            _ => self.next_read,
        };
        let spare = self.buf.spare(want);
        let n = self.src.read(spare).await?;
        self.buf.commit(n);
        self.adapt_read_size(n, want);
        Ok(n)
    }

    /// Before a read: gives back what the last frame held, reserves the
    /// frame being received (waiting while it does not fit), and marks
    /// when a frame started.
    async fn account(&mut self, frame_len: Option<usize>) -> Result<(), ReadError> {
        let Some(hooks) = &self.hooks else {
            return Ok(());
        };
        let (budget, started) = (hooks.budget.clone(), hooks.started.clone());
        if self.held_done {
            budget.release(std::mem::take(&mut self.held));
            self.held_done = false;
        }
        if let Some(len) = frame_len.filter(|len| *len > MIN_READ && self.held < *len) {
            started.set(None);
            budget.release(std::mem::take(&mut self.held));
            budget.reserve(len).await?;
            self.held = len;
        }
        if self.buf.is_empty() {
            started.set(None);
        } else if started.get().is_none() {
            started.set(self.hooks.as_ref().map(|h| h.clock.now()));
        }
        Ok(())
    }

    fn adapt_read_size(&mut self, read: usize, asked: usize) {
        // A read cut short at a frame's end says nothing about how busy
        // the peer is.
        if asked < self.next_read {
            return;
        }
        if read == asked {
            self.next_read = (self.next_read * 2).min(self.limits.read_chunk.max(MIN_READ));
        } else if read < asked / 4 {
            self.next_read = (self.next_read / 2).max(MIN_READ);
        }
    }
}

impl<R> Drop for FrameReader<R> {
    fn drop(&mut self) {
        if let Some(hooks) = &self.hooks {
            hooks.budget.release(self.held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::block_on;
    use futures_lite::io::Cursor;

    const MAX_FRAME: usize = 100 << 20;

    fn reader(bytes: Vec<u8>) -> FrameReader<Cursor<Vec<u8>>> {
        let limits = FrameLimits {
            max_frame: MAX_FRAME,
            min_body: 8,
            read_chunk: 64 * 1024,
        };
        FrameReader::new(Cursor::new(bytes), limits, false)
    }

    fn frame(body_len: usize) -> Vec<u8> {
        let mut bytes = u32::try_from(body_len).unwrap().to_be_bytes().to_vec();
        bytes.extend((0..body_len).map(|i| i as u8));
        bytes
    }

    #[test]
    fn a_claimed_length_alone_does_not_size_the_buffer() {
        let mut bytes = frame(1024);
        bytes[..4].copy_from_slice(&u32::try_from(MAX_FRAME - 4).unwrap().to_be_bytes());
        let mut reader = reader(bytes);
        let err = block_on(reader.next_frame()).unwrap_err();
        assert!(
            matches!(err, ReadError::Truncated { buffered: 1028, .. }),
            "{err:?}"
        );
        assert!(
            reader.buf.capacity() <= 256 * 1024,
            "{}",
            reader.buf.capacity()
        );
    }

    #[test]
    fn the_tail_of_a_frame_does_not_grow_later_reads() {
        // 4,100 bytes: a full first read of 4,096, then a read of the last 4.
        let mut bytes = frame(4_096);
        bytes.extend(frame(8));
        let mut reader = reader(bytes);
        block_on(reader.next_frame()).unwrap().unwrap();
        assert_eq!(reader.next_read, 2 * MIN_READ, "only the full read counts");
    }

    #[test]
    fn a_large_frame_arrives_whole_through_growing_reads() {
        let bytes = frame(3 << 20);
        let mut reader = reader(bytes.clone());
        let got = block_on(reader.next_frame()).unwrap().unwrap();
        assert_eq!(&got[..], &bytes[..]);
        assert!(block_on(reader.next_frame()).unwrap().is_none());
    }

    fn hooked(bytes: Vec<u8>, budget: usize) -> (FrameReader<Cursor<Vec<u8>>>, Rc<ByteBudget>) {
        let budget = Rc::new(ByteBudget::new(budget));
        let hooks = ReadHooks {
            budget: budget.clone(),
            clock: Rc::default(),
            started: Rc::default(),
        };
        (reader(bytes).with_hooks(hooks), budget)
    }

    #[test]
    fn a_frame_holds_its_budget_until_the_next_one_is_asked_for() {
        let mut bytes = frame(10_000);
        bytes.extend(frame(8));
        let (mut reader, budget) = hooked(bytes, 20_000);
        block_on(reader.next_frame()).unwrap().unwrap();
        assert_eq!(budget.used(), 10_004);
        block_on(reader.next_frame()).unwrap().unwrap();
        assert!(block_on(reader.next_frame()).unwrap().is_none());
        assert_eq!(budget.used(), 0);
        drop(reader);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_frame_larger_than_the_budget_ends_the_read() {
        let (mut reader, budget) = hooked(frame(10_000), 5_000);
        let err = block_on(reader.next_frame()).unwrap_err();
        assert!(matches!(err, ReadError::OverBudget(_)), "{err:?}");
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn dropping_a_reader_gives_its_budget_back() {
        let mut bytes = frame(10_000);
        bytes.truncate(6_000);
        let (mut reader, budget) = hooked(bytes, 20_000);
        assert!(block_on(reader.next_frame()).is_err());
        assert_eq!(budget.used(), 10_004);
        drop(reader);
        assert_eq!(budget.used(), 0);
    }
}
