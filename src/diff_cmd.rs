//! `eosim diff <run-a> <run-b> [--html FILE]`: where two run folders part
//! ways, and `eosim diff --fix <scenario>`: a run beside the same run under
//! the catalogue's remedy for its model.
//!
//! Runs are aligned by message, not by position: one extra event early on
//! (a law probe, a timer) shifts every later position, but not what
//! happened to each message. The difference that matters is the first
//! message whose outcome differs (how often it was acked, appended,
//! applied); its events in the two runs are aligned step by step (a longest
//! common subsequence of actor, kind and detail, times aside) and shown in
//! one table, differing rows marked. Runs whose messages all end the same
//! are compared event by event, as before. `--html` writes the table and the
//! two runs' counterexample pictures on one page.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use models::check::CheckId;
use models::scenario::Scenario;
use models::scenario::fix::fixed;
use reports::bundle::EVENTS_JSONL;
use serde_json::Value;

use reports::text::{plural, wrap};

use crate::runfolder::VERDICT;

/// Events of context shown before the first differing step.
const CONTEXT: usize = 3;

/// Columns of the aligned table: actor, event, and each run's time.
const ACTOR: usize = 12;
const EVENT: usize = 38;
const TIME: usize = 10;

/// Rows of the aligned table shown in the terminal (the page shows all).
const ROWS_MAX: usize = 40;

/// Compare the runs in folders `a` and `b`; returns the exit code (0 the
/// same, 1 they differ, 2 no such folder, 4 unreadable events).
pub fn diff(a: &str, b: &str, html: Option<&str>) -> u8 {
    for dir in [a, b] {
        if !Path::new(dir).is_dir() {
            errln!("error: {dir} is not a run folder (no such directory)");
            return 2;
        }
    }
    let (ra, rb) = match (Run::read(a), Run::read(b)) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(msg), _) | (_, Err(msg)) => {
            errln!("error: {msg}");
            return 4;
        }
    };
    let Some(text) = compare(&ra, &rb, None) else {
        crate::outln(format!(
            "SAME  {EVENTS_JSONL}: {} steps ({} trace events, the lines of \
             events.txt; {} observations), identical in order",
            ra.steps.len(),
            ra.traced,
            ra.steps.len() - ra.traced
        ));
        return 0;
    };
    crate::out(text.terminal());
    if let Some(path) = html {
        match write_page(path, (&ra, &rb), "", &text) {
            Ok(()) => crate::outln(format!("  page     {path}")),
            Err(msg) => {
                errln!("error: {msg}");
                return 4;
            }
        }
    }
    1
}

