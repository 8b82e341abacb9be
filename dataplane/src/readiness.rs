//! When the gateway may be sent traffic: a configuration is applied, every
//! shard has bound every listener address of it, every backend cluster a
//! virtual cluster forwards to has a known broker, and it is not draining.
//! Each shard writes only its own slot, once per configuration it applies;
//! the discovery thread reports backends; the admin thread reads them all.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

pub struct Readiness {
    /// Per shard: the epoch it last applied, shifted left once, with the
    /// low bit set when every listener address bound. One word, so a reader
    /// never sees the epoch of one report with the result of another.
    shards: Vec<AtomicU64>,
    serving: AtomicBool,
    draining: AtomicBool,
    /// Whether a backend without a known broker keeps the node unready.
    require_backends: bool,
    /// Per backend cluster in use: its last metadata refresh. Written a few
    /// times a minute by discovery, read by probes; never on the data path.
    backends: Mutex<BTreeMap<String, BackendReach>>,
}

/// What the last metadata refresh of a backend cluster found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendReach {
    NotYetAsked,
    Brokers(usize),
    Unreachable(String),
}

/// A shard's last report, as `/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardBinding {
    pub epoch: u64,
    pub bound: bool,
}

impl Readiness {
    pub fn new(shards: usize, require_backends: bool) -> Self {
        Readiness {
            shards: (0..shards).map(|_| AtomicU64::new(0)).collect(),
            serving: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            require_backends,
            backends: Mutex::new(BTreeMap::new()),
        }
    }

    /// The backend clusters the current configuration forwards to; what is
    /// known of those kept stays.
    pub fn expect_backends(&self, names: impl IntoIterator<Item = String>) {
        let mut backends = self.lock_backends();
        let mut next = BTreeMap::new();
        for name in names {
            let reach = backends.remove(&name).unwrap_or(BackendReach::NotYetAsked);
            next.insert(name, reach);
        }
        *backends = next;
    }

    pub fn backend_refreshed(&self, name: &str, reach: BackendReach) {
        if let Some(slot) = self.lock_backends().get_mut(name) {
            *slot = reach;
        }
    }

    /// Why the node is not ready, one line per reason; empty when ready.
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if !self.serving.load(Ordering::Acquire) {
            missing.push("no configuration applied yet".to_owned());
        }
        if self.is_draining() {
            missing.push("draining".to_owned());
        }
        for (shard, b) in self.shard_bindings().iter().enumerate() {
            if b.epoch == 0 || !b.bound {
                missing.push(format!("shard {shard}: listeners not bound"));
            }
        }
        if self.require_backends {
            for (name, reach) in self.lock_backends().iter() {
                match reach {
                    BackendReach::Brokers(n) if *n > 0 => {}
                    BackendReach::Brokers(_) => {
                        missing.push(format!("backend {name}: metadata lists no broker"))
                    }
                    BackendReach::NotYetAsked => {
                        missing.push(format!("backend {name}: not reached yet"))
                    }
                    BackendReach::Unreachable(e) => {
                        missing.push(format!("backend {name}: unreachable: {e}"))
                    }
                }
            }
        }
        missing
    }

    fn lock_backends(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, BackendReach>> {
        // A panic elsewhere while holding it leaves plain data: still usable.
        self.backends.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn shard_bound(&self, shard: usize, epoch: u64, bound: bool) {
        if let Some(slot) = self.shards.get(shard) {
            slot.store(epoch << 1 | u64::from(bound), Ordering::Release);
        }
    }

    /// The first configuration has been loaded and the gateway serves it.
    pub fn set_serving(&self) {
        self.serving.store(true, Ordering::Release);
    }

    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    pub fn shard_bindings(&self) -> Vec<ShardBinding> {
        (self.shards.iter())
            .map(|slot| {
                let word = slot.load(Ordering::Acquire);
                ShardBinding {
                    epoch: word >> 1,
                    bound: word & 1 == 1,
                }
            })
            .collect()
    }

    pub fn is_ready(&self) -> bool {
        self.missing().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_shard_bound_and_not_draining() {
        let r = Readiness::new(2, true);
        assert!(!r.is_ready(), "nothing applied yet");
        r.shard_bound(0, 1, true);
        r.set_serving();
        assert!(!r.is_ready(), "shard 1 has not bound its listeners yet");
        r.shard_bound(1, 1, true);
        assert!(r.is_ready());
        r.shard_bound(1, 2, false);
        assert!(
            !r.is_ready(),
            "a listener of epoch 2 failed to bind on shard 1"
        );
        r.shard_bound(1, 3, true);
        assert!(r.is_ready());
        r.set_draining();
        assert!(!r.is_ready(), "draining");
        let bindings = r.shard_bindings();
        assert_eq!(
            bindings[1],
            ShardBinding {
                epoch: 3,
                bound: true
            }
        );
    }

    #[test]
    fn not_ready_before_serving_even_if_bound() {
        let r = Readiness::new(1, true);
        r.shard_bound(0, 1, true);
        assert!(!r.is_ready());
        r.shard_bound(7, 1, true); // no such shard: ignored
    }

    #[test]
    fn a_backend_without_a_known_broker_keeps_the_node_unready() {
        let r = Readiness::new(1, true);
        r.shard_bound(0, 1, true);
        r.set_serving();
        r.expect_backends(["kafka".to_owned()]);
        assert_eq!(r.missing(), ["backend kafka: not reached yet"]);
        r.backend_refreshed("kafka", BackendReach::Unreachable("refused".into()));
        assert_eq!(r.missing(), ["backend kafka: unreachable: refused"]);
        r.backend_refreshed("kafka", BackendReach::Brokers(3));
        assert!(r.is_ready());
        r.backend_refreshed("other", BackendReach::Unreachable("x".into()));
        assert!(r.is_ready(), "a backend no virtual cluster uses");
        r.expect_backends(["kafka".to_owned(), "second".to_owned()]);
        assert_eq!(r.missing(), ["backend second: not reached yet"]);
        let relaxed = Readiness::new(1, false);
        relaxed.shard_bound(0, 1, true);
        relaxed.set_serving();
        relaxed.expect_backends(["kafka".to_owned()]);
        assert!(relaxed.is_ready(), "--ready-without-backends");
    }
}
