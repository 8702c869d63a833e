//! The terminal report: 80 columns, meaning carried by words (PASS, FAIL,
//! EXPECTED, MISSING, SKIP), never by colour alone.

use std::fmt::Write as _;

use models::check::{CheckId, Violation};
use models::run::{Judgement, RunReport, Verdict};
use models::scenario::Scenario;
use models::scenario::spec::{FaultEvent, RatioSpec};
use models::vocab::MsgKey;
use sim_core::EndReason;

use crate::{VERSION, repro_command};

const WIDTH: usize = 80;
/// Violations shown per check; the rest are counted.
const SHOWN_PER_CHECK: usize = 2;

/// The full report of one run.
pub fn render(scenario: &Scenario, report: &RunReport, file: &str) -> String {
    render_with(scenario, report, file, None)
}

/// The full report of one run, with `why` (an explanation from
/// [`crate::explain`]) placed before the footer.
pub fn render_with(
    scenario: &Scenario,
    report: &RunReport,
    file: &str,
    why: Option<&str>,
) -> String {
    let mut out = String::new();
    header(&mut out, scenario, report.seed);
    ran_line(&mut out, report, &unfired_crashes(scenario, report));
    checks(&mut out, scenario, report);
    violations(&mut out, report);
    if let Some(why) = why {
        let _ = write!(out, "\nwhy, step by step\n{why}");
    }
    let held = crate::explain::held(scenario, report);
    if !held.is_empty() {
        let _ = writeln!(out, "\nwhy the claims held");
        for line in held {
            let _ = writeln!(out, "{}", wrap(&format!("  {line}"), "    "));
        }
    }
    footer(&mut out, scenario, report, file);
    out
}

fn header(out: &mut String, scenario: &Scenario, seed: u64) {
    let info = scenario.model().info();
    let _ = writeln!(
        out,
        "eosim {VERSION} · {} · model {} · hash {}",
        scenario.name(),
        info.code,
        short_hash(scenario.hash()),
    );
    let spec = scenario.spec();
    let w = &spec.workload;
    let producers = range_name("producer", w.producers);
    let consumers = if spec.faults.rebalances() {
        let n = u32::try_from(scenario.actors().consumers().len()).unwrap_or(u32::MAX);
        format!("{} (group, shared db)", range_name("consumer", n))
    } else {
        range_name("consumer", w.partitions)
    };
    let partitions = plural(u64::from(w.partitions), "partition");
    let recovery = if scenario.actors().index_of("recovery").is_some() {
        " ← recovery"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "seed {seed} · {producers} → broker ({partitions}) → {consumers}{recovery}"
    );
    let d = &spec.network.default;
    let overrides = if spec.network.links.is_empty() {
        String::new()
    } else {
        match spec.network.links.len() {
            1 => " · 1 link override".to_string(),
            n => format!(" · {n} link overrides"),
        }
    };
    let _ = writeln!(
        out,
        "network  loss {} · dup {} · delay {}..{}ms{overrides}",
        percent(d.loss),
        percent(d.duplicate),
        ms(d.delay_us_min),
        ms(d.delay_us_max)
    );
    let mut parts = fault_parts(scenario);
    parts[0] = format!("faults   {}", parts[0]);
    let _ = writeln!(out, "{}", join_wrapped(&parts, " · ", "         "));
}

/// One line on the fault plan.
pub fn fault_summary(scenario: &Scenario) -> String {
    fault_parts(scenario).join(" · ")
}

