//! The pumps of one connection, run over in-memory pipes with the test
//! playing both the client and the broker. Nothing here waits on a clock:
//! the pump future is polled by hand until it stops making progress
//! ([`Rig::settle`]), so what it has forwarded by then is exactly what it
//! would forward on a real socket before waiting for more input.

mod auth;
mod closes;
mod flow;
mod limits;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use std::time::{Duration, Instant};

use bytes::{BufMut, BytesMut};
use sluice_runtime::{FrameReader, ReadHooks};

use super::{frame_limits, run_pumps, ConnEnv, ConnError, ConnStats, PolicySource, PumpLimits};
use super::{ClientTimeouts, ConnClock, ShardConns};
use crate::auth::ClientAuth;
use crate::metrics::labels::CloseReason;
use crate::metrics::Meter;
use crate::policy::ClusterPolicies;
use cp_sync::config::VirtualAuthentication;
use sluice_wire::rewrite::BrokerAddressMap;

/// How many polls without new input a pump gets to reach a point where
/// it waits: far more than any test needs (each poll moves every ready
/// frame one step).
const SETTLE_POLLS: usize = 256;
/// Room in each in-memory pipe; tests of backpressure fill it.
const PIPE: usize = 64 * 1024;
pub const LIST_OFFSETS: i16 = 2;

pub fn limits() -> PumpLimits {
    PumpLimits {
        max_frame: 1 << 20,
        read_chunk: 64 * 1024,
        max_inflight: 16,
        cut_through: 128 * 1024,
        request_margin: MARGIN,
        auth_failure_delay: std::time::Duration::ZERO,
    }
}

/// The deadline margin the pumps run with here.
pub const MARGIN: Duration = Duration::from_secs(30);

/// What the pumps see of the shard: the virtual cluster's policies (none
/// unless a test sets them) and no brokers to map.
pub struct World {
    pub shard: ShardConns,
    pub stats: ConnStats,
    pub clock: ConnClock,
    pub policies: Option<Arc<ClusterPolicies>>,
    pub auth: ClientAuth,
    meter: Meter,
}

impl Default for World {
    fn default() -> Self {
        World::with_budget(usize::MAX)
    }
}

impl World {
    /// A shard whose client frames may hold `budget` bytes at once.
    pub fn with_budget(budget: usize) -> Self {
        World {
            shard: ShardConns::new(budget),
            stats: ConnStats::default(),
            clock: ConnClock::new(Instant::now(), ClientTimeouts::default()),
            policies: None,
            auth: ClientAuth::compile(&[VirtualAuthentication::Anonymous], None),
            meter: Meter::default(),
        }
    }
}

impl PolicySource for World {
    fn epoch(&self) -> u64 {
        1
    }

    fn policies(&self, _: &str) -> Option<Arc<ClusterPolicies>> {
        self.policies.clone()
    }
}

struct NoBrokers;

impl BrokerAddressMap for NoBrokers {
    fn broker_endpoint(&self, _: i32) -> Option<(std::borrow::Cow<'_, str>, i32)> {
        None
    }
}

type Pump<'a> = Pin<Box<dyn Future<Output = Result<CloseReason, ConnError>> + 'a>>;

/// A connection's pumps with the test's ends of its four pipes.
pub struct Rig<'a> {
    pump: Pump<'a>,
    pub client_tx: Option<piper::Writer>,
    pub client_rx: piper::Reader,
    pub broker_rx: piper::Reader,
    pub broker_tx: Option<piper::Writer>,
    /// Set once the pumps have ended.
    outcome: Option<Result<CloseReason, ConnError>>,
    finished: bool,
}

