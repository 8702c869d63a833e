//! The pictures and the page, parsed with real parsers (roxmltree for SVG,
//! scraper for HTML): the named elements a student looks for must exist.

use reports::bundle::{self, Rendered};
use reports::svg::Theme;

use crate::{inline, recorded};

/// The file `name` of the bundle of a recorded run.
fn artifact(
    scenario: &models::scenario::Scenario,
    rec: &models::record::Recording,
    name: &str,
    theme: Theme,
) -> String {
    bundle::files(scenario, rec, "x.ron", theme)
        .unwrap()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| text)
        .unwrap()
}

/// The `<g>` elements of an SVG whose class list has `class`.
fn groups<'a>(doc: &'a roxmltree::Document<'a>, class: &str) -> Vec<roxmltree::Node<'a, 'a>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g"))
        .filter(|n| {
            n.attribute("class")
                .is_some_and(|c| c.split(' ').any(|c| c == class))
        })
        .collect()
}

fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_run_with_drops_draws_a_lost_message_ending_in_a_cross() {
    let (s, rec) = recorded("scenarios/02-m1-lost-request-is-never-retried.ron");
    let svg = artifact(&s, &rec, bundle::SPACETIME_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let lost = groups(&doc, "lost");
    assert!(!lost.is_empty(), "a lost datagram is drawn");
    let text = text_of(lost[0]);
    assert!(text.contains('✕') && text.contains("lost"), "{text}");
    assert!(
        lost[0].descendants().any(|n| n.has_tag_name("title")),
        "with a tooltip"
    );
}

#[test]
fn a_run_with_a_crash_draws_a_hatched_band_labelled_with_what_was_lost() {
    let (s, rec) = recorded("scenarios/09-m0-naive-crash-duplicates.ron");
    let svg = artifact(&s, &rec, bundle::SPACETIME_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let bands = groups(&doc, "crash-band");
    assert_eq!(bands.len(), 1);
    let rect = bands[0]
        .descendants()
        .find(|n| n.has_tag_name("rect"))
        .unwrap();
    assert_eq!(rect.attribute("fill"), Some("url(#hatch)"));
    let text = text_of(bands[0]);
    assert!(
        text.contains("CRASH at after-effect-before-status-update"),
        "{text}"
    );
    assert!(
        text.contains("Lost (volatile)") && text.contains("Kept (durable)"),
        "{text}"
    );
    assert!(
        !groups(&doc, "restart").is_empty(),
        "the restart is labelled"
    );
    let effects: Vec<String> = groups(&doc, "effect").into_iter().map(text_of).collect();
    assert!(
        effects.iter().any(|t| t.contains("p1#9 effect #2")),
        "{effects:?}"
    );
    let rings = groups(&doc, "violation");
    assert!(
        rings
            .iter()
            .any(|g| text_of(*g).contains("took effect twice"))
    );

    let focused = artifact(&s, &rec, bundle::COUNTEREXAMPLE_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&focused).unwrap();
    assert!(focused.contains("Counterexample: what happened to p1#9"));
    assert_eq!(groups(&doc, "crash-band").len(), 1);
    let effects: Vec<String> = groups(&doc, "effect").into_iter().map(text_of).collect();
    assert_eq!(effects.len(), 2, "only p1#9's effects: {effects:?}");
    assert!(!groups(&doc, "violation").is_empty());
}

#[test]
fn a_rebalance_and_a_pause_are_drawn_where_they_happen() {
    let (s, rec) = recorded("scenarios/15-m3-rebalance-two-consumers-pass-the-check.ron");
    let svg = artifact(&s, &rec, bundle::SPACETIME_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let lost = groups(&doc, "rebalance");
    assert_eq!(lost.len(), 1, "consumer-1 loses its partition once");
    assert!(text_of(lost[0]).contains("REBALANCE"));
    let assigned: Vec<String> = groups(&doc, "assign").into_iter().map(text_of).collect();
    assert!(
        assigned
            .iter()
            .any(|t| t.contains("partition 0 to consumer-2 (was consumer-1)")),
        "{assigned:?}"
    );

    let (s, rec) = recorded("scenarios/46-m12-lease-alone-lets-the-zombie-write.ron");
    let svg = artifact(&s, &rec, bundle::SPACETIME_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let bands = groups(&doc, "pause-band");
    assert_eq!(bands.len(), 1, "one pause");
    assert!(text_of(bands[0]).contains("PAUSED"));
    assert_eq!(groups(&doc, "resume").len(), 1);
    let timeline = artifact(&s, &rec, bundle::TIMELINE_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&timeline).unwrap();
    let paused = groups(&doc, "pause-bar");
    assert_eq!(paused.len(), 1, "the timeline draws the pause too");
    assert!(
        text_of(paused[0]).contains("consumer-1 paused"),
        "{timeline}"
    );

    let (s, rec) = recorded("scenarios/15-m3-rebalance-two-consumers-pass-the-check.ron");
    let timeline = artifact(&s, &rec, bundle::TIMELINE_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&timeline).unwrap();
    assert_eq!(groups(&doc, "rebalance-mark").len(), 1, "and the rebalance");
}

#[test]
fn a_duplicate_effect_is_a_red_ledger_cell_with_a_shape_and_a_count() {
    let (s, rec) = recorded("scenarios/05-m2-lost-ack-duplicates.ron");
    let svg = artifact(&s, &rec, bundle::LEDGER_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let many = groups(&doc, "many");
    let applied = many
        .iter()
        .find(|g| g.attribute("data-stage") == Some("applied"))
        .expect("a message applied twice has a red cell");
    assert_eq!(applied.attribute("data-count"), Some("2"));
    let rect = applied
        .descendants()
        .find(|n| n.has_tag_name("rect"))
        .unwrap();
    assert_eq!(rect.attribute("fill"), Some("#f2b59a"));
    assert!(
        text_of(*applied).contains("◆ 2"),
        "meaning is not colour alone"
    );
}

#[test]
fn a_network_duplicate_is_a_dashed_arrow_labelled_dup() {
    let text = r#"Scenario(name: "dups", model: M2, workload: (messages: 10),
        network: (default: (duplicate: Ratio(1, 3))), faults: (until_ms: 5000), expect: Pass)"#;
    let (s, rec) = inline(text, 1);
    assert!(
        rec.report.end.stats.duplicated > 0,
        "the network duplicated something"
    );
    let svg = Rendered::new(&s, &rec).spacetime(&rec, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let dups = groups(&doc, "dup");
    assert!(!dups.is_empty());
    let line = dups[0]
        .descendants()
        .find(|n| n.has_tag_name("line"))
        .unwrap();
    assert!(line.attribute("stroke-dasharray").is_some(), "dashed");
    assert!(text_of(dups[0]).contains("dup"));
}

#[test]
fn the_mono_theme_uses_no_colour() {
    let (s, rec) = recorded("scenarios/05-m2-lost-ack-duplicates.ron");
    for name in [
        bundle::LEDGER_SVG,
        bundle::SPACETIME_SVG,
        bundle::TIMELINE_SVG,
    ] {
        let svg = artifact(&s, &rec, name, Theme::Mono);
        roxmltree::Document::parse(&svg).unwrap();
        for colour in ["#D55E00", "#0072B2", "#009E73", "#f2b59a", "#b3e3d3"] {
            assert!(!svg.contains(colour), "{name} uses {colour} in mono");
        }
    }
}

#[test]
fn events_jsonl_holds_every_trace_event_in_time_order() {
    let (s, rec) = recorded("scenarios/09-m0-naive-crash-duplicates.ron");
    let text = artifact(&s, &rec, bundle::EVENTS_JSONL, Theme::Color);
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let traced = events.iter().filter(|e| e["trace_id"].is_u64()).count();
    assert_eq!(traced, rec.report.trace.len());
    for (i, w) in events.windows(2).enumerate() {
        assert_eq!(w[0]["step"], i);
        assert!(
            w[0]["time_us"].as_u64() <= w[1]["time_us"].as_u64(),
            "time order at {i}"
        );
    }
    for e in &events {
        let Some(cause) = e["cause"].as_u64() else {
            continue;
        };
        let (mine, theirs) = (
            &e["clock"],
            &events[usize::try_from(cause).unwrap()]["clock"],
        );
        for lane in 0..rec.report.names.len() {
            assert!(
                mine[lane].as_u64() >= theirs[lane].as_u64(),
                "a cause happens before"
            );
        }
    }
    let crash = events.iter().find(|e| e["kind"] == "crash").unwrap();
    assert_eq!(crash["state"]["consumer-1"]["up"], false);
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "effect" && e["effect"] == 2)
    );
}

#[test]
fn the_page_is_self_contained_with_tabs_a_slider_and_every_actor() {
    let (s, rec) = recorded("scenarios/09-m0-naive-crash-duplicates.ron");
    let html = artifact(&s, &rec, bundle::INDEX, Theme::Color);
    let page = scraper::Html::parse_document(&html);
    let select = |css: &str| {
        let sel = scraper::Selector::parse(css).unwrap();
        page.select(&sel).count()
    };
    assert_eq!(select("nav button[data-tab]"), 7);
    for tab in [
        "summary",
        "explanation",
        "spacetime",
        "ledger",
        "timeline",
        "events",
        "scenario",
    ] {
        assert_eq!(select(&format!("section#tab-{tab}")), 1, "{tab}");
    }
    assert_eq!(select("input#step[type=range]"), 1);
    assert_eq!(
        select("#states tbody tr[data-actor]"),
        rec.report.names.len()
    );
    assert_eq!(select("#tab-spacetime svg g.crash-band"), 1);
    assert_eq!(
        select("#events tbody tr[data-step]"),
        artifact(&s, &rec, bundle::EVENTS_JSONL, Theme::Color)
            .lines()
            .count()
    );
    assert_eq!(
        select("script[src], link[href], img[src]"),
        0,
        "nothing loaded from outside"
    );
    let sel = scraper::Selector::parse("script#run-data").unwrap();
    let data: serde_json::Value =
        serde_json::from_str(&page.select(&sel).next().unwrap().inner_html()).unwrap();
    assert!(data["events"].as_array().is_some_and(|e| !e.is_empty()));
    assert!(data["focus"].is_u64(), "a violation to jump to");
}

#[test]
fn a_long_run_is_drawn_in_a_window_around_the_violation() {
    let text = r#"Scenario(name: "long", model: M2, workload: (messages: 900),
        network: (links: [(from: "broker", to: "producer-1", loss: Ratio(1, 50))]),
        faults: (until_ms: 100000), expect: Violates([C3, C8]))"#;
    let (s, rec) = inline(text, 3);
    let r = Rendered::new(&s, &rec);
    assert!(
        r.events.len() > reports::svg::spacetime::EVENTS_MAX,
        "{}",
        r.events.len()
    );
    let svg = r.spacetime(&rec, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let steps: Vec<usize> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-step"))
        .map(|v| v.parse().unwrap())
        .collect();
    let (lo, hi) = (steps.iter().min().unwrap(), steps.iter().max().unwrap());
    assert!(hi - lo < reports::svg::spacetime::EVENTS_MAX, "{lo}..{hi}");
    assert!(
        svg.contains(&format!("of {} shown", r.events.len())),
        "the window is said"
    );
    assert!(
        !groups(&doc, "violation").is_empty(),
        "the violation is in the window"
    );
}

#[test]
fn a_datagram_overtaken_on_its_link_is_drawn_thick_and_labelled() {
    let text = r#"Scenario(name: "reorder", model: M4, workload: (messages: 10),
        network: (default: (delay_us_min: 1000, delay_us_max: 30000)), expect: Pass)"#;
    let (s, rec) = inline(text, 2);
    let svg = Rendered::new(&s, &rec).spacetime(&rec, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let reordered = groups(&doc, "reordered");
    assert!(
        !reordered.is_empty(),
        "delays of 1..30 ms reorder something"
    );
    let line = reordered[0]
        .descendants()
        .find(|n| n.has_tag_name("line"))
        .unwrap();
    assert_eq!(line.attribute("stroke-width"), Some("2"));
    assert!(text_of(reordered[0]).contains("overtaken"));
}

#[test]
fn a_sink_timeout_draws_the_aborted_transaction() {
    let (s, rec) = recorded("scenarios/40-m8-sink-timeout-loses-data.ron");
    let svg = artifact(&s, &rec, bundle::SPACETIME_SVG, Theme::Color);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let aborts = groups(&doc, "sink-abort");
    assert!(!aborts.is_empty(), "the sink's abort is drawn");
    assert!(text_of(aborts[0]).contains("sink ABORTED"), "{svg}");
    let mmd = artifact(&s, &rec, bundle::MERMAID, Theme::Color);
    assert!(
        mmd.contains("the sink ABORTED the staged transaction"),
        "{mmd}"
    );
}

/// A text's visible words (its `<title>` tooltip aside) and the box they
/// cover, estimated as the renderer does: 0.6 em per character, 0.8 em
/// above the baseline and 0.25 em below.
fn text_boxes(svg: &str) -> Vec<(String, [f64; 4])> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let words: String = n
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect();
            let (x, y) = (n.attribute("x")?, n.attribute("y")?);
            let (x, y): (f64, f64) = (x.parse().ok()?, y.parse().ok()?);
            let size: f64 = n
                .ancestors()
                .find_map(|a| a.attribute("font-size"))
                .and_then(|s| s.parse().ok())
                .unwrap_or(12.0);
            let width = words.chars().count() as f64 * size * 0.6;
            let x0 = match n.attribute("text-anchor") {
                Some("middle") => x - width / 2.0,
                Some("end") => x - width,
                _ => x,
            };
            (!words.trim().is_empty())
                .then_some((words, [x0, y - size * 0.8, x0 + width, y + size * 0.25]))
        })
        .collect()
}

