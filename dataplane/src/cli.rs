//! Command-line interface of the `sluice` binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use cp_sync::scram::{ScramAlgorithm, ScramVerifier};

use crate::config_source::SourceArgs;
use crate::conn_limits::{parse_ip_overrides, IpOverrides, NodeLimits};
use crate::cpus::parse_cpu_list;
use crate::gateway::{self, RunOptions};
use crate::logging::LogFormat;
use crate::observability::ObservabilityArgs;
use crate::shard::ShardSettings;

#[derive(Parser, Debug)]
#[command(name = "sluice", version, about = "Kafka-protocol event gateway")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the gateway. Boxed: its flags make it far larger than `Validate`.
    Run(Box<RunArgs>),
    /// Check a configuration file and print every error in it.
    Validate {
        /// YAML or JSON configuration file.
        file: PathBuf,
    },
    /// Read a password from stdin and print a salted SCRAM verifier for
    /// it (salt, iterations, stored and server key), to configure a
    /// terminated SCRAM user without keeping the password.
    ScramVerifier {
        /// sha256 (SCRAM-SHA-256) or sha512 (SCRAM-SHA-512).
        #[arg(long, value_parser = parse_scram_algorithm)]
        algorithm: ScramAlgorithm,
        /// PBKDF2 iterations (Kafka's minimum is 4096).
        #[arg(long, default_value_t = 4096)]
        iterations: u32,
    },
}

fn parse_scram_algorithm(value: &str) -> Result<ScramAlgorithm, String> {
    match value {
        "sha256" => Ok(ScramAlgorithm::Sha256),
        "sha512" => Ok(ScramAlgorithm::Sha512),
        _ => Err(format!("{value:?}: expected sha256 or sha512")),
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Number of shards (executor threads). Default: one per CPU the process may use.
    #[arg(long, env = "SLUICE_SHARDS")]
    pub shards: Option<usize>,
    /// CPUs to pin shards to, e.g. `0,2-3`: shard i runs on the i-th listed CPU.
    #[arg(long, env = "SLUICE_CPUS", value_parser = parse_cpu_list)]
    pub cpus: Option<CpuList>,
    /// Do not pin shards to CPUs.
    #[arg(long, env = "SLUICE_NO_PIN")]
    pub no_pin: bool,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish, in milliseconds.
    #[arg(long, default_value_t = 10_000, env = "SLUICE_DRAIN_TIMEOUT_MS")]
    pub drain_timeout_ms: u64,
    /// Largest Kafka frame accepted from a client or a broker, in bytes.
    #[arg(long, default_value_t = sluice_wire::frame::DEFAULT_MAX_FRAME, env = "SLUICE_MAX_FRAME_BYTES")]
    pub max_frame_bytes: usize,
    /// Requests one client connection may have in flight before the gateway stops reading from it.
    #[arg(long, default_value_t = 1024, env = "SLUICE_MAX_INFLIGHT")]
    pub max_inflight: usize,
    /// Client connections one shard accepts; further ones are closed at once.
    #[arg(
        long,
        default_value_t = 100_000,
        env = "SLUICE_MAX_CONNECTIONS_PER_SHARD"
    )]
    pub max_connections_per_shard: usize,
    /// Client connections this node serves at once, over every listener;
    /// further ones are closed at once. Default: no limit.
    #[arg(long, env = "SLUICE_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: Option<u64>,
    /// Client connections one IP address may hold on this node, over every
    /// listener. Default: no limit. 0 admits only the overridden addresses.
    #[arg(long, env = "SLUICE_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<usize>,
    /// Per-address limits replacing --max-connections-per-ip, as
    /// `ADDR=N,ADDR=N` (0 refuses the address).
    #[arg(long, env = "SLUICE_MAX_CONNECTIONS_PER_IP_OVERRIDES", value_parser = parse_ip_overrides)]
    pub max_connections_per_ip_overrides: Option<IpOverrides>,
    /// New client connections this node accepts per second, over every
    /// listener; further ones are closed at once. Default: no limit.
    #[arg(long, env = "SLUICE_MAX_CONNECTION_CREATION_RATE", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connection_creation_rate: Option<u32>,
    /// Size of each socket read, in bytes.
    #[arg(long, default_value_t = 64 * 1024, env = "SLUICE_READ_CHUNK_BYTES")]
    pub read_chunk_bytes: usize,
    /// Responses at least this large are forwarded while they arrive
    /// instead of whole; 0 turns that off.
    #[arg(long, default_value_t = 128 * 1024, env = "SLUICE_CUT_THROUGH_BYTES")]
    pub cut_through_bytes: usize,
    /// How long a client on a TLS listener has to complete its TLS
    /// handshake, in milliseconds; 0 turns the limit off.
    #[arg(long, default_value_t = 10_000, env = "SLUICE_HANDSHAKE_TIMEOUT_MS")]
    pub handshake_timeout_ms: u64,
    /// Timeout for connecting to a backend broker, in milliseconds.
    #[arg(long, default_value_t = 5_000, env = "SLUICE_CONNECT_TIMEOUT_MS")]
    pub connect_timeout_ms: u64,
    /// How long a connection to an unknown broker waits for discovery, in milliseconds.
    #[arg(long, default_value_t = 5_000, env = "SLUICE_BROKER_WAIT_MS")]
    pub broker_wait_ms: u64,
    /// How long a broker may take to answer beyond the wait the client
    /// allowed it (Produce timeout_ms, Fetch max_wait_ms, JoinGroup
    /// rebalance_timeout_ms), in milliseconds; past it the connection
    /// closes with reason upstream_timeout.
    #[arg(
        long,
        default_value_t = 30_000,
        env = "SLUICE_REQUEST_TIMEOUT_MARGIN_MS"
    )]
    pub request_timeout_margin_ms: u64,
    /// How long sluice waits before answering a failed client login (then
    /// it closes the connection), so that guessing passwords is slow.
    #[arg(long, default_value_t = 100, env = "SLUICE_AUTH_FAILURE_DELAY_MS")]
    pub auth_failure_delay_ms: u64,
    /// Bytes of client frames the node holds at once, split evenly over
    /// the shards; a frame that does not fit waits, one larger than a
    /// shard's share is refused.
    #[arg(long, default_value_t = 256 << 20, env = "SLUICE_FRAME_BUDGET_BYTES")]
    pub frame_budget_bytes: usize,
    #[command(flatten)]
    pub observability: ObservabilityArgs,
}

