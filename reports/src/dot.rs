//! `model.dot`: the scenario's topology as a Graphviz graph (petgraph's DOT
//! export; render with `dot -Tsvg model.dot`): one edge per pair of actors
//! that talk, labelled with what the run sent each way, one direction per
//! line (two edges between the same pair would put their labels side by
//! side, "ProduceProduceAck"). petgraph's output may change between
//! releases, so it is not golden-tested.

use std::collections::{BTreeMap, BTreeSet};

use models::protocols::ConsumerRole;
use models::roles::Source;
use models::scenario::Scenario;
use petgraph::dot::Dot;
use petgraph::graph::DiGraph;
use petgraph::visit::EdgeRef;

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
    let stores = stores(scenario);
    for (owner, label, what) in &stores {
        let store = g.add_node(label.as_str());
        g.add_edge(nodes[*owner], store, (*what).to_string());
    }
    let is_store = |i: usize| i >= names.len();
    format!(
        "// {} · model {} · render with: dot -Tsvg model.dot\n{}",
        scenario.name(),
        scenario.model().info().code,
        Dot::with_attr_getters(
            &g,
            &[],
            &|_, e| {
                if is_store(e.target().index()) {
                    "style = dashed".to_string()
                } else {
                    "dir = both".to_string()
                }
            },
            &|_, (n, _)| {
                if is_store(n.index()) {
                    "shape = cylinder".to_string()
                } else {
                    String::new()
                }
            }
        )
    )
}

/// The stores the model keeps state in, as (owner's lane, label, what the
/// owner does with it).
fn stores(scenario: &Scenario) -> Vec<(usize, String, &'static str)> {
    let model = scenario.model();
    let wiring = model.wiring();
    let names = scenario.actors().names();
    let lane = |name: &str| scenario.actors().index_of(name);
    let mut out = Vec::new();
    let producer_db = match wiring.producer {
        Source::DualWrite | Source::DualWriteReverse => Some("database (business rows)"),
        Source::Outbox => Some("database (business rows and outbox)"),
        Source::Memory | Source::Idempotent => None,
    };
    for (i, name) in names.iter().enumerate() {
        if let Some(what) = producer_db.filter(|_| name.starts_with("producer-")) {
            out.push((i, format!("{name}'s {what}"), "commits"));
        }
    }
    let broker = lane("broker");
    let consumer_store = match wiring.consumer {
        ConsumerRole::PerRecord if model.uses_recovery() => {
            Some("database (message table and effects)")
        }
        ConsumerRole::PerRecord | ConsumerRole::CommitFirst => Some("database (effects)"),
        ConsumerRole::Streaming { two_phase: true } => Some("sink (two-phase commit)"),
        ConsumerRole::Streaming { two_phase: false } => Some("sink"),
        ConsumerRole::Transactional(_) | ConsumerRole::Leased { .. } => None,
    };
    let consumers: Vec<usize> = (0..names.len())
        .filter(|i| scenario.actors().is_consumer(*i))
        .collect();
    if let Some(what) = consumer_store {
        // A group's consumers are processes of one service, with one
        // database.
        if scenario.spec().faults.rebalances() {
            if let Some(first) = consumers.first() {
                out.push((*first, format!("the group's {what}"), "writes"));
            }
        } else {
            for c in &consumers {
                out.push((*c, format!("{}'s {what}", names[*c]), "writes"));
            }
        }
    }
    if let Some(b) = broker {
        match wiring.consumer {
            ConsumerRole::Transactional(_) => out.push((
                b,
                "output log and its reader (the effect)".to_string(),
                "appends, ends transactions",
            )),
            ConsumerRole::Leased { fencing } => out.push((
                b,
                if fencing {
                    "storage (refuses stale tokens)".to_string()
                } else {
                    "storage (checks no token)".to_string()
                },
                "writes",
            )),
            _ => {}
        }
    }
    out
}
