//! What reports say happened must be what happened: the counts and causes a
//! run's violations carry come from the run's own events, never from a
//! guess per model (regressions of wrong explanations seen on main).

use std::collections::BTreeSet;

use models::check::CheckId;
use models::run::{self, Judgement, RunReport};
use models::scenario::Scenario;
use models::sweep::{self, Summary};
use sim_core::Buffers;

use crate::root;

fn load(file: &str) -> Scenario {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    Scenario::parse(file, &text).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(text: &str) -> Scenario {
    Scenario::parse("causes.ron", text).unwrap_or_else(|e| panic!("{e}"))
}

/// The first line of the story of `message`'s first violation: how often
/// it was sent.
fn sent_line(report: &RunReport, message: &str) -> String {
    let (v, _) = report
        .violations()
        .find(|(v, _)| v.subject.is_some_and(|k| k.to_string() == message))
        .unwrap_or_else(|| panic!("no violation about {message}"));
    v.story[0].clone()
}

/// M10's relay crashes after the broker acked its first publish and before
/// it marked the row sent: it publishes the row again after its restart.
const RELAY_RESTARTS: &str = r#"Scenario(
    name: "relay-restarts",
    model: M10Plain,
    workload: (messages: 3),
    network: (default: (ordering: Fifo)),
    faults: (schedule: [Crash(actor: "producer-1", at_point: "after-publish-before-mark-sent", nth: 1)]),
    expect: Violates([C3, C4, C8]),
)"#;

#[test]
fn a_resend_after_a_producer_restart_is_counted_as_a_send() {
    // M6: the producer crashed waiting for p1#4's lost ack and re-sent it in
    // a new session after its restart.
    let s = load("scenarios/24-m6-restart-gets-a-new-session.ron");
    let report = run::run(&s, s.seed(), false);
    let line = sent_line(&report, "p1#4");
    assert!(line.starts_with("sent 2× (1 after a restart), "), "{line}");
    // M10: the restarted relay re-published p1#1, whose row it had not
    // marked sent.
    let report = run::run(&parse(RELAY_RESTARTS), 0, false);
    let line = sent_line(&report, "p1#1");
    assert!(line.starts_with("sent 2× (1 after a restart), "), "{line}");
    assert_eq!(report.retries(), 0, "a re-send after a restart is no retry");
}

/// The causes a sweep clusters the seeds of `s` by, for `check`.
fn sweep_causes(s: &Scenario, check: CheckId, seeds: u64) -> BTreeSet<String> {
    let mut buffers = Buffers::default();
    let mut summary = Summary::default();
    for seed in 0..seeds {
        summary.add(&sweep::run_seed(s, seed, &mut buffers));
    }
    summary
        .clusters
        .keys()
        .filter(|(c, _)| *c == check)
        .map(|(_, cause)| cause.clone())
        .collect()
}

/// M10 with an inbox; the relay crashes now and then after the broker acked
/// a publish and before it marks the row sent. The network duplicates
/// nothing.
const RELAY_CRASHES: &str = r#"Scenario(
    name: "m10-inbox-relay-crashes",
    model: M10,
    workload: (messages: 10),
    faults: (
        until_ms: 3000,
        crash: [(actor: "producer-1", at_point: "after-publish-before-mark-sent", ratio: Ratio(1, 4))],
    ),
    expect: Violates([C4, C11]),
)"#;

#[test]
fn a_sweep_names_a_relay_restart_not_a_network_duplicate_as_the_cause() {
    let s = parse(RELAY_CRASHES);
    let causes = sweep_causes(&s, CheckId::C4, 40);
    assert_eq!(
        causes,
        BTreeSet::from(["re-sent after its producer restarted".to_string()]),
        "every duplicate append here comes from the relay's re-publish"
    );
    for seed in 0..40 {
        assert_eq!(run::run(&s, seed, false).end.stats.duplicated, 0);
    }
}

/// The network duplicates produce requests; nothing crashes, no ack is lost.
const NETWORK_DUPLICATES: &str = r#"Scenario(
    name: "m2-network-duplicates-produce",
    model: M2,
    workload: (messages: 10),
    network: (links: [(from: "producer-1", to: "broker", duplicate: Ratio(1, 3))]),
    expect: Violates([C3, C4, C8, C11]),
)"#;

