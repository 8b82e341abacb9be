//! When the gateway may be sent traffic: a configuration is applied, every
//! shard has bound every listener address of it, and it is not draining.
//! Each shard writes only its own slot, once per configuration it applies;
//! the admin thread reads them all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub struct Readiness {
    /// Per shard: the epoch it last applied, shifted left once, with the
    /// low bit set when every listener address bound. One word, so a reader
    /// never sees the epoch of one report with the result of another.
    shards: Vec<AtomicU64>,
    serving: AtomicBool,
    draining: AtomicBool,
}

/// A shard's last report, as `/status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardBinding {
    pub epoch: u64,
    pub bound: bool,
}

impl Readiness {
    pub fn new(shards: usize) -> Self {
        Readiness {
            shards: (0..shards).map(|_| AtomicU64::new(0)).collect(),
            serving: AtomicBool::new(false),
            draining: AtomicBool::new(false),
        }
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
        let shards_bound = (self.shard_bindings().iter()).all(|s| s.epoch > 0 && s.bound);
        self.serving.load(Ordering::Acquire) && !self.is_draining() && shards_bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_shard_bound_and_not_draining() {
        let r = Readiness::new(2);
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
        let r = Readiness::new(1);
        r.shard_bound(0, 1, true);
        assert!(!r.is_ready());
        r.shard_bound(7, 1, true); // no such shard: ignored
    }
}
