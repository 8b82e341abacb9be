//! Free loopback ports, never fixed ones.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

static SERIAL: AtomicU64 = AtomicU64::new(0);

pub fn next_serial() -> u64 {
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// A base port such that `base..base + count` are all free right now.
pub fn free_port_block(count: u16) -> u16 {
    for _ in 0..200 {
        let probe = TcpListener::bind("127.0.0.1:0").expect("bind probe");
        let base = probe.local_addr().expect("probe addr").port();
        drop(probe);
        if base.checked_add(count).is_none() || base < 20000 {
            continue;
        }
        let all_free = (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no block of {count} free ports found");
}
