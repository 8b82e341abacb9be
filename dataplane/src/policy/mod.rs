//! Virtual cluster policies, compiled once per configuration snapshot and
//! applied to each request as it passes. A connection looks its virtual
//! cluster's policies up again whenever the shard's snapshot changes, so an
//! edit applies from its next request without closing it.

mod produce;

use std::collections::HashMap;
use std::sync::Arc;

use cp_sync::config::Config;

pub use produce::{ProduceRules, ProduceVerdict};

use crate::shard::ShardContext;

/// What one virtual cluster enforces.
#[derive(Debug, Default)]
pub struct ClusterPolicies {
    pub produce: ProduceRules,
}

/// Every virtual cluster's policies, by name.
pub fn compile_policies(config: &Config) -> HashMap<String, Arc<ClusterPolicies>> {
    (config.virtual_clusters.iter())
        .map(|vc| {
            let policies = ClusterPolicies {
                produce: ProduceRules::compile(&vc.produce_policies),
            };
            (vc.name.clone(), Arc::new(policies))
        })
        .collect()
}

/// One connection's view of its virtual cluster's current policies.
pub struct PolicyView {
    virtual_cluster: String,
    epoch: Option<u64>,
    current: Arc<ClusterPolicies>,
}

impl PolicyView {
    pub fn new(virtual_cluster: &str) -> Self {
        PolicyView {
            virtual_cluster: virtual_cluster.to_owned(),
            epoch: None,
            current: Arc::default(),
        }
    }

    /// The policies under the shard's current snapshot; looked up again
    /// only when the snapshot changed since the last call.
    pub fn current(&mut self, ctx: &ShardContext) -> &ClusterPolicies {
        let routes = ctx.routes_ref();
        if self.epoch != Some(routes.epoch) {
            self.epoch = Some(routes.epoch);
            // A virtual cluster gone from the config takes its connections
            // with it (they are closed as stale); until then, no policies.
            self.current = routes.policies(&self.virtual_cluster).unwrap_or_default();
        }
        &self.current
    }
}
