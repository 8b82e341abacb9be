//! Free loopback ports, never fixed ones.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Below Linux's default ephemeral range (32768-60999), so outgoing
/// connections (which take ephemeral ports) rarely hold ports we want, and
/// a machine short of ephemeral ports still has these.
const LOW: u64 = 20_000;
const HIGH: u64 = 32_000;

/// Tells apart the calls of one process, so two calls in the same
/// nanosecond still probe different blocks.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// A base port such that `base..base + count` are all free right now.
/// Blocks start at random places so that test binaries running at the same
/// time rarely race for the same ports.
pub fn free_port_block(count: u16) -> u16 {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut state = seed ^ (u64::from(std::process::id()) << 20) ^ call;
    for _ in 0..500 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let base = (LOW + (state >> 33) % (HIGH - LOW)) as u16;
        let all_free = (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if all_free {
            return base;
        }
    }
    panic!("no block of {count} free ports found");
}

/// A loopback port that is free right now.
pub fn free_port() -> u16 {
    free_port_block(1)
}

/// `127.0.0.1:PORT` with a port that is free right now.
pub fn free_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_free_and_in_range() {
        let base = free_port_block(4);
        assert!((LOW as u16..HIGH as u16).contains(&base));
        for port in base..base + 4 {
            TcpListener::bind(("127.0.0.1", port)).expect("port is free");
        }
    }
}
