//! Command line: every subcommand, its flags and their validation. Values
//! that cannot work (a rate of 0, an empty record, no connections) are
//! refused here with a message that says what would.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Records are capped at Kafka's default frame ceiling.
pub const MAX_RECORD_SIZE: u64 = 100 * 1024 * 1024;

#[derive(Debug, Parser)]
#[command(
    name = "sluice-bench",
    version,
    about = "Kafka-protocol load tool: measures sluice against direct Kafka"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Produce record batches to every partition leader of a topic.
    Produce(Single<ProduceArgs>),
    /// Fetch a topic (filled by `produce`) from offset 0, counting records.
    Consume(Single<ConsumeArgs>),
    /// Produce at a rate and consume at once: per-record end-to-end latency.
    E2e(Single<E2eArgs>),
    /// Pipelined small requests (ApiVersions or Metadata): round trips/s.
    Ping(Single<PingArgs>),
    /// Memory per idle connection of a process, and a connect storm.
    Connections(Single<ConnectionsArgs>),
    /// Full TLS handshakes per second (connect, handshake, ApiVersions, close).
    Handshakes(Single<HandshakesArgs>),
    /// Run one workload against several targets, interleaved over rounds.
    Compare(CompareArgs),
    /// A minimal built-in Kafka responder (not Kafka) answering at memory speed.
    Responder(ResponderArgs),
    /// A plain TCP relay: the cost of forwarding bytes with no parsing.
    Relay(RelayArgs),
    /// SASL logins per second (connect, log in, close) and their CPU cost.
    Logins(LoginsArgs),
}

/// A workload run against one target.
#[derive(Debug, Args)]
pub struct Single<W: Args> {
    /// Bootstrap address of the cluster or gateway, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub bootstrap: String,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub placement: PlacementArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(flatten)]
    pub workload: W,
}

/// TLS to the target. Without --tls-ca the tool speaks plaintext.
#[derive(Debug, Clone, Default, Args)]
pub struct TlsArgs {
    /// Speak TLS, trusting the CA certificate(s) in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// TLS server name to send and verify (default: the IP address
    /// connected to, which the certificate must then list).
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// Client certificate chain (PEM) for mutual TLS; with --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct PlacementArgs {
    /// CPUs to run executors on, one executor per CPU, e.g. 0,2-3.
    #[arg(long, value_name = "LIST", value_parser = parse_cpu_list, conflicts_with = "threads")]
    pub cpus: Option<CpuList>,
    /// Number of executors (pinned to the first N CPUs unless --no-pin).
    /// Without --cpus or --threads: one unpinned executor.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub threads: Option<usize>,
    /// Do not pin executors to CPUs.
    #[arg(long)]
    pub no_pin: bool,
}

#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// No progress line on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write the summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct TimingArgs {
    /// Seconds measured (after the warmup).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_duration)]
    pub duration: Duration,
    /// Seconds run before measuring; connections open during it.
    #[arg(long, value_name = "SECS", default_value = "2", value_parser = parse_warmup)]
    pub warmup: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct TopicArgs {
    #[arg(long, default_value = "sluice-bench")]
    pub topic: String,
    /// Create the topic with N partitions if it does not exist.
    #[arg(long, value_name = "N", value_parser = parse_partitions)]
    pub create_partitions: Option<i32>,
    /// Replication factor for --create-partitions.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_replication)]
    pub replication_factor: i16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    None,
    Lz4,
    Zstd,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Max,
    PerSec(f64),
}

