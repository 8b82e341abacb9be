//! Shared driver of the rewrite fuzz targets.

use bytes::Bytes;
use sluice_wire::rewrite::{rewrite_response, BrokerAddressMap, Rewritten};

/// Even node ids have an address on the listener, odd ones do not, so both
/// the rewrite and the unmapped paths are reached.
pub struct HalfMap;

impl BrokerAddressMap for HalfMap {
    fn broker_endpoint(&self, node_id: i32) -> Option<(std::borrow::Cow<'_, str>, i32)> {
        (node_id % 2 == 0).then_some(("gateway.fuzz".into(), 9000))
    }
}

/// First byte: the api version, spread over -1..=max_version+1 so every
/// decodable version and both out-of-range neighbours are hit. The rest:
/// the response body (header included).
pub fn fuzz_rewrite(api_key: i16, max_version: i16, data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let span = u16::try_from(max_version + 3).unwrap_or(1).max(1);
    let version = (u16::from(first) % span) as i16 - 1;
    let body = Bytes::copy_from_slice(body);
    let Ok(outcome) = rewrite_response(api_key, version, &body, &HalfMap) else {
        return;
    };
    let Rewritten::Replaced(frame) = outcome.frame else {
        return;
    };
    // A replacement is a well-formed frame...
    let declared = i32::from_be_bytes(frame[..4].try_into().unwrap());
    assert_eq!(declared as usize, frame.len() - 4, "length prefix");
    // ...that the gateway itself reads back, and that needs no second pass:
    // every address is already the gateway's and unmapped brokers are gone.
    let again = rewrite_response(api_key, version, &frame.slice(4..), &HalfMap)
        .expect("rewritten frame must be readable");
    assert_eq!(
        again.frame,
        Rewritten::Unchanged,
        "rewrite is not idempotent"
    );
    assert!(again.unmapped.is_empty());
}

/// First byte: the Produce version (-1..=14). The rest: a Produce request
/// body. Whatever walks must also be answerable: a refusal of it decodes
/// with the crate's own request walk of the same partitions.
pub fn fuzz_produce_request(data: &[u8]) {
    use sluice_wire::produce::{min_refusable_version, refuse_produce, summarize_produce_request};
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let version = i16::from(first % 16) - 1;
    let Ok(summary) = summarize_produce_request(body, version) else {
        return;
    };
    let refusal = refuse_produce(7, version, &summary.topics, 44, |t, p| {
        format!("{} {} {}", t.topic, p.index, p.records_bytes)
    });
    match refusal {
        Ok(frame) => {
            let declared = i32::from_be_bytes(frame[..4].try_into().unwrap());
            assert_eq!(declared as usize, frame.len() - 4, "length prefix");
        }
        // Only versions the response encoder does not know may fail.
        Err(e) => assert!(
            version < min_refusable_version()
                || matches!(e, sluice_wire::WireError::UnsupportedVersion { .. }),
            "v{version}: {e}"
        ),
    }
}

/// First byte: the Fetch version (16..=18) and the arrival chunk size. The
/// rest: a Fetch response body, walked as it would be while streaming.
/// Every byte is forwarded once, in order, and a rewritten trailer keeps
/// its size.
pub fn fuzz_stream_fetch(data: &[u8]) {
    use sluice_wire::stream::{rewrite_fetch_trailer, FetchWalk, Step};
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let version = 16 + i16::from(first % 3);
    let chunk = usize::from(first / 3).max(1);
    let mut walk = FetchWalk::new(version);
    let (mut sent, mut arrived) = (0usize, chunk.min(body.len()));
    loop {
        let Ok(step) = walk.step(&body[sent..arrived]) else {
            return;
        };
        match step {
            Step::Forward(n) => {
                assert!(sent + n <= arrived, "forwarded bytes not walked");
                sent += n;
            }
            Step::Records(n) => {
                let Some(end) = sent.checked_add(n).filter(|&e| e <= body.len()) else {
                    return;
                };
                sent = end;
                arrived = arrived.max(sent);
            }
            Step::NeedMore if arrived == body.len() => return,
            Step::NeedMore => arrived = (arrived + chunk).min(body.len()),
            Step::Trailer => {
                let trailer = &body[sent..];
                if let Ok(Some((new, _))) = rewrite_fetch_trailer(version, trailer, &HalfMap) {
                    assert_eq!(new.len(), trailer.len(), "trailer changed size");
                }
                return;
            }
        }
    }
}

/// SASL as a client sends it: the first byte picks the request and its
/// version, the rest is the request body (header included) the gateway
/// reads, and what it finds inside is parsed as PLAIN and SCRAM messages.
pub fn fuzz_sasl_request(data: &[u8]) {
    use sluice_wire::sasl::{
        authenticate_bytes, authenticate_response, handshake_mechanism, parse_plain,
        scram_username,
    };
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let version = i16::from(first % 4);
    if first & 0x80 == 0 {
        let _ = handshake_mechanism(body, version);
        return;
    }
    let _ = authenticate_response(body);
    if let Ok(bytes) = authenticate_bytes(body, version) {
        let _ = parse_plain(bytes);
        let _ = scram_username(bytes);
    }
}
