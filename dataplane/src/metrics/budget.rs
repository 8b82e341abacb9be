//! The frame budget as the metrics see it: each shard's share, what its
//! frames hold of it now, and how often a read had to wait for room.

use prometheus::proto::{MetricFamily, MetricType};
use sluice_runtime::ByteBudget;

use super::render::{counter, family, gauge};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetCounts {
    pub capacity: u64,
    pub used: u64,
    pub waits: u64,
}

impl BudgetCounts {
    pub fn of(budget: &ByteBudget) -> Self {
        BudgetCounts {
            capacity: budget.capacity() as u64,
            used: budget.used() as u64,
            waits: budget.waits(),
        }
    }

    pub fn add(&mut self, other: &BudgetCounts) {
        self.capacity = self.capacity.saturating_add(other.capacity);
        self.used += other.used;
        self.waits += other.waits;
    }
}

pub fn budget_families(b: &BudgetCounts) -> Vec<MetricFamily> {
    [
        family(
            "sluice_frame_budget_bytes",
            "Bytes of client frames the node may hold at once (--frame-budget-bytes).",
            MetricType::GAUGE,
            vec![gauge(b.capacity as f64, &[])],
        ),
        family(
            "sluice_frame_budget_used_bytes",
            "Bytes of the frame budget held by frames being received now.",
            MetricType::GAUGE,
            vec![gauge(b.used as f64, &[])],
        ),
        family(
            "sluice_frame_budget_waits_total",
            "Client frames whose reading paused until the budget had room.",
            MetricType::COUNTER,
            vec![counter(b.waits, &[])],
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}