#[derive(Debug, Clone, Args)]
pub struct ProducerArgs {
    /// Bytes of each record value.
    #[arg(long, value_name = "BYTES", default_value = "1024", value_parser = parse_record_size)]
    pub record_size: usize,
    /// Records in each batch (one batch per Produce request).
    #[arg(long, value_name = "N", default_value = "16", value_parser = parse_positive)]
    pub records_per_batch: usize,
    /// 0 (no response), 1 (leader) or -1/all (all in-sync replicas).
    #[arg(long, default_value = "-1", value_parser = parse_acks, allow_hyphen_values = true)]
    pub acks: i16,
    #[arg(long, value_enum, default_value = "none")]
    pub compression: CompressionArg,
    /// Connections per partition leader.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_positive)]
    pub connections: usize,
    /// Requests in flight per connection.
    #[arg(long, value_name = "N", default_value = "5", value_parser = parse_positive)]
    pub pipeline: usize,
    /// Records per second over all connections, or `max`.
    #[arg(long, value_name = "RECORDS_PER_SEC|max", default_value = "max", value_parser = parse_rate, allow_negative_numbers = true)]
    pub rate: Rate,
}

#[derive(Debug, Clone, Args)]
pub struct ProduceArgs {
    #[command(flatten)]
    pub topic: TopicArgs,
    #[command(flatten)]
    pub producer: ProducerArgs,
    #[command(flatten)]
    pub timing: TimingArgs,
}

#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// Fetch max_bytes: the most one response may carry.
    #[arg(long, value_name = "BYTES", default_value = "52428800", value_parser = parse_fetch_bytes)]
    pub max_bytes: i32,
    /// Fetch partition_max_bytes.
    #[arg(long, value_name = "BYTES", default_value = "1048576", value_parser = parse_fetch_bytes)]
    pub partition_max_bytes: i32,
    /// How long the broker may hold a Fetch that has no data yet.
    #[arg(long, value_name = "MS", default_value = "500", value_parser = parse_wait_ms)]
    pub max_wait_ms: i32,
}

#[derive(Debug, Clone, Args)]
pub struct ConsumeArgs {
    #[arg(long, default_value = "sluice-bench")]
    pub topic: String,
    /// Connections per partition leader (the leader's partitions are split
    /// among them; each keeps one Fetch in flight, as a consumer does).
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_positive)]
    pub connections: usize,
    #[command(flatten)]
    pub fetch: FetchArgs,
    /// At the end of a partition wait for new data instead of starting
    /// over from its first offset.
    #[arg(long)]
    pub no_rewind: bool,
    #[command(flatten)]
    pub timing: TimingArgs,
}

