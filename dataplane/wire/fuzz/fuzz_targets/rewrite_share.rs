#![no_main]

use libfuzzer_sys::fuzz_target;

// ShareFetch (78) or ShareAcknowledge (79), picked by the first byte.
fuzz_target!(|data: &[u8]| {
    if let Some((&which, rest)) = data.split_first() {
        sluice_wire_fuzz::fuzz_rewrite(78 + i16::from(which & 1), 1, rest);
    }
});
