//! The set-if-absent protocol through eosim's library calls only: the law
//! probe, a sweep, shrinking, replay by digest and the report folder.

use eosim::models::check::CheckId;
use eosim::models::run::{self, Verdict};
use eosim::models::scenario::Scenario;
use eosim::models::{record, shrink, sweep};

/// Install the registry with both variants (once per test process) and
/// read one of the crate's scenarios.
fn scenario(file: &str) -> Scenario {
    let _ = kv_dedup::registry().install();
    let path = format!("{}/scenarios/{file}", env!("CARGO_MANIFEST_DIR"));
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_law_probe_and_the_own_property_break_the_naive_variant_only() {
    let naive = run::run(&scenario("kv-dedup-crash-loses.ron"), 0, false);
    assert_eq!(naive.verdict, Verdict::Pass, "every expected check broke");
    let own = CheckId::Property("DeliveredTakesEffect");
    for check in [CheckId::C1, CheckId::C8, CheckId::C15, own] {
        assert!(naive.violates(check), "{check}");
    }
    let atomic = run::run(&scenario("kv-dedup-atomic-holds.ron"), 0, false);
    assert_eq!(atomic.verdict, Verdict::Pass);
    for check in [CheckId::C1, CheckId::C3, CheckId::C14, CheckId::C15, own] {
        assert!(!atomic.violates(check), "{check}");
    }
}

#[test]
fn a_sweep_of_the_atomic_variant_keeps_its_claims_on_every_seed() {
    let s = scenario("kv-dedup-atomic-holds.ron");
    let mut buffers = Default::default();
    let mut crashed = 0;
    for seed in 0..40 {
        let result = sweep::run_seed(&s, seed, &mut buffers);
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "seed {seed}: {:?}",
            result.found
        );
        let report = run::run(&s, seed, false);
        crashed += u64::from(report.end.stats.crashes > 0);
    }
    assert!(crashed > 10, "crashes happened in {crashed} of 40 seeds");
}

#[test]
fn a_loss_shrinks_to_one_crash_and_replays_with_the_same_digest() {
    let s = scenario("kv-dedup-crash-loses.ron");
    let shrunk = shrink::shrink(&s, 0, Some(CheckId::C1), &mut || true).unwrap();
    assert_eq!(shrunk.check, CheckId::C1);
    assert!(shrunk.after.events < shrunk.before.events, "{shrunk:?}");
    let text = shrink::compact_ron(&shrunk.spec);
    assert!(text.contains("after-claim-before-effect"), "{text}");
    let min = Scenario::parse("min.ron", &text).unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (run::run(&min, 0, false), run::run(&min, 1, false));
    assert!(a.violates(CheckId::C1) && b.violates(CheckId::C1));
    assert_eq!(a.end.digest, b.end.digest, "a seedless scenario is one run");
    let again = run::run(&s, 0, false);
    assert_eq!(run::run(&s, 0, false).end.digest, again.end.digest);
}

#[test]
fn the_report_folder_tells_the_protocols_own_cause() {
    let s = scenario("kv-dedup-crash-loses.ron");
    let out = std::env::temp_dir().join(format!("kv-dedup-report-{}", std::process::id()));
    let rec = record::record(&s, 0);
    let dir = eosim::runfolder::write(out.to_str().unwrap(), &s, &rec, "kv.ron").unwrap();
    let explain = std::fs::read_to_string(dir.join("explain.txt")).unwrap();
    assert!(
        explain.contains("redelivery found the key taken"),
        "{explain}"
    );
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("KV-setnx"), "the page names the protocol");
    std::fs::remove_dir_all(out).unwrap();
}
