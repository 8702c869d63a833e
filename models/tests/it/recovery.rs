//! A recovery worker that compensates row by row, and can die between two
//! rows (`recovery: (compensate: RowByRow)`).

use models::check::CheckId;
use models::run;
use models::scenario::Scenario;

fn parse(text: &str) -> Scenario {
    Scenario::parse("recovery.ron", text).unwrap_or_else(|e| panic!("{e}"))
}

fn lesson_64() -> Scenario {
    let file = "scenarios/64-m0-recovery-dies-mid-compensation.ron";
    let text = std::fs::read_to_string(crate::root().join(file)).unwrap();
    Scenario::parse(file, &text).unwrap_or_else(|e| panic!("{e}"))
}

/// The crashes of the run's recovery worker: (message, point).
fn recovery_crashes(report: &run::RunReport) -> Vec<(String, &'static str)> {
    report
        .ledger
        .messages
        .iter()
        .flat_map(|(key, m)| {
            m.crashes
                .iter()
                .filter(|c| report.names[c.1.index()] == "recovery")
                .map(move |c| (key.to_string(), c.2))
        })
        .collect()
}

#[test]
fn a_worker_that_dies_between_two_rows_leaves_the_second_to_its_next_scan() {
    let s = lesson_64();
    let report = run::run(&s, 0, false);
    assert_eq!(
        recovery_crashes(&report),
        [("p1#3".to_string(), "before-compensating-a-row")],
        "the worker died with the second stuck row in hand"
    );
    let compensated: Vec<(String, u32)> = report
        .ledger
        .messages
        .iter()
        .filter(|(_, m)| m.compensations > 0)
        .map(|(k, m)| (k.to_string(), m.compensations))
        .collect();
    assert_eq!(compensated, [("p1#1".into(), 1), ("p1#3".into(), 1)]);
    assert!(
        report
            .ledger
            .messages
            .values()
            .all(|m| m.effect_count() == 1),
        "each message took effect once"
    );
    assert_eq!(report.violations().count(), 0);
    assert!(report.ledger.retry_probes > 0);
}

/// Whether a run's law probe found the seeds' law broken by a recovery
/// scan that died before a row.
fn scan_law_broken(s: &Scenario) -> bool {
    run::run(s, 0, false)
        .ledger
        .law_failures
        .iter()
        .any(|(_, _, _, f)| f.crash_point == Some("before-compensating-a-row"))
}

#[test]
fn the_law_probe_finds_a_recovery_scan_that_is_not_idempotent() {
    // Two rows stuck in `processing`; recovery steps that map `unprocessed`
    // to `processed` and `processing` to `unprocessed`: a row compensated
    // by a scan that died, then again by a whole scan, ends `processed`.
    let with_recovery = |recovery: &str| {
        parse(&format!(
            "Scenario(name: \"toggling\", model: Steps(name: \"toggling\",
                consumer: [InsertRow, IfStatus(is_not: Unprocessed, then: Skip),
                    SetStatus(Processing), Atomic([Effect, SetStatus(Processed)]),
                    CommitOffset],
                recovery: {recovery}, claims: ExactlyOnce),
            workload: (messages: 3),
            recovery: (compensate: RowByRow),
            faults: (schedule: [
                Crash(actor: \"consumer-1\",
                    at_point: \"after-set-status-processing-before-atomic\", nth: 1),
                Crash(actor: \"consumer-1\",
                    at_point: \"after-set-status-processing-before-atomic\", nth: 2),
            ]),
            expect: Pass)"
        ))
    };
    let toggling = with_recovery(
        "[IfStatus(is: Unprocessed, then: SetStatus(Processed)),
          IfStatus(is: Processing, then: SetStatus(Unprocessed))]",
    );
    assert!(scan_law_broken(&toggling));
    let seeds = with_recovery("[IfStatus(is: Processing, then: SetStatus(Unprocessed))]");
    assert!(!scan_law_broken(&seeds));
    assert!(!run::run(&seeds, 0, false).violates(CheckId::C15));
}

#[test]
fn a_crash_knob_naming_no_actor_leaves_the_recovery_worker_alone() {
    let s = parse(
        "Scenario(name: \"knob\", model: M0Atomic, workload: (messages: 20),
            recovery: (compensate: RowByRow),
            faults: (until_ms: 3000, crash: [(ratio: Ratio(1, 2))]),
            expect: Pass)",
    );
    for seed in 0..20 {
        assert_eq!(recovery_crashes(&run::run(&s, seed, false)), []);
    }
    let named = parse(
        "Scenario(name: \"knob\", model: M0Atomic, workload: (messages: 20),
            recovery: (compensate: RowByRow),
            faults: (until_ms: 3000, crash: [(ratio: Ratio(1, 2)),
                (actor: \"recovery\", ratio: Ratio(1, 1))]),
            expect: Pass)",
    );
    assert!((0..20).any(|seed| !recovery_crashes(&run::run(&named, seed, false)).is_empty()));
}
