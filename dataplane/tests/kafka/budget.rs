//! The frame budget under ten concurrent 95 MB requests: sluice holds at
//! most its budget of them at once (the rest wait with their reads paused),
//! small requests on other connections keep being answered, and the memory
//! goes back to the system afterwards.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::bad_input::round_trip_works;
use crate::support::gateway::Gateway;
use crate::support::http::scrape;
use crate::support::raw::RawConn;
use crate::Env;
use sluice_test_support::kafka::NODE_ID_BASE;
use sluice_test_support::{ports, wait};

const FRAME: usize = 95_000_000;
const CLIENTS: usize = 10;
const BUDGET: u64 = 100 << 20;
const MIB: u64 = 1 << 20;
const WAIT: Duration = Duration::from_secs(120);

/// A Produce v7 header and then junk, `len` bytes after the length prefix.
fn huge_request(len: usize) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + len);
    frame.extend_from_slice(&(len as i32).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 1, 0xff, 0xff]);
    frame.resize(4 + len, 0x5a);
    frame
}

/// A field of /proc/PID/status in bytes (`VmHWM`: peak RSS; `VmRSS`: now).
fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    (status.lines())
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// Sends one huge request and waits for the connection to end (the broker
/// refuses the junk and closes).
fn send_huge(addr: String) {
    let Ok(mut stream) = TcpStream::connect(&addr) else {
        return;
    };
    let _ = stream.set_write_timeout(Some(WAIT));
    let _ = stream.set_read_timeout(Some(WAIT));
    if stream.write_all(&huge_request(FRAME)).is_ok() {
        let _ = stream.read(&mut [0u8; 64]);
    }
}

pub fn concurrent_huge_frames_stay_within_the_budget(env: &Env) {
    let admin = format!("127.0.0.1:{}", ports::free_port());
    let budget = BUDGET.to_string();
    let args = [
        "--shards",
        "1",
        "--no-pin",
        "--frame-budget-bytes",
        budget.as_str(),
        "--admin-listen",
        admin.as_str(),
    ];
    let gw = Gateway::start_port_mapping(&env.cluster.bootstrap, 3, NODE_ID_BASE, &args);
    let pid = gw.pid().expect("sluice runs");
    let before = memory(pid, "VmRSS");
    let senders: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let addr = gw.bootstrap();
            std::thread::spawn(move || send_huge(addr))
        })
        .collect();
    // Requests queue for the budget: others are served meanwhile.
    assert!(
        wait::eventually(WAIT, || scrape(&admin)
            .sum("sluice_frame_budget_waits_total", &[])
            >= 1.0),
        "no request ever waited for the budget"
    );
    let mut other = RawConn::connect(&gw.bootstrap());
    round_trip_works(&mut other);
    for sender in senders {
        sender.join().expect("sender thread");
    }
    let peak = memory(pid, "VmHWM");
    eprintln!(
        "frame budget: RSS {} MiB before, peak {} MiB",
        before / MIB,
        peak / MIB
    );
    assert!(
        peak <= BUDGET + 64 * MIB,
        "peak RSS {} MiB with a budget of {} MiB",
        peak / MIB,
        BUDGET / MIB
    );
    let m = scrape(&admin);
    assert_eq!(m.sum("sluice_frame_budget_bytes", &[]), BUDGET as f64);
    // Freed frames go back to the system, not only to the allocator.
    assert!(
        wait::eventually(Duration::from_secs(60), || memory(pid, "VmRSS")
            <= before + 32 * MIB),
        "RSS {} MiB after the storm, {} MiB before",
        memory(pid, "VmRSS") / MIB,
        before / MIB
    );
    eprintln!("frame budget: RSS {} MiB after", memory(pid, "VmRSS") / MIB);
    round_trip_works(&mut other);
}
