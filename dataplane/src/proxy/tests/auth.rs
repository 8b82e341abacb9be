//! Client authentication in the pumps: which requests pass before a login,
//! and the gateway's own answers when it terminates SASL.

use std::sync::Arc;

use bytes::{Buf, Bytes};
use cp_sync::config::{Mediation, PlainPrincipal, VirtualAuthentication};
use cp_sync::credentials::ClientLogins;
use cp_sync::scram::{ClientFirst, ScramAlgorithm, ScramVerifier};
use cp_sync::secret::SecretRef;
use kafka_protocol::messages::{SaslAuthenticateResponse, SaslHandshakeResponse};
use kafka_protocol::protocol::Decodable;

use super::*;
use crate::auth::ClientAuth;

const METADATA: i16 = 3;
const API_VERSIONS: i16 = 18;
const HANDSHAKE: i16 = 17;
const AUTHENTICATE: i16 = 36;

fn plain_scheme(mediation: Mediation) -> VirtualAuthentication {
    VirtualAuthentication::SaslPlain {
        mediation,
        principals: Vec::<PlainPrincipal>::new(),
        session_lifetime_ms: None,
    }
}

fn scram_scheme() -> VirtualAuthentication {
    VirtualAuthentication::SaslScram {
        algorithm: ScramAlgorithm::Sha512,
        mediation: Mediation::Terminate,
        principals: Vec::new(),
        session_lifetime_ms: None,
    }
}

/// alice/alice-pw for PLAIN, bob/bob-pw for SCRAM-SHA-512.
fn logins() -> Arc<ClientLogins> {
    let mut logins = ClientLogins::default();
    let password = SecretRef::Literal("alice-pw".into())
        .resolve(&|_| None)
        .unwrap();
    logins.plain.insert("alice".into(), password);
    let verifier = ScramVerifier::generate(ScramAlgorithm::Sha512, "bob-pw", 4096).unwrap();
    logins
        .scram
        .insert((ScramAlgorithm::Sha512, "bob".into()), verifier);
    Arc::new(logins)
}

fn world(schemes: &[VirtualAuthentication]) -> World {
    World {
        auth: ClientAuth::compile(schemes, Some(logins())),
        ..World::default()
    }
}

fn terminating() -> World {
    world(&[plain_scheme(Mediation::Terminate), scram_scheme()])
}

fn string(text: &str) -> Vec<u8> {
    let mut out = (text.len() as i16).to_be_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out
}

fn handshake(correlation_id: i32, mechanism: &str) -> Vec<u8> {
    request(HANDSHAKE, 1, correlation_id, &string(mechanism))
}

fn authenticate(correlation_id: i32, auth_bytes: &[u8]) -> Vec<u8> {
    let mut body = (auth_bytes.len() as i32).to_be_bytes().to_vec();
    body.extend_from_slice(auth_bytes);
    request(AUTHENTICATE, 1, correlation_id, &body)
}

fn plain(user: &str, password: &str) -> Vec<u8> {
    format!("\0{user}\0{password}").into_bytes()
}

/// The body of one response frame after its correlation id.
fn answer_body(frame: &[u8], correlation_id: i32) -> Bytes {
    let mut bytes = Bytes::copy_from_slice(frame);
    let len = bytes.get_i32() as usize;
    assert_eq!(bytes.len(), len, "one whole frame");
    assert_eq!(bytes.get_i32(), correlation_id);
    bytes
}

fn handshake_answer(frame: &[u8], correlation_id: i32) -> SaslHandshakeResponse {
    SaslHandshakeResponse::decode(&mut answer_body(frame, correlation_id), 1).unwrap()
}

fn authenticate_answer(frame: &[u8], correlation_id: i32) -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::decode(&mut answer_body(frame, correlation_id), 1).unwrap()
}

