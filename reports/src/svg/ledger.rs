//! `ledger.svg`: one row per message, one column per lifecycle stage (sent,
//! acked, appended, delivered, applied, offset committed); each cell holds
//! the count. A 1 is as one would hope (green, ●), a 0 is missing (amber, ○),
//! 2 or more happened again (red, ◆): the core picture for at-most-once,
//! at-least-once and exactly-once.

use std::fmt::Write as _;

use models::history::{Ledger, MsgLedger};
use models::vocab::{MsgKey, SendOutcome};

use super::{Theme, esc, open};

/// Rows drawn at most; violating messages are always among them.
pub const ROWS_MAX: usize = 200;

const STAGES: [&str; 6] = [
    "sent",
    "acked",
    "appended",
    "delivered",
    "applied",
    "offset committed",
];
const KEY_W: u32 = 70;
const CELL_W: u32 = 104;
const ROW_H: u32 = 22;
const TOP: u32 = 58;

fn counts(m: &MsgLedger) -> [usize; 6] {
    [
        m.attempts as usize,
        usize::from(m.outcome == Some(SendOutcome::Acked)),
        m.appends.len(),
        m.deliveries.len(),
        m.effect_count(),
        m.offset_commits as usize,
    ]
}

/// The class, glyph and word of a count.
fn grade(n: usize) -> (&'static str, &'static str) {
    match n {
        0 => ("none", "○"),
        1 => ("once", "●"),
        _ => ("many", "◆"),
    }
}

/// The ledger picture; `flagged` messages (violations) come first when
/// there are more than [`ROWS_MAX`] messages.
pub fn render(ledger: &Ledger, flagged: &[MsgKey], theme: Theme) -> String {
    let (rows, hidden) = rows(ledger, flagged);
    let width = KEY_W + CELL_W * 6 + 20;
    let height = TOP + ROW_H * u32::try_from(rows.len()).unwrap_or(u32::MAX / 64) + 110;
    let mut svg = open(width, height, "ledger: messages by lifecycle stage");
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Ledger: what happened \
         to each message</text>"
    );
    for (i, stage) in STAGES.iter().enumerate() {
        let x = KEY_W + CELL_W * u32::try_from(i).unwrap_or(0) + CELL_W / 2;
        let _ = writeln!(
            svg,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{stage}</text>",
            TOP - 8
        );
    }
    for (r, (key, m)) in rows.iter().enumerate() {
        let y = TOP + ROW_H * u32::try_from(r).unwrap_or(0);
        row(&mut svg, y, **key, m, flagged.contains(key), theme);
    }
    let y = TOP + ROW_H * u32::try_from(rows.len()).unwrap_or(0) + 20;
    if hidden > 0 {
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"{y}\">… {hidden} more messages not drawn (see events.jsonl)</text>"
        );
    }
    legend(&mut svg, y + 22, theme);
    svg.push_str("</svg>\n");
    svg
}

fn rows<'l>(ledger: &'l Ledger, flagged: &[MsgKey]) -> (Vec<(&'l MsgKey, &'l MsgLedger)>, usize) {
    let all: Vec<_> = ledger.messages.iter().collect();
    let flagged: std::collections::BTreeSet<&MsgKey> = flagged.iter().collect();
    if all.len() <= ROWS_MAX {
        return (all, 0);
    }
    let mut rows: Vec<_> = all
        .iter()
        .filter(|(k, _)| flagged.contains(k))
        .take(ROWS_MAX)
        .copied()
        .collect();
    let room = ROWS_MAX - rows.len();
    rows.extend(
        all.iter()
            .filter(|(k, _)| !flagged.contains(k))
            .take(room)
            .copied(),
    );
    rows.sort_by_key(|(k, _)| **k);
    (rows, all.len() - ROWS_MAX)
}

fn row(svg: &mut String, y: u32, key: MsgKey, m: &MsgLedger, flagged: bool, theme: Theme) {
    let p = theme.palette();
    let mark = if flagged { " ◀" } else { "" };
    let weight = if flagged { "bold" } else { "normal" };
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"{}\" font-weight=\"{weight}\">{key}{mark}</text>",
        y + 15
    );
    for (i, n) in counts(m).into_iter().enumerate() {
        let (class, glyph) = grade(n);
        let fill = match class {
            "none" => p.missing,
            "once" => p.good,
            _ => p.bad,
        };
        let x = KEY_W + CELL_W * u32::try_from(i).unwrap_or(0);
        let title = format!("{key} · {} · {n}", STAGES[i]);
        let _ = writeln!(
            svg,
            "<g class=\"cell {class}\" data-msg=\"{key}\" data-stage=\"{}\" data-count=\"{n}\">\
             <title>{}</title>\
             <rect x=\"{}\" y=\"{y}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" stroke=\"#666\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{glyph} {n}</text></g>",
            STAGES[i],
            esc(&title),
            x + 2,
            CELL_W - 4,
            ROW_H - 3,
            x + CELL_W / 2,
            y + 15
        );
    }
}

fn legend(svg: &mut String, y: u32, theme: Theme) {
    let p = theme.palette();
    let items = [
        (p.good, "● 1", "once, as it should be"),
        (p.missing, "○ 0", "never (lost, or not yet)"),
        (p.bad, "◆ 2+", "more than once (retry or duplicate)"),
    ];
    let x = 10;
    for (i, (fill, glyph, words)) in items.into_iter().enumerate() {
        let y = y + 22 * u32::try_from(i).unwrap_or(0);
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"40\" height=\"18\" fill=\"{fill}\" stroke=\"#666\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{glyph}</text>\
             <text x=\"{}\" y=\"{}\">{words}</text>",
            y - 13,
            x + 20,
            y,
            x + 46,
            y
        );
    }
}
