//! False verdicts found by writing scenarios as a new user would: each test
//! is a run that once failed a check the model keeps.

use models::check::CheckId;
use models::run;
use models::scenario::Scenario;

fn parse(text: &str) -> Scenario {
    Scenario::parse("verdicts.ron", text).unwrap_or_else(|e| panic!("{e}"))
}

/// The checks `s` violates at `seed`.
fn violated(s: &Scenario, seed: u64) -> Vec<CheckId> {
    let mut checks: Vec<CheckId> = run::run(s, seed, false)
        .violations()
        .map(|(v, _)| v.check)
        .collect();
    checks.dedup();
    checks
}

/// A restarted consumer re-fetches from its committed position: what the
/// broker sent its crashed process, and what its redelivery timers send
/// before the broker hears of the restart, do not reach the new process
/// ahead of lower offsets.
#[test]
fn a_restarted_consumer_reads_its_partition_in_order() {
    // Shrunk from M0-atomic under crashes at every point: p1#2's redelivery
    // left the broker just before the restart and arrived just after it,
    // ahead of p1#1's (C12 "0:1 back to 0:0").
    let m0 = parse(
        "Scenario(name: \"m0-atomic-restart\", model: M0Atomic,
            workload: (messages: 2),
            network: (default: (delay_us_min: 1000, delay_us_max: 1000, ordering: Fifo)),
            faults: (until_ms: 3000, schedule: [
                Crash(actor: \"consumer-1\", at_point: \"after-claim-before-effect\", nth: 1),
                Delay(link: \"broker->consumer-1\", nth: 1, delay_us: 1001),
            ]),
            expect: Pass)",
    );
    assert_eq!(violated(&m0, 0), [], "M0-atomic, one crash");
    // Shrunk from M7 with one consumer crash: p1#3's redelivery, sent to
    // the crashed task, reached the restarted one before p1#2's (C12 "0:2
    // back to 0:1").
    let m7 = parse(
        "Scenario(name: \"m7-restart\", model: M7,
            workload: (messages: 3),
            broker: (redeliver_ms: 200),
            network: (default: (delay_us_min: 1000, delay_us_max: 1000, ordering: Fifo)),
            faults: (until_ms: 2000, restart_after_ms: 600, schedule: [
                Crash(actor: \"consumer-1\", at_point: \"after-end-txn-before-ack\", nth: 1),
            ]),
            expect: Pass)",
    );
    assert_eq!(violated(&m7, 0), [], "M7, one crash");
    // The knobs those came from: crashes at every point of M0-atomic, and
    // consumer crashes of M7 (its redelivery timeout long enough that a
    // running task commits every record before it is redelivered). C12
    // holds, and so does every check the model claims. (M0's compensation
    // may still complete a stuck message after later ones: C11, which it
    // does not claim.)
    let sweeps = [
        "Scenario(name: \"m0-atomic-crashes\", model: M0Atomic, workload: (messages: 30),
            network: (default: (ordering: Fifo)),
            faults: (until_ms: 3000, crash: [(ratio: Ratio(1, 8))]),
            expect: Pass)",
        "Scenario(name: \"m7-crashes\", model: M7, workload: (messages: 5),
            broker: (redeliver_ms: 200),
            network: (default: (ordering: Fifo)),
            faults: (until_ms: 2000, restart_after_ms: 600,
                crash: [(actor: \"consumer-1\", ratio: Ratio(1, 10))]),
            expect: Pass)",
    ];
    for text in sweeps {
        let s = parse(text);
        let claims = s.model().info().claims;
        let mut crashed = 0;
        for seed in 0..100 {
            let report = run::run(&s, seed, false);
            crashed += report.end.stats.crashes;
            let broken: Vec<CheckId> = report
                .violations()
                .map(|(v, _)| v.check)
                .filter(|c| *c == CheckId::C12 || claims.contains(c))
                .collect();
            assert!(broken.is_empty(), "{} seed {seed}: {broken:?}", s.name());
        }
        assert!(crashed >= 50, "{}: the consumer really crashed", s.name());
    }
}

/// A lease holder computes each delivered record's write for a while; a
/// record that arrives meanwhile is queued behind it, not written in its
/// place. With no fault at all, every record is written once and in order.
#[test]
fn a_lease_holder_writes_every_record_it_is_delivered() {
    for model in ["M12", "M12LeaseOnly"] {
        let s = parse(&format!(
            "Scenario(name: \"lease-no-fault\", model: {model}, workload: (messages: 20),
                network: (default: (ordering: Fifo)),
                expect: Pass)"
        ));
        for seed in 0..50 {
            assert_eq!(violated(&s, seed), [], "{model} seed {seed}");
            let report = run::run(&s, seed, false);
            let redelivered = report
                .ledger
                .messages
                .values()
                .filter(|m| m.deliveries.len() > 1)
                .count();
            assert_eq!(redelivered, 0, "{model} seed {seed}: nothing is lost");
        }
    }
}

/// A pause (F-pause) is a fault: like a partition, it ends at the heal,
/// however long it was scheduled or drawn for. A consumer paused past the
/// heal used to sleep through the drain, and C16 blamed the model.
#[test]
fn a_pause_ends_at_the_heal() {
    let faults = [
        "schedule: [Pause(actor: \"consumer-1\", from_ms: 10, to_ms: 100000)]",
        "pause: [(actor: \"consumer-1\", ratio: Ratio(1, 1), for_ms: 100000)]",
    ];
    for f in faults {
        let s = parse(&format!(
            "Scenario(name: \"long-pause\", model: M4, workload: (messages: 150),
                faults: (until_ms: 100, {f}),
                expect: Pass)"
        ));
        for seed in 0..5 {
            let report = run::run(&s, seed, false);
            assert_eq!(violated(&s, seed), [], "{f} seed {seed}");
            assert_eq!(report.end.stats.pauses, 1, "{f} seed {seed}");
            assert!(report.end.reason.is_quiet(), "{f} seed {seed}");
            assert!(
                report.end.time < sim_core::SimTime::from_ms(1_000),
                "{f} seed {seed}: drained soon after the heal, at {}",
                report.end.time
            );
        }
    }
}

