//! Every teaching artifact of a recorded run, as (relative path, text):
//! what a run folder holds besides its scenario, reproduce line, verdict
//! and plain trace.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;

use models::record::Recording;
use models::run::Verdict;
use models::scenario::Scenario;

use crate::events::{self, Event};
use crate::explain::{self, Explanation};
use crate::svg::{self, Theme};
use crate::{VERSION, dot, html, mermaid, repro_command, stats};

/// The structured events.
pub const EVENTS_JSONL: &str = "events.jsonl";
/// The causal stories.
pub const EXPLAIN: &str = "explain.txt";
/// The counters.
pub const STATS: &str = "stats.json";
/// The summary for GitHub.
pub const README: &str = "README.md";
/// The interactive report.
pub const INDEX: &str = "index.html";
/// The ledger picture.
pub const LEDGER_SVG: &str = "diagrams/ledger.svg";
/// The space-time picture.
pub const SPACETIME_SVG: &str = "diagrams/spacetime.svg";
/// The timeline picture.
pub const TIMELINE_SVG: &str = "diagrams/timeline.svg";
/// The space-time picture of the first violation's message alone.
pub const COUNTEREXAMPLE_SVG: &str = "diagrams/counterexample.svg";
/// The Mermaid sequence diagram.
pub const MERMAID: &str = "diagrams/counterexample.mmd";
/// The topology.
pub const DOT: &str = "diagrams/model.dot";

/// Runs of at most this many trace events are recorded with every actor
/// state for a report; longer ones only with the states of
/// [`shown_window_in`] (see `models::record::record_for_report`).
pub const FULL_STATES_MAX: usize = 4 * crate::svg::spacetime::EVENTS_MAX;

/// The trace positions of the events the report's pictures show: the
/// window around the first violation, or the events in `span` (simulated
/// microseconds, both ends included) when given, as `eosim report
/// --window` draws them, so that their states are recorded too.
pub fn shown_window_in(bare: &Recording, span: Option<(u64, u64)>) -> Range<usize> {
    let events = events::build(bare);
    let shown = &events[shown(&events, span)];
    let ids = shown.iter().filter_map(|e| e.trace_id);
    // From the step before the first shown trace event: the observations
    // that open the window belong to it, and its states fill the inspector
    // at the window's first step.
    let lo = ids.clone().min().unwrap_or(0).saturating_sub(1);
    let hi = ids.max().map_or(0, |i| i + 1);
    usize::try_from(lo).unwrap_or(usize::MAX)..usize::try_from(hi).unwrap_or(usize::MAX)
}

/// A recorded run, rendered.
pub struct Rendered {
    /// The events, in order.
    pub events: Vec<Event>,
    /// The explanations.
    pub explanations: Vec<Explanation>,
}

impl Rendered {
    /// Build the events and explanations of `rec`.
    pub fn new(scenario: &Scenario, rec: &Recording) -> Rendered {
        let events = events::build(rec);
        let explanations = explain::explain(scenario, rec, &events);
        Rendered {
            events,
            explanations,
        }
    }

    /// The sentence beside each violating event: its explanation's
    /// conclusion.
    fn callouts(&self) -> BTreeMap<usize, String> {
        let mut out = BTreeMap::new();
        for x in &self.explanations {
            let Some(k) = &x.subject else { continue };
            for step in events::violating(&self.events, x.check, k) {
                out.entry(step).or_insert_with(|| x.conclusion.clone());
            }
        }
        out
    }

    /// The space-time picture.
    pub fn spacetime(&self, rec: &Recording, theme: Theme) -> String {
        self.spacetime_of(rec, shown(&self.events, None), theme)
    }

    /// The space-time picture of the events in `range`.
    fn spacetime_of(&self, rec: &Recording, range: std::ops::Range<usize>, theme: Theme) -> String {
        svg::spacetime::render(
            "Space-time diagram",
            svg::spacetime::Shows::Run,
            (&self.events, range),
            &rec.report.names,
            &self.callouts(),
            theme,
        )
    }

