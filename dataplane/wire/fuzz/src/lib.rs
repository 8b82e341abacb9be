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
