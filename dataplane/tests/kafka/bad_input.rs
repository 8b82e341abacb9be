//! Malformed input closes only the connection that sent it, with a log line
//! naming the reason; every other connection keeps working.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, MetadataResponse};
use kafka_protocol::protocol::Message;

use crate::leaks::api_versions_request;
use crate::support::raw::RawConn;
use crate::Env;

const LOG_WAIT: Duration = Duration::from_secs(30);

pub fn round_trip_works(conn: &mut RawConn) {
    let response: ApiVersionsResponse = conn.call(ApiKey::ApiVersions, 3, &api_versions_request());
    assert_eq!(response.error_code, 0);
}

/// A TLS 1.2 ClientHello's first bytes: handshake record, version 3.1.
const CLIENT_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
];

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// Close our write side after sending (a truncated frame).
    end_write: bool,
    /// Reset the connection instead of waiting for the gateway to close it.
    vanish: bool,
    /// Words the gateway's close line must contain.
    log_words: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let case = |name, bytes: &[u8], end_write, vanish, log_words| Case {
        name,
        bytes: bytes.to_vec(),
        end_write,
        vanish,
        log_words,
    };
    vec![
        case(
            "http request",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            false,
            false,
            &["HTTP"],
        ),
        case(
            "garbage",
            &[
                0, 0, 0, 12, 0xff, 0xfe, 0, 0, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef,
            ],
            false,
            false,
            &["api key"],
        ),
        case(
            "negative length",
            &[0xff, 0xff, 0xff, 0xf0, 1, 2, 3],
            false,
            false,
            &["negative"],
        ),
        case(
            "oversized length",
            &[0x7f, 0xff, 0xff, 0xff, 0, 18, 0, 3],
            false,
            false,
            &["exceeds"],
        ),
        case(
            "truncated frame",
            &[0, 0, 0, 100, 0, 18, 0, 3, 0, 0, 0, 7],
            true,
            false,
            &["mid-frame"],
        ),
        case("tls client hello", CLIENT_HELLO, false, false, &["TLS"]),
        case(
            "metadata newer than sluice rewrites",
            &metadata_beyond_decoder(),
            false,
            false,
            &["api key 3 version", "not supported"],
        ),
        case(
            "vanishes mid-frame",
            &[0, 0, 0, 64, 0, 18, 0, 3, 0, 0],
            false,
            true,
            &["client"],
        ),
    ]
}

/// A Metadata request one version past what sluice decodes (and advertises):
/// its response could not be rewritten, so the client is at fault.
fn metadata_beyond_decoder() -> Vec<u8> {
    let version = MetadataResponse::VERSIONS.max + 1;
    let mut body = vec![0, 3];
    body.extend_from_slice(&version.to_be_bytes());
    // Correlation id 9, null client id, no header tags, then a body.
    body.extend_from_slice(&[0, 0, 0, 9, 0xff, 0xff, 0, 1, 0, 0, 0]);
    let mut frame = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

pub fn bad_input_is_contained(env: &Env) {
    let gw = env.gateway.bootstrap();
    let mut survivor = RawConn::connect(&gw);
    round_trip_works(&mut survivor);
    for case in cases() {
        let before = env.gateway.logs().lines().count();
        let mut bad = RawConn::connect(&gw);
        let local_port = bad.stream.local_addr().unwrap().port();
        if case.vanish {
            // Vanish from a connection the gateway is already serving.
            round_trip_works(&mut bad);
        }
        bad.send_bytes(&case.bytes);
        if case.end_write {
            bad.shutdown_write();
        }
        if case.vanish {
            vanish(bad.stream);
        } else {
            assert!(
                bad.closed_by_peer(),
                "{}: gateway kept the connection open",
                case.name
            );
        }
        let peer = format!("127.0.0.1:{local_port}");
        let mut words = vec!["connection closed", peer.as_str()];
        words.extend_from_slice(case.log_words);
        let line = env.gateway.wait_log_line(&words, LOG_WAIT);
        assert!(
            line.contains("side=\"client\"") || case.vanish,
            "{}: {line}",
            case.name
        );
        assert!(env.gateway.logs().lines().count() > before);
        // The long-lived connection and new ones are unaffected.
        round_trip_works(&mut survivor);
        round_trip_works(&mut RawConn::connect(&gw));
        env.gateway.assert_running();
    }
    assert!(
        !env.gateway.logs().contains("panicked"),
        "the gateway panicked"
    );
}

/// Drops the socket with a reset, like a client process that died.
fn vanish(stream: TcpStream) {
    let socket = socket2::Socket::from(stream);
    let _ = socket.set_linger(Some(Duration::ZERO));
    let _ = (&socket).flush();
    drop(socket);
}
