//! Test support: the built sluice-bench binary run as a user runs it, free
//! loopback ports, temporary directories, and child processes that are
//! stopped when their handle drops.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub fn bench_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sluice-bench"))
}

static SERIAL: AtomicU64 = AtomicU64::new(0);

/// A base port such that `base..base + count` are all free right now.
pub fn free_port_block(count: u16) -> u16 {
    for _ in 0..200 {
        let probe = TcpListener::bind("127.0.0.1:0").expect("bind probe");
        let base = probe.local_addr().expect("probe addr").port();
        drop(probe);
        if base < 20000 || base.checked_add(count).is_none() {
            continue;
        }
        if (base..base + count).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no block of {count} free ports found");
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "sluice-bench-{tag}-{}-{serial}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed when dropped, with its stderr in a file.
pub struct Background {
    child: Child,
    log: PathBuf,
    _dir: TempDir,
}

impl Background {
    pub fn start(args: &[&str], ready_line: &str) -> Background {
        let dir = TempDir::new("child");
        let log = dir.path().join("stderr.log");
        let file = std::fs::File::create(&log).expect("create log");
        let child = Command::new(bench_bin())
            .args(args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn sluice-bench");
        let background = Background {
            child,
            log,
            _dir: dir,
        };
        background.wait_for(ready_line, Duration::from_secs(30));
        background
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_for(&self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no line with {text:?} within {timeout:?}; log:\n{}",
            self.log()
        );
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a workload with `--json` and returns the parsed summary,
/// asserting a clean exit.
pub fn bench_json(args: &[&str]) -> serde_json::Value {
    let dir = TempDir::new("json");
    let path = dir.path().join("summary.json");
    let path_arg = path.to_string_lossy().into_owned();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--quiet", "--json", &path_arg]);
    let out = bench(&all);
    assert!(
        out.status.success(),
        "sluice-bench {args:?} failed: {}\nstdout:\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    let json = std::fs::read_to_string(&path).expect("read JSON summary");
    serde_json::from_str(&json).expect("summary is JSON")
}

pub fn number(value: &serde_json::Value, field: &str) -> f64 {
    value[field]
        .as_f64()
        .unwrap_or_else(|| panic!("field {field} missing or not a number in {value:#}"))
}
