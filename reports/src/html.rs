//! `index.html`: one self-contained file (inline CSS, JS and SVG; no
//! network, no external fonts) with tabs Summary, Explanation, Space-time,
//! Ledger, Timeline, Events and Scenario, and a step slider that reveals the
//! run event by event and shows each actor's durable and volatile state at
//! that step. The fragment `#step=12` (optionally `&tab=events`) selects a
//! step, so a headless browser can drive it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use models::run::Judgement;
use serde::Serialize;

use crate::events::{Event, StateView};
use crate::svg::esc;

/// What the page shows, already rendered.
pub struct Page<'a> {
    /// The HTML title: scenario, seed, hash and version.
    pub title: String,
    /// The verdict word and one line under it.
    pub verdict: (&'a str, String),
    /// The run's checks.
    pub checks: &'a [models::run::Judged],
    /// Counters, as (name, value).
    pub stats: Vec<(String, String)>,
    /// The reproduce line.
    pub repro: String,
    /// `explain.txt` by line, each with the event step it tells, if any
    /// (those lines link to their step).
    pub explanation: Vec<(Option<usize>, String)>,
    /// The step "jump to the violation" goes to: the explained violation's.
    pub focus: Option<usize>,
    /// The scenario file's top comment: the lesson and what to look for.
    pub lesson: &'a str,
    /// The model: its code, title and mechanism.
    pub model: String,
    /// The first violation's message alone, as a space-time picture.
    pub counterexample: String,
    /// The pictures.
    pub spacetime: String,
    /// The ledger picture.
    pub ledger: String,
    /// The timeline picture.
    pub timeline: String,
    /// The resolved scenario.
    pub scenario: String,
    /// Actor names.
    pub names: &'a [String],
    /// Every event of the run.
    pub events: &'a [Event],
    /// The events the slider, the picture and the table show (at most
    /// [`crate::svg::spacetime::EVENTS_MAX`]).
    pub shown: std::ops::Range<usize>,
}

#[derive(Serialize)]
struct Data<'e> {
    names: &'e [String],
    initial: BTreeMap<String, StateView>,
    first: usize,
    focus: Option<usize>,
    events: Vec<Row<'e>>,
}

#[derive(Serialize)]
struct Row<'e> {
    step: usize,
    /// The step whose states hold here (its handler's last), if later.
    #[serde(skip_serializing_if = "Option::is_none")]
    ends: Option<usize>,
    text: String,
    violates: &'e [String],
    state: &'e BTreeMap<String, StateView>,
}

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// The page.
///
/// # Errors
/// If the embedded data cannot be serialised (it always can).
pub fn render(page: &Page<'_>) -> Result<String, serde_json::Error> {
    let range = page.shown.clone();
    let data = data(page, range.clone());
    let json = serde_json::to_string(&data)?.replace("</", "<\\/");
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head>\n<body>\n",
        esc(&page.title)
    );
    header(&mut h, page);
    stepper(&mut h, page.names);
    tabs(&mut h, page, range);
    let _ = write!(
        h,
        "<script type=\"application/json\" id=\"run-data\">{json}</script>\n\
         <script>{JS}</script>\n</body></html>\n"
    );
    Ok(h)
}

fn data<'p>(page: &Page<'p>, range: std::ops::Range<usize>) -> Data<'p> {
    let mut initial: BTreeMap<String, StateView> = BTreeMap::new();
    for e in &page.events[..range.start] {
        for (name, s) in &e.state {
            initial.insert(name.clone(), s.clone());
        }
    }
    let events = page.events[range.clone()]
        .iter()
        .map(|e| Row {
            step: e.step,
            ends: e.handler_ends,
            text: describe(e),
            violates: &e.violates,
            state: &e.state,
        })
        .collect();
    Data {
        names: page.names,
        initial,
        first: page.events.get(range.start).map_or(0, |e| e.step),
        focus: page.focus.filter(|f| range.contains(f)).or_else(|| {
            page.events[range]
                .iter()
                .find(|e| !e.violates.is_empty())
                .map(|e| e.step)
        }),
        events,
    }
}

