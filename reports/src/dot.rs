//! `model.dot`: the scenario's topology as a Graphviz graph (petgraph's DOT
//! export; render with `dot -Tsvg model.dot`). petgraph's output may change
//! between releases, so it is not golden-tested.

use models::scenario::Scenario;
use petgraph::dot::Dot;
use petgraph::graph::DiGraph;

/// Actors as nodes in scenario order, links as edges.
pub fn render(scenario: &Scenario) -> String {
    let actors = scenario.actors();
    let names = actors.names();
    let mut g: DiGraph<&str, &str> = DiGraph::new();
    let nodes: Vec<_> = names.iter().map(|n| g.add_node(n.as_str())).collect();
    for (a, from) in nodes.iter().enumerate() {
        for (b, to) in nodes.iter().enumerate() {
            if a != b && actors.has_link(a, b) {
                g.add_edge(*from, *to, "link");
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
