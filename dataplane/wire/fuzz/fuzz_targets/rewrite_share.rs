#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_wire::api_key::{SHARE_ACKNOWLEDGE, SHARE_FETCH};

// ShareFetch or ShareAcknowledge, picked by the first byte.
fuzz_target!(|data: &[u8]| {
    if let Some((&which, rest)) = data.split_first() {
        let key = if which & 1 == 0 {
            SHARE_FETCH
        } else {
            SHARE_ACKNOWLEDGE
        };
        sluice_wire_fuzz::fuzz_rewrite(key, 1, rest);
    }
});
