//! The `sluice-cp` client commands against a real server.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;

/// Runs `sluice-cp ARGS` with the connection settings in the environment.
fn sluice_cp(cp: &Cp, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env("SLUICE_CP_URL", &cp.url)
        .env("SLUICE_CP_CA", cp.ca())
        .env_remove("SLUICE_CP_TOKEN");
    if let Some(token) = token {
        command.env("SLUICE_CP_TOKEN", token);
    }
    command.output().unwrap()
}

fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn gitops_round_trip() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let t = Some(TOKEN);
    let v1 = write(temp.path(), "config.yaml", &config_yaml("k1:9092"));

    let dry = ok(sluice_cp(&cp, t, &["apply", "-f", &v1, "--dry-run"]));
    assert!(
        dry.contains("dry run") && dry.contains("+ backend_clusters/main"),
        "{dry}"
    );
    assert_eq!(current_version(&cp.admin()), 0);
    let applied = ok(sluice_cp(&cp, t, &["apply", "-f", &v1]));
    assert!(applied.contains("stored as version 1"), "{applied}");
    let again = ok(sluice_cp(&cp, t, &["apply", "-f", &v1]));
    assert!(again.contains("no changes; version 1"), "{again}");

    // What `get` prints can be applied back unchanged, in both formats.
    let yaml = ok(sluice_cp(&cp, t, &["get"]));
    let json = ok(sluice_cp(&cp, t, &["get", "-o", "json"]));
    let yaml_file = write(temp.path(), "got.yaml", &yaml);
    let json_file = write(temp.path(), "got.json", &json);
    assert!(ok(sluice_cp(&cp, t, &["apply", "-f", &yaml_file])).contains("no changes"));
    assert!(ok(sluice_cp(&cp, t, &["apply", "-f", &json_file])).contains("no changes"));

    let v2 = write(temp.path(), "config.yaml", &config_yaml("k2:9092"));
    let diff = ok(sluice_cp(&cp, t, &["diff", "-f", &v2]));
    assert!(diff.contains("~ backend_clusters/main"), "{diff}");
    assert!(
        diff.contains(r#"bootstrap_servers: ["k1:9092"] -> ["k2:9092"]"#),
        "{diff}"
    );
    ok(sluice_cp(&cp, t, &["apply", "-f", &v2]));

    let rollback = ok(sluice_cp(&cp, t, &["rollback", "1"]));
    assert!(
        rollback.contains("version 3 now has the content of version 1"),
        "{rollback}"
    );
    let versions = ok(sluice_cp(&cp, t, &["versions"]));
    assert!(
        versions.contains("*3") && versions.contains("rollback to version 1"),
        "{versions}"
    );
    let old = ok(sluice_cp(&cp, t, &["get", "--version", "2", "-o", "json"]));
    assert!(old.contains("k2:9092"), "{old}");

    let node_dir = temp.path().join("node");
    issue_node_cert(&cp.admin(), "edge-9", &node_dir);
    let agent = node_agent(&cp.ca(), &node_dir);
    get(&agent, &format!("{}/v1/dataplane/config?wait_ms=0", cp.url));
    let nodes = ok(sluice_cp(&cp, t, &["nodes"]));
    assert!(nodes.contains("edge-9"), "{nodes}");
}

#[test]
fn errors_are_listed_and_fail_the_command() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let bad = write(
        temp.path(),
        "bad.yaml",
        "backend_clusters:\n  - name: x\n    bootstrap_servers: [\"nope\"]\n    colour: red\n",
    );
    let output = sluice_cp(&cp, Some(TOKEN), &["apply", "-f", &bad]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HTTP 422"), "{stderr}");
    assert!(
        stderr.contains("  backend_clusters[0].bootstrap_servers[0]: "),
        "{stderr}"
    );
    assert!(stderr.contains("colour"), "{stderr}");

    let output = sluice_cp(&cp, None, &["versions"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("HTTP 401"));
    let output = sluice_cp(&cp, Some(TOKEN), &["apply", "-f", "/nonexistent.yaml"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read /nonexistent.yaml"));
}
