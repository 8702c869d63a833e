//! The terminal's mini space-time diagram of one causal story: one column
//! per actor involved, one row per numbered step, a glyph where the step
//! happened and a word beside it, so the story can be seen as well as read
//! in 80 columns. A crashed actor's lifeline is dotted until it restarts.

use std::collections::BTreeSet;

use crate::events::{Event, Kind};

/// Characters per actor column.
const COL: usize = 13;
/// Actors drawn at most.
const LANES_MAX: usize = 4;
/// The terminal's width.
const WIDTH: usize = 80;

/// The diagram of `steps` (event positions in `events`, numbered from 1).
pub fn render(events: &[Event], steps: &[usize], names: &[String]) -> String {
    let lanes = involved(events, steps);
    let mut out = String::from("       ");
    for lane in &lanes {
        let name: String = names
            .get(*lane)
            .map_or("?", String::as_str)
            .chars()
            .take(COL - 1)
            .collect();
        out.push_str(&format!("{name:^COL$}"));
    }
    out = out.trim_end().to_string();
    out.push('\n');
    let mut down: BTreeSet<usize> = BTreeSet::new();
    for (n, step) in steps.iter().enumerate() {
        let Some(e) = events.get(*step) else { continue };
        let (row, word) = row(e, &lanes, &down);
        match e.kind {
            Kind::Crash => {
                down.insert(e.lane);
            }
            Kind::Restart => {
                down.remove(&e.lane);
            }
            _ => {}
        }
        let room = WIDTH.saturating_sub(9 + row.chars().count());
        let word = if word.chars().count() > room {
            let cut: String = word.chars().take(room.saturating_sub(1)).collect();
            format!("{cut}…")
        } else {
            word
        };
        out.push_str(&format!("  {:>3}  {row}  {word}\n", n + 1));
    }
    out
}

/// The lanes of the story's events and their peers, in scenario order.
fn involved(events: &[Event], steps: &[usize]) -> Vec<usize> {
    let lanes: BTreeSet<usize> = steps
        .iter()
        .filter_map(|s| events.get(*s))
        .flat_map(|e| std::iter::once(e.lane).chain(e.peer_lane))
        .collect();
    lanes.into_iter().take(LANES_MAX).collect()
}

fn row(e: &Event, lanes: &[usize], down: &BTreeSet<usize>) -> (String, String) {
    let mut cells: Vec<char> = vec![' '; lanes.len() * COL];
    let col = |lane: usize| {
        lanes
            .iter()
            .position(|l| *l == lane)
            .map(|i| i * COL + COL / 2)
    };
    for (i, lane) in lanes.iter().enumerate() {
        cells[i * COL + COL / 2] = if down.contains(lane) { '┆' } else { '│' };
    }
    let variant = e.detail.split([' ', '{', '(']).next().unwrap_or_default();
    let (glyph, word) = match e.kind {
        Kind::Effect => ('●', format!("effect #{}", e.effect.unwrap_or(0))),
        Kind::Crash => ('✕', "CRASH".to_string()),
        Kind::Restart => ('↻', "restart".to_string()),
        Kind::Append => ('▪', "append".to_string()),
        Kind::Receive => ('▶', "receive".to_string()),
        Kind::SendAttempt if e.detail == "attempt 1" => ('○', "send".to_string()),
        Kind::SendAttempt => ('○', "re-send".to_string()),
        Kind::Ack => ('✓', "acked".to_string()),
        Kind::OffsetCommit => ('▪', "offset commit".to_string()),
        Kind::Compensate => ('↺', "compensate".to_string()),
        Kind::TxnEnd => ('◇', e.detail.clone()),
        Kind::Expire => ('⌫', "dedup state evicted".to_string()),
        Kind::Pause => ('‖', "PAUSE".to_string()),
        Kind::Resume => ('▷', "resume".to_string()),
        Kind::Rebalance => ('⇄', "REBALANCE".to_string()),
        // A lease moved (M12) names its new holder; a rebalance's
        // assignment has no peer.
        Kind::Assign if e.peer.is_some() => {
            ('⇄', format!("lease → {}", e.peer.as_deref().unwrap_or("?")))
        }
        Kind::Assign => ('⇄', "assign".to_string()),
        Kind::LawDiffers => ('≠', "law differs".to_string()),
        Kind::SinkAbort => ('✕', "sink ABORTED staged txn".to_string()),
        Kind::LogLost => ('✕', "LOST: never flushed".to_string()),
        Kind::Torn => ('✕', "TORN: no checksum".to_string()),
        Kind::OutcomeUnknown => ('?', "outcome UNKNOWN: sent again".to_string()),
        Kind::DeliverToCrashed => ('✕', format!("{variant} to the crashed")),
        Kind::Deliver => ('▶', variant.to_string()),
        Kind::Lost | Kind::Cut | Kind::Dup => ('✕', format!("{} {variant}", e.kind.word())),
        _ => ('·', e.kind.word().to_string()),
    };
    let datagram = matches!(
        e.kind,
        Kind::Lost | Kind::Cut | Kind::Dup | Kind::DeliverToCrashed | Kind::Deliver
    );
    if let (true, Some(from), Some(to)) = (datagram, col(e.lane), e.peer_lane.and_then(col)) {
        network(&mut cells, from, to, e.kind);
    } else if let Some(at) = col(e.lane) {
        cells[at] = glyph;
    }
    (cells.into_iter().collect(), word)
}

/// A datagram from column `from` towards `to`: a lost one stops mid-way in
/// ✕, one that reached a crashed actor ends in ✕, a duplicate is dashed, a
/// delivery ends in an arrowhead.
fn network(cells: &mut [char], from: usize, to: usize, kind: Kind) {
    // A delivery happens at the receiver: draw it from the sender.
    let (from, to) = if matches!(kind, Kind::DeliverToCrashed | Kind::Deliver) {
        (to, from)
    } else {
        (from, to)
    };
    let lost = matches!(kind, Kind::Lost | Kind::Cut);
    let end = if lost { (from + to) / 2 } else { to };
    let dash = if kind == Kind::Dup { '┄' } else { '─' };
    for c in &mut cells[from.min(end) + 1..from.max(end)] {
        *c = dash;
    }
    let right = to > from;
    cells[end] = match kind {
        Kind::Dup if right => '▷',
        Kind::Dup => '◁',
        Kind::Deliver if right => '▶',
        Kind::Deliver => '◀',
        _ => '✕',
    };
    cells[from] = if right { '├' } else { '┤' };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_datagram_stops_mid_way_and_a_duplicate_is_dashed() {
        let mut cells = vec![' '; 3 * COL];
        network(&mut cells, COL / 2, 2 * COL + COL / 2, Kind::Lost);
        let row: String = cells.iter().collect();
        assert_eq!(row.trim_end().chars().last(), Some('✕'), "{row}");
        assert!(
            row.chars().count() == 3 * COL && row.starts_with("      ├─"),
            "{row}"
        );
        let mut cells = vec![' '; 2 * COL];
        network(&mut cells, COL + COL / 2, COL / 2, Kind::Dup);
        let row: String = cells.iter().collect();
        assert!(
            row.contains('◁') && row.contains('┄') && row.contains('┤'),
            "{row}"
        );
    }
}
