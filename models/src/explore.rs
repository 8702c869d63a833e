//! Bounded exhaustive exploration: every execution of a small scenario
//! within stated bounds, checked, with the shortest counterexample.
//!
//! A state is a run between two events. From each state the search
//! dispatches the next event once per script of the [`Explorer`] choice
//! source (which event of those that may come next, whether each datagram
//! sent is lost or duplicated, whether each crash point passed fires), so
//! that every successor the scenario's faults allow is generated through
//! the same engine, network and actors as `run` and `sweep`. A state whose
//! fingerprint was seen is not expanded again. Breadth-first, the first
//! counterexample found is a shortest one (in events dispatched).
//!
//! A stored state costs a fingerprint, its parent and the script that led
//! to it (a few dozen bytes): a state waiting to be expanded is built again
//! by replaying its path from the deepest ancestor still built,
//! instead of being kept whole.
//!
//! Every state is judged by the checks whose violations stay violations
//! however the run goes on ([`CheckId::judged_on_prefixes`]: a second
//! effect, a broken law, …); every execution that ends, by all of them (a
//! message not yet applied may still be). A counterexample becomes a real run: its path is replayed with
//! the faults kept, and the scenario with those faults as its explicit
//! schedule ([`shrink::seedless_spec`]) violates the same check under
//! `run` at any seed; [`counterexample`] checks that it does.

// The set of fingerprints, and the claims of a parallel batch, are asked
// for membership only, never iterated: their order cannot reach a result.
use std::collections::VecDeque;
use std::collections::hash_map::Entry;
#[allow(clippy::disallowed_types)]
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Mutex;

use crossbeam_utils::CachePadded;
use sim_core::{EndReason, Explorer, FaultBudget, FaultsUsed, Realized, RunEnd, Sim, Timing};
use smallvec::SmallVec;

use crate::check::CheckId;
use crate::roles::Node;
use crate::run::{self, Judgement};
use crate::scenario::spec::Expect;
use crate::scenario::{Scenario, ScenarioError};
use crate::shrink;

/// Breadth-first (shortest counterexamples) or depth-first (less memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Level by level: the first counterexample is a shortest one.
    BreadthFirst,
    /// Deepest first: the frontier stays small; counterexamples need not
    /// be shortest.
    DepthFirst,
}

impl Order {
    /// Depth-first when asked (`--dfs`), else breadth-first.
    pub fn depth_first_if(dfs: bool) -> Order {
        if dfs {
            Order::DepthFirst
        } else {
            Order::BreadthFirst
        }
    }
}

/// What the search may cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Faults per execution.
    pub faults: FaultBudget,
    /// Events per execution (`None`: as the scenario's limits allow).
    pub depth: Option<u32>,
    /// Distinct states stored.
    pub states: u64,
    /// Bytes the search may hold: the caller measures them (see
    /// [`explore`]'s `tick`).
    pub memory: u64,
    /// How events are ordered.
    pub timing: Timing,
    /// Breadth- or depth-first.
    pub order: Order,
    /// Copies of one datagram waiting at once (`None`: any number). A
    /// state with more is outside the bounds: neither stored nor expanded
    /// (a model checker's state constraint; untimed, periodic timers can
    /// otherwise fill the network without end).
    pub copies: Option<u32>,
    /// Threads expanding states (breadth-first only; depth-first uses
    /// one). The result does not depend on it.
    pub threads: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            faults: FaultBudget {
                crashes: 1,
                drops: 2,
                duplicates: 1,
            },
            depth: None,
            states: 10_000_000,
            memory: 4 << 30,
            timing: Timing::Timed,
            order: Order::BreadthFirst,
            copies: None,
            threads: 1,
        }
    }
}

/// What cut a search before it covered every execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// States at the depth bound were not expanded.
    Depth,
    /// The state bound was reached.
    States,
    /// The caller stopped it (Ctrl-C).
    Interrupted,
    /// The caller measured more memory than [`Bounds::memory`].
    Memory,
}

impl Cut {
    /// What cut the search, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Cut::Depth => "the depth bound: deeper states were not expanded",
            Cut::States => "the state bound",
            Cut::Memory => "the memory bound",
            Cut::Interrupted => "an interrupt",
        }
    }
}

/// A check broken on some execution, with the path to the first state
/// found that breaks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The check.
    pub check: CheckId,
    /// Whether the scenario expects it to break.
    pub expected: bool,
    /// The violation's one-line summary.
    pub summary: String,
    /// The scripts of the path's steps, from the start.
    pub path: Vec<Vec<u32>>,
}

impl Found {
    /// Events dispatched on the path (the start of the run not counted).
    pub fn events(&self) -> usize {
        self.path.len().saturating_sub(1)
    }
}

/// Progress, as the search goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Distinct states stored.
    pub states: u64,
    /// Successors generated, repeats included.
    pub transitions: u64,
    /// The most events on the path of a state stored (the start of the
    /// run not counted, as in [`Found::events`]).
    pub depth: u32,
    /// States waiting to be expanded.
    pub frontier: u64,
    /// Successors outside the copies bound ([`Bounds::copies`]), repeats
    /// included.
    pub outside: u64,
    /// The most crashes, drops and duplicates on the path of a state
    /// stored, each on its own: a kind the bounds allow but no path of a
    /// complete search used is one the scenario could not make. Faults
    /// certain to happen (a ratio of 1) are not choices, and not counted.
    pub most_faults: FaultsUsed,
}

