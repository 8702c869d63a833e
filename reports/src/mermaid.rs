//! `counterexample.mmd`: a Mermaid sequence diagram of what happened to the
//! first violation's message (GitHub renders it in Markdown). Mermaid draws
//! every arrow horizontally, so timing, delay and overtaking are not shown:
//! `spacetime.svg` shows them.

use std::fmt::Write as _;

use crate::events::{Event, Kind};

/// Lines drawn at most.
const LINES_MAX: usize = 60;

/// The diagram of the events about `subject` (or the first datagrams of the
/// run when there is none), with `autonumber`, `-x` for lost datagrams and
/// notes for crashes, restarts and effects.
pub fn render(events: &[Event], names: &[String], subject: Option<&str>) -> String {
    let mut out = String::from(
        "%% What happened, in order. Timing is not shown: Mermaid draws every arrow\n\
         %% flat, so delays and overtaking are invisible (see spacetime.svg).\n\
         sequenceDiagram\n    autonumber\n",
    );
    for (i, n) in names.iter().enumerate() {
        let _ = writeln!(out, "    participant A{i} as {}", label(n));
    }
    let mut lines = 0;
    for e in events {
        if lines >= LINES_MAX {
            out.push_str("    Note over A0: … more events not drawn (see events.jsonl)\n");
            break;
        }
        let relevant = match subject {
            Some(k) => e.msg.as_deref() == Some(k) || matches!(e.kind, Kind::Crash | Kind::Restart),
            None => e.kind.is_network(),
        };
        if relevant && let Some(line) = line(e) {
            wrap_violation(&mut out, e, &line);
            lines += 1;
        }
    }
    out
}

fn wrap_violation(out: &mut String, e: &Event, line: &str) {
    if e.violates.is_empty() {
        let _ = writeln!(out, "    {line}");
    } else {
        let _ = writeln!(
            out,
            "    rect rgb(250, 215, 200)\n    {line}\n    Note over A{}: violates {}\n    end",
            e.lane,
            e.violates.join(", ")
        );
    }
}

fn line(e: &Event) -> Option<String> {
    let (a, p) = (e.lane, e.peer_lane.unwrap_or(e.lane));
    let variant = e.detail.split([' ', '{', '(']).next().unwrap_or_default();
    let what = label(&format!(
        "{variant} {}",
        e.msg.as_deref().unwrap_or_default()
    ));
    Some(match e.kind {
        Kind::Deliver => format!("A{p}->>A{a}: {what}"),
        Kind::DeliverToCrashed => format!("A{p}-xA{a}: {what} (arrived while down)"),
        Kind::Lost | Kind::Cut => format!("A{a}-xA{p}: {what} (lost)"),
        Kind::Dup => format!("A{a}-->>A{p}: dup {what}"),
        Kind::Crash => format!("Note over A{a}: CRASH at {}", label(&e.detail)),
        Kind::Restart => format!("Note over A{a}: RESTART from durable state"),
        Kind::Effect => format!(
            "Note right of A{a}: effect #{} of {}",
            e.effect.unwrap_or(0),
            label(e.msg.as_deref().unwrap_or("?"))
        ),
        Kind::SinkAbort => format!(
            "Note over A{a}: the sink ABORTED the staged transaction of {}",
            label(e.msg.as_deref().unwrap_or("?"))
        ),
        _ => return None,
    })
}

/// Text made safe for a Mermaid label: `#` and `;` have meanings there, and
/// the word `end` closes blocks.
fn label(text: &str) -> String {
    text.trim()
        .replace(';', ",")
        .replace('#', "#35;")
        .replace("end", "e\u{200c}nd")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_what_mermaid_would_parse() {
        assert_eq!(label("p1#3; the end"), "p1#35;3, the e\u{200c}nd");
    }
}
