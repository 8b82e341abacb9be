//! sluice-bench: a Kafka-protocol load tool for measuring sluice against
//! direct Kafka (and against a memory-speed responder and a plain relay,
//! which bound what any gateway on this machine can do).

pub mod alloc_guard;
pub mod cli;
pub mod compare;
pub mod error;
pub mod kafka;
pub mod limits;
pub mod logins;
pub mod monitor;
pub mod placement;
pub mod procfs;
pub mod relay;
pub mod report;
pub mod responder;
pub mod stats;
pub mod workload;

use clap::Args;

/// See alloc_guard: a malformed frame must not abort the tool.
#[global_allocator]
static ALLOCATOR: alloc_guard::GuardedAllocator = alloc_guard::GuardedAllocator;

use cli::{Cli, Command, Single, TimingArgs};
use error::BenchError;
use report::{ConnectionsSummary, Summary};
use workload::{connections, consume, e2e, handshakes, ping, produce, Measured, RunSetup};

pub fn run(cli: Cli) -> Result<(), BenchError> {
    limits::raise_open_files();
    let tls_args = match &cli.command {
        Command::Produce(c) => Some(&c.tls),
        Command::Consume(c) => Some(&c.tls),
        Command::E2e(c) => Some(&c.tls),
        Command::Ping(c) => Some(&c.tls),
        Command::Connections(c) => Some(&c.tls),
        Command::Handshakes(c) => Some(&c.tls),
        Command::Compare(_) | Command::Responder(_) | Command::Relay(_) | Command::Logins(_) => {
            None
        }
    };
    if let Some(args) = tls_args {
        // Every handshake of `handshakes` is a full one.
        let resume = !matches!(cli.command, Command::Handshakes(_));
        kafka::tls::set_current(kafka::tls::from_args(args, resume)?);
    }
    match cli.command {
        Command::Produce(c) => single("produce", &c, &c.workload.timing, |s| {
            produce::run(&c.bootstrap, &c.workload, s)
        }),
        Command::Consume(c) => single("consume", &c, &c.workload.timing, |s| {
            consume::run(&c.bootstrap, &c.workload, s)
        }),
        Command::E2e(c) => {
            e2e::validate(&c.workload)?;
            single("e2e", &c, &c.workload.timing, |s| {
                e2e::run(&c.bootstrap, &c.workload, s)
            })
        }
        Command::Ping(c) => single("ping", &c, &c.workload.timing, |s| {
            ping::run(&c.bootstrap, &c.workload, s)
        }),
        Command::Connections(c) => run_connections(&c),
        Command::Handshakes(c) => single("handshakes", &c, &c.workload.timing, |s| {
            handshakes::run(&c.bootstrap, &c.workload, s)
        }),
        Command::Compare(c) => compare::run(&c),
        Command::Responder(r) => responder::run(&r),
        Command::Relay(r) => relay::run(&r),
        Command::Logins(l) => logins::run(&l),
    }
}

fn single<W: Args>(
    workload: &str,
    cmd: &Single<W>,
    timing: &TimingArgs,
    body: impl FnOnce(&RunSetup) -> Result<Measured, BenchError>,
) -> Result<(), BenchError> {
    let setup = RunSetup {
        label: workload.to_string(),
        plan: placement::plan_from_args(&cmd.placement)?,
        quiet: cmd.output.quiet,
        warmup: timing.warmup,
        duration: timing.duration,
        pids: Vec::new(),
    };
    let measured = body(&setup)?;
    let mut summary = Summary::new(workload, &cmd.bootstrap, &setup, &measured);
    add_notes(&mut summary);
    summary.print();
    if let Some(path) = &cmd.output.json {
        report::write_json(path, &summary)?;
    }
    Ok(())
}

/// Hints for results that usually mean the setup, not the target, is off.
pub fn add_notes(summary: &mut Summary) {
    if summary.requests == 0 && summary.records == 0 {
        summary
            .notes
            .push("nothing completed inside the measured window; see errors above".to_string());
    } else if summary.workload == "consume" && summary.records == 0 {
        summary.notes.push(
            "no records fetched: is the topic empty? fill it with `sluice-bench produce` first"
                .to_string(),
        );
    }
}

fn run_connections(cmd: &Single<cli::ConnectionsArgs>) -> Result<(), BenchError> {
    let plan = placement::plan_from_args(&cmd.placement)?;
    let args = &cmd.workload;
    let run = connections::run(&cmd.bootstrap, args, &plan, cmd.output.quiet)?;
    let storm = run.storm.as_ref().map(|m| {
        let setup = RunSetup {
            label: "connections".to_string(),
            plan: plan.clone(),
            quiet: true,
            warmup: std::time::Duration::ZERO,
            duration: args.duration,
            pids: Vec::new(),
        };
        Summary::new("connections-storm", &cmd.bootstrap, &setup, m)
    });
    let summary = ConnectionsSummary::new(&cmd.bootstrap, args.pid, args.connections, &run, storm);
    summary.print();
    if let Some(path) = &cmd.output.json {
        report::write_json(path, &summary)?;
    }
    Ok(())
}
