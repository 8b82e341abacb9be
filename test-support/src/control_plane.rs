//! A real `sluice-cp serve` (the control plane) on loopback.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::ok_stdout;
use crate::process::LoggedChild;

/// How long a control plane may take to create its CA and listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The line `sluice-cp serve` prints once it accepts connections.
const LISTENING: &str = "sluice-cp listening on ";

pub struct CpServer {
    process: LoggedChild,
    binary: PathBuf,
    pub url: String,
    pub port: u16,
    /// Its data directory (database, CA, secrets).
    pub dir: PathBuf,
    /// Lines it printed on stdout before it listened (a generated token).
    pub banner: Vec<String>,
}

impl CpServer {
    /// Starts `binary serve` with its data in `dir` and its stderr appended
    /// to `dir.log`, on `port` (0: one the kernel picks). `token` None lets
    /// it use its stored or generated admin token; the environment's
    /// `SLUICE_CP_ADMIN_TOKEN` never leaks in.
    pub fn start(binary: &Path, dir: &Path, port: u16, token: Option<&str>) -> CpServer {
        let mut command = Command::new(binary);
        command
            .args(["serve", "--data-dir"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_remove("SLUICE_CP_ADMIN_TOKEN")
            .stdout(Stdio::piped());
        if let Some(token) = token {
            command.args(["--admin-token", token]);
        }
        let process = LoggedChild::spawn("sluice-cp", &mut command, &dir.with_extension("log"));
        let (url, banner) = read_banner(&process);
        let port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url:?}"));
        CpServer {
            process,
            binary: binary.to_path_buf(),
            url,
            port,
            dir: dir.to_path_buf(),
            banner,
        }
    }

    /// The CA that signed its server certificate and node certificates.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Runs `sluice-cp ARGS` (a client command) against this server, as
    /// an operator would: its address and CA in the environment, with the
    /// admin `token` or none.
    pub fn cli(&self, token: Option<&str>, args: &[&str]) -> Output {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("SLUICE_CP_URL", &self.url)
            .env("SLUICE_CP_CA", self.ca())
            .env_remove("SLUICE_CP_TOKEN");
        if let Some(token) = token {
            command.env("SLUICE_CP_TOKEN", token);
        }
        command.output().expect("run sluice-cp")
    }

    /// As [`CpServer::cli`] for a command that must succeed; its stdout.
    pub fn cli_ok(&self, token: Option<&str>, args: &[&str]) -> String {
        ok_stdout(&format!("sluice-cp {args:?}"), self.cli(token, args))
    }

    /// Issues a node certificate into `out` with `sluice-cp issue-cert`,
    /// which reads this server's CA from its data directory: (cert, key,
    /// CA).
    pub fn issue_cert(&self, node_id: &str, out: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let issued = Command::new(&self.binary)
            .args(["issue-cert", "--node-id", node_id, "--data-dir"])
            .arg(&self.dir)
            .arg("--out-dir")
            .arg(out)
            .output()
            .expect("run sluice-cp issue-cert");
        ok_stdout("sluice-cp issue-cert", issued);
        let file = |name: &str| out.join(name);
        (file("node.pem"), file("node.key"), file("ca.pem"))
    }

    pub fn log(&self) -> String {
        self.process.log()
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(&self) {
        self.process.kill();
    }
}

/// The listening URL and the lines before it. Stdout is drained until the
/// server exits, so it never blocks on a full pipe.
fn read_banner(process: &LoggedChild) -> (String, Vec<String>) {
    let stdout = process.take_stdout().expect("sluice-cp stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + START_TIMEOUT;
    let mut banner = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // The log follows the panic: `process` prints it as it drops.
        let Ok(line) = rx.recv_timeout(left) else {
            panic!("sluice-cp exited or did not listen within {START_TIMEOUT:?}");
        };
        match line.strip_prefix(LISTENING) {
            Some(url) => return (url.to_string(), banner),
            None => banner.push(line),
        }
    }
}
