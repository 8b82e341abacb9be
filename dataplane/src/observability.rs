//! Observability wiring: the `sluice run` flags for it, and what the
//! gateway starts and calls. Kept apart from `gateway.rs` so the gateway
//! only calls a few named hooks.

use std::sync::Arc;

use clap::{ArgAction, Args};
use cp_sync::Snapshot;
use tracing::error;

use crate::admin::status::StatusBoard;
use crate::admin::{self, AdminServer, AdminState};
use crate::cpus;
use crate::logging::LogFormat;
use crate::metrics::{global, MetricsHub, ShardObserver};
use crate::otlp::{OtlpConfig, OtlpExporter};
use crate::readiness::{BackendReach, Readiness};
use crate::topology::BackendTopology;

#[derive(Args, Debug, Clone)]
pub struct ObservabilityArgs {
    /// Admin HTTP listener (/metrics, /health/probes/*, /status) as ADDR:PORT, or `off`.
    #[arg(long, default_value = "127.0.0.1:8080", env = "SLUICE_ADMIN_LISTEN")]
    pub admin_listen: String,
    /// This node's name in /status and in OTLP resource attributes. Default: the host name.
    #[arg(long, env = "SLUICE_NODE_ID")]
    pub node_id: Option<String>,
    /// `off` disables data-plane metric collection entirely (no counting on the data path).
    #[arg(long, default_value = "on", env = "SLUICE_METRICS", value_parser = parse_on_off, action = ArgAction::Set)]
    pub metrics: bool,
    /// Log line format: text, logfmt or json.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "SLUICE_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Report ready even while a backend cluster a virtual cluster forwards
    /// to has no known broker (by default the node is then not ready).
    #[arg(long, env = "SLUICE_READY_WITHOUT_BACKENDS")]
    pub ready_without_backends: bool,
}

fn parse_on_off(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(format!("{value:?}: expected on or off")),
    }
}

#[derive(Debug, Clone)]
pub struct ObservabilityOptions {
    /// `None` when the admin listener is off.
    pub admin_listen: Option<String>,
    pub node_id: String,
    pub metrics: bool,
    pub require_backends: bool,
}

impl ObservabilityArgs {
    pub fn options(&self) -> ObservabilityOptions {
        let admin = self.admin_listen.trim();
        ObservabilityOptions {
            admin_listen: (!admin.eq_ignore_ascii_case("off")).then(|| admin.to_string()),
            node_id: self.node_id.clone().unwrap_or_else(hostname),
            metrics: self.metrics,
            require_backends: !self.ready_without_backends,
        }
    }
}

/// The kernel's host name; "sluice" if it cannot be read.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "sluice".to_string())
}

/// What the gateway's threads tell the admin side. Cheap to clone into the
/// sync and discovery callbacks.
#[derive(Clone)]
pub struct ObsHandle {
    readiness: Arc<Readiness>,
    status: Arc<StatusBoard>,
}

impl ObsHandle {
    pub fn config_applied(&self, snapshot: &Arc<Snapshot>) {
        self.status.set_config(snapshot);
        let in_use =
            (snapshot.config.virtual_clusters.iter()).map(|vc| vc.destination.name.clone());
        self.readiness.expect_backends(in_use);
        global().config_loaded(snapshot.epoch);
    }

    /// A metadata refresh of `backend` ended.
    pub fn backend_refreshed(&self, backend: &str, reach: BackendReach) {
        self.readiness.backend_refreshed(backend, reach);
    }

    pub fn topology(&self, topology: &Arc<BackendTopology>) {
        self.status.set_topology(topology);
        global().backend_brokers(&topology.backend, topology.brokers.len());
    }

    pub fn serving(&self) {
        self.readiness.set_serving();
    }

    pub fn draining(&self) {
        self.readiness.set_draining();
    }
}

pub struct Observability {
    pub handle: ObsHandle,
    observers: Vec<ShardObserver>,
    admin: Option<AdminServer>,
    otlp: Option<OtlpExporter>,
}

impl Observability {
    /// Binds the admin listener (a taken port is a start-up error) and
    /// starts the admin and OTLP threads on the spare CPUs; `first` is the
    /// configuration the gateway starts with, one shard per `plan` entry.
    pub fn start(
        opts: &ObservabilityOptions,
        first: &Arc<Snapshot>,
        plan: &[Option<usize>],
        spare: &[usize],
    ) -> anyhow::Result<Self> {
        let shards = plan.len();
        let readiness = Arc::new(Readiness::new(shards, opts.require_backends));
        let (hub, observers) = MetricsHub::new(shards, opts.metrics, readiness.clone());
        let status = Arc::new(StatusBoard::new(opts.node_id.clone(), shards));
        let pin = |spare: Vec<usize>| move || cpus::pin_current_thread_to(&spare);
        let admin = match &opts.admin_listen {
            Some(addr) => {
                let listener = admin::bind(addr)?;
                let state = AdminState {
                    hub: hub.clone(),
                    status: status.clone(),
                };
                Some(AdminServer::start(listener, state, pin(spare.to_vec()))?)
            }
            None => None,
        };
        let otlp = match OtlpConfig::from_env(|name| std::env::var(name).ok(), &opts.node_id) {
            Ok(Some(config)) => Some(OtlpExporter::start(config, hub, pin(spare.to_vec()))?),
            Ok(None) => None,
            Err(e) => {
                error!("{e}; OTLP metrics export is off");
                None
            }
        };
        let handle = ObsHandle { readiness, status };
        handle.config_applied(first);
        Ok(Observability {
            handle,
            observers,
            admin,
            otlp,
        })
    }

    /// One observer per shard, in shard order.
    pub fn take_observers(&mut self) -> Vec<ShardObserver> {
        std::mem::take(&mut self.observers)
    }

    /// Sends the last OTLP export and closes the admin listener.
    pub fn stop(self) {
        if let Some(otlp) = self.otlp {
            otlp.stop();
        }
        if let Some(admin) = self.admin {
            admin.stop();
        }
    }
}
