//! Every impossible input is refused before anything runs, with a message
//! that names the flag and what would work, and exit code 2.

mod support;

use sluice_test_support::ports::free_port_block;
use sluice_test_support::text;
use support::bench;

/// (arguments, text the error must contain)
const REFUSED: &[(&[&str], &str)] = &[
    (
        &["handshakes", "--bootstrap", "127.0.0.1:9092"],
        "give --tls-ca",
    ),
    (
        &[
            "ping",
            "--bootstrap",
            "127.0.0.1:9092",
            "--server-name",
            "localhost",
        ],
        "need --tls-ca",
    ),
    (
        &[
            "ping",
            "--bootstrap",
            "127.0.0.1:9092",
            "--tls-ca",
            "/nonexistent/ca.pem",
        ],
        "--tls-ca /nonexistent/ca.pem",
    ),
    (
        &["produce", "--bootstrap", "127.0.0.1:9092", "--rate", "0"],
        "rate must be more than 0",
    ),
    (
        &["produce", "--bootstrap", "127.0.0.1:9092", "--rate", "-5"],
        "rate must be more than 0",
    ),
    (
        &["produce", "--bootstrap", "127.0.0.1:9092", "--rate", "fast"],
        "nor `max`",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--record-size",
            "0",
        ],
        "between 1 byte and 100 MiB",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--record-size",
            "104857601",
        ],
        "between 1 byte and 100 MiB",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--pipeline",
            "0",
        ],
        "--pipeline <N>': must be at least 1",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--connections",
            "0",
        ],
        "--connections <N>': must be at least 1",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--records-per-batch",
            "0",
        ],
        "must be at least 1",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--duration",
            "0",
        ],
        "must be more than 0 seconds",
    ),
    (
        &["produce", "--bootstrap", "127.0.0.1:9092", "--acks", "2"],
        "acks must be 0, 1 or -1",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--compression",
            "gzip",
        ],
        "possible values: none, lz4, zstd",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--create-partitions",
            "0",
        ],
        "at least 1",
    ),
    (
        &["produce", "--bootstrap", "127.0.0.1:9092", "--no-such-flag"],
        "unexpected argument '--no-such-flag'",
    ),
    (&["produce", "--bootstrap", "127.0.0.1"], "has no port"),
    (&["produce", "--bootstrap", "127.0.0.1:0"], "is not a port"),
    (&["produce"], "--bootstrap <HOST:PORT>"),
    (
        &[
            "consume",
            "--bootstrap",
            "127.0.0.1:9092",
            "--duration",
            "0",
        ],
        "must be more than 0 seconds",
    ),
    (
        &[
            "consume",
            "--bootstrap",
            "127.0.0.1:9092",
            "--connections",
            "0",
        ],
        "must be at least 1",
    ),
    (
        &["ping", "--bootstrap", "127.0.0.1:9092", "--pipeline", "0"],
        "must be at least 1",
    ),
    (
        &["ping", "--bootstrap", "127.0.0.1:9092", "--api", "fetch"],
        "possible values: apiversions, metadata",
    ),
    (
        &["e2e", "--bootstrap", "127.0.0.1:9092", "--record-size", "4"],
        "at least 12 bytes",
    ),
    (
        &[
            "connections",
            "--bootstrap",
            "127.0.0.1:9092",
            "--connections",
            "0",
        ],
        "must be at least 1",
    ),
    (
        &[
            "compare",
            "--target",
            "a=127.0.0.1:9092",
            "--rounds",
            "0",
            "ping",
        ],
        "--rounds <N>': must be at least 1",
    ),
    (
        &["compare", "--target", "127.0.0.1:9092", "ping"],
        "expected NAME=HOST:PORT",
    ),
    (
        &["compare", "--target", "a=127.0.0.1:9092,cpu=3", "ping"],
        "unknown option",
    ),
    (&["compare", "ping"], "--target"),
    (
        &["produce", "--bootstrap", "127.0.0.1:9092", "--cpus", "1-0"],
        "inverted",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--cpus",
            "0",
            "--threads",
            "2",
        ],
        "cannot be used with",
    ),
    (
        &[
            "produce",
            "--bootstrap",
            "127.0.0.1:9092",
            "--threads",
            "9999",
        ],
        "pass --no-pin",
    ),
    (
        &["responder", "--listen", "127.0.0.1:9092", "--brokers", "0"],
        "must be at least 1",
    ),
    (
        &["relay", "--listen", "127.0.0.1:9092", "--to", "nowhere"],
        "has no port",
    ),
];

#[test]
fn impossible_values_are_refused_with_a_helpful_message() {
    for (args, expected) in REFUSED {
        let out = bench(args);
        let stderr = text(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} exited {:?}; stderr:\n{stderr}",
            out.status
        );
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in:\n{stderr}"
        );
    }
}

#[test]
fn an_unreachable_target_is_named_with_exit_code_2() {
    // A port that was free a moment ago: nothing listens on it.
    let port = free_port_block(1);
    let target = format!("127.0.0.1:{port}");
    for workload in ["produce", "consume", "e2e", "ping", "connections"] {
        let out = bench(&[workload, "--bootstrap", &target, "--quiet"]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{workload}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot connect to {target}: ")),
            "{workload}: {stderr}"
        );
    }
    let out = bench(&["compare", "--target", &format!("a={target}"), "ping"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn help_lists_every_subcommand() {
    let out = bench(&["--help"]);
    let help = text(&out.stdout);
    for command in [
        "produce",
        "consume",
        "e2e",
        "ping",
        "connections",
        "handshakes",
        "compare",
        "responder",
        "relay",
    ] {
        assert!(
            help.contains(command),
            "{command} missing from --help:\n{help}"
        );
    }
}
