//! Coalesces small frames into one write. A pipelining client sends many
//! small requests per read; forwarding each with its own `send` costs a
//! syscall (and on loopback the peer's TCP receive work) per frame. Small
//! frames are copied into one buffer and written together when nothing
//! more is ready; large frames still go out from the buffer they were read
//! into.

use bytes::BytesMut;
use futures_lite::{AsyncWrite, AsyncWriteExt};

/// Frames at least this large are written directly, never copied.
const DIRECT: usize = 16 * 1024;
/// A batch is written once it holds this much.
const FULL: usize = 64 * 1024;

#[derive(Default)]
pub(crate) struct Batch {
    buf: BytesMut,
}

impl Batch {
    pub async fn push<W: AsyncWrite + Unpin>(
        &mut self,
        out: &mut W,
        frame: &[u8],
    ) -> std::io::Result<()> {
        if frame.len() >= DIRECT {
            self.flush(out).await?;
            out.write_all(frame).await?;
            // TLS may hold the last record back until asked.
            return out.flush().await;
        }
        self.buf.extend_from_slice(frame);
        if self.buf.len() >= FULL {
            self.flush(out).await?;
        }
        Ok(())
    }

    /// Writes whatever is batched. Called before the pump waits for input,
    /// so nothing sits in the batch while the peer waits for it.
    pub async fn flush<W: AsyncWrite + Unpin>(&mut self, out: &mut W) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        out.write_all(&self.buf).await?;
        self.buf.clear();
        out.flush().await
    }
}