/// The fault plan, one phrase per fault.
pub fn fault_parts(scenario: &Scenario) -> Vec<String> {
    let f = &scenario.spec().faults;
    let mut parts = vec![format!("until {}ms", thousands(f.until_ms))];
    for k in &f.crash {
        // A knob that names no actor and no point reaches producers and
        // consumers only.
        let anyone = if k.at_point.is_some() {
            "any actor"
        } else {
            "producers and consumers"
        };
        let actor = k.actor.as_deref().unwrap_or(anyone);
        let point = k.at_point.as_deref().unwrap_or("any point");
        parts.push(format!("crash {actor} {} at {point}", percent(k.ratio)));
    }
    for e in &f.schedule {
        parts.push(match e {
            FaultEvent::Crash {
                actor,
                at_point,
                nth,
            } => format!("crash {actor} at {at_point} (pass #{nth})"),
            FaultEvent::Drop { link, nth } => format!("drop {link} #{nth}"),
            FaultEvent::Duplicate { link, nth } => format!("duplicate {link} #{nth}"),
            FaultEvent::Delay {
                link,
                nth,
                delay_us,
                copy,
            } => {
                let which = if *copy { " (its copy)" } else { "" };
                format!("delay {link} #{nth}{which} {}ms", ms(*delay_us))
            }
            FaultEvent::Partition {
                between,
                and,
                from_ms,
                to_ms,
                one_way,
            } => {
                let arrow = if *one_way { "→" } else { "↔" };
                format!(
                    "partition {} {arrow} {} {from_ms}..{to_ms}ms",
                    between.join(","),
                    and.join(",")
                )
            }
            FaultEvent::ClockJump {
                actor,
                at_ms,
                by_ms,
            } => format!("clock of {actor} off by {by_ms:+}ms from {at_ms}ms"),
            FaultEvent::Pause {
                actor,
                from_ms,
                to_ms,
            } => format!("pause {actor} {from_ms}..{to_ms}ms"),
            FaultEvent::Expire { actor, at_ms } => {
                format!("{actor} loses its dedup state at {at_ms}ms")
            }
            FaultEvent::Rebalance { consumer, at_ms } => {
                format!("{consumer} loses its partitions at {at_ms}ms")
            }
        });
    }
    for k in &f.pause {
        let actor = k.actor.as_deref().unwrap_or("any actor");
        parts.push(format!(
            "pause {actor} {} for {}ms",
            percent(k.ratio),
            k.for_ms
        ));
    }
    if let Some(r) = f.expire {
        parts.push(format!("dedup state evicted {} per actor", percent(r)));
    }
    if let Some(r) = f.rebalance {
        parts.push(format!("rebalance {} per consumer", percent(r)));
    }
    if let Some(max) = f.clock_jump_ms_max {
        parts.push(format!("every clock jumps once by up to ±{max}ms"));
    }
    if f.crash.is_empty() && f.schedule.is_empty() && f.pause.is_empty() {
        parts.push("no crashes".into());
    }
    parts
}

/// The scenario's scheduled crashes that never fired in this run (their
/// point was passed fewer times than the pass they name), each in words:
/// a crash that silently did nothing would leave a lesson's author
/// believing it was tested.
pub fn unfired_crashes(scenario: &Scenario, report: &RunReport) -> Vec<String> {
    let names = &report.names;
    let fired = |actor: &str, point: &str| {
        report.ledger.messages.values().any(|m| {
            m.crashes
                .iter()
                .any(|(_, a, p)| *p == point && names.get(a.index()).is_some_and(|n| n == actor))
        })
    };
    scenario
        .spec()
        .faults
        .schedule
        .iter()
        .filter_map(|e| match e {
            FaultEvent::Crash {
                actor,
                at_point,
                nth,
            } if !fired(actor, at_point) => Some(format!(
                "the scheduled crash of {actor} at {at_point} (pass #{nth}) never fired: \
                 the point was passed fewer than {nth} times"
            )),
            _ => None,
        })
        .collect()
}

fn ran_line(out: &mut String, report: &RunReport, notes: &[String]) {
    let s = &report.end.stats;
    let how = match report.end.reason {
        EndReason::Quiet | EndReason::Stopped => "drained",
        EndReason::Stalled => "STALLED",
        EndReason::DrainBound => "drain bound hit",
        EndReason::TimeBound => "TIME BOUND hit",
        EndReason::EventBound => "EVENT BOUND hit",
        EndReason::MemoryBound => "MEMORY BOUND hit (raise --memory-budget)",
    };
    let probes = report.ledger.idempotence_probes + report.ledger.retry_probes;
    let segments = [
        format!(
            "ran {}ms simulated, {how}",
            thousands(report.end.time.as_ms())
        ),
        format!("{} msgs", report.messages()),
        format!("{} datagrams", thousands(s.sent)),
        format!("{} lost", thousands(s.dropped)),
        format!("{} dup", thousands(s.duplicated)),
        plural(report.retries(), "retry"),
        plural(s.crashes, "crash"),
        plural(probes, "probe"),
    ];
    let _ = writeln!(out, "{}", join_wrapped(&segments, " · ", "    "));
    for note in notes {
        let _ = writeln!(out, "{}", wrap(&format!("note  {note}"), "      "));
    }
    out.push('\n');
}

/// Join `parts` with `sep`, breaking lines between parts (never inside one)
/// to stay within 80 columns.
pub fn join_wrapped(parts: &[String], sep: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for (i, part) in parts.iter().enumerate() {
        let len = part.chars().count();
        if i > 0 && width + sep.chars().count() + len > WIDTH {
            out.push('\n');
            out.push_str(indent);
            width = indent.chars().count();
        } else if i > 0 {
            out.push_str(sep);
            width += sep.chars().count();
        }
        out.push_str(part);
        width += len;
    }
    out
}

/// Where a check's detail starts (and the claim, when it fits).
const CHECKS_COLUMN: usize = 38;

