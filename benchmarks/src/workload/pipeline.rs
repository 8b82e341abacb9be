//! One connection with up to N requests in flight: a writer future sends
//! while permits last, a reader future matches responses to requests in
//! order (Kafka answers a connection's requests in the order sent) and
//! hands each permit back.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_lite::future;
use futures_lite::AsyncWriteExt;
use glommio::sync::Semaphore;
use kafka_protocol::messages::ApiKey;

use super::sleep_until;
use crate::kafka::codec;
use crate::kafka::conn::{self, ReadHalf, WriteHalf};
use crate::kafka::frame::FrameReader;
use crate::kafka::ProtocolError;
use crate::stats::{Stats, Window};

/// Requests written in one syscall when permits and pacing allow: enough
/// to amortise the write, small enough not to delay the first request.
const COALESCE_BYTES: usize = 256 * 1024;

/// What a request carries, for the counters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    pub records: u64,
    pub bytes: u64,
}

pub trait RequestSource {
    /// Appends the next request frame to `out`.
    fn encode_next(&mut self, out: &mut BytesMut, correlation: i32) -> Result<Load, ProtocolError>;
    /// When the next request may go; `None` for now.
    fn due(&self) -> Option<Instant>;
}

pub enum Outcome {
    /// Counted as a request; `extra_bytes` adds response bytes.
    Done { extra_bytes: u64 },
    /// The response carried an error code, already counted as an error.
    Failed,
}

pub trait ResponseCheck {
    fn check(
        &mut self,
        frame_len: usize,
        body: Bytes,
        stats: &mut Stats,
    ) -> Result<Outcome, ProtocolError>;
}

/// What a request's records count as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// The workload's own traffic (produce, ping).
    Traffic,
    /// e2e: records the producing side sent, kept apart from the records
    /// the consuming side received.
    Produced,
}

#[derive(Debug, Clone, Copy)]
pub struct PipelineSpec {
    pub addr: SocketAddr,
    pub api: ApiKey,
    pub version: i16,
    pub depth: usize,
    /// False for Produce with acks=0, which gets no response at all.
    pub answered: bool,
    pub counting: Counting,
}

struct InFlight {
    correlation: i32,
    sent_at: Instant,
    load: Load,
}

struct Shared {
    in_flight: RefCell<VecDeque<InFlight>>,
    permits: Semaphore,
    stats: Rc<RefCell<Stats>>,
    spec: PipelineSpec,
}

/// Connects and runs the pipeline until the window closes or the
/// connection fails.
pub async fn run<Q: RequestSource, C: ResponseCheck>(
    spec: PipelineSpec,
    source: &mut Q,
    check: &mut C,
    stats: &Rc<RefCell<Stats>>,
    window: Window,
) -> Result<(), ProtocolError> {
    let stream = conn::connect(spec.addr).await?;
    let (read, write) = conn::split(stream);
    let shared = Shared {
        in_flight: RefCell::new(VecDeque::with_capacity(spec.depth)),
        permits: Semaphore::new(spec.depth as u64),
        stats: stats.clone(),
        spec,
    };
    future::try_zip(
        write_loop(&shared, write, source, window),
        read_loop(&shared, FrameReader::new(read), check),
    )
    .await
    .map(|_| ())
}

async fn write_loop<Q: RequestSource>(
    shared: &Shared,
    mut write: WriteHalf,
    source: &mut Q,
    window: Window,
) -> Result<(), ProtocolError> {
    let mut out = BytesMut::with_capacity(COALESCE_BYTES);
    let mut correlation = 0i32;
    loop {
        if let Some(due) = source.due() {
            sleep_until(due).await;
        }
        if shared.spec.answered {
            shared
                .permits
                .acquire(1)
                .await
                .map_err(|_| ProtocolError::Closed)?;
        }
        let now = Instant::now();
        if now >= window.until {
            return Ok(());
        }
        out.clear();
        loop {
            correlation = correlation.wrapping_add(1);
            let load = source.encode_next(&mut out, correlation)?;
            if shared.spec.answered {
                let sent = InFlight {
                    correlation,
                    sent_at: now,
                    load,
                };
                shared.in_flight.borrow_mut().push_back(sent);
            } else {
                let mut stats = shared.stats.borrow_mut();
                match shared.spec.counting {
                    Counting::Traffic => stats.sent_unanswered(now, load.records, load.bytes),
                    Counting::Produced => {
                        stats.sent_unanswered(now, 0, 0);
                        stats.produced(now, load.records);
                    }
                }
            }
            if !may_coalesce(shared, source, out.len(), now) {
                break;
            }
        }
        write.write_all(&out).await?;
        // TLS may keep the tail of a write inside rustls when the socket
        // would block; without a flush it would wait for the next request.
        // On plain TCP a flush does nothing.
        write.flush().await?;
    }
}

/// Whether another request may join the current write. Takes a permit
/// when it says yes.
fn may_coalesce<Q: RequestSource>(
    shared: &Shared,
    source: &Q,
    buffered: usize,
    now: Instant,
) -> bool {
    if buffered >= COALESCE_BYTES || source.due().is_some_and(|due| due > now) {
        return false;
    }
    !shared.spec.answered || shared.permits.try_acquire(1).unwrap_or(false)
}

async fn read_loop<C: ResponseCheck>(
    shared: &Shared,
    mut frames: FrameReader<ReadHalf>,
    check: &mut C,
) -> Result<(), ProtocolError> {
    loop {
        let frame = frames.next_frame().await?;
        let now = Instant::now();
        let sent = shared
            .in_flight
            .borrow_mut()
            .pop_front()
            .ok_or(ProtocolError::Unsolicited)?;
        let frame_len = frame.len() + 4;
        let body = codec::response_body(
            frame,
            shared.spec.api,
            shared.spec.version,
            sent.correlation,
        )?;
        let mut stats = shared.stats.borrow_mut();
        match check.check(frame_len, body, &mut stats)? {
            Outcome::Done { extra_bytes } => match shared.spec.counting {
                Counting::Traffic => {
                    let bytes = sent.load.bytes + extra_bytes;
                    stats.answered(sent.sent_at, now, sent.load.records, bytes);
                }
                Counting::Produced => {
                    stats.answered(sent.sent_at, now, 0, 0);
                    stats.produced(now, sent.load.records);
                }
            },
            Outcome::Failed => {}
        }
        drop(stats);
        shared.permits.signal(1);
    }
}
