//! What a client that cannot log in can do to a virtual cluster that
//! terminates SASL: guess passwords on many connections at once, send a
//! truncated or an oversized SASL message, ask for a mechanism that is not
//! offered, or skip the login. Each gets its answer or its close, and a
//! client with the right password is served all along.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, MetadataRequest, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::support::raw::RawConn;
use super::{gateway, kcat_round_trip, terminating_schemes, Env, DAVE_PASSWORD};

const GUESSERS: usize = 20;
const GUESSES_EACH: usize = 50;

fn handshake(conn: &mut RawConn, mechanism: &'static str) -> i16 {
    let request =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism));
    let answer: SaslHandshakeResponse = conn.call(ApiKey::SaslHandshake, 1, &request);
    answer.error_code
}

/// One wrong guess on a fresh connection: refused, then closed.
fn guess(bootstrap: &str, n: usize) {
    let mut conn = RawConn::connect(bootstrap);
    assert_eq!(handshake(&mut conn, "PLAIN"), 0);
    let message = Bytes::from(format!("\0dave\0guess-{n}"));
    let login = SaslAuthenticateRequest::default().with_auth_bytes(message);
    let answer: SaslAuthenticateResponse = conn.call(ApiKey::SaslAuthenticate, 1, &login);
    assert_eq!(answer.error_code, 58);
    assert!(
        conn.closed_by_peer(),
        "a failed login leaves the connection open"
    );
}

pub fn logins_that_fail_are_contained(env: &Env) {
    let vars = [("SLUICE_TEST_DAVE_PASSWORD", DAVE_PASSWORD)];
    let gw = gateway(env, "sasl_plain", &terminating_schemes(), &vars);
    let bootstrap = gw.bootstrap();
    std::thread::scope(|scope| {
        for t in 0..GUESSERS {
            let bootstrap = bootstrap.as_str();
            scope.spawn(move || {
                for i in 0..GUESSES_EACH {
                    guess(bootstrap, t * GUESSES_EACH + i);
                }
            });
        }
        // Served while a thousand guesses are answered.
        kcat_round_trip(&bootstrap, "while-guessing", "dave", DAVE_PASSWORD);
    });
    // Each guess was refused and closed (checked as it happened); the
    // round trip's own wrong-password check adds a few more.
    let log = gw.logs();
    let failed = log.matches("reason_code=\"authentication_failed\"").count();
    assert!(
        failed >= GUESSERS * GUESSES_EACH,
        "{failed} failed logins logged"
    );

    let mut skips = RawConn::connect(&bootstrap);
    skips.send(ApiKey::Metadata, 1, &MetadataRequest::default());
    assert!(
        skips.closed_by_peer(),
        "a request before the login was served"
    );

    let mut unknown = RawConn::connect(&bootstrap);
    assert_eq!(handshake(&mut unknown, "GSSAPI"), 33);
    assert!(unknown.closed_by_peer());

    // A whole frame whose auth bytes claim more than it holds: closed as a
    // bad frame.
    let mut truncated = RawConn::connect(&bootstrap);
    assert_eq!(handshake(&mut truncated, "PLAIN"), 0);
    let mut frame = vec![0, 0, 0, 16, 0, 36, 0, 1, 0, 0, 0, 2, 0xff, 0xff];
    frame.extend_from_slice(&[0, 0, 1, 0, 0, b'd']);
    truncated.send_bytes(&frame);
    assert!(truncated.closed_by_peer());

    let mut oversized = RawConn::connect(&bootstrap);
    assert_eq!(handshake(&mut oversized, "PLAIN"), 0);
    // SaslAuthenticate v1 declaring a 1 MiB token: sluice refuses it by
    // its length and may close while the rest is still being written.
    let token_len: i32 = 1024 * 1024;
    let mut frame = Vec::new();
    frame.extend_from_slice(&(10 + 4 + token_len).to_be_bytes());
    frame.extend_from_slice(&[0, 36, 0, 1, 0, 0, 0, 9, 0xff, 0xff]);
    frame.extend_from_slice(&token_len.to_be_bytes());
    frame.resize(frame.len() + token_len as usize, b'x');
    let _ = std::io::Write::write_all(&mut oversized.stream, &frame);
    assert!(oversized.closed_by_peer());

    // The truncated message and the oversized one (refused by its length
    // before it is read) are both bad frames.
    for reason in ["not_authenticated", "client_invalid_frame"] {
        // Logged just after the close the client saw.
        gw.wait_log(
            &format!("reason_code=\"{reason}\""),
            Duration::from_secs(30),
        );
    }
    let log = gw.logs();
    assert!(
        !log.contains(DAVE_PASSWORD) && !log.contains("guess-"),
        "a password reached the log"
    );
}