/// No label of any bundled lesson's pictures covers another: where one
/// would, the renderer leaves the less telling one out (its words stay in
/// the tooltip).
#[test]
fn no_label_covers_another_in_any_lessons_pictures() {
    let mut lessons: Vec<String> = std::fs::read_dir(crate::root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    lessons.sort();
    let mut covered = Vec::new();
    for lesson in &lessons {
        let (s, rec) = recorded(&format!("scenarios/{lesson}"));
        let files = bundle::files(&s, &rec, "x.ron", Theme::Color).unwrap();
        for (name, svg) in files.iter().filter(|(n, _)| n.ends_with(".svg")) {
            let boxes = text_boxes(svg);
            for (i, (a, ba)) in boxes.iter().enumerate() {
                for (b, bb) in &boxes[i + 1..] {
                    let wide = ba[2].min(bb[2]) - ba[0].max(bb[0]);
                    let high = ba[3].min(bb[3]) - ba[1].max(bb[1]);
                    if wide > 1.0 && high > 1.0 {
                        covered.push(format!("{lesson} {name}: {a:?} and {b:?}"));
                    }
                }
            }
        }
    }
    assert!(lessons.len() >= 48, "every lesson: {}", lessons.len());
    assert!(
        covered.is_empty(),
        "{} labels cover others, e.g.\n{}",
        covered.len(),
        covered
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The topology has one edge per pair of actors (both directions in its
/// label) and the stores the model keeps state in as nodes of their own.
#[test]
fn the_topology_draws_one_edge_per_pair_and_the_models_stores() {
    let (s, rec) = recorded("scenarios/43-m10-outbox-publishes-twice.ron");
    let dot = artifact(&s, &rec, bundle::DOT, Theme::Color);
    assert!(
        dot.contains("producer-1 → broker: Produce") && !dot.contains("1 -> 0 "),
        "one edge for producer-1 and the broker: {dot}"
    );
    assert!(
        dot.contains("producer-1's database (business rows and outbox)")
            && dot.contains("consumer-1's database (effects)"),
        "{dot}"
    );
    let (s, rec) = recorded("scenarios/46-m12-lease-alone-lets-the-zombie-write.ron");
    let dot = artifact(&s, &rec, bundle::DOT, Theme::Color);
    assert!(dot.contains("storage (checks no token)"), "{dot}");
    assert!(
        !dot.contains("'s database"),
        "M12 writes to the storage: {dot}"
    );
}