#[test]
fn a_plain_login_is_checked_by_the_gateway_and_then_requests_pass() {
    on_executor(|| {
        let world = terminating();
        let mut rig = world.rig(limits());
        rig.client_sends(&handshake(2, "PLAIN"));
        let answer = handshake_answer(&rig.client_received(), 2);
        assert_eq!(answer.error_code, 0);
        let offered: Vec<&str> = answer.mechanisms.iter().map(|m| m.as_str()).collect();
        assert_eq!(offered, ["PLAIN", "SCRAM-SHA-512"]);
        rig.client_sends(&authenticate(3, &plain("alice", "alice-pw")));
        assert_eq!(authenticate_answer(&rig.client_received(), 3).error_code, 0);
        assert!(
            rig.broker_received().is_empty(),
            "the login stays at the gateway"
        );
        let metadata = request(METADATA, 1, 4, &[0, 0, 0, 0]);
        rig.client_sends(&metadata);
        assert_eq!(rig.broker_received(), metadata);
        let principal = world.stats.session.principal().unwrap();
        assert_eq!(
            (principal.name.as_str(), principal.mechanism),
            ("alice", "PLAIN")
        );
        assert!(principal.verified_by_gateway);
        assert!(rig.still_running());
    });
}

#[test]
fn api_versions_passes_before_a_login() {
    on_executor(|| {
        let world = terminating();
        let mut rig = world.rig(limits());
        let versions = request(API_VERSIONS, 0, 1, &[]);
        rig.client_sends(&versions);
        assert_eq!(rig.broker_received(), versions);
        assert!(rig.still_running());
    });
}

#[test]
fn a_wrong_password_is_refused_and_the_connection_closed() {
    for (user, password) in [("alice", "nope"), ("mallory", "alice-pw")] {
        on_executor(move || {
            let world = terminating();
            let mut rig = world.rig(limits());
            rig.client_sends(&handshake(1, "PLAIN"));
            rig.client_received();
            rig.client_sends(&authenticate(2, &plain(user, password)));
            let answer = authenticate_answer(&rig.client_received(), 2);
            assert_eq!(answer.error_code, 58);
            let message = answer.error_message.unwrap();
            assert!(
                message.contains("Invalid username or password"),
                "{message}"
            );
            assert!(!message.contains(password));
            assert_eq!(rig.ended().unwrap(), CloseReason::AuthenticationFailed);
            assert!(rig.broker_received().is_empty());
            assert!(world.stats.session.principal().is_none());
        });
    }
}

#[test]
fn requests_before_a_login_close_the_connection_unforwarded() {
    on_executor(|| {
        let world = terminating();
        let mut rig = world.rig(limits());
        rig.client_sends(&request(METADATA, 1, 1, &[0, 0, 0, 0]));
        let err = rig.ended().unwrap_err();
        assert!(
            matches!(err, ConnError::NotAuthenticated { api_key: 3 }),
            "{err}"
        );
        assert!(rig.broker_received().is_empty());
    });
    on_executor(|| {
        let world = terminating();
        let mut rig = world.rig(limits());
        rig.client_sends(&authenticate(1, &plain("alice", "alice-pw")));
        assert!(matches!(rig.ended(), Err(ConnError::SaslState(_))));
    });
    on_executor(|| {
        let world = terminating();
        let mut rig = world.rig(limits());
        rig.client_sends(&request(HANDSHAKE, 0, 1, &string("PLAIN")));
        assert!(matches!(rig.ended(), Err(ConnError::SaslState(_))), "v0");
    });
}

#[test]
fn a_mechanism_not_offered_is_answered_with_the_offered_ones() {
    on_executor(|| {
        let world = terminating();
        let mut rig = world.rig(limits());
        rig.client_sends(&handshake(1, "GSSAPI"));
        let answer = handshake_answer(&rig.client_received(), 1);
        assert_eq!(answer.error_code, 33);
        assert_eq!(answer.mechanisms.len(), 2);
        assert_eq!(rig.ended().unwrap(), CloseReason::AuthenticationFailed);
    });
}

