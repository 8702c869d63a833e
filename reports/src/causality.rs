//! The happens-before graph of a run (Lamport's "could have influenced"),
//! built with petgraph from the [`crate::events`] list; the stories of
//! [`crate::explain`] are read from it.
//!
//! # Nodes and edges
//! Node *i* is event *i* (its `step`). An edge *a* → *b* says that *a*
//! happens before *b*:
//! - **program order**: each event of an actor → that actor's next event
//!   (consecutive events of one lane);
//! - **message**: a datagram's send, or its network duplicate → its
//!   delivery, or its arrival at a crashed receiver (the delivery's
//!   `cause`);
//! - **handler**: the delivery, timer or restart an actor was handling →
//!   what it did while handling it: its observations (appends, effects,
//!   acks, …) and the datagrams it sent, lost or had cut (their `cause`).
//!
//! A timer is linked by program order only: the actor that set it is the
//! one it fires on. A crash has no outgoing edge but program order, so a
//! crash reaches another actor only through what its actor did after the
//! restart.
//!
//! Every edge goes from a lower step to a higher one, so the graph is
//! acyclic and step order is a topological order consistent with time: a
//! set of events listed by step is listed in happens-before order.
//!
//! # Determinism contract
//! The graph is a `DiGraph` built in step order (nodes and edges keep
//! insertion order); reachability is answered as a `Vec<bool>` indexed by
//! step (from the window's first step), never as a hash set.

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, IntoNeighbors, Reversed, Visitable};

use crate::events::{Event, Kind};

/// Why one event happens before another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// The same actor's next event.
    Program,
    /// A datagram (or its duplicate) from its send to its arrival.
    Message,
    /// From the delivery, timer or restart being handled to what the
    /// handler did.
    Handler,
}

/// The happens-before graph of a list of events.
#[derive(Clone, Debug)]
pub struct Causality {
    graph: DiGraph<(), Edge, usize>,
}

impl Causality {
    /// The graph of `events` (as built by [`crate::events::build`]). A
    /// `cause` that does not point to an earlier event is ignored.
    pub fn build(events: &[Event]) -> Self {
        let mut graph = DiGraph::with_capacity(events.len(), 2 * events.len());
        for _ in events {
            graph.add_node(());
        }
        let mut last: BTreeMap<usize, usize> = BTreeMap::new();
        for (i, e) in events.iter().enumerate() {
            if let Some(before) = last.insert(e.lane, i) {
                graph.add_edge(NodeIndex::new(before), NodeIndex::new(i), Edge::Program);
            }
            if let Some(cause) = e.cause.filter(|c| *c < i) {
                let edge = match e.kind {
                    Kind::Deliver | Kind::DeliverToCrashed => Edge::Message,
                    _ => Edge::Handler,
                };
                graph.add_edge(NodeIndex::new(cause), NodeIndex::new(i), edge);
            }
        }
        Causality { graph }
    }

    /// Per step, whether that event happens before or is one of `steps`
    /// (its causal past). Steps out of range are ignored.
    pub fn ancestors(&self, steps: &[usize]) -> Vec<bool> {
        self.reach(Reversed(&self.graph), steps)
    }

    /// Per step of `step..end`, whether that event happens after or is
    /// `step` (its causal future, cut at `end`): mark *i* is for step
    /// `step + i`. Costs the size of the window, not of the run, because
    /// every edge goes to a later step.
    pub fn descendants_before(&self, step: usize, end: usize) -> Vec<bool> {
        let end = end.min(self.graph.node_count());
        let mut marks = vec![false; end.saturating_sub(step)];
        let mut stack = Vec::new();
        if step < end {
            marks[0] = true;
            stack.push(step);
        }
        while let Some(at) = stack.pop() {
            for next in self.graph.neighbors(NodeIndex::new(at)) {
                let next = next.index();
                if next < end && !marks[next - step] {
                    marks[next - step] = true;
                    stack.push(next);
                }
            }
        }
        marks
    }

    fn has(&self, step: usize) -> bool {
        step < self.graph.node_count()
    }

