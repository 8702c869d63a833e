//! JSON Lines for machines: every line is `{"type": …, "data": {…}}`, and
//! `run_start` carries `schema: 1`.
//!
//! A `violation` line of an explained run (one scenario, not a folder)
//! also carries `explanation`: the causal story of [`crate::explain`] as
//! data, `{"let", "steps": [{"n", "event", "text"}], "elided", "because",
//! "conclusion", "claim", "hint"}`, where `event` is the step's line in
//! `events.jsonl`; violations past the first few of a check have none.

use models::check::{CheckId, Violation};
use models::history::{Law, LawFailure, StateField};
use models::run::RunReport;
use models::scenario::Scenario;
use serde_json::{Value, json};

use crate::explain::Explanation;
use crate::{VERSION, repro_command};

/// Everything about one run in one JSON object, for `verdict.json`:
/// `run_start`'s fields, `run_end`'s, and the violations.
pub fn verdict(scenario: &Scenario, report: &RunReport, file: &str) -> Value {
    let mut all = run_start(scenario, report.seed, file);
    if let (Some(all), Value::Object(end)) =
        (all.as_object_mut(), run_end(scenario, report, file, None))
    {
        all.extend(end);
        let violations: Vec<Value> = report
            .violations()
            .map(|(v, e)| violation(report, v, e))
            .collect();
        all.insert("violations".into(), Value::from(violations));
    }
    all
}

/// The lines of one run: `run_start`, one `violation` each (with its
/// story, if `explained` tells it), `run_end` (with the run folder, if one
/// was written).
pub fn lines(
    scenario: &Scenario,
    report: &RunReport,
    file: &str,
    report_dir: Option<&str>,
    explained: &[Explanation],
) -> Vec<String> {
    let mut out = vec![envelope(
        "run_start",
        &run_start(scenario, report.seed, file),
    )];
    for (v, expected) in report.violations() {
        let mut data = violation(report, v, expected);
        let subject = v.subject.map(|k| k.to_string());
        let told = explained
            .iter()
            .find(|x| x.check == v.check && x.subject == subject);
        if let (Some(x), Some(fields)) = (told, data.as_object_mut()) {
            fields.insert("explanation".into(), explanation(x));
        }
        out.push(envelope("violation", &data));
    }
    out.push(envelope(
        "run_end",
        &run_end(scenario, report, file, report_dir),
    ));
    out
}

/// `{"type": kind, "data": data}` on one line.
/// `type` comes first so that a reader can dispatch before `data`.
pub fn envelope(kind: &str, data: &Value) -> String {
    format!(r#"{{"type":{},"data":{data}}}"#, Value::from(kind))
}

fn run_start(scenario: &Scenario, seed: u64, file: &str) -> Value {
    json!({
        "schema": 1,
        "scenario": scenario.name(),
        "file": file,
        "hash": format!("{:016x}", scenario.hash()),
        "seed": seed,
        "version": VERSION,
        "model": scenario.model().info().code,
        "params": scenario.resolved_ron(),
    })
}

fn violation(report: &RunReport, v: &Violation, expected: bool) -> Value {
    let mut data = json!({
        "check": v.check.code(),
        "name": v.check.name(),
        "jepsen": v.check.jepsen(),
        "subject": v.subject.map(|k| k.to_string()),
        "expected": expected,
        "summary": v.summary,
        "story": v.story,
        "crash_point": v.crash_point,
    });
    if let (Some(law), Some(fields)) = (law_failure(report, v), data.as_object_mut()) {
        fields.insert("retry".into(), law.retry.to_string().into());
        fields.insert("state".into(), state(&law.state));
    }
    data
}

/// The law probe's failure a C14 or C15 violation reports.
fn law_failure<'r>(report: &'r RunReport, v: &Violation) -> Option<&'r LawFailure> {
    if !v.check.is_law() {
        return None;
    }
    let law = if v.check == CheckId::C14 {
        Law::Idempotence
    } else {
        Law::Retry
    };
    report
        .ledger
        .law_failures
        .iter()
        .map(|(.., key, f)| (key, f))
        .find(|(key, f)| Some(**key) == v.subject && f.law == law && f.crash_point == v.crash_point)
        .map(|(_, f)| f)
}

/// A law's three states, field by field: `s`, one clean attempt, and the
/// failed attempt then the retry (for C14: processing twice).
fn state(fields: &[StateField]) -> Value {
    fields
        .iter()
        .map(|f| json!({ "field": f.field, "s": f.before, "clean": f.clean, "retried": f.retried }))
        .collect()
}

/// A story as data; each step's text with its column padding squeezed.
fn explanation(x: &Explanation) -> Value {
    let steps: Vec<Value> = x
        .steps
        .iter()
        .enumerate()
        .map(|(i, (event, text))| {
            json!({
                "n": i + 1,
                "event": event,
                "text": text.split_whitespace().collect::<Vec<_>>().join(" "),
            })
        })
        .collect();
    json!({
        "let": x.subject.as_ref().map(|k| format!("m = {k}")),
        "steps": steps,
        "elided": x.elided,
        "because": x.because,
        "conclusion": x.conclusion,
        "claim": x.claim,
        "hint": x.hint,
    })
}

fn run_end(scenario: &Scenario, report: &RunReport, file: &str, report_dir: Option<&str>) -> Value {
    let s = &report.end.stats;
    let repro = repro_command(file, report.seed);
    json!({
        "verdict": report.verdict.word(),
        "unchecked": report
            .unchecked
            .iter()
            .map(|(check, why)| json!({ "check": check.code(), "why": why }))
            .collect::<Vec<_>>(),
        "report_dir": report_dir,
        "exit_code": report.verdict.exit_code(),
        "digest": report.end.digest.to_string(),
        "end": format!("{:?}", report.end.reason),
        "sim_time_us": report.end.time.as_us(),
        "stats": {
            "messages": report.messages(),
            "retries": report.retries(),
            "datagrams_sent": s.sent,
            "delivered": s.delivered,
            "dropped": s.dropped,
            "duplicated": s.duplicated,
            "to_crashed": s.to_crashed,
            "timers": s.timers,
            "crashes": s.crashes,
            "restarts": s.restarts,
            "idempotence_probes": report.ledger.idempotence_probes,
            "retry_probes": report.ledger.retry_probes,
        },
        "checks": report.checks.iter().map(|j| json!({
            "check": j.check.code(),
            "result": j.judgement.word().to_lowercase(),
        })).collect::<Vec<_>>(),
        "repro": {
            "argv": [crate::command(), "run", file, "--seed", report.seed.to_string()],
            "string": repro,
            "hash": format!("{:016x}", scenario.hash()),
            "version": VERSION,
        },
    })
}
