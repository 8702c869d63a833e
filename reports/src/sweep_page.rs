//! `index.html` of a sweep folder: one self-contained page (inline CSS, no
//! script, no network) with the totals, the failure rate per check as a
//! table with bars, the clusters with their smallest example (linked to its
//! run report when the sweep kept it) and what it shrinks to, and the seeds
//! where an expected violation did not happen. Words carry every meaning;
//! colour only repeats them.

use std::fmt::Write as _;

use models::sweep::{Cluster, Summary};

use crate::repro_command;
use crate::svg::esc;

/// What the page shows.
pub struct SweepPage<'a> {
    /// The scenario's name.
    pub scenario: &'a str,
    /// The scenario file, for replay commands.
    pub file: &'a str,
    /// The seed set, as given (`0..1000`).
    pub seeds: &'a str,
    /// The scenario's hash, 16 hex digits.
    pub hash: &'a str,
    /// The summary.
    pub summary: &'a Summary,
    /// Seeds that have a `failures/<seed>/` run folder.
    pub kept: &'a [u64],
    /// What a cluster's smallest example shrinks to, by seed.
    pub shrunk: &'a [(u64, String)],
    /// Whether Ctrl-C stopped the sweep: only the seeds that finished are
    /// counted.
    pub interrupted: bool,
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;\
padding:0 1em;color:#1b1b1b}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;\
border-bottom:1px solid #ddd;vertical-align:top}td.n{text-align:right;font-variant-numeric:\
tabular-nums}.bar{background:#e8e8e8;height:.9em;min-width:10em}.bar span{display:block;\
height:100%;background:#0072b2}.tag{font-weight:600}.UNEXPECTED{color:#b2182b}\
code{font-size:.92em;background:#f4f4f4;padding:0 .2em}";

/// The page.
pub fn render(page: &SweepPage<'_>) -> String {
    let s = page.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>eosim sweep · {name}</title><style>{STYLE}</style></head><body>\
         <h1>Sweep of {name}</h1><p>seeds <code>{seeds}</code> · scenario hash \
         <code>{hash}</code> · eosim {version}</p>",
        name = esc(page.scenario),
        seeds = esc(page.seeds),
        hash = esc(page.hash),
        version = crate::VERSION,
    );
    if page.interrupted {
        let _ = write!(
            out,
            "<p class=\"tag UNEXPECTED\">Interrupted (Ctrl-C): only the {} seeds that finished \
             are counted here, not all of <code>{}</code>; the sweep exited 130.</p>",
            s.runs,
            esc(page.seeds),
        );
    }
    let _ = write!(
        out,
        "<p><b>{}</b> seeds: <b>{}</b> as expected, <b>{}</b> with an unexpected \
         violation ({}), <b>{}</b> inconclusive.</p>",
        s.runs,
        s.pass,
        s.fail,
        percent(s.fail, s.runs),
        s.inconclusive
    );
    rates(&mut out, s);
    clusters(&mut out, page);
    missing(&mut out, page);
    out.push_str(
        "<p>Every seed: <a href=\"seeds.csv\">seeds.csv</a> (a header line, then one row \
         per seed counted above) · the summary: \
         <a href=\"summary.json\">summary.json</a></p></body></html>\n",
    );
    out
}

fn percent(n: u64, of: u64) -> String {
    if of == 0 {
        return "0%".into();
    }
    // In u128: a count near u64::MAX must not overflow the product.
    let tenths = u128::from(n) * 1000 / u128::from(of);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// Seeds that violated each check, as a share of the sweep.
fn rates(out: &mut String, s: &Summary) {
    out.push_str("<h2>Failure rate by check</h2>");
    if s.by_check.is_empty() {
        out.push_str("<p>No seed violated any check.</p>");
        return;
    }
    out.push_str("<table><tr><th>check</th><th>seeds</th><th>share</th><th></th></tr>");
    for (check, n) in &s.by_check {
        let width = (u128::from(*n) * 100)
            .checked_div(u128::from(s.runs))
            .unwrap_or(0);
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{n}</td><td class=\"n\">{}</td>\
             <td><div class=\"bar\" role=\"img\" aria-label=\"{}\"><span style=\"width:{width}%\">\
             </span></div></td></tr>",
            esc(&check.label()),
            percent(*n, s.runs),
            percent(*n, s.runs),
        );
    }
    out.push_str("</table>");
}

/// One row per (check, cause) with its smallest example.
fn clusters(out: &mut String, page: &SweepPage<'_>) {
    let s = page.summary;
    out.push_str("<h2>Violations by cause</h2>");
    if s.clusters.is_empty() {
        out.push_str("<p>None.</p>");
        return;
    }
    out.push_str(
        "<table><tr><th>check</th><th>cause</th><th></th><th>seeds</th>\
         <th>smallest example</th></tr>",
    );
    for ((check, cause), c) in &s.clusters {
        let tag = if c.expected { "expected" } else { "UNEXPECTED" };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"tag {tag}\">{tag}</td>\
             <td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&check.label()),
            esc(cause),
            c.seeds,
            example(page, c),
        );
    }
    out.push_str("</table>");
}

