//! Whether the tests that need Kafka can run here. `cargo test` on a
//! machine without Java or without Kafka installed skips them, saying so;
//! `deploy/test-all.sh` sets [`REQUIRE_ENV`] so that there the same
//! absence is a failure, never a silent skip.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::script;
use crate::text;

/// Set (to anything but empty or `0`) when a missing Kafka must fail the
/// run instead of skipping its tests.
pub const REQUIRE_ENV: &str = "SLUICE_REQUIRE_KAFKA";

pub enum Availability {
    /// Java and Kafka are installed: run the tests.
    Ready,
    /// Something is missing and skipping is allowed; why.
    Skip(String),
    /// Something is missing and [`REQUIRE_ENV`] forbids skipping; why.
    Required(String),
}

/// Asks `deploy/kafka-local.sh check`, the one place that knows where
/// Kafka is installed and which Java it runs on.
pub fn availability() -> Availability {
    let Some(missing) = missing() else {
        return Availability::Ready;
    };
    if required() {
        Availability::Required(format!("{REQUIRE_ENV} is set, but {missing}"))
    } else {
        Availability::Skip(missing)
    }
}

fn missing() -> Option<String> {
    let out = Command::new(script())
        .arg("check")
        .stdin(Stdio::null())
        .output();
    let out = match out {
        Ok(out) if out.status.success() => return None,
        Ok(out) => out,
        Err(e) => return Some(format!("deploy/kafka-local.sh cannot run: {e}")),
    };
    let said = text(&out.stdout).trim().to_string();
    if said.is_empty() {
        Some(text(&out.stderr).trim().to_string())
    } else {
        Some(said)
    }
}

fn required() -> bool {
    std::env::var_os(REQUIRE_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// The line that tells a developer what was skipped, why and what runs it.
pub(crate) fn skip_notice(reason: &str) -> String {
    format!(
        "Kafka tests skipped: {reason}. To run them: deploy/test-all.sh \
         (installs Kafka, then runs every test; needs Java 17+ and Maven)."
    )
}

/// Prints [`skip_notice`] unless another test binary of the same run
/// already has: `cargo test --workspace` starts every test binary from one
/// cargo process, and one line says it all.
pub(crate) fn print_skip_notice_once(reason: &str) {
    if first_notice_of_this_run() {
        println!("{}", skip_notice(reason));
    }
}

fn first_notice_of_this_run() -> bool {
    let (Some(run), Some(marker)) = (run_id(), marker_path()) else {
        return true;
    };
    if std::fs::read_to_string(&marker).is_ok_and(|seen| seen == run) {
        return false;
    }
    let _ = std::fs::write(&marker, run);
    true
}

/// The parent process (cargo) by its pid and start time, which together
/// never name two processes.
fn run_id() -> Option<String> {
    let parent = std::os::unix::process::parent_id();
    let stat = std::fs::read_to_string(format!("/proc/{parent}/stat")).ok()?;
    // Fields after the command name (which may hold spaces); the start
    // time is field 22 of proc(5), the 20th of these.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{parent} {start}"))
}

/// In the build's profile directory (the test binary is in its `deps/`),
/// so that it is shared by every binary of the run and removed by `cargo
/// clean`.
fn marker_path() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join(".sluice-kafka-skip-notice"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_is_one_line_naming_the_reason_and_the_full_run() {
        let line = skip_notice("no java on PATH");
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("no java on PATH"), "{line}");
        assert!(line.contains("deploy/test-all.sh"), "{line}");
    }

    #[test]
    fn a_run_is_named_by_its_parent_process() {
        let run = run_id().expect("/proc/<parent>/stat is readable");
        let pid = std::os::unix::process::parent_id().to_string();
        assert_eq!(run.split(' ').next(), Some(pid.as_str()));
        assert_eq!(run_id(), Some(run));
    }
}
