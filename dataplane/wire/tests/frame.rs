//! Framing and the request-header peeks of the hot path.

use sluice_wire::frame::{frame_len, DEFAULT_MAX_FRAME, LENGTH_PREFIX};
use sluice_wire::header::{
    peek_request_header, request_header_version, response_correlation_id, response_header_version,
    RequestHeader,
};
use sluice_wire::WireError;

const REQ: usize = 8;
const RESP: usize = 4;

fn prefixed(len: i32, body: &[u8]) -> Vec<u8> {
    let mut v = len.to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

#[test]
fn partial_prefix_waits() {
    for n in 0..LENGTH_PREFIX {
        let buf = &prefixed(12, &[])[..n];
        assert_eq!(
            frame_len(buf, DEFAULT_MAX_FRAME, REQ, true),
            Ok(None),
            "{n} bytes"
        );
        assert_eq!(frame_len(buf, DEFAULT_MAX_FRAME, REQ, false), Ok(None));
    }
}

#[test]
fn whole_frame_length_includes_the_prefix() {
    // Known as soon as the prefix is there, whatever of the body has come.
    let buf = prefixed(12, &[0; 3]);
    assert_eq!(frame_len(&buf, DEFAULT_MAX_FRAME, REQ, true), Ok(Some(16)));
    assert_eq!(
        frame_len(&buf[..4], DEFAULT_MAX_FRAME, RESP, false),
        Ok(Some(16))
    );
    // Exactly at the limits.
    assert_eq!(frame_len(&prefixed(8, &[]), 8, REQ, false), Ok(Some(12)));
    assert_eq!(frame_len(&prefixed(4, &[]), 100, RESP, false), Ok(Some(8)));
}

#[test]
fn negative_length() {
    assert_eq!(
        frame_len(&prefixed(-5, &[]), DEFAULT_MAX_FRAME, REQ, false),
        Err(WireError::NegativeLength(-5))
    );
    assert_eq!(
        frame_len(&prefixed(i32::MIN, &[]), DEFAULT_MAX_FRAME, REQ, false),
        Err(WireError::NegativeLength(i32::MIN))
    );
    assert_eq!(
        WireError::NegativeLength(-5).to_string(),
        "negative frame length -5"
    );
}

#[test]
fn too_large() {
    let len = DEFAULT_MAX_FRAME as i32 + 1;
    assert_eq!(
        frame_len(&prefixed(len, &[]), DEFAULT_MAX_FRAME, REQ, false),
        Err(WireError::FrameTooLarge {
            len: DEFAULT_MAX_FRAME + 1,
            max: DEFAULT_MAX_FRAME
        })
    );
    assert_eq!(
        frame_len(&prefixed(i32::MAX, &[]), 1024, RESP, false),
        Err(WireError::FrameTooLarge {
            len: i32::MAX as usize,
            max: 1024
        })
    );
}

#[test]
fn too_short() {
    assert_eq!(
        frame_len(&prefixed(7, &[]), DEFAULT_MAX_FRAME, REQ, false),
        Err(WireError::FrameTooShort { len: 7, need: 8 })
    );
    assert_eq!(
        frame_len(&prefixed(3, &[]), DEFAULT_MAX_FRAME, RESP, false),
        Err(WireError::FrameTooShort { len: 3, need: 4 })
    );
    assert_eq!(
        frame_len(&prefixed(0, &[]), DEFAULT_MAX_FRAME, RESP, false),
        Err(WireError::FrameTooShort { len: 0, need: 4 })
    );
}

/// The start of a real TLS 1.2/1.3 ClientHello record.
const CLIENT_HELLO: [u8; 11] = [
    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
];

#[test]
fn tls_client_hello_is_named() {
    assert_eq!(
        frame_len(&CLIENT_HELLO, DEFAULT_MAX_FRAME, REQ, true),
        Err(WireError::TlsOnPlaintext)
    );
    assert!(WireError::TlsOnPlaintext.to_string().contains("TLS"));
    // Not the first frame of a client: just an implausible length.
    assert!(matches!(
        frame_len(&CLIENT_HELLO, DEFAULT_MAX_FRAME, REQ, false),
        Err(WireError::FrameTooLarge { .. })
    ));
    // Fewer than 4 bytes: not decided yet.
    assert_eq!(
        frame_len(&CLIENT_HELLO[..3], DEFAULT_MAX_FRAME, REQ, true),
        Ok(None)
    );
}

#[test]
fn http_is_named() {
    for req in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"POST /topics HTTP/1.1\r\n",
        b"PUT /x HTTP/1.1\r\n",
        b"HEAD / HTTP/1.0\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ] {
        assert_eq!(
            frame_len(req, DEFAULT_MAX_FRAME, REQ, true),
            Err(WireError::HttpOnKafka),
            "{}",
            String::from_utf8_lossy(req)
        );
        assert!(frame_len(req, DEFAULT_MAX_FRAME, REQ, false).is_err());
    }
}

#[test]
fn request_header_peek() {
    let mut body = vec![0, 3, 0, 12, 0x7f, 0, 0, 1];
    body.extend_from_slice(&[0, 4, b'a', b'b', b'c', b'd']);
    assert_eq!(
        peek_request_header(&body),
        Ok(RequestHeader {
            api_key: 3,
            api_version: 12,
            correlation_id: 0x7f00_0001
        })
    );
    assert_eq!(
        peek_request_header(&[0xff, 0xfe, 0, 0, 0, 0, 0, 0]),
        Err(WireError::InvalidApiKey(-2))
    );
    for n in 0..8 {
        assert!(
            matches!(
                peek_request_header(&body[..n]),
                Err(WireError::Truncated(_))
            ),
            "{n}"
        );
    }
}

#[test]
fn response_correlation() {
    assert_eq!(response_correlation_id(&[0, 0, 1, 0, 9]), Ok(256));
    assert!(matches!(
        response_correlation_id(&[0, 0, 1]),
        Err(WireError::Truncated(_))
    ));
}

#[test]
fn header_versions() {
    // Produce: flexible (header v2 / v1) from v9.
    assert_eq!(request_header_version(0, 8), Some(1));
    assert_eq!(request_header_version(0, 9), Some(2));
    assert_eq!(response_header_version(0, 8), Some(0));
    assert_eq!(response_header_version(0, 9), Some(1));
    // ApiVersions responses always use header v0.
    assert_eq!(request_header_version(18, 3), Some(2));
    assert_eq!(response_header_version(18, 3), Some(0));
    assert_eq!(response_header_version(18, 4), Some(0));
    // Unknown api keys.
    assert_eq!(request_header_version(-1, 0), None);
    assert_eq!(response_header_version(1000, 0), None);
}
