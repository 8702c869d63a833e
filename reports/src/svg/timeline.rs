//! `timeline.svg`: one horizontal lane per actor, time to the right, the
//! faulty phase shaded behind the lanes (Jepsen style), crashes as bars up
//! to the restart, effects as ticks and lost datagrams as crosses.

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

fn marks(
    svg: &mut String,
    events: &[Event],
    x: &dyn Fn(u64) -> u32,
    lane_y: &dyn Fn(usize) -> u32,
    theme: Theme,
) {
    let red = alarm(theme);
    let green = theme.palette().effect;
    for (i, e) in events.iter().enumerate() {
        let (px, py) = (x(e.time_us), lane_y(e.lane));
        match e.kind {
            Kind::Crash => {
                let until = events[i..]
                    .iter()
                    .find(|r| r.kind == Kind::Restart && r.lane == e.lane)
                    .map_or(events.last().map_or(e.time_us, |l| l.time_us), |r| {
                        r.time_us
                    });
                let _ = writeln!(
                    svg,
                    "<g class=\"crash-bar\"><title>{} crashed at {} (t={}ms), restarted \
                     t={}ms</title><rect x=\"{px}\" y=\"{}\" width=\"{}\" height=\"14\" \
                     fill=\"{red}\" opacity=\"0.8\"/><text x=\"{px}\" y=\"{}\" \
                     font-size=\"10\">crashed</text></g>",
                    esc(&e.actor),
                    esc(&e.detail),
                    e.time_ms(),
                    ms(until),
                    py - 7,
                    (x(until) - px).max(3),
                    py - 9
                );
            }
            Kind::Effect => {
                let _ = writeln!(
                    svg,
                    "<line class=\"effect-tick\" x1=\"{px}\" y1=\"{}\" x2=\"{px}\" y2=\"{}\" \
                     stroke=\"{green}\" stroke-width=\"2\"><title>t={}ms {} effect #{}</title>\
                     </line>",
                    py - 8,
                    py + 8,
                    e.time_ms(),
                    esc(e.msg.as_deref().unwrap_or("?")),
                    e.effect.unwrap_or(0)
                );
            }
            Kind::Lost | Kind::Cut => {
                let _ = writeln!(
                    svg,
                    "<text class=\"lost-mark\" x=\"{px}\" y=\"{}\" text-anchor=\"middle\" \
                     fill=\"{red}\" font-size=\"11\">✕<title>t={}ms lost: {}</title></text>",
                    py + 4,
                    e.time_ms(),
                    esc(&e.detail)
                );
            }
            _ => {}
        }
    }
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
