//! A client of a virtual cluster that terminates SASL logs in before any
//! upstream connection is opened for it: its ApiVersions is answered from
//! what discovery learned, its SaslHandshake and SaslAuthenticate by the
//! gateway. A client that never logs in costs the backend nothing.

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncWrite, AsyncWriteExt};
use sluice_runtime::FrameReader;
use sluice_wire::api_key::API_VERSIONS;
use sluice_wire::header::RequestHeader;

use super::{upstream, ShardContext};
use crate::auth::{ConnAuth, Gate, MAX_LOGIN_REQUEST};
use crate::metrics::labels::CloseReason;
use crate::metrics::Meter;
use crate::proxy::{add, request_header, ConnClock, ConnError, ConnStats};
use crate::routing::ConnRoute;

/// How the login phase ended.
pub enum LoginPhase {
    /// Logged in (or anonymous): the buffered request, if any, goes on to
    /// the pumps.
    Done,
    Closed(CloseReason),
}

/// What the login phase reads and writes with.
pub struct LoginIo<'a, R, W> {
    pub requests_in: &'a mut FrameReader<R>,
    pub client_tx: &'a mut W,
    pub stats: &'a ConnStats,
    pub clock: &'a ConnClock,
    pub meter: &'a Meter,
}

/// Answers the client until it has logged in, or until it sends a request
/// an anonymous client may send.
pub async fn log_client_in<R, W>(
    ctx: &ShardContext,
    route: &ConnRoute,
    mut io: LoginIo<'_, R, W>,
) -> Result<LoginPhase, ConnError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut auth = ConnAuth::new(&route.cluster.auth, &io.stats.session, io.meter);
    // A frame longer than a login can be is refused by its length, before
    // it is read.
    let normal = io.requests_in.max_frame();
    io.requests_in
        .set_max_frame(normal.min(4 + MAX_LOGIN_REQUEST));
    let phase = answer_until_logged_in(ctx, route, &mut io, &mut auth).await;
    io.requests_in.set_max_frame(normal);
    phase
}

async fn answer_until_logged_in<R, W>(
    ctx: &ShardContext,
    route: &ConnRoute,
    io: &mut LoginIo<'_, R, W>,
    auth: &mut ConnAuth<'_>,
) -> Result<LoginPhase, ConnError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    loop {
        io.clock.reading(true);
        let gone = io.requests_in.wait_for_frame().await;
        io.clock.reading(false);
        if gone.map_err(ConnError::from_client_read)? {
            return Ok(LoginPhase::Closed(CloseReason::ClientClosed));
        }
        let data = io.requests_in.data();
        let header = request_header(data.get(4..).unwrap_or_default())?;
        let (answer, refused) = if header.api_key == API_VERSIONS {
            (api_versions_answer(ctx, route, &header).await?, false)
        } else {
            let now = ctx.conns.clock.now();
            match auth.check(&header, data.get(4..).unwrap_or_default(), now)? {
                Gate::Forward => return Ok(LoginPhase::Done),
                Gate::Answer(answer) => (answer, false),
                Gate::Refuse(answer) => (answer, true),
            }
        };
        take_frame(io.requests_in, io.stats)?;
        if refused {
            let delay = ctx.settings.auth_failure_delay;
            if !delay.is_zero() {
                glommio::timer::sleep(delay).await;
            }
        }
        io.client_tx
            .write_all(&answer)
            .await
            .map_err(ConnError::ClientIo)?;
        io.client_tx.flush().await.map_err(ConnError::ClientIo)?;
        add(&io.stats.bytes_from_backend, answer.len());
        if refused {
            return Ok(LoginPhase::Closed(CloseReason::AuthenticationFailed));
        }
        if io.stats.session.principal().is_some() {
            return Ok(LoginPhase::Done);
        }
    }
}

/// Takes the request just answered off the client's stream.
fn take_frame<R: AsyncRead + Unpin>(
    requests_in: &mut FrameReader<R>,
    stats: &ConnStats,
) -> Result<(), ConnError> {
    let frame = (requests_in.buffered_frame())
        .map_err(ConnError::from_client_read)?
        .unwrap_or_default();
    stats.requests.set(stats.requests.get() + 1);
    add(&stats.bytes_from_client, frame.len());
    Ok(())
}

/// The broker's ApiVersions as discovery learned them, at the client's
/// version and under its correlation id.
async fn api_versions_answer(
    ctx: &ShardContext,
    route: &ConnRoute,
    header: &RequestHeader,
) -> Result<Bytes, ConnError> {
    let backend = &route.cluster.backend;
    let versions = upstream::wait_for(ctx, backend, |t| t.api_versions.clone())
        .await
        .ok_or_else(|| ConnError::NoBootstrap(backend.clone()))?;
    (versions.answer(header.api_version, header.correlation_id)).map_err(ConnError::ClientFrame)
}
