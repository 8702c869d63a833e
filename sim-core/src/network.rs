//! Network links from a petgraph topology: loss, duplication, a delay range
//! (independent delays reorder datagrams) or FIFO order.

use petgraph::graph::{DiGraph, NodeIndex};

use crate::actor::ActorId;
use crate::choice::Ratio;
use crate::time::SimTime;

/// Whether a link keeps datagrams in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ordering {
    /// Each datagram gets its own delay, so later ones can overtake.
    #[default]
    Reordering,
    /// Datagrams arrive in the order they were sent.
    Fifo,
}

/// The behaviour of one directed link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkConfig {
    /// Probability that a datagram is lost.
    pub drop: Ratio,
    /// Probability that a datagram is delivered twice.
    pub duplicate: Ratio,
    /// Smallest one-way delay, microseconds.
    pub delay_us_min: u64,
    /// Largest one-way delay, microseconds (inclusive).
    pub delay_us_max: u64,
    /// Delays are `delay_us_min + k * delay_us_step` (at least 1).
    pub delay_us_step: u64,
    /// FIFO or reordering.
    pub ordering: Ordering,
}

impl LinkConfig {
    /// A link that never loses or duplicates and always takes `delay_us`.
    pub const fn reliable(delay_us: u64) -> LinkConfig {
        LinkConfig {
            drop: Ratio::NEVER,
            duplicate: Ratio::NEVER,
            delay_us_min: delay_us,
            delay_us_max: delay_us,
            delay_us_step: 1,
            ordering: Ordering::Fifo,
        }
    }
}

/// Per-link bookkeeping during a run, with a copy of the link's
/// configuration so that the send path needs one lookup.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LinkState {
    /// The link's behaviour.
    pub config: LinkConfig,
    /// Datagrams sent on the link so far (for `nth` scheduled drops).
    pub sent: u64,
    /// Latest delivery time scheduled on the link (for FIFO order).
    pub last_delivery: SimTime,
}

/// The directed graph of actors and links, built in scenario order.
#[derive(Clone, Debug)]
pub struct Topology {
    graph: DiGraph<String, LinkConfig>,
    /// `lookup[src * n + dst]` is the edge index of the link, or `u32::MAX`.
    lookup: Vec<u32>,
}

const NO_LINK: u32 = u32::MAX;

impl Topology {
    /// Actors without links.
    pub fn new(names: &[String]) -> Topology {
        let mut graph = DiGraph::new();
        for name in names {
            graph.add_node(name.clone());
        }
        Topology {
            graph,
            lookup: vec![NO_LINK; names.len() * names.len()],
        }
    }

    /// Every ordered pair of distinct actors linked with `link`.
    pub fn full_mesh(names: &[String], link: LinkConfig) -> Topology {
        let mut t = Topology::new(names);
        for src in 0..names.len() {
            for dst in 0..names.len() {
                if src != dst {
                    t.set_link(id(src), id(dst), link);
                }
            }
        }
        t
    }

    /// Add the link `src -> dst`, or replace its configuration.
    pub fn set_link(&mut self, src: ActorId, dst: ActorId, link: LinkConfig) {
        let slot = src.index() * self.actor_count() + dst.index();
        match self.lookup[slot] {
            NO_LINK => {
                let edge = self.graph.add_edge(node(src), node(dst), link);
                self.lookup[slot] = u32::try_from(edge.index()).expect("fewer than 2^32 links");
            }
            e => self.graph[petgraph::graph::EdgeIndex::new(e as usize)] = link,
        }
    }

    /// The number of actors.
    pub fn actor_count(&self) -> usize {
        self.graph.node_count()
    }

    /// The number of links.
    pub fn link_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// The index and configuration of the link `src -> dst`.
    pub fn link(&self, src: ActorId, dst: ActorId) -> Option<(usize, &LinkConfig)> {
        let e = *self
            .lookup
            .get(src.index() * self.actor_count() + dst.index())?;
        (e != NO_LINK).then(|| {
            let edge = petgraph::graph::EdgeIndex::new(e as usize);
            (e as usize, &self.graph[edge])
        })
    }

    /// Fresh run-time state for every link, by link index.
    pub(crate) fn link_states(&self) -> Vec<LinkState> {
        self.graph
            .edge_weights()
            .map(|config| LinkState {
                config: *config,
                sent: 0,
                last_delivery: crate::time::SimTime::ZERO,
            })
            .collect()
    }

    /// The index of the link `src -> dst`, if there is one.
    #[inline]
    pub(crate) fn link_index(&self, src: ActorId, dst: ActorId) -> Option<usize> {
        let e = *self
            .lookup
            .get(src.index() * self.actor_count() + dst.index())?;
        (e != NO_LINK).then_some(e as usize)
    }

    /// The graph itself (nodes are actor names, edges link configurations).
    pub fn graph(&self) -> &DiGraph<String, LinkConfig> {
        &self.graph
    }
}

fn id(i: usize) -> ActorId {
    ActorId(u32::try_from(i).expect("fewer than 2^32 actors"))
}

fn node(a: ActorId) -> NodeIndex {
    NodeIndex::new(a.index())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("a{i}")).collect()
    }

    #[test]
    fn a_full_mesh_links_every_ordered_pair_but_no_self_loops() {
        let t = Topology::full_mesh(&names(3), LinkConfig::reliable(5));
        assert_eq!(t.link_count(), 6);
        assert!(t.link(ActorId(0), ActorId(0)).is_none());
        assert!(t.link(ActorId(2), ActorId(1)).is_some());
    }

    #[test]
    fn setting_a_link_twice_replaces_its_configuration() {
        let mut t = Topology::new(&names(2));
        t.set_link(ActorId(0), ActorId(1), LinkConfig::reliable(5));
        t.set_link(ActorId(0), ActorId(1), LinkConfig::reliable(9));
        assert_eq!(t.link_count(), 1);
        assert_eq!(t.link(ActorId(0), ActorId(1)).unwrap().1.delay_us_min, 9);
        assert!(t.link(ActorId(1), ActorId(0)).is_none());
    }
}
