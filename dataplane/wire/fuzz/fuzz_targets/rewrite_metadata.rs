#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_wire::api_key;

fuzz_target!(|data: &[u8]| {
    sluice_wire_fuzz::fuzz_rewrite(api_key::METADATA, 13, data);
});
