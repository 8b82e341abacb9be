//! Child processes run as a user runs them: stderr appended to a log file
//! the test reads and waits on, stopped when their handle drops.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::wait;

pub struct LoggedChild {
    /// Behind a lock so that `&self` methods can ask whether it still runs
    /// (`try_wait` needs `&mut`); None once it has been waited for.
    child: Mutex<Option<Child>>,
    name: String,
    log: PathBuf,
}

impl LoggedChild {
    /// Starts `command` with its stderr appended to `log` (created if
    /// missing). Its stdout stays as `command` sets it: set it to null or
    /// piped, or it mixes into the test's output.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> LoggedChild {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
        let child = command
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        LoggedChild {
            child: Mutex::new(Some(child)),
            name: name.to_string(),
            log: log.to_path_buf(),
        }
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The process id, until it has been waited for.
    pub fn pid(&self) -> Option<u32> {
        self.child().as_ref().map(Child::id)
    }

    /// Its stdout, if `command` piped it; once.
    pub fn take_stdout(&self) -> Option<ChildStdout> {
        self.child().as_mut().and_then(|c| c.stdout.take())
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics, with the log, if the process has exited.
    pub fn assert_running(&self) {
        let exited = self
            .child()
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        if let Some(status) = exited {
            panic!(
                "{} exited unexpectedly ({status}); log:\n{}",
                self.name,
                self.log()
            );
        }
    }

    /// Waits until a log line contains every one of `parts`; returns it.
    /// Fails at once if the process exits without writing one.
    pub fn wait_for_line(&self, parts: &[&str], timeout: Duration) -> String {
        let what = format!("a {} log line with {parts:?}", self.name);
        wait::until(&what, timeout, || {
            let log = self.log();
            let found = log.lines().find(|l| parts.iter().all(|p| l.contains(p)));
            if found.is_none() {
                self.assert_running();
            }
            found.map(str::to_string)
        })
    }

    /// Sends `signal` (as `kill` spells it: `-TERM`, `-HUP`) while it runs.
    pub fn signal(&self, signal: &str) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill")
                .args([signal, &pid.to_string()])
                .status();
        }
    }

    /// Waits at most `timeout` for the process to exit; its exit status.
    pub fn wait_exit(&self, timeout: Duration) -> ExitStatus {
        let what = format!("{} to exit", self.name);
        let status = wait::until(&what, timeout, || {
            let mut child = self.child();
            let child = child.as_mut().expect("process already waited for");
            child.try_wait().ok().flatten()
        });
        self.child().take();
        status
    }

    /// Sends SIGTERM and waits at most `timeout` for the exit status.
    pub fn terminate(&self, timeout: Duration) -> ExitStatus {
        self.signal("-TERM");
        self.wait_exit(timeout)
    }

    /// Kills the process (if it still runs) and waits for it.
    pub fn kill(&self) {
        if let Some(mut child) = self.child().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LoggedChild {
    fn drop(&mut self) {
        self.kill();
        // A failing test's message rarely says why the process misbehaved;
        // its log usually does.
        if std::thread::panicking() {
            eprintln!(
                "--- {} log ({}) ---\n{}",
                self.name,
                self.log.display(),
                self.log()
            );
        }
    }
}
