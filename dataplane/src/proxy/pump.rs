//! The two directions of a proxied connection.
//!
//! Requests: each frame is peeked (header only) and written upstream from the
//! buffer it was read into. Responses: each frame is matched with the request
//! it answers through the in-flight FIFO, inspected only when its api can
//! carry broker addresses, and rewritten only when it does.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::{future, AsyncRead, AsyncWrite};
use sluice_wire::header::{peek_request_header, response_correlation_id, RequestHeader};
use sluice_wire::produce::produce_acks_and_timeout;
use sluice_wire::rewrite::{
    api_versions_unsupported_response, max_api_versions_version, request_version_handled,
    response_needs_inspection, rewrite_response, BrokerAddressMap, Rewritten,
};
use sluice_wire::stream::{stream_plan, StreamPlan};
use sluice_wire::wait::requested_wait_ms;
use sluice_wire::WireError;
use tracing::{debug, trace, warn};

use super::batch::Batch;
use super::cut_through::{forward_large, LargeResponse};
use super::env::{add, ConnEnv, PolicyView};
use super::error::ConnError;
use super::fifo::{FifoReceiver, FifoSender, Slot};
use crate::auth::{ConnAuth, Gate};
use crate::metrics::Meter;
use crate::policy::{ClusterPolicies, ProduceVerdict};
use sluice_runtime::{FrameReader, FrameStart};
use sluice_wire::api_key::{API_VERSIONS, PRODUCE as API_PRODUCE};

/// One entry of the in-flight FIFO: what the next response slot holds.
pub(crate) enum InFlight {
    /// Forwarded upstream; the backend's response answers it.
    Backend {
        header: RequestHeader,
        /// When it was sent, if metrics are on.
        sent: Option<Instant>,
        /// When the connection gives up waiting for the answer.
        deadline: Instant,
    },
    /// Answered by the gateway itself (api key, response frame), in order
    /// with the others.
    Local(i16, Bytes),
}

/// How the request direction ended when it ended without an error.
pub(crate) enum RequestsEnd {
    ClientClosed,
    ResponsesEnded,
    /// A login failed; its answer is queued and the connection ends after it.
    AuthenticationFailed,
}

enum Route {
    Untracked,
    /// Answered by the broker, which the client allowed to wait this long.
    Tracked(Duration),
    Local(Bytes),
}

pub(crate) async fn pump_requests<R, W>(
    env: &ConnEnv<'_>,
    client: &mut FrameReader<R>,
    upstream: &mut W,
    inflight: FifoSender,
) -> Result<RequestsEnd, ConnError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (stats, meter) = (env.stats, env.meter);
    let mut policies = PolicyView::new(env.virtual_cluster);
    let mut auth = ConnAuth::new(env.auth, env.session, meter);
    let mut batch = Batch::default();
    loop {
        let Some(frame) = next_request(env, client, &mut batch, upstream).await? else {
            return Ok(RequestsEnd::ClientClosed);
        };
        let read_at = meter.now();
        let body = frame.get(4..).unwrap_or_default();
        let header = request_header(body)?;
        stats.requests.set(stats.requests.get() + 1);
        add(&stats.bytes_from_client, frame.len());
        meter.request(header.api_key, frame.len());
        let (route, refused) = match auth.check(&header, body, env.shard.clock.now())? {
            Gate::Forward => {
                let policies = policies.current(env.policies);
                (route_request(&header, body, policies, meter)?, false)
            }
            Gate::Answer(answer) => (Route::Local(answer), false),
            Gate::Refuse(answer) => {
                let delay = env.limits.auth_failure_delay;
                if !delay.is_zero() {
                    glommio::timer::sleep(delay).await;
                }
                (Route::Local(answer), true)
            }
        };
        let entry = in_flight_entry(env, header, route);
        if let Some(entry) = entry {
            let tracked = matches!(entry, InFlight::Backend { .. });
            // A full FIFO waits for responses, which need the batched
            // requests to have gone out first.
            if !inflight.has_room() {
                batch.flush(upstream).await.map_err(ConnError::BackendIo)?;
            }
            // Queue before writing: the response cannot then overtake its entry.
            if inflight.push(entry).await.is_err() {
                return Ok(RequestsEnd::ResponsesEnded);
            }
            if refused {
                return Ok(RequestsEnd::AuthenticationFailed);
            }
            if !tracked {
                continue;
            }
            stats.outstanding.set(stats.outstanding.get() + 1);
            env.shard.inflight_started();
        }
        batch
            .push(upstream, &frame)
            .await
            .map_err(ConnError::BackendIo)?;
        meter.forwarded(read_at);
        trace!(
            api_key = header.api_key,
            api_version = header.api_version,
            correlation_id = header.correlation_id,
            "request forwarded"
        );
    }
}

