//! `eosim diff <run-a> <run-b> [--html FILE]`: where two run folders part
//! ways. Events are compared in order on what happened (time, actor, kind,
//! peer, message, detail), not on the states recorded with them; from the
//! first difference on they are shown side by side, and `--html` writes a
//! page with the two space-time pictures side by side.

use std::path::Path;

use reports::bundle::EVENTS_JSONL;
use serde_json::Value;

/// Events of context shown before the first difference.
const CONTEXT: usize = 3;

/// Events shown side by side from the first difference on.
const SIDE_BY_SIDE: usize = 8;

/// Width of one column of the side-by-side view (80 columns in all).
const COLUMN: usize = 37;

/// Compare the runs in folders `a` and `b`; returns the exit code (0 the
/// same, 1 they differ, 2 no such folder, 4 unreadable events).
pub fn diff(a: &str, b: &str, html: Option<&str>) -> u8 {
    for dir in [a, b] {
        if !Path::new(dir).is_dir() {
            errln!("error: {dir} is not a run folder (no such directory)");
            return 2;
        }
    }
    let (ea, eb) = match (events(a), events(b)) {
        (Ok(ea), Ok(eb)) => (ea, eb),
        (Err(msg), _) | (_, Err(msg)) => {
            errln!("error: {msg}");
            return 4;
        }
    };
    match first_divergence(&ea.lines, &eb.lines) {
        None => {
            crate::outln(format!(
                "SAME  {EVENTS_JSONL}: {} steps ({} trace events, the lines of \
                 events.txt; {} observations), identical in order",
                ea.lines.len(),
                ea.traced,
                ea.lines.len() - ea.traced
            ));
            0
        }
        Some(at) => {
            let (ea, eb) = (&ea.lines, &eb.lines);
            crate::out(describe(ea, eb, at, (a, b)));
            crate::out(side_by_side(ea, eb, at));
            if let Some(path) = html {
                match write_page(path, (a, b), &describe(ea, eb, at, (a, b))) {
                    Ok(()) => crate::outln(format!("  picture  {path}")),
                    Err(msg) => {
                        errln!("error: {msg}");
                        return 4;
                    }
                }
            }
            1
        }
    }
}

/// The events from the first difference on, `a` left and `b` right, each
/// cut to its column.
fn side_by_side(a: &[String], b: &[String], at: usize) -> String {
    let cut = |e: Option<&String>| e.map_or(String::new(), |e| fit(e, COLUMN));
    let mut out = format!("\n  {:<COLUMN$} │ {}\n", "a", "b");
    for i in at..(at + SIDE_BY_SIDE).min(a.len().max(b.len())) {
        let marker = if a.get(i) == b.get(i) { ' ' } else { '≠' };
        out.push_str(&format!(
            "{marker} {:<COLUMN$} │ {}\n",
            cut(a.get(i)),
            cut(b.get(i))
        ));
    }
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

/// A page with the two runs' space-time pictures side by side, under the
/// first difference.
fn write_page(path: &str, (a, b): (&str, &str), difference: &str) -> Result<(), String> {
    let picture = |dir: &str| {
        let file = Path::new(dir).join(reports::bundle::SPACETIME_SVG);
        std::fs::read_to_string(&file).map_err(|e| {
            format!(
                "cannot read {} ({e}); re-render with `eosim report {dir}`",
                file.display()
            )
        })
    };
    let (left, right) = (picture(a)?, picture(b)?);
    let esc = reports::svg::esc;
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>eosim diff</title><style>body{{font:14px system-ui,sans-serif;margin:1em}}\
         pre{{background:#f4f4f4;padding:.6em}}.pair{{display:flex;gap:1em}}\
         .pair>div{{flex:1;overflow:auto;border:1px solid #ddd}}</style></head><body>\
         <h1>eosim diff</h1><pre>{}</pre><div class=\"pair\"><div><h2>a: {}</h2>{left}</div>\
         <div><h2>b: {}</h2>{right}</div></div></body></html>\n",
        esc(difference),
        esc(a),
        esc(b)
    );
    std::fs::write(path, page).map_err(|e| format!("cannot write {path}: {e}"))
}

/// The steps of a folder's `events.jsonl`: engine trace events and the
/// actors' observations, in order.
struct Steps {
    /// Each step as one comparable line.
    lines: Vec<String>,
    /// How many of them are trace events (a line each in `events.txt`).
    traced: usize,
}

/// The steps of a folder's `events.jsonl`.
fn events(dir: &str) -> Result<Steps, String> {
    let path = Path::new(dir).join(EVENTS_JSONL);
    let missing = || {
        format!(
            "cannot read {}: no such file; re-render the folder with `eosim report {dir}`",
            path.display()
        )
    };
    let bytes = crate::runfolder::read_stored(Path::new(dir), EVENTS_JSONL, u64::MAX)?
        .ok_or_else(missing)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut steps = Steps {
        lines: Vec::new(),
        traced: 0,
    };
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("{}:{}: not JSON: {e}", path.display(), i + 1))?;
        steps.traced += usize::from(!v["trace_id"].is_null());
        steps.lines.push(summary(&v));
    }
    Ok(steps)
}

fn summary(v: &Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    let t = v["time_us"].as_u64().unwrap_or(0);
    let peer = s("peer");
    let peer = if peer.is_empty() {
        String::new()
    } else {
        format!(" ↔ {peer}")
    };
    format!(
        "t={}ms {} {}{peer} {} {}",
        reports::events::ms(t),
        s("actor"),
        s("kind"),
        s("msg"),
        s("detail")
    )
    .trim_end()
    .to_string()
}

fn first_divergence(a: &[String], b: &[String]) -> Option<usize> {
    (0..a.len().max(b.len())).find(|i| a.get(*i) != b.get(*i))
}

fn describe(a: &[String], b: &[String], at: usize, (da, db): (&str, &str)) -> String {
    let mut out =
        format!("DIFFER at step #{at} of {EVENTS_JSONL} (the first {at} steps are the same)\n");
    let from = at.saturating_sub(CONTEXT);
    for (i, e) in a.iter().enumerate().take(at).skip(from) {
        out.push_str(&format!("    #{i:<5} {}\n", fit(e, 69)));
    }
    let show = |e: Option<&String>| e.map_or("(no more events)".to_string(), |e| fit(e, 69));
    out.push_str(&format!("  a #{at:<5} {}\n", show(a.get(at))));
    out.push_str(&format!("  b #{at:<5} {}\n", show(b.get(at))));
    out.push_str(&format!("  a = {da}\n  b = {db}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_divergence_is_found_with_context() {
        let a: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        let b: Vec<String> = ["x", "y", "w"].map(String::from).to_vec();
        assert_eq!(first_divergence(&a, &a), None);
        assert_eq!(first_divergence(&a, &b), Some(2));
        assert_eq!(first_divergence(&a, &a[..2]), Some(2));
        let text = describe(&a, &b, 2, ("A", "B"));
        let columns = side_by_side(&a, &b, 2);
        assert!(
            columns.contains("≠ z") && columns.contains("│ w"),
            "{columns}"
        );
        assert!(
            text.contains("a #2     z") && text.contains("b #2     w"),
            "{text}"
        );
    }
}
