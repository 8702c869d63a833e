//! Seed sweeps, our property tests: each protocol keeps every check it claims
//! over 200 seeds of the faults it survives, and each known breaker produces
//! the predicted violation within 200 seeds.

use models::check::{CheckId, Status};
use models::history::Ledger;
use models::protocols::{Model, registry};

/// A built-in model by its scenario name.
fn model(name: &str) -> Model {
    registry().get(name).expect("a built-in model")
}
use models::run;
use models::scenario::Scenario;

const SEEDS: u64 = 200;

fn scenario(model: &str, body: &str) -> Scenario {
    let text = format!(
        "Scenario(name: \"sweep\", model: {model}, workload: (messages: 15), {body} expect: Pass)"
    );
    Scenario::parse("sweep.ron", &text).unwrap_or_else(|e| panic!("{e}"))
}

/// The raw check statuses of one seed (before judging against `expect`).
fn statuses(s: &Scenario, seed: u64) -> Vec<(CheckId, Status)> {
    let report = run::run(s, seed, false);
    report
        .checks
        .into_iter()
        .map(|j| {
            let status = match j.judgement {
                run::Judgement::Fail(v) | run::Judgement::Expected(v) => Status::Violated(v),
                run::Judgement::Pass(w) => Status::Held(w),
                run::Judgement::Skip(w) | run::Judgement::Missing(w) => Status::Skipped(w),
                run::Judgement::Unchecked(w) => Status::Unchecked(w),
            };
            (j.check, status)
        })
        .collect()
}

fn assert_claims_hold(model: Model, s: &Scenario, except: &[CheckId]) {
    let claims: Vec<CheckId> = model
        .info()
        .claims
        .iter()
        .copied()
        .filter(|c| !except.contains(c))
        .collect();
    let mut faults = 0;
    for seed in 0..SEEDS {
        let report = run::run(s, seed, false);
        let stats = report.end.stats;
        faults += stats.dropped + stats.duplicated + stats.crashes + stats.pauses;
        for (check, status) in statuses(s, seed) {
            if claims.contains(&check) {
                assert!(
                    !matches!(status, Status::Violated(_)),
                    "{model:?} claims {check} but seed {seed} violates it: {status:?}"
                );
            }
        }
    }
    assert!(
        faults > SEEDS,
        "{model:?}: the sweep must actually inject faults"
    );
}

/// The first seed at which `check` is violated.
fn first_violation(s: &Scenario, check: CheckId) -> Option<u64> {
    (0..SEEDS).find(|seed| {
        statuses(s, *seed)
            .iter()
            .any(|(c, st)| *c == check && matches!(st, Status::Violated(_)))
    })
}

fn assert_breaks(s: &Scenario, check: CheckId, within: u64) {
    let found = first_violation(s, check);
    assert!(
        found.is_some_and(|seed| seed < within),
        "{check} not found within {within} seeds (first: {found:?})"
    );
}

const LOSSY: &str = "network: (default: (loss: Ratio(1, 5), duplicate: Ratio(1, 10))), ";

#[test]
fn m1_never_duplicates_under_duplicated_and_reordered_deliveries() {
    let s = scenario(
        "M1",
        "network: (default: (delay_us_max: 30000), links: [
            (from: \"broker\", to: \"consumer-1\", duplicate: Ratio(1, 3)),
            (from: \"consumer-1\", to: \"broker\", duplicate: Ratio(1, 3))]), ",
    );
    assert_claims_hold(model("M1"), &s, &[]);
}

#[test]
fn m1_never_duplicates_when_every_link_duplicates() {
    let s = scenario(
        "M1",
        "network: (default: (duplicate: Ratio(1, 4), delay_us_max: 30000)), ",
    );
    assert_claims_hold(model("M1"), &s, &[]);
}

#[test]
fn m1_loses_on_dropped_requests_and_on_a_crash_after_the_offset_commit() {
    let drops = scenario(
        "M1",
        "network: (links: [(from: \"producer-1\", to: \"broker\", loss: Ratio(1, 10))]), ",
    );
    assert_breaks(&drops, CheckId::C1, 10);
    let crash = scenario(
        "M1",
        "faults: (crash: [(at_point: \"after-offset-commit-before-effect\", ratio: Ratio(1, 10))]), ",
    );
    assert_breaks(&crash, CheckId::C1, 10);
}

#[test]
fn m2_never_loses_under_loss_duplication_and_crashes() {
    let s = scenario(
        "M2",
        &format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 10))]), "),
    );
    assert_claims_hold(model("M2"), &s, &[]);
}

