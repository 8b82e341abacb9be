//! Reads whole Kafka frames off a socket into one growing buffer and hands
//! them out as `Bytes` views of that buffer: the frame that is forwarded is
//! the memory it was read into.
//!
//! Cancel safety: `next_frame` keeps everything it has read in `self.buf`,
//! and a read only counts once it completed, so dropping the future between
//! polls loses no bytes.

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncReadExt};
use sluice_wire::frame::frame_len;
use sluice_wire::WireError;

use super::read_buffer::ReadBuffer;

/// What a read ended with, when it did not yield a frame.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Wire(#[from] WireError),
    #[error("connection closed mid-frame ({buffered} of {expected} bytes received)")]
    Truncated { buffered: usize, expected: usize },
    #[error("{0}")]
    Io(#[from] std::io::Error),
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

pub struct FrameReader<R> {
    src: R,
    buf: ReadBuffer,
    limits: FrameLimits,
    /// Only the first bytes of a client connection can be a TLS ClientHello
    /// or an HTTP request line worth naming in the log.
    first: bool,
    detect_foreign: bool,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(src: R, limits: FrameLimits, detect_foreign: bool) -> Self {
        FrameReader {
            src,
            buf: ReadBuffer::default(),
            limits,
            first: true,
            detect_foreign,
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
            let detect = self.first && self.detect_foreign;
            let lim = self.limits;
            let wanted = frame_len(self.buf.data(), lim.max_frame, lim.min_body, detect)?;
            if let Some(len) = wanted {
                if self.buf.len() >= len {
                    self.first = false;
                    return Ok(Some(self.buf.split_frame(len)));
                }
            }
            if self.fill(wanted).await? == 0 {
                return match (self.buf.len(), wanted) {
                    (0, _) => Ok(None),
                    (buffered, expected) => Err(ReadError::Truncated {
                        buffered,
                        expected: expected.unwrap_or(4),
                    }),
                };
            }
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
        let start = self.buf.len();
        // Read a large frame in as few syscalls as it takes, small ones in chunks.
        let want = match frame_len {
            Some(len) if len > start => (len - start).max(self.limits.read_chunk),
            _ => self.limits.read_chunk,
        };
        let spare = self.buf.spare(want);
        let n = self.src.read(spare).await?;
        self.buf.commit(n);
        Ok(n)
    }
}