/// A run cut by `limits.drain_ms_max` ended at the drain bound, whatever
/// came next in the queue: it is judged as the design says, C16 at
/// T_heal + D, not skipped as if a time bound had cut it short.
#[test]
fn a_drain_cut_by_its_limit_is_judged_at_the_drain_bound() {
    // A delivery is lost and its redelivery (like the producer's retries)
    // is due after `time_ms_max`: the drain ends at 5 + 25 (+ 4 ms of
    // workload after the heal) = 34 ms, long before that.
    let s = parse(
        "Scenario(name: \"drain-limit\", model: M2, workload: (messages: 10),
            producer: (retry_ms: 700000),
            broker: (redeliver_ms: 700000),
            network: (links: [(from: \"broker\", to: \"consumer-1\", loss: Ratio(1, 3))]),
            faults: (until_ms: 5, restart_after_ms: 10),
            limits: (drain_ms_max: 25),
            expect: Pass)",
    );
    let report = run::run(&s, 0, false);
    assert_eq!(report.end.reason, sim_core::EndReason::DrainBound);
    assert_eq!(report.end.time, sim_core::SimTime::from_ms(34));
    assert_eq!(report.verdict, run::Verdict::Fail, "not inconclusive");
    let c16 = report
        .checks
        .iter()
        .find(|j| j.check == CheckId::C16)
        .unwrap();
    assert!(
        matches!(&c16.judgement, run::Judgement::Fail(v) if v[0].summary.contains("drain bound")),
        "{c16:?}"
    );
}

/// M2-set's add(x) and remove(x) are operations on one element: like
/// records with one key in Kafka, they go to one partition, whose consumer
/// applies them in order. Routed apart, every remove raced its add on
/// another consumer and C1 failed on every seed with no fault at all.
#[test]
fn operations_on_one_element_share_a_partition() {
    let s = parse(
        "Scenario(name: \"m2-set-two-partitions\", model: M2Set,
            workload: (producers: 2, messages: 6, partitions: 2),
            network: (default: (ordering: Fifo)),
            expect: Pass)",
    );
    for seed in 0..50 {
        assert_eq!(violated(&s, seed), [], "seed {seed}");
        let report = run::run(&s, seed, false);
        let partitions: std::collections::BTreeSet<u32> = report
            .ledger
            .messages
            .values()
            .flat_map(|m| m.appends.iter().map(|(p, _)| *p))
            .collect();
        assert_eq!(partitions.len(), 2, "seed {seed}: both partitions used");
    }
}

/// M7's task handles one record per transaction, two round trips each, so
/// it falls behind a message a millisecond; the broker delivered every
/// record it had not committed within the redelivery timeout again, and
/// the task, merely behind, got records back ahead of its position (C12
/// "0:19 back to 0:2") with no fault at all.
#[test]
fn a_transactional_task_behind_its_partition_gets_nothing_twice() {
    for model in [
        "M7",
        "M7Pre890",
        "M7ReadUncommitted",
        "M7Unfenced",
        "M7External",
    ] {
        let s = parse(&format!(
            "Scenario(name: \"m7-no-fault\", model: {model}, workload: (messages: 20),
                network: (default: (ordering: Fifo)),
                expect: Pass)"
        ));
        for seed in 0..20 {
            let report = run::run(&s, seed, false);
            let checks: Vec<CheckId> = report.violations().map(|(v, _)| v.check).collect();
            assert_eq!(checks, [], "{model} seed {seed}");
            let twice = report
                .ledger
                .messages
                .values()
                .filter(|m| m.deliveries.len() > 1)
                .count();
            assert_eq!(twice, 0, "{model} seed {seed}: delivered once each");
            assert!(
                report.end.time > sim_core::SimTime::from_ms(100),
                "it fell behind"
            );
        }
    }
}

