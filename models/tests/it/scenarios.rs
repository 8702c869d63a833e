//! Every bundled scenario meets its own `expect`, and runs the same twice.

use models::check::CheckId;
use models::run::{self, Verdict};
use models::scenario::Scenario;

use crate::{bundled, root};

fn load(file: &str) -> Scenario {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    Scenario::parse(file, &text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_bundled_scenario_meets_its_expectation() {
    let files = bundled();
    assert!(
        files.len() >= 11,
        "the suite has at least ten lessons and W1"
    );
    for file in files {
        let s = load(&file);
        let report = run::run(&s, s.seed(), false);
        assert_eq!(
            report.verdict,
            Verdict::Pass,
            "{file}: {:#?}",
            report.checks
        );
    }
}

#[test]
fn every_bundled_scenario_gives_the_same_digest_twice() {
    for file in bundled() {
        let s = load(&file);
        let a = run::run(&s, 7, false);
        let b = run::run(&s, 7, true);
        assert_eq!(a.end, b.end, "{file}: recording must not change the run");
        assert_eq!(a.checks, b.checks, "{file}");
    }
}

/// `scenarios/README.md` lists every lesson file, in file order, once.
/// M12 and M12-lease make the same moves; only the storage's answers (a
/// stale write refused, or applied) tell them apart, and so must the
/// digest.
#[test]
fn runs_with_the_same_events_and_different_outcomes_have_different_digests() {
    let fenced = run::run(
        &load("scenarios/45-m12-fencing-refuses-the-zombie.ron"),
        0,
        false,
    );
    let unfenced = run::run(
        &load("scenarios/46-m12-lease-alone-lets-the-zombie-write.ron"),
        0,
        false,
    );
    let c3 = models::check::CheckId::C3;
    assert!(!fenced.violates(c3) && unfenced.violates(c3));
    assert_ne!(fenced.end.digest, unfenced.end.digest);
}

/// A retry can come after M5's window or M11's retention: the law probe
/// retries just past them and names the moment; a window longer than any
/// retry can take keeps the law (with no fault injected, only the run's
/// timeouts and a round trip can delay a retry).
#[test]
fn a_window_a_retry_can_outlast_breaks_the_retry_law_at_the_moment_past_it() {
    let law = |model: &str, window_ms: u64| {
        let text = format!(
            "Scenario(name: \"w\", model: {model}, workload: (messages: 5), \
             consumer: (dedup_window_ms: {window_ms}), expect: Pass)"
        );
        let s = Scenario::parse("w.ron", &text).unwrap_or_else(|e| panic!("{e}"));
        let report = run::run(&s, 0, false);
        let c15 = report
            .checks
            .iter()
            .find(|j| j.check == models::check::CheckId::C15)
            .unwrap();
        match &c15.judgement {
            run::Judgement::Fail(v) => v[0].summary.clone(),
            other => format!("{other:?}"),
        }
    };
    let m5 = law("M5", 1);
    assert!(
        m5.contains("the retry at +0.002 s, past the 0.001 s dedup window"),
        "{m5}"
    );
    let m11 = law("M11", 20);
    assert!(
        m11.contains("the retry at +0.021 s, past the 0.020 s key retention"),
        "{m11}"
    );
    // No fault can hold a retry up for two seconds here: the slowest way
    // back is a 50 ms timeout and a round trip.
    let held = law("M5", 2_000);
    assert!(held.starts_with("Pass("), "{held}");
}

#[test]
fn the_course_readme_lists_every_lesson_in_order() {
    let readme = std::fs::read_to_string(root().join("scenarios/README.md")).unwrap();
    let listed: Vec<String> = readme
        .lines()
        .filter_map(|l| l.split('`').nth(1))
        .filter(|f| f.ends_with(".ron") && !f.contains('/'))
        .map(|f| format!("scenarios/{f}"))
        .collect();
    let lessons: Vec<String> = bundled()
        .into_iter()
        .filter(|f| !f.starts_with("scenarios/bench/") && !f.starts_with("scenarios/steps/"))
        .collect();
    assert_eq!(listed, lessons);
}

#[test]
fn each_bundled_scenario_starts_with_a_comment_saying_what_it_teaches() {
    for file in bundled() {
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        assert!(text.starts_with("// "), "{file} opens with a comment");
        assert!(
            text.lines().take_while(|l| l.starts_with("//")).count() >= 3,
            "{file}: a real explanation"
        );
    }
}

#[test]
fn stochastic_scenarios_differ_between_seeds() {
    let s = load("scenarios/16-m4-inbox-holds.ron");
    let digests: std::collections::BTreeSet<_> = (0..5)
        .map(|seed| run::run(&s, seed, false).end.digest)
        .collect();
    assert_eq!(digests.len(), 5, "five seeds, five different runs");
}

#[test]
fn the_naive_seeds_protocol_is_caught_by_the_retry_law_with_the_crash_point_named() {
    let s = load("scenarios/08-m0-naive-looks-fine.ron");
    let report = run::run(&s, 0, false);
    let c15: Vec<_> = report
        .violations()
        .filter(|(v, _)| v.check.code() == "C15")
        .collect();
    assert!(!c15.is_empty());
    assert!(
        c15.iter()
            .all(|(v, _)| v.crash_point == Some("after-effect-before-status-update"))
    );
    assert!(report.ledger.retry_probes > 0 && report.ledger.idempotence_probes > 0);
}

#[test]
fn the_atomic_seeds_protocol_and_the_inbox_pass_the_law_with_probes_counted() {
    for file in [
        "scenarios/10-m0-atomic-holds.ron",
        "scenarios/16-m4-inbox-holds.ron",
    ] {
        let s = load(file);
        let report = run::run(&s, 0, false);
        assert!(report.ledger.law_failures.is_empty(), "{file}");
        assert!(
            report.ledger.retry_probes >= 30,
            "{file}: probes ran on every record"
        );
        assert!(report.end.stats.crashes > 0, "{file}: the run did crash");
    }
}

/// No input panics: every truncation and many single-character edits of
/// every bundled scenario either load or give located diagnostics.
#[test]
fn mangled_scenarios_give_errors_never_panics() {
    for file in bundled() {
        let text = std::fs::read_to_string(root().join(&file)).unwrap();
        let cuts = text.char_indices().map(|(i, _)| i).step_by(3);
        for i in cuts {
            let mut variants = vec![text[..i].to_string()];
            let (head, tail) = text.split_at(i);
            let rest: String = tail.chars().skip(1).collect();
            variants.push(format!("{head}{rest}"));
            variants.push(format!("{head}9{rest}"));
            variants.push(format!("{head}){tail}"));
            for v in variants {
                if let Err(models::scenario::ScenarioError::Invalid { diagnostics, .. }) =
                    Scenario::parse(&file, &v)
                {
                    assert!(
                        !diagnostics.is_empty(),
                        "{file}: an error names at least one place"
                    );
                    assert!(diagnostics.iter().all(|d| d.line >= 1 && d.column >= 1));
                }
            }
        }
    }
}

/// The resolved scenario (every default written out) is itself a scenario
/// file that replays the same run: same hash, same digest.
#[test]
fn resolved_scenarios_replay_with_the_same_hash_and_digest() {
    for file in bundled() {
        let s = load(&file);
        let again = Scenario::parse("resolved.ron", &s.resolved_ron())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(again.hash(), s.hash(), "{file}");
        assert_eq!(
            run::run(&again, 3, false).end,
            run::run(&s, 3, false).end,
            "{file}"
        );
    }
}

#[test]
fn the_m7_breaking_lessons_hold_once_the_model_is_m7() {
    let lessons = [
        "scenarios/34-m7-pre890-late-produce-joins-next-transaction.ron",
        "scenarios/35-m7-pre890-late-produce-hangs-the-lso.ron",
        "scenarios/36-m7-pre890-late-abort-tears-a-transaction.ron",
        "scenarios/37-m7-read-uncommitted-reads-an-aborted-transaction.ron",
    ];
    for file in lessons {
        let broken = load(file);
        let report = run::run(&broken, broken.seed(), false);
        assert!(
            report
                .checks
                .iter()
                .any(|j| matches!(j.judgement, run::Judgement::Expected(_))),
            "{file} shows its breaker"
        );
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        let fixed = text
            .replace("model: M7Pre890", "model: M7")
            .replace("model: M7ReadUncommitted", "model: M7");
        let fixed = fixed
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("expect:") {
                    "    expect: Pass,"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let s = Scenario::parse(file, &fixed).unwrap_or_else(|e| panic!("{e}"));
        let report = run::run(&s, s.seed(), false);
        assert_eq!(
            report.verdict,
            Verdict::Pass,
            "{file} as M7: {:#?}",
            report.checks
        );
    }
}

/// Checks no bundled lesson shows violated yet, each with what it needs:
/// the test fails when a lesson starts showing one (move it out) and when
/// another check loses its last lesson.
const NOT_SHOWN_YET: [(CheckId, &str); 0] = [];

/// Every check is shown violated by at least one bundled lesson at its own
/// seed (or named in `NOT_SHOWN_YET` with what it needs), so a student
/// can see each one fail.
#[test]
fn every_check_is_violated_by_some_lesson() {
    let mut shown: std::collections::BTreeMap<CheckId, String> = Default::default();
    for file in bundled()
        .into_iter()
        .filter(|f| !f.starts_with("scenarios/bench/"))
    {
        let s = load(&file);
        for (v, _) in run::run(&s, s.seed(), false).violations() {
            shown.entry(v.check).or_insert_with(|| file.clone());
        }
    }
    for check in CheckId::ALL {
        let waiting = NOT_SHOWN_YET.iter().find(|(c, _)| *c == check);
        match (shown.get(&check), waiting) {
            (Some(_), None) | (None, Some(_)) => {}
            (None, None) => panic!("no lesson shows {} violated", check.heading()),
            (Some(file), Some(_)) => panic!(
                "{file} shows {} violated: take it out of NOT_SHOWN_YET",
                check.heading()
            ),
        }
    }
    assert_eq!(shown.len() + NOT_SHOWN_YET.len(), CheckId::ALL.len());
}
