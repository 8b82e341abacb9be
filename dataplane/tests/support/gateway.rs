//! The real `sluice` binary, run as a user would run it.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use sluice_test_support::process::LoggedChild;
use sluice_test_support::{ports, temp_dir, TempDir};

pub struct Gateway {
    process: LoggedChild,
    /// Holds the configuration file and the log.
    _dir: TempDir,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
    /// The bootstrap port (first listener port) when started with a port-mapping config.
    pub port: u16,
    /// The admin listener's address when one was asked for with
    /// `--admin-listen`; without it, tests run with the admin listener off
    /// so that gateways never compete for its default port.
    pub admin: Option<String>,
}

/// A one-listener port-mapping configuration in front of `bootstrap`.
pub fn port_mapping_config(
    bootstrap: &str,
    first_port: u16,
    ports: u16,
    min_broker_id: i32,
) -> String {
    let servers: Vec<String> = bootstrap.split(',').map(|s| format!("\"{s}\"")).collect();
    let last = first_port + ports - 1;
    format!(
        r#"backend_clusters:
  - name: kafka
    bootstrap_servers: [{servers}]
    metadata_update_interval_seconds: 5
virtual_clusters:
  - name: vc
    dns_label: vc
    destination: {{ name: kafka }}
listeners:
  - name: plain
    addresses: ["127.0.0.1"]
    ports: ["{first_port}-{last}"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: {{ name: vc }}
          advertised_host: 127.0.0.1
          bootstrap_port: at_start
          min_broker_id: {min_broker_id}
"#,
        servers = servers.join(", ")
    )
}

pub fn sluice_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sluice"))
}

impl Gateway {
    /// Starts sluice in front of `bootstrap` with one bootstrap port and
    /// `brokers` broker ports (plus a spare), waiting until it serves.
    pub fn start_port_mapping(
        bootstrap: &str,
        brokers: u16,
        min_broker_id: i32,
        args: &[&str],
    ) -> Gateway {
        let count = brokers + 2;
        let first = ports::free_port_block(count);
        let config = port_mapping_config(bootstrap, first, count, min_broker_id);
        Gateway::start(&config, first, args)
    }

    pub fn start(config: &str, port: u16, args: &[&str]) -> Gateway {
        let gateway = Gateway::spawn(config, port, args);
        gateway.wait_log("sluice is serving", Duration::from_secs(60));
        gateway
    }

    /// Starts without waiting for readiness (for start-up failure tests).
    pub fn spawn(config: &str, port: u16, args: &[&str]) -> Gateway {
        Gateway::spawn_env(config, port, args, &[])
    }

    /// As [`Gateway::spawn`], with extra environment variables.
    pub fn spawn_env(config: &str, port: u16, args: &[&str], env: &[(&str, &str)]) -> Gateway {
        Gateway::spawn_prepared(config, port, args, env, |_| {})
    }

    /// As [`Gateway::spawn_env`], with `prepare` given the command last
    /// (e.g. to set resource limits in a `pre_exec` hook).
    pub fn spawn_prepared(
        config: &str,
        port: u16,
        args: &[&str],
        env: &[(&str, &str)],
        prepare: impl FnOnce(&mut Command),
    ) -> Gateway {
        let admin_flag = args.iter().position(|a| *a == "--admin-listen");
        let admin = admin_flag
            .and_then(|i| args.get(i + 1))
            .filter(|addr| **addr != "off")
            .map(|addr| addr.to_string());
        let admin_off: &[&str] = match admin_flag {
            Some(_) => &[],
            None => &["--admin-listen", "off"],
        };
        let dir = temp_dir("gateway");
        let config_path = dir.path().join("sluice.yaml");
        let log_path = dir.path().join("sluice.log");
        std::fs::write(&config_path, config).expect("write config");
        let mut command = Command::new(sluice_bin());
        command
            .arg("run")
            .args(config_source(&config_path, args))
            .args(args)
            .args(admin_off)
            .env(
                "SLUICE_LOG",
                "info,dataplane=debug,dataplane::proxy::pump=trace",
            )
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null());
        prepare(&mut command);
        Gateway {
            process: LoggedChild::spawn("sluice", &mut command, &log_path),
            _dir: dir,
            config_path,
            log_path,
            port,
            admin,
        }
    }

    /// The admin address; panics if the gateway was started without one.
    pub fn admin(&self) -> &str {
        self.admin
            .as_deref()
            .expect("gateway started with --admin-listen")
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn logs(&self) -> String {
        self.process.log()
    }

    /// Waits until a log line contains every one of `parts`; returns it.
    pub fn wait_log_line(&self, parts: &[&str], timeout: Duration) -> String {
        self.process.wait_for_line(parts, timeout)
    }

    pub fn wait_log(&self, text: &str, timeout: Duration) -> String {
        self.wait_log_line(&[text], timeout)
    }

    pub fn assert_running(&self) {
        self.process.assert_running();
    }

    pub fn signal(&self, signal: &str) {
        self.process.signal(signal);
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.process.terminate(Duration::from_secs(60))
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.process.wait_exit(timeout)
    }
}

/// `--config FILE`, unless the caller points the node at a control plane.
fn config_source(config_path: &Path, args: &[&str]) -> Vec<std::ffi::OsString> {
    if args.contains(&"--control-plane") {
        return Vec::new();
    }
    vec!["--config".into(), config_path.as_os_str().to_owned()]
}
