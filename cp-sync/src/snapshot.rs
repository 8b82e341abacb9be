//! The immutable, epoch-numbered view of the configuration that shards run on.

use std::sync::Arc;

use crate::config::Config;
use crate::credentials::Credentials;
use crate::tls::TlsMaterials;

/// One fully validated configuration, numbered so shards and operators can
/// tell which version is in force. Shards hold it behind an `Arc` and swap
/// the whole thing in one step, never a piece of it.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases by one with every configuration accepted by this process,
    /// and with every certificate rotation.
    pub epoch: u64,
    /// Where the configuration came from, for logs and status output.
    pub source: String,
    pub config: Config,
    /// rustls configurations built from the files `config` names. A
    /// snapshot that differs from the previous one only here (certificate
    /// rotation) has an equal `config`: running connections can stay.
    pub tls: TlsMaterials,
    /// The secrets `config` names, resolved on this node.
    pub credentials: Credentials,
}

impl Snapshot {
    pub fn new(
        epoch: u64,
        source: impl Into<String>,
        config: Config,
        tls: TlsMaterials,
        credentials: Credentials,
    ) -> Arc<Self> {
        Arc::new(Snapshot {
            epoch,
            source: source.into(),
            config,
            tls,
            credentials,
        })
    }
}