#[test]
fn a_scram_login_is_checked_against_the_stored_verifier() {
    for (password, accepted) in [("bob-pw", true), ("guess", false)] {
        on_executor(move || {
            let world = terminating();
            let mut rig = world.rig(limits());
            rig.client_sends(&handshake(1, "SCRAM-SHA-512"));
            assert_eq!(handshake_answer(&rig.client_received(), 1).error_code, 0);
            let client = ClientFirst::new(ScramAlgorithm::Sha512, "bob", "clientnonce");
            rig.client_sends(&authenticate(2, &client.message()));
            let first = authenticate_answer(&rig.client_received(), 2);
            assert_eq!(first.error_code, 0);
            let (proof, last) = client.answer(&first.auth_bytes, password).unwrap();
            rig.client_sends(&authenticate(3, &proof));
            let answer = authenticate_answer(&rig.client_received(), 3);
            if accepted {
                assert_eq!(answer.error_code, 0);
                assert!(
                    last.check(&answer.auth_bytes).is_ok(),
                    "the gateway proved itself"
                );
                assert_eq!(world.stats.session.principal().unwrap().name, "bob");
                assert!(rig.still_running());
            } else {
                assert_eq!(answer.error_code, 58);
                assert_eq!(rig.ended().unwrap(), CloseReason::AuthenticationFailed);
            }
            assert!(rig.broker_received().is_empty());
        });
    }
}

#[test]
fn passthrough_forwards_the_login_and_notes_who_claims_it() {
    on_executor(|| {
        let world = world(&[plain_scheme(Mediation::Passthrough)]);
        let mut rig = world.rig(limits());
        let sent = [handshake(1, "PLAIN"), authenticate(2, &plain("carol", "x"))].concat();
        rig.client_sends(&sent);
        assert_eq!(rig.broker_received(), sent);
        let principal = world.stats.session.principal().unwrap();
        assert_eq!(principal.name, "carol");
        assert!(!principal.verified_by_gateway);
        rig.broker_sends(&[response(1, &[0, 0, 0, 0, 0, 0]), response(2, &[0; 10])].concat());
        rig.client_received();
        rig.client_sends(&handshake(3, "SCRAM-SHA-256"));
        assert_eq!(handshake_answer(&rig.client_received(), 3).error_code, 33);
    });
}

#[test]
fn an_anonymous_cluster_checks_nothing() {
    on_executor(|| {
        let world = World::default();
        let mut rig = world.rig(limits());
        let sent = [
            handshake(1, "PLAIN"),
            request(METADATA, 1, 2, &[0, 0, 0, 0]),
        ]
        .concat();
        rig.client_sends(&sent);
        assert_eq!(rig.broker_received(), sent);
        assert!(world.stats.session.principal().is_none());
    });
}

fn with_lifetime(ms: u64) -> World {
    world(&[VirtualAuthentication::SaslPlain {
        mediation: Mediation::Terminate,
        principals: Vec::new(),
        session_lifetime_ms: Some(ms),
    }])
}

/// Logs in as `user` on `rig` with correlation ids from `first_id`.
fn log_in(
    rig: &mut Rig<'_>,
    first_id: i32,
    user: &str,
    password: &str,
) -> SaslAuthenticateResponse {
    rig.client_sends(&handshake(first_id, "PLAIN"));
    assert_eq!(
        handshake_answer(&rig.client_received(), first_id).error_code,
        0
    );
    rig.client_sends(&authenticate(first_id + 1, &plain(user, password)));
    authenticate_answer(&rig.client_received(), first_id + 1)
}

#[test]
fn a_login_with_a_lifetime_expires_unless_renewed() {
    on_executor(|| {
        let world = with_lifetime(60_000);
        let mut rig = world.rig(limits());
        let answer = log_in(&mut rig, 1, "alice", "alice-pw");
        assert_eq!(answer.session_lifetime_ms, 60_000);
        let soon = Instant::now() + Duration::from_secs(61);
        assert!(world.stats.session.over(soon));
        // Logged in again: the session starts over and the connection
        // carries on.
        let again = log_in(&mut rig, 3, "alice", "alice-pw");
        assert_eq!(again.error_code, 0);
        assert!(rig.still_running());
        let metadata = request(METADATA, 1, 5, &[0, 0, 0, 0]);
        rig.client_sends(&metadata);
        assert_eq!(rig.broker_received(), metadata);
    });
}

