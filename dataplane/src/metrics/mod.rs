//! Metrics. Shards count in plain per-shard cells (`shard`), publish an
//! immutable snapshot once a second (`hub`), and the admin thread sums the
//! latest snapshot of every shard when it is scraped (`snapshot`, `render`).
//! Non-shard threads use ordinary prometheus atomics (`global`). Every
//! label value comes from a bounded set (`labels`).

pub mod budget;
pub mod global;
pub mod histogram;
pub mod hub;
pub mod labels;
pub mod refusals;
pub mod render;
pub mod shard;
pub mod snapshot;

pub use global::{global, ConfigErrorCounter};
pub use hub::{MetricsHub, ShardObserver};
pub use labels::CloseLabels;
pub use refusals::RefuseReason;
pub use shard::{Meter, RouteNames, ShardMeter};

#[cfg(test)]
mod tests;