    /// The nodes reachable in `g` from `starts`, as marks by step.
    fn reach<G>(&self, g: G, starts: &[usize]) -> Vec<bool>
    where
        G: IntoNeighbors<NodeId = NodeIndex<usize>> + Visitable<NodeId = NodeIndex<usize>>,
    {
        let mut marks = vec![false; self.graph.node_count()];
        let mut dfs = Dfs::empty(g);
        for start in starts.iter().copied().filter(|s| self.has(*s)) {
            dfs.move_to(NodeIndex::new(start));
            while let Some(n) = dfs.next(g) {
                marks[n.index()] = true;
            }
        }
        marks
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// Event `step` of `kind` on `lane`, caused by `cause`.
    pub(crate) fn event(step: usize, lane: usize, kind: Kind, cause: Option<usize>) -> Event {
        Event {
            step,
            time_us: 1000 * step as u64,
            actor: format!("a{lane}"),
            lane,
            peer: None,
            peer_lane: None,
            kind,
            msg: None,
            detail: String::new(),
            trace_id: None,
            cause,
            effect: None,
            clock: Vec::new(),
            violates: Vec::new(),
            handler_ends: None,
            state: BTreeMap::new(),
            law: Vec::new(),
        }
    }

    /// A producer (lane 0) sends m to a consumer (lane 1), which applies
    /// it; a third actor (lane 2) crashes meanwhile, and the producer times
    /// out afterwards.
    fn run() -> Vec<Event> {
        vec![
            event(0, 0, Kind::SendAttempt, None),
            event(1, 0, Kind::Send, None),
            event(2, 2, Kind::Crash, None),
            event(3, 1, Kind::Deliver, Some(1)),
            event(4, 1, Kind::Effect, Some(3)),
            event(5, 0, Kind::Timer, None),
        ]
    }

    fn kinds(c: &Causality, a: usize, b: usize) -> Vec<Edge> {
        c.graph
            .edges_connecting(NodeIndex::new(a), NodeIndex::new(b))
            .map(|e| *e.weight())
            .collect()
    }

    fn marked(marks: &[bool]) -> Vec<usize> {
        (0..marks.len()).filter(|i| marks[*i]).collect()
    }

    #[test]
    fn consecutive_events_of_one_actor_are_in_program_order() {
        let c = Causality::build(&run());
        assert_eq!(kinds(&c, 0, 1), [Edge::Program]);
        assert_eq!(kinds(&c, 1, 5), [Edge::Program]);
        assert!(kinds(&c, 0, 5).is_empty(), "only consecutive events");
        assert!(kinds(&c, 2, 3).is_empty(), "different actors");
    }

    #[test]
    fn a_send_reaches_its_delivery_and_a_delivery_its_handler() {
        let c = Causality::build(&run());
        assert_eq!(kinds(&c, 1, 3), [Edge::Message]);
        let handled = kinds(&c, 3, 4);
        assert!(handled.contains(&Edge::Handler), "{handled:?}");
        assert!(handled.contains(&Edge::Program), "{handled:?}");
    }

    #[test]
    fn the_ancestors_of_an_effect_include_the_send_that_carried_it() {
        let c = Causality::build(&run());
        assert_eq!(marked(&c.ancestors(&[4])), [0, 1, 3, 4]);
    }

    #[test]
    fn a_crash_elsewhere_that_did_not_precede_causally_is_not_an_ancestor() {
        let c = Causality::build(&run());
        assert!(!c.ancestors(&[4])[2], "earlier in time, but concurrent");
        assert!(!c.ancestors(&[4])[5], "later");
        assert_eq!(future(&c, 2, 6), [2]);
    }

    #[test]
    fn the_descendants_of_a_send_are_its_actors_future_and_the_receivers() {
        let c = Causality::build(&run());
        assert_eq!(future(&c, 1, 6), [1, 3, 4, 5]);
    }

    /// The steps in the causal future of `start`, cut at `end`.
    fn future(c: &Causality, start: usize, end: usize) -> Vec<usize> {
        let window = c.descendants_before(start, end);
        (0..window.len())
            .filter(|i| window[*i])
            .map(|i| start + i)
            .collect()
    }

    #[test]
    fn the_future_cut_at_a_step_stops_there() {
        let c = Causality::build(&run());
        assert_eq!(future(&c, 1, 6), [1, 3, 4, 5]);
        assert_eq!(future(&c, 1, 5), [1, 3, 4]);
        assert_eq!(future(&c, 1, 4), [1, 3]);
        assert!(future(&c, 1, 1).is_empty(), "an empty window");
        assert_eq!(future(&c, 3, 99), [3, 4], "an end past the run");
    }

    #[test]
    fn bad_causes_and_steps_out_of_range_are_ignored() {
        let events = vec![
            event(0, 0, Kind::Deliver, Some(7)),
            event(1, 1, Kind::Deliver, Some(1)),
        ];
        let c = Causality::build(&events);
        assert_eq!(c.graph.edge_count(), 0);
        assert_eq!(marked(&c.ancestors(&[1, 99])), [1]);
        assert!(future(&c, 99, 120).is_empty());
    }
}
