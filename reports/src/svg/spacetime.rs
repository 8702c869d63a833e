//! `spacetime.svg`: the Lamport diagram of a run. One lifeline per actor
//! (producers → broker → consumers → recovery), time downwards, slanted
//! arrows from send to delivery. A lost datagram ends mid-air in ✕ "lost";
//! a network duplicate is a dashed arrow labelled "dup"; a crash is a hatched
//! band up to the restart, labelled with what was lost and what was kept; an
//! effect is a dot with its count ("effect #2"); a datagram overtaken on
//! its link is drawn thick and labelled "overtaken"; violating events are
//! ringed with a callout. Long idle gaps are collapsed behind a break mark,
//! and big runs are cut to a window of [`EVENTS_MAX`] events around the
//! first violation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::{Theme, alarm, esc, open};
use crate::events::{Event, Kind, ms};

/// Events drawn at most.
pub const EVENTS_MAX: usize = 2_000;

const LEFT: u32 = 90;
const LANE_W: u32 = 180;
const TOP: u32 = 70;
const ROW: u32 = 18;
const RIGHT: u32 = 460;
/// Callouts start this far right of the last lifeline, clear of labels.
const CALLOUT_GAP: u32 = 130;
/// Gaps shorter than this are never collapsed, however sparse the run.
const IDLE_US_MIN: u64 = 20_000;

/// Whether an event gets a row of its own (the rest share the row above).
fn drawn(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Send
            | Kind::Dup
            | Kind::Lost
            | Kind::Cut
            | Kind::Deliver
            | Kind::DeliverToCrashed
            | Kind::Crash
            | Kind::Restart
            | Kind::Effect
            | Kind::Compensate
            | Kind::LawDiffers
            | Kind::Pause
            | Kind::Resume
            | Kind::Expire
            | Kind::Rebalance
            | Kind::Assign
            | Kind::SinkAbort
            | Kind::Refused
            | Kind::LogLost
            | Kind::Torn
            | Kind::OutcomeUnknown
    )
}

/// The y of every event in `events` (a window of the run), in pixels, and
/// the idle gaps collapsed: (y of the break, idle microseconds).
fn layout(events: &[Event]) -> (Vec<u32>, Vec<(u32, u64)>) {
    let mut gaps: Vec<u64> = events
        .windows(2)
        .map(|w| w[1].time_us.saturating_sub(w[0].time_us))
        .filter(|g| *g > 0)
        .collect();
    gaps.sort_unstable();
    let median = gaps.get(gaps.len() / 2).copied().unwrap_or(1).max(1);
    let mut ys = Vec::with_capacity(events.len());
    let mut breaks = Vec::new();
    let mut y = TOP + 20;
    let mut last_time = events.first().map_or(0, |e| e.time_us);
    for e in events {
        let gap = e.time_us.saturating_sub(last_time);
        if gap > 5 * median && gap > IDLE_US_MIN {
            breaks.push((y + 10, gap));
            y += 26;
        } else {
            let extra = gap.saturating_mul(6) / median;
            y += u32::try_from(extra.min(30)).unwrap_or(30);
        }
        if drawn(e.kind) {
            y += ROW;
        }
        ys.push(y);
        last_time = e.time_us;
    }
    (ys, breaks)
}

fn lane_x(lane: usize) -> u32 {
    LEFT + LANE_W * u32::try_from(lane).unwrap_or(0) + LANE_W / 2
}

/// The picture of `events[range]` (`events` is every event of the run, and
/// `range` at most [`EVENTS_MAX`] of them, see [`crate::events::window`]) for actors
/// `names`, under `heading`; `callouts` holds, by step, the sentence to put
/// beside a violating event.
/// What the picture shows, for what a collapsed gap says: a window of the
/// whole run (nothing happened in a gap), or a causal slice (nothing of
/// the slice happened; other events may have).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shows {
    /// Every event of a window of the run.
    Run,
    /// Only the events of one story.
    Slice,
}

