//! Out of file descriptors, new clients are closed at once (with the
//! shard's reserve descriptor) rather than left waiting in the backlog, and
//! serving resumes when descriptors are free again. The descriptor limit
//! and count are in `/metrics` and `/status`.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;

use rlimit::Resource;
use sluice_test_support::wait;

use crate::support::gateway::Gateway;
use crate::support::http;
use crate::{assert_ends, config, connect_admitted, connect_from, peer, wait_refused, WAIT};

/// Low enough that a few hundred clients exhaust it, high enough for
/// sluice to start (it needs a few dozen of its own).
const NOFILE: u64 = 128;
const CLIENTS: usize = 200;

fn start_with_nofile(limit: u64) -> Gateway {
    let first = crate::gateway_ports();
    let admin = crate::admin_addr(first);
    let args = [
        "--shards",
        "1",
        "--no-pin",
        "--admin-listen",
        admin.as_str(),
    ];
    let gateway = Gateway::spawn_prepared(&config(first, ""), first, &args, &[], |command| {
        // SAFETY: setrlimit is async-signal-safe, and nothing else runs
        // between fork and exec.
        unsafe {
            command.pre_exec(move || Resource::NOFILE.set(limit, limit));
        }
    });
    gateway.wait_log("sluice is serving", WAIT);
    gateway
}

/// How many log lines contain every one of `parts`.
fn count_lines(gateway: &Gateway, parts: &[&str]) -> usize {
    let log = gateway.logs();
    let lines = log.lines();
    lines
        .filter(|l| parts.iter().all(|p| l.contains(p)))
        .count()
}

#[test]
fn out_of_descriptors_new_clients_are_closed_not_left_waiting() {
    let gateway = start_with_nofile(NOFILE);
    let clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| connect_from("127.0.0.1", &gateway))
        .collect();
    // Every client is either served or closed: none stays in the backlog.
    let refused = ["connection refused", "reason_code=\"fd_exhausted\""];
    let shed = wait::until("every client served or closed", WAIT, || {
        let served = count_lines(&gateway, &["connection accepted"]);
        let shed = count_lines(&gateway, &refused);
        (served + shed == CLIENTS).then_some(shed)
    });
    assert!(shed > 0, "{NOFILE} descriptors took {CLIENTS} clients");
    gateway.wait_log_line(&["out of file descriptors", "LimitNOFILE="], WAIT);
    let log = gateway.logs();
    let mut closed = 0;
    for mut client in clients {
        let peer = peer(&client);
        if log
            .lines()
            .any(|l| l.contains(&peer) && l.contains("fd_exhausted"))
        {
            assert_ends(&mut client);
            closed += 1;
        }
    }
    assert_eq!(closed, shed);

    // The served clients left with the loop above: descriptors are free
    // again, and a new client is served.
    connect_admitted("127.0.0.1", &gateway);
    wait_refused(&gateway, "plain", "fd_exhausted", shed as f64);
    let metrics = http::scrape(gateway.admin());
    assert_eq!(metrics.sum("sluice_max_fds", &[]), NOFILE as f64);
    let open = metrics.sum("sluice_open_fds", &[]);
    assert!(
        open > 0.0 && open <= NOFILE as f64,
        "sluice_open_fds {open}"
    );
    let (code, status) = http::get(gateway.admin(), "/status").expect("status answers");
    assert_eq!(code, 200, "{status}");
    let status: serde_json::Value = serde_json::from_str(&status).expect("status is JSON");
    let fds = &status["file_descriptors"];
    assert_eq!(fds["soft_limit"], NOFILE, "{fds}");
    assert_eq!(fds["hard_limit"], NOFILE, "{fds}");
    assert!(
        fds["open"].as_u64().is_some_and(|n| n > 0 && n <= NOFILE),
        "{fds}"
    );
}
