//! Metrics of the non-shard threads (discovery, configuration sync, the
//! admin listener). They change rarely and never on the data path, so
//! ordinary prometheus atomics in one process-wide registry are the simple
//! and right tool here.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::proto::MetricFamily;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::{Context, Layer};

pub struct GlobalMetrics {
    registry: Registry,
    config_loads: IntCounter,
    config_load_errors: IntCounter,
    config_epoch: IntGauge,
    metadata_refresh: HistogramVec,
    metadata_failures: IntCounterVec,
    backend_brokers: IntGaugeVec,
    admin_shed: IntCounter,
}

static GLOBAL: LazyLock<GlobalMetrics> = LazyLock::new(GlobalMetrics::new);

pub fn global() -> &'static GlobalMetrics {
    &GLOBAL
}

pub fn gather() -> Vec<MetricFamily> {
    GLOBAL.registry.gather()
}

/// The definitions are constants; registering them can only fail on a
/// programming error (a bad or repeated name), which the tests catch.
fn register<M: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

const DEFINITION: &str = "static metric definition";

impl GlobalMetrics {
    fn new() -> Self {
        let registry = Registry::new();
        let r = &registry;
        let build = IntGaugeVec::new(
            Opts::new(
                "sluice_build_info",
                "Always 1; the version label says which sluice runs.",
            ),
            &["version"],
        )
        .expect(DEFINITION);
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        register(r, build);
        let counter = |name, help| register(r, IntCounter::new(name, help).expect(DEFINITION));
        let refresh_buckets = vec![
            0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ];
        let refresh_opts = HistogramOpts::new(
            "sluice_metadata_refresh_duration_seconds",
            "Time one backend metadata refresh took (DNS, connect, ApiVersions, Metadata), successful or not.",
        )
        .buckets(refresh_buckets);
        GlobalMetrics {
            config_loads: counter(
                "sluice_config_loads_total",
                "Configurations accepted and published to the shards (the first load, reloads and certificate rotations).",
            ),
            config_load_errors: counter(
                "sluice_config_load_errors_total",
                "Configurations rejected (invalid document, unreadable or unusable TLS files); the running one stays.",
            ),
            config_epoch: register(r, IntGauge::new("sluice_config_epoch", "Epoch (version) of the configuration in force.").expect(DEFINITION)),
            metadata_refresh: register(r, HistogramVec::new(refresh_opts, &["backend"]).expect(DEFINITION)),
            metadata_failures: register(r, IntCounterVec::new(
                Opts::new("sluice_metadata_refresh_failures_total", "Backend metadata refreshes that reached no bootstrap server or got no usable answer."),
                &["backend"],
            ).expect(DEFINITION)),
            backend_brokers: register(r, IntGaugeVec::new(
                Opts::new("sluice_backend_brokers", "Brokers the last successful metadata refresh found for a backend."),
                &["backend"],
            ).expect(DEFINITION)),
            admin_shed: counter(
                "sluice_admin_connections_shed_total",
                "Admin connections closed because the admin listener was at its connection limit when a new one arrived.",
            ),
            registry,
        }
    }

    /// A configuration epoch was accepted and handed to the shards.
    pub fn config_loaded(&self, epoch: u64) {
        self.config_loads.inc();
        self.config_epoch
            .set(i64::try_from(epoch).unwrap_or(i64::MAX));
    }

    pub fn config_rejected(&self) {
        self.config_load_errors.inc();
    }

    pub fn metadata_refresh(&self, backend: &str, took: Duration, ok: bool) {
        let histogram: Histogram = self.metadata_refresh.with_label_values(&[backend]);
        histogram.observe(took.as_secs_f64());
        let failures = self.metadata_failures.with_label_values(&[backend]);
        if !ok {
            failures.inc();
        }
    }

    pub fn backend_brokers(&self, backend: &str, brokers: usize) {
        let gauge = self.backend_brokers.with_label_values(&[backend]);
        gauge.set(i64::try_from(brokers).unwrap_or(i64::MAX));
    }

    /// The admin listener closed a connection to stay within its limit.
    pub fn admin_connection_shed(&self) {
        self.admin_shed.inc();
    }
}

/// Counts configuration rejections without changing cp-sync: its sync
/// thread reports every rejected configuration (reload or certificate
/// rotation) as an ERROR event, and this layer sees those events whatever
/// the log filter says.
pub struct ConfigErrorCounter;

impl ConfigErrorCounter {
    /// Only cp-sync's errors reach the layer.
    pub fn filter() -> Targets {
        Targets::new().with_target("cp_sync", Level::ERROR)
    }
}

impl<S: Subscriber> Layer<S> for ConfigErrorCounter {
    fn on_event(&self, _event: &Event<'_>, _ctx: Context<'_, S>) {
        global().config_rejected();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_global_metric_is_registered_with_help() {
        let g = global();
        g.config_loaded(3);
        g.metadata_refresh("b", Duration::from_millis(3), false);
        g.backend_brokers("b", 3);
        let families = gather();
        let names: Vec<&str> = families.iter().map(|f| f.name()).collect();
        for name in [
            "sluice_build_info",
            "sluice_config_loads_total",
            "sluice_config_load_errors_total",
            "sluice_config_epoch",
            "sluice_metadata_refresh_duration_seconds",
            "sluice_metadata_refresh_failures_total",
            "sluice_backend_brokers",
            "sluice_admin_connections_shed_total",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert!(families.iter().all(|f| !f.help().is_empty()));
    }
}
