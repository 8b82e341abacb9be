//! What can expire on a connection, kept in plain cells that the pumps
//! update as they go and the shard reads on its tick, about once a second:
//! no timer per request, none per connection.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::metrics::labels::CloseReason;

/// How long a client may take at each stage; `None` turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTimeouts {
    /// From accept to the first complete request (TLS handshake included).
    pub first_frame: Option<Duration>,
    /// From the first byte of a request to its last.
    pub frame: Option<Duration>,
    /// With nothing in flight and nothing started (`connections.max.idle.ms`).
    pub idle: Option<Duration>,
}

/// The defaults of a listener's `limits`.
impl Default for ClientTimeouts {
    fn default() -> Self {
        use cp_sync::config::{
            DEFAULT_FIRST_FRAME_TIMEOUT_MS, DEFAULT_FRAME_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS,
        };
        ClientTimeouts {
            first_frame: Some(Duration::from_millis(DEFAULT_FIRST_FRAME_TIMEOUT_MS)),
            frame: Some(Duration::from_millis(DEFAULT_FRAME_TIMEOUT_MS)),
            idle: Some(Duration::from_millis(DEFAULT_IDLE_TIMEOUT_MS)),
        }
    }
}

/// What ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No complete request within `first_frame` of accept.
    FirstFrame(Duration),
    /// A request started and was not finished within `frame`.
    Frame(Duration),
    /// Nothing happened for `idle`.
    Idle(Duration),
    /// The broker did not answer by the request's deadline: what the
    /// client allowed it plus the margin.
    Upstream,
    /// The client's login lasted its session lifetime and it sent a
    /// request without logging in again (KIP-368).
    Session,
}

impl Expiry {
    pub fn close_reason(self) -> CloseReason {
        match self {
            Expiry::FirstFrame(_) => CloseReason::FirstFrameTimeout,
            Expiry::Frame(_) => CloseReason::FrameTimeout,
            Expiry::Idle(_) => CloseReason::IdleTimeout,
            Expiry::Upstream => CloseReason::UpstreamTimeout,
            Expiry::Session => CloseReason::SessionExpired,
        }
    }
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: &Duration| d.as_millis();
        match self {
            Expiry::FirstFrame(d) => write!(
                f,
                "client sent no complete request within {} ms of connecting (first_frame_timeout_ms)",
                ms(d)
            ),
            Expiry::Frame(d) => write!(
                f,
                "client started a request and did not finish it within {} ms (frame_timeout_ms)",
                ms(d)
            ),
            Expiry::Idle(d) => write!(f, "client idle for {} ms (idle_timeout_ms)", ms(d)),
            Expiry::Upstream => f.write_str(
                "backend did not answer within the wait the client allowed plus the margin (--request-timeout-margin-ms)",
            ),
            Expiry::Session => f.write_str(
                "the client sent a request after its login outlived session_lifetime_ms, without logging in again",
            ),
        }
    }
}

/// One connection's clocks. Instants are the shard's coarse time.
pub struct ConnClock {
    accepted: Instant,
    timeouts: ClientTimeouts,
    first_frame_seen: Cell<bool>,
    /// When the request the broker answers next must be answered by.
    request_deadline: Cell<Option<Instant>>,
    /// The latest deadline handed out: a request queued behind another is
    /// answered after it, so its deadline is never earlier.
    last_deadline: Cell<Option<Instant>>,
    last_active: Cell<Instant>,
    /// Set by the request reader while it has part of a frame.
    pub(crate) frame_started: Rc<Cell<Option<Instant>>>,
    /// The response side has delivered every response and waits for a
    /// request.
    responses_done: Cell<bool>,
    /// The request side has sent everything upstream and waits for the
    /// client.
    reading: Cell<bool>,
    /// Moves whenever a request or response passes: a drain closes only a
    /// connection that stayed resting, unchanged, between two looks.
    activity: Cell<u64>,
}

impl ConnClock {
    pub fn new(accepted: Instant, timeouts: ClientTimeouts) -> Self {
        ConnClock {
            accepted,
            timeouts,
            first_frame_seen: Cell::new(false),
            request_deadline: Cell::new(None),
            last_deadline: Cell::new(None),
            last_active: Cell::new(accepted),
            frame_started: Rc::default(),
            responses_done: Cell::new(true),
            reading: Cell::new(false),
            activity: Cell::new(0),
        }
    }

    pub fn first_frame_arrived(&self, now: Instant) {
        self.first_frame_seen.set(true);
        self.last_active.set(now);
    }