/// `eosim diff --fix <scenario>`: run `file` at `seed` and the same
/// scenario under its model's remedy, leave both run folders under `out`,
/// and show them aligned. Returns 0 if every check the remedy claims holds
/// in the fixed run, 1 if not, 2 for a scenario that cannot be fixed, 4 for
/// a folder that cannot be written.
pub fn diff_fix(file: &str, seed: Option<u64>, out: &str, html: Option<&str>) -> u8 {
    let scenario = match Scenario::load(file) {
        Ok(s) => s,
        Err(e) => {
            crate::diagnostics::report(&e, crate::Format::Human);
            return crate::diagnostics::exit_code(&e);
        }
    };
    let fix = match fixed(&scenario) {
        Ok(fix) => fix,
        Err(e) => {
            errln!("{}", wrap(&format!("error: {file}: {e}"), "  "));
            return 2;
        }
    };
    let seed = seed.unwrap_or(scenario.seed());
    let mut folders = Vec::new();
    for s in [&scenario, &fix.scenario] {
        let rec = match crate::runfolder::record(s, seed) {
            Ok(rec) => rec,
            Err(e) => {
                errln!("error: {file}: {e}");
                return 2;
            }
        };
        match crate::runfolder::write(out, s, &rec, file) {
            Ok(dir) => folders.push((dir.to_string_lossy().into_owned(), rec)),
            Err(msg) => {
                errln!("error: {msg}");
                return 4;
            }
        }
    }
    let (ra, rb) = match (Run::read(&folders[0].0), Run::read(&folders[1].0)) {
        (Ok(ra), Ok(rb)) => (ra, rb),
        (Err(msg), _) | (_, Err(msg)) => {
            errln!("error: {msg}");
            return 4;
        }
    };
    let (before, after) = (&folders[0].1.report, &folders[1].1.report);
    let mut head = format!(
        "FIX  {} → {} · seed {seed}\n",
        scenario.model().info().code,
        fix.scenario.model().info().code,
    );
    let remedy = format!("  remedy  {}", scenario.model().info().remedy);
    let _ = writeln!(head, "{}", wrap(&remedy, "          "));
    for note in &fix.notes {
        let _ = writeln!(head, "{}", wrap(&format!("  note    {note}"), "          "));
    }
    head.push('\n');
    let remedy = fix.scenario.model().info();
    let claims = remedy.claims;
    for (check, before_said, after_said) in check_rows(before, after, claims) {
        let claimed = if claims.contains(&check) {
            format!("claimed by {}", remedy.code)
        } else {
            "not claimed".to_string()
        };
        let _ = writeln!(
            head,
            "  {:<26} a {before_said:<8} → b {after_said:<8}  {claimed}",
            format!("{} {}", check.code(), check.name())
        );
    }
    head.push('\n');
    let focus = before
        .violations()
        .find(|(v, _)| claims.contains(&v.check))
        .and_then(|(v, _)| v.subject)
        .map(|k| k.to_string());
    let text = compare(&ra, &rb, focus.as_deref());
    crate::out(head.clone());
    match &text {
        Some(text) => crate::out(text.terminal()),
        None => crate::outln("SAME  both runs are identical event by event"),
    }
    if let (Some(path), Some(text)) = (html, &text) {
        match write_page(path, (&ra, &rb), &head, text) {
            Ok(()) => crate::outln(format!("  page     {path}")),
            Err(msg) => {
                errln!("error: {msg}");
                return 4;
            }
        }
    }
    let broken = check_rows(before, after, claims)
        .iter()
        .any(|(check, _, after_said)| claims.contains(check) && *after_said != "held");
    u8::from(broken)
}

/// Each check either run violated, with what each run says of it: claimed
/// checks of the remedy first.
fn check_rows(
    before: &models::run::RunReport,
    after: &models::run::RunReport,
    claims: &[CheckId],
) -> Vec<(CheckId, &'static str, &'static str)> {
    let violated =
        |r: &models::run::RunReport, c: CheckId| r.violations().any(|(v, _)| v.check == c);
    let word = |r: &models::run::RunReport, c: CheckId| {
        if violated(r, c) { "VIOLATED" } else { "held" }
    };
    let mut rows: Vec<(CheckId, &'static str, &'static str)> = CheckId::ALL
        .iter()
        .copied()
        .filter(|c| violated(before, *c) || violated(after, *c))
        .map(|c| (c, word(before, c), word(after, c)))
        .collect();
    rows.sort_by_key(|(c, ..)| !claims.contains(c));
    rows
}

/// One step of a run folder's `events.jsonl`.
#[derive(Debug)]
struct Step {
    time_us: u64,
    actor: String,
    kind: String,
    msg: Option<String>,
    detail: String,
}

impl Step {
    fn from_json(v: &Value) -> Step {
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        Step {
            time_us: v["time_us"].as_u64().unwrap_or(0),
            actor: s("actor"),
            kind: s("kind"),
            msg: v["msg"].as_str().map(str::to_string),
            detail: s("detail"),
        }
    }

    /// What happened, times aside, in short words: what two runs are
    /// aligned on.
    fn what(&self) -> String {
        let detail = compact(&self.detail, self.msg.as_deref());
        let kind = self.kind.replace('_', " ");
        if detail.is_empty() {
            kind
        } else if detail.starts_with(&kind) {
            detail
        } else {
            format!("{kind} · {detail}")
        }
    }