/// What the in-flight FIFO keeps for a routed request, if anything: a
/// request for the broker gets its deadline here.
fn in_flight_entry(env: &ConnEnv<'_>, header: RequestHeader, route: Route) -> Option<InFlight> {
    match route {
        Route::Untracked => None,
        Route::Tracked(wait) => {
            let now = env.shard.clock.now();
            let deadline = env
                .clock
                .request_sent(now, wait + env.limits.request_margin);
            let sent = env.meter.now();
            Some(InFlight::Backend {
                header,
                sent,
                deadline,
            })
        }
        Route::Local(answer) => {
            env.clock.local_answer_queued();
            Some(InFlight::Local(header.api_key, answer))
        }
    }
}

/// The client's next request: already buffered, or read after sending the
/// backend what is batched. `None`: the client closed at a frame boundary.
async fn next_request<R, W>(
    env: &ConnEnv<'_>,
    client: &mut FrameReader<R>,
    batch: &mut Batch,
    upstream: &mut W,
) -> Result<Option<Bytes>, ConnError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if let Some(frame) = client
        .buffered_frame()
        .map_err(ConnError::from_client_read)?
    {
        return Ok(Some(frame));
    }
    batch.flush(upstream).await.map_err(ConnError::BackendIo)?;
    env.clock.reading(true);
    let next = client.next_frame().await;
    env.clock.reading(false);
    next.map_err(ConnError::from_client_read)
}

/// A request's header, refused if sluice could not handle its response:
/// refused here, so the close names the client, not the backend.
pub fn request_header(body: &[u8]) -> Result<RequestHeader, ConnError> {
    let header = peek_request_header(body).map_err(ConnError::ClientFrame)?;
    if header.api_key != API_VERSIONS
        && !request_version_handled(header.api_key, header.api_version)
    {
        return Err(ConnError::ClientFrame(WireError::UnsupportedVersion {
            api_key: header.api_key,
            version: header.api_version,
        }));
    }
    Ok(header)
}

fn route_request(
    header: &RequestHeader,
    body: &[u8],
    policies: &ClusterPolicies,
    meter: &Meter,
) -> Result<Route, ConnError> {
    match header.api_key {
        API_PRODUCE => {
            let verdict = (policies.produce.check(header, body)).map_err(ConnError::ClientFrame)?;
            match verdict {
                ProduceVerdict::Forward => {}
                ProduceVerdict::Refuse(answer, limit) => {
                    meter.policy_refused(limit);
                    debug!(
                        correlation_id = header.correlation_id,
                        limit = limit.label(),
                        "produce request refused by policy"
                    );
                    return Ok(Route::Local(answer));
                }
                ProduceVerdict::Close(reason, limit) => {
                    meter.policy_refused(limit);
                    return Err(ConnError::PolicyRefused(reason));
                }
            }
            let (acks, timeout_ms) = produce_acks_and_timeout(body, header.api_version)
                .map_err(ConnError::ClientFrame)?;
            // acks=0 produce gets no response from the broker.
            Ok(if acks == 0 {
                Route::Untracked
            } else {
                Route::Tracked(millis(timeout_ms))
            })
        }
        API_VERSIONS if header.api_version > max_api_versions_version() => Ok(Route::Local(
            api_versions_unsupported_response(header.correlation_id),
        )),
        key => {
            let wait = requested_wait_ms(key, header.api_version, body).unwrap_or(0);
            Ok(Route::Tracked(Duration::from_millis(wait.into())))
        }
    }
}