/// The result of a search.
#[derive(Clone, Debug)]
pub struct Explored {
    /// The bounds it ran under.
    pub bounds: Bounds,
    /// Counters at the end.
    pub progress: Progress,
    /// The checks broken, each with its first (breadth-first: shortest)
    /// path; an unexpected one stops the search.
    pub found: Vec<Found>,
    /// What cut the search, if it did not cover every execution.
    pub cut: Option<Cut>,
    /// Executions that ended, by how: drained, stalled, at the drain
    /// bound, or at the scenario's time or event bound.
    pub ends: Ends,
    /// Each check as judged on the executions that ended.
    pub checks: Vec<(CheckId, Tally)>,
}

/// How a check came out on the executions that ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Executions on which it held.
    pub held: u64,
    /// Why it was not judged on some execution (skipped or unchecked), if
    /// it was not.
    pub not_judged: Option<String>,
}

/// How the executions ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ends {
    /// Drained (nothing left to do).
    pub quiet: u64,
    /// Stalled with work left, or cut by the drain bound: liveness judged.
    pub stuck: u64,
    /// Cut by the scenario's own time or event limit: liveness not judged.
    pub bounded: u64,
}

impl Explored {
    /// Whether a check broke that the scenario does not expect.
    pub fn failed(&self) -> bool {
        self.found.iter().any(|f| !f.expected)
    }

    /// Whether the search covered every execution within the bounds: no
    /// bound cut it, and no unexpected violation stopped it.
    pub fn complete(&self) -> bool {
        self.cut.is_none() && !self.failed()
    }

    /// The expected checks that no execution broke; none unless the
    /// search was complete (the executions a cut or a failure left
    /// unreached may break them).
    pub fn missing<'a>(&'a self, scenario: &'a Scenario) -> impl Iterator<Item = CheckId> + 'a {
        let complete = self.complete();
        scenario
            .expected()
            .iter()
            .copied()
            .filter(move |c| complete && !self.found.iter().any(|f| f.check == *c))
    }

    /// The exit code: 1 for an unexpected violation; 3 when a bound cut
    /// the search, an expected violation was not found, or the liveness
    /// checks could not be judged on some execution; else 0.
    pub fn exit_code(&self, scenario: &Scenario) -> u8 {
        if self.failed() {
            1
        } else if self.cut.is_some()
            || self.missing(scenario).next().is_some()
            || self.ends.bounded > 0
        {
            3
        } else {
            0
        }
    }
}

/// The memory the process holds now (its resident set), where the system
/// says (Linux's `/proc/self/status`): what a caller compares with
/// [`Bounds::memory`] as the search goes. It never changes what a search
/// finds, only where a caller stops it.
pub fn resident_bytes() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// The most memory the process has held (its resident high-water mark),
/// where the system says: what a search cost, read once it is done, when
/// what it stored may already be freed.
pub fn peak_resident_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let value = status.lines().find_map(|l| l.strip_prefix(field))?;
    let kb: u64 = value.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// A scenario made small enough to explore: `messages` per producer.
///
/// # Errors
/// If the changed scenario is not valid.
pub fn with_messages(scenario: &Scenario, messages: u32) -> Result<Scenario, ScenarioError> {
    let mut spec = scenario.spec().clone();
    spec.workload.messages = messages;
    Scenario::from_spec(scenario.file(), spec)
}

/// The scenario with its scheduled crashes, drops and duplicates made
/// possible anywhere: a crash scheduled at one pass of a point may happen
/// at any pass of it, a drop or a duplicate scheduled on a link may hit any
/// datagram on it (each within the bounds). Scheduled delays, partitions,
/// pauses and signals stay as scheduled. Returns the scenario and, for each
/// fault widened, a line saying so.
///
/// # Errors
/// If the changed scenario is not valid.
pub fn widened(scenario: &Scenario) -> Result<(Scenario, Vec<String>), ScenarioError> {
    use crate::scenario::spec::{CrashKnobSpec, FaultEvent, LinkOverride, RatioSpec};
    const EITHER: RatioSpec = RatioSpec(1, 2);
    let mut spec = scenario.spec().clone();
    let mut notes = Vec::new();
    let schedule = std::mem::take(&mut spec.faults.schedule);
    for event in schedule {
        match event {
            FaultEvent::Crash {
                actor, at_point, ..
            } => {
                notes.push(format!("a crash of {actor} at {at_point}, at any pass"));
                spec.faults.crash.push(CrashKnobSpec {
                    actor: Some(actor),
                    at_point: Some(at_point),
                    ratio: EITHER,
                });
            }
            FaultEvent::Drop { ref link, .. } | FaultEvent::Duplicate { ref link, .. } => {
                let drop = matches!(event, FaultEvent::Drop { .. });
                let Some((from, to)) = link.split_once("->") else {
                    spec.faults.schedule.push(event);
                    continue;
                };
                let link = link.clone();
                let links = &mut spec.network.links;
                // The topology takes a link's last override: change that one.
                let at = match links.iter().rposition(|l| l.from == from && l.to == to) {
                    Some(i) => i,
                    None => {
                        links.push(LinkOverride {
                            from: from.to_string(),
                            to: to.to_string(),
                            loss: None,
                            duplicate: None,
                            delay_us_min: None,
                            delay_us_max: None,
                            delay_us_step: None,
                            ordering: None,
                        });
                        links.len() - 1
                    }
                };
                let (what, ratio) = if drop {
                    ("a loss", &mut links[at].loss)
                } else {
                    ("a duplicate", &mut links[at].duplicate)
                };
                *ratio = Some(EITHER);
                notes.push(format!("{what} on {link}, of any datagram"));
            }
            other => spec.faults.schedule.push(other),
        }
    }
    notes.dedup();
    let widened = Scenario::from_spec(scenario.file(), spec)?;
    Ok((widened, notes))
}

/// Fingerprints are already well mixed: the set hashes them as they are.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 fingerprints are hashed");
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[allow(clippy::disallowed_types)]
type Fingerprints = HashSet<u64, BuildHasherDefault<Identity>>;

