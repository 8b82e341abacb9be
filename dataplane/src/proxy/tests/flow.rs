//! Frames through the pumps: order, acks=0, cut-through, backpressure,
//! resting between requests.

use super::*;

fn list_offsets(correlation_id: i32) -> Vec<u8> {
    request(LIST_OFFSETS, 1, correlation_id, &[7; 20])
}

fn concat(frames: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    frames.into_iter().flatten().collect()
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        let requests = concat((1..=10).map(list_offsets));
        rig.client_sends(&requests);
        assert_eq!(rig.broker_received(), requests, "forwarded as read");
        let first = concat((1..=4).map(|id| response(id, &[id as u8; 30])));
        rig.broker_sends(&first);
        assert_eq!(rig.client_received(), first);
        rig.client_sends(&list_offsets(11));
        assert_eq!(rig.broker_received(), list_offsets(11));
        let rest = concat((5..=11).map(|id| response(id, &[id as u8; 30])));
        rig.broker_sends(&rest);
        assert_eq!(rig.client_received(), rest);
        assert_eq!(world.stats.outstanding.get(), 0);
        assert_eq!(world.shard.inflight(), 0);
        assert_eq!(world.stats.requests.get(), 11);
        assert!(rig.still_running());
    });
}

#[test]
fn an_acks_zero_produce_gets_no_response_slot() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        let sent = concat([produce(1, 0), list_offsets(2), produce(3, 1)]);
        rig.client_sends(&sent);
        assert_eq!(rig.broker_received(), sent);
        assert_eq!(world.stats.outstanding.get(), 2, "acks=0 is not owed");
        // The broker answers only what wants an answer; the pump must not
        // take the answer to 2 for the missing answer to 1.
        let answers = concat([response(2, b"offsets"), response(3, b"produced")]);
        rig.broker_sends(&answers);
        assert_eq!(rig.client_received(), answers);
        assert!(rig.still_running());
    });
}

/// A response of `len` bytes sent by the broker in two halves: what the
/// client has when only the first half has arrived.
fn client_bytes_after_first_half(cut_through: usize, len: usize) -> usize {
    let mut slot = None;
    on_executor_with(
        move || {
            let world = World::default();
            let mut rig = world.rig(PumpLimits {
                cut_through,
                ..limits()
            });
            rig.client_sends(&list_offsets(1));
            rig.broker_received();
            let frame = response(1, &vec![9; len - 8]);
            let (first, second) = frame.split_at(len / 2);
            rig.broker_sends(first);
            let early = rig.client_received();
            rig.broker_sends(second);
            let all = [early.clone(), rig.client_received()].concat();
            assert_eq!(all, frame, "delivered whole and unchanged");
            assert!(rig.still_running());
            early.len()
        },
        &mut slot,
    );
    slot.expect("the test ran")
}

#[test]
fn responses_from_the_cut_through_size_up_are_passed_on_while_they_arrive() {
    let threshold = 4096;
    assert_eq!(client_bytes_after_first_half(threshold, threshold - 1), 0);
    assert_eq!(
        client_bytes_after_first_half(threshold, threshold),
        threshold / 2
    );
    let above = threshold + 1;
    assert_eq!(client_bytes_after_first_half(threshold, above), above / 2);
}

#[test]
fn a_full_in_flight_fifo_stops_forwarding_requests() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(PumpLimits {
            max_inflight: 2,
            ..limits()
        });
        rig.client_sends(&concat((1..=5).map(list_offsets)));
        assert_eq!(rig.broker_received(), concat((1..=2).map(list_offsets)));
        rig.broker_sends(&response(1, b"one"));
        assert_eq!(rig.broker_received(), list_offsets(3), "one place freed");
        rig.broker_sends(&concat((2..=3).map(|id| response(id, b"more"))));
        assert_eq!(rig.broker_received(), concat((4..=5).map(list_offsets)));
        rig.broker_sends(&concat((4..=5).map(|id| response(id, b"last"))));
        let expected = concat(
            [response(1, b"one")]
                .into_iter()
                .chain((2..=3).map(|id| response(id, b"more")))
                .chain((4..=5).map(|id| response(id, b"last"))),
        );
        assert_eq!(rig.client_received(), expected);
    });
}

#[test]
fn a_client_that_does_not_read_holds_the_broker_back() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(PumpLimits {
            max_inflight: 64,
            ..limits()
        });
        let count = 48;
        rig.client_sends(&concat((1..=count).map(list_offsets)));
        rig.broker_received();
        let answers = concat((1..=count).map(|id| response(id, &[id as u8; 8 << 10])));
        // The client reads nothing: the broker's writes stall once the
        // pipes and the gateway's buffers are full.
        let mut taken = 0;
        let tx = rig.broker_tx.take().expect("broker connected");
        let mut tx = Some(tx);
        loop {
            let n = tx.as_mut().map_or(0, |t| t.try_fill(&answers[taken..]));
            rig.settle();
            if n == 0 {
                break;
            }
            taken += n;
        }
        let in_broker_pipe = tx.as_ref().map_or(0, |t| t.len());
        let held = taken - in_broker_pipe - rig.client_rx.len();
        assert!(taken < answers.len(), "the broker was held back");
        // A batch and a read buffer: what one connection may hold.
        assert!(
            held <= 3 * limits().read_chunk,
            "gateway holds {held} bytes"
        );
        // Once the client reads, everything arrives, in order.
        let mut received = rig.client_received();
        while taken < answers.len() {
            taken += tx.as_mut().map_or(0, |t| t.try_fill(&answers[taken..]));
            received.extend(rig.client_received());
        }
        received.extend(rig.client_received());
        assert_eq!(received, answers);
    });
}

#[test]
fn a_connection_rests_only_between_requests() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        rig.settle();
        assert!(world.clock.is_resting(), "nothing sent yet");
        rig.client_sends(&concat((1..=2).map(list_offsets)));
        assert_eq!(rig.broker_received(), concat((1..=2).map(list_offsets)));
        assert!(!world.clock.is_resting(), "two responses owed");
        let answers = concat((1..=2).map(|id| response(id, b"ok")));
        rig.broker_sends(&answers);
        assert_eq!(rig.client_received(), answers);
        assert!(world.clock.is_resting(), "everything delivered");
        let next = list_offsets(3);
        rig.client_sends(&next[..7]);
        assert!(!world.clock.is_resting(), "a request has started");
        rig.client_sends(&next[7..]);
        assert_eq!(rig.broker_received(), next);
        assert!(!world.clock.is_resting());
        rig.broker_sends(&response(3, b"ok"));
        assert_eq!(rig.client_received(), response(3, b"ok"));
        assert!(world.clock.is_resting());
        assert!(rig.still_running(), "resting is not closing");
    });
}