/// A wait from the wire: negative means none.
fn millis(ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

pub(crate) async fn pump_responses<R, W>(
    env: &ConnEnv<'_>,
    upstream: &mut FrameReader<R>,
    client: &mut W,
    inflight: FifoReceiver,
) -> Result<(), ConnError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let meter = env.meter;
    let mut side = ResponseSide {
        env,
        warned_unmapped: false,
    };
    let mut batch = Batch::default();
    loop {
        if !inflight.has_queued() {
            batch.flush(client).await.map_err(ConnError::ClientIo)?;
            // Flushing may have let the request side queue more.
            if !inflight.has_queued() {
                env.clock.responses_delivered(env.shard.clock.now());
            }
        }
        let Some(slot) = next_entry(&inflight, upstream).await? else {
            break;
        };
        match slot.entry {
            InFlight::Local(api_key, answer) => {
                env.clock.awaiting(None);
                batch
                    .push(client, &answer)
                    .await
                    .map_err(ConnError::ClientIo)?;
                meter.response(api_key, answer.len(), None, None);
            }
            InFlight::Backend {
                header,
                sent,
                deadline,
            } => {
                env.clock.awaiting(Some(deadline));
                side.relay(upstream, client, &mut batch, &header, sent)
                    .await?;
            }
        }
    }
    batch.flush(client).await.map_err(ConnError::ClientIo)
}

/// What the response direction needs besides its two streams.
struct ResponseSide<'a> {
    env: &'a ConnEnv<'a>,
    /// Unmapped brokers are logged once per connection.
    warned_unmapped: bool,
}

impl ResponseSide<'_> {
    /// Passes the backend's response to `header` on to the client: whole
    /// (inspected, rewritten where needed, batched) or, when large, while
    /// it arrives.
    async fn relay<R, W>(
        &mut self,
        upstream: &mut FrameReader<R>,
        client: &mut W,
        batch: &mut Batch,
        header: &RequestHeader,
        sent: Option<Instant>,
    ) -> Result<(), ConnError>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let env = self.env;
        let (key, version) = (header.api_key, header.api_version);
        let plan = stream_plan(key, version, response_needs_inspection(key, version));
        let large = match plan {
            StreamPlan::Whole => usize::MAX,
            _ => env.limits.cut_through,
        };
        let start = next_response(upstream, batch, client, large).await?;
        let read_at = env.meter.now();
        let len = match start {
            FrameStart::Whole(frame) => {
                add(&env.stats.bytes_from_backend, frame.len());
                let out = answer_for(env, header, frame, &mut self.warned_unmapped)?;
                batch
                    .push(client, &out)
                    .await
                    .map_err(ConnError::ClientIo)?;
                out.len()
            }
            FrameStart::Large(len) => {
                add(&env.stats.bytes_from_backend, len);
                let response = LargeResponse { header, len, plan };
                forward_large(
                    upstream,
                    client,
                    response,
                    env.brokers,
                    &mut self.warned_unmapped,
                )
                .await?;
                len
            }
            FrameStart::Closed => {
                return Err(ConnError::BackendClosed(env.stats.outstanding.get()));
            }
        };
        env.meter.response(key, len, sent, read_at);
        let outstanding = &env.stats.outstanding;
        outstanding.set(outstanding.get().saturating_sub(1));
        env.shard.inflight_finished();
        Ok(())
    }
}

