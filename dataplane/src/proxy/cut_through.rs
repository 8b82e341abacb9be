//! Large responses forwarded while they arrive. Holding a 6 MiB Fetch
//! response until its last byte is in adds the whole transfer time to the
//! consumer's latency; passing each read on as it lands overlaps the two
//! hops. Only bytes that were checked (or that need no checking: record
//! data) are passed on, and a frame that turns out malformed closes the
//! connection like any other bad frame.

use futures_lite::{AsyncRead, AsyncWrite, AsyncWriteExt};
use sluice_wire::header::{response_correlation_id, RequestHeader};
use sluice_wire::rewrite::BrokerAddressMap;
use sluice_wire::stream::{rewrite_fetch_trailer, FetchWalk, Step, StreamPlan};
use sluice_wire::WireError;
use tracing::{debug, warn};

use super::error::ConnError;
use sluice_runtime::{FrameReader, ReadError};

/// One response of `len` bytes (prefix included) whose start is buffered.
pub(crate) struct LargeResponse<'a> {
    pub header: &'a RequestHeader,
    pub len: usize,
    pub plan: StreamPlan,
}

/// Forwards the response to the client; on return all of it has gone out.
pub(crate) async fn forward_large<R, W>(
    upstream: &mut FrameReader<R>,
    client: &mut W,
    response: LargeResponse<'_>,
    brokers: &dyn BrokerAddressMap,
    warned_unmapped: &mut bool,
) -> Result<(), ConnError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let got = (upstream.data().get(4..))
        .ok_or(WireError::Truncated("response correlation_id"))
        .and_then(response_correlation_id)
        .map_err(ConnError::BackendFrame)?;
    let expected = response.header.correlation_id;
    if got != expected {
        return Err(ConnError::CorrelationMismatch { expected, got });
    }
    let mut out = Forwarder {
        upstream,
        client,
        remaining: response.len,
    };
    match response.plan {
        StreamPlan::FetchWalked => {
            let version = response.header.api_version;
            out.pass(4).await?;
            out.walked_fetch(version, brokers, warned_unmapped).await?;
        }
        StreamPlan::Verbatim | StreamPlan::Whole => out.pass(response.len).await?,
    }
    out.client.flush().await.map_err(ConnError::ClientIo)?;
    debug!(
        api_key = response.header.api_key,
        api_version = response.header.api_version,
        correlation_id = expected,
        bytes = response.len,
        "large response forwarded while it arrived"
    );
    Ok(())
}

struct Forwarder<'a, R, W> {
    upstream: &'a mut FrameReader<R>,
    client: &'a mut W,
    /// Bytes of the frame not yet sent to the client.
    remaining: usize,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Forwarder<'_, R, W> {
    /// Sends the next `n` bytes of the frame, as they arrive.
    async fn pass(&mut self, mut n: usize) -> Result<(), ConnError> {
        if n > self.remaining {
            return Err(ConnError::BackendFrame(WireError::Malformed(format!(
                "a field of {n} bytes runs past the end of its frame"
            ))));
        }
        while n > 0 {
            if self.upstream.data().is_empty() {
                self.read_more().await?;
            }
            let chunk = self.upstream.take(n);
            n -= chunk.len();
            self.send(&chunk).await?;
        }
        Ok(())
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), ConnError> {
        self.remaining -= bytes.len();
        self.client
            .write_all(bytes)
            .await
            .map_err(ConnError::ClientIo)
    }

    async fn read_more(&mut self) -> Result<(), ConnError> {
        match self.upstream.read_more().await {
            Ok(0) => Err(ConnError::BackendTruncated(ReadError::Truncated {
                buffered: self.upstream.data().len(),
                expected: self.remaining,
            })),
            Ok(_) => Ok(()),
            Err(e) => Err(ConnError::from_backend_read(e)),
        }
    }

    /// A Fetch response after its length prefix: walked bytes gather at
    /// the front of the buffer and go out in one write whenever more must
    /// be read.
    async fn walked_fetch(
        &mut self,
        version: i16,
        brokers: &dyn BrokerAddressMap,
        warned_unmapped: &mut bool,
    ) -> Result<(), ConnError> {
        let mut walk = FetchWalk::new(version);
        // Walked bytes not sent yet, at the front of the buffer.
        let mut walked = 0;
        loop {
            let available = self.upstream.data().len().min(self.remaining);
            let data = self
                .upstream
                .data()
                .get(walked..available)
                .unwrap_or_default();
            match walk.step(data).map_err(ConnError::BackendFrame)? {
                Step::Forward(n) => walked += n,
                Step::Records(n) if walked + n <= available => walked += n,
                Step::Records(n) => {
                    let buffered = available - walked;
                    self.pass(walked + buffered).await?;
                    walked = 0;
                    self.pass(n - buffered).await?;
                }
                Step::NeedMore if available == self.remaining => {
                    return Err(ConnError::BackendFrame(WireError::Truncated(
                        "fetch response",
                    )));
                }
                Step::NeedMore => {
                    self.pass(walked).await?;
                    walked = 0;
                    self.read_more().await?;
                }
                Step::Trailer => {
                    self.pass(walked).await?;
                    return self.trailer(version, brokers, warned_unmapped).await;
                }
            }
        }
    }

    /// The top-level tagged fields: held whole, rewritten in place.
    async fn trailer(
        &mut self,
        version: i16,
        brokers: &dyn BrokerAddressMap,
        warned_unmapped: &mut bool,
    ) -> Result<(), ConnError> {
        while self.upstream.data().len() < self.remaining {
            self.read_more().await?;
        }
        let trailer = self.upstream.take(self.remaining);
        match rewrite_fetch_trailer(version, &trailer, brokers).map_err(ConnError::BackendFrame)? {
            None => self.send(&trailer).await,
            Some((rewritten, unmapped)) => {
                if !unmapped.is_empty() && !*warned_unmapped {
                    *warned_unmapped = true;
                    warn!(nodes = ?unmapped, api_key = 1,
                        "backend brokers have no port on this listener; left out of the response (widen the listener's ports)");
                }
                self.send(&rewritten).await
            }
        }
    }
}
