//! The sync thread: the only place configuration I/O happens. It fetches,
//! validates, builds the TLS configurations, numbers and publishes
//! snapshots; shards only ever receive finished `Arc<Snapshot>`s and never
//! wait on this thread.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use tracing::{error, info};

use crate::config::ConfigErrors;
use crate::snapshot::Snapshot;
use crate::source::ConfigSource;
use crate::tls::{build_tls, tls_fingerprint};

/// Receives every accepted snapshot. The data plane fans it out to its shards
/// with non-blocking sends.
pub type Publish = Box<dyn FnMut(Arc<Snapshot>) + Send>;

/// How often the sync thread re-reads certificate files by default.
pub const DEFAULT_TLS_WATCH_INTERVAL: Duration = Duration::from_secs(5);

enum Command {
    Reload,
    Stop,
}

/// Lets other threads (signal handling, later the control-plane poller) ask
/// the sync thread to act.
#[derive(Clone)]
pub struct SyncHandle {
    commands: Sender<Command>,
}

impl SyncHandle {
    /// Asks for the source to be read again (SIGHUP). Never blocks.
    pub fn reload(&self) {
        let _ = self.commands.send(Command::Reload);
    }

    pub fn stop(&self) {
        let _ = self.commands.send(Command::Stop);
    }
}

/// Owns the source and the epoch counter.
pub struct ConfigSync {
    source: Box<dyn ConfigSource>,
    epoch: u64,
    current: Option<Arc<Snapshot>>,
    tls_watch: Option<Duration>,
    /// Fingerprint of TLS files that last failed to build, so a broken
    /// rotation is logged once rather than on every tick until it is fixed.
    failed_tls: Option<u64>,
}

impl ConfigSync {
    pub fn new(source: Box<dyn ConfigSource>) -> Self {
        ConfigSync {
            source,
            epoch: 0,
            current: None,
            tls_watch: Some(DEFAULT_TLS_WATCH_INTERVAL),
            failed_tls: None,
        }
    }

    /// How often the running thread re-reads the certificate, key and CA
    /// files of the current configuration; `Duration::ZERO` turns watching
    /// off (files are then only read on reload).
    pub fn with_tls_watch(mut self, interval: Duration) -> Self {
        self.tls_watch = (!interval.is_zero()).then_some(interval);
        self
    }

    /// Fetches once and builds the TLS configurations. On success the new
    /// snapshot becomes current; on failure (invalid config, or files that
    /// cannot be read or do not fit) the current one (if any) stays and the
    /// errors are returned.
    pub fn load(&mut self) -> Result<Arc<Snapshot>, ConfigErrors> {
        let config = self.source.fetch()?;
        let tls = build_tls(&config)?;
        self.epoch += 1;
        self.failed_tls = None;
        let snapshot = Snapshot::new(self.epoch, self.source.describe(), config, tls);
        self.current = Some(snapshot.clone());
        Ok(snapshot)
    }

    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.clone()
    }

    /// Starts the sync thread. The first snapshot must already have been
    /// loaded and published by the caller, so a node never starts without a
    /// valid configuration.
    pub fn spawn(self, publish: Publish) -> std::io::Result<(SyncHandle, JoinHandle<()>)> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let handle = std::thread::Builder::new()
            .name("sluice-cp-sync".into())
            .spawn(move || self.run(rx, publish))?;
        Ok((SyncHandle { commands: tx }, handle))
    }

    fn run(mut self, commands: Receiver<Command>, mut publish: Publish) {
        // A deadline rather than a timeout per wait, so a stream of reload
        // commands cannot postpone the certificate check forever.
        let mut next_check = self.tls_watch.map(|interval| Instant::now() + interval);
        loop {
            let command = match next_check {
                Some(deadline) => commands.recv_deadline(deadline),
                None => commands.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match command {
                Ok(Command::Reload) => self.reload(&mut publish),
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    self.check_tls(&mut publish);
                    next_check = self.tls_watch.map(|interval| Instant::now() + interval);
                }
            }
        }
    }

    fn reload(&mut self, publish: &mut Publish) {
        let source = self.source.describe();
        match self.load() {
            Ok(snapshot) => {
                info!(epoch = snapshot.epoch, %source, "configuration reloaded");
                publish(snapshot);
            }
            Err(errors) => {
                let running = self.current.as_ref().map(|s| s.epoch).unwrap_or(0);
                // One line, so log pipelines keep the errors with the event.
                let errors = errors.to_string().replace('\n', "; ");
                error!(%source, running_epoch = running, %errors, "configuration rejected, keeping the running one");
            }
        }
    }

    /// Certificate rotation: when the files of the current configuration
    /// changed, rebuild TLS from that configuration (the config source is
    /// not read again) and publish it as a new snapshot.
    pub(crate) fn check_tls(&mut self, publish: &mut Publish) {
        let Some(current) = self.current.clone() else {
            return;
        };
        let fingerprint = tls_fingerprint(&current.config);
        if fingerprint == current.tls.fingerprint || Some(fingerprint) == self.failed_tls {
            return;
        }
        match build_tls(&current.config) {
            Ok(tls) => {
                self.epoch += 1;
                self.failed_tls = None;
                let config = current.config.clone();
                let snapshot = Snapshot::new(self.epoch, current.source.clone(), config, tls);
                self.current = Some(snapshot.clone());
                info!(
                    epoch = snapshot.epoch,
                    "TLS files changed, new certificates in use"
                );
                publish(snapshot);
            }
            Err(errors) => {
                // Files are often replaced one at a time (certificate, then
                // key); the next change is tried again.
                self.failed_tls = Some(fingerprint);
                let errors = errors.to_string().replace('\n', "; ");
                error!(running_epoch = current.epoch, %errors, "TLS files changed but cannot be used, keeping the running certificates");
            }
        }
    }
}