    /// The step in one line, for the positional comparison.
    fn line(&self) -> String {
        format!(
            "t={}ms {} {}",
            reports::events::ms(self.time_us),
            self.actor,
            self.what()
        )
    }
}

/// A datagram's or timer's label in short: `Deliver { partition: 0,
/// offset: 3, key: p1#9, dedup_id: 8 }` is `Deliver 0:3 id 8` (the
/// message's own key left out); any other detail as it is.
fn compact(detail: &str, msg: Option<&str>) -> String {
    let Some((name, rest)) = detail.split_once(" { ") else {
        return detail.to_string();
    };
    let Some(fields) = rest.strip_suffix(" }") else {
        return detail.to_string();
    };
    let fields: Vec<(&str, &str)> = fields
        .split(", ")
        .filter_map(|f| f.split_once(": "))
        .collect();
    let get = |k: &str| fields.iter().find(|(f, _)| *f == k).map(|(_, v)| *v);
    let placed = get("partition").is_some() && get("offset").is_some();
    let mut out = name.to_string();
    if let (Some(p), Some(o)) = (get("partition"), get("offset")) {
        let _ = write!(out, " {p}:{o}");
    }
    for (field, value) in &fields {
        match *field {
            "partition" | "offset" if placed => {}
            "key" if Some(*value) == msg => {}
            "dedup_id" => {
                let _ = write!(out, " id {value}");
            }
            _ => {
                let _ = write!(out, " {field} {value}");
            }
        }
    }
    out
}

/// A run folder, read.
struct Run {
    dir: String,
    /// The model's code and the seed, from `verdict.json` (if readable).
    model: String,
    seed: String,
    steps: Vec<Step>,
    /// How many steps are trace events (a line each in `events.txt`).
    traced: usize,
}

impl Run {
    fn read(dir: &str) -> Result<Run, String> {
        let path = Path::new(dir).join(EVENTS_JSONL);
        let missing = || {
            format!(
                "cannot read {}: no such file; re-render the folder with `eosim report {dir}`",
                path.display()
            )
        };
        let bytes = crate::runfolder::read_stored(Path::new(dir), EVENTS_JSONL, u64::MAX)?
            .ok_or_else(missing)?;
        let mut run = Run {
            dir: dir.to_string(),
            model: String::new(),
            seed: String::new(),
            steps: Vec::new(),
            traced: 0,
        };
        for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            let v: Value = serde_json::from_str(line)
                .map_err(|e| format!("{}:{}: not JSON: {e}", path.display(), i + 1))?;
            run.traced += usize::from(!v["trace_id"].is_null());
            run.steps.push(Step::from_json(&v));
        }
        let verdict = crate::runfolder::read_capped(&Path::new(dir).join(VERDICT), 1 << 28)
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        if let Some(v) = verdict {
            run.model = v["model"].as_str().unwrap_or("").to_string();
            run.seed = v["seed"]
                .as_u64()
                .map(|s| s.to_string())
                .unwrap_or_default();
        }
        Ok(run)
    }

    /// Each message's steps, and the messages in order of first appearance.
    fn by_message(&self) -> Messages<'_> {
        let mut m = Messages::default();
        for step in &self.steps {
            let Some(msg) = step.msg.as_deref() else {
                continue;
            };
            m.steps
                .entry(msg)
                .or_insert_with(|| {
                    m.order.push(msg);
                    Vec::new()
                })
                .push(step);
        }
        m
    }

    /// The model and seed, or the folder if `verdict.json` did not say.
    fn label(&self) -> String {
        if self.model.is_empty() {
            self.dir.clone()
        } else {
            format!("{}, seed {}", self.model, self.seed)
        }
    }

    fn title(&self) -> String {
        match (self.model.is_empty(), self.seed.is_empty()) {
            (false, false) => format!("{} ({}, seed {})", self.dir, self.model, self.seed),
            _ => self.dir.clone(),
        }
    }
}

