//! One connection's frames once both of its sides are connected: requests
//! peeked and forwarded, responses matched with their requests and rewritten
//! where they name brokers. Nothing here knows about sockets or shards: the
//! pumps are generic over their streams and see the world through a
//! [`ConnEnv`], so they run the same over in-memory pipes in tests.

mod batch;
mod clock;
mod cut_through;
mod env;
mod error;
mod fifo;
mod memo;
mod pump;

#[cfg(test)]
mod tests;

use std::cell::Cell;

use futures_lite::{future, AsyncRead, AsyncWrite};

pub use clock::{ClientTimeouts, ConnClock, Expiry};
pub use env::add;
pub use env::{ConnEnv, ConnStats, PolicySource, PumpLimits, ShardConns};
pub use error::{Chain, ConnError};
pub use pump::request_header;

use crate::metrics::labels::CloseReason;
use pump::{pump_requests, pump_responses, RequestsEnd};
use sluice_runtime::{FrameLimits, FrameReader};

/// Frame limits of one direction: `min_body` is 8 for requests (api key,
/// version, correlation id), 4 for responses.
pub fn frame_limits(limits: &PumpLimits, min_body: usize) -> FrameLimits {
    FrameLimits {
        max_frame: limits.max_frame,
        min_body,
        read_chunk: limits.read_chunk,
    }
}

/// Runs both directions of a connection until one of them ends it.
/// `requests_in` may already hold the client's first bytes.
pub async fn run_pumps<CR, CW, BR, BW>(
    env: &ConnEnv<'_>,
    mut requests_in: FrameReader<CR>,
    mut client_tx: CW,
    backend_rx: BR,
    mut backend_tx: BW,
) -> Result<CloseReason, ConnError>
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    BR: AsyncRead + Unpin,
    BW: AsyncWrite + Unpin,
{
    let mut responses_in = FrameReader::new(backend_rx, frame_limits(&env.limits, 4), false);
    let (fifo_tx, fifo_rx) = fifo::fifo(env.limits.max_inflight);

    let reason = Cell::new(CloseReason::ClientClosed);
    let client_hung_up = Cell::new(false);
    let requests = async {
        let end = pump_requests(env, &mut requests_in, &mut backend_tx, fifo_tx).await?;
        client_hung_up.set(matches!(end, RequestsEnd::ClientClosed));
        reason.set(match end {
            RequestsEnd::ClientClosed => CloseReason::ClientClosed,
            RequestsEnd::ResponsesEnded => CloseReason::ResponseSideEnded,
            RequestsEnd::AuthenticationFailed => CloseReason::AuthenticationFailed,
        });
        if client_hung_up.get() && env.stats.outstanding.get() > 0 {
            // Nobody will read what the broker still owes, and it may never
            // send it: both sides close now instead of waiting for it.
            reason.set(CloseReason::ClientLeft);
            return Ok(());
        }
        // The FIFO sender is gone now; the response side finishes what is
        // still owed and ends the connection.
        future::pending::<Result<(), ConnError>>().await
    };
    let responses = pump_responses(env, &mut responses_in, &mut client_tx, fifo_rx);
    match future::or(requests, responses).await {
        // A client that hung up with requests in flight cannot take their
        // responses: that is how it chose to leave, not a failure.
        Err(ConnError::ClientIo(_)) if client_hung_up.get() => Ok(reason.get()),
        Err(e) => Err(e),
        Ok(()) => Ok(reason.get()),
    }
}