#[derive(Debug, Clone, Args)]
pub struct E2eArgs {
    #[command(flatten)]
    pub topic: TopicArgs,
    #[command(flatten)]
    pub producer: ProducerArgs,
    #[command(flatten)]
    pub fetch: FetchArgs,
    #[command(flatten)]
    pub timing: TimingArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PingApi {
    Apiversions,
    Metadata,
}

#[derive(Debug, Clone, Args)]
pub struct PingArgs {
    #[arg(long, value_enum, default_value = "apiversions")]
    pub api: PingApi,
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_positive)]
    pub connections: usize,
    /// Requests in flight per connection.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_positive)]
    pub pipeline: usize,
    #[command(flatten)]
    pub timing: TimingArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ConnectionsArgs {
    /// Idle connections to open and hold.
    #[arg(long, value_name = "N", default_value = "1000", value_parser = parse_positive)]
    pub connections: usize,
    /// The gateway's process id, whose VmRSS is read before and after.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Seconds to hold the connections before reading memory.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_warmup)]
    pub settle: Duration,
    /// Seconds of connect storm (connect, ApiVersions, close).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_duration)]
    pub duration: Duration,
    /// Connections the storm keeps opening at once.
    #[arg(long, value_name = "N", default_value = "16", value_parser = parse_positive)]
    pub storm_concurrency: usize,
    /// Skip the connect storm.
    #[arg(long)]
    pub no_storm: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HandshakesArgs {
    /// Handshake loops running at once (each: connect, full TLS handshake,
    /// one ApiVersions round trip, close).
    #[arg(long, value_name = "N", default_value = "16", value_parser = parse_positive)]
    pub connections: usize,
    #[command(flatten)]
    pub timing: TimingArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// One target, as shown in the value name; repeat. The first is the baseline.
    /// With --tls-ca, targets marked `tls` speak TLS (all of them when none
    /// is marked).
    #[arg(long = "target", value_name = "NAME=HOST:PORT[,pid=PID][,tls]", required = true, value_parser = parse_target)]
    pub targets: Vec<Target>,
    /// Rounds; each runs every target once, in the order given.
    #[arg(long, value_name = "N", default_value = "5", value_parser = parse_positive)]
    pub rounds: usize,
    /// Seconds of pause between runs.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_warmup)]
    pub pause: Duration,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub placement: PlacementArgs,
    #[command(flatten)]
    pub tls: TlsArgs,
    #[command(subcommand)]
    pub workload: CompareWorkload,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CompareWorkload {
    Produce(ProduceArgs),
    Consume(ConsumeArgs),
    Ping(PingArgs),
    Handshakes(HandshakesArgs),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub addr: String,
    pub pid: Option<u32>,
    /// Marked `tls`: uses the --tls-* flags.
    pub tls: bool,
}

#[derive(Debug, Args)]
pub struct ResponderArgs {
    /// First listening address; broker i listens on port+i.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub listen: String,
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_positive)]
    pub brokers: usize,
    /// Node id of the broker on the first port.
    #[arg(long, value_name = "ID", default_value = "1")]
    pub node_id_base: i32,
    /// Host written into Metadata (default: the --listen host, or
    /// 127.0.0.1 when that is a wildcard).
    #[arg(long, value_name = "HOST")]
    pub advertised_host: Option<String>,
    /// Partitions of every topic asked about.
    #[arg(long, value_name = "N", default_value = "6", value_parser = parse_partitions)]
    pub partitions: i32,
    /// Record-batch bytes answered per partition in each Fetch.
    #[arg(long, value_name = "BYTES", default_value = "1048576", value_parser = parse_fetch_bytes)]
    pub fetch_bytes: i32,
    /// Record value size of the Fetch batches.
    #[arg(long, value_name = "BYTES", default_value = "1024", value_parser = parse_record_size)]
    pub record_size: usize,
    /// Records per Fetch batch.
    #[arg(long, value_name = "N", default_value = "16", value_parser = parse_positive)]
    pub records_per_batch: usize,
    /// Stop after SECS (default: run until killed).
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    #[command(flatten)]
    pub placement: PlacementArgs,
    /// No log line per closed connection.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// First listening address.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub listen: String,
    /// First address relayed to; listen port+i goes to this port+i.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub to: String,
    /// Consecutive ports to relay.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_positive)]
    pub ports: usize,
    /// Stop after SECS (default: run until killed).
    #[arg(long, value_name = "SECS", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    #[command(flatten)]
    pub placement: PlacementArgs,
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn parse_positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number")),
    }
}

fn parse_secs(s: &str) -> Result<f64, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(0.0..=1e7).contains(&secs) {
        return Err(format!("{s} is not a usable number of seconds"));
    }
    Ok(secs)
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let secs = parse_secs(s)?;
    if secs == 0.0 {
        return Err("must be more than 0 seconds".to_string());
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn parse_warmup(s: &str) -> Result<Duration, String> {
    parse_secs(s).map(Duration::from_secs_f64)
}

pub fn parse_rate(s: &str) -> Result<Rate, String> {
    if s.eq_ignore_ascii_case("max") {
        return Ok(Rate::Max);
    }
    let rate: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is neither a number of records per second nor `max`"))?;
    if !rate.is_finite() || rate <= 0.0 {
        return Err(format!(
            "rate must be more than 0 records/s (or `max` for no limit), got {s}"
        ));
    }
    Ok(Rate::PerSec(rate))
}

pub fn parse_record_size(s: &str) -> Result<usize, String> {
    let size: u64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of bytes"))?;
    if size == 0 || size > MAX_RECORD_SIZE {
        return Err(format!(
            "record size must be between 1 byte and 100 MiB ({MAX_RECORD_SIZE} bytes), got {size}"
        ));
    }
    Ok(size as usize)
}

pub fn parse_acks(s: &str) -> Result<i16, String> {
    match s {
        "0" => Ok(0),
        "1" => Ok(1),
        "-1" | "all" => Ok(-1),
        _ => Err(format!("acks must be 0, 1 or -1 (all), got {s:?}")),
    }
}

fn parse_partitions(s: &str) -> Result<i32, String> {
    match s.parse::<i32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "partitions must be a whole number of at least 1, got {s:?}"
        )),
    }
}

