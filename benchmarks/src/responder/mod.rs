//! `responder`: a minimal built-in Kafka responder. It is NOT Kafka: it
//! stores nothing, answers Fetch with the same pre-built batches every
//! time, and exists only to show what the tool and a gateway can do when
//! the broker costs nothing. Every line it prints says so.

mod answers;
mod connection;
mod fetch;
mod records;

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use glommio::net::TcpListener;

use crate::cli::ResponderArgs;
use crate::error::BenchError;
use crate::placement;

pub use records::FetchTemplate;

/// Prefix of every line the responder prints.
pub const LABEL: &str = "sluice-bench responder (not Kafka)";

pub struct Config {
    pub bind_host: String,
    pub base_port: u16,
    pub brokers: usize,
    pub node_id_base: i32,
    pub advertised_host: String,
    pub partitions: i32,
    pub fetch: FetchTemplate,
    pub quiet: bool,
}

impl Config {
    pub fn from_args(args: &ResponderArgs) -> Result<Config, BenchError> {
        let (host, port) = args.listen.rsplit_once(':').ok_or_else(|| {
            BenchError::Usage(format!("--listen {}: expected HOST:PORT", args.listen))
        })?;
        let base_port: u16 = port
            .parse()
            .map_err(|_| BenchError::Usage(format!("--listen {}: bad port", args.listen)))?;
        if base_port as usize + args.brokers - 1 > u16::MAX as usize {
            return Err(BenchError::Usage(format!(
                "--brokers {} from port {base_port} runs past port 65535",
                args.brokers
            )));
        }
        let bind_host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let advertised_host =
            args.advertised_host
                .clone()
                .unwrap_or_else(|| match bind_host.as_str() {
                    "0.0.0.0" | "::" => "127.0.0.1".to_string(),
                    other => other.to_string(),
                });
        let fetch = FetchTemplate::build(
            args.fetch_bytes as usize,
            args.record_size,
            args.records_per_batch,
        )
        .map_err(|e| BenchError::Setup(format!("{LABEL}: cannot build Fetch batches: {e}")))?;
        Ok(Config {
            bind_host,
            base_port,
            brokers: args.brokers,
            node_id_base: args.node_id_base,
            advertised_host,
            partitions: args.partitions,
            fetch,
            quiet: args.quiet,
        })
    }

    pub fn port_of(&self, index: usize) -> u16 {
        self.base_port + index as u16
    }

    /// The node served on `port`, if it is one of ours.
    pub fn node_on(&self, port: u16) -> Option<i32> {
        let index = port.checked_sub(self.base_port)? as usize;
        (index < self.brokers).then(|| self.node_id_base + index as i32)
    }

    /// Partitions are led round-robin by the brokers.
    pub fn leader_of(&self, partition: i32) -> i32 {
        self.node_id_base + partition.rem_euclid(self.brokers as i32)
    }

    fn bind_addr(&self, index: usize) -> Result<SocketAddr, String> {
        let port = self.port_of(index);
        (self.bind_host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("{}:{port}: {e}", self.bind_host))?
            .next()
            .ok_or_else(|| format!("{}:{port} resolves to nothing", self.bind_host))
    }
}

pub fn run(args: &ResponderArgs) -> Result<(), BenchError> {
    let config = Arc::new(Config::from_args(args)?);
    let plan = placement::plan_from_args(&args.placement)?;
    let (ready_tx, ready_rx) = crossbeam_channel::unbounded::<Result<(), String>>();
    let shared = config.clone();
    let handles = placement::spawn_executors(&plan, "sluice-bench-responder", move |index| {
        serve_all(index, shared, ready_tx)
    })?;
    for ready in ready_rx.iter().take(plan.len()) {
        ready.map_err(|e| BenchError::Setup(format!("{LABEL}: cannot listen on {e}")))?;
    }
    announce(&config, plan.len());
    match args.duration {
        Some(duration) => {
            std::thread::sleep(duration);
            eprintln!("{LABEL}: stopping after {duration:?}");
            Ok(())
        }
        None => placement::join_executors(handles).map(|_| ()),
    }
}

fn announce(config: &Config, executors: usize) {
    let ports: Vec<String> = (0..config.brokers)
        .map(|i| {
            format!(
                "{}:{} (node {})",
                config.bind_host,
                config.port_of(i),
                config.node_id_base + i as i32
            )
        })
        .collect();
    eprintln!(
        "{LABEL}: listening on {} with {executors} executor(s); advertising host {}, \
         {} partitions per topic, Fetch answers {} record-batch bytes per partition",
        ports.join(", "),
        config.advertised_host,
        config.partitions,
        config.fetch.full_len(),
    );
}

async fn serve_all(
    index: usize,
    config: Arc<Config>,
    ready: crossbeam_channel::Sender<Result<(), String>>,
) {
    let mut listeners = Vec::new();
    for broker in 0..config.brokers {
        let bound = config
            .bind_addr(broker)
            .and_then(|addr| TcpListener::bind(addr).map_err(|e| format!("{addr}: {e}")));
        match bound {
            Ok(listener) => listeners.push((broker, listener)),
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        }
    }
    let _ = ready.send(Ok(()));
    let state = connection::ExecutorState::new(index);
    let tasks: Vec<_> = listeners
        .into_iter()
        .map(|(broker, listener)| {
            glommio::spawn_local(accept_loop(
                listener,
                config.port_of(broker),
                config.clone(),
                state.clone(),
            ))
        })
        .collect();
    for task in tasks {
        task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    port: u16,
    config: Arc<Config>,
    state: connection::SharedState,
) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                glommio::spawn_local(connection::serve(
                    stream,
                    port,
                    config.clone(),
                    state.clone(),
                ))
                .detach();
            }
            Err(e) => {
                eprintln!("{LABEL}: accept on port {port} failed: {e}");
                glommio::timer::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
