//! Properties that mirror the fuzz targets in `fuzz/`, on the stable
//! toolchain: mutated bundled scenarios never panic the parser and
//! validator and every error points into the text; a valid scenario with
//! small random bounds runs to a verdict, the same one twice; hostile shard
//! files never panic `merge` and never wrap a total around.
//!
//! Each property runs a few dozen cases by default; `PROPTEST_CASES=2000`
//! runs more (as `.ci/run` does where `cargo fuzz` is not available).

// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use eosim::models::run;
use eosim::models::scenario::{Scenario, ScenarioError};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// `cases` cases, unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// The text of every bundled scenario and fixture, in a fixed order.
fn bundled() -> &'static [String] {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TEXTS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["scenarios", "tests/fixtures", "tests/malformed"] {
            collect(&root.join(dir), &mut files);
        }
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "ron") {
            out.push(path);
        }
    }
}

/// The bundled scenarios that are valid.
fn valid() -> &'static [Scenario] {
    static VALID: std::sync::OnceLock<Vec<Scenario>> = std::sync::OnceLock::new();
    VALID.get_or_init(|| {
        bundled()
            .iter()
            .filter_map(|t| Scenario::parse("bundled.ron", t).ok())
            .collect()
    })
}

/// One edit of a scenario's text.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, char),
    Duplicate(usize, usize),
}

/// Text the scenario grammar and validator have opinions about.
const TOKENS: [&str; 28] = [
    "(",
    ")",
    ",",
    ":",
    "\"",
    "[",
    "]",
    "//",
    "/*",
    "\n",
    "\u{feff}",
    "é",
    "0",
    "-1",
    "18446744073709551615",
    "4294967296",
    "Ratio(0, 0)",
    "Ratio(5, 1)",
    "Some(",
    "messages: 0",
    "producers: 4294967295",
    "events_max: 0",
    "delay_us_max: 18446744073709551615",
    "schedule: [Crash(actor: \"broker\", at_point: \"x\", nth: 0)]",
    "links: [(from: \"broker\", to: \"nobody\")]",
    "expect: Violates([C3, C99])",
    "model: M99",
    "name: \"\"",
];

fn edit() -> impl Strategy<Value = Edit> {
    let token = prop_oneof![
        4 => proptest::sample::select(&TOKENS[..]).prop_map(str::to_string),
        2 => proptest::collection::vec(any::<char>(), 1..4).prop_map(String::from_iter),
        // A line past the graphical renderer's columns.
        1 => (1000usize..1200).prop_map(|n| "x".repeat(n)),
    ];
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), token).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Edit::Replace(at, c)),
        (any::<usize>(), 1usize..40).prop_map(|(at, n)| Edit::Duplicate(at, n)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let at = |i: usize, len: usize| i % (len + 1);
        match e {
            Edit::Delete(i, n) => {
                let a = at(*i, chars.len());
                let b = (a + n).min(chars.len());
                chars.drain(a..b);
            }
            Edit::Insert(i, t) => {
                let a = at(*i, chars.len());
                chars.splice(a..a, t.chars());
            }
            Edit::Replace(i, c) => {
                if !chars.is_empty() {
                    let a = i % chars.len();
                    chars[a] = *c;
                }
            }
            Edit::Duplicate(i, n) => {
                let a = at(*i, chars.len());
                let b = (a + n).min(chars.len());
                let copy: Vec<char> = chars[a..b].to_vec();
                chars.splice(b..b, copy);
            }
        }
    }
    chars.into_iter().collect()
}

