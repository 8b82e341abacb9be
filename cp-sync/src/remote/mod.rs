//! Configuration from the control plane (`sluice-cp`).
//!
//! [`remote_config_sync`] fetches the first configuration (from the control
//! plane, or from the cache file when the control plane cannot be reached
//! or sent something this node cannot run) and returns a [`ConfigSync`]
//! whose [`spawn`](ConfigSync::spawn) also starts the poller thread. The
//! poller long-polls `GET /v1/dataplane/config` over mutual TLS, validates
//! each new version with the same code as files (parse, then `build_tls` on
//! the sync thread), writes accepted ones to the cache and reports every
//! outcome with `POST /v1/dataplane/report`. An invalid configuration never
//! replaces the running one. SIGHUP ([`SyncHandle::reload`]) rebuilds the
//! last accepted configuration, re-reading its certificate files.
//!
//! [`SyncHandle::reload`]: crate::sync::SyncHandle::reload

mod cache;
mod http;
mod poller;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use crate::config::{parse_config_str, Config, ConfigErrors, ConfigFormat, PrincipalSource};
use crate::snapshot::Snapshot;
use crate::source::ConfigSource;
use crate::sync::ConfigSync;
use crate::tls::client_principal;

pub use http::{https_agent, read_certificates};

use http::{CpClient, Poll};
use poller::Poller;

/// Default long-poll wait.
pub const DEFAULT_POLL_WAIT: Duration = Duration::from_secs(30);

/// Where the control plane is and how this node proves who it is.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    /// Base URL, e.g. `https://cp.example.com:9443`.
    pub url: String,
    /// This node's client certificate (PEM), issued by the control plane.
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// The control plane's CA certificate (PEM).
    pub ca: PathBuf,
    /// The last accepted configuration is kept here.
    pub cache_file: PathBuf,
    /// When set, must equal the certificate's common name (catches a node
    /// started with another node's certificate).
    pub node_id: Option<String>,
    /// How long one long poll waits for a new version.
    pub poll_wait: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Url(String),
    #[error("{0}")]
    NodeId(String),
    #[error("no configuration to start with: control plane: {control_plane}; cache file {cache_file}: {cache}")]
    NoConfig {
        control_plane: String,
        cache_file: String,
        cache: String,
    },
}

impl RemoteError {
    fn file(path: &Path, message: impl Into<String>) -> Self {
        RemoteError::File {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// Fetches the first config (CP or, if unreachable, the cache) and returns a
/// ConfigSync ready to spawn, plus whatever it needs to keep long-polling
/// once spawned.
pub fn remote_config_sync(opts: RemoteOptions) -> Result<(ConfigSync, Arc<Snapshot>), RemoteError> {
    let node_id = certificate_node_id(&opts)?;
    let client = CpClient::new(&opts)?;
    info!(node = %node_id, control_plane = %client.url(), "fetching configuration from the control plane");
    let (problem, refused) = match client.poll(None, None, Duration::ZERO) {
        Ok(Poll::Changed { version, config }) => match start(version, &config, client.url()) {
            Ok((sync, snapshot, config)) => {
                if let Err(e) = cache::write(&opts.cache_file, version, client.url(), &config) {
                    warn!(cache = %opts.cache_file.display(), error = %e, "cannot write the configuration cache");
                }
                let poller = Poller::new(client, opts.cache_file, opts.poll_wait, version);
                return Ok((
                    sync.with_companion(Box::new(|sink| poller.start(sink))),
                    snapshot,
                ));
            }
            Err(refusal) => (refusal.describe(), Some(refusal)),
        },
        Ok(Poll::Unchanged) => (
            "control plane answered 204 to a request without a version".into(),
            None,
        ),
        Err(message) => (message, None),
    };
    let (sync, snapshot, version) = from_cache(&opts.cache_file, &problem)?;
    let mut poller = Poller::new(client, opts.cache_file, opts.poll_wait, version);
    if let Some(refusal) = refused {
        poller = poller.with_refused(refusal.version, refusal.config, refusal.errors.into_vec());
    }
    Ok((
        sync.with_companion(Box::new(|sink| poller.start(sink))),
        snapshot,
    ))
}

/// A version from the control plane that this node could not run.
struct Refusal {
    version: u64,
    /// Present when it parsed (only its TLS files failed), so it can be
    /// tried again when they change.
    config: Option<Config>,
    errors: ConfigErrors,
}

impl Refusal {
    fn describe(&self) -> String {
        let lines = self.errors.to_string().replace('\n', "; ");
        format!(
            "version {} cannot be used on this node: {lines}",
            self.version
        )
    }
}

fn start(
    version: u64,
    text: &str,
    url: &str,
) -> Result<(ConfigSync, Arc<Snapshot>, Config), Refusal> {
    let refusal = |config, errors| Refusal {
        version,
        config,
        errors,
    };
    let config = parse_config_str(text, ConfigFormat::Json).map_err(|e| refusal(None, e))?;
    let origin = format!("control plane {url} version {version}");
    let (sync, snapshot) =
        sync_for(config.clone(), origin).map_err(|e| refusal(Some(config.clone()), e))?;
    info!(
        version,
        epoch = snapshot.epoch,
        "configuration received from the control plane"
    );
    Ok((sync, snapshot, config))
}

fn from_cache(path: &Path, problem: &str) -> Result<(ConfigSync, Arc<Snapshot>, u64), RemoteError> {
    let no_config = |cache: String| RemoteError::NoConfig {
        control_plane: problem.to_owned(),
        cache_file: path.display().to_string(),
        cache,
    };
    let (version, config) = cache::read(path).map_err(no_config)?;
    let origin = format!("cache {} (control plane version {version})", path.display());
    let (sync, snapshot) =
        sync_for(config, origin).map_err(|e| no_config(e.to_string().replace('\n', "; ")))?;
    warn!(
        version,
        cache = %path.display(),
        reason = %problem,
        "serving the cached configuration; the control plane is polled in the background"
    );
    Ok((sync, snapshot, version))
}

fn sync_for(config: Config, origin: String) -> Result<(ConfigSync, Arc<Snapshot>), ConfigErrors> {
    let mut sync = ConfigSync::new(Box::new(RemoteSource { config, origin }));
    let snapshot = sync.load()?;
    Ok((sync, snapshot))
}

/// The node id the control plane will see: the certificate's common name.
fn certificate_node_id(opts: &RemoteOptions) -> Result<String, RemoteError> {
    let chain = read_certificates(&opts.cert)?;
    let node_id = chain
        .first()
        .and_then(|cert| client_principal(cert.der(), PrincipalSource::SubjectCn))
        .ok_or_else(|| RemoteError::file(&opts.cert, "certificate has no common name (node id)"))?;
    match &opts.node_id {
        Some(expected) if *expected != node_id => Err(RemoteError::NodeId(format!(
            "node id {expected:?} does not match the common name {node_id:?} of {}",
            opts.cert.display()
        ))),
        _ => Ok(node_id),
    }
}

/// The configuration last accepted from the control plane: what SIGHUP
/// rebuilds (the poller keeps it current through `accepted`).
struct RemoteSource {
    config: Config,
    origin: String,
}

impl ConfigSource for RemoteSource {
    fn fetch(&mut self) -> Result<Config, ConfigErrors> {
        Ok(self.config.clone())
    }

    fn describe(&self) -> String {
        self.origin.clone()
    }

    fn accepted(&mut self, config: &Config, origin: &str) {
        self.config = config.clone();
        self.origin = origin.to_owned();
    }
}
