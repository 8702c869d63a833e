//! Arbitrary bytes as one to four shard result files → `eosim merge`:
//! never a panic, and a merged summary whose counts add up (no sum
//! wrapped around).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let files: Vec<String> = eosim_fuzz::split(data, 4)
        .iter()
        .enumerate()
        .map(|(i, part)| {
            let path = dir.join(format!("shard-{i}.json"));
            std::fs::write(&path, part).expect("the scratch folder is writable");
            path.to_string_lossy().into_owned()
        })
        .collect();
    if let Ok(s) = eosim::fuzzing::merge(&files) {
        let parts = s
            .pass
            .checked_add(s.fail)
            .and_then(|n| n.checked_add(s.inconclusive));
        assert_eq!(
            parts,
            Some(s.runs),
            "pass + fail + inconclusive is not the runs"
        );
        let counts = s.by_check.values().chain(s.unchecked.values());
        let clusters = s
            .clusters
            .values()
            .chain(s.missing.values())
            .map(|c| &c.seeds);
        for n in counts.chain(clusters) {
            assert!(
                *n <= s.runs,
                "a count of {n} seeds in a merge of {} runs",
                s.runs
            );
        }
    }
});

fn scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| eosim_fuzz::scratch("merge"))
}