/// Fingerprints and the place in a batch of the copy that claimed each
/// ([`Claims`]).
#[allow(clippy::disallowed_types)]
type Claimed = HashMap<u64, (u32, usize), BuildHasherDefault<Identity>>;

/// The stored states as a tree: each state's parent and the script that
/// led to it, packed (a path is rebuilt by walking up).
#[derive(Default)]
struct Tree {
    parent: Vec<u32>,
    script_end: Vec<u32>,
    scripts: Vec<u8>,
}

impl Tree {
    fn add(&mut self, parent: u32, script: &[u32]) -> u32 {
        let id = u32::try_from(self.parent.len()).expect("fewer than 2^32 states");
        self.parent.push(parent);
        for &c in script {
            // A choice among more than 254 is rare: escape it.
            match u8::try_from(c) {
                Ok(b) if b < u8::MAX => self.scripts.push(b),
                _ => {
                    self.scripts.push(u8::MAX);
                    self.scripts.extend_from_slice(&c.to_le_bytes());
                }
            }
        }
        self.script_end
            .push(u32::try_from(self.scripts.len()).expect("scripts under 4 GiB"));
        id
    }

    /// How many states it holds.
    fn len(&self) -> u32 {
        u32::try_from(self.parent.len()).expect("fewer than 2^32 states")
    }

    /// Move every state of `tail` (ids from 0, parents as in this tree) to
    /// the end of this tree, in order.
    fn append(&mut self, tail: &mut Tree) {
        let offset = u32::try_from(self.scripts.len()).expect("scripts under 4 GiB");
        self.parent.append(&mut tail.parent);
        self.script_end
            .extend(tail.script_end.drain(..).map(|end| offset + end));
        self.scripts.append(&mut tail.scripts);
    }

    fn script(&self, id: u32) -> Vec<u32> {
        let mut out = Vec::new();
        self.script_into(id, &mut out);
        out
    }

    /// [`Tree::script`] written into `out` (its buffer reused).
    fn script_into(&self, id: u32, out: &mut Vec<u32>) {
        out.clear();
        let i = id as usize;
        let start = if i == 0 {
            0
        } else {
            self.script_end[i - 1] as usize
        };
        let bytes = &self.scripts[start..self.script_end[i] as usize];
        let mut k = 0;
        while k < bytes.len() {
            if bytes[k] == u8::MAX {
                let word: [u8; 4] = bytes[k + 1..k + 5].try_into().expect("4 bytes");
                out.push(u32::from_le_bytes(word));
                k += 5;
            } else {
                out.push(u32::from(bytes[k]));
                k += 1;
            }
        }
    }

    /// The scripts from the start to `id`.
    fn path(&self, id: u32) -> Vec<Vec<u32>> {
        self.ancestry(id)
            .into_iter()
            .map(|a| self.script(a))
            .collect()
    }

    /// The states from the first step's to `id`.
    fn ancestry(&self, id: u32) -> Vec<u32> {
        let mut ids = Vec::new();
        self.ancestry_into(id, &mut ids);
        ids
    }

    /// [`Tree::ancestry`] written into `ids` (its buffer reused).
    fn ancestry_into(&self, id: u32, ids: &mut Vec<u32>) {
        ids.clear();
        let mut at = id;
        while at != ROOT {
            ids.push(at);
            at = self.parent[at as usize];
        }
        ids.reverse();
    }
}

/// The states built along the last path rebuilt, from the run before it
/// starts: a waiting state is stored as its id only, and built again from
/// its deepest ancestor on this stack by replaying the scripts below it.
/// Breadth-first, the states of a level are taken in the order of their
/// paths, so consecutive ones share most of their ancestors and each
/// ancestor is replayed about once per level; depth-first, the parent is
/// on top.
///
/// States leaving the stack are kept as spares and copied into in place,
/// and so is the buffer successors are made in: a state grows its buffers
/// once, not once per copy. Each is boxed, so that taking a spare or
/// pushing a state moves a pointer, not the state's several hundred bytes.
struct Built<M: Model> {
    stack: Vec<(u32, Box<State<M>>)>,
    // Boxed: a spare moves to the stack or the successor buffer as a
    // pointer.
    #[allow(clippy::vec_box)]
    spares: Vec<Box<State<M>>>,
    next: Option<Box<State<M>>>,
    /// Buffers for a state's ancestry and a step's script.
    ids: Vec<u32>,
    script: Vec<u32>,
}

impl<M: Model> Built<M> {
    fn new(mut root: State<M>) -> Built<M> {
        root.work_out_next();
        Built {
            stack: vec![(ROOT, Box::new(root))],
            spares: Vec::new(),
            next: None,
            ids: Vec::new(),
            script: Vec::new(),
        }
    }

    /// State `id`, built from the tree, and the buffer to make its
    /// successors in.
    fn get(&mut self, tree: &Tree, id: u32) -> (&State<M>, &mut Option<Box<State<M>>>) {
        tree.ancestry_into(id, &mut self.ids);
        // stack[k] holds ids[k - 1]; keep the common part.
        let common = self.stack[1..]
            .iter()
            .zip(&self.ids)
            .take_while(|((built, _), want)| built == *want)
            .count();
        let mut gone = self.stack.drain(common + 1..).map(|(_, state)| state);
        // The first state gone was made from the one now on top, a step
        // on: copying back what that step changed makes it the top again.
        let mut child_of_top = gone.next();
        self.spares.extend(gone);
        for &step in &self.ids[common..] {
            let parent = &self.stack[self.stack.len() - 1].1;
            let mut next = match child_of_top.take() {
                Some(mut child) => {
                    child.reset_to(parent);
                    child
                }
                None => copy_into::<M>(self.spares.pop(), parent),
            };
            tree.script_into(step, &mut self.script);
            next.choices_mut().begin(&self.script);
            next.advance();
            // Its copies (its children here, its successors) step from it.
            next.work_out_next();
            self.stack.push((step, next));
        }
        self.spares.extend(child_of_top);
        (&self.stack[self.stack.len() - 1].1, &mut self.next)
    }
}