    /// The ledger picture.
    pub fn ledger(&self, rec: &Recording, theme: Theme) -> String {
        let flagged: Vec<_> = rec
            .report
            .violations()
            .filter_map(|(v, _)| v.subject)
            .collect();
        svg::ledger::render(&rec.report.ledger, &flagged, theme)
    }

    /// The first violation that names a message, its message, and per
    /// event whether it is in that violation's causal slice: the
    /// message's own events (its datagrams too) and the other steps of its
    /// story, read from happens-before (a crash, a pause, a rebalance, the
    /// recovery worker's request), with the send of every kept delivery so
    /// that its arrow is drawn.
    /// The step of the first explained violation: its ringed event.
    fn explained_step(&self) -> Option<usize> {
        let x = self.explanations.first()?;
        let code = x.check.code();
        self.events
            .iter()
            .find(|e| {
                e.violates.iter().any(|c| c == code) && (x.subject.is_none() || e.msg == x.subject)
            })
            .map(|e| e.step)
    }

    fn slice(&self) -> Option<(&str, Vec<bool>)> {
        let x = self.explanations.iter().find(|x| x.subject.is_some())?;
        let subject = x.subject.as_deref()?;
        let mut keep: Vec<bool> = self
            .events
            .iter()
            .map(|e| e.msg.as_deref() == Some(subject))
            .collect();
        for (step, _) in &x.steps {
            if let Some(k) = keep.get_mut(*step) {
                *k = true;
            }
        }
        for i in 0..keep.len() {
            let e = &self.events[i];
            if keep[i]
                && e.kind == events::Kind::Deliver
                && let Some(send) = e.cause.filter(|&c| c < keep.len())
            {
                keep[send] = true;
            }
        }
        Some((subject, keep))
    }

    /// The Mermaid diagram of the first violation's causal slice (the
    /// message's own events and its story's other steps), or of the run's
    /// first datagrams.
    pub fn mermaid(&self, rec: &Recording) -> String {
        let slice = self.slice();
        mermaid::render(
            &self.events,
            &rec.report.names,
            slice.as_ref().map(|(_, keep)| keep.as_slice()),
        )
    }

    /// The space-time picture of the first violation's causal slice (the
    /// message's own events and its story's other steps), or `None` when
    /// no violation names a message.
    pub fn counterexample(&self, rec: &Recording, theme: Theme) -> Option<String> {
        let (subject, kept) = self.slice()?;
        let keep = |e: &Event| kept.get(e.step).copied().unwrap_or(false);
        let renumbered: BTreeMap<usize, usize> = self
            .events
            .iter()
            .filter(|e| keep(e))
            .enumerate()
            .map(|(new, e)| (e.step, new))
            .collect();
        let focused: Vec<Event> = self
            .events
            .iter()
            .filter(|e| keep(e))
            .map(|e| Event {
                step: renumbered[&e.step],
                cause: e.cause.and_then(|c| renumbered.get(&c).copied()),
                ..e.clone()
            })
            .collect();
        let callouts = self
            .callouts()
            .into_iter()
            .filter_map(|(step, text)| renumbered.get(&step).map(|s| (*s, text)))
            .collect();
        Some(svg::spacetime::render(
            &format!("Counterexample: what happened to {subject}"),
            svg::spacetime::Shows::Slice,
            (
                &focused,
                events::window(&focused, svg::spacetime::EVENTS_MAX),
            ),
            &rec.report.names,
            &callouts,
            theme,
        ))
    }
}

/// Every artifact of a recorded run of `scenario` (from `file`).
///
/// # Errors
/// If JSON cannot be serialised (it always can: every field is plain data).
pub fn files(
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
    theme: Theme,
) -> Result<Vec<(&'static str, String)>, serde_json::Error> {
    files_in(scenario, rec, file, theme, None)
}