fn checks(out: &mut String, scenario: &Scenario, report: &RunReport) {
    let claim = format!("claim: {}", scenario.model().info().guarantee);
    let pad = CHECKS_COLUMN.min(WIDTH.saturating_sub(claim.chars().count()));
    let _ = writeln!(out, "{:<pad$}{claim}", "checks");
    for j in &report.checks {
        let word = j.judgement.word();
        let detail = match &j.judgement {
            Judgement::Pass(why)
            | Judgement::Missing(why)
            | Judgement::Skip(why)
            | Judgement::Unchecked(why) => why.clone(),
            Judgement::Fail(v) | Judgement::Expected(v) => violation_brief(v),
        };
        let head = match j.check {
            // A property's code is its name: shown once, in both columns.
            CheckId::Property(name) => format!("  {word:<10}{:<26}", truncate(name, 25)),
            _ => format!("  {word:<10}{:<4}{:<22}", j.check.code(), j.check.name()),
        };
        debug_assert_eq!(head.chars().count(), CHECKS_COLUMN);
        let room = WIDTH.saturating_sub(head.chars().count());
        let _ = writeln!(out, "{head}{}", truncate(&detail, room));
    }
}

fn violation_brief(v: &[Violation]) -> String {
    let first = v.first().map_or(String::new(), |v| v.summary.clone());
    match v.len() {
        0 | 1 => first,
        n => format!("{n}×, e.g. {first}"),
    }
}

fn violations(out: &mut String, report: &RunReport) {
    let mut current: Option<CheckId> = None;
    let mut told: Vec<MsgKey> = Vec::new();
    let mut shown = 0;
    let mut total = 0;
    for (v, expected) in report.violations() {
        if current != Some(v.check) {
            more(out, total, shown);
            current = Some(v.check);
            (shown, total) = (0, 0);
            let tag = if expected { "expected" } else { "UNEXPECTED" };
            let jepsen = v
                .check
                .jepsen()
                .map(|j| format!(" ({j})"))
                .unwrap_or_default();
            let _ = writeln!(out, "\n{}{jepsen}: {tag}", v.check.heading());
        }
        total += 1;
        if shown < SHOWN_PER_CHECK {
            shown += 1;
            let _ = writeln!(out, "{}", wrap(&format!("  {}", v.summary), "      "));
            // An offset's story (C5) is not its message's.
            let own_story = v.check.is_law() || v.check == CheckId::C5;
            if v.subject.is_some_and(|k| told.contains(&k)) && !own_story {
                let _ = writeln!(out, "    (what happened to it is told above)");
                continue;
            }
            told.extend(v.subject);
            // A checker's hint is told once, with the step-by-step story.
            for line in v.story.iter().filter(|l| !l.starts_with("hint: ")) {
                let _ = writeln!(out, "{}", wrap(&format!("    {line}"), "      "));
            }
        }
    }
    more(out, total, shown);
}

fn more(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(out, "  … and {} more", total - shown);
    }
}

fn footer(out: &mut String, scenario: &Scenario, report: &RunReport, file: &str) {
    let count =
        |f: fn(&Judgement) -> bool| report.checks.iter().filter(|j| f(&j.judgement)).count();
    let failed = count(|j| matches!(j, Judgement::Fail(_)));
    let expected = count(|j| matches!(j, Judgement::Expected(_)));
    let passed = count(|j| matches!(j, Judgement::Pass(_)));
    let skipped = count(|j| matches!(j, Judgement::Skip(_)));
    let missing = count(|j| matches!(j, Judgement::Missing(_)));
    let unchecked = count(|j| matches!(j, Judgement::Unchecked(_)));
    let word = match report.verdict {
        Verdict::Pass if !report.unchecked.is_empty() => {
            "PASS  on what was checked: claimed checks went unchecked"
        }
        Verdict::Pass if expected > 0 => "PASS  violations match the scenario's expect",
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCLUSIVE",
    };
    let mut tally = vec![];
    for (n, what) in [
        (failed, "failed"),
        (expected, "expected"),
        (missing, "missing"),
        (passed, "passed"),
        (skipped, "skipped"),
        (unchecked, "unchecked"),
    ] {
        if n > 0 {
            tally.push(format!("{n} {what}"));
        }
    }
    let _ = writeln!(out, "\n{word}");
    for (checks, why) in unchecked_by_reason(&report.unchecked) {
        let line = format!("  unchecked  {}: {why}", checks.join(", "));
        let _ = writeln!(out, "{}", wrap(&line, "             "));
    }
    let _ = writeln!(
        out,
        "  {} · digest {}",
        tally.join(" · "),
        report.end.digest
    );
    let _ = writeln!(out, "  reproduce  {}", repro_command(file, report.seed));
    let hash = short_hash(scenario.hash());
    let _ = writeln!(
        out,
        "  key        seed {} · hash {hash} · eosim {VERSION}",
        report.seed
    );
}

