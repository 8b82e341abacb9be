//! The sync thread: the only place configuration I/O happens. It fetches,
//! validates, builds the TLS configurations, numbers and publishes
//! snapshots; shards only ever receive finished `Arc<Snapshot>`s and never
//! wait on this thread.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use tracing::{error, info};

use crate::config::{Config, ConfigErrors};
use crate::credentials::{build_credentials, Credentials};
use crate::snapshot::Snapshot;
use crate::source::ConfigSource;
use crate::tls::{build_tls, tls_fingerprint, TlsMaterials};

/// Receives every accepted snapshot. The data plane fans it out to its shards
/// with non-blocking sends.
pub type Publish = Box<dyn FnMut(Arc<Snapshot>) + Send>;

/// How often the sync thread re-reads certificate files by default.
pub const DEFAULT_TLS_WATCH_INTERVAL: Duration = Duration::from_secs(5);

pub(crate) enum Command {
    Reload,
    Stop,
    /// A configuration fetched by another thread (the control-plane
    /// poller), already parsed and validated, to build and publish.
    Offer(Box<Offer>),
}

pub(crate) struct Offer {
    config: Config,
    /// Becomes the snapshot's `source`.
    origin: String,
    /// The new epoch, or why the configuration was not used.
    reply: Sender<Result<u64, ConfigErrors>>,
}

/// The sync thread has stopped; nothing more will be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stopped;

/// How a companion thread (the control-plane poller) hands configurations
/// to the sync thread and learns that it has stopped.
pub(crate) struct OfferSink {
    commands: Sender<Command>,
    /// Never sent on; disconnected when the sync thread ends.
    done: Receiver<()>,
}

impl OfferSink {
    /// Offers `config` and waits for the verdict: the new epoch, or the
    /// errors that kept it from replacing the running configuration.
    pub(crate) fn offer(
        &self,
        config: Config,
        origin: String,
    ) -> Result<Result<u64, ConfigErrors>, Stopped> {
        let (reply, verdict) = crossbeam_channel::bounded(1);
        let offer = Offer {
            config,
            origin,
            reply,
        };
        self.commands
            .send(Command::Offer(Box::new(offer)))
            .map_err(|_| Stopped)?;
        // A sync thread that stops drops the offer unanswered.
        verdict.recv().map_err(|_| Stopped)
    }

    /// Sleeps for `duration`, or less when the sync thread stops; false
    /// once it has stopped.
    pub(crate) fn wait(&self, duration: Duration) -> bool {
        matches!(
            self.done.recv_timeout(duration),
            Err(RecvTimeoutError::Timeout)
        )
    }

    pub(crate) fn stopped(&self) -> bool {
        matches!(self.done.try_recv(), Err(TryRecvError::Disconnected))
    }
}

/// Started by [`ConfigSync::spawn`] next to the sync thread, e.g. the
/// control-plane poller.
pub(crate) type Companion = Box<dyn FnOnce(OfferSink) -> std::io::Result<()> + Send>;

/// Lets other threads (signal handling, the control-plane poller) ask the
/// sync thread to act.
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
    companion: Option<Companion>,
}

/// What it serves and from where; no configuration content.
impl std::fmt::Debug for ConfigSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSync")
            .field("source", &self.source.describe())
            .field("epoch", &self.epoch)
            .field("tls_watch", &self.tls_watch)
            .field("companion", &self.companion.is_some())
            .finish_non_exhaustive()
    }
}

impl ConfigSync {
    pub fn new(source: Box<dyn ConfigSource>) -> Self {
        ConfigSync {
            source,
            epoch: 0,
            current: None,
            tls_watch: Some(DEFAULT_TLS_WATCH_INTERVAL),
            failed_tls: None,
            companion: None,
        }
    }

    /// A thread to start with the sync thread that feeds it configurations
    /// through [`Command::Offer`].
    pub(crate) fn with_companion(mut self, companion: Companion) -> Self {
        self.companion = Some(companion);
        self
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
        let (tls, credentials) = build_materials(&config)?;
        self.epoch += 1;
        self.failed_tls = None;
        let snapshot = Snapshot::new(self.epoch, self.source.describe(), config, tls, credentials);
        self.current = Some(snapshot.clone());
        Ok(snapshot)
    }

    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.clone()
    }

    /// Starts the sync thread (and its companion, if any: the
    /// control-plane poller). The first snapshot must already have been
    /// loaded and published by the caller, so a node never starts without a
    /// valid configuration.
    pub fn spawn(mut self, publish: Publish) -> std::io::Result<(SyncHandle, JoinHandle<()>)> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(0);
        if let Some(start) = self.companion.take() {
            // If the sync thread fails to start below, the sink's channels
            // disconnect and the companion ends by itself.
            start(OfferSink {
                commands: tx.clone(),
                done: done_rx,
            })?;
        }
        let handle = std::thread::Builder::new()
            .name("sluice-cp-sync".into())
            .spawn(move || {
                let _done = done_tx;
                self.run(rx, publish)
            })?;
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
                Ok(Command::Offer(offer)) => self.offer(*offer, &mut publish),
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

    /// Builds and publishes a configuration another thread fetched; the
    /// running one stays when its TLS files cannot be used.
    fn offer(&mut self, offer: Offer, publish: &mut Publish) {
        let Offer {
            config,
            origin,
            reply,
        } = offer;
        let verdict = match build_materials(&config) {
            Ok((tls, credentials)) => {
                self.epoch += 1;
                self.failed_tls = None;
                self.source.accepted(&config, &origin);
                let snapshot = Snapshot::new(self.epoch, origin, config, tls, credentials);
                self.current = Some(snapshot.clone());
                info!(epoch = snapshot.epoch, source = %snapshot.source, "configuration applied");
                publish(snapshot);
                Ok(self.epoch)
            }
            Err(errors) => {
                let running = self.current.as_ref().map(|s| s.epoch).unwrap_or(0);
                let lines = errors.to_string().replace('\n', "; ");
                error!(source = %origin, running_epoch = running, errors = %lines, "configuration rejected, keeping the running one");
                Err(errors)
            }
        };
        let _ = reply.send(verdict);
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
                let credentials = current.credentials.clone();
                let source = current.source.clone();
                let snapshot = Snapshot::new(self.epoch, source, config, tls, credentials);
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

/// What a configuration needs from this node's files and environment: TLS
/// configurations and resolved secrets.
fn build_materials(config: &Config) -> Result<(TlsMaterials, Credentials), ConfigErrors> {
    let tls = build_tls(config)?;
    let credentials = build_credentials(config, &|name| std::env::var(name).ok())?;
    Ok((tls, credentials))
}
