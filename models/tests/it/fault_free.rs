//! With every fault off, no model fails a check it claims: every registered
//! protocol, on every workload shape the bundled scenarios use, over FIFO
//! and over reordering links, for 200 seeds. Over FIFO links, where nothing
//! is lost, repeated or reordered, no check fails at all, claimed or not.
//!
//! Two claims are judged only where the catalogue says the model keeps them
//! under the fault they need: the law probe (C14, C15) forces a crash at
//! each crash point, so it is judged for models that survive F-crash (not
//! M0-naive, whose claim the lesson 08 shows broken on a clean history);
//! reordering links are F-reorder, so over them claims are judged for
//! models that survive it (not M7-pre890, whose requests must arrive in
//! order). A model whose broker has a bug breaks one claim on any history
//! (M7-past-lso's reader reads before the commit marker, C10: lesson 49);
//! that one check is not judged for it, every other is.
//!
//! Small workloads (8 messages) keep it fast: some 50,000 runs, about 15 s
//! in debug on two cores.

use models::check::CheckId;
use models::matrix::FaultClass;
use models::protocols::{Model, registry};
use models::run;
use models::scenario::Scenario;

const SEEDS: u64 = 200;

/// The workload shapes of the bundled scenarios, small: (name, the
/// scenario's workload and consumer sections, whether the consumers form a
/// group).
const SHAPES: &[(&str, &str, bool)] = &[
    // One producer, one partition, a message a millisecond (most lessons).
    ("one partition", "workload: (messages: 8),", false),
    // Everything sent at once (lesson 25, the W1 benchmark).
    ("burst", "workload: (messages: 8, interval_us: 0),", false),
    // Several producers and partitions (lesson 16).
    (
        "two producers, two partitions",
        "workload: (producers: 2, messages: 4, partitions: 2),",
        false,
    ),
    // A consumer group of two on one partition, processing taking time
    // (lessons 15, 19), no rebalance ever drawn. The lessons take 40 ms a
    // record to catch one in hand at a rebalance; at a message a
    // millisecond that is slower than the broker's 50 ms redelivery
    // timeout, which then rightly delivers waiting records again (as SQS
    // does past its visibility timeout): a repeat, not a fault-free run.
    (
        "group of two",
        "workload: (messages: 8), consumer: (processing_ms: 2),",
        true,
    ),
];

fn scenario(model: Model, (name, shape, group): (&str, &str, bool), fifo: bool) -> Scenario {
    let ordering = if fifo { "Fifo" } else { "Reordering" };
    let rebalance = if group { "rebalance: Ratio(0, 1)" } else { "" };
    let text = format!(
        "Scenario(name: \"fault-free\", model: {}, {shape}
            network: (default: (ordering: {ordering})),
            faults: ({rebalance}),
            expect: Pass)",
        model.name()
    );
    let file = format!("<{} · {name} · {ordering}>", model.name());
    Scenario::parse(&file, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `judged` checks of every model on every shape, over FIFO links
/// and, if `reordering`, over reordering links too, for [`SEEDS`] seeds;
/// returns each run that broke one, and checks that no fault was injected.
fn sweep(reordering: bool, judged: impl Fn(Model, bool) -> Vec<CheckId>) -> Vec<String> {
    let mut failures = Vec::new();
    let mut runs: u64 = 0;
    for &model in registry().models() {
        for &shape in SHAPES {
            // A group needs consumers that form one (not M0's worker, M8's
            // job, M12's lease holders); M12 leases one partition.
            if shape.2 && !model.has_consumer_group() {
                continue;
            }
            if shape.0.contains("two partitions") && model.uses_lease() {
                continue;
            }
            let links: &[bool] = if reordering { &[true, false] } else { &[true] };
            for &fifo in links {
                let checks = judged(model, fifo);
                if checks.is_empty() {
                    continue;
                }
                let s = scenario(model, shape, fifo);
                for seed in 0..SEEDS {
                    let report = run::run(&s, seed, false);
                    runs += 1;
                    let stats = report.end.stats;
                    let faults = stats.dropped + stats.duplicated + stats.crashes + stats.pauses;
                    assert_eq!(faults, 0, "{} seed {seed}: a fault was injected", s.file());
                    assert!(report.end.reason.is_quiet(), "{} seed {seed}", s.file());
                    let mut broken: Vec<CheckId> = report
                        .violations()
                        .map(|(v, _)| v.check)
                        .filter(|c| checks.contains(c))
                        .collect();
                    broken.dedup();
                    if !broken.is_empty() {
                        failures.push(format!("{} seed {seed}: {broken:?}", s.file()));
                    }
                }
            }
        }
    }
    let per_link = if reordering { 2 } else { 1 };
    assert!(
        runs >= 80 * SEEDS * per_link,
        "every model, shape and link: {runs} runs"
    );
    failures
}

/// Whether `check` is judged for `model` on a clean history: not the one
/// its storage's bug breaks ([`BROKEN_WITHOUT_A_FAULT`]); a law (C14, C15)
/// only where the model survives F-crash, because the probe forces a crash
/// at each crash point, and only where claimed, because a model that does
/// not claim it breaks it with no fault at all (at-least-once processes a
/// record twice if asked twice).
fn judged_for(model: Model, check: CheckId) -> bool {
    let info = model.info();
    let broken_by_its_bug = BROKEN_WITHOUT_A_FAULT.contains(&(info.name, check));
    !broken_by_its_bug
        && (!check.is_law()
            || (info.claims.contains(&check) && info.survives.contains(&FaultClass::Crash)))
}

/// Models whose storage has a bug that breaks a claim with no fault at all,
/// with the check it breaks: the bug is what their lesson teaches.
const BROKEN_WITHOUT_A_FAULT: [(&str, CheckId); 1] = [("M7FetchPastLso", CheckId::C10)];

#[test]
fn no_model_fails_a_claimed_check_without_a_fault() {
    let failures = sweep(true, |model, fifo| {
        // Reordering links are F-reorder: judged where the model survives it.
        if !fifo && !model.info().survives.contains(&FaultClass::Reorder) {
            return Vec::new();
        }
        let claims = model.info().claims.iter().copied();
        claims.filter(|c| judged_for(model, *c)).collect()
    });
    assert!(
        failures.is_empty(),
        "{} runs: {failures:#?}",
        failures.len()
    );
}

/// Over FIFO links with no fault, nothing is lost, repeated or reordered,
/// so no check fails at all, claimed or not (order per key and per
/// consumer included: C11, C12).
#[test]
fn over_fifo_links_without_a_fault_no_check_fails() {
    let failures = sweep(false, |model, _| {
        let all = CheckId::ALL.iter().copied();
        all.filter(|c| judged_for(model, *c)).collect()
    });
    assert!(
        failures.is_empty(),
        "{} runs: {failures:#?}",
        failures.len()
    );
}