#[test]
fn m2_duplicates_on_lost_acks_crashes_and_network_duplicates() {
    let acks = scenario(
        "M2",
        "network: (links: [(from: \"broker\", to: \"producer-1\", loss: Ratio(1, 5))]), ",
    );
    assert_breaks(&acks, CheckId::C3, 10);
    let crash = scenario("M2", "faults: (crash: [(ratio: Ratio(1, 10))]), ");
    assert_breaks(&crash, CheckId::C3, 10);
    let dup = scenario(
        "M2",
        "network: (links: [(from: \"broker\", to: \"consumer-1\", duplicate: Ratio(1, 10))]), ",
    );
    assert_breaks(&dup, CheckId::C3, 10);
}

#[test]
fn m0_atomic_and_m4_keep_every_claim_under_every_fault() {
    for (model, name) in [(model("M0Atomic"), "M0Atomic"), (model("M4"), "M4")] {
        let s = scenario(
            name,
            &format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 8))]), "),
        );
        assert_claims_hold(model, &s, &[]);
    }
}

#[test]
fn m0_naive_holds_its_history_without_crashes_but_always_breaks_the_law() {
    let s = scenario("M0Naive", LOSSY);
    assert_claims_hold(model("M0Naive"), &s, &[CheckId::C15]);
    for seed in 0..SEEDS {
        let broken = statuses(&s, seed)
            .into_iter()
            .any(|(c, st)| c == CheckId::C15 && matches!(st, Status::Violated(_)));
        assert!(
            broken,
            "the probe finds the naive law broken at every seed (seed {seed})"
        );
    }
}

#[test]
fn m0_naive_duplicates_on_a_crash_between_effect_and_status_update() {
    let s = scenario(
        "M0Naive",
        "faults: (crash: [(at_point: \"after-effect-before-status-update\", ratio: Ratio(1, 10))]), ",
    );
    assert_breaks(&s, CheckId::C3, 10);
}

#[test]
fn the_seeds_protocol_without_recovery_stalls_after_a_crash() {
    let s = scenario(
        "M0Atomic",
        "recovery: (enabled: false), faults: (crash: [(at_point: \"after-claim-before-effect\", ratio: Ratio(1, 10))]), ",
    );
    assert_breaks(&s, CheckId::C16, 10);
}

#[test]
fn m4_duplicates_when_the_producer_resends_with_a_new_id() {
    let s = scenario(
        "M4",
        "producer: (new_id_on_retry: true), network: (links: [(from: \"broker\", to: \"producer-1\", loss: Ratio(1, 5))]), ",
    );
    assert_breaks(&s, CheckId::C3, 10);
}

#[test]
fn the_ledger_counts_every_effect_the_consumer_applied() {
    let s = scenario(
        "M2",
        &format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 10))]), "),
    );
    for seed in 0..20 {
        let report = run::run(&s, seed, false);
        let effects: usize = report
            .ledger
            .messages
            .values()
            .map(|m| m.effects.len())
            .sum();
        assert!(
            effects >= report.ledger.messages.len(),
            "at least one effect each (no loss)"
        );
        let _: &Ledger = &report.ledger;
    }
}

