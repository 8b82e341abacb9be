//! What sluice says at start about its host and its exposure: a locked
//! memory limit too low for io_uring, plaintext listeners and an admin
//! endpoint that other hosts can reach.

use std::os::unix::process::CommandExt;

use rlimit::Resource;
use sluice_test_support::ports;

use crate::support::gateway::Gateway;
use crate::{config, WAIT};

/// Below the 512 KiB glommio needs: shards cannot start, whatever the
/// kernel (and with the hard limit as low, sluice cannot raise it).
const LOW_MEMLOCK: u64 = 64 * 1024;

#[test]
fn a_low_memlock_limit_is_named_with_how_to_raise_it() {
    let first = crate::gateway_ports();
    let mut gateway = Gateway::spawn_prepared(
        &config(first, ""),
        first,
        &["--shards", "2", "--no-pin"],
        &[],
        |command| {
            // SAFETY: setrlimit is async-signal-safe, and nothing else
            // runs between fork and exec.
            unsafe {
                command.pre_exec(|| Resource::MEMLOCK.set(LOW_MEMLOCK, LOW_MEMLOCK));
            }
        },
    );
    let status = gateway.wait_exit(WAIT);
    assert!(!status.success());
    let log = gateway.logs();
    let error = (log.lines())
        .find(|l| l.starts_with("sluice: "))
        .unwrap_or_else(|| panic!("no error on exit in:\n{log}"));
    assert!(
        error.contains("shard 0 could not start its io_uring executor: ")
            && error.contains("MemLockLimit(65536/524288)"),
        "{log}"
    );
    for part in [
        "RLIMIT_MEMLOCK is soft 65536 bytes (64 KiB), hard 65536 bytes (64 KiB)",
        "ulimit -l",
        "LimitMEMLOCK=",
    ] {
        assert!(log.contains(part), "{part:?} missing in:\n{log}");
    }
    // Once in the error logged, once where sluice prints it on exit.
    assert_eq!(log.matches("LimitMEMLOCK=").count(), 2, "{log}");
}

/// A listener `name` on `address` from `first`, no TLS.
fn listener(name: &str, address: &str, first: u16) -> String {
    format!(
        "  - name: {name}\n    addresses: [\"{address}\"]\n    ports: [\"{first}-{}\"]\n    \
         policies:\n      - type: forward_to_virtual_cluster\n        config: {{ type: \
         port_mapping, destination: {{ name: vc }}, advertised_host: 127.0.0.1 }}\n",
        first + 3
    )
}

fn document(listeners: &[String]) -> String {
    format!(
        "backend_clusters:\n  - {{ name: kafka, bootstrap_servers: [\"{}\"] }}\n\
         virtual_clusters:\n  - {{ name: vc, dns_label: vc, destination: {{ name: kafka }} }}\n\
         listeners:\n{}",
        crate::NO_BACKEND,
        listeners.concat()
    )
}

fn count(gateway: &Gateway, text: &str) -> usize {
    gateway.logs().matches(text).count()
}

#[test]
fn exposed_plaintext_listeners_and_admin_are_warned_about_once() {
    let (open, local, added) = (
        crate::gateway_ports(),
        ports::free_port_block(4),
        ports::free_port_block(4),
    );
    let admin = format!("0.0.0.0:{}", open + 4);
    let start = [
        listener("open", "0.0.0.0", open),
        listener("local", "127.0.0.1", local),
    ];
    let args = [
        "--shards",
        "1",
        "--no-pin",
        "--admin-listen",
        admin.as_str(),
    ];
    let gateway = Gateway::start(&document(&start), open, &args);
    let exposed = |name: &str| format!("listener {name} accepts plaintext Kafka connections");
    assert_eq!(count(&gateway, &exposed("open")), 1, "{}", gateway.logs());
    assert_eq!(count(&gateway, &exposed("local")), 0, "{}", gateway.logs());
    let admin_warning = "the admin endpoint listens on an address other hosts can reach";
    assert_eq!(count(&gateway, admin_warning), 1, "{}", gateway.logs());

    // A reload warns about the listener it adds, not again about the others.
    let mut reloaded = start.to_vec();
    reloaded.push(listener("added", "0.0.0.0", added));
    std::fs::write(&gateway.config_path, document(&reloaded)).expect("write config");
    gateway.signal("-HUP");
    gateway.wait_log_line(&["configuration applied", "epoch=2"], WAIT);
    gateway.wait_log(&exposed("added"), WAIT);
    assert_eq!(count(&gateway, &exposed("open")), 1, "{}", gateway.logs());
    assert_eq!(count(&gateway, &exposed("added")), 1, "{}", gateway.logs());
}