#[test]
fn logging_in_again_as_someone_else_is_refused() {
    on_executor(|| {
        let mut logins = ClientLogins::default();
        for (user, pw) in [("alice", "alice-pw"), ("carol", "carol-pw")] {
            let secret = SecretRef::Literal(pw.into()).resolve(&|_| None).unwrap();
            logins.plain.insert(user.into(), secret);
        }
        let scheme = VirtualAuthentication::SaslPlain {
            mediation: Mediation::Terminate,
            principals: Vec::new(),
            session_lifetime_ms: Some(60_000),
        };
        let world = World {
            auth: ClientAuth::compile(&[scheme], Some(Arc::new(logins))),
            ..World::default()
        };
        let mut rig = world.rig(limits());
        assert_eq!(log_in(&mut rig, 1, "alice", "alice-pw").error_code, 0);
        assert_eq!(log_in(&mut rig, 3, "carol", "carol-pw").error_code, 58);
        assert_eq!(rig.ended().unwrap(), CloseReason::AuthenticationFailed);
    });
}

#[test]
fn without_a_lifetime_a_second_login_is_a_protocol_error() {
    on_executor(|| {
        let world = terminating();
        let mut rig = world.rig(limits());
        assert_eq!(log_in(&mut rig, 1, "alice", "alice-pw").error_code, 0);
        let tomorrow = Instant::now() + Duration::from_secs(86_400);
        assert!(!world.stats.session.over(tomorrow));
        rig.client_sends(&handshake(3, "PLAIN"));
        assert!(matches!(rig.ended(), Err(ConnError::SaslState(_))));
    });
}

/// The salt a server-first message gives `user` on a fresh connection of a
/// virtual cluster compiled from `logins`.
fn salt_for(logins: &Arc<ClientLogins>, user: &str) -> String {
    let mut salt = None;
    let logins = logins.clone();
    let user = user.to_owned();
    on_executor_with(
        move || {
            let world = World {
                auth: ClientAuth::compile(&[scram_scheme()], Some(logins)),
                ..World::default()
            };
            let mut rig = world.rig(limits());
            rig.client_sends(&handshake(1, "SCRAM-SHA-512"));
            rig.client_received();
            let client = ClientFirst::new(ScramAlgorithm::Sha512, &user, "nonce");
            rig.client_sends(&authenticate(2, &client.message()));
            let first = authenticate_answer(&rig.client_received(), 2);
            let text = String::from_utf8(first.auth_bytes.to_vec()).unwrap();
            text.split(',')
                .find(|f| f.starts_with("s="))
                .unwrap()
                .to_owned()
        },
        &mut salt,
    );
    salt.expect("the test ran")
}

#[test]
fn an_unknown_users_salt_is_as_stable_as_a_real_one() {
    let logins = logins();
    let (once, again) = (salt_for(&logins, "nobody"), salt_for(&logins, "nobody"));
    assert_eq!(once, again, "recompiled, the decoy salt changed");
    assert_ne!(
        salt_for(&logins, "somebody"),
        once,
        "one decoy salt for everyone"
    );
    assert_eq!(salt_for(&logins, "bob"), salt_for(&logins, "bob"));
}

#[test]
fn passthrough_oauth_notes_the_subject_the_token_claims() {
    use cp_sync::config::OauthBearer;
    use sluice_test_support::jwt::{claims, SigningKey};
    on_executor(|| {
        let scheme = VirtualAuthentication::OauthBearer(OauthBearer {
            mediation: Mediation::Passthrough,
            jwks: None,
            validate: Default::default(),
            claims_mapping: Default::default(),
            session_lifetime_ms: None,
        });
        let world = world(&[scheme]);
        let mut rig = world.rig(limits());
        let token = SigningKey::es256("k").sign(&claims("carol", "https://i", "kafka", 60));
        let message = format!("n,,\u{1}auth=Bearer {token}\u{1}\u{1}");
        let sent = [
            handshake(1, "OAUTHBEARER"),
            authenticate(2, message.as_bytes()),
        ]
        .concat();
        rig.client_sends(&sent);
        assert_eq!(rig.broker_received(), sent, "the broker checks the token");
        let principal = world.stats.session.principal().unwrap();
        assert_eq!(
            (principal.name.as_str(), principal.verified_by_gateway),
            ("carol", false)
        );
    });
}
