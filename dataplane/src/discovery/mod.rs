//! The discovery thread learns each backend cluster's brokers from Metadata:
//! at start, every `metadata_update_interval_seconds`, and on demand when a
//! shard meets a broker it does not know. It owns all blocking network I/O and
//! DNS of the data plane, so shards never wait on either.

mod fetch;
mod mapping_check;

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cp_sync::config::BackendCluster;
use cp_sync::credentials::BackendLogin;
use cp_sync::Snapshot;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use tracing::{debug, info, warn};

use crate::topology::{BackendTopology, Endpoint};

pub use fetch::{fetch_metadata, FetchError};

/// How long one Metadata round trip may take before the next server is tried.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// A backend that could not be reached is tried again this soon, whatever its
/// configured interval, so a gateway started before Kafka catches up quickly.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);
/// On-demand refreshes of one backend are coalesced to at most one per this.
const MIN_ON_DEMAND_GAP: Duration = Duration::from_millis(250);

pub enum DiscoveryMsg {
    Config(Arc<Snapshot>),
    /// A shard met a broker of this backend it does not know.
    Refresh {
        backend: String,
    },
    Stop,
}

/// Called with every changed topology; the gateway fans it out to shards.
pub type PublishTopology = Box<dyn FnMut(Arc<BackendTopology>) + Send>;

/// Called after every refresh of a backend: how many brokers it has, or
/// why it could not be asked (readiness follows it).
pub type ReportRefresh = Box<dyn FnMut(&str, Result<usize, String>) + Send>;

struct BackendState {
    config: BackendCluster,
    tls: Option<Arc<rustls::ClientConfig>>,
    topology: Option<Arc<BackendTopology>>,
    next_due: Instant,
    last_fetch: Option<Instant>,
}

pub struct Discovery {
    snapshot: Arc<Snapshot>,
    backends: HashMap<String, BackendState>,
    publish: PublishTopology,
    report: ReportRefresh,
}

impl Discovery {
    pub fn new(snapshot: Arc<Snapshot>, publish: PublishTopology, report: ReportRefresh) -> Self {
        let mut discovery = Discovery {
            snapshot: snapshot.clone(),
            backends: HashMap::new(),
            publish,
            report,
        };
        discovery.apply_config(snapshot);
        discovery
    }

    /// Fetches every backend once, so shards start with brokers known.
    /// Unreachable backends are logged and retried by the thread.
    pub fn refresh_all(&mut self) {
        let names: Vec<String> = self.backends.keys().cloned().collect();
        for name in names {
            self.refresh(&name);
        }
    }

