//! `counterexample.mmd`: a Mermaid sequence diagram of what happened to the
//! first violation's message (GitHub renders it in Markdown). Mermaid draws
//! every arrow horizontally, so timing, delay and overtaking are not shown:
//! `spacetime.svg` shows them.

use std::fmt::Write as _;

use crate::events::{Event, Kind};

/// Lines drawn at most.
const LINES_MAX: usize = 60;

/// The diagram of the events `slice` keeps (per event; `None`: the first
/// datagrams of the run), with `autonumber`, `-x` for lost datagrams and
/// notes for crashes, restarts, pauses, rebalances and effects.
pub fn render(events: &[Event], names: &[String], slice: Option<&[bool]>) -> String {
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
        let relevant = match slice {
            Some(keep) => keep.get(e.step).copied().unwrap_or(false),
            // No violation: the run's first datagrams, as they arrive.
            None => e.kind.is_network() || e.kind == Kind::Deliver,
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
        // The copy arrives as its own delivery: a note, not a third arrow.
        Kind::Dup => format!("Note over A{a},A{p}: the network copied {what}: it arrives twice"),
        Kind::Crash => format!("Note over A{a}: CRASH at {}", label(&e.detail)),
        Kind::Restart => format!("Note over A{a}: RESTART from durable state"),
        Kind::Pause => format!("Note over A{a}: PAUSED"),
        Kind::Resume => format!("Note over A{a}: RESUMED"),
        Kind::Rebalance => format!("Note over A{a}: LOST ITS PARTITIONS (rebalance)"),
        Kind::Assign => format!("Note over A{a}: assigned {}", label(&e.detail)),
        Kind::Compensate => format!(
            "Note over A{a}: {} back to unprocessed",
            label(e.msg.as_deref().unwrap_or("?"))
        ),
        Kind::Effect => format!(
            "Note right of A{a}: {}",
            label(&format!(
                "effect #{} of {}",
                e.effect.unwrap_or(0),
                e.msg.as_deref().unwrap_or("?")
            ))
        ),
        Kind::Refused => format!("Note over A{a}: REFUSED {}", label(&e.detail)),
        Kind::OutcomeUnknown => format!(
            "Note over A{a}: outcome of {} UNKNOWN: sent again",
            label(e.msg.as_deref().unwrap_or("?"))
        ),
        Kind::LogLost => format!(
            "Note over A{a}: LOST {}: never flushed",
            label(e.msg.as_deref().unwrap_or("?"))
        ),
        Kind::Torn => format!(
            "Note over A{a}: TORN record read as {}: no checksum",
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
    fn an_effect_number_is_escaped_and_a_network_copy_is_a_note() {
        let event = |kind, detail: &str| Event {
            step: 0,
            time_us: 0,
            actor: "consumer-1".into(),
            lane: 2,
            peer: Some("broker".into()),
            peer_lane: Some(1),
            kind,
            msg: Some("p1#3".into()),
            detail: detail.into(),
            trace_id: None,
            cause: None,
            effect: Some(1),
            clock: Vec::new(),
            violates: Vec::new(),
            handler_ends: None,
            state: std::collections::BTreeMap::new(),
            law: Vec::new(),
        };
        let effect = line(&event(Kind::Effect, "")).unwrap();
        assert_eq!(effect, "Note right of A2: effect #35;1 of p1#35;3");
        let copy = line(&event(Kind::Dup, "Produce")).unwrap();
        assert!(copy.starts_with("Note over A2,A1:"), "{copy}");
    }

    #[test]
    fn labels_escape_what_mermaid_would_parse() {
        assert_eq!(label("p1#3; the end"), "p1#35;3, the e\u{200c}nd");
    }
}