fn parse_replication(s: &str) -> Result<i16, String> {
    match s.parse::<i16>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("replication factor must be at least 1, got {s:?}")),
    }
}

fn parse_fetch_bytes(s: &str) -> Result<i32, String> {
    match s.parse::<i32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("must be 1 to {} bytes, got {s:?}", i32::MAX)),
    }
}

fn parse_wait_ms(s: &str) -> Result<i32, String> {
    match s.parse::<i32>() {
        Ok(n) if n >= 0 => Ok(n),
        _ => Err(format!("must be a number of milliseconds, got {s:?}")),
    }
}

pub fn parse_host_port(s: &str) -> Result<String, String> {
    let hint = "expected HOST:PORT, e.g. 127.0.0.1:9092 or [::1]:9092";
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?} has no port; {hint}"))?;
    if host.is_empty() {
        return Err(format!("{s:?} has no host; {hint}"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(s.to_string()),
        _ => Err(format!("{port:?} is not a port (1-65535); {hint}")),
    }
}

pub fn parse_target(s: &str) -> Result<Target, String> {
    let hint = "expected NAME=HOST:PORT[,pid=PID][,tls], e.g. sluice=127.0.0.1:19092,pid=1234";
    let (name, rest) = s.split_once('=').ok_or_else(|| format!("{s:?}: {hint}"))?;
    if name.is_empty() {
        return Err(format!("{s:?} has no name; {hint}"));
    }
    let mut parts = rest.split(',');
    let addr = parse_host_port(parts.next().unwrap_or_default())?;
    let mut pid = None;
    let mut tls = false;
    for part in parts {
        if part == "tls" {
            tls = true;
            continue;
        }
        let value = part
            .strip_prefix("pid=")
            .ok_or_else(|| format!("unknown option {part:?} in {s:?}; {hint}"))?;
        pid = Some(
            value
                .parse::<u32>()
                .map_err(|_| format!("pid {value:?} is not a process id"))?,
        );
    }
    Ok(Target {
        name: name.to_string(),
        addr,
        pid,
        tls,
    })
}

/// CPUs in the order listed; a newtype so clap takes the list as one value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuList(pub Vec<usize>);

pub fn parse_cpu_list(list: &str) -> Result<CpuList, String> {
    sluice_runtime::parse_cpu_list(list)
        .map(CpuList)
        .map_err(|reason| format!("invalid CPU list {list:?}: {reason}"))
}

/// The SASL mechanisms `logins` speaks.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mechanism {
    Plain,
    ScramSha256,
    ScramSha512,
    Oauthbearer,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
            Mechanism::Oauthbearer => "OAUTHBEARER",
        }
    }
}

#[derive(Debug, Args)]
pub struct LoginsArgs {
    /// Bootstrap address of the gateway, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_host_port)]
    pub bootstrap: String,
    #[arg(long, value_enum)]
    pub mechanism: Mechanism,
    /// For PLAIN and SCRAM.
    #[arg(long, default_value = "")]
    pub username: String,
    #[arg(long, default_value = "")]
    pub password: String,
    /// For OAUTHBEARER: a file holding the bearer token (a JWT).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<std::path::PathBuf>,
    /// Concurrent login loops.
    #[arg(long, value_name = "N", default_value = "4", value_parser = parse_positive)]
    pub threads: usize,
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_duration)]
    pub duration: Duration,
    /// The gateway's process id, for its CPU time.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Write the result here as JSON too.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}
