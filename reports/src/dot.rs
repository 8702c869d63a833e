//! `model.dot`: the scenario's topology as a Graphviz graph (petgraph's DOT
//! export; render with `dot -Tsvg model.dot`), each link labelled with the
//! kinds of datagram the run sent over it. petgraph's output may change
//! between releases, so it is not golden-tested.

use std::collections::{BTreeMap, BTreeSet};

use models::scenario::Scenario;
use petgraph::dot::Dot;
use petgraph::graph::DiGraph;

use crate::events::{Event, Kind};

/// Actors as nodes in scenario order, links as edges labelled with what
/// `events` sent over them (`link` for a link the run never used).
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
    let mut g: DiGraph<&str, String> = DiGraph::new();
    let nodes: Vec<_> = names.iter().map(|n| g.add_node(n.as_str())).collect();
    for (a, from) in nodes.iter().enumerate() {
        for (b, to) in nodes.iter().enumerate() {
            if a != b && actors.has_link(a, b) {
                let label = carried.get(&(a, b)).map_or_else(
                    || "link".to_string(),
                    |kinds| kinds.iter().copied().collect::<Vec<_>>().join(", "),
                );
                g.add_edge(*from, *to, label);
            }
        }
    }
    format!(
        "// {} · model {} · render with: dot -Tsvg model.dot\n{}",
        scenario.name(),
        scenario.model().info().code,
        Dot::new(&g)
    )
}
