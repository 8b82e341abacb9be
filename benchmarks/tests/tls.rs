//! `--tls-ca` and `handshakes`: the tool speaks TLS to a TLS-terminating
//! front (made here with rustls, certificates made by the test) in front of the
//! built-in responder (not Kafka), verifies the certificate against the CA
//! and the server name, and counts full handshakes. The front answers one
//! request at a time, which is all `ping` and `handshakes` need; sluice's
//! own TLS listeners are exercised by the benchmark scripts.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use sluice_test_support::certs::Ca;
use sluice_test_support::ports::free_port_block;
use sluice_test_support::{temp_dir, text, TempDir};
use support::{bench, bench_json, number, Background};

struct Pki {
    dir: TempDir,
    config: Arc<ServerConfig>,
}

/// A CA and a server certificate for 127.0.0.1 and `localhost`, and a
/// CA that signed nothing of it.
fn pki() -> Pki {
    let ca = Ca::new("bench test CA");
    let leaf = ca.issue("bench front", &["127.0.0.1", "localhost"]);
    let dir = temp_dir("bench-tls");
    ca.write(dir.path(), "ca");
    Ca::new("other CA").write(dir.path(), "other-ca");
    let chain = vec![CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(leaf.key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Pki {
        dir,
        config: Arc::new(config),
    }
}

/// Terminates TLS on a free port and carries each request frame to
/// `upstream`, its response back. Threads end with their connections.
fn tls_front(config: Arc<ServerConfig>, upstream: String) -> String {
    let port = free_port_block(1);
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let config = config.clone();
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let Ok(session) = ServerConnection::new(config) else {
                    return;
                };
                let mut tls = StreamOwned::new(session, client);
                let Ok(mut up) = TcpStream::connect(&upstream) else {
                    return;
                };
                while let Ok(request) = read_frame(&mut tls) {
                    if up.write_all(&request).is_err() {
                        return;
                    }
                    let Ok(response) = read_frame(&mut up) else {
                        return;
                    };
                    if tls.write_all(&response).is_err() || tls.flush().is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("127.0.0.1:{port}")
}

/// One length-prefixed frame, prefix included.
fn read_frame(stream: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let size = i32::from_be_bytes(len).max(0) as usize;
    let mut frame = len.to_vec();
    frame.resize(4 + size, 0);
    stream.read_exact(&mut frame[4..])?;
    Ok(frame)
}

fn responder() -> (Background, String) {
    let listen = format!("127.0.0.1:{}", free_port_block(1));
    let child = Background::start(
        &["responder", "--listen", &listen, "--quiet"],
        "sluice-bench responder (not Kafka): listening on",
    );
    (child, listen)
}

#[test]
fn ping_and_handshakes_over_tls() {
    let pki = pki();
    let (_responder, upstream) = responder();
    let front = tls_front(pki.config.clone(), upstream);
    let ca = pki.dir.path().join("ca.pem");
    let ca = ca.to_str().unwrap();

    let ping = bench_json(&[
        "ping",
        "--bootstrap",
        &front,
        "--tls-ca",
        ca,
        "--duration",
        "0.5",
        "--warmup",
        "0.2",
    ]);
    assert_eq!(number(&ping, "errors"), 0.0, "{ping:#}");
    assert!(number(&ping, "requests") > 0.0, "{ping:#}");

    let named = bench_json(&[
        "ping",
        "--bootstrap",
        &front,
        "--tls-ca",
        ca,
        "--server-name",
        "localhost",
        "--duration",
        "0.3",
        "--warmup",
        "0",
    ]);
    assert_eq!(number(&named, "errors"), 0.0, "{named:#}");

    let handshakes = bench_json(&[
        "handshakes",
        "--bootstrap",
        &front,
        "--tls-ca",
        ca,
        "--connections",
        "4",
        "--duration",
        "0.5",
        "--warmup",
        "0.2",
    ]);
    assert_eq!(handshakes["workload"], "handshakes");
    assert_eq!(number(&handshakes, "errors"), 0.0, "{handshakes:#}");
    assert!(number(&handshakes, "requests") > 0.0, "{handshakes:#}");
}

#[test]
fn wrong_ca_name_or_plaintext_are_refused_with_a_reason() {
    let pki = pki();
    let (_responder, upstream) = responder();
    let front = tls_front(pki.config.clone(), upstream.clone());
    let other = pki.dir.path().join("other-ca.pem");
    let out = bench(&[
        "ping",
        "--bootstrap",
        &front,
        "--tls-ca",
        other.to_str().unwrap(),
        "--duration",
        "0.2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("TLS"), "{}", text(&out.stderr));

    let ca = pki.dir.path().join("ca.pem");
    let out = bench(&[
        "ping",
        "--bootstrap",
        &front,
        "--tls-ca",
        ca.to_str().unwrap(),
        "--server-name",
        "not-in-the-certificate.example",
        "--duration",
        "0.2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("TLS"), "{}", text(&out.stderr));

    // TLS to a plaintext port: the handshake fails and says TLS.
    let out = bench(&[
        "ping",
        "--bootstrap",
        &upstream,
        "--tls-ca",
        ca.to_str().unwrap(),
        "--duration",
        "0.2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));

    // Plaintext to a TLS port: the tool waits for a Kafka answer that never
    // comes as such; the front drops the connection on the garbage.
    let out = bench(&["handshakes", "--bootstrap", &front, "--duration", "0.2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--tls-ca"),
        "{}",
        text(&out.stderr)
    );
}
