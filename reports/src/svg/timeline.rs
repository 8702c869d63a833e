//! `timeline.svg`: one horizontal lane per actor, time to the right, the
//! faulty phase shaded behind the lanes (Jepsen style), crashes as bars up
//! to the restart, effects as ticks and lost datagrams as crosses.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Theme, alarm, esc, open};
use crate::events::{Event, Kind, ms};

const LEFT: u32 = 110;
const PLOT_W: u32 = 760;
const LANE_H: u32 = 34;
const TOP: u32 = 60;

/// The timeline of `events` for actors `names`; faults were possible until
/// `healed_us`.
pub fn render(events: &[Event], names: &[String], healed_us: u64, theme: Theme) -> String {
    let end = events.last().map_or(1, |e| e.time_us).max(1);
    let lanes = u32::try_from(names.len()).unwrap_or(1);
    let height = TOP + LANE_H * lanes + 60;
    let x = |t: u64| LEFT + u32::try_from(t.min(end) * u64::from(PLOT_W) / end).unwrap_or(PLOT_W);
    let mut svg = open(LEFT + PLOT_W + 30, height, "timeline of the run");
    let _ = writeln!(
        svg,
        "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Timeline</text>\
         <text x=\"10\" y=\"38\" fill=\"#444\">0 to {}ms · shaded: faults allowed (until \
         {}ms) · bars: crashed · green ticks: effects · ✕: lost datagrams</text>",
        ms(end),
        ms(healed_us)
    );
    let _ = writeln!(
        svg,
        "<g class=\"fault-window\"><title>faults allowed from 0 to {}ms</title><rect x=\"{LEFT}\" \
         y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"#eeeeee\"/></g>",
        ms(healed_us),
        x(healed_us) - LEFT,
        LANE_H * lanes
    );
    for (i, name) in names.iter().enumerate() {
        let y = TOP + LANE_H * u32::try_from(i).unwrap_or(0) + LANE_H / 2;
        let _ = writeln!(
            svg,
            "<text x=\"10\" y=\"{}\">{}</text><line x1=\"{LEFT}\" y1=\"{y}\" x2=\"{}\" \
             y2=\"{y}\" stroke=\"#999\"/>",
            y + 4,
            esc(name),
            LEFT + PLOT_W
        );
    }
    let lane_y = |lane: usize| TOP + LANE_H * u32::try_from(lane).unwrap_or(0) + LANE_H / 2;
    marks(&mut svg, events, &x, &lane_y, theme);
    axis(&mut svg, end, height - 30, &x);
    svg.push_str("</svg>\n");
    svg
}

/// What a tick on a lane stands for.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tick {
    Effect,
    Lost,
}

/// Crash bars, pause bars and rebalance marks, then one tick per lane and
/// pixel column for effects and losses (a long run has more events than pixels: a tick's tooltip counts
/// what it stands for, so the picture's size stays bounded).
fn marks(
    svg: &mut String,
    events: &[Event],
    x: &dyn Fn(u64) -> u32,
    lane_y: &dyn Fn(usize) -> u32,
    theme: Theme,
) {
    let red = alarm(theme);
    let mut ticks: BTreeMap<(Tick, usize, u32), (usize, &Event)> = BTreeMap::new();
    let mut labelled: BTreeMap<usize, u32> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let (px, py) = (x(e.time_us), lane_y(e.lane));
        let tick = match e.kind {
            Kind::Crash => {
                let until = next_on_lane(&events[i..], e, Kind::Restart);
                // A bar's word only where the lane's last word has room.
                let said = labelled.get(&e.lane).is_none_or(|at| px >= at + 45);
                if said {
                    labelled.insert(e.lane, px);
                }
                crash_bar(svg, e, (px, py), (until, x(until)), red, said);
                continue;
            }
            Kind::Pause => {
                let until = next_on_lane(&events[i..], e, Kind::Resume);
                pause_bar(svg, e, (px, py), (until, x(until)));
                continue;
            }
            Kind::Rebalance => {
                rebalance_mark(svg, e, (px, py), red);
                continue;
            }
            Kind::Effect => Tick::Effect,
            Kind::Lost | Kind::Cut => Tick::Lost,
            _ => continue,
        };
        // A cross is wider than a pixel: losses share 8-pixel columns.
        let column = match tick {
            Tick::Lost => px - px % 8 + 4,
            Tick::Effect => px,
        };
        ticks.entry((tick, e.lane, column)).or_insert((0, e)).0 += 1;
    }
    for ((tick, lane, px), (n, e)) in ticks {
        draw_tick(svg, tick, (px, lane_y(lane)), n, e, theme);
    }
}

