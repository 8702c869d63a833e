//! F-rebalance from the knob: drawn rebalances break M3 and leave M4's
//! claims intact, and a failure shrinks to a schedule that names the
//! rebalance.

use models::check::CheckId;
use models::run;
use models::scenario::Scenario;
use models::scenario::spec::FaultEvent;
use models::shrink;

fn drawn(model: &str) -> Scenario {
    let text = format!(
        "Scenario(name: \"drawn-rebalances\", model: {model}, workload: (messages: 20),
            network: (default: (loss: Ratio(1, 10), duplicate: Ratio(1, 10))),
            consumer: (processing_ms: 10),
            faults: (until_ms: 300, rebalance: Ratio(1, 1)),
            expect: Pass)"
    );
    Scenario::parse("drawn.ron", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn violates(s: &Scenario, seed: u64, check: CheckId) -> bool {
    run::run(s, seed, false)
        .violations()
        .any(|(v, _)| v.check == check)
}

#[test]
fn drawn_rebalances_break_m3_and_shrink_to_a_scheduled_rebalance() {
    let s = drawn("M3");
    let seed = (0..50)
        .find(|seed| violates(&s, *seed, CheckId::C3))
        .expect("within 50 seeds two consumers pass M3's check");
    let m = shrink::shrink(&s, seed, Some(CheckId::C3), &mut || true).unwrap();
    let rebalances = m
        .spec
        .faults
        .schedule
        .iter()
        .filter(|e| matches!(e, FaultEvent::Rebalance { .. }))
        .count();
    assert!(rebalances >= 1, "{:?}", m.spec.faults.schedule);
    assert!(m.spec.faults.rebalance.is_none(), "seedless");
}

#[test]
fn m4_keeps_its_claims_under_drawn_rebalances_with_loss_and_duplicates() {
    keeps_its_claims(&drawn("M4"));
}

#[test]
fn m7_fences_every_zombie_a_drawn_rebalance_leaves() {
    let s = drawn("M7");
    keeps_its_claims(&s);
    let fenced_zombies = (0..50)
        .map(|seed| run::run(&s, seed, true))
        .filter(|r| r.trace.iter().any(|e| e.label.starts_with("NotAssigned")))
        .count();
    assert!(
        fenced_zombies > 0,
        "some zombie asked to rejoin and was refused"
    );
}

fn keeps_its_claims(s: &Scenario) {
    let claims = s.model().info().claims;
    let mut moved = 0;
    for seed in 0..200 {
        let report = run::run(s, seed, false);
        moved += report.ledger.rebalances.len();
        let broken: Vec<CheckId> = report
            .violations()
            .map(|(v, _)| v.check)
            .filter(|c| claims.contains(c))
            .collect();
        assert!(broken.is_empty(), "seed {seed}: {broken:?}");
    }
    assert!(moved >= 200, "the partition really moved: {moved} times");
}

#[test]
fn a_rebalance_run_is_the_same_run_twice() {
    let s = drawn("M3");
    for seed in 0..20 {
        let a = run::run(&s, seed, false);
        let b = run::run(&s, seed, false);
        assert_eq!(a.end.digest, b.end.digest, "seed {seed}");
        assert_eq!(a.end.stats, b.end.stats, "seed {seed}");
    }
}
