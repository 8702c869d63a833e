//! Arbitrary bytes as the files of a run folder (`verdict.json`,
//! `scenario.ron`, `repro.txt`, `events.txt`, in that order, cut at
//! [`eosim_fuzz::SEPARATOR`]; a missing part is a missing file; the
//! longest last, so that an input cut short loses events) →
//! `eosim replay <dir>`: never a panic, and an exit code of the design's.
#![no_main]

use libfuzzer_sys::fuzz_target;

const FILES: [&str; 4] = ["verdict.json", "scenario.ron", "repro.txt", "events.txt"];

fuzz_target!(|data: &[u8]| {
    let parts = eosim_fuzz::split(data, FILES.len());
    // A valid scenario with a large workload is slow, not wrong: keep each
    // run short (the replay must run the scenario as written).
    if let Some(text) = parts.get(1).and_then(|p| eosim_fuzz::scenario_text(p))
        && let Ok(s) = eosim::models::scenario::Scenario::parse("scenario.ron", text)
    {
        let w = &s.spec().workload;
        if u64::from(w.producers) * u64::from(w.messages) > 64 {
            return;
        }
    }
    let dir = scratch();
    for name in FILES {
        let _ = std::fs::remove_file(dir.join(name));
    }
    for (name, part) in FILES.iter().zip(&parts) {
        std::fs::write(dir.join(name), part).expect("the scratch folder is writable");
    }
    let code = eosim::fuzzing::replay(&dir.to_string_lossy());
    assert!(matches!(code, 0 | 2 | 4 | 5), "replay exited {code}");
});

fn scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| eosim_fuzz::scratch("replay"))
}
