//! Length-prefixed Kafka frames read from a byte stream.
//!
//! Frames are split out of one growing read buffer without copying, and
//! every byte of that buffer is zeroed at most once: a large Fetch response
//! read in many small socket reads must not pay for clearing its tail again
//! on every read.

use bytes::{Buf, Bytes, BytesMut};
use futures_lite::{AsyncRead, AsyncReadExt};

use super::ProtocolError;

/// Kafka's own default for `socket.request.max.bytes` is 100 MiB; a larger
/// length prefix is a broken peer, not a big message.
pub const MAX_FRAME: usize = 100 * 1024 * 1024;
/// Room asked of each socket read when no frame size is known yet.
const READ_CHUNK: usize = 64 * 1024;

/// Checks a length prefix. A prefix that is really the start of another
/// protocol's text gets named, because "frame of 1213486160 bytes" does
/// not tell a user they pointed the tool at an HTTP port.
pub fn check_length(prefix: [u8; 4], max: usize) -> Result<usize, ProtocolError> {
    let len = i32::from_be_bytes(prefix);
    if &prefix == b"HTTP" {
        return Err(ProtocolError::Unsupported(
            "the peer answered in HTTP, not the Kafka protocol".to_string(),
        ));
    }
    if prefix[0] == 0x15 || prefix[0] == 0x16 {
        return Err(ProtocolError::Unsupported(
            "the peer answered with TLS: pass --tls-ca (and --server-name if needed)".to_string(),
        ));
    }
    if len < 0 {
        return Err(ProtocolError::NegativeLength(len));
    }
    if len as usize > max {
        return Err(ProtocolError::FrameTooLarge {
            size: len as usize,
            max,
        });
    }
    Ok(len as usize)
}

pub struct FrameReader<R> {
    inner: R,
    /// `buf[..filled]` holds received bytes; the rest is zeroed spare room.
    buf: BytesMut,
    filled: usize,
    max_frame: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: BytesMut::new(),
            filled: 0,
            max_frame: MAX_FRAME,
        }
    }

    /// The size of the frame at the front of the buffer, once its length
    /// prefix has arrived.
    fn front_frame_len(&self) -> Result<Option<usize>, ProtocolError> {
        if self.filled < 4 {
            return Ok(None);
        }
        let prefix = [self.buf[0], self.buf[1], self.buf[2], self.buf[3]];
        check_length(prefix, self.max_frame).map(Some)
    }

    /// A complete frame (without its length prefix) that is already
    /// buffered, without doing any I/O.
    pub fn buffered_frame(&mut self) -> Result<Option<Bytes>, ProtocolError> {
        let Some(len) = self.front_frame_len()? else {
            return Ok(None);
        };
        if self.filled < 4 + len {
            return Ok(None);
        }
        let mut frame = self.buf.split_to(4 + len);
        self.filled -= 4 + len;
        frame.advance(4);
        Ok(Some(frame.freeze()))
    }

    /// Reads more bytes from the stream. `Ok(false)` means end of stream.
    pub async fn fill(&mut self) -> Result<bool, ProtocolError> {
        let want = match self.front_frame_len()? {
            Some(len) if 4 + len > self.filled + READ_CHUNK => 4 + len,
            _ => self.filled + READ_CHUNK,
        };
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        let n = self.inner.read(&mut self.buf[self.filled..]).await?;
        self.filled += n;
        Ok(n > 0)
    }

    /// The next frame, reading as much as it takes.
    pub async fn next_frame(&mut self) -> Result<Bytes, ProtocolError> {
        loop {
            if let Some(frame) = self.buffered_frame()? {
                return Ok(frame);
            }
            if !self.fill().await? {
                return Err(if self.filled == 0 {
                    ProtocolError::Closed
                } else {
                    ProtocolError::Truncated
                });
            }
        }
    }

    /// Whether received bytes are waiting that do not make a frame yet.
    pub fn has_partial(&self) -> bool {
        self.filled > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn splits_back_to_back_frames_and_reports_clean_eof() {
        let mut wire = frame(b"hello");
        wire.extend(frame(b""));
        wire.extend(frame(&[7u8; 100_000]));
        futures_lite::future::block_on(async {
            let mut reader = FrameReader::new(&wire[..]);
            assert_eq!(&reader.next_frame().await.unwrap()[..], b"hello");
            assert!(reader.next_frame().await.unwrap().is_empty());
            assert_eq!(reader.next_frame().await.unwrap().len(), 100_000);
            assert!(matches!(
                reader.next_frame().await,
                Err(ProtocolError::Closed)
            ));
        });
    }

    #[test]
    fn rejects_bad_lengths_and_truncation() {
        futures_lite::future::block_on(async {
            let negative = (-5i32).to_be_bytes();
            let mut reader = FrameReader::new(&negative[..]);
            assert!(matches!(
                reader.next_frame().await,
                Err(ProtocolError::NegativeLength(-5))
            ));
            let huge = (MAX_FRAME as i32 + 1).to_be_bytes();
            let mut reader = FrameReader::new(&huge[..]);
            assert!(matches!(
                reader.next_frame().await,
                Err(ProtocolError::FrameTooLarge { .. })
            ));
            assert!(matches!(
                check_length(*b"HTTP", MAX_FRAME),
                Err(ProtocolError::Unsupported(_))
            ));
            assert!(matches!(
                check_length([0x16, 3, 1, 0], MAX_FRAME),
                Err(ProtocolError::Unsupported(_))
            ));
            let cut = &frame(b"hello")[..6];
            let mut reader = FrameReader::new(cut);
            assert!(matches!(
                reader.next_frame().await,
                Err(ProtocolError::Truncated)
            ));
        });
    }
}
