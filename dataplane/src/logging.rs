//! Log output: `RUST_LOG`-style filters (`SLUICE_LOG` wins), default `info`,
//! to stderr as text (the default; colours only when stderr is a terminal,
//! so files and journald get plain text), logfmt or JSON.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::metrics::ConfigErrorCounter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (tracing's default format).
    #[default]
    Text,
    /// `key=value` pairs, one event per line.
    Logfmt,
    /// One JSON object per line, event fields at the top level.
    Json,
}

pub fn init(format: LogFormat) {
    let filter = std::env::var("SLUICE_LOG")
        .ok()
        .map(EnvFilter::new)
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    // The counter has its own filter, so configuration rejections are
    // counted even when the log filter hides them.
    let _ = tracing_subscriber::registry()
        .with(output(format).with_filter(filter))
        .with(ConfigErrorCounter.with_filter(ConfigErrorCounter::filter()))
        .try_init();
}

fn output<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    match format {
        LogFormat::Text => {
            let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let layer = tracing_subscriber::fmt::layer().with_ansi(ansi);
            Box::new(layer.with_writer(std::io::stderr))
        }
        LogFormat::Logfmt => Box::new(
            tracing_logfmt::builder()
                .layer()
                .with_writer(std::io::stderr),
        ),
        LogFormat::Json => {
            let layer = tracing_subscriber::fmt::layer().json().flatten_event(true);
            Box::new(layer.with_writer(std::io::stderr))
        }
    }
}