/// An offset the broker lost before anyone read it is free again: the
/// next append there is no conflict (C5). Read before the loss, it is.
#[test]
fn a_lost_offset_conflicts_only_if_a_consumer_read_it() {
    let with = |reads: &str| {
        parse(&format!(
            "Scenario(name: \"reused\", model: M4, workload: (messages: 3),
                network: (default: (ordering: Fifo)),
                broker: (flush: Periodic(every_ms: 50){reads}),
                faults: (schedule: [
                    Crash(actor: \"broker\", at_point: \"after-ack-before-flush\", nth: 2),
                ]),
                expect: Pass)"
        ))
    };
    let unread = run::run(&with(""), 0, false);
    let lost: usize = unread
        .ledger
        .messages
        .values()
        .map(|m| m.lost_appends.len())
        .sum();
    assert!(lost > 0, "the crash lost records");
    assert!(!unread.violates(CheckId::C5));
    assert!(violated(&with(", read_unflushed: true"), 0).contains(&CheckId::C5));
}

/// A consumer that read a record the broker then lost commits its offset
/// after the broker came back without it: the commit marks nothing, and
/// the run goes on (it once indexed past the log).
#[test]
fn an_offset_commit_of_a_lost_record_marks_nothing() {
    let s = parse(
        "Scenario(name: \"lost-commit\", model: M4, workload: (messages: 30),
            network: (default: (loss: Ratio(1, 10), duplicate: Ratio(1, 10))),
            consumer: (database: Remote(timeout_ms: 20)),
            broker: (flush: Periodic(every_ms: 30), read_unflushed: true),
            faults: (until_ms: 2000, crash: [(actor: \"broker\", ratio: Ratio(1, 20)),
                (ratio: Ratio(1, 10))]),
            expect: Pass)",
    );
    let reused = (0..100)
        .map(|seed| run::run(&s, seed, false))
        .filter(|r| r.violates(CheckId::C5))
        .count();
    assert!(reused > 0, "some runs reuse an offset a consumer read");
}

/// The story lines (why) of `check`'s violations at seed 0.
fn whys(s: &Scenario, check: CheckId) -> Vec<String> {
    run::run(s, 0, false)
        .violations()
        .filter(|(v, _)| v.check == check)
        .flat_map(|(v, _)| v.story.iter().filter(|l| l.starts_with("why: ")).cloned())
        .collect()
}