/// `state` copied into `spare`'s buffers, if there is a spare.
fn copy_into<M: Model>(spare: Option<Box<State<M>>>, state: &State<M>) -> Box<State<M>> {
    match spare {
        Some(mut spare) => {
            (*spare).clone_from(state);
            spare
        }
        None => Box::new(state.clone()),
    }
}

/// The parent of the first step's states (the run before it starts).
const ROOT: u32 = u32::MAX;

/// What a search explores: a run of some actors before it starts, and the
/// checks on each of its states. A [`Scenario`] is one; a benchmark can
/// explore actors of its own through the same search.
pub trait Model: Sync {
    /// The actors (their runs are expanded by several threads; their
    /// messages and timers are plain data, `Copy`, because a search copies
    /// the waiting ones with every state it makes).
    type Actor: sim_core::Actor<
            Durable: Hash + Send,
            Volatile: Clone + Hash + Send,
            Obs: Clone + PartialEq + Hash + Send,
            Msg: Copy + Send,
            Timer: Copy + Send,
        > + Clone
        + Send
        + Sync;

    /// The run before it starts, drawing from `choices`; the search makes
    /// it explore orders.
    fn sim(&self, choices: Explorer) -> Sim<Self::Actor, Explorer>;

    /// Whether the run's future depends on the time only through its
    /// waiting events (see [`Sim::clock_free`]); a scenario's does not.
    fn clock_free(&self) -> bool {
        false
    }

    /// The checks on `state`: as a run that ended with `end`, or, for a
    /// state that goes on (`None`), as a run cut short, so that only the
    /// checks judged on prefixes count. `found`: the checks the search has
    /// found broken already; of a state that goes on, the search keeps
    /// nothing of them, so they need not be judged there.
    fn judge(
        &self,
        state: &Sim<Self::Actor, Explorer>,
        end: Option<EndReason>,
        found: &[CheckId],
    ) -> Vec<run::Judged>;
}

impl Model for Scenario {
    type Actor = Node;

    fn sim(&self, choices: Explorer) -> Sim<Node, Explorer> {
        Scenario::sim(self, choices)
    }

    /// Every check when the run ended; while it goes on, only the checks
    /// a prefix can break ([`CheckId::judged_on_prefixes`]) that are not
    /// `found` yet. Violations without their stories: the search keeps
    /// nothing else of a prefix's judgement, and of a violation only its
    /// summary; a counterexample's report comes from running it.
    fn judge(
        &self,
        state: &Sim<Node, Explorer>,
        end: Option<EndReason>,
        found: &[CheckId],
    ) -> Vec<run::Judged> {
        let ended = end.is_some();
        let end = RunEnd {
            reason: end.unwrap_or(EndReason::EventBound),
            time: state.now(),
            stats: state.stats(),
            digest: sim_core::Digest::default(),
            trace_events: 0,
        };
        let wanted =
            |check: CheckId| ended || (check.judged_on_prefixes() && !found.contains(&check));
        run::judged_those(self, &end, state, (wanted, false)).1
    }
}

type State<M> = Sim<<M as Model>::Actor, Explorer>;

/// The run before it starts, exploring orders.
fn root<M: Model>(model: &M, bounds: &Bounds) -> State<M> {
    let mut sim = model.sim(Explorer::new(bounds.faults));
    sim.explore_orders(bounds.timing);
    if model.clock_free() {
        sim.clock_free();
    }
    sim
}

/// Explore `model` (a scenario) within `bounds`; `tick` is called with the progress
/// every few thousand states, and stops the search when it returns a cut
/// (an interrupt, or memory it measured above [`Bounds::memory`]).
pub fn explore<M: Model>(model: &M, bounds: Bounds, tick: &mut Tick<'_>) -> Explored {
    let mut search = Search {
        model,
        bounds,
        seen: Fingerprints::default(),
        tree: Tree::default(),
        built: Built::new(root(model, &bounds)),
        out: Outcome::default(),
    };
    search.out.frontier.push_back((ROOT, 0));
    match (bounds.threads, bounds.order) {
        (0 | 1, _) | (_, Order::DepthFirst) => search.run(tick),
        (threads, Order::BreadthFirst) => search.run_parallel(threads, tick),
    }
    let out = search.out;
    Explored {
        bounds,
        progress: out.progress,
        found: out.found,
        cut: out.cut,
        ends: out.ends,
        checks: out.checks,
    }
}

struct Search<'a, M: Model> {
    model: &'a M,
    bounds: Bounds,
    seen: Fingerprints,
    tree: Tree,
    built: Built<M>,
    out: Outcome,
}

/// What a search has found so far, and what waits.
#[derive(Default)]
struct Outcome {
    /// The states waiting to be expanded, with their depths.
    frontier: VecDeque<(u32, u32)>,
    progress: Progress,
    found: Vec<Found>,
    cut: Option<Cut>,
    ends: Ends,
    checks: Vec<(CheckId, Tally)>,
}

/// How often the caller hears of progress, in states.
const TICK_STATES: u64 = 4_096;

/// States expanded together by the threads of a breadth-first search
/// while the successors of the batch before are merged, in order.
const BATCH: usize = 2_048;

/// About how many runs of consecutive states each thread of a parallel
/// search is given per batch: more runs balance the threads better, and
/// each run rebuilds its first state from further up the tree.
const RUNS_PER_THREAD: usize = 8;

/// Room for the successors of most states, so that their list is
/// allocated once.
const SUCCESSORS_USUAL: usize = 16;

