//! Arbitrary bytes → scenario parser and validator, and the diagnostics
//! `eosim check` renders: never a panic; every error located in the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = eosim_fuzz::scenario_text(data) {
        let _ = eosim_fuzz::parse(text);
    }
});