/// The picture of `range` of `events`.
pub fn render(
    heading: &str,
    shows: Shows,
    (events, range): (&[Event], std::ops::Range<usize>),
    names: &[String],
    callouts: &BTreeMap<usize, String>,
    theme: Theme,
) -> String {
    let shown = &events[range.clone()];
    let (ys, breaks) = layout(shown);
    let lanes = u32::try_from(names.len()).unwrap_or(1);
    let width = LEFT + LANE_W * lanes + RIGHT;
    let bottom = ys.last().copied().unwrap_or(TOP) + 60;
    let mut d = Drawing {
        svg: open(width, bottom + 20, "space-time diagram of the run"),
        theme,
        shown,
        ys,
        bottom,
        first: shown.first().map_or(0, |e| e.step),
        lanes: names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect(),
        taken: Vec::new(),
    };
    // Labels are placed most telling first, so that a label that would
    // cover another is the one left out (its words stay in the tooltip);
    // the layers are then painted in their usual order.
    d.defs();
    d.title(heading, events.len(), &range);
    d.lifelines(names);
    let crashes = d.layer(Drawing::crashes);
    let pauses = d.layer(Drawing::pauses);
    let marks = d.layer(Drawing::marks);
    let effects = d.layer(Drawing::effects);
    let breaks = d.layer(|d| d.breaks(&breaks, width, shows));
    let rings = d.layer(|d| d.rings(callouts));
    let times = d.layer(Drawing::time_labels);
    let arrows = d.layer(Drawing::arrows);
    let names_again = d.layer(|d| d.names_again(names));
    for layer in [
        names_again,
        times,
        breaks,
        crashes,
        pauses,
        marks,
        arrows,
        effects,
        rings,
    ] {
        d.svg.push_str(&layer);
    }
    d.svg.push_str("</svg>\n");
    d.svg
}

/// Where a text sits relative to its x.
#[derive(Clone, Copy)]
enum Anchor {
    Start,
    Middle,
}

/// The box a text covers, estimated: DejaVu Sans at `size` px averages
/// about 0.6 em per character, and a line covers 0.8 em above its baseline
/// and 0.25 em below (the pictures test checks the same estimate).
#[derive(Clone, Copy, Debug)]
struct Area {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Area {
    fn of(x: u32, y: u32, text: &str, size: u32, anchor: Anchor) -> Area {
        let width =
            i64::try_from(text.chars().count()).unwrap_or(i64::MAX / 4) * i64::from(size) * 6 / 10;
        let x = i64::from(x);
        let x0 = match anchor {
            Anchor::Start => x,
            Anchor::Middle => x - width / 2,
        };
        // A pixel of margin all round: estimates are rounded.
        Area {
            x0: x0 - 1,
            y0: i64::from(y) - i64::from(size) * 8 / 10 - 1,
            x1: x0 + width + 1,
            y1: i64::from(y) + i64::from(size) / 4 + 1,
        }
    }

    fn overlaps(&self, other: &Area) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }
}

struct Drawing<'e> {
    svg: String,
    theme: Theme,
    shown: &'e [Event],
    ys: Vec<u32>,
    bottom: u32,
    /// The step of `shown[0]`.
    first: usize,
    /// Actor name → lane.
    lanes: BTreeMap<String, usize>,
    /// The areas of the texts placed so far.
    taken: Vec<Area>,
}