/// One event in a line.
fn describe(e: &Event) -> String {
    let mut s = format!("t={}ms {} {}", e.time_ms(), e.actor, e.kind.word());
    if let Some(p) = &e.peer {
        let _ = write!(s, " ↔ {p}");
    }
    if let Some(m) = &e.msg {
        let _ = write!(s, " {m}");
    }
    if !e.detail.is_empty() {
        let _ = write!(s, " · {}", e.detail);
    }
    if !e.violates.is_empty() {
        let _ = write!(s, " · VIOLATES {}", e.violates.join(","));
    }
    s
}

fn header(h: &mut String, page: &Page<'_>) {
    let (word, line) = &page.verdict;
    let _ = writeln!(
        h,
        "<header><h1>{}</h1>{}<p class=\"verdict {}\"><strong>{}</strong> {}</p>\
         <p class=\"repro\">reproduce: <code>{}</code></p></header>",
        esc(&page.title),
        lesson(page),
        word.to_lowercase(),
        esc(word),
        esc(line),
        esc(&page.repro)
    );
}

/// The lesson's own words (the file's top comment, one paragraph per
/// blank-line-separated block) and the model's mechanism.
fn lesson(page: &Page<'_>) -> String {
    let mut s = String::from("<section class=\"lesson\">");
    for para in page.lesson.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let words = para.split_whitespace().collect::<Vec<_>>().join(" ");
        let _ = write!(s, "<p>{}</p>", esc(&words));
    }
    let _ = write!(s, "<p class=\"model\">{}</p></section>", esc(&page.model));
    s
}

/// The explanation, its story steps as links to their step.
fn story(lines: &[(Option<usize>, String)]) -> String {
    let mut s = String::from("<pre class=\"story\">");
    for (step, line) in lines {
        match step {
            Some(n) => {
                let _ = writeln!(
                    s,
                    "<a class=\"story-step\" href=\"#step={n}&amp;tab=explanation\" \
                     data-step=\"{n}\">{}</a>",
                    esc(line)
                );
            }
            None => {
                let _ = writeln!(s, "{}", esc(line));
            }
        }
    }
    s.push_str("</pre>");
    s
}

fn stepper(h: &mut String, names: &[String]) {
    let _ = write!(
        h,
        "<section id=\"stepper\" aria-label=\"step through the run\">\
         <div class=\"controls\"><button type=\"button\" id=\"step-first\" \
         title=\"first event\">◀◀</button><button type=\"button\" id=\"step-prev\" \
         title=\"previous event\">◀</button><input type=\"range\" id=\"step\" min=\"0\" \
         max=\"0\" value=\"0\" aria-label=\"step\"><button type=\"button\" id=\"step-next\" \
         title=\"next event\">▶</button><button type=\"button\" id=\"step-last\" \
         title=\"last event\">▶▶</button><button type=\"button\" id=\"step-focus\">jump to \
         the violation</button></div>\
         <p aria-live=\"polite\">step <output id=\"step-now\">0</output>: <span \
         id=\"step-text\"></span></p><p class=\"keys\">keys: ← → or j k step, Home End \
         jump; story steps are links</p>\
         <table id=\"states\"><thead><tr><th>actor</th><th>status</th>\
         <th>durable (survives a crash)</th><th>volatile (lost in a crash)</th></tr></thead>\
         <tbody>"
    );
    for n in names {
        let _ = write!(
            h,
            "<tr data-actor=\"{n}\"><td>{n}</td><td class=\"up\">not started</td>\
             <td class=\"durable\"></td><td class=\"volatile\"></td></tr>",
            n = esc(n)
        );
    }
    h.push_str("</tbody></table></section>\n");
}

