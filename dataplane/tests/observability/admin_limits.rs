//! The admin listener's limits: thousands of connections that never finish
//! a request cost no threads and do not lock probes out, a stalled
//! connection is closed by sluice, and HEAD and other methods are answered
//! as before.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::gateway;
use crate::support::gateway::Gateway;
use crate::support::http::{get, scrape};
use crate::SilentBackend;
use sluice_test_support::wait;

const WAIT: Duration = Duration::from_secs(30);

/// Connections opened against the admin port, each sending nothing or
/// half a request line, all kept open while probes are asked.
const STALLED: usize = 3_000;

/// Threads sluice may run with the test's two shards, whatever the admin
/// port sees: each shard is two threads (its executor and glommio's helper
/// for blocking calls), plus main, cp-sync, discovery, the metrics tick and
/// the admin thread (9 in all), and a few to spare. A thread per connection
/// would be thousands.
const MAX_THREADS: usize = 16;

/// The soft descriptor limit raised so this process can hold `STALLED`
/// sockets; fails saying so when the hard limit is too low.
fn raise_fd_limit() {
    let want = STALLED as u64 + 512;
    let soft = rlimit::increase_nofile_limit(want).expect("raise RLIMIT_NOFILE");
    assert!(
        soft >= want,
        "this test needs {want} open files but the hard RLIMIT_NOFILE allows {soft}; raise it (ulimit -Hn)"
    );
}

fn wait_alive(gw: &Gateway) {
    wait::until("liveness to answer 200", WAIT, || {
        gw.assert_running();
        let code = get(gw.admin(), "/health/probes/liveness").map(|(code, _)| code);
        (code == Some(200)).then_some(())
    });
}

fn threads(gw: &Gateway) -> usize {
    let pid = gw.pid().expect("sluice runs");
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("read /proc/<pid>/task");
    tasks.count()
}

/// `STALLED` open connections; every other one has sent the start of a
/// request line and nothing more.
fn open_stalled(addr: &str) -> Vec<TcpStream> {
    (0..STALLED)
        .map(|i| {
            let mut conn = TcpStream::connect(addr).expect("connect to the admin port");
            if i % 2 == 1 {
                // sluice may already have closed it to make room; that is
                // what the limit is for, not a failure.
                let _ = conn.write_all(b"GET /health/pro");
            }
            conn
        })
        .collect()
}

#[test]
fn probes_answer_while_thousands_of_stalled_connections_are_open() {
    raise_fd_limit();
    let backend = SilentBackend::new();
    let gw = gateway(&backend.addr(), &[], &[]);
    wait_alive(&gw);

    let stalled = open_stalled(gw.admin());
    // One attempt each: a probe that arrives after the flood must not find
    // the listener full.
    let live = get(gw.admin(), "/health/probes/liveness");
    assert_eq!(live, Some((200, "alive\n".to_string())));
    let ready = get(gw.admin(), "/health/probes/readiness");
    assert!(ready.is_some(), "readiness did not answer");
    let count = threads(&gw);
    eprintln!("sluice runs {count} threads with {STALLED} admin connections opened");
    assert!(count <= MAX_THREADS, "{count} threads");
    let shed = scrape(gw.admin()).sum("sluice_admin_connections_shed_total", &[]);
    assert!(shed >= 1.0, "no connection shed after {STALLED}: {shed}");
    drop(stalled);
}

/// Reads until sluice closes `conn`; fails if it is still open after the
/// generous `WAIT`.
fn read_until_closed(mut conn: TcpStream, what: &str) {
    conn.set_read_timeout(Some(WAIT)).expect("read timeout");
    let mut sink = Vec::new();
    match conn.read_to_end(&mut sink) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("{what}: not closed by sluice within {WAIT:?}: {e}"),
    }
}

#[test]
fn a_stalled_connection_is_closed_by_sluice() {
    let backend = SilentBackend::new();
    let gw = gateway(&backend.addr(), &[], &[]);
    wait_alive(&gw);
    let silent = TcpStream::connect(gw.admin()).expect("connect");
    let mut partial = TcpStream::connect(gw.admin()).expect("connect");
    partial
        .write_all(b"GET /health/probes/live")
        .expect("write");
    read_until_closed(silent, "a connection that sent nothing");
    read_until_closed(partial, "a connection that sent half a request line");
    gw.assert_running();
}

/// The whole answer to a raw request (which must ask to close).
fn exchange(addr: &str, request: &str) -> String {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(WAIT)).expect("read timeout");
    conn.write_all(request.as_bytes()).expect("write");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("read response");
    response
}

#[test]
fn head_gets_headers_only_and_other_methods_get_405() {
    let backend = SilentBackend::new();
    let gw = gateway(&backend.addr(), &[], &[]);
    wait_alive(&gw);
    let head = exchange(
        gw.admin(),
        "HEAD /health/probes/liveness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let (status, rest) = head.split_once("\r\n").expect("status line");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let lower = rest.to_ascii_lowercase();
    assert!(lower.contains("content-length: 6\r\n"), "{head}");
    assert!(
        lower.contains("content-type: text/plain; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.ends_with("\r\n\r\n"),
        "HEAD answered with a body: {head:?}"
    );

    let post = exchange(
        gw.admin(),
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    );
    assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
    assert!(post.ends_with("\r\n\r\nonly GET\n"), "{post}");
}