/// The unchecked claims grouped by why, in check order: `(["C14", "C15"],
/// "the law probe is off")`.
fn unchecked_by_reason(unchecked: &[(CheckId, String)]) -> Vec<(Vec<&'static str>, &str)> {
    let mut groups: Vec<(Vec<&'static str>, &str)> = Vec::new();
    for (check, why) in unchecked {
        match groups.iter_mut().find(|(_, w)| *w == why.as_str()) {
            Some((checks, _)) => checks.push(check.code()),
            None => groups.push((vec![check.code()], why)),
        }
    }
    groups
}

/// One line for a scenario in a folder run.
pub fn summary_line(scenario: &Scenario, report: &RunReport) -> String {
    let word = match report.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCL",
    };
    let broken: Vec<&str> = report
        .checks
        .iter()
        .filter(|j| {
            matches!(
                j.judgement,
                Judgement::Fail(_) | Judgement::Expected(_) | Judgement::Missing(_)
            )
        })
        .map(|j| match j.judgement {
            Judgement::Fail(_) => j.check.code(),
            Judgement::Missing(_) => "missing",
            _ => j.check.code(),
        })
        .collect();
    let unchecked: Vec<&str> = report.unchecked.iter().map(|(c, _)| c.code()).collect();
    let what = if broken.is_empty() && !unchecked.is_empty() {
        format!("{} unchecked", unchecked.join(","))
    } else if broken.is_empty() {
        "holds".to_string()
    } else {
        broken.join(",")
    };
    // A claimed check unchecked is marked, whatever else broke; the word
    // keeps a space after it.
    let word = match (unchecked.is_empty(), word) {
        (true, w) => w.to_string(),
        (false, "INCONCL") => "INCONC*".to_string(),
        (false, w) => format!("{w}*"),
    };
    format!(
        "{word:<8}{:<27} {:<14} s{:<4} {:<13} {}",
        truncate(scenario.name(), 27),
        scenario.model().info().code,
        report.seed,
        truncate(&what, 13),
        &report.end.digest.to_string()[..8]
    )
}

fn short_hash(h: u64) -> String {
    format!("{:012x}", h >> 16)
}

fn range_name(role: &str, n: u32) -> String {
    if n == 1 {
        format!("{role}-1")
    } else {
        format!("{role}-1..{n}")
    }
}

/// `n word` in English: `1 retry`, `3 retries`, `1,000 probes`.
pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        return format!("1 {word}");
    }
    let many = match word.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None if word.ends_with('h') => format!("{word}es"),
        None => format!("{word}s"),
    };
    format!("{} {many}", thousands(n))
}

/// A ratio as a percentage with at most one decimal.
pub fn percent(r: RatioSpec) -> String {
    if r.1 == 0 {
        return "0%".into();
    }
    let tenths = u64::from(r.0) * 1000 / u64::from(r.1);
    if tenths % 10 == 0 {
        format!("{}%", tenths / 10)
    } else {
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

fn ms(us: u64) -> String {
    if us.is_multiple_of(1000) {
        (us / 1000).to_string()
    } else {
        format!("{}.{:03}", us / 1000, us % 1000)
    }
}

pub use models::numbers::thousands;

fn truncate(s: &str, room: usize) -> String {
    if s.chars().count() <= room {
        return s.to_string();
    }
    let mut t: String = s.chars().take(room.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Wrap `line` at 80 columns, keeping its leading spaces and continuing
/// with `indent`.
pub fn wrap(line: &str, indent: &str) -> String {
    let body = line.trim_start_matches(' ');
    let mut out = line[..line.len() - body.len()].to_string();
    let mut width = out.chars().count();
    let mut first = true;
    for word in body.split(' ') {
        let len = word.chars().count();
        if !first && width + 1 + len > WIDTH {
            out.push('\n');
            out.push_str(indent);
            width = indent.chars().count();
        } else if !first {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += len;
        first = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_one_decimal_only_when_needed() {
        assert_eq!(percent(RatioSpec(1, 10)), "10%");
        assert_eq!(percent(RatioSpec(1, 3)), "33.3%");
        assert_eq!(percent(RatioSpec(0, 1)), "0%");
    }

    #[test]
    fn plurals_read_as_english() {
        assert_eq!(plural(1, "retry"), "1 retry");
        assert_eq!(plural(3, "retry"), "3 retries");
        assert_eq!(plural(2, "crash"), "2 crashes");
        assert_eq!(plural(1_000, "probe"), "1,000 probes");
    }

    #[test]
    fn wrapped_lines_fit_in_80_columns() {
        let long = "word ".repeat(60);
        for line in wrap(long.trim(), "    ").lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
    }
}