#[test]
fn m3_dedup_keeps_its_claims_under_loss_and_duplication() {
    for (model, name) in [(model("M3"), "M3"), (model("M3Memory"), "M3Memory")] {
        let s = scenario(name, LOSSY);
        assert_claims_hold(model, &s, &[]);
    }
}

#[test]
fn m3_duplicates_on_a_crash_between_the_effect_and_the_record() {
    let s = scenario(
        "M3",
        "faults: (crash: [(at_point: \"after-effect-before-record\", ratio: Ratio(1, 10))]), ",
    );
    assert_breaks(&s, CheckId::C3, 10);
}

#[test]
fn m3_survives_a_crash_after_the_record_only_when_the_seen_set_is_durable() {
    let after_record = "faults: (crash: [(at_point: \"after-record-before-offset-commit\", \
                        ratio: Ratio(1, 10))]), ";
    assert_claims_hold(model("M3"), &scenario("M3", after_record), &[]);
    assert_breaks(&scenario("M3Memory", after_record), CheckId::C3, 10);
}

#[test]
fn m9_keeps_at_least_once_under_network_faults() {
    assert_claims_hold(model("M9"), &scenario("M9", LOSSY), &[]);
}

#[test]
fn m9_loses_the_event_on_a_crash_between_the_commit_and_the_publish() {
    let s = scenario(
        "M9",
        "faults: (crash: [(at_point: \"after-db-commit-before-publish\", ratio: Ratio(1, 10))]), ",
    );
    assert_breaks(&s, CheckId::C1, 10);
}

#[test]
fn m10_outbox_keeps_its_claims_under_crashes_on_both_sides() {
    let faults = format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 8))]), ");
    for (model, name) in [(model("M10"), "M10"), (model("M10Plain"), "M10Plain")] {
        assert_claims_hold(model, &scenario(name, &faults), &[]);
    }
}

#[test]
fn m10_publishes_again_after_a_relay_crash_and_only_the_inbox_absorbs_it() {
    let relay = "faults: (crash: [(at_point: \"after-publish-before-mark-sent\", \
                 ratio: Ratio(1, 10))]), ";
    assert_breaks(&scenario("M10", relay), CheckId::C4, 10);
    assert_breaks(&scenario("M10Plain", relay), CheckId::C3, 10);
}

#[test]
fn m5_keeps_its_claims_when_retries_come_back_within_the_window() {
    let s = scenario(
        "M5",
        &format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 8))]), "),
    );
    assert_claims_hold(model("M5"), &s, &[]);
}

/// Acks are cut for longer than the window, so retries outlive the dedup
/// entry; the story gives the copy's age against the window.
#[test]
fn m5_duplicates_a_retry_older_than_the_window_and_says_how_late_it_was() {
    let s = scenario(
        "M5",
        "consumer: (dedup_window_ms: 200), \
         faults: (schedule: [Partition(between: [\"broker\"], and: [\"producer-1\"], \
         from_ms: 0, to_ms: 400, one_way: true)]), ",
    );
    assert_breaks(&s, CheckId::C3, 1);
    let report = run::run(&s, 0, false);
    let story: Vec<String> = report
        .violations()
        .flat_map(|(v, _)| v.story.clone())
        .collect();
    assert!(
        story
            .iter()
            .any(|l| l.contains("after the first was recorded; window 200 ms")),
        "{story:#?}"
    );
}

/// M6 runs over FIFO links, as Kafka runs over TCP.
const FIFO_LOSSY: &str = "network: (default: (ordering: Fifo, loss: Ratio(1, 5), \
                          duplicate: Ratio(1, 10))), ";

#[test]
fn m6_never_appends_twice_within_a_session_under_loss_and_duplication() {
    assert_claims_hold(model("M6"), &scenario("M6", FIFO_LOSSY), &[]);
    // Over reordering links batches arrive out of sequence and are retried.
    assert_claims_hold(model("M6"), &scenario("M6", LOSSY), &[]);
}