impl Drawing<'_> {
    /// What `draw` adds to the picture, taken out to be painted later.
    fn layer(&mut self, draw: impl FnOnce(&mut Self)) -> String {
        let start = self.svg.len();
        draw(self);
        self.svg.split_off(start)
    }

    /// Note a text that is always drawn.
    fn reserve(&mut self, area: Area) {
        self.taken.push(area);
    }

    /// Take `area` for a text if no placed text covers it.
    fn claim(&mut self, area: Area) -> bool {
        if self.taken.iter().any(|t| t.overlaps(&area)) {
            return false;
        }
        self.taken.push(area);
        true
    }

    fn y(&self, step: usize) -> Option<u32> {
        step.checked_sub(self.first)
            .and_then(|i| self.ys.get(i))
            .copied()
    }

    fn defs(&mut self) {
        let p = self.theme.palette();
        let _ = writeln!(
            self.svg,
            "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" \
             orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"{ink}\"/></marker>\
             <pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" \
             patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#ffffff\"/>\
             <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"{faint}\" stroke-width=\"3\"/>\
             </pattern></defs>",
            ink = p.ink,
            faint = p.faint
        );
    }

    fn title(&mut self, heading: &str, total: usize, range: &std::ops::Range<usize>) {
        let note = match (self.shown.first(), self.shown.last()) {
            (Some(a), Some(b)) if range.len() < total => format!(
                " · events {}–{} (t={}..{}ms) of {total} shown",
                a.step,
                b.step,
                a.time_ms(),
                b.time_ms()
            ),
            _ => format!(" · all {total} events"),
        };
        let _ = writeln!(
            self.svg,
            "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">{}</text>\
             <text x=\"10\" y=\"38\" fill=\"#444\">time flows down, not to scale: a row \
             per event, longer waits a little more room, long gaps cut (≈){}</text>",
            esc(heading),
            esc(&note)
        );
    }

    fn lifelines(&mut self, names: &[String]) {
        let faint = self.theme.palette().faint;
        for (lane, name) in names.iter().enumerate() {
            let x = lane_x(lane);
            self.reserve(Area::of(x, TOP - 6, name, 12, Anchor::Middle));
            let _ = writeln!(
                self.svg,
                "<g class=\"lifeline\"><title>{n}</title><text x=\"{x}\" y=\"{}\" \
                 text-anchor=\"middle\" font-weight=\"bold\">{n}</text>\
                 <line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{faint}\"/></g>",
                TOP - 6,
                TOP,
                self.bottom,
                n = esc(name)
            );
        }
    }

    /// The names again every 500 pixels, so a long picture stays legible
    /// (where no other label is).
    fn names_again(&mut self, names: &[String]) {
        for y in (TOP + 500..self.bottom).step_by(500) {
            for (lane, name) in names.iter().enumerate() {
                if !self.claim(Area::of(lane_x(lane), y, name, 10, Anchor::Middle)) {
                    continue;
                }
                let _ = writeln!(
                    self.svg,
                    "<text x=\"{}\" y=\"{y}\" text-anchor=\"middle\" fill=\"#999\" \
                     font-size=\"10\">{}</text>",
                    lane_x(lane),
                    esc(name)
                );
            }
        }
    }

    /// A time label in the margin at most every 60 pixels.
    fn time_labels(&mut self) {
        let mut last_label = 0;
        let ys = self.ys.clone();
        for (e, y) in self.shown.iter().zip(&ys) {
            let text = format!("t={}ms", e.time_ms());
            if *y >= last_label + 60 && self.claim(Area::of(8, y + 4, &text, 11, Anchor::Start)) {
                last_label = *y;
                let _ = writeln!(
                    self.svg,
                    "<text x=\"8\" y=\"{}\" fill=\"#666\" font-size=\"11\">{}</text>",
                    y + 4,
                    esc(&text)
                );
            }
        }
    }

    fn breaks(&mut self, breaks: &[(u32, u64)], width: u32, shows: Shows) {
        let (title, word) = match shows {
            Shows::Run => ("with nothing happening", "idle"),
            Shows::Slice => (
                "with nothing of this story (other events may have happened)",
                "skipped (nothing of this story)",
            ),
        };
        for (y, idle) in breaks {
            let label = format!("≈ {}ms {word}", ms(*idle));
            // Beside the zigzag, else right of the last lifeline, else only
            // in the tooltip (a crash or an effect may sit on the line).
            let beside = [LEFT + 56, width - RIGHT + 10]
                .into_iter()
                .find(|x| self.claim(Area::of(*x, y + 4, &label, 11, Anchor::Start)));
            let text = beside.map_or_else(String::new, |x| {
                format!(
                    "<text x=\"{x}\" y=\"{}\" fill=\"#666\" font-size=\"11\">{}</text>",
                    y + 4,
                    esc(&label)
                )
            });
            let _ = writeln!(
                self.svg,
                "<g class=\"gap\"><title>{idle}ms {title}, collapsed</title>\
                 <path d=\"M{LEFT},{y} l10,-5 l10,10 l10,-10 l10,10 l10,-5\" fill=\"none\" \
                 stroke=\"#888\"/><line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{w}\" y2=\"{y}\" \
                 stroke=\"#ccc\" stroke-dasharray=\"2,4\"/>{text}</g>",
                idle = ms(*idle),
                w = width - RIGHT,
            );
        }
    }

    /// Hatched bands from each crash to its restart.
    fn crashes(&mut self) {
        let mut last: BTreeMap<usize, (String, Option<String>)> = BTreeMap::new();
        let mut found = Vec::new();
        for (i, e) in self.shown.iter().enumerate() {
            if e.kind == Kind::Crash {
                let lost = last.get(&e.lane).and_then(|s| s.1.clone());
                let restart = self.shown[i..]
                    .iter()
                    .position(|r| r.kind == Kind::Restart && r.lane == e.lane)
                    .map(|j| i + j);
                found.push((i, restart, lost));
            }
            for (name, s) in &e.state {
                if let Some(lane) = self.lanes.get(name) {
                    last.insert(*lane, (s.durable.clone(), s.volatile.clone()));
                }
            }
        }
        for (i, restart, lost) in found {
            let kept = restart
                .and_then(|r| self.shown[r].state.get(&self.shown[r].actor))
                .map(|s| s.durable.clone());
            self.band(i, restart, lost, kept);
        }
    }

    /// A dashed band from each pause to its resume: the actor handles
    /// nothing and keeps its memory.
    fn pauses(&mut self) {
        for (i, e) in self.shown.iter().enumerate() {
            if e.kind != Kind::Pause {
                continue;
            }
            let resume = self.shown[i..]
                .iter()
                .position(|r| r.kind == Kind::Resume && r.lane == e.lane)
                .map(|j| i + j);
            let x = lane_x(e.lane);
            let top = self.ys[i];
            let end = resume.map_or(self.bottom, |r| self.ys[r]);
            let until = resume.map_or_else(
                || "past the end of this window".to_string(),
                |r| format!("until t={}ms", self.shown[r].time_ms()),
            );
            self.reserve(Area::of(
                x + 18,
                top + 4,
                "‖ PAUSED (memory kept)",
                12,
                Anchor::Start,
            ));
            let _ = writeln!(
                self.svg,
                "<g class=\"pause-band\" data-step=\"{}\"><title>{} paused at t={}ms {until}: \
                 it handles nothing, and its datagrams and timers wait; it resumes with its \
                 memory.</title><rect x=\"{}\" y=\"{top}\" width=\"28\" height=\"{}\" \
                 fill=\"#eeeeee\" stroke=\"#666\" stroke-dasharray=\"4,3\"/><text x=\"{}\" \
                 y=\"{}\" font-weight=\"bold\">‖ PAUSED (memory kept)</text></g>",
                e.step,
                esc(&e.actor),
                e.time_ms(),
                x - 14,
                end.saturating_sub(top).max(4),
                x + 18,
                top + 4,
            );
        }
    }

    /// A labelled mark for each fault that is neither a crash nor a pause:
    /// a resume, an eviction of dedup state, a rebalance and the
    /// assignment it made; and a sink's abort of a staged transaction
    /// (M8) that a restore found.
    fn marks(&mut self) {
        let red = alarm(self.theme);
        let ys = self.ys.clone();
        for (e, y) in self.shown.iter().zip(&ys) {
            let (class, text, colour) = match e.kind {
                Kind::Resume => ("resume", "▷ RESUME".to_string(), "#000"),
                Kind::Expire => ("expire", "⌫ dedup state EVICTED".to_string(), red),
                Kind::Rebalance => (
                    "rebalance",
                    "⇄ REBALANCE: loses its partitions".to_string(),
                    red,
                ),
                Kind::Assign => ("assign", format!("⇄ assigns {}", e.detail), "#000"),
                Kind::Refused => (
                    "refused",
                    format!("⊘ REFUSED {}", e.msg.as_deref().unwrap_or("a request")),
                    "#000",
                ),
                Kind::OutcomeUnknown => (
                    "outcome-unknown",
                    format!(
                        "? {}: outcome UNKNOWN, sent again",
                        e.msg.as_deref().unwrap_or("?")
                    ),
                    red,
                ),
                Kind::LogLost => (
                    "log-lost",
                    format!(
                        "✕ LOST {}: never flushed",
                        e.msg.as_deref().unwrap_or("records")
                    ),
                    red,
                ),
                Kind::Torn => (
                    "torn",
                    format!(
                        "✕ TORN record, read as {}: no checksum",
                        e.msg.as_deref().unwrap_or("?")
                    ),
                    red,
                ),
                Kind::SinkAbort => (
                    "sink-abort",
                    format!(
                        "✕ sink ABORTED {}'s staged txn",
                        e.msg.as_deref().unwrap_or("?")
                    ),
                    red,
                ),
                _ => continue,
            };
            self.reserve(Area::of(
                lane_x(e.lane) + 8,
                y + 4,
                &text,
                11,
                Anchor::Start,
            ));
            let _ = writeln!(
                self.svg,
                "<g class=\"{class}\" data-step=\"{}\"><title>t={}ms {}: {}</title>\
                 <text x=\"{}\" y=\"{}\" fill=\"{colour}\" font-size=\"11\" \
                 font-weight=\"bold\">{}</text></g>",
                e.step,
                e.time_ms(),
                esc(&e.actor),
                esc(&text),
                lane_x(e.lane) + 8,
                y + 4,
                esc(&text)
            );
        }
    }

    fn band(
        &mut self,
        i: usize,
        restart: Option<usize>,
        lost: Option<String>,
        kept: Option<String>,
    ) {
        let e = &self.shown[i];
        let x = lane_x(e.lane);
        let top = self.ys[i];
        let end = restart.map_or(self.bottom, |r| self.ys[r]);
        let red = alarm(self.theme);
        let lost = lost.unwrap_or_else(|| "its volatile state".into());
        let kept = kept.unwrap_or_else(|| "its durable state".into());
        let step = restart.map_or(e.step, |r| self.shown[r].step);
        let crash_label = format!("✕ CRASH at {}", e.detail);
        self.reserve(Area::of(x + 18, top + 4, &crash_label, 12, Anchor::Start));
        let _ = writeln!(
            self.svg,
            "<g class=\"crash-band\" data-step=\"{}\"><title>{} crashed at {} (t={}ms). \
             Lost (volatile): {}. Kept (durable): {}.</title>\
             <rect x=\"{}\" y=\"{top}\" width=\"28\" height=\"{}\" fill=\"url(#hatch)\" \
             stroke=\"{red}\"/><text x=\"{}\" y=\"{}\" fill=\"{red}\" font-weight=\"bold\">\
             ✕ CRASH at {}</text></g>",
            e.step,
            esc(&e.actor),
            esc(&e.detail),
            e.time_ms(),
            esc(&lost),
            esc(&kept),
            x - 14,
            end.saturating_sub(top).max(4),
            x + 18,
            top + 4,
            esc(&e.detail),
        );
        if let Some(r) = restart {
            let lines = [
                format!("↻ RESTART · lost: {}", short(&lost, 40)),
                format!("kept: {}", short(&kept, 40)),
            ];
            self.reserve(Area::of(
                x + 18,
                self.ys[r] - 2,
                &lines[0],
                11,
                Anchor::Start,
            ));
            self.reserve(Area::of(
                x + 18,
                self.ys[r] + 11,
                &lines[1],
                11,
                Anchor::Start,
            ));
            let _ = writeln!(
                self.svg,
                "<g class=\"restart\" data-step=\"{step}\"><title>restarted from durable \
                 state: {k}</title><text x=\"{}\" y=\"{}\" font-size=\"11\">↻ RESTART · lost: \
                 {l}</text><text x=\"{}\" y=\"{}\" font-size=\"11\">kept: {k}</text></g>",
                x + 18,
                self.ys[r] - 2,
                x + 18,
                self.ys[r] + 11,
                l = esc(&short(&lost, 40)),
                k = esc(&short(&kept, 40)),
            );
        }
    }

    fn arrows(&mut self) {
        let arrivals: BTreeMap<usize, usize> = self
            .shown
            .iter()
            .filter(|e| matches!(e.kind, Kind::Deliver | Kind::DeliverToCrashed))
            .filter_map(|e| e.cause.map(|c| (c, e.step)))
            .collect();
        let overtaken = overtaken(self.shown, &arrivals);
        // The crosses of lost datagrams are always drawn: their places are
        // taken before any arrow is labelled, a little lower or higher where
        // another mark sits.
        let mut crosses = BTreeMap::new();
        for e in self.shown {
            if let Some((_, xm, ym)) = self.lost_at(e) {
                let at = |shift: i64| u32::try_from(i64::from(ym) + shift).unwrap_or(ym);
                let cross = |y: u32| Area::of(xm, y + 6, "✕", 16, Anchor::Middle);
                let y = [0, 10, -10, 20]
                    .into_iter()
                    .map(at)
                    .find(|y| self.claim(cross(*y)))
                    .unwrap_or_else(|| {
                        self.reserve(cross(ym));
                        ym
                    });
                crosses.insert(e.step, y);
            }
        }
        for e in self.shown {
            match e.kind {
                Kind::Send | Kind::Dup => {
                    let arrival = arrivals.get(&e.step).copied();
                    self.arrow(e, arrival, overtaken.contains(&e.step));
                }
                Kind::Lost | Kind::Cut => {
                    if let Some(ym) = crosses.get(&e.step) {
                        self.lost(e, *ym);
                    }
                }
                _ => {}
            }
        }
    }

    fn arrow(&mut self, e: &Event, arrival: Option<usize>, overtaken: bool) {
        let (Some(y0), Some(peer)) = (self.y(e.step), e.peer_lane) else {
            return;
        };
        let (x0, x1) = (lane_x(e.lane), lane_x(peer));
        let (y1, step, crashed) = match arrival.and_then(|a| self.y(a).map(|y| (a, y))) {
            Some((a, y)) => (
                y,
                a,
                self.shown[a - self.first].kind == Kind::DeliverToCrashed,
            ),
            None => (self.bottom, e.step, false),
        };
        let ink = self.theme.palette().ink;
        let dup = e.kind == Kind::Dup;
        let dash = if dup { " stroke-dasharray=\"6,4\"" } else { "" };
        let mut class = String::from(if dup { "arrow dup" } else { "arrow" });
        let mut label = short(&name_of(e), 26);
        if dup {
            label = format!("dup · {label}");
        }
        let width = if overtaken { "2" } else { "1" };
        if overtaken {
            class.push_str(" reordered");
            label.push_str(" · overtaken");
        }
        if crashed {
            label.push_str(" · arrived while crashed");
        }
        // A datagram that vanished at a crashed receiver is labelled near its
        // end, where it vanished; the others half a lane from the sender
        // (between two lifelines, never on one in between), else further
        // along, else not at all (the tooltip keeps the words).
        let along = |fraction: (i64, i64)| {
            let at = |a: u32, b: u32| {
                let moved = (i64::from(b) - i64::from(a)) * fraction.0 / fraction.1;
                u32::try_from(i64::from(a) + moved).unwrap_or(a)
            };
            (at(x0, x1), at(y0, y1))
        };
        let half_lane = (i64::from(LANE_W / 2), i64::from(x0.abs_diff(x1).max(1)));
        let fractions: Vec<(i64, i64)> = if crashed {
            vec![(3, 5), (4, 5), (2, 5)]
        } else {
            vec![half_lane, (1, 2), (2, 3), (1, 3), (3, 4)]
        };
        let place = fractions.into_iter().map(along).find(|&(mx, my)| {
            self.claim(Area::of(
                mx,
                my.saturating_sub(3),
                &label,
                10,
                Anchor::Middle,
            ))
        });
        let text = place.map_or_else(String::new, |(mx, my)| {
            format!(
                "<text x=\"{mx}\" y=\"{}\" text-anchor=\"middle\" font-size=\"10\" \
                 fill=\"{ink}\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                my.saturating_sub(3),
                esc(&label)
            )
        });
        let _ = writeln!(
            self.svg,
            "<g class=\"{class}\" data-step=\"{step}\"><title>{} → {}: {} (sent t={}ms)</title>\
             <line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"{ink}\"{dash} \
             stroke-width=\"{width}\" marker-end=\"url(#head)\"/>{text}</g>",
            esc(&e.actor),
            esc(e.peer.as_deref().unwrap_or("?")),
            esc(&e.detail),
            e.time_ms(),
        );
    }

    /// Where a lost datagram's line starts and its cross sits: mid-air,
    /// but short of the next lifeline, so the cross is never read as
    /// happening at an actor in between. `None` for other events.
    fn lost_at(&self, e: &Event) -> Option<(u32, u32, u32)> {
        if !matches!(e.kind, Kind::Lost | Kind::Cut) {
            return None;
        }
        let (y0, peer) = (self.y(e.step)?, e.peer_lane?);
        let (x0, x1) = (lane_x(e.lane), lane_x(peer));
        let reach = (x0.abs_diff(x1) * 2 / 5).min(LANE_W * 9 / 20);
        let xm = if x1 > x0 { x0 + reach } else { x0 - reach };
        Some((x0, xm, y0 + ROW * 2))
    }

    /// A lost datagram: a line from its sender to the cross at `ym`.
    fn lost(&mut self, e: &Event, ym: u32) {
        let (Some((x0, xm, _)), Some(y0)) = (self.lost_at(e), self.y(e.step)) else {
            return;
        };
        let red = alarm(self.theme);
        let word = if e.kind == Kind::Cut { "cut" } else { "lost" };
        let said = format!("{word}: {}", short(&name_of(e), 24));
        let label = if self.claim(Area::of(xm, ym + 19, &said, 11, Anchor::Middle)) {
            format!(
                "<text x=\"{xm}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" \
                 fill=\"{red}\" font-weight=\"bold\">{}</text>",
                ym + 19,
                esc(&said)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            self.svg,
            "<g class=\"lost\" data-step=\"{}\"><title>{} → {}: {} {word} by the network \
             (t={}ms)</title><line x1=\"{x0}\" y1=\"{y0}\" x2=\"{xm}\" y2=\"{ym}\" \
             stroke=\"{red}\"/><text x=\"{xm}\" y=\"{}\" text-anchor=\"middle\" \
             font-size=\"16\" fill=\"{red}\">✕</text>{label}</g>",
            e.step,
            esc(&e.actor),
            esc(e.peer.as_deref().unwrap_or("?")),
            esc(&e.detail),
            e.time_ms(),
            ym + 6,
        );
    }

    fn effects(&mut self) {
        let green = self.theme.palette().effect;
        let ys = self.ys.clone();
        for (e, y) in self.shown.iter().zip(&ys) {
            let x = lane_x(e.lane);
            let (class, text) = match e.kind {
                Kind::Effect => (
                    "effect",
                    format!(
                        "{} effect #{}",
                        e.msg.as_deref().unwrap_or("?"),
                        e.effect.unwrap_or(0)
                    ),
                ),
                Kind::Compensate => (
                    "compensate",
                    format!("{} back to unprocessed", e.msg.as_deref().unwrap_or("?")),
                ),
                Kind::LawDiffers => ("law", "law probe: retry ≠ one clean run".to_string()),
                _ => continue,
            };
            self.reserve(Area::of(x + 15, y + 4, &text, 11, Anchor::Start));
            // An effect is a filled dot; the law probe's finding, which
            // changes nothing in the run, a hollow diamond.
            let mark = if e.kind == Kind::LawDiffers {
                format!(
                    "<path d=\"M{x} {} l6 6 l-6 6 l-6 -6 z\" fill=\"#fff\" stroke=\"{}\" \
                     stroke-width=\"1.5\"/>",
                    y.saturating_sub(6),
                    self.theme.palette().ink
                )
            } else {
                format!("<circle cx=\"{x}\" cy=\"{y}\" r=\"5\" fill=\"{green}\"/>")
            };
            let _ = writeln!(
                self.svg,
                "<g class=\"{class}\" data-step=\"{}\"><title>t={}ms {}: {}</title>\
                 {mark}<text x=\"{}\" y=\"{}\" font-size=\"11\" font-weight=\"bold\">{}</text></g>",
                e.step,
                e.time_ms(),
                esc(&e.actor),
                esc(&e.detail),
                x + 15,
                y + 4,
                esc(&text)
            );
        }
    }

    fn rings(&mut self, callouts: &BTreeMap<usize, String>) {
        let red = alarm(self.theme);
        let right = self.svg_right() + CALLOUT_GAP - 10;
        let ys = self.ys.clone();
        for (e, y) in self.shown.iter().zip(&ys) {
            if e.violates.is_empty() {
                continue;
            }
            let x = lane_x(e.lane);
            let text = callouts.get(&e.step).cloned().unwrap_or_else(|| {
                format!("{} {}", e.msg.as_deref().unwrap_or_default(), e.detail)
            });
            let _ = writeln!(
                self.svg,
                "<g class=\"violation\" data-step=\"{}\"><title>{}</title><circle cx=\"{x}\" \
                 cy=\"{y}\" r=\"11\" fill=\"none\" stroke=\"{red}\" stroke-width=\"2.5\"/>\
                 <line x1=\"{}\" y1=\"{y}\" x2=\"{right}\" y2=\"{y}\" stroke=\"{red}\" \
                 stroke-dasharray=\"3,3\"/>",
                e.step,
                esc(&text),
                x + 11
            );
            let lines = wrap(&format!("◀ {} {text}", e.violates.join(",")), 44);
            // The callout's lines start at its ring's row, or lower where
            // an earlier callout still runs.
            let top = (0..40u32).map(|down| y + 4 + 13 * down).find(|&top| {
                let areas = callout_areas(right + 4, top, &lines);
                !areas
                    .iter()
                    .any(|a| self.taken.iter().any(|t| t.overlaps(a)))
            });
            if let Some(top) = top {
                for (i, (line, area)) in lines
                    .iter()
                    .zip(callout_areas(right + 4, top, &lines))
                    .enumerate()
                {
                    self.reserve(area);
                    let _ = writeln!(
                        self.svg,
                        "<text x=\"{}\" y=\"{}\" fill=\"{red}\" font-size=\"11\" \
                         font-weight=\"bold\">{}</text>",
                        right + 4,
                        top + 13 * u32::try_from(i).unwrap_or(0),
                        esc(line)
                    );
                }
            }
            self.svg.push_str("</g>\n");
        }
    }

    fn svg_right(&self) -> u32 {
        let lanes = self.shown.iter().map(|e| e.lane).max().unwrap_or(0) + 1;
        let lanes = lanes.max(
            self.shown
                .iter()
                .filter_map(|e| e.peer_lane)
                .max()
                .unwrap_or(0)
                + 1,
        );
        LEFT + LANE_W * u32::try_from(lanes).unwrap_or(1) + 10
    }
}