const TABS: [(&str, &str); 7] = [
    ("summary", "Summary"),
    ("explanation", "Explanation"),
    ("spacetime", "Space-time"),
    ("ledger", "Ledger"),
    ("timeline", "Timeline"),
    ("events", "Events"),
    ("scenario", "Scenario"),
];

fn tabs(h: &mut String, page: &Page<'_>, range: std::ops::Range<usize>) {
    h.push_str("<nav role=\"tablist\">");
    for (id, label) in TABS {
        let _ = write!(
            h,
            "<button type=\"button\" role=\"tab\" data-tab=\"{id}\">{label}</button>"
        );
    }
    h.push_str("</nav>\n");
    section(h, "summary", &summary(page));
    section(
        h,
        "explanation",
        &format!(
            "{}<div class=\"picture\">{}</div>",
            story(&page.explanation),
            page.counterexample
        ),
    );
    section(
        h,
        "spacetime",
        &format!("<div class=\"picture\">{}</div>", page.spacetime),
    );
    section(
        h,
        "ledger",
        &format!("<div class=\"picture\">{}</div>", page.ledger),
    );
    section(
        h,
        "timeline",
        &format!("<div class=\"picture\">{}</div>", page.timeline),
    );
    section(h, "events", &events_table(&page.events[range]));
    section(
        h,
        "scenario",
        &format!("<pre>{}</pre>", esc(&page.scenario)),
    );
}

fn section(h: &mut String, id: &str, body: &str) {
    let _ = writeln!(
        h,
        "<section class=\"tab\" id=\"tab-{id}\" role=\"tabpanel\">{body}</section>"
    );
}

fn summary(page: &Page<'_>) -> String {
    let mut s = String::from(
        "<table class=\"checks\"><thead><tr><th>result</th><th>check</th><th>detail</th></tr></thead><tbody>",
    );
    for j in page.checks {
        let detail = match &j.judgement {
            Judgement::Pass(w)
            | Judgement::Missing(w)
            | Judgement::Skip(w)
            | Judgement::Unchecked(w) => w.clone(),
            Judgement::Fail(v) | Judgement::Expected(v) => match (v.first(), v.len()) {
                (Some(first), 1) => first.summary.clone(),
                (Some(first), n) => format!("{n}×, e.g. {}", first.summary),
                (None, _) => String::new(),
            },
        };
        let word = j.judgement.word();
        let _ = write!(
            s,
            "<tr class=\"{}\"><td><strong>{word}</strong></td><td>{}</td><td>{}</td></tr>",
            word.to_lowercase(),
            esc(&j.check.heading()),
            esc(&detail)
        );
    }
    s.push_str("</tbody></table><table class=\"stats\"><tbody>");
    for (k, v) in &page.stats {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    s.push_str("</tbody></table>");
    s
}

fn events_table(events: &[Event]) -> String {
    let mut s = String::from(
        "<label>filter <input type=\"search\" id=\"filter\" placeholder=\"actor, kind, p1#3, …\">\
         </label><table id=\"events\"><thead><tr><th>step</th><th>t (ms)</th><th>actor</th>\
         <th>kind</th><th>peer</th><th>message</th><th>detail</th></tr></thead><tbody>",
    );
    for e in events {
        let mark = if e.violates.is_empty() {
            String::new()
        } else {
            format!(" ◀ violates {}", e.violates.join(", "))
        };
        let _ = write!(
            s,
            "<tr data-step=\"{}\" class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}{}</td></tr>",
            e.step,
            if e.violates.is_empty() {
                ""
            } else {
                "violation"
            },
            e.step,
            e.time_ms(),
            esc(&e.actor),
            e.kind.word(),
            esc(e.peer.as_deref().unwrap_or("")),
            esc(e.msg.as_deref().unwrap_or("")),
            esc(&e.detail),
            esc(&mark)
        );
    }
    s.push_str("</tbody></table>");
    s
}