/// A run's steps by message (looked up by key; listed in `order`, so that
/// nothing depends on the map's order).
#[derive(Default)]
struct Messages<'r> {
    order: Vec<&'r str>,
    steps: HashMap<&'r str, Vec<&'r Step>>,
}

impl<'r> Messages<'r> {
    /// The steps of `key`, none if the run never names it.
    fn of(&self, key: &str) -> &[&'r Step] {
        self.steps.get(key).map_or(&[], Vec::as_slice)
    }
}

/// How a message ended, as its events count it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Outcome {
    acked: usize,
    failed: usize,
    appended: usize,
    applied: usize,
}

impl Outcome {
    fn of(steps: &[&Step]) -> Outcome {
        let count = |kind: &str| steps.iter().filter(|s| s.kind == kind).count();
        Outcome {
            acked: count("ack"),
            failed: count("send_failed"),
            appended: count("append"),
            applied: count("effect"),
        }
    }

    /// How `self` (run a) and `b` differ, in words.
    fn versus(self, b: Outcome) -> String {
        let pairs = [
            ("applied", self.applied, b.applied),
            ("appended", self.appended, b.appended),
            ("acked", self.acked, b.acked),
            ("failed", self.failed, b.failed),
        ];
        let said: Vec<String> = pairs
            .iter()
            .filter(|(_, x, y)| x != y)
            .map(|(what, x, y)| format!("{what} {x}× in a, {y}× in b"))
            .collect();
        if said.is_empty() {
            "the same outcome, reached by other steps".to_string()
        } else {
            said.join("; ")
        }
    }
}

/// One row of the aligned table: the step of each run, or `None` where one
/// run has no counterpart.
struct Row<'r> {
    a: Option<&'r Step>,
    b: Option<&'r Step>,
}

impl Row<'_> {
    fn differs(&self) -> bool {
        self.a.is_none() || self.b.is_none()
    }
}

/// The comparison of two runs, ready to print.
struct Comparison<'r> {
    runs: (&'r Run, &'r Run),
    /// The first step (by position) that differs.
    first_step: usize,
    /// The message compared, why, and how many messages differ in outcome.
    focus: Option<(String, String, usize)>,
    rows: Vec<Row<'r>>,
    /// Steps of the focused message past [`ALIGNED_MAX`], left out of the
    /// alignment, in a and in b.
    unaligned: (usize, usize),
}

/// The comparison of `a` and `b`, or `None` if they are identical; `focus`
/// picks the message to align (else the first whose outcome differs).
fn compare<'r>(a: &'r Run, b: &'r Run, focus: Option<&str>) -> Option<Comparison<'r>> {
    let (la, lb): (Vec<String>, Vec<String>) = (
        a.steps.iter().map(Step::line).collect(),
        b.steps.iter().map(Step::line).collect(),
    );
    let first_step = (0..la.len().max(lb.len())).find(|i| la.get(*i) != lb.get(*i))?;
    let (ma, mb) = (a.by_message(), b.by_message());
    let keys: Vec<&str> = ma
        .order
        .iter()
        .chain(mb.order.iter().filter(|k| !ma.steps.contains_key(*k)))
        .copied()
        .collect();
    let outcome_differs: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| Outcome::of(ma.of(k)) != Outcome::of(mb.of(k)))
        .collect();
    let steps_differ = |k: &&&str| {
        let what = |s: &[&Step]| s.iter().map(|s| s.what()).collect::<Vec<_>>();
        what(ma.of(k)) != what(mb.of(k))
    };
    let chosen = focus
        .map(str::to_string)
        .or_else(|| outcome_differs.first().map(|k| (*k).to_string()))
        .or_else(|| keys.iter().find(steps_differ).map(|k| (*k).to_string()));
    let Some(key) = chosen else {
        return Some(Comparison {
            runs: (a, b),
            first_step,
            focus: None,
            rows: Vec::new(),
            unaligned: (0, 0),
        });
    };
    let (sa, sb) = (ma.of(&key), mb.of(&key));
    let why = Outcome::of(sa).versus(Outcome::of(sb));
    Some(Comparison {
        runs: (a, b),
        first_step,
        focus: Some((key, why, outcome_differs.len())),
        rows: align(sa, sb),
        unaligned: (
            sa.len().saturating_sub(ALIGNED_MAX),
            sb.len().saturating_sub(ALIGNED_MAX),
        ),
    })
}