/// A batch of states (ids, depths), and the successors of those within
/// the depth bound, in order.
type Expanded = (Vec<(u32, u32)>, Vec<Vec<Successor>>);

/// What a search tells of its progress, and that may cut it.
/// `Send`: with several threads, the merge that tells it may run on any
/// of them.
pub type Tick<'t> = dyn FnMut(&Progress) -> Option<Cut> + Send + 't;

/// Where a merge puts the states it adds.
trait Store {
    /// Whether `fingerprint` was not seen; it is seen from now on.
    fn note_new(&mut self, fingerprint: u64) -> bool;
    /// Add the state `script` makes from `parent`; its id.
    fn add(&mut self, parent: u32, script: &[u32]) -> u32;
    /// The scripts from the start to state `id`.
    fn path(&self, id: u32) -> Vec<Vec<u32>>;
}

/// The tree and the fingerprints themselves (one thread).
struct InPlace<'s> {
    tree: &'s mut Tree,
    seen: &'s mut Fingerprints,
}

impl Store for InPlace<'_> {
    fn note_new(&mut self, fingerprint: u64) -> bool {
        self.seen.insert(fingerprint)
    }

    fn add(&mut self, parent: u32, script: &[u32]) -> u32 {
        self.tree.add(parent, script)
    }

    fn path(&self, id: u32) -> Vec<Vec<u32>> {
        self.tree.path(id)
    }
}

/// The states and fingerprints a merge adds while other threads read the
/// tree and the fingerprints as they were: kept beside them, and folded in
/// once the threads are done.
#[derive(Default)]
struct Fresh {
    tree: Tree,
    seen: Fingerprints,
}

impl Fresh {
    fn fold_into(&mut self, tree: &mut Tree, seen: &mut Fingerprints) {
        tree.append(&mut self.tree);
        seen.extend(self.seen.drain());
    }
}

/// The tree and fingerprints as they were, read, and what was added since.
struct Beside<'s> {
    tree: &'s Tree,
    seen: &'s Fingerprints,
    fresh: &'s mut Fresh,
}

impl Beside<'_> {
    fn base(&self) -> u32 {
        self.tree.len()
    }

    fn parent(&self, id: u32) -> u32 {
        match id.checked_sub(self.base()) {
            Some(i) => self.fresh.tree.parent[i as usize],
            None => self.tree.parent[id as usize],
        }
    }

    fn script(&self, id: u32) -> Vec<u32> {
        match id.checked_sub(self.base()) {
            Some(i) => self.fresh.tree.script(i),
            None => self.tree.script(id),
        }
    }
}

impl Store for Beside<'_> {
    fn note_new(&mut self, fingerprint: u64) -> bool {
        !self.seen.contains(&fingerprint) && self.fresh.seen.insert(fingerprint)
    }

    fn add(&mut self, parent: u32, script: &[u32]) -> u32 {
        self.base() + self.fresh.tree.add(parent, script)
    }

    fn path(&self, id: u32) -> Vec<Vec<u32>> {
        let mut ids = Vec::new();
        let mut at = id;
        while at != ROOT {
            ids.push(at);
            at = self.parent(at);
        }
        ids.iter().rev().map(|&a| self.script(a)).collect()
    }
}

/// A successor of a state, as the thread that expanded it found it.
struct Successor {
    /// The script of the step that made it.
    taken: SmallVec<[u32; 4]>,
    /// Its fingerprint; `None` outside the copies bound.
    fingerprint: Option<u64>,
    /// The faults its path used.
    used: FaultsUsed,
    /// How its run ended, if it did.
    end: Option<EndReason>,
    /// The checks on it, when its step observed something or its run
    /// ended, and it was not seen before the expansion began.
    judged: Option<Vec<CheckOn>>,
}

/// What the search keeps of one check's judgement on a state
/// ([`Outcome::record`]): made on the thread that judged the state, so
/// that the texts of checks that held, and the stories of violations,
/// are freed where they were made.
struct CheckOn {
    check: CheckId,
    seen: Seen,
}

/// A check's judgement on a state, as the search counts it.
enum Seen {
    /// It held.
    Held,
    /// It does not apply, or was not evaluated, and why.
    NotJudged(String),
    /// It broke where it is judged, as expected or not: its first
    /// violation's summary.
    Broke { expected: bool, summary: String },
    /// Anything else (a violation where the check is not judged, an
    /// expected violation missing).
    Other,
}

impl CheckOn {
    /// What the search keeps of the checks `judged` on a state whose run
    /// ended (`end`) or goes on: every check of an ended run (for the
    /// tallies), only the broken ones of a run that goes on.
    fn kept(judged: Vec<run::Judged>, end: Option<EndReason>) -> Vec<CheckOn> {
        judged
            .into_iter()
            .filter_map(|j| {
                let judged_here = end.is_some() || j.check.judged_on_prefixes();
                let seen = match j.judgement {
                    Judgement::Fail(v) | Judgement::Expected(v) if !judged_here || v.is_empty() => {
                        Seen::Other
                    }
                    Judgement::Fail(v) => Seen::Broke {
                        expected: false,
                        summary: first_summary(v),
                    },
                    Judgement::Expected(v) => Seen::Broke {
                        expected: true,
                        summary: first_summary(v),
                    },
                    Judgement::Pass(_) => Seen::Held,
                    Judgement::Skip(why) | Judgement::Unchecked(why) => Seen::NotJudged(why),
                    Judgement::Missing(_) => Seen::Other,
                };
                let counted = end.is_some() || matches!(seen, Seen::Broke { .. });
                counted.then_some(CheckOn {
                    check: j.check,
                    seen,
                })
            })
            .collect()
    }
}

/// The summary of the first of `violations` (not empty).
fn first_summary(violations: Vec<crate::check::Violation>) -> String {
    violations
        .into_iter()
        .next()
        .map(|v| v.summary)
        .unwrap_or_default()
}

