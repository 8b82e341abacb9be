use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = dataplane::cli::Cli::parse();
    dataplane::logging::init(cli.log_format());
    dataplane::cli::main_with(cli)
}
