//! The admin side of shard metrics. Each shard has a one-slot crossbeam
//! channel: the shard replaces what is in it once a second (it holds a
//! receiver too, to take out a snapshot nobody collected), so nothing piles
//! up when nobody scrapes. A scrape or an OTLP export takes whatever is new
//! and keeps the last snapshot of every shard, so a shard that stopped
//! publishing (draining, gone) still counts with what it last said.

use std::sync::{Arc, Mutex, PoisonError};

use crossbeam_channel::{Receiver, Sender};
use prometheus::proto::MetricFamily;

use super::render;
use super::snapshot::{ShardSnapshot, Totals};
use crate::readiness::Readiness;

/// A shard's end of the metrics and readiness plumbing.
pub struct ShardObserver {
    pub shard: usize,
    tx: Sender<ShardSnapshot>,
    rx: Receiver<ShardSnapshot>,
    readiness: Arc<Readiness>,
}

impl ShardObserver {
    /// Never blocks: the channel holds one snapshot and the shard empties
    /// it before putting the new one in.
    pub fn publish(&self, snapshot: ShardSnapshot) {
        while self.rx.try_recv().is_ok() {}
        let _ = self.tx.try_send(snapshot);
    }

    pub fn bound(&self, epoch: u64, bound: bool) {
        self.readiness.shard_bound(self.shard, epoch, bound);
    }
}

pub struct MetricsHub {
    enabled: bool,
    inboxes: Vec<Receiver<ShardSnapshot>>,
    latest: Mutex<Vec<Option<ShardSnapshot>>>,
    readiness: Arc<Readiness>,
}

impl MetricsHub {
    /// The hub and one observer per shard. With `enabled` false shards
    /// count nothing and only the non-shard metrics are rendered.
    pub fn new(
        shards: usize,
        enabled: bool,
        readiness: Arc<Readiness>,
    ) -> (Arc<MetricsHub>, Vec<ShardObserver>) {
        let mut inboxes = Vec::with_capacity(shards);
        let mut observers = Vec::with_capacity(shards);
        for shard in 0..shards {
            let (tx, rx) = crossbeam_channel::bounded(1);
            inboxes.push(rx.clone());
            observers.push(ShardObserver {
                shard,
                tx,
                rx,
                readiness: readiness.clone(),
            });
        }
        let hub = MetricsHub {
            enabled,
            inboxes,
            latest: Mutex::new((0..shards).map(|_| None).collect()),
            readiness,
        };
        (Arc::new(hub), observers)
    }

    pub fn readiness(&self) -> &Arc<Readiness> {
        &self.readiness
    }

    /// The sum of every shard's latest snapshot.
    pub fn totals(&self) -> Totals {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        for (slot, inbox) in latest.iter_mut().zip(&self.inboxes) {
            while let Ok(snapshot) = inbox.try_recv() {
                *slot = Some(snapshot);
            }
        }
        Totals::of(latest.iter().flatten())
    }

    /// Every metric family: shard counters (when enabled) and the ones
    /// kept by non-shard threads.
    pub fn gather(&self) -> Vec<MetricFamily> {
        let mut families = Vec::new();
        if self.enabled {
            families.extend(render::shard_families(&self.totals()));
        }
        families.extend(render::ready_family(self.readiness.is_ready()));
        families.extend(render::fd_families());
        families.extend(super::global::gather());
        families
    }

    /// The Prometheus text exposition of `gather()`.
    pub fn render_text(&self) -> String {
        render::text(&self.gather())
    }
}