/// The Mermaid diagram and the counterexample picture of the shrunk run
/// `min`, recorded as `rec` (seedless, so any seed gives it).
fn shrunk_counterexample(min: &Scenario, rec: &Recording, theme: Theme) -> (String, String) {
    let r = Rendered::new(min, rec);
    let mmd = format!(
        "%% The shrunk counterexample (min/scenario.ron): the fewest faults and\n\
         %% events that still break the check.\n{}",
        r.mermaid(rec)
    );
    let svg = r
        .counterexample(rec, theme)
        .unwrap_or_else(|| r.spacetime(rec, theme));
    (mmd, svg)
}

/// The events the pictures and the page show: those in `span` (simulated
/// microseconds, both ends included) if given, else the whole run; at most
/// [`EVENTS_MAX`](crate::svg::spacetime::EVENTS_MAX), around the first
/// violation.
pub fn shown(events: &[Event], span: Option<(u64, u64)>) -> std::ops::Range<usize> {
    let outer = match span {
        Some((from, to)) => {
            let start = events.partition_point(|e| e.time_us < from);
            let end = events.partition_point(|e| e.time_us <= to).max(start);
            start..end
        }
        None => 0..events.len(),
    };
    let inner = events::window(&events[outer.clone()], crate::svg::spacetime::EVENTS_MAX);
    outer.start + inner.start..outer.start + inner.end
}

/// Like [`files`], with the space-time picture, the timeline and the page
/// limited to the events in `span` (simulated microseconds).
///
/// # Errors
/// If JSON cannot be serialised (it always can: every field is plain data).
pub fn files_in(
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
    theme: Theme,
    span: Option<(u64, u64)>,
) -> Result<Vec<(&'static str, String)>, serde_json::Error> {
    files_shrunk(scenario, rec, file, theme, span, None)
}

/// Like [`files_in`]; when the failure was shrunk to `min` (the seedless
/// `min/scenario.ron`), the counterexample pictures (`counterexample.mmd`,
/// `counterexample.svg`, the page's and the README's) show the shrunk run.
///
/// # Errors
/// If JSON cannot be serialised (it always can: every field is plain data).
pub fn files_shrunk(
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
    theme: Theme,
    span: Option<(u64, u64)>,
    min: Option<(&Scenario, &Recording)>,
) -> Result<Vec<(&'static str, String)>, serde_json::Error> {
    let r = Rendered::new(scenario, rec);
    let range = shown(&r.events, span);
    let healed = scenario.plan().faults_until.0;
    let mut story = explain::lines(&r.explanations);
    let held = explain::held(scenario, &rec.report);
    if !held.is_empty() {
        story.push((None, String::new()));
        story.push((None, "Why the claims held:".to_string()));
        for line in held {
            let wrapped = crate::text::wrap(&format!("  {line}"), "    ");
            story.extend(wrapped.lines().map(|l| (None, l.to_string())));
        }
    }
    let explain_txt: String = story.iter().map(|(_, l)| format!("{l}\n")).collect();
    let timeline_events = if span.is_some() {
        &r.events[range.clone()]
    } else {
        &r.events[..]
    };
    let (spacetime, ledger, timeline) = (
        r.spacetime_of(rec, range.clone(), theme),
        r.ledger(rec, theme),
        svg::timeline::render(timeline_events, &rec.report.names, healed, theme),
    );
    let (mmd, counterexample) = match min {
        Some((min, min_rec)) => shrunk_counterexample(min, min_rec, theme),
        None => (
            r.mermaid(rec),
            r.counterexample(rec, theme)
                .unwrap_or_else(|| spacetime.clone()),
        ),
    };
    let stats = stats::stats(rec);
    let index = html::render(&html::Page {
        title: title(scenario, rec),
        verdict: verdict(rec),
        checks: &rec.report.checks,
        stats: stat_rows(&stats),
        repro: repro_command(file, rec.report.seed),
        explanation: story,
        focus: r.explained_step(),
        lesson: scenario.comment(),
        model: model_line(scenario),
        counterexample: counterexample.clone(),
        spacetime: spacetime.clone(),
        ledger: ledger.clone(),
        timeline: timeline.clone(),
        scenario: scenario.resolved_ron(),
        names: &rec.report.names,
        events: &r.events,
        shown: range,
    })?;
    Ok(vec![
        (EVENTS_JSONL, events::jsonl(&r.events)?),
        (EXPLAIN, explain_txt.clone()),
        (STATS, serde_json::to_string_pretty(&stats)? + "\n"),
        (README, readme(scenario, rec, file, &explain_txt, &mmd)),
        (INDEX, index),
        (LEDGER_SVG, ledger),
        (SPACETIME_SVG, spacetime),
        (TIMELINE_SVG, timeline),
        (MERMAID, mmd),
        (COUNTEREXAMPLE_SVG, counterexample),
        (DOT, dot::render(scenario, &r.events)),
    ])
}