/// A commit sent for a record the broker lost marks the record that took
/// its offset done: C1 says so, not "a crash between the two".
#[test]
fn a_message_marked_done_by_a_commit_for_a_lost_record_is_told_so() {
    let s = parse(
        "Scenario(name: \"stale-commit\", model: M2, workload: (messages: 3),
            broker: (flush: Periodic(every_ms: 50), read_unflushed: true),
            faults: (schedule: [
                Crash(actor: \"broker\", at_point: \"after-ack-before-flush\", nth: 2),
                Delay(link: \"consumer-1->broker\", nth: 2, delay_us: 100000),
                Drop(link: \"broker->consumer-1\", nth: 3),
            ]),
            expect: Violates([C1, C5, C8, C14, C15]))",
    );
    let c1 = whys(&s, CheckId::C1);
    assert_eq!(c1.len(), 1, "{c1:?}");
    assert!(
        c1[0].contains("the commit of 0:0 that marked it done was sent for p1#1"),
        "{c1:?}"
    );
}

/// Two broker crashes: each break of a consumer's order names the crash
/// that lost the record it had read last.
#[test]
fn a_consumer_going_back_is_blamed_on_the_crash_after_its_read() {
    let s = parse(
        "Scenario(name: \"two-crashes\", model: M4,
            workload: (messages: 2, interval_us: 30000),
            network: (default: (ordering: Fifo)),
            broker: (flush: Periodic(every_ms: 50), read_unflushed: true),
            faults: (schedule: [
                Crash(actor: \"broker\", at_point: \"after-ack-before-flush\", nth: 1),
                Drop(link: \"broker->producer-1\", nth: 1),
                Crash(actor: \"broker\", at_point: \"after-ack-before-flush\", nth: 2),
            ]),
            expect: Violates([C5, C12]))",
    );
    let c12 = whys(&s, CheckId::C12);
    assert_eq!(c12.len(), 2, "{c12:?}");
    assert!(c12[0].contains("came back at t=53.990ms"), "{c12:?}");
    assert!(c12[1].contains("came back at t=106.711ms"), "{c12:?}");
    let c5 = whys(&s, CheckId::C5);
    assert!(
        c5.iter().all(|w| w.contains("came back at t=106.711ms")),
        "{c5:?}"
    );
}

/// Records torn by two crashes read as two messages nobody sent, each
/// told by C6; a torn message's retry is new to the broker that comes
/// back (its id was torn with it), even one that appends each id once.
#[test]
fn torn_records_are_distinct_phantoms_and_a_retry_is_appended_again() {
    let two = parse(
        "Scenario(name: \"two-torn\", model: M4,
            workload: (producers: 2, messages: 3, interval_us: 0),
            network: (default: (ordering: Fifo)),
            broker: (flush: AfterAck, checksums: false),
            faults: (schedule: [
                Crash(actor: \"broker\", at_point: \"during-flush\", nth: 1),
                Crash(actor: \"broker\", at_point: \"during-flush\", nth: 3),
            ]),
            expect: Pass)",
    );
    let c6 = whys(&two, CheckId::C6);
    assert_eq!(c6.len(), 2, "{c6:?}");
    assert!(
        c6[0].contains("read as p3#1") && c6[1].contains("read as p4#1"),
        "{c6:?}"
    );
    let retried = parse(
        "Scenario(name: \"retried\", model: M4, workload: (messages: 3),
            network: (default: (ordering: Fifo)),
            producer: (retry_ms: 200),
            broker: (flush: Periodic(every_ms: 50), checksums: false, dedup_appends: true),
            faults: (schedule: [
                Drop(link: \"broker->producer-1\", nth: 3),
                Crash(actor: \"broker\", at_point: \"during-flush\", nth: 1),
            ]),
            expect: Pass)",
    );
    assert_eq!(violated(&retried, 0), [CheckId::C6]);
}

/// A record a consumer read and the broker then tore: the offset names
/// two messages (C5), and the consumer's second read there is told as
/// the torn record, not as an append (C12).
#[test]
fn a_torn_record_a_consumer_had_read_is_an_offset_conflict() {
    let s = parse(
        "Scenario(name: \"torn-read\", model: M4, workload: (messages: 3),
            network: (default: (ordering: Fifo)),
            broker: (flush: Periodic(every_ms: 50), read_unflushed: true, checksums: false,
                redeliver_ms: 500),
            faults: (schedule: [
                Drop(link: \"consumer-1->broker\", nth: 3),
                Crash(actor: \"broker\", at_point: \"during-flush\", nth: 1),
            ]),
            expect: Pass)",
    );
    let c5 = whys(&s, CheckId::C5);
    assert_eq!(c5.len(), 1, "{c5:?}");
    assert!(c5[0].contains("with the torn bytes there"), "{c5:?}");
    let c12 = whys(&s, CheckId::C12);
    assert!(c12.iter().all(|w| !w.contains("next append")), "{c12:?}");
    assert!(c12[0].contains("torn bytes"), "{c12:?}");
}
