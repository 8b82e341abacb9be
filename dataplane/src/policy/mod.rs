//! Virtual cluster policies, compiled once per configuration snapshot into
//! plain values that check a request's bytes. Pure: no connection, shard or
//! I/O in here; the proxy looks a connection's policies up per snapshot and
//! applies them as requests pass.

mod produce;

use std::collections::HashMap;
use std::sync::Arc;

use cp_sync::config::Config;

pub use produce::{ProduceRules, ProduceVerdict};

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
