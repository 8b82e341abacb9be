//! SASL requests at every version kafka-protocol knows, and the PLAIN and
//! SCRAM messages they carry.

mod common;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, RequestHeader, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::{Encodable, Message};
use sluice_wire::sasl::{authenticate_bytes, handshake_mechanism, parse_plain, scram_username};

fn body_of<M: Encodable>(key: ApiKey, v: i16, message: &M) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(v)
        .with_correlation_id(3)
        .with_client_id(Some(common::s("client")));
    let hv = key.request_header_version(v);
    let mut out = BytesMut::new();
    header.encode(&mut out, hv).unwrap();
    message.encode(&mut out, v).unwrap();
    out.to_vec()
}

#[test]
fn handshake_and_authenticate_at_every_version() {
    for v in SaslHandshakeRequest::VERSIONS.min..=SaslHandshakeRequest::VERSIONS.max {
        let request = SaslHandshakeRequest::default().with_mechanism(common::s("SCRAM-SHA-512"));
        let body = body_of(ApiKey::SaslHandshake, v, &request);
        assert_eq!(handshake_mechanism(&body, v), Ok("SCRAM-SHA-512"), "v{v}");
        for cut in 0..body.len() {
            assert!(
                handshake_mechanism(&body[..cut], v).is_err(),
                "v{v} cut {cut}"
            );
        }
    }
    let message = b"\0alice\0alice-secret";
    for v in SaslAuthenticateRequest::VERSIONS.min..=SaslAuthenticateRequest::VERSIONS.max {
        let request =
            SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from_static(message));
        let body = body_of(ApiKey::SaslAuthenticate, v, &request);
        assert_eq!(authenticate_bytes(&body, v), Ok(&message[..]), "v{v}");
    }
}

#[test]
fn plain_messages_name_their_user_and_never_print_the_password() {
    let plain = parse_plain(b"admin\0alice\0alice-secret").unwrap();
    assert_eq!((plain.authzid, plain.username), ("admin", "alice"));
    assert_eq!(plain.password, b"alice-secret");
    assert!(!format!("{plain:?}").contains("alice-secret"));
    for bad in [
        &b""[..],
        b"alice",
        b"\0alice",
        b"\0\0pw",
        b"\0alice\0",
        b"\0\xff\0pw",
        b"\0a\0p\0w",
    ] {
        assert!(parse_plain(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn scram_client_first_messages_name_their_user() {
    assert_eq!(scram_username(b"n,,n=alice,r=abc").unwrap(), "alice");
    assert_eq!(
        scram_username(b"n,a=admin,n=a=2Cb=3Dc,r=x").unwrap(),
        "a,b=c"
    );
    for bad in [
        &b""[..],
        b"n,,",
        b"n,,r=abc",
        b"n,,n=,r=x",
        b"n,,n=a=4,r=x",
        b"n,,n=a=",
        b"\xff",
    ] {
        assert!(scram_username(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn discovery_requests_decode_as_kafka_would_read_them() {
    use kafka_protocol::protocol::Decodable;
    let frame = sluice_wire::sasl::encode_handshake_request(5, "PLAIN");
    let mut body = frame.slice(4..);
    let header = RequestHeader::decode(&mut body, 1).unwrap();
    assert_eq!(
        (header.request_api_key, header.request_api_version),
        (17, 1)
    );
    let request = SaslHandshakeRequest::decode(&mut body, 1).unwrap();
    assert_eq!(request.mechanism.as_str(), "PLAIN");
    let frame = sluice_wire::sasl::encode_authenticate_request(6, b"\0u\0p");
    let mut body = frame.slice(4..);
    RequestHeader::decode(&mut body, 1).unwrap();
    let request = SaslAuthenticateRequest::decode(&mut body, 1).unwrap();
    assert_eq!(&request.auth_bytes[..], b"\0u\0p");
}

#[test]
fn discovery_reads_sasl_response_errors() {
    use kafka_protocol::messages::{
        ResponseHeader, SaslAuthenticateResponse, SaslHandshakeResponse,
    };
    let mut out = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(5)
        .encode(&mut out, 0)
        .unwrap();
    SaslHandshakeResponse::default()
        .with_error_code(33)
        .encode(&mut out, 1)
        .unwrap();
    assert_eq!(sluice_wire::sasl::handshake_response_error(&out), Ok(33));
    let mut out = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(6)
        .encode(&mut out, 0)
        .unwrap();
    SaslAuthenticateResponse::default()
        .with_error_code(58)
        .with_error_message(Some(common::s("Invalid username or password")))
        .with_auth_bytes(bytes::Bytes::from_static(b"r=abc"))
        .encode(&mut out, 1)
        .unwrap();
    let read = sluice_wire::sasl::authenticate_response(&out).unwrap();
    assert_eq!(read.error_code, 58);
    assert_eq!(
        read.error_message.as_deref(),
        Some("Invalid username or password")
    );
    assert_eq!(read.auth_bytes, b"r=abc");
    assert!(sluice_wire::sasl::authenticate_response(&out[..5]).is_err());
    assert!(sluice_wire::sasl::authenticate_response(&out[..out.len() - 12]).is_err());
}
