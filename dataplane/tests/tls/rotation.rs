//! Certificate rotation: new certificate files are picked up without a
//! restart; new connections get the new certificate while a connection made
//! before keeps producing.

use std::time::Duration;

use crate::setup::{Env, SHARED};
use crate::support::produce::{create_topic, produce};
use crate::support::tls::{client_config, connect, peer_leaf};

const TOPIC: &str = "rotation";

pub fn rotation(env: &Env) {
    let addr = format!("127.0.0.1:{}", env.shared_port);
    let name = format!("bootstrap-vc-b{SHARED}");
    let config = client_config(&env.gateway_ca.cert_pem, None);
    let mut old = connect(&addr, &name, config.clone()).expect("TLS before rotation");
    let old_leaf = peer_leaf(&old);
    create_topic(&mut old, TOPIC);
    produce(&mut old, TOPIC, "before rotation");

    let renewed = env
        .gateway_ca
        .issue("shared renewed", &["*.sh.sluice.test"]);
    let (cert_path, key_path) = &env.shared_cert;
    replace_file(key_path, &renewed.key_pem);
    replace_file(cert_path, &renewed.cert_pem);
    env.gateway
        .wait_log_line(&["TLS files changed"], Duration::from_secs(60));

    let fresh = sluice_test_support::wait::until(
        "a new connection to get the new certificate",
        Duration::from_secs(30),
        || {
            let conn = connect(&addr, &name, config.clone()).ok()?;
            (peer_leaf(&conn) == renewed.der).then_some(conn)
        },
    );
    assert_ne!(peer_leaf(&fresh), old_leaf);
    produce(&mut old, TOPIC, "after rotation, same connection");
    assert_eq!(
        peer_leaf(&old),
        old_leaf,
        "the old connection keeps its session"
    );
}

/// Writes next to the file and renames over it, as certificate tooling does,
/// so a reader never sees half a file.
fn replace_file(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
