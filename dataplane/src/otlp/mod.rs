//! Pushes the same metrics as `/metrics` to an OpenTelemetry collector over
//! OTLP/HTTP with protobuf bodies, configured by the standard
//! `OTEL_EXPORTER_OTLP_*` variables and off unless an endpoint is set.
//!
//! Why opentelemetry-proto + prost + ureq rather than the OpenTelemetry
//! SDK: the metrics are already aggregated (shard snapshots summed at
//! export time, the rest in prometheus atomics), so the SDK's instruments
//! and readers would only duplicate that work; and its OTLP/HTTP exporter
//! brings an HTTP stack built for an async runtime (reqwest, hyper) that
//! this process otherwise does without. Encoding the generated prost
//! messages and posting them with the blocking ureq client from one
//! non-shard thread is all OTLP/HTTP needs.

pub mod encode;
mod env;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{RecvTimeoutError, Sender};
use prost::Message;
use tracing::{info, warn};

pub use env::OtlpConfig;

use crate::metrics::MetricsHub;
use encode::Times;

pub struct OtlpExporter {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

fn unix_nanos() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

impl OtlpExporter {
    /// Exports every `config.interval` from a new thread, and once more
    /// when stopped so the last counts of a draining gateway are sent.
    pub fn start(
        config: OtlpConfig,
        hub: Arc<MetricsHub>,
        on_start: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<OtlpExporter> {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(1);
        let started = unix_nanos();
        // Never log the headers: they usually carry credentials.
        info!(endpoint = %config.endpoint_for_logs(), interval_ms = config.interval.as_millis() as u64, "exporting metrics over OTLP/HTTP");
        let thread = std::thread::Builder::new()
            .name("sluice-otlp".into())
            .spawn(move || {
                on_start();
                let mut pusher = Pusher::new(config, hub, started);
                while let Err(RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(pusher.config.interval)
                {
                    pusher.export();
                }
                pusher.export();
            })?;
        Ok(OtlpExporter { stop, thread })
    }

    pub fn stop(self) {
        let _ = self.stop.try_send(());
        let _ = self.thread.join();
    }
}

struct Pusher {
    config: OtlpConfig,
    hub: Arc<MetricsHub>,
    agent: ureq::Agent,
    started: u64,
    failing: bool,
}

impl Pusher {
    fn new(config: OtlpConfig, hub: Arc<MetricsHub>, started: u64) -> Self {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .timeout_global(Some(config.timeout))
                .build(),
        );
        Pusher {
            config,
            hub,
            agent,
            started,
            failing: false,
        }
    }

    fn export(&mut self) {
        let times = Times {
            start: self.started,
            now: unix_nanos(),
        };
        let request = encode::request(&self.hub.gather(), &self.config.resource, times);
        let body = request.encode_to_vec();
        let mut post = self
            .agent
            .post(&self.config.endpoint)
            .header("Content-Type", "application/x-protobuf");
        for (name, value) in &self.config.headers {
            post = post.header(name.as_str(), value.as_str());
        }
        match post.send(&body[..]) {
            Ok(_) if self.failing => {
                self.failing = false;
                info!(endpoint = %self.config.endpoint_for_logs(), "OTLP metrics export works again");
            }
            Ok(_) => {}
            // Logged once per outage, not at every interval.
            Err(e) if !self.failing => {
                self.failing = true;
                // An error may quote the URL, credentials and all.
                let endpoint = self.config.endpoint_for_logs();
                let error = e.to_string().replace(&self.config.endpoint, &endpoint);
                warn!(%endpoint, %error, "OTLP metrics export failed; retrying every interval");
            }
            Err(_) => {}
        }
    }
}

/// The shortest export interval accepted, so that a typo in
/// `OTEL_METRIC_EXPORT_INTERVAL` cannot make the thread spin.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
