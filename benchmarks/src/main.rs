//! sluice-bench: the command line over the `sluice_bench` library.

use std::process::ExitCode;

use clap::Parser;
use sluice_bench::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match sluice_bench::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice-bench: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