/// Every diagnostic lies inside `text`, on a character boundary, at a line
/// and column from 1; and the error renders as `eosim check` prints it.
fn assert_located(text: &str, e: &ScenarioError) -> Result<(), TestCaseError> {
    if !matches!(e, ScenarioError::Invalid { .. }) {
        return Err(TestCaseError::fail(format!("not a located error: {e}")));
    }
    if let Some(wrong) = eosim::fuzzing::misplaced(text, e) {
        return Err(TestCaseError::fail(wrong));
    }
    let rendered = eosim::fuzzing::render_error(e);
    prop_assert!(!rendered.is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn mutated_bundled_scenarios_never_panic_and_every_error_points_into_the_text(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let text = apply(which.get::<String>(bundled()), &edits);
        if let Err(e) = Scenario::parse("mutant.ron", &text) {
            assert_located(&text, &e)?;
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn a_valid_scenario_with_small_bounds_runs_to_the_same_verdict_twice(
        which in any::<prop::sample::Index>(),
        messages in 1u32..6,
        events_max in 1u64..4000,
        time_ms_max in 1u64..4000,
        drain_ms_max in 0u64..2000,
        seed in any::<u64>(),
    ) {
        let mut spec = which.get(valid()).spec().clone();
        spec.workload.messages = messages;
        spec.workload.producers = spec.workload.producers.min(2);
        spec.limits.events_max = events_max;
        spec.limits.time_ms_max = time_ms_max;
        spec.limits.drain_ms_max = drain_ms_max;
        // Small bounds can make a spec invalid (a key space above its
        // messages): that must be said, not panicked.
        let scenario = match Scenario::from_spec("small.ron", spec) {
            Ok(s) => s,
            Err(e) => {
                let text = match &e {
                    ScenarioError::Invalid { source, .. } => source.clone(),
                    _ => String::new(),
                };
                return assert_located(&text, &e);
            }
        };
        let first = run::run(&scenario, seed, false);
        let second = run::run(&scenario, seed, false);
        prop_assert_eq!(first.end.digest, second.end.digest);
        prop_assert_eq!(first.verdict, second.verdict);
        prop_assert_eq!(first.events(), second.events());
    }
}

/// One shard result file's fields, hostile or plausible.
#[derive(Clone, Debug)]
struct Shard {
    schema: u32,
    hash: &'static str,
    seeds: &'static str,
    index: u64,
    count: u64,
    counts: [u64; 4],
    by_check: Vec<(&'static str, u64)>,
    clusters: Vec<(&'static str, &'static str, u64, bool)>,
    missing: Vec<(&'static str, u64)>,
    unchecked: Vec<(&'static str, u64)>,
    digest_sum: &'static str,
    /// Make `runs` the seeds of its share, the verdicts add up to it and
    /// no count exceed it, so that the case gets past the first checks.
    consistent: bool,
}

/// A count: small, or near the top of u64.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..14,
        1 => Just(u64::MAX),
        1 => Just(u64::MAX / 2 + 1),
        1 => Just(1u64 << 20),
    ]
}

fn check() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&["C1", "C3", "C11", "C14", "C99"][..])
}

fn shard() -> impl Strategy<Value = Shard> {
    let head = (
        prop_oneof![9 => Just(1u32), 1 => any::<u32>()],
        prop_oneof![
            8 => Just("4e82e111469e63c5"),
            1 => proptest::sample::select(&["4e82e111469e63c6", "xyz", ""][..]),
        ],
        proptest::sample::select(
            &[
                "0..12",
                "0..12",
                "3..4",
                "0..18446744073709551615",
                "1,5,9",
                "0,0,7",
                "random:3",
                "5..2",
                "",
            ][..],
        ),
        prop_oneof![8 => 0u64..4, 1 => Just(u64::MAX)],
        prop_oneof![8 => 0u64..5, 1 => Just(u64::MAX), 1 => Just((1u64 << 20) + 1)],
        [count(), count(), count(), count()],
    );
    let body = (
        proptest::collection::vec((check(), count()), 0..3),
        proptest::collection::vec(
            (
                check(),
                proptest::sample::select(&["a", "b"][..]),
                count(),
                any::<bool>(),
            ),
            0..3,
        ),
        proptest::collection::vec((check(), count()), 0..2),
        proptest::collection::vec((check(), count()), 0..2),
        proptest::sample::select(&["1dadb28b0e74b398", "ffffffffffffffff", "zz"][..]),
        proptest::bool::weighted(0.8),
    );
    (head, body).prop_map(
        |(
            (schema, hash, seeds, index, count, counts),
            (by_check, clusters, missing, unchecked, digest_sum, consistent),
        )| Shard {
            schema,
            hash,
            seeds,
            index,
            count,
            counts,
            by_check,
            clusters,
            missing,
            unchecked,
            digest_sum,
            consistent,
        },
    )
}

/// How many seeds of `seeds` are ≡ `index` (mod `count`), for a range or a
/// list (`None` for other forms or no shards).
fn share(seeds: &str, index: u64, count: u64) -> Option<u64> {
    if count == 0 {
        return None;
    }
    if let Some((a, b)) = seeds.split_once("..") {
        let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
        let below = |x: u64| {
            if x > index {
                (x - index - 1) / count + 1
            } else {
                0
            }
        };
        return (a < b).then(|| below(b) - below(a));
    }
    let mut list: Vec<u64> = seeds
        .split(',')
        .map(|s| s.parse().ok())
        .collect::<Option<_>>()?;
    list.sort_unstable();
    list.dedup();
    Some(list.iter().filter(|s| *s % count == index).count() as u64)
}

fn shard_json(s: &Shard) -> String {
    let [mut runs, mut pass, mut fail, mut inconclusive] = s.counts;
    if s.consistent
        && let Some(n) = share(s.seeds, s.index, s.count)
    {
        runs = n;
        fail = fail.min(n);
        inconclusive = inconclusive.min(n - fail);
        pass = n - fail - inconclusive;
    }
    let at_most = |n: u64| if s.consistent { n.min(runs) } else { n };
    let by_check: serde_json::Map<String, serde_json::Value> = s
        .by_check
        .iter()
        .map(|(c, n)| ((*c).to_string(), at_most(*n).into()))
        .collect();
    let cluster = |check: &str, cause: &str, seeds: u64, expected: bool| {
        serde_json::json!({
            "check": check, "cause": cause, "seeds": seeds, "expected": expected,
            "smallest_seed": 3, "smallest_events": 200, "examples": [[200, 3], [240, 1]],
        })
    };
    serde_json::json!({
        "schema": s.schema,
        "scenario": "m1-at-most-once-holds",
        "file": "no-such-scenario.ron",
        "hash": s.hash,
        "seeds": s.seeds,
        "shard_index": s.index,
        "shard_count": s.count,
        "summary": {
            "runs": runs, "pass": pass, "fail": fail, "inconclusive": inconclusive,
            "by_check": by_check,
            "clusters": s.clusters.iter().map(|(c, why, n, e)| cluster(c, why, at_most(*n), *e)).collect::<Vec<_>>(),
            "missing": s.missing.iter().map(|(c, n)| cluster(c, "missing", at_most(*n), true)).collect::<Vec<_>>(),
            "unchecked": s.unchecked.iter().map(|(c, n)| serde_json::json!({"check": c, "why": "w", "seeds": at_most(*n)})).collect::<Vec<_>>(),
            "digest_sum": s.digest_sum,
        },
    })
    .to_string()
}

/// A scratch folder of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eosim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn hostile_shard_files_never_panic_merge_or_wrap_a_total(
        shards in proptest::collection::vec(shard(), 1..4),
        garble in proptest::option::of((any::<prop::sample::Index>(), 1usize..30)),
    ) {
        let dir = scratch("properties-merge");
        let mut files = Vec::new();
        for (i, s) in shards.iter().enumerate() {
            let mut text = shard_json(s);
            // Sometimes cut a file short: JSON that ends mid-value.
            if let Some((at, n)) = garble.filter(|_| i == 0) {
                let cut = at.index(text.len()).saturating_sub(n);
                text.truncate(cut);
            }
            let path = dir.join(format!("shard-{i}.json"));
            std::fs::write(&path, text).unwrap();
            files.push(path.to_string_lossy().into_owned());
        }
        if let Ok(s) = eosim::fuzzing::merge(&files) {
            let parts = s.pass.checked_add(s.fail).and_then(|n| n.checked_add(s.inconclusive));
            prop_assert_eq!(parts, Some(s.runs), "pass + fail + inconclusive is not the runs");
            let counts = s.by_check.values().chain(s.unchecked.values());
            let clusters = s.clusters.values().chain(s.missing.values()).map(|c| &c.seeds);
            for n in counts.chain(clusters) {
                prop_assert!(*n <= s.runs, "a count of {} seeds in a merge of {} runs", n, s.runs);
            }
        }
    }
}