/// A parsed `--cpus` value (a newtype so clap treats it as one value).
pub type CpuList = Vec<usize>;

impl Cli {
    /// Only `run` logs through tracing; `validate` prints its own report.
    pub fn log_format(&self) -> LogFormat {
        match &self.command {
            Command::Run(args) => args.observability.log_format,
            Command::Validate { .. } | Command::ScramVerifier { .. } => LogFormat::Text,
        }
    }
}

pub fn main_with(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate { file } => validate(&file),
        Command::ScramVerifier {
            algorithm,
            iterations,
        } => scram_verifier(algorithm, iterations),
        Command::Run(args) => match run_options(*args).and_then(gateway::run) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("sluice: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn validate(file: &std::path::Path) -> ExitCode {
    // The TLS files are read too, so a missing or mismatched key shows up
    // here rather than at start.
    let checked = cp_sync::config::load_config_file(file)
        .and_then(|config| cp_sync::tls::build_tls(&config).map(|_| config));
    match checked {
        Ok(_) => {
            println!("{}: ok", file.display());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{}: {} error(s)", file.display(), errors.len());
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

/// The password is the first line of stdin (a trailing newline is not
/// part of it), so it never appears in a command line or shell history.
fn scram_verifier(algorithm: ScramAlgorithm, iterations: u32) -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("sluice: cannot read the password from stdin: {e}");
        return ExitCode::FAILURE;
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    match ScramVerifier::generate(algorithm, password, iterations) {
        Ok(verifier) => {
            print!("{}", verifier.to_yaml());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sluice: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_options(args: RunArgs) -> anyhow::Result<RunOptions> {
    let limits = node_limits(&args)?;
    let settings = ShardSettings {
        max_frame: args.max_frame_bytes,
        max_inflight: args.max_inflight.max(1),
        max_connections: args.max_connections_per_shard,
        read_chunk: args.read_chunk_bytes.max(4096),
        cut_through: match args.cut_through_bytes {
            0 => usize::MAX,
            n => n,
        },
        handshake_timeout: match args.handshake_timeout_ms {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        },
        connect_timeout: Duration::from_millis(args.connect_timeout_ms),
        broker_wait: Duration::from_millis(args.broker_wait_ms),
        metrics: args.observability.metrics,
        // Split over the shards once their number is known.
        frame_budget: args.frame_budget_bytes,
        request_margin: Duration::from_millis(args.request_timeout_margin_ms),
        auth_failure_delay: Duration::from_millis(args.auth_failure_delay_ms),
    };
    Ok(RunOptions {
        origin: args.source.origin(),
        shards: args.shards,
        cpus: args.cpus,
        no_pin: args.no_pin,
        drain_timeout: Duration::from_millis(args.drain_timeout_ms),
        settings,
        limits,
        observability: args.observability.options(),
    })
}

fn node_limits(args: &RunArgs) -> anyhow::Result<NodeLimits> {
    let overrides = args.max_connections_per_ip_overrides.clone();
    let per_ip_overrides = overrides.unwrap_or_default();
    if args.max_connections_per_ip == Some(0) && per_ip_overrides.is_empty() {
        anyhow::bail!(
            "--max-connections-per-ip 0 admits only the addresses in \
             --max-connections-per-ip-overrides, and there are none"
        );
    }
    Ok(NodeLimits {
        max_connections: (args.max_connections).map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        max_connections_per_ip: args.max_connections_per_ip,
        per_ip_overrides,
        creation_rate: args.max_connection_creation_rate,
    })
}
