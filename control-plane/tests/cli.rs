//! The `sluice-cp` client commands against a real server.

mod common;

use std::path::Path;

use common::*;

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

    let dry = cp.cli_ok(t, &["apply", "-f", &v1, "--dry-run"]);
    assert!(
        dry.contains("dry run") && dry.contains("+ backend_clusters/main"),
        "{dry}"
    );
    assert_eq!(current_version(&cp.admin()), 0);
    let applied = cp.cli_ok(t, &["apply", "-f", &v1]);
    assert!(applied.contains("stored as version 1"), "{applied}");
    let again = cp.cli_ok(t, &["apply", "-f", &v1]);
    assert!(again.contains("no changes; version 1"), "{again}");

    // What `get` prints can be applied back unchanged, in both formats.
    let yaml = cp.cli_ok(t, &["get"]);
    let json = cp.cli_ok(t, &["get", "-o", "json"]);
    let yaml_file = write(temp.path(), "got.yaml", &yaml);
    let json_file = write(temp.path(), "got.json", &json);
    assert!(cp
        .cli_ok(t, &["apply", "-f", &yaml_file])
        .contains("no changes"));
    assert!(cp
        .cli_ok(t, &["apply", "-f", &json_file])
        .contains("no changes"));

    let v2 = write(temp.path(), "config.yaml", &config_yaml("k2:9092"));
    let diff = cp.cli_ok(t, &["diff", "-f", &v2]);
    assert!(diff.contains("~ backend_clusters/main"), "{diff}");
    assert!(
        diff.contains(r#"bootstrap_servers: ["k1:9092"] -> ["k2:9092"]"#),
        "{diff}"
    );
    cp.cli_ok(t, &["apply", "-f", &v2]);

    let rollback = cp.cli_ok(t, &["rollback", "1"]);
    assert!(
        rollback.contains("version 3 now has the content of version 1"),
        "{rollback}"
    );
    let versions = cp.cli_ok(t, &["versions"]);
    assert!(
        versions.contains("*3") && versions.contains("rollback to version 1"),
        "{versions}"
    );
    let old = cp.cli_ok(t, &["get", "--version", "2", "-o", "json"]);
    assert!(old.contains("k2:9092"), "{old}");

    let node_dir = temp.path().join("node");
    issue_node_cert(&cp.admin(), "edge-9", &node_dir);
    let agent = node_agent(&cp.ca(), &node_dir);
    get(&agent, &format!("{}/v1/dataplane/config?wait_ms=0", cp.url));
    let nodes = cp.cli_ok(t, &["nodes"]);
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
    let output = cp.cli(Some(TOKEN), &["apply", "-f", &bad]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HTTP 422"), "{stderr}");
    assert!(
        stderr.contains("  backend_clusters[0].bootstrap_servers[0]: "),
        "{stderr}"
    );
    assert!(stderr.contains("colour"), "{stderr}");

    let output = cp.cli(None, &["versions"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("HTTP 401"));
    let output = cp.cli(Some(TOKEN), &["apply", "-f", "/nonexistent.yaml"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read /nonexistent.yaml"));
}