/// Acks are lost, so the producer retries; nothing crashes, and the
/// network duplicates nothing.
const LOST_ACKS: &str = r#"Scenario(
    name: "m2-lost-acks",
    model: M2,
    workload: (messages: 10),
    network: (links: [(from: "broker", to: "producer-1", loss: Ratio(1, 3))]),
    expect: Violates([C3, C4, C8, C11]),
)"#;

#[test]
fn a_duplicate_append_is_blamed_on_what_made_the_copy() {
    let dup = sweep_causes(&parse(NETWORK_DUPLICATES), CheckId::C4, 20);
    assert_eq!(
        dup,
        BTreeSet::from(["the network duplicated the produce request".to_string()])
    );
    let acks = sweep_causes(&parse(LOST_ACKS), CheckId::C4, 20);
    assert_eq!(
        acks,
        BTreeSet::from(["re-sent after a lost or late ack".to_string()])
    );
}

/// The first produce request is lost; the producer's retry is duplicated
/// by the network. No ack is lost: both appends are of the retry.
const LOST_REQUEST_DUPLICATED_RETRY: &str = r#"Scenario(
    name: "m2-lost-request-duplicated-retry",
    model: M2,
    workload: (messages: 1),
    faults: (schedule: [
        Drop(link: "producer-1->broker", nth: 1),
        Duplicate(link: "producer-1->broker", nth: 2),
    ]),
    expect: Violates([C3, C4, C8]),
)"#;

#[test]
fn a_retry_the_network_duplicated_is_not_blamed_on_a_lost_ack() {
    let report = run::run(&parse(LOST_REQUEST_DUPLICATED_RETRY), 0, false);
    let c4 = report
        .violations()
        .find(|(v, _)| v.check == CheckId::C4)
        .map(|(v, _)| v.cause)
        .unwrap();
    assert_eq!(c4, "the network duplicated the produce request");
    let c3 = report
        .violations()
        .find(|(v, _)| v.check == CheckId::C3)
        .map(|(v, _)| v.clone())
        .unwrap();
    assert_eq!(c3.cause, "the network duplicated the produce request");
    assert!(
        c3.story.iter().any(|l| l
            == "why: the network duplicated a produce request and the broker appended every copy"),
        "{:#?}",
        c3.story
    );
    assert!(
        !c3.story.iter().any(|l| l.contains("ack was lost")),
        "{:#?}",
        c3.story
    );
}

#[test]
fn fencing_counts_the_zombie_requests_a_rebalance_fenced() {
    // Lesson 31: consumer-1 resumes after the rebalance and sends EndTxn,
    // then initTransactions; the coordinator refuses both, as consumer-1
    // no longer owns the partition.
    let s = load("scenarios/31-m7-rebalance-fences-the-zombie.ron");
    let report = run::run(&s, s.seed(), false);
    let c13 = report
        .checks
        .iter()
        .find(|j| j.check == CheckId::C13)
        .unwrap();
    let Judgement::Pass(summary) = &c13.judgement else {
        panic!("C13 holds: {c13:?}")
    };
    assert_eq!(
        summary,
        "7 token writes, 2 stale requests refused (2 by generation)"
    );
}

#[test]
fn a_sink_timeout_is_in_the_history_and_names_the_loss() {
    // Lesson 40: the job crashed between the checkpoint and the sink's
    // commit and stayed down past the sink's 1 s timeout.
    let s = load("scenarios/40-m8-sink-timeout-loses-data.ron");
    let report = run::run(&s, s.seed(), false);
    let lost: Vec<_> = report
        .violations()
        .filter(|(v, _)| v.check == CheckId::C1)
        .map(|(v, _)| v.clone())
        .collect();
    assert!(!lost.is_empty());
    for v in lost {
        let m = &report.ledger.messages[&v.subject.unwrap()];
        assert_eq!(
            m.sink_aborts.len(),
            1,
            "{}: its record was staged",
            v.summary
        );
        let why = v.story.iter().find(|l| l.starts_with("why: ")).unwrap();
        assert!(
            why.contains("the sink had aborted the staged transaction"),
            "{why}"
        );
        if m.crashes.is_empty() {
            assert_eq!(v.cause, "the sink's timeout aborted its staged transaction");
        }
    }
}
