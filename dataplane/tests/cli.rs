//! The `sluice` command line: `validate` and start-up refusals.

mod support;

use std::process::Command;
use std::time::Duration;

use sluice_test_support::temp_dir;
use support::gateway::{sluice_bin, Gateway};

const BAD_CONFIG: &str = r#"
backend_clusters:
  - name: kafka
    bootstrap_servers: ["127.0.0.1:9092"]
    colour: blue
virtual_clusters:
  - name: vc
    dns_label: vc
    destination: { name: no-such-cluster }
listeners:
  - name: first
    ports: ["19092-19095"]
    policies:
      - type: forward_to_virtual_cluster
        config: { type: port_mapping, destination: { name: vc }, advertised_host: 127.0.0.1 }
  - name: second
    ports: ["19095-19099", "19200-19100"]
    policies:
      - type: forward_to_virtual_cluster
        config: { type: port_mapping, destination: { name: vc }, advertised_host: 127.0.0.1 }
"#;

fn validate(config: &str) -> (bool, String) {
    let dir = temp_dir("cli");
    let path = dir.path().join("sluice.yaml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(sluice_bin())
        .arg("validate")
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn validate_lists_every_error_and_fails() {
    let (ok, out) = validate(BAD_CONFIG);
    assert!(!ok, "validate accepted a bad config:\n{out}");
    let expected = [
        "backend_clusters[0].colour",
        "virtual_clusters[0].destination.name",
        "no-such-cluster",
        "listeners[1].ports[0]",
        "first",
        "listeners[1].ports[1]",
    ];
    for part in expected {
        assert!(out.contains(part), "missing {part:?} in:\n{out}");
    }
}

#[test]
fn validate_accepts_the_shipped_example() {
    let example = sluice_test_support::repo_root().join("deploy/examples/port-mapping.yaml");
    let config = std::fs::read_to_string(example).unwrap();
    let (ok, out) = validate(&config);
    assert!(ok, "{out}");
}

#[test]
fn run_refuses_an_invalid_config_with_every_error() {
    let mut gateway = Gateway::spawn(BAD_CONFIG, 0, &[]);
    let status = gateway.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    let log = gateway.logs();
    assert!(
        log.contains("backend_clusters[0].colour") && log.contains("no-such-cluster"),
        "{log}"
    );
}

#[test]
fn run_refuses_a_port_that_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = support::gateway::port_mapping_config("127.0.0.1:1", port, 3, 0).replace(
        &format!("\"{port}-{}\"", port + 2),
        &format!("{port}, {}", port + 1),
    );
    let mut gateway = Gateway::spawn(&config, port, &["--shards", "1", "--no-pin"]);
    let status = gateway.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    assert!(gateway.logs().contains("cannot bind"), "{}", gateway.logs());
}

#[test]
fn bad_flags_are_refused() {
    let dir = temp_dir("cli-flags");
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, "{}").unwrap();
    for args in [
        vec!["--cpus", "3-1"],
        vec!["--shards", "0"],
        vec!["--cpus", "4096"],
    ] {
        let out = Command::new(sluice_bin())
            .arg("run")
            .arg("--config")
            .arg(&path)
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
}

/// `sluice scram-verifier` prints a verifier that the password it read
/// from stdin derives again, and refuses weak input.
#[test]
fn scram_verifier_prints_a_verifier_for_the_password_on_stdin() {
    use base64::Engine;
    use cp_sync::scram::{ScramAlgorithm, ScramVerifier};
    use std::io::Write;
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(sluice_bin())
            .arg("scram-verifier")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&["--algorithm", "sha512"], "correct horse\n");
    assert!(out.status.success(), "{out:?}");
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(!yaml.contains("correct horse"));
    let field = |name: &str| {
        let line = yaml.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_once(": ").unwrap().1.to_owned()
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let salt = b64.decode(field("salt")).unwrap();
    let again = ScramVerifier::derive(ScramAlgorithm::Sha512, "correct horse", salt, 4096).unwrap();
    assert_eq!(field("stored_key"), b64.encode(&again.stored_key));
    assert_eq!(field("server_key"), b64.encode(&again.server_key));
    assert_eq!(field("algorithm"), "sha512");
    let weak = run(&["--algorithm", "sha256", "--iterations", "10"], "pw\n");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 4096"));
    let empty = run(&["--algorithm", "sha256"], "\n");
    assert!(String::from_utf8_lossy(&empty.stderr).contains("password is empty"));
}
