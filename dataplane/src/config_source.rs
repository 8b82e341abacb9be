//! Where a node's configuration comes from: a file (standalone) or the
//! control plane (`--control-plane`), chosen on the command line.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use clap::Args;
use cp_sync::remote::{remote_config_sync, RemoteOptions, DEFAULT_POLL_WAIT};
use cp_sync::source::FileSource;
use cp_sync::sync::ConfigSync;
use cp_sync::Snapshot;

#[derive(Args, Debug, Clone)]
pub struct SourceArgs {
    #[command(flatten)]
    pub choice: SourceChoice,
    /// This node's client certificate (PEM), issued by the control plane (`sluice-cp issue-cert`).
    #[arg(long, env = "SLUICE_CP_CERT")]
    pub cp_cert: Option<PathBuf>,
    /// The private key of --cp-cert (PEM).
    #[arg(long, env = "SLUICE_CP_KEY")]
    pub cp_key: Option<PathBuf>,
    /// The control plane's CA certificate (PEM).
    #[arg(long, env = "SLUICE_CP_CA")]
    pub cp_ca: Option<PathBuf>,
    /// Where the last accepted configuration is cached; served when the control plane is down at start.
    #[arg(
        long,
        env = "SLUICE_CP_CACHE",
        default_value = "/var/lib/sluice/cp-cache.json"
    )]
    pub cp_cache: PathBuf,
}

/// Exactly one of the two sources.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct SourceChoice {
    /// YAML or JSON configuration file (SIGHUP re-reads it).
    #[arg(long, short, env = "SLUICE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Control plane URL (https://...): the node long-polls it for its
    /// configuration. Needs --cp-cert, --cp-key and --cp-ca.
    #[arg(long, env = "SLUICE_CONTROL_PLANE", requires_all = ["cp_cert", "cp_key", "cp_ca"])]
    pub control_plane: Option<String>,
}

#[derive(Debug, Clone)]
pub enum ConfigOrigin {
    File(PathBuf),
    ControlPlane(RemoteOptions),
}

impl SourceArgs {
    pub fn origin(self) -> ConfigOrigin {
        match (self.choice.config, self.choice.control_plane) {
            (Some(path), _) => ConfigOrigin::File(path),
            (None, url) => ConfigOrigin::ControlPlane(RemoteOptions {
                url: url.unwrap_or_default(),
                cert: self.cp_cert.unwrap_or_default(),
                key: self.cp_key.unwrap_or_default(),
                ca: self.cp_ca.unwrap_or_default(),
                cache_file: self.cp_cache,
                node_id: None,
                poll_wait: DEFAULT_POLL_WAIT,
            }),
        }
    }
}

impl ConfigOrigin {
    pub fn describe(&self) -> String {
        match self {
            ConfigOrigin::File(path) => path.display().to_string(),
            ConfigOrigin::ControlPlane(remote) => remote.url.clone(),
        }
    }

    /// The sync machinery and the first snapshot; a node never starts
    /// without a valid configuration.
    pub fn first_snapshot(&self) -> anyhow::Result<(ConfigSync, Arc<Snapshot>)> {
        match self {
            ConfigOrigin::File(path) => {
                let mut sync = ConfigSync::new(Box::new(FileSource::new(path)));
                let snapshot = (sync.load())
                    .map_err(|e| anyhow!("configuration {} is invalid:\n{e}", path.display()))?;
                Ok((sync, snapshot))
            }
            ConfigOrigin::ControlPlane(remote) => remote_config_sync(remote.clone()).map_err(|e| {
                anyhow!(
                    "no configuration from the control plane {}: {e}",
                    remote.url
                )
            }),
        }
    }
}