/// Steps of one message aligned at most, per run: the alignment's table
/// grows with the product of the two counts.
const ALIGNED_MAX: usize = 2_000;

/// The steps of two runs aligned on what happened: a longest common
/// subsequence, the rest as rows of one run only (the first
/// [`ALIGNED_MAX`] steps of each).
fn align<'r>(a: &[&'r Step], b: &[&'r Step]) -> Vec<Row<'r>> {
    let (a, b) = (
        &a[..a.len().min(ALIGNED_MAX)],
        &b[..b.len().min(ALIGNED_MAX)],
    );
    let (wa, wb): (Vec<String>, Vec<String>) = (
        a.iter().map(|s| s.what()).collect(),
        b.iter().map(|s| s.what()).collect(),
    );
    let (n, m) = (a.len(), b.len());
    let mut longest = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            longest[i][j] = if wa[i] == wb[j] {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut rows = Vec::with_capacity(n.max(m));
    while i < n || j < m {
        if i < n && j < m && wa[i] == wb[j] {
            rows.push(Row {
                a: Some(a[i]),
                b: Some(b[j]),
            });
            (i, j) = (i + 1, j + 1);
        } else if j == m || (i < n && longest[i + 1][j] >= longest[i][j + 1]) {
            rows.push(Row {
                a: Some(a[i]),
                b: None,
            });
            i += 1;
        } else {
            rows.push(Row {
                a: None,
                b: Some(b[j]),
            });
            j += 1;
        }
    }
    rows
}

impl Comparison<'_> {
    /// The comparison for an 80-column terminal.
    fn terminal(&self) -> String {
        let (a, b) = self.runs;
        let mut out = match &self.focus {
            Some((key, why, n)) if *n > 0 => format!(
                "DIFFER  {key}: {why}\n        ({} differently; the first different step \
                 is #{})\n",
                if *n == 1 {
                    "1 message ends".to_string()
                } else {
                    format!("{} end", plural(*n as u64, "message"))
                },
                self.first_step
            ),
            Some((key, why, _)) => format!(
                "DIFFER  {key}: {why}\n        (every message ends the same; the first \
                 different step is #{})\n",
                self.first_step
            ),
            None => format!(
                "DIFFER at step #{} of {EVENTS_JSONL} (no message's steps differ)\n",
                self.first_step
            ),
        };
        let _ = writeln!(out, "  a = {}\n  b = {}", a.title(), b.title());
        if let Some((key, ..)) = &self.focus {
            out.push_str(&self.table(key));
        } else {
            out.push_str(&positional(a, b, self.first_step));
        }
        out
    }

    /// The focused message's steps in both runs, aligned.
    fn table(&self, key: &str) -> String {
        let mut out = format!("\n  {key} in both runs, aligned (≠: in one run only):\n");
        let _ = writeln!(
            out,
            "    {:<ACTOR$} {:<EVENT$} {:>TIME$} {:>TIME$}",
            "actor", "event", "a", "b"
        );
        let time = |s: Option<&Step>| {
            s.map_or("—".to_string(), |s| {
                format!("{}ms", reports::events::ms(s.time_us))
            })
        };
        for row in self.rows.iter().take(ROWS_MAX) {
            let step = row.a.or(row.b).expect("a row has a step");
            let _ = writeln!(
                out,
                "  {} {:<ACTOR$} {:<EVENT$} {:>TIME$} {:>TIME$}",
                if row.differs() { '≠' } else { ' ' },
                fit(&step.actor, ACTOR),
                fit(&step.what(), EVENT),
                time(row.a),
                time(row.b)
            );
        }
        if self.rows.len() > ROWS_MAX {
            let _ = writeln!(
                out,
                "    … {} more rows (--html FILE shows them all)",
                self.rows.len() - ROWS_MAX
            );
        }
        if let Some(note) = self.unaligned_note(key) {
            let _ = writeln!(
                out,
                "{}",
                reports::text::wrap(&format!("    {note}"), "    ")
            );
        }
        out
    }

    /// What the alignment left out, if it cut the message's steps.
    fn unaligned_note(&self, key: &str) -> Option<String> {
        let (a, b) = self.unaligned;
        (a + b > 0).then(|| {
            format!(
                "(only the first {ALIGNED_MAX} steps of {key} in each run are aligned: {a} \
                 more in a and {b} more in b are left out; {EVENTS_JSONL} has them all)"
            )
        })
    }
}

/// The steps around the first positional difference.
fn positional(a: &Run, b: &Run, at: usize) -> String {
    let mut out = String::new();
    for (i, s) in a
        .steps
        .iter()
        .enumerate()
        .take(at)
        .skip(at.saturating_sub(CONTEXT))
    {
        let _ = writeln!(out, "    #{i:<5} {}", fit(&s.line(), 69));
    }
    let show = |s: Option<&Step>| s.map_or("(no more events)".to_string(), |s| fit(&s.line(), 69));
    let _ = writeln!(out, "  a #{at:<5} {}", show(a.steps.get(at)));
    let _ = writeln!(out, "  b #{at:<5} {}", show(b.steps.get(at)));
    out
}

/// `text` in at most `width` characters, ending in `…` if cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// A page with the aligned table in full, then each run's counterexample
/// picture (its whole run where it has no violation), side by side and
/// scaled to the page.
fn write_page(
    path: &str,
    (a, b): (&Run, &Run),
    preface: &str,
    text: &Comparison<'_>,
) -> Result<(), String> {
    let picture = |dir: &str| {
        let file = Path::new(dir).join(reports::bundle::COUNTEREXAMPLE_SVG);
        std::fs::read_to_string(&file).map_err(|e| {
            format!(
                "cannot read {} ({e}); re-render with `eosim report {dir}`",
                file.display()
            )
        })
    };
    let (left, right) = (picture(&a.dir)?, picture(&b.dir)?);
    let esc = reports::svg::esc;
    let mut rows = String::new();
    for row in &text.rows {
        let step = row.a.or(row.b).expect("a row has a step");
        let time = |s: Option<&Step>| {
            s.map_or("—".to_string(), |s| {
                format!("{}ms", reports::events::ms(s.time_us))
            })
        };
        let _ = write!(
            rows,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if row.differs() { "differs" } else { "same" },
            if row.differs() { "≠" } else { "" },
            esc(&step.actor),
            esc(&step.what()),
            time(row.a),
            time(row.b)
        );
    }
    if let Some((key, ..)) = &text.focus
        && let Some(note) = text.unaligned_note(key)
    {
        let _ = write!(rows, "<tr><td colspan=\"5\">{}</td></tr>", esc(&note));
    }
    let heading = text.terminal();
    let summary = format!(
        "{preface}{}",
        heading.lines().take(4).collect::<Vec<_>>().join("\n")
    );
    let side = |r: &Run| {
        format!(
            "<h2>{}</h2><p><code>{}</code></p>",
            esc(&r.label()),
            esc(&r.dir)
        )
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>eosim diff</title><style>body{{font:14px system-ui,sans-serif;margin:1em}}\
         pre{{background:#f4f4f4;padding:.6em;white-space:pre-wrap}}\
         table{{border-collapse:collapse}}td,th{{padding:.15em .6em;text-align:left}}\
         tr.differs{{background:#fde8d8;font-weight:600}}td:nth-child(4),td:nth-child(5)\
         {{text-align:right;font-variant-numeric:tabular-nums}}\
         .pair{{display:flex;gap:1em;flex-wrap:wrap}}.pair>div{{flex:1 1 30em;min-width:0}}\
.pair svg{{max-width:100%;height:auto}}.rows{{overflow-x:auto}}\
         @media (max-width:600px){{body{{font-size:12px;margin:.4em}}pre{{font-size:11px}}}}\
         </style></head><body>\
         <h1>eosim diff</h1><pre>{}</pre>\
         <div class=\"rows\"><table><thead><tr><th></th><th>actor</th><th>event</th><th>a</th><th>b</th></tr>\
         </thead><tbody>{rows}</tbody></table></div>\
         <div class=\"pair\"><div>{}{left}</div><div>{}{right}</div></div></body></html>\n",
        esc(&summary),
        side(a).replacen("<h2>", "<h2>a: ", 1),
        side(b).replacen("<h2>", "<h2>b: ", 1)
    );
    std::fs::write(path, page).map_err(|e| format!("cannot write {path}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(actor: &str, kind: &str, detail: &str, time_us: u64) -> Step {
        Step {
            time_us,
            actor: actor.into(),
            kind: kind.into(),
            msg: Some("p1#4".into()),
            detail: detail.into(),
        }
    }

    fn run(steps: Vec<Step>) -> Run {
        Run {
            dir: "x".into(),
            model: String::new(),
            seed: String::new(),
            traced: steps.len(),
            steps,
        }
    }

    #[test]
    fn labels_are_shortened_without_losing_a_field() {
        let label = "Deliver { partition: 0, offset: 3, key: p1#9, dedup_id: 8 }";
        assert_eq!(compact(label, Some("p1#9")), "Deliver 0:3 id 8");
        assert_eq!(compact(label, Some("p1#2")), "Deliver 0:3 key p1#9 id 8");
        assert_eq!(
            compact("ProduceAck { key: p1#9 }", Some("p1#9")),
            "ProduceAck"
        );
        assert_eq!(
            compact("partition 0 offset 3", None),
            "partition 0 offset 3"
        );
    }

    #[test]
    fn runs_are_aligned_by_message_not_by_position() {
        let a = run(vec![
            step("producer-1", "send_attempt", "attempt 1", 0),
            step("consumer-1", "receive", "partition 0 offset 1", 10),
            step("consumer-1", "effect", "effect #1", 11),
            step("consumer-1", "receive", "partition 0 offset 1", 60),
            step("consumer-1", "effect", "effect #2", 61),
        ]);
        let mut b_steps = vec![step("probe", "law_differs", "an extra early event", 0)];
        b_steps[0].msg = None;
        b_steps.extend([
            step("producer-1", "send_attempt", "attempt 1", 0),
            step("consumer-1", "receive", "partition 0 offset 1", 10),
            step("consumer-1", "effect", "effect #1", 11),
            step("consumer-1", "receive", "partition 0 offset 1", 60),
        ]);
        let b = run(b_steps);
        let c = compare(&a, &b, None).expect("they differ");
        assert_eq!(c.first_step, 0, "positions differ from the start");
        let (key, why, n) = c.focus.clone().expect("a message differs");
        assert_eq!((key.as_str(), n), ("p1#4", 1));
        assert_eq!(why, "applied 2× in a, 1× in b");
        let marked: Vec<bool> = c.rows.iter().map(Row::differs).collect();
        assert_eq!(marked, [false, false, false, false, true], "only effect #2");
        let text = c.terminal();
        assert!(text.contains("≠ consumer-1   effect #2"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(compare(&a, &a, None).is_none());
    }
}