impl World {
    pub fn env(&self) -> ConnEnv<'_> {
        self.env_with(limits())
    }

    fn env_with(&self, limits: PumpLimits) -> ConnEnv<'_> {
        ConnEnv {
            shard: &self.shard,
            policies: self,
            virtual_cluster: "vc",
            brokers: &NoBrokers,
            auth: &self.auth,
            session: &self.stats.session,
            limits,
            stats: &self.stats,
            clock: &self.clock,
            meter: &self.meter,
        }
    }

    pub fn rig(&self, limits: PumpLimits) -> Rig<'_> {
        let (from_client, client_tx) = piper::pipe(PIPE);
        let (client_rx, to_client) = piper::pipe(PIPE);
        let (broker_rx, to_broker) = piper::pipe(PIPE);
        let (from_broker, broker_tx) = piper::pipe(PIPE);
        let hooks = ReadHooks {
            budget: self.shard.budget.clone(),
            clock: self.shard.clock.clone(),
            started: self.clock.frame_started.clone(),
        };
        let requests_in =
            FrameReader::new(from_client, frame_limits(&limits, 8), true).with_hooks(hooks);
        let pump = async move {
            let env = self.env_with(limits);
            run_pumps(&env, requests_in, to_client, from_broker, to_broker).await
        };
        Rig {
            pump: Box::pin(pump),
            client_tx: Some(client_tx),
            client_rx,
            broker_rx,
            broker_tx: Some(broker_tx),
            outcome: None,
            finished: false,
        }
    }
}

impl Rig<'_> {
    /// Polls the pumps until they wait for input or end.
    pub fn settle(&mut self) {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..SETTLE_POLLS {
            if self.finished {
                return;
            }
            if let Poll::Ready(end) = self.pump.as_mut().poll(&mut cx) {
                self.outcome = Some(end);
                self.finished = true;
            }
        }
    }

    /// The client sends bytes (the pipe has room for everything a test sends).
    pub fn client_sends(&mut self, bytes: &[u8]) {
        let tx = self.client_tx.as_mut().expect("client still connected");
        assert_eq!(tx.try_fill(bytes), bytes.len(), "client pipe full");
        self.settle();
    }

    pub fn broker_sends(&mut self, bytes: &[u8]) {
        let tx = self.broker_tx.as_mut().expect("broker still connected");
        assert_eq!(tx.try_fill(bytes), bytes.len(), "broker pipe full");
        self.settle();
    }

    /// Everything the gateway has written towards the broker so far.
    pub fn broker_received(&mut self) -> Vec<u8> {
        self.settle();
        drain(&mut self.broker_rx)
    }

    /// Everything the gateway has written towards the client so far.
    pub fn client_received(&mut self) -> Vec<u8> {
        self.settle();
        drain(&mut self.client_rx)
    }

    /// The pumps' result; they must have ended.
    pub fn ended(&mut self) -> Result<CloseReason, ConnError> {
        self.settle();
        self.outcome.take().expect("the pumps ended")
    }

    pub fn still_running(&mut self) -> bool {
        self.settle();
        !self.finished
    }
}

fn drain(pipe: &mut piper::Reader) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = pipe.try_drain(&mut chunk);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// A request frame: header v1 (no client id) then `body`.
pub fn request(api_key: i16, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let mut frame = BytesMut::new();
    frame.put_i32((10 + body.len()) as i32);
    frame.put_i16(api_key);
    frame.put_i16(version);
    frame.put_i32(correlation_id);
    frame.put_i16(-1);
    frame.put_slice(body);
    frame.to_vec()
}

/// A response frame: correlation id then `body`.
pub fn response(correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let mut frame = BytesMut::new();
    frame.put_i32((4 + body.len()) as i32);
    frame.put_i32(correlation_id);
    frame.put_slice(body);
    frame.to_vec()
}

/// Produce v3 with the given acks and no topics.
pub fn produce(correlation_id: i32, acks: i16) -> Vec<u8> {
    let mut body = BytesMut::new();
    body.put_i16(-1); // transactional_id: null
    body.put_i16(acks);
    body.put_i32(30_000); // timeout_ms
    body.put_i32(0); // topics
    request(0, 3, correlation_id, &body)
}

/// Runs a test body inside a glommio executor (the in-flight FIFO uses
/// glommio's local channel).
pub fn on_executor(test: impl FnOnce() + Send + 'static) {
    let executor = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .make()
        .expect("a glommio executor");
    executor.run(async move { test() });
}

/// [`on_executor`] for a test body that returns a value.
pub fn on_executor_with<T: Send + 'static>(
    test: impl FnOnce() -> T + Send + 'static,
    out: &mut Option<T>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    on_executor(move || {
        let _ = tx.send(test());
    });
    *out = rx.try_recv().ok();
}
