//! The immutable, epoch-numbered view of the configuration that shards run on.

use std::sync::Arc;

use crate::config::Config;

/// One fully validated configuration, numbered so shards and operators can
/// tell which version is in force. Shards hold it behind an `Arc` and swap
/// the whole thing in one step, never a piece of it.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases by one with every configuration accepted by this process.
    pub epoch: u64,
    /// Where the configuration came from, for logs and status output.
    pub source: String,
    pub config: Config,
}

impl Snapshot {
    pub fn new(epoch: u64, source: impl Into<String>, config: Config) -> Arc<Self> {
        Arc::new(Snapshot {
            epoch,
            source: source.into(),
            config,
        })
    }
}