    /// A request is about to be forwarded that the broker may hold for
    /// `wait`; returns its deadline (never before the previous request's)
    /// for its in-flight entry.
    pub(crate) fn request_sent(&self, now: Instant, wait: Duration) -> Instant {
        self.last_active.set(now);
        self.bump();
        let own = now + wait;
        let deadline = self.last_deadline.get().map_or(own, |last| last.max(own));
        self.last_deadline.set(Some(deadline));
        if self.responses_done.get() {
            // Nothing ahead of it: the broker answers this one next.
            self.request_deadline.set(Some(deadline));
        }
        self.responses_done.set(false);
        deadline
    }

    /// The gateway queued an answer of its own.
    pub(crate) fn local_answer_queued(&self) {
        self.bump();
        self.responses_done.set(false);
    }

    /// The response side waits for the answer due by `deadline` (`None`:
    /// an answer of the gateway's own).
    pub(crate) fn awaiting(&self, deadline: Option<Instant>) {
        self.request_deadline.set(deadline);
        self.responses_done.set(false);
    }

    /// The response side delivered everything it had and waits for more.
    pub(crate) fn responses_delivered(&self, now: Instant) {
        self.bump();
        self.request_deadline.set(None);
        self.last_active.set(now);
        self.responses_done.set(true);
    }

    /// The request side waits for the client (true) or works (false).
    pub(crate) fn reading(&self, reading: bool) {
        if !reading {
            self.bump();
        }
        self.reading.set(reading);
    }

    fn bump(&self) {
        self.activity.set(self.activity.get().wrapping_add(1));
    }

    /// Changes whenever anything passed on the connection.
    pub fn activity(&self) -> u64 {
        self.activity.get()
    }

    /// Whether closing now would cut neither a request nor a response:
    /// every response delivered, every request sent on, and no part of a
    /// next one received.
    pub fn is_resting(&self) -> bool {
        self.responses_done.get() && self.reading.get() && self.frame_started.get().is_none()
    }

    /// What has run out at `now`, if anything.
    pub fn expired(&self, now: Instant) -> Option<Expiry> {
        let t = &self.timeouts;
        if !self.first_frame_seen.get() {
            if let Some(limit) = t.first_frame {
                if now >= self.accepted + limit {
                    return Some(Expiry::FirstFrame(limit));
                }
            }
        }
        if let (Some(started), Some(limit)) = (self.frame_started.get(), t.frame) {
            if now >= started + limit {
                return Some(Expiry::Frame(limit));
            }
        }
        if let Some(deadline) = self.request_deadline.get() {
            return (now >= deadline).then_some(Expiry::Upstream);
        }
        match t.idle {
            Some(limit) if self.is_resting() && now >= self.last_active.get() + limit => {
                Some(Expiry::Idle(limit))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn each_stage_expires_after_its_limit() {
        let t0 = Instant::now();
        let clock = ConnClock::new(t0, ClientTimeouts::default());
        assert_eq!(clock.expired(t0 + 9 * SEC), None);
        assert_eq!(
            clock.expired(t0 + 10 * SEC),
            Some(Expiry::FirstFrame(10 * SEC))
        );
        clock.first_frame_arrived(t0 + SEC);
        clock.reading(true);
        clock.frame_started.set(Some(t0 + 2 * SEC));
        assert_eq!(clock.expired(t0 + 31 * SEC), None);
        assert_eq!(clock.expired(t0 + 32 * SEC), Some(Expiry::Frame(30 * SEC)));
        clock.frame_started.set(None);
        assert_eq!(clock.expired(t0 + 600 * SEC), None);
        assert_eq!(clock.expired(t0 + 601 * SEC), Some(Expiry::Idle(600 * SEC)));
    }

    #[test]
    fn a_request_in_flight_is_bounded_by_its_deadline_not_by_idleness() {
        let t0 = Instant::now();
        let clock = ConnClock::new(t0, ClientTimeouts::default());
        clock.first_frame_arrived(t0);
        clock.reading(true);
        let long = clock.request_sent(t0, 900 * SEC);
        let short = clock.request_sent(t0 + SEC, 5 * SEC);
        assert_eq!(short, long, "a later request never expires first");
        assert!(!clock.is_resting());
        assert_eq!(clock.expired(t0 + 899 * SEC), None);
        assert_eq!(clock.expired(t0 + 900 * SEC), Some(Expiry::Upstream));
        clock.responses_delivered(t0 + 10 * SEC);
        assert!(clock.is_resting());
        assert_eq!(clock.expired(t0 + 609 * SEC), None);
        assert_eq!(clock.expired(t0 + 610 * SEC), Some(Expiry::Idle(600 * SEC)));
    }

    #[test]
    fn limits_that_are_off_never_expire() {
        let t0 = Instant::now();
        let off = ClientTimeouts {
            first_frame: None,
            frame: None,
            idle: None,
        };
        let clock = ConnClock::new(t0, off);
        clock.frame_started.set(Some(t0));
        assert_eq!(clock.expired(t0 + 100_000 * SEC), None);
    }
}