/// When `e`'s lane next has a `kind` event in `later` (a restart after a
/// crash, a resume after a pause), else when the drawn events end.
fn next_on_lane(later: &[Event], e: &Event, kind: Kind) -> u64 {
    later
        .iter()
        .find(|r| r.kind == kind && r.lane == e.lane)
        .or(later.last())
        .map_or(e.time_us, |r| r.time_us)
}

fn draw_tick(
    svg: &mut String,
    tick: Tick,
    (px, py): (u32, u32),
    n: usize,
    e: &Event,
    theme: Theme,
) {
    let about = if n == 1 {
        format!("t={}ms", e.time_ms())
    } else {
        format!("{n} from t={}ms", e.time_ms())
    };
    match tick {
        Tick::Effect => {
            let _ = writeln!(
                svg,
                "<line class=\"effect-tick\" x1=\"{px}\" y1=\"{}\" x2=\"{px}\" y2=\"{}\" \
                 stroke=\"{}\" stroke-width=\"2\"><title>{about}: effects, e.g. {} effect \
                 #{}</title></line>",
                py - 8,
                py + 8,
                theme.palette().effect,
                esc(e.msg.as_deref().unwrap_or("?")),
                e.effect.unwrap_or(0)
            );
        }
        Tick::Lost => {
            let _ = writeln!(
                svg,
                "<text class=\"lost-mark\" x=\"{px}\" y=\"{}\" text-anchor=\"middle\" \
                 fill=\"{}\" font-size=\"11\">✕<title>{about}: lost, e.g. {}</title></text>",
                py + 4,
                alarm(theme),
                esc(&e.detail)
            );
        }
    }
}

/// A bar from a crash at `(px, py)` to the restart at `until` (time, x),
/// with the word "crashed" over it if `said`.
fn crash_bar(
    svg: &mut String,
    e: &Event,
    (px, py): (u32, u32),
    until: (u64, u32),
    red: &str,
    said: bool,
) {
    let word = if said {
        format!(
            "<text x=\"{px}\" y=\"{}\" font-size=\"10\">crashed</text>",
            py - 9
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        svg,
        "<g class=\"crash-bar\"><title>{} crashed at {} (t={}ms), restarted t={}ms</title>\
         <rect x=\"{px}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"{red}\" \
         opacity=\"0.8\"/>{word}</g>",
        esc(&e.actor),
        esc(&e.detail),
        e.time_ms(),
        ms(until.0),
        py - 7,
        until.1.saturating_sub(px).max(3),
    );
}

/// A paused actor: an outlined bar from the pause to the resume (its
/// memory is kept, unlike a crash's).
fn pause_bar(svg: &mut String, e: &Event, (px, py): (u32, u32), until: (u64, u32)) {
    let _ = writeln!(
        svg,
        "<g class=\"pause-bar\"><title>{} paused (t={}ms), resumed t={}ms with its \
         memory</title><rect x=\"{px}\" y=\"{}\" width=\"{}\" height=\"14\" fill=\"none\" \
         stroke=\"#000\" stroke-dasharray=\"4 2\"/><text x=\"{px}\" y=\"{}\" \
         font-size=\"10\">paused</text></g>",
        esc(&e.actor),
        e.time_ms(),
        ms(until.0),
        py - 7,
        until.1.saturating_sub(px).max(3),
        py - 9
    );
}

/// A consumer that lost its partitions in a rebalance.
fn rebalance_mark(svg: &mut String, e: &Event, (px, py): (u32, u32), red: &str) {
    let _ = writeln!(
        svg,
        "<g class=\"rebalance-mark\"><title>{} lost its partitions in a rebalance \
         (t={}ms)</title><text x=\"{px}\" y=\"{}\" text-anchor=\"middle\" fill=\"{red}\" \
         font-size=\"14\">⇄</text></g>",
        esc(&e.actor),
        e.time_ms(),
        py + 5
    );
}

fn axis(svg: &mut String, end: u64, y: u32, x: &dyn Fn(u64) -> u32) {
    for i in 0..=4u64 {
        let t = end * i / 4;
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"middle\" fill=\"#666\" \
             font-size=\"11\">{}ms</text>",
            x(t),
            ms(t)
        );
    }
}
