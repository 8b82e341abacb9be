use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    dataplane::logging::init();
    dataplane::cli::main_with(dataplane::cli::Cli::parse())
}
