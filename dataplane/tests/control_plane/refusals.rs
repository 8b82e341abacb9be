//! What the control plane and the node refuse, with nothing stored and
//! every problem named.

use crate::setup::Env;
use sluice_test_support::certs::Ca;
use sluice_test_support::temp_dir;

pub fn refusals(env: &Env) {
    let cp = env.cp();
    let before = cp.version();

    // An invalid configuration: every problem listed, nothing stored.
    let bad = "backend_clusters:\n  - { name: k, bootstrap_servers: [\"nohost\"], colour: red }\nvirtual_clusters:\n  - { name: v, dns_label: Not_A_Label, destination: { name: missing } }\n";
    let file = temp_dir("cp-bad");
    let path = file.path().join("bad.yaml");
    std::fs::write(&path, bad).unwrap();
    let out = cp.cli(
        Some(crate::support::cp::TOKEN),
        &["apply", "-f", path.to_str().unwrap()],
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "invalid config accepted:\n{text}");
    for part in ["colour", "bootstrap_servers[0]", "dns_label", "missing"] {
        assert!(text.contains(part), "{part:?} not named in:\n{text}");
    }
    assert_eq!(cp.version(), before, "an invalid config created a version");

    // No admin token, or a wrong one.
    for token in [None, Some("not-the-token")] {
        let out = cp.cli(token, &["versions"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.status.success(),
            "admin call without the right token succeeded"
        );
        assert!(
            text.contains("401") || text.to_lowercase().contains("token"),
            "{text}"
        );
    }
    let url = cp.url.clone();
    drop(cp);

    // A node whose certificate the control plane did not issue gets nothing.
    let dir = temp_dir("cp-rogue");
    let rogue = Ca::new("rogue").issue("rogue-node", &["rogue-node"]);
    let (cert, key) = rogue.write(dir.path(), "node");
    let ca = env.cp().ca();
    let mut node = crate::support::gateway::Gateway::spawn(
        "# unused\n",
        0,
        &[
            "--control-plane",
            &url,
            "--cp-cert",
            cert.to_str().unwrap(),
            "--cp-key",
            key.to_str().unwrap(),
            "--cp-ca",
            ca.to_str().unwrap(),
            "--cp-cache",
            dir.path().join("cache.json").to_str().unwrap(),
        ],
    );
    let status = node.wait_exit(std::time::Duration::from_secs(60));
    assert!(
        !status.success(),
        "a node with a foreign certificate started"
    );
    let log = node.logs();
    assert!(
        log.contains("no configuration from the control plane"),
        "{log}"
    );
}