/// Every successor of `state`, in the order of the choice source's
/// scripts, each made in `buffer`. `seen` is only read: a successor
/// already in it is not judged. With several threads, `seen` is as it
/// was when the batch began, so a successor is judged only if it claims
/// its fingerprint (`claims`, with the state's place in the batch): the
/// merge, which takes successors in batch order, keeps the first of equal
/// ones, and [`Claims`] makes sure that one is judged. (One thread merges
/// each state's successors before it expands the next; on lesson 10 and
/// W2, claiming there too cost more than the equal siblings it spared.)
fn successors<M: Model>(
    (model, found): (&M, &[CheckId]),
    bounds: &Bounds,
    (seen, claims): (&Fingerprints, Option<(&Claims, u32)>),
    (state, buffer): (&State<M>, &mut Option<Box<State<M>>>),
) -> Vec<Successor> {
    let mut out = Vec::with_capacity(SUCCESSORS_USUAL);
    let mut script = Vec::new();
    let spare = buffer.take();
    let next = buffer.insert(copy_into::<M>(spare, state));
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            next.reset_to(state);
        }
        next.choices_mut().begin(&script);
        let end = next.advance();
        let taken = next.choices().taken_iter().collect();
        let more = next.choices().next_script_into(&mut script);
        // `state` is within the bound on copies, or it would not be
        // expanded: only a datagram the step sent can pass it.
        let outside = bounds
            .copies
            .is_some_and(|most| next.sent_past_copies(most as usize));
        debug_assert_eq!(
            outside,
            bounds
                .copies
                .is_some_and(|most| next.most_copies_waiting() > most as usize)
        );
        let fingerprint = (!outside).then(|| next.fingerprint());
        let fresh = fingerprint.is_some_and(|f| !seen.contains(&f));
        let observed = next.history().len() > state.history().len();
        let judged = (fresh
            && (observed || end.is_some())
            && claims.is_none_or(|(claims, place)| {
                fingerprint.is_some_and(|f| claims.claim(f, (place, out.len())))
            }))
        .then(|| CheckOn::kept(model.judge(next, end, found), end));
        out.push(Successor {
            taken,
            fingerprint,
            used: next.choices().used(),
            end,
            judged,
        });
        if !more {
            return out;
        }
    }
}

impl<M: Model> Search<'_, M> {
    fn run(&mut self, tick: &mut Tick<'_>) {
        let mut next_tick = TICK_STATES;
        while let Some((id, depth)) = self.out.next(self.bounds.order) {
            if self.out.cut_by_depth(&self.bounds, depth) {
                continue;
            }
            let state = self.built.get(&self.tree, id);
            let broken = self.out.found_checks();
            let judging = (self.model, broken.as_slice());
            let found = successors(judging, &self.bounds, (&self.seen, None), state);
            let store = &mut InPlace {
                tree: &mut self.tree,
                seen: &mut self.seen,
            };
            if self.out.merge(&self.bounds, store, (id, depth), found)
                || self.out.ticked(&mut next_tick, tick)
            {
                break;
            }
        }
        self.out.measure();
    }

    /// Breadth-first with `threads`: the frontier's states are expanded a
    /// batch at a time, each thread taking a run of consecutive states
    /// (which share most of their ancestors) with its own [`Built`] stack,
    /// while one of them merges the successors of the batch before, in
    /// frontier order, so that the search finds, stores and reports exactly
    /// what one thread would. The expanding threads read the tree and the
    /// fingerprints as they were when the batch began (a state the merge
    /// adds meanwhile is only judged once more than needed); the merge
    /// keeps what it adds beside them until the batch is done.
    fn run_parallel(&mut self, threads: usize, tick: &mut Tick<'_>)
    where
        M: Sync,
        State<M>: Send,
    {
        let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool,
            Err(_) => return self.run(tick),
        };
        let root = self.built.stack[0].1.clone();
        // Each thread's stack on cache lines of its own: side by side, a
        // thread writing its stack's lengths took the other's line away.
        let builts: Vec<CachePadded<Mutex<Built<M>>>> = (0..threads)
            .map(|_| CachePadded::new(Mutex::new(Built::new(root.unshared()))))
            .collect();
        let mut fresh = Fresh::default();
        let mut next_tick = TICK_STATES;
        let mut merging: Option<Expanded> = None;
        loop {
            let take = self.out.frontier.len().min(BATCH);
            let batch: Vec<(u32, u32)> = self.out.frontier.drain(..take).collect();
            if batch.is_empty() && merging.is_none() {
                break;
            }
            let within = |depth: u32| self.bounds.depth.is_none_or(|d| depth <= d);
            let expandable: Vec<(u32, u32)> =
                batch.iter().copied().filter(|&(_, d)| within(d)).collect();
            let Search {
                model,
                bounds,
                seen,
                tree,
                out,
                ..
            } = self;
            // The checks found by the merges before this batch's: the
            // merge running beside it may find more, which this batch then
            // judges in vain, but never wrongly.
            let broken = out.found_checks();
            let reading = ((*model, broken.as_slice()), &*bounds, &*seen, &*tree);
            let (builts, pool, expandable) = (&builts, &pool, &expandable);
            // The merge and the expansion share the pool's threads: the
            // merge starts at once on one of them, and that thread helps
            // expand once it is done (three busy threads on two cores
            // would slow both).
            let merge = || {
                merging.take().and_then(|(merged, expansions)| {
                    let store = &mut Beside {
                        tree,
                        seen,
                        fresh: &mut fresh,
                    };
                    out.merge_batch(bounds, store, (&merged, expansions), (&mut next_tick, tick))
                        .map(|rest| merged[rest..].to_vec())
                })
            };
            let expand = || expand_batch(pool, builts, reading, expandable);
            let (stopped, expanded) = pool.install(|| rayon::join(merge, expand));
            fresh.fold_into(&mut self.tree, &mut self.seen);
            if let Some(waiting) = stopped {
                // The states not merged still wait, as with one thread.
                for &state in waiting.iter().chain(&batch).rev() {
                    self.out.frontier.push_front(state);
                }
                break;
            }
            merging = (!batch.is_empty()).then_some((batch, expanded));
        }
        self.out.measure();
    }
}

