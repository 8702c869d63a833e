//! `model.dot`: the scenario's topology as a Graphviz graph (petgraph's DOT
//! export; render with `dot -Tsvg model.dot`): one edge per pair of actors
//! that talk, labelled with what the run sent each way, one direction per
//! line (two edges between the same pair would put their labels side by
//! side, "ProduceProduceAck"). petgraph's output may change between
//! releases, so it is not golden-tested.

use std::collections::{BTreeMap, BTreeSet};

use models::scenario::Scenario;
use petgraph::dot::Dot;
use petgraph::graph::DiGraph;

use crate::events::{Event, Kind};

/// Actors as nodes in scenario order, one edge per linked pair labelled
/// with what `events` sent each way (`(nothing sent)` for a direction the
/// run never used).
pub fn render(scenario: &Scenario, events: &[Event]) -> String {
    let mut carried: BTreeMap<(usize, usize), BTreeSet<&str>> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == Kind::Send) {
        if let Some(peer) = e.peer_lane {
            let variant = e.detail.split([' ', '{', '(']).next().unwrap_or_default();
            carried.entry((e.lane, peer)).or_default().insert(variant);
        }
    }
    let actors = scenario.actors();
    let names = actors.names();
    let said = |a: usize, b: usize| {
        let what = carried.get(&(a, b)).map_or_else(
            || "(nothing sent)".to_string(),
            |kinds| kinds.iter().copied().collect::<Vec<_>>().join(", "),
        );
        format!("{} → {}: {what}", names[a], names[b])
    };
    let mut g: DiGraph<&str, String> = DiGraph::new();
    let nodes: Vec<_> = names.iter().map(|n| g.add_node(n.as_str())).collect();
    for a in 0..nodes.len() {
        for b in a + 1..nodes.len() {
            let ways: Vec<String> = [(a, b), (b, a)]
                .into_iter()
                .filter(|(x, y)| actors.has_link(*x, *y))
                .map(|(x, y)| said(x, y))
                .collect();
            if !ways.is_empty() {
                g.add_edge(nodes[a], nodes[b], ways.join("\n"));
            }
        }
    }
    format!(
        "// {} · model {} · render with: dot -Tsvg model.dot\n{}",
        scenario.name(),
        scenario.model().info().code,
        Dot::with_attr_getters(&g, &[], &|_, _| "dir = both".to_string(), &|_, _| {
            String::new()
        })
    )
}