/// The smallest example: seed and size, its report if kept, its replay
/// command, and what it shrinks to.
fn example(page: &SweepPage<'_>, c: &Cluster) -> String {
    let (events, seed) = c.smallest();
    let mut cell = if page.kept.contains(&seed) {
        format!("<a href=\"failures/{seed}/index.html\">seed {seed}</a> ({events} events)")
    } else {
        format!("seed {seed} ({events} events)")
    };
    let _ = write!(
        cell,
        "<br><code>{}</code>",
        esc(&repro_command(page.file, seed))
    );
    if let Some((_, to)) = page.shrunk.iter().find(|(at, _)| *at == seed) {
        let _ = write!(cell, "<br>shrinks to: {}", esc(to));
    }
    cell
}

/// Seeds where a violation the scenario expects did not happen.
fn missing(out: &mut String, page: &SweepPage<'_>) {
    let s = page.summary;
    if s.missing.is_empty() {
        return;
    }
    out.push_str(
        "<h2>Expected, did not happen</h2><table><tr><th>check</th><th>seeds</th>\
         <th>smallest example</th></tr>",
    );
    for (check, c) in &s.missing {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&check.label()),
            c.seeds,
            example(page, c)
        );
    }
    out.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::check::CheckId;

    #[test]
    fn the_page_names_each_cluster_in_words_and_links_kept_failures() {
        let mut summary = Summary {
            runs: 10,
            fail: 4,
            pass: 6,
            ..Summary::default()
        };
        summary.by_check.insert(CheckId::C3, 4);
        summary.clusters.insert(
            (CheckId::C3, "crash consumer at <x>".into()),
            Cluster {
                seeds: 4,
                expected: false,
                examples: vec![(31, 7)],
            },
        );
        let shrunk = [(7, "8 events · crash consumer-1".to_string())];
        let html = render(&SweepPage {
            scenario: "s",
            file: "s.ron",
            seeds: "0..10",
            hash: "00",
            summary: &summary,
            kept: &[7],
            shrunk: &shrunk,
            interrupted: false,
        });
        assert!(!html.contains("Interrupted"), "{html}");
        assert!(html.contains(">UNEXPECTED<"), "{html}");
        assert!(html.contains("crash consumer at &lt;x&gt;"), "{html}");
        assert!(html.contains("href=\"failures/7/index.html\""), "{html}");
        assert!(html.contains("shrinks to: 8 events"), "{html}");
        assert!(html.contains("40.0%"), "{html}");
        assert!(!html.contains("http"), "no network: {html}");
        let cut = render(&SweepPage {
            scenario: "s",
            file: "s.ron",
            seeds: "0..1000",
            hash: "00",
            summary: &summary,
            kept: &[7],
            shrunk: &shrunk,
            interrupted: true,
        });
        assert!(
            cut.contains("Interrupted (Ctrl-C): only the 10 seeds that finished"),
            "{cut}"
        );
    }
}
