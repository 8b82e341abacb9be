//! The built sluice-bench binary run as a user runs it: to completion, or
//! in the background until its handle drops.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use sluice_test_support::process::LoggedChild;
use sluice_test_support::{ok_stdout, temp_dir, TempDir};

pub fn bench_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sluice-bench"))
}

/// sluice-bench running in the background (a responder, a relay); killed
/// when dropped.
pub struct Background {
    process: LoggedChild,
    /// Holds the log.
    _dir: TempDir,
}

impl Background {
    /// Starts `sluice-bench ARGS` and waits for a log line with `ready_line`.
    pub fn start(args: &[&str], ready_line: &str) -> Background {
        let dir = temp_dir("bench-child");
        let mut command = Command::new(bench_bin());
        command.args(args).stdout(Stdio::null());
        let log = dir.path().join("stderr.log");
        let process = LoggedChild::spawn("sluice-bench", &mut command, &log);
        process.wait_for_line(&[ready_line], Duration::from_secs(30));
        Background { process, _dir: dir }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid().expect("sluice-bench runs")
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Waits until a log line contains every one of `parts`; returns it.
    pub fn wait_for_line(&self, parts: &[&str], timeout: Duration) -> String {
        self.process.wait_for_line(parts, timeout)
    }
}

/// Runs sluice-bench to completion.
pub fn bench(args: &[&str]) -> Output {
    Command::new(bench_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run sluice-bench")
}

/// Runs a workload with `--json` and returns the parsed summary,
/// asserting a clean exit.
pub fn bench_json(args: &[&str]) -> serde_json::Value {
    let dir = temp_dir("bench-json");
    let path = dir.path().join("summary.json");
    let path_arg = path.to_string_lossy().into_owned();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--quiet", "--json", &path_arg]);
    ok_stdout(&format!("sluice-bench {args:?}"), bench(&all));
    let json = std::fs::read_to_string(&path).expect("read JSON summary");
    serde_json::from_str(&json).expect("summary is JSON")
}

pub fn number(value: &serde_json::Value, field: &str) -> f64 {
    value[field]
        .as_f64()
        .unwrap_or_else(|| panic!("field {field} missing or not a number in {value:#}"))
}
