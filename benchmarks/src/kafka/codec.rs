//! Request and response encoding on top of the `kafka-protocol` crate.

use std::panic::{catch_unwind, AssertUnwindSafe};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

pub use crate::error::{kafka_error_kind, ProtocolError};

/// The client id every request carries, so broker logs show who sent it.
pub const CLIENT_ID: &str = "sluice-bench";

/// Appends one request frame (length, header, body) to `out`.
pub fn encode_request<M: Encodable>(
    out: &mut BytesMut,
    api: ApiKey,
    version: i16,
    correlation: i32,
    body: &M,
) -> Result<(), ProtocolError> {
    let start = begin_frame(out);
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
    let encode_err = |e: anyhow::Error| ProtocolError::Encode {
        api,
        version,
        reason: e.to_string(),
    };
    header
        .encode(out, api.request_header_version(version))
        .map_err(encode_err)?;
    body.encode(out, version).map_err(encode_err)?;
    finish_frame(out, start);
    Ok(())
}

/// Appends one response frame (length, header, body) to `out`.
pub fn encode_response<M: Encodable>(
    out: &mut BytesMut,
    api: ApiKey,
    version: i16,
    correlation: i32,
    body: &M,
) -> Result<(), ProtocolError> {
    let start = begin_frame(out);
    let encode_err = |e: anyhow::Error| ProtocolError::Encode {
        api,
        version,
        reason: e.to_string(),
    };
    ResponseHeader::default()
        .with_correlation_id(correlation)
        .encode(out, api.response_header_version(version))
        .map_err(encode_err)?;
    body.encode(out, version).map_err(encode_err)?;
    finish_frame(out, start);
    Ok(())
}

fn begin_frame(out: &mut BytesMut) -> usize {
    let start = out.len();
    out.put_i32(0);
    start
}

fn finish_frame(out: &mut BytesMut, start: usize) {
    let len = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Strips the response header from `frame`, checking the correlation id,
/// and returns the body.
pub fn response_body(
    mut frame: Bytes,
    api: ApiKey,
    version: i16,
    expected_correlation: i32,
) -> Result<Bytes, ProtocolError> {
    let malformed = |reason: String| ProtocolError::Malformed {
        api,
        version,
        reason,
    };
    let header =
        guarded(|| ResponseHeader::decode(&mut frame, api.response_header_version(version)))
            .map_err(|e| malformed(format!("header: {e}")))?;
    if header.correlation_id != expected_correlation {
        return Err(ProtocolError::Correlation {
            expected: expected_correlation,
            got: header.correlation_id,
        });
    }
    Ok(frame)
}

/// Decodes a response body of a known api and version.
pub fn decode_body<M: Decodable>(
    mut body: Bytes,
    api: ApiKey,
    version: i16,
) -> Result<M, ProtocolError> {
    guarded(|| M::decode(&mut body, version)).map_err(|e| ProtocolError::Malformed {
        api,
        version,
        reason: e.to_string(),
    })
}

/// Decodes a request header and body (the responder's side).
pub fn decode_request_header(frame: &mut Bytes) -> Result<RequestHeader, ProtocolError> {
    if frame.len() < 4 {
        return Err(ProtocolError::MalformedRequest(
            "request shorter than its header".to_string(),
        ));
    }
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let api = ApiKey::try_from(api_key).map_err(|_| {
        ProtocolError::Unsupported(format!("unknown api key {api_key} (version {version})"))
    })?;
    guarded(|| RequestHeader::decode(frame, api.request_header_version(version)))
        .map_err(|e| ProtocolError::MalformedRequest(format!("header: {e}")))
}

pub fn decode_request<M: Decodable>(mut body: Bytes, version: i16) -> Result<M, ProtocolError> {
    guarded(|| M::decode(&mut body, version))
        .map_err(|e| ProtocolError::MalformedRequest(e.to_string()))
}

/// kafka-protocol reports bad input as errors; the guard turns a panic
/// anywhere below into one too, because bytes from the network must never
/// bring the tool down.
fn guarded<T>(decode: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    match catch_unwind(AssertUnwindSafe(decode)) {
        Ok(result) => result,
        Err(_) => Err(anyhow::anyhow!("decoder panicked on this input")),
    }
}

/// The error code at the start of a body (ApiVersions puts it first), read
/// without decoding the rest.
pub fn leading_error_code(body: &Bytes) -> Option<i16> {
    let mut peek = body.clone();
    (peek.remaining() >= 2).then(|| peek.get_i16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

    #[test]
    fn request_frames_carry_their_length_and_header() {
        let mut out = BytesMut::new();
        let body = ApiVersionsRequest::default();
        encode_request(&mut out, ApiKey::ApiVersions, 3, 7, &body).unwrap();
        let len = i32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize;
        assert_eq!(len, out.len() - 4);
        let mut frame = out.freeze().slice(4..);
        let header = decode_request_header(&mut frame).unwrap();
        assert_eq!(header.correlation_id, 7);
        assert_eq!(header.client_id.unwrap().as_str(), CLIENT_ID);
    }

    #[test]
    fn responses_round_trip_and_check_correlation() {
        let mut out = BytesMut::new();
        let body = ApiVersionsResponse::default().with_throttle_time_ms(5);
        encode_response(&mut out, ApiKey::ApiVersions, 3, 9, &body).unwrap();
        let frame = out.freeze().slice(4..);
        let err = response_body(frame.clone(), ApiKey::ApiVersions, 3, 8).unwrap_err();
        assert!(matches!(
            err,
            ProtocolError::Correlation {
                expected: 8,
                got: 9
            }
        ));
        let body = response_body(frame, ApiKey::ApiVersions, 3, 9).unwrap();
        let decoded: ApiVersionsResponse = decode_body(body, ApiKey::ApiVersions, 3).unwrap();
        assert_eq!(decoded.throttle_time_ms, 5);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let garbage = Bytes::from_static(&[0xff; 7]);
        let result: Result<ApiVersionsResponse, _> = decode_body(garbage, ApiKey::ApiVersions, 3);
        assert!(matches!(result, Err(ProtocolError::Malformed { .. })));
        let mut short = Bytes::from_static(&[0, 18]);
        assert!(decode_request_header(&mut short).is_err());
        let mut unknown = Bytes::from_static(&[0x7f, 0x00, 0, 0, 0, 0, 0, 1]);
        assert!(matches!(
            decode_request_header(&mut unknown),
            Err(ProtocolError::Unsupported(_))
        ));
    }
}
