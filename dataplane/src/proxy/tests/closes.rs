//! Every way the pumps end a connection, with the reason they give.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use cp_sync::config::{Acks, ProduceLimits, ProducePolicy};
use futures_lite::{AsyncRead, AsyncWrite};
use sluice_wire::WireError;

use super::*;
use crate::policy::ProduceRules;

fn list_offsets(correlation_id: i32) -> Vec<u8> {
    request(LIST_OFFSETS, 1, correlation_id, b"body")
}

#[test]
fn a_client_closing_between_requests_ends_cleanly() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        rig.client_sends(&list_offsets(1));
        rig.broker_sends(&response(1, b"r"));
        rig.client_tx = None;
        assert!(matches!(rig.ended(), Ok(CloseReason::ClientClosed)));
        assert_eq!(rig.client_received(), response(1, b"r"));
    });
}

#[test]
fn a_client_leaving_with_requests_in_flight_closes_both_sides() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        rig.client_sends(&list_offsets(1));
        assert_eq!(rig.broker_received(), list_offsets(1));
        rig.client_tx = None;
        // The broker never answers; the pumps must not wait for it.
        assert!(matches!(rig.ended(), Ok(CloseReason::ClientLeft)));
        assert!(rig.broker_rx.is_closed(), "the upstream side is closed too");
        assert_eq!(world.stats.outstanding.get(), 1, "given back by the shard");
    });
}

#[test]
fn a_client_leaving_with_only_gateway_answers_owed_gets_them() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        // ApiVersions above what sluice decodes is answered by sluice itself.
        rig.client_sends(&request(18, 99, 1, b""));
        rig.client_tx = None;
        assert!(matches!(rig.ended(), Ok(CloseReason::ClientClosed)));
        assert!(!rig.client_received().is_empty(), "the answer was sent");
    });
}

#[test]
fn invalid_client_frames_are_the_clients_fault() {
    const NEGATIVE: [u8; 4] = (-1i32).to_be_bytes();
    type Check = fn(&WireError) -> bool;
    let cases: [(&[u8], Check); 3] = [
        (&NEGATIVE, |e| matches!(e, WireError::NegativeLength(-1))),
        (b"GET / HTTP/1.1\r\n", |e| {
            matches!(e, WireError::HttpOnKafka)
        }),
        (&[0, 0, 0, 2, 0, 1], |e| {
            matches!(e, WireError::FrameTooShort { .. })
        }),
    ];
    for (bytes, expected) in cases {
        on_executor(move || {
            let world = World::default();
            let mut rig = world.rig(limits());
            rig.client_sends(bytes);
            match rig.ended() {
                Err(ConnError::ClientFrame(e)) => assert!(expected(&e), "{e}"),
                other => panic!("{other:?}"),
            }
            assert!(rig.broker_received().is_empty());
        });
    }
}

#[test]
fn a_request_at_a_version_sluice_cannot_rewrite_is_refused() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        rig.client_sends(&request(3, 99, 1, b""));
        let end = rig.ended();
        assert!(
            matches!(
                end,
                Err(ConnError::ClientFrame(WireError::UnsupportedVersion { .. }))
            ),
            "{end:?}"
        );
        assert!(rig.broker_received().is_empty(), "never forwarded");
    });
}

#[test]
fn a_client_leaving_mid_frame_is_truncation() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        let frame = list_offsets(1);
        rig.client_sends(&frame[..frame.len() - 3]);
        rig.client_tx = None;
        assert!(matches!(rig.ended(), Err(ConnError::ClientTruncated(_))));
    });
}

#[test]
fn broker_faults_are_the_backends() {
    type Check = fn(&Result<CloseReason, ConnError>) -> bool;
    let cases: [(Vec<u8>, bool, Check); 4] = [
        (response(99, b"r"), false, |r| {
            matches!(
                r,
                Err(ConnError::CorrelationMismatch {
                    expected: 1,
                    got: 99
                })
            )
        }),
        ((-5i32).to_be_bytes().to_vec(), false, |r| {
            matches!(
                r,
                Err(ConnError::BackendFrame(WireError::NegativeLength(-5)))
            )
        }),
        (response(1, b"cut")[..6].to_vec(), true, |r| {
            matches!(r, Err(ConnError::BackendTruncated(_)))
        }),
        (Vec::new(), true, |r| {
            matches!(r, Err(ConnError::BackendClosed(1)))
        }),
    ];
    for (bytes, then_close, check) in cases {
        on_executor(move || {
            let world = World::default();
            let mut rig = world.rig(limits());
            rig.client_sends(&list_offsets(1));
            rig.broker_sends(&bytes);
            if then_close {
                rig.broker_tx = None;
            }
            let end = rig.ended();
            assert!(check(&end), "{end:?}");
            assert!(rig.client_received().is_empty(), "nothing bad passed on");
        });
    }
}

#[test]
fn a_broker_speaking_out_of_turn_or_leaving_idle_closes_the_client() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        rig.broker_sends(&response(1, b"unasked"));
        assert!(matches!(rig.ended(), Err(ConnError::Unsolicited)));
        assert!(rig.client_received().is_empty());
    });
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        rig.broker_tx = None;
        assert!(matches!(rig.ended(), Err(ConnError::BackendClosed(0))));
    });
}

#[test]
fn a_refused_acks_zero_produce_closes_the_connection() {
    on_executor(|| {
        let limits_policy = ProducePolicy::ProduceLimits(ProduceLimits {
            min_acks: Some(Acks::Leader),
            max_batch_bytes: None,
        });
        let world = World {
            policies: Some(Arc::new(ClusterPolicies {
                produce: ProduceRules::compile(&[limits_policy]),
            })),
            ..World::default()
        };
        let mut rig = world.rig(limits());
        rig.client_sends(&produce(1, 0));
        assert!(matches!(rig.ended(), Err(ConnError::PolicyRefused(_))));
        assert!(rig.broker_received().is_empty(), "never forwarded");
    });
}

/// A socket whose every read and write fails.
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
    }
}

impl AsyncWrite for Broken {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn socket_errors_name_their_side() {
    on_executor(|| {
        let world = World::default();
        let env = world.env();
        let client = FrameReader::new(Broken, frame_limits(&env.limits, 8), true);
        let (_keep, idle_broker) = piper::pipe(PIPE);
        let (from_broker, _keep_tx) = piper::pipe(PIPE);
        let run = run_pumps(&env, client, Broken, from_broker, idle_broker);
        assert!(matches!(
            futures_lite::future::block_on(run),
            Err(ConnError::ClientIo(_))
        ));

        let (client_in, mut client_tx) = piper::pipe(PIPE);
        client_tx.try_fill(&list_offsets(1));
        let client = FrameReader::new(client_in, frame_limits(&env.limits, 8), true);
        let (_client_rx, to_client) = piper::pipe(PIPE);
        let (from_broker, _keep_tx) = piper::pipe(PIPE);
        let run = run_pumps(&env, client, to_client, from_broker, Broken);
        assert!(matches!(
            futures_lite::future::block_on(run),
            Err(ConnError::BackendIo(_))
        ));
    });
}
