//! Arbitrary bytes → a scenario, parsed, validated, clamped to a small
//! workload and tight bounds, and run to a verdict: never a panic.
#![no_main]

use eosim::models::run;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = eosim_fuzz::scenario_text(data) else {
        return;
    };
    let Some(scenario) = eosim_fuzz::parse(text)
        .as_ref()
        .and_then(eosim_fuzz::clamped)
    else {
        return;
    };
    let _ = run::run(&scenario, scenario.seed(), false);
});