#[test]
fn m6_appends_again_after_a_producer_restart_or_with_more_than_five_in_flight() {
    let acks = "network: (default: (ordering: Fifo), links: [(from: \"broker\", \
                to: \"producer-1\", loss: Ratio(1, 3))]), ";
    let restart = format!(
        "{acks}faults: (crash: [(at_point: \"after-send-before-ack\", ratio: Ratio(1, 2))]), "
    );
    assert_breaks(&scenario("M6", &restart), CheckId::C4, 10);
    let in_flight = format!("producer: (max_in_flight: 15), {acks}");
    let text = format!(
        "Scenario(name: \"sweep\", model: M6, workload: (messages: 15, interval_us: 0), \
         {in_flight} expect: Pass)"
    );
    let s = Scenario::parse("sweep.ron", &text).unwrap();
    assert_breaks(&s, CheckId::C4, 10);
}

#[test]
fn m11_executes_each_request_once_while_keys_are_kept() {
    let s = scenario(
        "M11",
        &format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 8))]), "),
    );
    assert_claims_hold(model("M11"), &s, &[]);
}

#[test]
fn m11_executes_again_after_pruning_and_refuses_a_reused_key() {
    let pruned = scenario(
        "M11",
        "consumer: (dedup_window_ms: 200), faults: (schedule: [Partition(between: \
         [\"broker\"], and: [\"producer-1\"], from_ms: 0, to_ms: 400, one_way: true)]), ",
    );
    assert_breaks(&pruned, CheckId::C3, 1);
    let reused = scenario("M11", "producer: (key_space: 10), ");
    assert_breaks(&reused, CheckId::C1, 1);
    let report = run::run(&reused, 0, false);
    assert!(
        report
            .violations()
            .any(|(v, _)| v.cause == "key reused for another request"),
        "the cause names the reused key"
    );
}

/// M12 under F-pause: 15 messages, one every 10 ms, and every actor pauses
/// once, from a time within the first 300 ms, for 300 ms (ended at the heal
/// at 300 ms): the pauses that begin while records are being written
/// outlast the 100 ms lease.
fn paused(model: &str) -> Scenario {
    let text = format!(
        "Scenario(name: \"sweep\", model: {model},
            workload: (messages: 15, interval_us: 10000),
            faults: (until_ms: 300, pause: [(ratio: Ratio(1, 1), for_ms: 300)]),
            expect: Pass)"
    );
    Scenario::parse("sweep.ron", &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn m12_fencing_refuses_every_zombie_write() {
    assert_claims_hold(model("M12"), &paused("M12"), &[]);
    let lossy = format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 10))]), ");
    assert_claims_hold(model("M12"), &scenario("M12", &lossy), &[]);
}

#[test]
fn m12_without_fencing_accepts_a_zombie_write_after_a_pause() {
    let s = paused("M12LeaseOnly");
    assert_claims_hold(model("M12LeaseOnly"), &s, &[]);
    assert_breaks(&s, CheckId::C13, 10);
}

#[test]
fn m9_reversed_keeps_at_least_once_but_publishes_phantoms_on_a_crash() {
    assert_claims_hold(model("M9Reverse"), &scenario("M9Reverse", LOSSY), &[]);
    let crash = "faults: (crash: [(at_point: \"after-publish-before-db-commit\", \
                 ratio: Ratio(1, 10))]), ";
    assert_breaks(&scenario("M9Reverse", crash), CheckId::C7, 10);
}

#[test]
fn m8_two_phase_sink_keeps_exactly_once_under_crashes_and_network_faults() {
    let s = scenario(
        "M8",
        &format!("{LOSSY}faults: (crash: [(ratio: Ratio(1, 8))]), "),
    );
    assert_claims_hold(model("M8"), &s, &[]);
}

