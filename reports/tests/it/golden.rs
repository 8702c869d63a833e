//! Golden explanations: the `explain.txt` of every bundled scenario and
//! fixture that shows a violation at its own seed, compared byte for byte
//! with `tests/golden/<file>.explain.txt`. `UPDATE_GOLDEN=1` rewrites them;
//! review the diff like code.

use models::check::CheckId;
use reports::bundle::Rendered;

use crate::{recorded, root};

fn breaking_files() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["scenarios", "tests/fixtures"] {
        let mut names: Vec<String> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".ron"))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        names.sort();
        files.extend(names);
    }
    files
}

/// Compare `text` with `tests/golden/<rel's file>.<what>.txt`, or write it
/// there when `update`.
fn matches_golden(rel: &str, what: &str, text: &str, update: bool) {
    let stem = rel.rsplit('/').next().unwrap().trim_end_matches(".ron");
    let golden = root().join(format!("reports/tests/golden/{stem}.{what}.txt"));
    if update {
        std::fs::write(&golden, text).unwrap();
    }
    let want = std::fs::read_to_string(&golden)
        .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", golden.display()));
    assert_eq!(text, want, "{rel}: differs from {}", golden.display());
}

#[test]
fn explanations_of_the_breaking_scenarios_match_their_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    for rel in breaking_files() {
        let (scenario, rec) = recorded(&rel);
        if rec.report.violations().next().is_none() {
            continue;
        }
        let text = reports::explain::render(&Rendered::new(&scenario, &rec).explanations);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{rel}: over 80 columns: {line}");
        }
        matches_golden(&rel, "explain", &text, update);
        checked += 1;
    }
    assert!(
        checked >= 8,
        "every breaking scenario is covered ({checked})"
    );
}

/// "Why the claims held" of every bundled scenario and fixture whose
/// claims held and that says why, compared with
/// `tests/golden/<file>.held.txt` (`UPDATE_GOLDEN=1` rewrites them).
#[test]
fn why_the_claims_held_matches_the_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut checked = 0;
    for rel in breaking_files() {
        let (scenario, rec) = recorded(&rel);
        let lines = reports::explain::held(&scenario, &rec.report);
        if lines.is_empty() {
            continue;
        }
        matches_golden(&rel, "held", &(lines.join("\n") + "\n"), update);
        checked += 1;
    }
    assert!(checked >= 10, "the passing lessons are covered ({checked})");
}

#[test]
fn every_story_ends_in_a_contradiction_and_a_hint() {
    let (scenario, rec) = recorded("scenarios/05-m2-lost-ack-duplicates.ron");
    let explained = Rendered::new(&scenario, &rec).explanations;
    assert!(!explained.is_empty());
    for x in &explained {
        assert!(x.conclusion.starts_with("However, "), "{}", x.conclusion);
        // A duplicate append is the producer's to avoid; a duplicate
        // effect the consumer's.
        let remedy = if x.check == models::check::CheckId::C4 {
            "hint: an idempotent producer (M6)"
        } else {
            "hint: M4"
        };
        assert!(x.hint.starts_with(remedy), "{}", x.hint);
        assert!(!x.steps.is_empty());
    }
    let text = reports::explain::render(&explained);
    assert!(text.contains("appended m at partition 0"), "{text}");
    assert!(text.contains("effect #2"), "{text}");
}

#[test]
fn duplicate_stories_keep_their_cause_and_end_at_the_second_effect() {
    for (rel, cause) in [
        (
            "scenarios/05-m2-lost-ack-duplicates.ron",
            "the network LOST ProduceAck of m",
        ),
        (
            "scenarios/06-m2-crash-after-effect.ron",
            "CRASHED at after-effect-before-offset-commit",
        ),
    ] {
        let (scenario, rec) = recorded(rel);
        let rendered = Rendered::new(&scenario, &rec);
        let told: Vec<_> = rendered
            .explanations
            .iter()
            .filter(|x| x.check == CheckId::C3)
            .collect();
        assert!(!told.is_empty(), "{rel}");
        for x in told {
            let text: String = x.steps.iter().map(|(_, l)| format!("{l}\n")).collect();
            assert!(text.contains(cause), "{rel}: no {cause:?} in\n{text}");
            let (last, _) = x.steps.last().unwrap();
            let code = x.check.code();
            assert!(
                rendered.events[*last].violates.iter().any(|c| c == code),
                "{rel}: the story of {code} ends at step {last}, not at a violation"
            );
            assert!(
                x.steps.windows(2).all(|w| w[0].0 < w[1].0),
                "{rel}: in order"
            );
        }
    }
}

#[test]
fn the_sink_aborting_a_staged_transaction_is_an_event_and_in_the_story() {
    // Lesson 40: the job crashed between the checkpoint and the sink's
    // commit and stayed down past the sink's timeout; on restore the staged
    // transaction was gone.
    let (scenario, rec) = recorded("scenarios/40-m8-sink-timeout-loses-data.ron");
    let rendered = Rendered::new(&scenario, &rec);
    let aborts: Vec<_> = rendered
        .events
        .iter()
        .filter(|e| e.kind.word() == "sink_abort")
        .collect();
    assert!(!aborts.is_empty(), "the abort is an event");
    let jsonl = reports::events::jsonl(&rendered.events).unwrap();
    assert!(jsonl.contains("\"kind\":\"sink_abort\""), "in events.jsonl");
    let lost: Vec<_> = rendered
        .explanations
        .iter()
        .filter(|x| x.check == CheckId::C1)
        .collect();
    assert!(!lost.is_empty());
    for x in lost {
        let m = x.subject.as_deref().unwrap();
        assert!(
            aborts.iter().any(|e| e.msg.as_deref() == Some(m)),
            "{m}'s record was in the aborted transaction"
        );
        let text: String = x.steps.iter().map(|(_, l)| format!("{l}\n")).collect();
        assert!(
            text.contains("ABORTED"),
            "{m}'s story shows the abort:\n{text}"
        );
        let because = x.because.join(" ");
        assert!(because.contains("timeout"), "{m}: {because}");
    }
}

/// A run whose claims held says why, from its own ledger; a re-send
/// appended once is credited to the broker only where the broker can
/// recognise one.
#[test]
fn a_run_whose_claims_held_says_why() {
    let held = |file: &str| {
        let (scenario, rec) = recorded(file);
        reports::explain::held(&scenario, &rec.report).join("\n")
    };
    let fenced = held("scenarios/45-m12-fencing-refuses-the-zombie.ron");
    assert!(
        fenced.contains("under an old lease token refused"),
        "{fenced}"
    );
    let transactions = held("scenarios/30-m7-transactions-hold.ron");
    assert!(
        transactions.contains("under an old producer epoch refused"),
        "{transactions}"
    );
    let atomic = held("scenarios/10-m0-atomic-holds.ron");
    assert!(atomic.contains("took effect once each"), "{atomic}");
    assert!(!atomic.contains("recognised by the broker"), "{atomic}");
    let idempotent = held("scenarios/23-m6-idempotent-producer-absorbs-lost-acks.ron");
    assert!(
        idempotent.contains("recognised by the broker"),
        "{idempotent}"
    );
    let broken = held("scenarios/09-m0-naive-crash-duplicates.ron");
    assert!(broken.is_empty(), "a claim broke: {broken}");
}
