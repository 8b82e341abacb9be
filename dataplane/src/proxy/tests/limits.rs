//! Deadlines and the frame budget, as the pumps keep them: what the
//! shard's sweep would find on the connection's clock, and reads that
//! wait for budget.

use super::*;
use crate::proxy::Expiry;

const FETCH: i16 = 1;
const MS: Duration = Duration::from_millis(1);

/// Fetch v4 asking the broker to wait up to `max_wait_ms`.
fn fetch(correlation_id: i32, max_wait_ms: i32) -> Vec<u8> {
    let mut body = BytesMut::new();
    body.put_i32(-1); // replica_id
    body.put_i32(max_wait_ms);
    body.put_i32(1); // min_bytes
    request(FETCH, 4, correlation_id, &body)
}

#[test]
fn a_request_is_given_what_the_client_allowed_plus_the_margin() {
    on_executor(|| {
        let world = World::default();
        let t0 = world.shard.clock.now();
        world.clock.first_frame_arrived(t0);
        let mut rig = world.rig(limits());
        rig.client_sends(&fetch(1, 500));
        assert_eq!(rig.broker_received(), fetch(1, 500));
        let due = t0 + MARGIN + 500 * MS;
        assert_eq!(world.clock.expired(due - MS), None);
        assert_eq!(world.clock.expired(due), Some(Expiry::Upstream));
        rig.broker_sends(&response(1, b"records"));
        assert_eq!(world.clock.expired(due), None, "answered in time");
        // Produce: its timeout_ms (30 s) plus the margin.
        rig.client_sends(&produce(2, 1));
        let due = t0 + MARGIN + 30_000 * MS;
        assert_eq!(world.clock.expired(due - MS), None);
        assert_eq!(world.clock.expired(due), Some(Expiry::Upstream));
        assert!(rig.still_running(), "the sweep closes, not the pumps");
    });
}

#[test]
fn a_started_frame_runs_on_the_frame_clock() {
    on_executor(|| {
        let world = World::default();
        let t0 = world.shard.clock.now();
        world.clock.first_frame_arrived(t0);
        let mut rig = world.rig(limits());
        let frame = fetch(1, 0);
        rig.client_sends(&frame[..5]);
        let frame_limit = ClientTimeouts::default().frame.unwrap_or_default();
        assert_eq!(world.clock.expired(t0 + frame_limit - MS), None);
        assert_eq!(
            world.clock.expired(t0 + frame_limit),
            Some(Expiry::Frame(frame_limit))
        );
        rig.client_sends(&frame[5..]);
        assert_eq!(rig.broker_received(), frame);
        assert_eq!(world.clock.frame_started.get(), None);
        // What remains is the request's own deadline.
        assert_eq!(
            world.clock.expired(t0 + frame_limit),
            Some(Expiry::Upstream)
        );
    });
}

#[test]
fn a_frame_that_does_not_fit_the_budget_waits_for_it() {
    on_executor(|| {
        let world = World::with_budget(30_000);
        futures_lite::future::block_on(world.shard.budget.reserve(25_000)).unwrap();
        let mut rig = world.rig(limits());
        let big = request(LIST_OFFSETS, 1, 1, &[7; 20_000]);
        rig.client_sends(&big);
        assert!(rig.broker_received().is_empty(), "held back");
        assert_eq!(world.shard.budget.waits(), 1);
        assert_eq!(
            world.clock.frame_started.get(),
            None,
            "waiting for budget is not the client's delay"
        );
        world.shard.budget.release(25_000);
        assert_eq!(rig.broker_received(), big);
        assert!(rig.still_running());
    });
}

#[test]
fn a_frame_larger_than_the_whole_budget_closes_the_connection() {
    on_executor(|| {
        let world = World::with_budget(10_000);
        let mut rig = world.rig(limits());
        rig.client_sends(&request(LIST_OFFSETS, 1, 1, &[7; 20_000])[..12_000]);
        let ended = rig.ended();
        assert!(
            matches!(ended, Err(ConnError::FrameOverBudget(_))),
            "{ended:?}"
        );
        assert_eq!(
            ended.unwrap_err().close_reason().label(),
            "frame_over_budget"
        );
        assert!(rig.broker_received().is_empty());
    });
}
