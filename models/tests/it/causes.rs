//! What reports say happened must be what happened: the counts and causes a
//! run's violations carry come from the run's own events, never from a
//! guess per model (regressions of wrong explanations seen on main).

use models::run::{self, RunReport};
use models::scenario::Scenario;

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