#[test]
fn m8_duplicates_in_at_least_once_mode_and_loses_past_the_sink_timeout() {
    let alo = scenario(
        "M8AtLeastOnce",
        "faults: (crash: [(ratio: Ratio(1, 10))]), ",
    );
    assert_claims_hold(model("M8AtLeastOnce"), &alo, &[]);
    assert_breaks(&alo, CheckId::C3, 10);
    // A checkpoint's crash point is passed once per checkpoint (every
    // 20 ms), far more rarely than a per-record one.
    let timeout = scenario(
        "M8",
        "faults: (restart_after_ms: 1500, crash: [(at_point: \
         \"after-precommit-before-commit\", ratio: Ratio(1, 2))]), ",
    );
    assert_breaks(&timeout, CheckId::C1, 10);
}

/// Delays past M7's 30 ms request timeout, with loss and duplicates.
const LATE: &str = "network: (default: (loss: Ratio(1, 5), duplicate: Ratio(1, 5), \
                    delay_us_min: 1000, delay_us_max: 45000)), ";

#[test]
fn m7_keeps_exactly_once_under_late_requests_crashes_and_network_faults() {
    let s = scenario(
        "M7",
        &format!("{LATE}faults: (crash: [(ratio: Ratio(1, 8))]), "),
    );
    assert_claims_hold(model("M7"), &s, &[]);
}

#[test]
fn m7_before_kip_890_holds_in_order_and_breaks_on_late_requests() {
    let in_order = scenario(
        "M7Pre890",
        "network: (default: (ordering: Fifo, loss: Ratio(1, 5), duplicate: Ratio(1, 5))), \
         faults: (crash: [(ratio: Ratio(1, 8))]), ",
    );
    assert_claims_hold(model("M7Pre890"), &in_order, &[]);
    let late = scenario(
        "M7Pre890",
        "network: (default: (delay_us_min: 1000, delay_us_max: 45000)), ",
    );
    assert_breaks(&late, CheckId::C9, 5);
    assert_breaks(&late, CheckId::C7, 5);
    assert_breaks(&late, CheckId::C1, 5);
}

#[test]
fn m7_read_uncommitted_keeps_at_least_once_and_reads_aborted_output() {
    let s = scenario("M7ReadUncommitted", LOSSY);
    assert_claims_hold(model("M7ReadUncommitted"), &s, &[]);
    assert_breaks(&s, CheckId::C7, 10);
    assert_breaks(&s, CheckId::C3, 10);
}

/// F-clock: every actor's clock jumps once by up to ±400 s, within the
/// first 200 ms (while retries are still on their way: a jump must fall
/// between two copies of a message to expire a window), with loss.
const CLOCK: &str = "network: (default: (loss: Ratio(1, 5))), \
                     faults: (until_ms: 200, clock_jump_ms_max: 400000), ";

#[test]
fn clock_jumps_expire_m5_windows_early_and_leave_m4_alone() {
    assert_breaks(&scenario("M5", CLOCK), CheckId::C3, SEEDS);
    assert_claims_hold(model("M4"), &scenario("M4", CLOCK), &[]);
}

/// F-expire: each actor loses its dedup state once, within the first
/// 200 ms (while retries are still on their way), with lost acks and
/// duplicated deliveries over FIFO links.
const EXPIRE: &str = "network: (default: (ordering: Fifo, loss: Ratio(1, 5), \
                      duplicate: Ratio(1, 5))), faults: (until_ms: 200, expire: Ratio(1, 1)), ";

#[test]
fn evicted_dedup_state_breaks_m6_and_m4_and_leaves_m2_at_least_once() {
    assert_breaks(&scenario("M6", EXPIRE), CheckId::C4, 10);
    assert_breaks(&scenario("M4", EXPIRE), CheckId::C3, 10);
    // M7's exactly-once is per input record: an input appended twice is
    // processed twice.
    assert_breaks(&scenario("M7", EXPIRE), CheckId::C4, 10);
    assert_claims_hold(model("M2"), &scenario("M2", EXPIRE), &[]);
}
