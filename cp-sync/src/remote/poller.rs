//! The control-plane poller: its own thread, blocking on long polls so the
//! sync thread never does. Each new version is parsed and validated here
//! and offered to the sync thread, which builds TLS and publishes; the
//! verdict is cached (when accepted) and reported back.

use std::path::PathBuf;
use std::time::Duration;

use tracing::{debug, error, info, warn};

use super::cache;
use super::http::{CpClient, Poll};
use crate::config::{parse_config_str, Config, ConfigError, ConfigFormat};
use crate::sync::OfferSink;
use crate::tls::tls_fingerprint;

/// First pause after a failed poll; doubles up to the poll wait (at most
/// 30 s), so a control plane that comes back is noticed within one wait.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const MIN_WAIT: Duration = Duration::from_millis(100);

/// A version the sync thread refused (its TLS files could not be used). It
/// is offered again when those files change, so installing a missing
/// certificate heals the node without a new version.
struct Rejected {
    version: u64,
    config: Config,
    fingerprint: u64,
}

pub(crate) struct Poller {
    client: CpClient,
    cache_file: PathBuf,
    wait: Duration,
    /// The control-plane version the node runs.
    applied: u64,
    /// The newest version received, accepted or not: polls wait on it, so
    /// a refused version is not sent again and again.
    seen: u64,
    rejected: Option<Rejected>,
    /// Errors of the last attempt, until the control plane has them.
    pending_report: Option<Vec<ConfigError>>,
}

impl Poller {
    pub(crate) fn new(client: CpClient, cache_file: PathBuf, wait: Duration, applied: u64) -> Self {
        Poller {
            client,
            cache_file,
            // A zero wait would turn the long poll into a busy loop.
            wait: wait.max(MIN_WAIT),
            applied,
            seen: applied,
            rejected: None,
            pending_report: Some(Vec::new()),
        }
    }

    /// Startup saw a newer version than it could run.
    pub(crate) fn with_refused(
        mut self,
        version: u64,
        config: Option<Config>,
        errors: Vec<ConfigError>,
    ) -> Self {
        self.seen = version;
        self.rejected = config.map(|config| Rejected {
            version,
            fingerprint: tls_fingerprint(&config),
            config,
        });
        self.pending_report = Some(errors);
        self
    }

    pub(crate) fn start(self, sink: OfferSink) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("sluice-cp-poll".into())
            .spawn(move || self.run(sink))
            .map(drop)
    }

    fn run(mut self, sink: OfferSink) {
        let mut backoff = FIRST_BACKOFF;
        let mut failing = false;
        while !sink.stopped() {
            self.flush_report();
            let alive = match self
                .client
                .poll(Some(self.seen), Some(self.applied), self.wait)
            {
                Ok(answer) => {
                    if failing {
                        info!(control_plane = %self.client.url(), "control plane reachable again");
                    }
                    (failing, backoff) = (false, FIRST_BACKOFF);
                    self.handle(answer, &sink)
                }
                Err(message) => {
                    if failing {
                        debug!(error = %message, "control plane still unreachable");
                    } else {
                        warn!(error = %message, running_version = self.applied, "control plane unreachable, keeping the running configuration; retrying");
                    }
                    failing = true;
                    let pause = backoff;
                    backoff = (backoff * 2).min(self.wait.clamp(FIRST_BACKOFF, MAX_BACKOFF));
                    sink.wait(pause)
                }
            };
            if !alive {
                break;
            }
        }
        debug!("control-plane poller stopped");
    }

    /// False once the sync thread has stopped.
    fn handle(&mut self, answer: Poll, sink: &OfferSink) -> bool {
        match answer {
            Poll::Changed { version, config } => self.received(version, &config, sink),
            Poll::Unchanged => self.retry_refused(sink),
        }
    }

    fn received(&mut self, version: u64, text: &str, sink: &OfferSink) -> bool {
        self.seen = version;
        self.rejected = None;
        match parse_config_str(text, ConfigFormat::Json) {
            Ok(config) => self.offer(version, config, sink),
            Err(errors) => {
                let lines = errors.to_string().replace('\n', "; ");
                error!(version, errors = %lines, "control plane sent a configuration this node cannot use, keeping the running one");
                self.pending_report = Some(errors.into_vec());
                true
            }
        }
    }

    fn retry_refused(&mut self, sink: &OfferSink) -> bool {
        let Some(rejected) = &self.rejected else {
            return true;
        };
        if tls_fingerprint(&rejected.config) == rejected.fingerprint {
            return true;
        }
        info!(
            version = rejected.version,
            "files of a refused configuration changed, trying it again"
        );
        let (version, config) = (rejected.version, rejected.config.clone());
        self.offer(version, config, sink)
    }

    fn offer(&mut self, version: u64, config: Config, sink: &OfferSink) -> bool {
        let origin = format!("control plane {} version {version}", self.client.url());
        let fingerprint = tls_fingerprint(&config);
        let Ok(verdict) = sink.offer(config.clone(), origin) else {
            return false;
        };
        match verdict {
            Ok(_epoch) => {
                self.applied = version;
                self.rejected = None;
                self.pending_report = Some(Vec::new());
                if let Err(e) = cache::write(&self.cache_file, version, self.client.url(), &config)
                {
                    warn!(cache = %self.cache_file.display(), error = %e, "cannot write the configuration cache; a restart while the control plane is down would not have this version");
                }
            }
            Err(errors) => {
                self.rejected = Some(Rejected {
                    version,
                    config,
                    fingerprint,
                });
                self.pending_report = Some(errors.into_vec());
            }
        }
        true
    }

    fn flush_report(&mut self) {
        let Some(errors) = &self.pending_report else {
            return;
        };
        match self.client.report(Some(self.applied), errors) {
            Ok(()) => self.pending_report = None,
            Err(message) => debug!(error = %message, "report not delivered, will retry"),
        }
    }
}
