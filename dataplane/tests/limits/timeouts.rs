//! Client timeouts, enforced by each shard's once-a-second sweep: a client
//! that never completes its first request, one that trickles a request a
//! byte a second, and one that stops halfway are closed with their reasons,
//! and none of them made sluice open a backend connection.

use std::io::Write;
use std::net::TcpStream;

use crate::{assert_ends, config, gateway_ports, peer, start, wait_metric, WAIT};

const CLIENTS: usize = 500;

/// The first 14 bytes of a 44-byte ApiVersions v3 request.
fn request_start() -> Vec<u8> {
    let mut frame = 40i32.to_be_bytes().to_vec();
    frame.extend_from_slice(&[0, 18, 0, 3, 0, 0, 0, 1, 0xff, 0xff]);
    frame
}

#[test]
fn clients_that_never_finish_a_request_cost_the_backend_nothing() {
    let first = gateway_ports();
    let limits = "{first_frame_timeout_ms: 2000}";
    let gateway = start(&config(first, limits), first, &[]);
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            let mut client = TcpStream::connect(("127.0.0.1", first)).expect("connect");
            client.write_all(&[0]).expect("one byte");
            client
        })
        .collect();
    let closed = [("listener", "plain"), ("reason", "first_frame_timeout")];
    wait_metric(
        &gateway,
        "sluice_client_connections_closed_total",
        &closed,
        CLIENTS as f64,
    );
    for mut client in clients {
        assert_ends(&mut client);
    }
    let m = crate::support::http::scrape(gateway.admin());
    assert_eq!(m.sum("sluice_backend_connections_opened_total", &[]), 0.0);
    assert_eq!(m.sum("sluice_backend_connection_errors_total", &[]), 0.0);
    let line = gateway.wait_log_line(&["connection closed", "first_frame_timeout"], WAIT);
    assert!(line.contains("within 2000 ms of connecting"), "{line}");
}

#[test]
fn slow_and_stalled_requests_are_closed_by_the_frame_timeout() {
    let first = gateway_ports();
    let limits = "{first_frame_timeout_ms: 0, frame_timeout_ms: 2000}";
    let gateway = start(&config(first, limits), first, &[]);
    let mut stalled = TcpStream::connect(("127.0.0.1", first)).expect("connect");
    stalled.write_all(&request_start()).expect("half a request");
    let mut slow = TcpStream::connect(("127.0.0.1", first)).expect("connect");
    let slow_peer = peer(&slow);
    let trickle = std::thread::spawn(move || {
        // One byte a second: a slowloris client, which never finishes.
        for byte in request_start() {
            if slow.write_all(&[byte]).is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        slow
    });
    for client in [&peer(&stalled), &slow_peer] {
        let line = gateway.wait_log_line(&["connection closed", client.as_str()], WAIT);
        assert!(line.contains("reason_code=\"frame_timeout\""), "{line}");
        assert!(line.contains("within 2000 ms"), "{line}");
    }
    assert_ends(&mut stalled);
    let mut slow = trickle.join().expect("slow client");
    assert_ends(&mut slow);
}