/// The model in one line: code, title and mechanism.
fn model_line(scenario: &Scenario) -> String {
    let info = scenario.model().info();
    format!("{} · {}: {}", info.code, info.title, info.mechanism)
}

/// The scenario, seed, hash and version: the HTML title.
pub fn title(scenario: &Scenario, rec: &Recording) -> String {
    format!(
        "eosim · {} · seed {} · hash {:012x} · eosim {VERSION}",
        scenario.name(),
        rec.report.seed,
        scenario.hash() >> 16
    )
}

fn verdict(rec: &Recording) -> (&'static str, String) {
    let r = &rec.report;
    let word = match r.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Inconclusive => "INCONCLUSIVE",
    };
    let broken: Vec<String> = r
        .violations()
        .map(|(v, expected)| {
            let tag = if expected { "expected" } else { "UNEXPECTED" };
            format!("{} ({tag})", v.check.heading())
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut line = if broken.is_empty() {
        format!("no violations · digest {}", r.end.digest)
    } else {
        format!("{} · digest {}", broken.join(" · "), r.end.digest)
    };
    if !r.unchecked.is_empty() {
        let codes: Vec<&str> = r.unchecked.iter().map(|(c, _)| c.code()).collect();
        line = format!("{line} · claimed, unchecked: {}", codes.join(", "));
    }
    (word, line)
}

/// The counters as rows, nested objects flattened (`effect latency us p50`).
fn stat_rows(stats: &serde_json::Value) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    flatten(&mut rows, "", stats);
    rows.retain(|(k, _)| k != "schema");
    rows
}

fn flatten(rows: &mut Vec<(String, String)>, prefix: &str, v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, v) in o {
                let name = format!("{prefix} {}", k.replace('_', " "));
                flatten(rows, name.trim(), v);
            }
        }
        serde_json::Value::String(s) => rows.push((prefix.to_string(), s.clone())),
        serde_json::Value::Null => rows.push((prefix.to_string(), "—".into())),
        v => rows.push((prefix.to_string(), v.to_string())),
    }
}

fn readme(
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
    explain_txt: &str,
    mmd: &str,
) -> String {
    let (word, line) = verdict(rec);
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", title(scenario, rec));
    let _ = writeln!(md, "**{word}** · {line}\n");
    let info = scenario.model().info();
    let _ = writeln!(
        md,
        "Model {}: {}. It claims {}.\n",
        info.code, info.title, info.guarantee
    );
    let _ = writeln!(
        md,
        "## Reproduce\n\n```sh\n{}\n```\n",
        repro_command(file, rec.report.seed)
    );
    let _ = writeln!(md, "## Explanation\n\n```text\n{explain_txt}```\n");
    let _ = writeln!(
        md,
        "## Sequence\n\nThe first violation's message, in order. Timing is not shown here \
         (see `diagrams/spacetime.svg`).\n\n```mermaid\n{mmd}```\n"
    );
    md.push_str(
        "## Files\n\n- `index.html`: the interactive report (step slider, state inspector)\n\
         - `diagrams/spacetime.svg`, `diagrams/ledger.svg`, `diagrams/timeline.svg`\n\
         - `events.jsonl`: every event; `stats.json`: counters; `explain.txt`: the stories\n\
         - `diagrams/model.dot`: the topology (`dot -Tsvg`)\n",
    );
    md
}
