#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_wire::frame::{frame_len, DEFAULT_MAX_FRAME, LENGTH_PREFIX};
use sluice_wire::header::{peek_request_header, response_correlation_id};
use sluice_wire::produce::produce_acks;

fuzz_target!(|data: &[u8]| {
    for (min_body, detect) in [(8, true), (8, false), (4, false)] {
        if let Ok(Some(n)) = frame_len(data, DEFAULT_MAX_FRAME, min_body, detect) {
            assert!(n >= LENGTH_PREFIX + min_body);
            assert!(n - LENGTH_PREFIX <= DEFAULT_MAX_FRAME);
        }
    }
    // The hot path peeks at a frame body.
    let body = data.get(LENGTH_PREFIX..).unwrap_or_default();
    let _ = response_correlation_id(body);
    if let Ok(header) = peek_request_header(body) {
        assert!(header.api_key >= 0);
        let _ = produce_acks(body, header.api_version);
    }
    // And every Produce version on the same bytes, header or not.
    for version in -1..=14 {
        let _ = produce_acks(body, version);
    }
});