    /// Runs the thread; `on_start` runs first on it (CPU pinning).
    pub fn spawn(
        mut self,
        inbox: Receiver<DiscoveryMsg>,
        on_start: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<JoinHandle<()>> {
        std::thread::Builder::new()
            .name("sluice-discovery".into())
            .spawn(move || {
                on_start();
                self.run(inbox)
            })
    }

    fn run(&mut self, inbox: Receiver<DiscoveryMsg>) {
        loop {
            let wait = self.time_to_next_due();
            match inbox.recv_timeout(wait) {
                Ok(DiscoveryMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(DiscoveryMsg::Config(snapshot)) => self.apply_config(snapshot),
                Ok(DiscoveryMsg::Refresh { backend }) => self.refresh_on_demand(&backend),
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.refresh_due();
        }
    }

    fn time_to_next_due(&self) -> Duration {
        let now = Instant::now();
        self.backends
            .values()
            .map(|b| b.next_due.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_secs(60))
    }

    fn refresh_due(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = (self.backends.iter())
            .filter(|(_, b)| b.next_due <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            self.refresh(&name);
        }
    }

    fn refresh_on_demand(&mut self, backend: &str) {
        let recent = (self.backends.get(backend))
            .and_then(|b| b.last_fetch)
            .is_some_and(|t| t.elapsed() < MIN_ON_DEMAND_GAP);
        if !recent {
            debug!(backend, "on-demand metadata refresh");
            self.refresh(backend);
        }
    }

    fn apply_config(&mut self, snapshot: Arc<Snapshot>) {
        let mut next = HashMap::new();
        for backend in &snapshot.config.backend_clusters {
            let tls = snapshot.tls.backends.get(&backend.name).cloned();
            let same_tls = |old: &BackendState| match (&old.tls, &tls) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            let state = match self.backends.remove(&backend.name) {
                Some(old) if old.config == *backend && same_tls(&old) => old,
                _ => BackendState {
                    config: backend.clone(),
                    tls,
                    topology: None,
                    next_due: Instant::now(),
                    last_fetch: None,
                },
            };
            next.insert(backend.name.clone(), state);
        }
        self.backends = next;
        self.snapshot = snapshot;
        // A listener change may move brokers out of its ports: say so now.
        for state in self.backends.values() {
            if let Some(topology) = &state.topology {
                mapping_check::warn_unmapped(&self.snapshot, topology);
            }
        }
    }

    fn refresh(&mut self, name: &str) {
        let Some(state) = self.backends.get_mut(name) else {
            return;
        };
        let started = Instant::now();
        state.last_fetch = Some(started);
        let result = discover(&state.config, state.tls.as_ref());
        crate::metrics::global().metadata_refresh(name, started.elapsed(), result.is_ok());
        let outcome = (result.as_ref())
            .map(|t| t.brokers.len())
            .map_err(|e| e.to_string());
        (self.report)(name, outcome);
        match result {
            Ok(topology) => {
                let interval = Duration::from_secs(state.config.metadata_update_interval_seconds);
                state.next_due = Instant::now() + interval;
                let changed =
                    (state.topology.as_ref()).is_none_or(|old| !old.same_brokers(&topology));
                if changed {
                    let topology = Arc::new(topology);
                    info!(backend = name, brokers = ?topology.brokers.keys().collect::<Vec<_>>(), "backend brokers discovered");
                    mapping_check::warn_unmapped(&self.snapshot, &topology);
                    state.topology = Some(topology.clone());
                    (self.publish)(topology);
                }
            }
            Err(err) => {
                state.next_due = Instant::now() + RETRY_AFTER_FAILURE;
                warn!(backend = name, error = %err, "backend metadata refresh failed");
            }
        }
    }
}

/// Asks each bootstrap server in turn until one answers.
fn discover(
    backend: &BackendCluster,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<BackendTopology, FetchError> {
    let mut bootstrap = Vec::new();
    let mut last_error = None;
    for server in &backend.bootstrap_servers {
        let Ok((host, port)) = cp_sync::config::parse_host_port(server) else {
            last_error = Some(FetchError::Resolve(server.clone(), "not host:port".into()));
            continue;
        };
        match fetch::resolve(host, port) {
            Ok(endpoints) => bootstrap.extend(endpoints),
            Err(e) => last_error = Some(e),
        }
    }
    let login = backend_login(backend)?;
    for endpoint in &bootstrap {
        match fetch_metadata(endpoint, FETCH_TIMEOUT, tls, login.as_ref()) {
            Ok(metadata) => return Ok(build_topology(backend, bootstrap.clone(), metadata)),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        FetchError::Resolve(backend.name.clone(), "no bootstrap server resolved".into())
    }))
}

/// The backend's credential, its secret read now (from the environment
/// or a file) so a rotated secret is used at the next refresh.
fn backend_login(backend: &BackendCluster) -> Result<Option<BackendLogin>, FetchError> {
    BackendLogin::resolve(&backend.authentication, &|name| std::env::var(name).ok())
        .map_err(|e| FetchError::Credentials(format!("password: {e}")))
}

fn build_topology(
    backend: &BackendCluster,
    bootstrap: Vec<Endpoint>,
    metadata: fetch::FetchedMetadata,
) -> BackendTopology {
    let mut brokers = std::collections::BTreeMap::new();
    for broker in metadata.brokers {
        let node = broker.node_id;
        let Ok(port) = u16::try_from(broker.port) else {
            warn!(backend = %backend.name, node, port = broker.port, "backend advertises an invalid port; broker skipped");
            continue;
        };
        match fetch::resolve(&broker.host, port).map(|e| e.into_iter().next()) {
            Ok(Some(endpoint)) => {
                brokers.insert(node, endpoint);
            }
            Ok(None) | Err(_) => {
                warn!(backend = %backend.name, node, host = %broker.host, port, "cannot resolve backend broker; broker skipped");
            }
        }
    }
    BackendTopology {
        backend: backend.name.clone(),
        cluster_id: metadata.cluster_id,
        bootstrap,
        brokers,
        api_versions: Some(Arc::new(metadata.api_versions)),
    }
}