/// The backend's next response: already buffered, or read after sending
/// the client what is batched (it may be waiting for it). A response of at
/// least `large` bytes is announced once its start is here.
async fn next_response<R, W>(
    upstream: &mut FrameReader<R>,
    batch: &mut Batch,
    client: &mut W,
    large: usize,
) -> Result<FrameStart, ConnError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if let Some(frame) = upstream
        .buffered_frame()
        .map_err(ConnError::from_backend_read)?
    {
        return Ok(FrameStart::Whole(frame));
    }
    // Everything batched goes out before waiting, and before a large
    // response is passed on by itself.
    batch.flush(client).await.map_err(ConnError::ClientIo)?;
    (upstream.next_frame_or_large(large).await).map_err(ConnError::from_backend_read)
}

/// The next FIFO entry; while none is pending, also watches the backend so
/// that a backend closing an idle connection closes the client's too.
async fn next_entry<R: AsyncRead + Unpin>(
    inflight: &FifoReceiver,
    upstream: &mut FrameReader<R>,
) -> Result<Option<Slot>, ConnError> {
    let entry = async { Ok(inflight.pop().await) };
    let backend = async {
        match upstream.closed_or_readable().await {
            Ok(true) => Err(ConnError::BackendClosed(0)),
            // Entries are queued before their request is written, so bytes
            // arriving while the FIFO is empty answer nothing.
            Ok(false) => Err(ConnError::Unsolicited),
            Err(e) => Err(ConnError::from_backend_read(e)),
        }
    };
    // `or` polls the FIFO first, so a queued entry always wins the race.
    future::or(entry, backend).await
}

fn answer_for(
    env: &ConnEnv<'_>,
    header: &RequestHeader,
    frame: Bytes,
    warned_unmapped: &mut bool,
) -> Result<Bytes, ConnError> {
    let body = frame.slice(4..);
    let got = response_correlation_id(&body).map_err(ConnError::BackendFrame)?;
    if got != header.correlation_id {
        let expected = header.correlation_id;
        return Err(ConnError::CorrelationMismatch { expected, got });
    }
    if !response_needs_inspection(header.api_key, header.api_version) {
        return Ok(frame);
    }
    if header.api_key == API_VERSIONS {
        return api_versions_answer(env, header, &body);
    }
    let outcome = rewrite_response(header.api_key, header.api_version, &body, env.brokers)
        .map_err(ConnError::BackendFrame)?;
    if !outcome.unmapped.is_empty() && !*warned_unmapped {
        *warned_unmapped = true;
        warn!(nodes = ?outcome.unmapped, api_key = header.api_key,
            "backend brokers have no port on this listener; left out of the response (widen the listener's ports)");
    }
    Ok(match outcome.frame {
        Rewritten::Unchanged => frame,
        Rewritten::Replaced(new_frame) => new_frame,
    })
}

/// ApiVersions answers depend only on the broker's bytes: remembered per shard.
fn api_versions_answer(
    env: &ConnEnv<'_>,
    header: &RequestHeader,
    body: &Bytes,
) -> Result<Bytes, ConnError> {
    let version = header.api_version;
    if let Some(answer) = env
        .shard
        .memo()
        .lookup(version, body, header.correlation_id)
    {
        return Ok(answer);
    }
    let outcome = rewrite_response(API_VERSIONS, version, body, &NoBrokers)
        .map_err(ConnError::BackendFrame)?;
    let answer = match outcome.frame {
        Rewritten::Unchanged => frame_of(body),
        Rewritten::Replaced(new_frame) => new_frame,
    };
    env.shard.memo_mut().store(version, body, &answer);
    Ok(answer)
}

/// ApiVersions names no broker.
struct NoBrokers;

impl BrokerAddressMap for NoBrokers {
    fn broker_endpoint(&self, _: i32) -> Option<(std::borrow::Cow<'_, str>, i32)> {
        None
    }
}

fn frame_of(body: &Bytes) -> Bytes {
    let mut out = bytes::BytesMut::with_capacity(4 + body.len());
    out.extend_from_slice(&(body.len() as i32).to_be_bytes());
    out.extend_from_slice(body);
    out.freeze()
}
