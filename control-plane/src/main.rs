//! `sluice-cp`: the control plane server and its CLI. Everything lives in
//! the library; this only hands over the process's exit code.

fn main() -> std::process::ExitCode {
    control_plane::cli::main()
}