/// The areas of a callout's `lines` from baseline `top` down, 13 px apart.
fn callout_areas(x: u32, top: u32, lines: &[String]) -> Vec<Area> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let y = top + 13 * u32::try_from(i).unwrap_or(0);
            Area::of(x, y, line, 11, Anchor::Start)
        })
        .collect()
}

/// The sends (by step) of datagrams overtaken on their link: a later send
/// on the same link arrived first, so the two arrows cross.
fn overtaken(shown: &[Event], arrivals: &BTreeMap<usize, usize>) -> BTreeSet<usize> {
    let mut links: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
    for e in shown
        .iter()
        .filter(|e| matches!(e.kind, Kind::Send | Kind::Dup))
    {
        if let (Some(peer), Some(arrival)) = (e.peer_lane, arrivals.get(&e.step)) {
            links
                .entry((e.lane, peer))
                .or_default()
                .push((e.step, *arrival));
        }
    }
    let mut out = BTreeSet::new();
    for sends in links.values() {
        let mut earliest_later = usize::MAX;
        for (send, arrival) in sends.iter().rev() {
            if *arrival > earliest_later {
                out.insert(*send);
            }
            earliest_later = earliest_later.min(*arrival);
        }
    }
    out
}

/// A datagram's name: the variant of its payload and its message
/// (`Produce p1#3`).
fn name_of(e: &Event) -> String {
    let variant = e.detail.split([' ', '(', '{']).next().unwrap_or_default();
    match &e.msg {
        Some(m) => format!("{variant} {m}"),
        None => variant.to_string(),
    }
}

fn short(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_string();
    }
    let mut t: String = text.chars().take(room.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Break `text` into lines of at most `width` characters, between words.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
