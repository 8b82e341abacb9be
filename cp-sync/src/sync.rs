//! The sync thread: the only place configuration I/O happens. It fetches,
//! validates, numbers and publishes snapshots; shards only ever receive
//! finished `Arc<Snapshot>`s and never wait on this thread.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use tracing::{error, info};

use crate::config::ConfigErrors;
use crate::snapshot::Snapshot;
use crate::source::ConfigSource;

/// Receives every accepted snapshot. The data plane fans it out to its shards
/// with non-blocking sends.
pub type Publish = Box<dyn FnMut(Arc<Snapshot>) + Send>;

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
}

impl ConfigSync {
    pub fn new(source: Box<dyn ConfigSource>) -> Self {
        ConfigSync {
            source,
            epoch: 0,
            current: None,
        }
    }

    /// Fetches once. On success the new snapshot becomes current; on failure
    /// the current one (if any) stays and the errors are returned.
    pub fn load(&mut self) -> Result<Arc<Snapshot>, ConfigErrors> {
        let config = self.source.fetch()?;
        self.epoch += 1;
        let snapshot = Snapshot::new(self.epoch, self.source.describe(), config);
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
        while let Ok(command) = commands.recv() {
            match command {
                Command::Stop => break,
                Command::Reload => self.reload(&mut publish),
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
}