/// The most of each fault kind of `a` and `b`.
fn most_of(a: FaultsUsed, b: FaultsUsed) -> FaultsUsed {
    FaultsUsed {
        crashes: a.crashes.max(b.crashes),
        drops: a.drops.max(b.drops),
        duplicates: a.duplicates.max(b.duplicates),
    }
}

/// Which copy of each successor a parallel batch judges: the first in
/// batch order (the state's place in the batch, then the successor's
/// among its siblings), which is the copy the merge keeps. A copy judges
/// only if no earlier copy claimed its fingerprint, and claims it; an
/// earlier copy that comes later takes the claim over and judges too, so
/// that whichever thread gets there first, the first copy is judged, and
/// a later one only while the first has not come yet.
struct Claims {
    /// Each lock on cache lines of its own, so that threads taking two
    /// different locks do not contend for one line.
    shards: Vec<CachePadded<Mutex<Claimed>>>,
}

/// How many locks [`Claims`] spreads its fingerprints over.
const CLAIM_SHARDS: usize = 16;

impl Default for Claims {
    fn default() -> Claims {
        Claims {
            shards: (0..CLAIM_SHARDS).map(|_| CachePadded::default()).collect(),
        }
    }
}

impl Claims {
    /// Whether the copy at `place` judges `fingerprint`: no earlier copy
    /// claimed it (it is claimed for `place` from now on).
    fn claim(&self, fingerprint: u64, place: (u32, usize)) -> bool {
        // Middle bits pick the lock: the maps use the low ones.
        let shard = (fingerprint >> 32) as usize % CLAIM_SHARDS;
        let mut claimed = self.shards[shard]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match claimed.entry(fingerprint) {
            Entry::Vacant(free) => {
                free.insert(place);
                true
            }
            Entry::Occupied(mut taken) if place < *taken.get() => {
                taken.insert(place);
                true
            }
            Entry::Occupied(_) => false,
        }
    }
}

/// The successors of each state of `batch` within the depth bound, in
/// order, expanded by the pool's threads from `tree` (`seen` is only
/// read), a run of consecutive states at a time: several runs per thread,
/// so that a thread that finishes early, or was not scheduled for a while,
/// is made up for by another. Each thread rebuilds states on its own
/// [`Built`] stack.
fn expand_batch<M: Model>(
    pool: &rayon::ThreadPool,
    builts: &[CachePadded<Mutex<Built<M>>>],
    (judging, bounds, seen, tree): ((&M, &[CheckId]), &Bounds, &Fingerprints, &Tree),
    batch: &[(u32, u32)],
) -> Vec<Vec<Successor>>
where
    State<M>: Send,
{
    use rayon::prelude::*;
    let run = batch.len().div_ceil(builts.len() * RUNS_PER_THREAD).max(1);
    let claims = Claims::default();
    let runs: Vec<Vec<Vec<Successor>>> = pool.install(|| {
        batch
            .par_chunks(run)
            .enumerate()
            .map(|(k, states)| {
                let thread = rayon::current_thread_index().unwrap_or(0);
                // Each thread takes only its own stack: never contended.
                let mut built = builts[thread]
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                (k * run..)
                    .zip(states)
                    .map(|(place, &(id, _))| {
                        let state = built.get(tree, id);
                        let place = u32::try_from(place).expect("a batch is small");
                        successors(judging, bounds, (seen, Some((&claims, place))), state)
                    })
                    .collect()
            })
            .collect()
    });
    runs.into_iter().flatten().collect()
}

