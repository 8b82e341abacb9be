//! Where configuration comes from. The file source serves standalone nodes;
//! nodes run by a control plane use [`crate::remote`], whose poller offers
//! each new configuration to the sync thread and whose source answers
//! SIGHUP with the last accepted one.

use std::path::{Path, PathBuf};

use crate::config::{load_config_file, Config, ConfigErrors};

/// A place the sync thread can fetch a complete configuration from.
pub trait ConfigSource: Send {
    /// Fetches and validates the current configuration. Blocking is allowed:
    /// only the sync thread calls this, never a shard.
    fn fetch(&mut self) -> Result<Config, ConfigErrors>;
    /// A short human description (a path or URL) for logs.
    fn describe(&self) -> String;
    /// Called on the sync thread when a configuration that another thread
    /// offered (see `remote`) became current, so a later `fetch` (SIGHUP)
    /// starts from it. Sources that own their data ignore it.
    fn accepted(&mut self, _config: &Config, _origin: &str) {}
}

/// Reads a YAML or JSON file on every fetch.
pub struct FileSource {
    path: PathBuf,
}

impl FileSource {
    pub fn new(path: impl AsRef<Path>) -> Self {
        FileSource {
            path: path.as_ref().to_path_buf(),
        }
    }
}

impl ConfigSource for FileSource {
    fn fetch(&mut self) -> Result<Config, ConfigErrors> {
        load_config_file(&self.path)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}
