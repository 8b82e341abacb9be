//! Length-prefixed Kafka frames read from a byte stream, through the
//! gateway's own frame reader.

use bytes::Bytes;
use futures_lite::AsyncRead;
use sluice_runtime::{FrameLimits, ReadError};

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

/// Kafka frames from a stream, without their length prefix, read by the
/// same reader the gateway uses: memory grows with the bytes that arrived,
/// never with the length a peer claims.
pub struct FrameReader<R> {
    inner: sluice_runtime::FrameReader<R>,
}

const LIMITS: FrameLimits = FrameLimits {
    max_frame: MAX_FRAME,
    min_body: 0,
    read_chunk: READ_CHUNK,
};

impl<R: AsyncRead + Unpin> FrameReader<R> {
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner: sluice_runtime::FrameReader::new(inner, LIMITS, false),
        }
    }

    /// A complete frame (without its length prefix) that is already
    /// buffered, without doing any I/O.
    pub fn buffered_frame(&mut self) -> Result<Option<Bytes>, ProtocolError> {
        match self.inner.buffered_frame() {
            Ok(frame) => Ok(frame.map(|f| f.slice(4..))),
            Err(e) => Err(self.named(e)),
        }
    }

    /// The next frame, reading as much as it takes.
    pub async fn next_frame(&mut self) -> Result<Bytes, ProtocolError> {
        match self.inner.next_frame().await {
            Ok(Some(frame)) => Ok(frame.slice(4..)),
            Ok(None) => Err(ProtocolError::Closed),
            Err(e) => Err(self.named(e)),
        }
    }

    /// A read error in this tool's terms; a prefix that is another
    /// protocol's answer is named by [`check_length`].
    fn named(&self, err: ReadError) -> ProtocolError {
        if let Some(prefix) = self.inner.data().first_chunk::<4>() {
            if let Err(named) = check_length(*prefix, MAX_FRAME) {
                return named;
            }
        }
        match err {
            ReadError::Io(e) => ProtocolError::Io(e),
            ReadError::Truncated { .. } => ProtocolError::Truncated,
            ReadError::Wire(e) => ProtocolError::Unsupported(e.to_string()),
            // This tool's readers have no frame budget.
            ReadError::OverBudget(e) => ProtocolError::Unsupported(e.to_string()),
        }
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
    fn a_huge_claimed_frame_cut_short_is_truncated() {
        let mut wire = ((MAX_FRAME - 1) as i32).to_be_bytes().to_vec();
        wire.extend_from_slice(&[1u8; 1000]);
        futures_lite::future::block_on(async {
            let mut reader = FrameReader::new(&wire[..]);
            assert!(matches!(
                reader.next_frame().await,
                Err(ProtocolError::Truncated)
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