impl Outcome {
    /// Merge the expansions of `batch`'s states (those within the depth
    /// bound, in order), telling the caller of the progress; where the
    /// search stopped, if it did: the position in `batch` of the first
    /// state not merged.
    fn merge_batch(
        &mut self,
        bounds: &Bounds,
        store: &mut impl Store,
        (batch, expansions): (&[(u32, u32)], Vec<Vec<Successor>>),
        (next_tick, tick): (&mut u64, &mut Tick<'_>),
    ) -> Option<usize> {
        let mut expansions = expansions.into_iter();
        for (done, &(id, depth)) in batch.iter().enumerate() {
            // A state past the depth bound is noted where one thread
            // would note it.
            if self.cut_by_depth(bounds, depth) {
                continue;
            }
            let found = expansions
                .next()
                .expect("one expansion per state within the depth");
            if self.merge(bounds, store, (id, depth), found) || self.ticked(next_tick, tick) {
                return Some(done + 1);
            }
        }
        None
    }

    /// Whether a state at `depth` is past the depth bound (then noted): a
    /// state at depth `d` is `d - 1` events from the start of the run (the
    /// root, depth 0, is the run not yet started), so one at the bound's
    /// number of events is not expanded.
    fn cut_by_depth(&mut self, bounds: &Bounds, depth: u32) -> bool {
        let past = bounds.depth.is_some_and(|d| depth > d);
        if past {
            self.cut.get_or_insert(Cut::Depth);
        }
        past
    }

    /// Tell the caller of the progress when it is time; true when it cut
    /// the search.
    fn ticked(&mut self, next_tick: &mut u64, tick: &mut Tick<'_>) -> bool {
        if self.progress.states < *next_tick {
            return false;
        }
        *next_tick = self.progress.states + TICK_STATES;
        self.measure();
        let cut = tick(&self.progress);
        self.cut = cut.or(self.cut);
        cut.is_some()
    }

    fn next(&mut self, order: Order) -> Option<(u32, u32)> {
        match order {
            Order::BreadthFirst => self.frontier.pop_front(),
            Order::DepthFirst => self.frontier.pop_back(),
        }
    }

    fn measure(&mut self) {
        self.progress.frontier = self.frontier.len() as u64;
    }

    /// Add the successors of state `id` that were not seen, judged, to
    /// `store` and the frontier, in order; true when the search must stop
    /// (an unexpected violation, or the state bound).
    fn merge(
        &mut self,
        bounds: &Bounds,
        store: &mut impl Store,
        (id, depth): (u32, u32),
        successors: Vec<Successor>,
    ) -> bool {
        for next in successors {
            self.progress.transitions += 1;
            let Some(fingerprint) = next.fingerprint else {
                self.progress.outside += 1;
                continue;
            };
            if !store.note_new(fingerprint) {
                continue;
            }
            if self.progress.states >= bounds.states {
                self.cut = Some(Cut::States);
                return true;
            }
            let child = store.add(id, &next.taken);
            self.progress.states += 1;
            self.progress.most_faults = most_of(self.progress.most_faults, next.used);
            // The child, at `depth + 1`, is `depth` events from the start.
            self.progress.depth = self.progress.depth.max(depth);
            if let Some(judged) = &next.judged
                && self.record(store, child, (judged, next.end))
            {
                return true;
            }
            match next.end {
                Some(reason) => self.count_end(reason),
                None => self.frontier.push_back((child, depth + 1)),
            }
        }
        false
    }

    fn count_end(&mut self, reason: EndReason) {
        match reason {
            EndReason::Quiet | EndReason::Stopped => self.ends.quiet += 1,
            EndReason::Stalled | EndReason::DrainBound => self.ends.stuck += 1,
            EndReason::TimeBound | EndReason::EventBound | EndReason::MemoryBound => {
                self.ends.bounded += 1;
            }
        }
    }

    /// Record the checks on a new state: every check on an execution that ended, those
    /// judged on prefixes ([`CheckId::judged_on_prefixes`]) on one that
    /// goes on (only when its last step observed something: such a check
    /// breaks only on what was observed, and stays broken). True when a
    /// check broke that the scenario does not expect.
    fn record(
        &mut self,
        store: &impl Store,
        id: u32,
        (judged, end): (&[CheckOn], Option<EndReason>),
    ) -> bool {
        let mut unexpected = false;
        for j in judged {
            if end.is_some() {
                self.tally(j);
            }
            let Seen::Broke { expected, summary } = &j.seen else {
                continue;
            };
            if self.found.iter().any(|f| f.check == j.check) {
                continue;
            }
            unexpected |= !expected;
            self.found.push(Found {
                check: j.check,
                expected: *expected,
                summary: summary.clone(),
                path: store.path(id),
            });
        }
        unexpected
    }

    /// The checks found broken so far.
    fn found_checks(&self) -> Vec<CheckId> {
        self.found.iter().map(|f| f.check).collect()
    }

    fn tally(&mut self, j: &CheckOn) {
        let at = match self.checks.iter().position(|(c, _)| *c == j.check) {
            Some(i) => i,
            None => {
                self.checks.push((j.check, Tally::default()));
                self.checks.len() - 1
            }
        };
        let tally = &mut self.checks[at].1;
        match &j.seen {
            Seen::Held => tally.held += 1,
            Seen::NotJudged(why) => {
                tally.not_judged.get_or_insert_with(|| why.clone());
            }
            Seen::Broke { .. } | Seen::Other => {}
        }
    }
}

/// A counterexample as a real run: the scenario with the path's faults
/// (drops, duplicates, crashes, and the delays that give its order) as its
/// explicit schedule and every stochastic knob off, expecting `found`'s
/// check.
///
/// # Errors
/// A message if the scenario cannot be built, or its run at seed 0 does
/// not break the check (which would be a bug in the exploration).
pub fn counterexample(
    scenario: &Scenario,
    bounds: &Bounds,
    found: &Found,
) -> Result<Scenario, String> {
    let realized = replay_path(scenario, bounds, &found.path);
    let mut spec = shrink::seedless_spec(scenario, &realized);
    spec.name = format!("{}-explored", scenario.spec().name);
    spec.expect = Expect::Violates(vec![found.check]);
    let min = Scenario::from_spec(scenario.file(), spec.clone()).map_err(|e| e.to_string())?;
    let report = run::run(&min, 0, false);
    if !report.violates(found.check) {
        return Err(format!(
            "the counterexample for {} did not break it when run as a scenario: a bug in \
             `eosim explore`, please report it",
            found.check
        ));
    }
    // It expects every check it breaks (the one it was found for, and
    // those the same execution breaks on the way): `run` on it passes,
    // with those violations.
    let mut broken: Vec<CheckId> = report.violations().map(|(v, _)| v.check).collect();
    broken.sort_unstable();
    broken.dedup();
    spec.expect = Expect::Violates(broken);
    Scenario::from_spec(scenario.file(), spec).map_err(|e| e.to_string())
}

/// Replay `path` keeping its faults, then give every datagram still
/// waiting its latest delay (see [`Sim::realize_waiting`]).
fn replay_path(scenario: &Scenario, bounds: &Bounds, path: &[Vec<u32>]) -> Vec<Realized> {
    let mut sim = root(scenario, bounds);
    sim.record_faults();
    for script in path {
        sim.choices_mut().begin(script);
        if sim.advance().is_some() {
            break;
        }
    }
    sim.realize_waiting();
    sim.realized().unwrap_or_default().to_vec()
}
