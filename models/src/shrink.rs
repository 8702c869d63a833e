//! Shrinking a failing run to a seedless minimal scenario.
//!
//! 1. Run the scenario at the failing seed and keep every fault that
//!    happened, each named so that it can be scheduled: the `nth` datagram
//!    on a link was lost, duplicated or delayed; an actor crashed on the
//!    `nth` pass of a crash point ([`sim_core::Realized`]).
//! 2. Write them down as an explicit schedule and turn every stochastic knob
//!    off (no random loss, duplication or crash; every delay the link's
//!    minimum unless scheduled). This *seedless* scenario replays the run with
//!    no randomness at all, so it must fail the same way.
//! 3. Simplify greedily while the same check still fails: remove delays, then
//!    other faults (in halves, quarters, … down to one at a time), move each
//!    remaining fault to an earlier datagram or pass and to the first actor of
//!    its role, then reduce the workload (fewer messages, producers,
//!    partitions); start over after each success.
//!    Faults go first because a reader learns more from fewer faults than
//!    from fewer events.
//!
//! Every accepted step makes one of these smaller and none larger: the
//! number of schedule entries, the sum of their positions, the delays and
//! partition lengths, the actors that are not the first of their role, and
//! the workload. So the search ends (and [`ATTEMPTS_MAX`] bounds it anyway).
//!
//! Why named faults rather than the choice tape: a tape is indexed by draw
//! position, so making one choice default shifts every later draw onto other
//! decisions. A fault named by link position or crash-point pass keeps its
//! meaning when others are removed, which is what a greedy search needs.
//!
//! # Determinism
//! Candidates are tried in a fixed order and every candidate run is seedless,
//! so the result depends only on the scenario and the seed, unless the
//! caller's `keep_going` stops the search early ([`Shrunk::complete`] says
//! so).

use std::fmt;

use sim_core::Realized;

use crate::check::CheckId;
use crate::run::{self, RunReport};
use crate::scenario::Scenario;
use crate::scenario::spec::{Expect, FaultEvent, RatioSpec, ScenarioSpec, WorkloadSpec};
use crate::vocab::{EXPIRE, REBALANCE};

/// The most candidate runs one shrink tries.
pub const ATTEMPTS_MAX: u32 = 20_000;

/// The most faults a run may have to be shrunk: each becomes an entry of a
/// schedule that every candidate run parses, validates and replays, so a
/// run with millions of them would take gigabytes and hours to shrink.
pub const SCHEDULED_FAULTS_MAX: usize = 100_000;

/// How big a run is: what shrinking makes smaller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Events of the run (see [`RunReport::events`]).
    pub events: u64,
    /// Faults in the schedule other than delays.
    pub faults: usize,
    /// Scheduled delays (longer than the link's minimum).
    pub delays: usize,
    /// Messages the workload sends.
    pub messages: u64,
}

/// A shrunk counterexample.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The minimal scenario: explicit schedule, no stochastic knobs.
    pub spec: ScenarioSpec,
    /// The check that fails in the original run and in the minimal one.
    pub check: CheckId,
    /// The original run.
    pub before: Size,
    /// The minimal run.
    pub after: Size,
    /// Candidate runs tried.
    pub attempts: u32,
    /// False if `keep_going` or [`ATTEMPTS_MAX`] cut the search short.
    pub complete: bool,
}

/// Why a run could not be shrunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShrinkError {
    /// The run violates no check (or not the one asked for).
    NothingToShrink {
        /// The check asked for, if any.
        check: Option<CheckId>,
    },
    /// The seedless schedule did not reproduce the violation: a bug in the
    /// engine's fault log, reported rather than hidden.
    NotReproduced(CheckId),
    /// The run had more faults than a schedule may hold
    /// ([`SCHEDULED_FAULTS_MAX`]).
    TooManyFaults(usize),
}

impl fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShrinkError::NothingToShrink { check: Some(c) } => {
                write!(f, "the run does not violate {c} {}", c.name())
            }
            ShrinkError::NothingToShrink { check: None } => {
                write!(f, "the run violates no check: there is nothing to shrink")
            }
            ShrinkError::NotReproduced(c) => write!(
                f,
                "the run's faults, written as a schedule, no longer violate {c}: \
                 please report this with the scenario and seed"
            ),
            ShrinkError::TooManyFaults(n) => write!(
                f,
                "the run has {} faults, more than the {} a shrunk schedule may start \
                 from; shrink a smaller run (fewer messages, a shorter faults.until_ms)",
                crate::numbers::thousands(*n as u64),
                crate::numbers::thousands(SCHEDULED_FAULTS_MAX as u64)
            ),
        }
    }
}

impl std::error::Error for ShrinkError {}

/// Shrink the run of `scenario` at `seed` to a minimal seedless scenario that
/// still violates `check`. By default the check is the first unexpected
/// violation; if every violation was expected, each violated check is shrunk
/// and the smallest result kept (a delivery check before a law probe, then
/// fewest faults, then fewest events), which is the clearest lesson. `keep_going` is asked before every candidate run;
/// returning `false` ends the search with what it has.
///
/// # Errors
/// [`ShrinkError`] if the run violates nothing to shrink, or if its schedule
/// fails to reproduce it.
pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    check: Option<CheckId>,
    keep_going: &mut dyn FnMut() -> bool,
) -> Result<Shrunk, ShrinkError> {
    let (report, realized) = run::run_keeping_faults(scenario, seed);
    if realized.len() > SCHEDULED_FAULTS_MAX {
        return Err(ShrinkError::TooManyFaults(realized.len()));
    }
    let targets: Vec<CheckId> = match check.or_else(|| first_unexpected(&report)) {
        Some(c) => vec![c],
        None => violated(&report),
    };
    let targets: Vec<CheckId> = targets
        .into_iter()
        .filter(|c| report.violates(*c))
        .collect();
    if targets.is_empty() {
        return Err(ShrinkError::NothingToShrink { check });
    }
    let seedless = seedless_spec(scenario, &realized);
    let before = size_of(&seedless, &report);
    let mut best: Option<Shrunk> = None;
    let mut attempts = 0;
    for target in targets {
        let mut search = Search {
            file: scenario.file().to_string(),
            target,
            attempts: 0,
            keep_going: &mut *keep_going,
        };
        let first = search
            .attempt(&seedless)
            .ok_or(ShrinkError::NotReproduced(target))?;
        let (spec, last, complete) = search.minimise(seedless.clone(), first);
        attempts += search.attempts;
        let unexpected = !scenario.expected().contains(&target);
        let spec = with_expectation(spec, &last, unexpected, scenario.spec());
        let shrunk = Shrunk {
            before,
            after: size_of(&spec, &last),
            spec,
            check: target,
            attempts,
            complete,
        };
        // The law probe finds its violations without any fault, so a
        // delivery check's counterexample teaches more when there is one.
        let rank = |s: &Shrunk| {
            (
                s.check.is_law(),
                s.after.faults + s.after.delays,
                s.after.events,
            )
        };
        if best.as_ref().is_none_or(|b| rank(&shrunk) < rank(b)) {
            best = Some(shrunk);
        }
    }
    let mut best = best.expect("at least one target");
    best.attempts = attempts;
    Ok(best)
}

/// The first unexpected violation's check.
fn first_unexpected(report: &RunReport) -> Option<CheckId> {
    report
        .violations()
        .find(|(_, expected)| !expected)
        .map(|(v, _)| v.check)
}

/// Every violated check, once each, in check order.
fn violated(report: &RunReport) -> Vec<CheckId> {
    let mut checks: Vec<CheckId> = report.violations().map(|(v, _)| v.check).collect();
    checks.dedup();
    checks
}

/// The kinds of faults a minimal scenario needs, in a few words and in a
/// fixed order, with actors named by role (`crash consumer at
/// after-effect-before-offset-commit`, `drop broker->producer`): what a sweep
/// clusters failures by.
pub fn fault_kinds(spec: &ScenarioSpec) -> String {
    let mut kinds: Vec<String> = spec.faults.schedule.iter().map(fault_kind).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.is_empty() {
        "no fault needed".into()
    } else {
        kinds.join(" + ")
    }
}

fn fault_kind(event: &FaultEvent) -> String {
    let link = |l: &str| {
        l.split("->")
            .map(|a| role(a.trim()))
            .collect::<Vec<_>>()
            .join("->")
    };
    match event {
        FaultEvent::Crash {
            actor, at_point, ..
        } => format!("crash {} at {at_point}", role(actor)),
        FaultEvent::Drop { link: l, .. } => format!("drop {}", link(l)),
        FaultEvent::Duplicate { link: l, .. } => format!("duplicate {}", link(l)),
        FaultEvent::Delay { link: l, .. } => format!("delay {}", link(l)),
        FaultEvent::Partition { .. } => "partition".into(),
        FaultEvent::ClockJump { actor, .. } => format!("clock jump {}", role(actor)),
        FaultEvent::Expire { actor, .. } => format!("expire {}", role(actor)),
        FaultEvent::Pause { actor, .. } => format!("pause {}", role(actor)),
        FaultEvent::Rebalance { consumer, .. } => format!("rebalance {}", role(consumer)),
    }
}

/// `consumer-2` → `consumer`.
fn role(actor: &str) -> &str {
    actor
        .rsplit_once('-')
        .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()))
        .map_or(actor, |(role, _)| role)
}

/// The size of a seedless `spec` and its run.
fn size_of(spec: &ScenarioSpec, report: &RunReport) -> Size {
    let w = &spec.workload;
    let delays = spec.faults.schedule.iter().filter(|e| is_delay(e)).count();
    Size {
        events: report.events(),
        faults: spec.faults.schedule.len() - delays,
        delays,
        messages: u64::from(w.producers) * u64::from(w.messages),
    }
}

/// Keep the author's claim when the violation was unexpected (so the minimal
/// scenario fails on its own, exit 1), less expected checks the minimal run
/// no longer violates; otherwise expect exactly what the minimal run
/// violates (so it is a self-consistent lesson).
fn with_expectation(
    mut spec: ScenarioSpec,
    last: &RunReport,
    unexpected: bool,
    original: &ScenarioSpec,
) -> ScenarioSpec {
    let still: Vec<CheckId> = {
        let mut v: Vec<CheckId> = last.violations().map(|(v, _)| v.check).collect();
        v.dedup();
        v
    };
    spec.expect = if unexpected {
        match &original.expect {
            // The author's claim, less what the minimal run no longer shows:
            // running it then reports only the unexpected violation.
            Expect::Violates(checks) => {
                let kept: Vec<CheckId> = checks
                    .iter()
                    .copied()
                    .filter(|c| still.contains(c))
                    .collect();
                if kept.is_empty() {
                    Expect::Pass
                } else {
                    Expect::Violates(kept)
                }
            }
            Expect::Pass => Expect::Pass,
        }
    } else {
        Expect::Violates(
            last.violations()
                .map(|(v, _)| v.check)
                .fold(Vec::new(), |mut all, c| {
                    if !all.contains(&c) {
                        all.push(c);
                    }
                    all
                }),
        )
    };
    spec
}

/// The scenario with every stochastic knob off and `realized` as its explicit
/// schedule (partitions, already explicit, are kept).
pub fn seedless_spec(scenario: &Scenario, realized: &[Realized]) -> ScenarioSpec {
    let mut spec = scenario.spec().clone();
    spec.name = format!("{}-min", spec.name);
    spec.seed = 0;
    // One run: nothing left to explore.
    spec.explore = None;
    let net = &mut spec.network;
    net.default.loss = RatioSpec(0, 1);
    net.default.duplicate = RatioSpec(0, 1);
    net.default.delay_us_max = net.default.delay_us_min;
    // Topology takes a link's last override: keep only that one.
    let mut last: Vec<crate::scenario::spec::LinkOverride> = Vec::new();
    for link in net.links.drain(..).rev() {
        if !last.iter().any(|l| l.from == link.from && l.to == link.to) {
            last.push(link);
        }
    }
    last.reverse();
    net.links = last;
    for link in &mut net.links {
        link.loss = None;
        link.duplicate = None;
        link.delay_us_max = link.delay_us_min;
    }
    net.links
        .retain(|l| l.delay_us_min.is_some() || l.delay_us_step.is_some() || l.ordering.is_some());
    spec.faults.crash.clear();
    spec.faults.clock_jump_ms_max = None;
    spec.faults.expire = None;
    spec.faults.rebalance = None;
    spec.faults.pause.clear();
    spec.faults
        .schedule
        .retain(|e| matches!(e, FaultEvent::Partition { .. }));
    let names = scenario.actors().names();
    spec.faults
        .schedule
        .extend(realized.iter().filter_map(|r| scheduled(names, r)));
    spec
}

/// A realized fault as a schedule entry (every signal this domain sends
/// has one).
fn scheduled(names: &[String], fault: &Realized) -> Option<FaultEvent> {
    let link =
        |d: &sim_core::Datagram| format!("{}->{}", names[d.src.index()], names[d.dst.index()]);
    Some(match fault {
        Realized::Drop(d) => FaultEvent::Drop {
            link: link(d),
            nth: d.nth,
        },
        Realized::Duplicate(d) => FaultEvent::Duplicate {
            link: link(d),
            nth: d.nth,
        },
        Realized::Delay(d) => FaultEvent::Delay {
            link: link(&d.datagram),
            nth: d.datagram.nth,
            delay_us: d.delay.0,
            copy: d.copy,
        },
        Realized::Crash(c) => FaultEvent::Crash {
            actor: names[c.actor.index()].clone(),
            at_point: c.point.clone(),
            nth: c.nth,
        },
        Realized::Pause(p) => FaultEvent::Pause {
            actor: names[p.actor.index()].clone(),
            from_ms: p.from.as_us() / 1_000,
            to_ms: p.to.as_us() / 1_000,
        },
        Realized::Signal(s) if *s.kind == EXPIRE => FaultEvent::Expire {
            actor: names[s.about.index()].clone(),
            at_ms: s.at.as_us() / 1_000,
        },
        Realized::Signal(s) if *s.kind == REBALANCE => FaultEvent::Rebalance {
            consumer: names[s.about.index()].clone(),
            at_ms: s.at.as_us() / 1_000,
        },
        Realized::Signal(_) => return None,
        Realized::ClockJump(j) => FaultEvent::ClockJump {
            actor: names[j.actor.index()].clone(),
            at_ms: j.at.as_us() / 1_000,
            by_ms: j.by_us / 1_000,
        },
    })
}

/// The greedy search.
struct Search<'a> {
    file: String,
    target: CheckId,
    attempts: u32,
    keep_going: &'a mut dyn FnMut() -> bool,
}

impl Search<'_> {
    /// Run a candidate; its report if it is valid and still violates the
    /// target check.
    fn attempt(&mut self, spec: &ScenarioSpec) -> Option<RunReport> {
        self.attempts += 1;
        let scenario = Scenario::from_spec(&self.file, spec.clone()).ok()?;
        let report = run::run_for_checks(&scenario, 0);
        report.violates(self.target).then_some(report)
    }

    fn may_continue(&mut self) -> bool {
        self.attempts < ATTEMPTS_MAX && (self.keep_going)()
    }

    /// Apply the first successful candidate of the first pass that has one,
    /// and start over, until no pass has one (or the search must stop).
    /// Returns the spec, its run, and whether the search ran to the end.
    fn minimise(
        &mut self,
        mut spec: ScenarioSpec,
        mut last: RunReport,
    ) -> (ScenarioSpec, RunReport, bool) {
        let passes: [fn(&ScenarioSpec) -> Vec<Edit>; 5] = [
            |s| remove_chunks(s, true),
            |s| remove_chunks(s, false),
            earlier_positions,
            first_actors,
            smaller_workloads,
        ];
        'improve: loop {
            for pass in passes {
                for edit in pass(&spec) {
                    if !self.may_continue() {
                        return (spec, last, false);
                    }
                    let candidate = edit.apply(&spec);
                    if let Some(report) = self.attempt(&candidate) {
                        (spec, last) = (candidate, report);
                        continue 'improve;
                    }
                }
            }
            return (spec, last, true);
        }
    }
}

fn is_delay(e: &FaultEvent) -> bool {
    matches!(e, FaultEvent::Delay { .. })
}

/// One candidate change to a spec. Passes list edits, small, and a
/// candidate spec is built only when it is tried: a long run's schedule can
/// hold tens of thousands of delays, too many to copy once per candidate.
enum Edit {
    /// Remove these schedule entries (indices, ascending).
    Remove(Vec<usize>),
    /// Replace one schedule entry.
    Replace(usize, FaultEvent),
    /// Another workload.
    Workload(WorkloadSpec),
}

impl Edit {
    fn apply(&self, spec: &ScenarioSpec) -> ScenarioSpec {
        let mut c = spec.clone();
        match self {
            Edit::Remove(gone) => {
                let mut i = 0;
                c.faults.schedule.retain(|_| {
                    let keep = gone.binary_search(&i).is_err();
                    i += 1;
                    keep
                });
            }
            Edit::Replace(i, event) => c.faults.schedule[*i] = event.clone(),
            Edit::Workload(w) => c.workload = w.clone(),
        }
        c
    }
}

/// Remove a chunk of the delays (`delays`) or of the other faults: first
/// all of them, then halves, quarters, … down to one at a time.
fn remove_chunks(spec: &ScenarioSpec, delays: bool) -> Vec<Edit> {
    let schedule = &spec.faults.schedule;
    let picked: Vec<usize> = (0..schedule.len())
        .filter(|&i| is_delay(&schedule[i]) == delays)
        .collect();
    let mut edits = Vec::new();
    let mut chunk = picked.len();
    while chunk >= 1 {
        edits.extend(picked.chunks(chunk).map(|g| Edit::Remove(g.to_vec())));
        if chunk == 1 {
            break;
        }
        chunk = chunk.div_ceil(2).min(chunk - 1);
    }
    edits
}

/// Candidates with one fault moved to an earlier datagram or pass (the
/// first, half-way, one earlier), one partition half as long, or one delay
/// shortened towards the link minimum.
fn earlier_positions(spec: &ScenarioSpec) -> Vec<Edit> {
    let mut edits = Vec::new();
    for (i, event) in spec.faults.schedule.iter().enumerate() {
        for smaller in smaller_than(position(event)) {
            let mut moved = event.clone();
            set_position(&mut moved, smaller);
            edits.push(Edit::Replace(i, moved));
        }
        let mut shorter = event.clone();
        match &mut shorter {
            FaultEvent::Partition { from_ms, to_ms, .. } if *to_ms - *from_ms > 1 => {
                *to_ms = *from_ms + (*to_ms - *from_ms) / 2;
            }
            FaultEvent::Delay { link, delay_us, .. } => {
                let min = link_delay_min(spec, link);
                if *delay_us <= min + 1 {
                    continue;
                }
                *delay_us = min + (*delay_us - min) / 2;
            }
            _ => continue,
        }
        edits.push(Edit::Replace(i, shorter));
    }
    edits
}

/// The smallest delay of `link` (`"a->b"`): its override's, else the
/// default link's. Topology takes a link's last override.
fn link_delay_min(spec: &ScenarioSpec, link: &str) -> u64 {
    let (from, to) = link.split_once("->").unwrap_or((link, ""));
    spec.network
        .links
        .iter()
        .rev()
        .find(|l| l.from == from.trim() && l.to == to.trim())
        .and_then(|l| l.delay_us_min)
        .unwrap_or(spec.network.default.delay_us_min)
}

/// `1`, `n / 2` and `n - 1`, each only if smaller than `n` and new.
fn smaller_than(n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for m in [1, n / 2, n.saturating_sub(1)] {
        if m >= 1 && m < n && !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

fn position(event: &FaultEvent) -> u64 {
    match event {
        FaultEvent::Crash { nth, .. } => u64::from(*nth),
        FaultEvent::Drop { nth, .. }
        | FaultEvent::Duplicate { nth, .. }
        | FaultEvent::Delay { nth, .. } => *nth,
        FaultEvent::Partition { .. }
        | FaultEvent::ClockJump { .. }
        | FaultEvent::Expire { .. }
        | FaultEvent::Rebalance { .. }
        | FaultEvent::Pause { .. } => 1,
    }
}

fn set_position(event: &mut FaultEvent, to: u64) {
    match event {
        FaultEvent::Crash { nth, .. } => *nth = u32::try_from(to).unwrap_or(u32::MAX),
        FaultEvent::Drop { nth, .. }
        | FaultEvent::Duplicate { nth, .. }
        | FaultEvent::Delay { nth, .. } => *nth = to,
        FaultEvent::Partition { .. }
        | FaultEvent::ClockJump { .. }
        | FaultEvent::Expire { .. }
        | FaultEvent::Rebalance { .. }
        | FaultEvent::Pause { .. } => {}
    }
}

/// Candidates with one fault moved to the first actor of its role
/// (`producer-2` → `producer-1`), so that the workload can lose the others.
fn first_actors(spec: &ScenarioSpec) -> Vec<Edit> {
    let mut edits = Vec::new();
    for (i, event) in spec.faults.schedule.iter().enumerate() {
        let moved = match event {
            FaultEvent::Crash {
                actor,
                at_point,
                nth,
            } => FaultEvent::Crash {
                actor: first_of_role(actor),
                at_point: at_point.clone(),
                nth: *nth,
            },
            FaultEvent::Drop { link, nth } => FaultEvent::Drop {
                link: first_on_link(link),
                nth: *nth,
            },
            FaultEvent::Duplicate { link, nth } => FaultEvent::Duplicate {
                link: first_on_link(link),
                nth: *nth,
            },
            FaultEvent::Delay {
                link,
                nth,
                delay_us,
                copy,
            } => FaultEvent::Delay {
                link: first_on_link(link),
                nth: *nth,
                delay_us: *delay_us,
                copy: *copy,
            },
            FaultEvent::ClockJump {
                actor,
                at_ms,
                by_ms,
            } => FaultEvent::ClockJump {
                actor: first_of_role(actor),
                at_ms: *at_ms,
                by_ms: *by_ms,
            },
            FaultEvent::Expire { actor, at_ms } => FaultEvent::Expire {
                actor: first_of_role(actor),
                at_ms: *at_ms,
            },
            FaultEvent::Pause {
                actor,
                from_ms,
                to_ms,
            } => FaultEvent::Pause {
                actor: first_of_role(actor),
                from_ms: *from_ms,
                to_ms: *to_ms,
            },
            FaultEvent::Rebalance { consumer, at_ms } => FaultEvent::Rebalance {
                consumer: first_of_role(consumer),
                at_ms: *at_ms,
            },
            FaultEvent::Partition { .. } => continue,
        };
        if &moved != event {
            edits.push(Edit::Replace(i, moved));
        }
    }
    edits
}

/// `producer-3` → `producer-1`; other names unchanged.
fn first_of_role(actor: &str) -> String {
    match actor.rsplit_once('-') {
        Some((role, n)) if n.chars().all(|c| c.is_ascii_digit()) && n != "1" => {
            format!("{role}-1")
        }
        _ => actor.to_string(),
    }
}

fn first_on_link(link: &str) -> String {
    link.split("->")
        .map(|a| first_of_role(a.trim()))
        .collect::<Vec<_>>()
        .join("->")
}

/// Candidates with fewer messages, producers or partitions.
fn smaller_workloads(spec: &ScenarioSpec) -> Vec<Edit> {
    let w = &spec.workload;
    let fewer = |n: u32| {
        smaller_than(u64::from(n))
            .into_iter()
            .map(move |m| u32::try_from(m).unwrap_or(n))
    };
    let mut edits = Vec::new();
    for messages in fewer(w.messages) {
        edits.push(Edit::Workload(WorkloadSpec {
            messages,
            ..w.clone()
        }));
    }
    for producers in fewer(w.producers) {
        edits.push(Edit::Workload(WorkloadSpec {
            producers,
            ..w.clone()
        }));
    }
    for partitions in fewer(w.partitions) {
        edits.push(Edit::Workload(WorkloadSpec {
            partitions,
            ..w.clone()
        }));
    }
    edits
}

/// The minimal scenario as a file: a comment saying where it comes from and
/// how much smaller it is, then the resolved RON.
pub fn min_file(shrunk: &Shrunk, source: &str, seed: u64, version: &str) -> String {
    let (b, a) = (shrunk.before, shrunk.after);
    let plural = |n: u64, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let size = |s: Size| {
        format!(
            "{}, {} and {}",
            plural(s.events, "event"),
            plural(s.faults as u64, "fault"),
            plural(s.delays as u64, "delay"),
        )
    };
    let mut out = format!(
        "// Shrunk by eosim {version} from {source} at seed {seed}.\n\
         // {} became {}.\n\
         // Every stochastic knob is off: any seed gives this very run.\n\
         // It violates {}.\n",
        size(b),
        size(a),
        shrunk.check.heading(),
    );
    if !shrunk.complete {
        out.push_str("// The search was cut short: a smaller run may exist.\n");
    }
    out.push_str(&compact_ron(&shrunk.spec));
    out
}

/// A scenario as a short file: the sections that differ from their
/// defaults (the workload, network and faults always), each on one line,
/// and the schedule one fault per line.
pub fn compact_ron(spec: &ScenarioSpec) -> String {
    use crate::scenario::spec::LimitsSpec;
    let mut out = String::from("Scenario(\n");
    let mut field = |name: &str, value: String| {
        out.push_str(&format!("    {name}: {value},\n"));
    };
    field("name", one_line(&spec.name));
    if spec.seed != 0 {
        field("seed", spec.seed.to_string());
    }
    field("model", one_line(&spec.model));
    field("workload", one_line(&spec.workload));
    if spec.producer != Default::default() {
        field("producer", one_line(&spec.producer));
    }
    if spec.broker != Default::default() {
        field("broker", one_line(&spec.broker));
    }
    if spec.consumer != Default::default() {
        field("consumer", one_line(&spec.consumer));
    }
    if let Some(recovery) = &spec.recovery {
        field("recovery", one_line(recovery));
    }
    field("network", network_ron(&spec.network));
    let f = &spec.faults;
    let mut faults = format!(
        "(until_ms: {}, restart_after_ms: {}, ",
        f.until_ms, f.restart_after_ms
    );
    if !f.crash.is_empty() {
        let knobs: Vec<String> = f.crash.iter().map(crash_knob_ron).collect();
        faults.push_str(&format!("crash: [{}], ", knobs.join(", ")));
    }
    if let Some(max) = f.clock_jump_ms_max {
        faults.push_str(&format!("clock_jump_ms_max: {max}, "));
    }
    if let Some(r) = f.expire {
        faults.push_str(&format!("expire: Ratio({}, {}), ", r.0, r.1));
    }
    if let Some(r) = f.rebalance {
        faults.push_str(&format!("rebalance: Ratio({}, {}), ", r.0, r.1));
    }
    if !f.pause.is_empty() {
        let knobs: Vec<String> = f.pause.iter().map(pause_knob_ron).collect();
        faults.push_str(&format!("pause: [{}], ", knobs.join(", ")));
    }
    if f.schedule.is_empty() {
        faults.push_str("schedule: [])");
    } else {
        faults.push_str("schedule: [\n");
        for event in &f.schedule {
            faults.push_str(&format!("        {},\n", one_line(event)));
        }
        faults.push_str("    ])");
    }
    field("faults", faults);
    if spec.limits != LimitsSpec::default() {
        field("limits", one_line(&spec.limits));
    }
    field("expect", one_line(&spec.expect));
    out.push_str(")\n");
    out
}

/// The network, leaving out what is at its default (no loss, no
/// duplication, reordering), each link override on a line of its own.
fn network_ron(net: &crate::scenario::spec::NetworkSpec) -> String {
    use crate::scenario::spec::{LinkSpec, OrderingSpec};
    let d = &net.default;
    let plain = LinkSpec::default();
    let mut parts = Vec::new();
    if d.loss != plain.loss {
        parts.push(format!("loss: Ratio({}, {})", d.loss.0, d.loss.1));
    }
    if d.duplicate != plain.duplicate {
        parts.push(format!(
            "duplicate: Ratio({}, {})",
            d.duplicate.0, d.duplicate.1
        ));
    }
    parts.push(format!("delay_us_min: {}", d.delay_us_min));
    parts.push(format!("delay_us_max: {}", d.delay_us_max));
    if d.delay_us_step != plain.delay_us_step {
        parts.push(format!("delay_us_step: {}", d.delay_us_step));
    }
    if d.ordering != OrderingSpec::default() {
        parts.push(format!("ordering: {}", one_line(&d.ordering)));
    }
    let mut out = format!("(\n        default: ({}),\n", parts.join(", "));
    if !net.links.is_empty() {
        out.push_str("        links: [\n");
        for link in &net.links {
            out.push_str(&format!("            {},\n", one_line(link)));
        }
        out.push_str("        ],\n");
    }
    out.push_str("    )");
    out
}

/// A crash knob as people write it: `(actor: "consumer-1", ratio: Ratio(1, 10))`.
fn crash_knob_ron(knob: &crate::scenario::spec::CrashKnobSpec) -> String {
    let mut parts = Vec::new();
    if let Some(actor) = &knob.actor {
        parts.push(format!("actor: {}", one_line(actor)));
    }
    if let Some(point) = &knob.at_point {
        parts.push(format!("at_point: {}", one_line(point)));
    }
    parts.push(format!("ratio: Ratio({}, {})", knob.ratio.0, knob.ratio.1));
    format!("({})", parts.join(", "))
}

fn pause_knob_ron(knob: &crate::scenario::spec::PauseKnobSpec) -> String {
    let actor = knob
        .actor
        .as_ref()
        .map(|a| format!("actor: {}, ", one_line(a)))
        .unwrap_or_default();
    let r = knob.ratio;
    format!(
        "({actor}ratio: Ratio({}, {}), for_ms: {})",
        r.0, r.1, knob.for_ms
    )
}

/// A value as RON on one line, as people write it.
fn one_line<T: serde::Serialize>(value: &T) -> String {
    let config = ron::ser::PrettyConfig::new()
        .compact_structs(true)
        .compact_arrays(true);
    ron::ser::to_string_pretty(value, config).expect("a spec always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compact_file_keeps_every_fault_knob() {
        use crate::matrix::{FaultClass, combined_spec};
        for model in [
            crate::protocols::registry().get("M2").unwrap(),
            crate::protocols::registry().get("M12LeaseOnly").unwrap(),
        ] {
            // A broker that rebalances its group flushes every write: the
            // two classes are kept in turn.
            for left_out in [FaultClass::Storage, FaultClass::Rebalance] {
                let faults: Vec<FaultClass> = FaultClass::ALL
                    .into_iter()
                    .filter(|f| f.applies_to(model) && *f != left_out)
                    .collect();
                let mut spec = combined_spec("all", model, &faults);
                spec.faults.expire = Some(crate::scenario::spec::RatioSpec(1, 3));
                let text = compact_ron(&spec);
                let back =
                    Scenario::parse("all.ron", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(back.spec(), &spec, "{text}");
            }
        }
    }

    #[test]
    fn fault_kinds_name_actors_by_role_in_a_fixed_order() {
        assert_eq!(role("consumer-12"), "consumer");
        assert_eq!(role("broker"), "broker");
        assert_eq!(role("my-db"), "my-db");
        let text = r#"Scenario(name: "k", model: M2, workload: (producers: 2),
            faults: (schedule: [
                Drop(link: "producer-2->broker", nth: 1),
                Crash(actor: "consumer-1", at_point: "after-effect-before-offset-commit", nth: 1),
                Drop(link: "producer-1->broker", nth: 4),
            ]),
            expect: Pass)"#;
        let s = Scenario::parse("k.ron", text).unwrap();
        assert_eq!(
            fault_kinds(s.spec()),
            "crash consumer at after-effect-before-offset-commit + drop producer->broker"
        );
    }

    #[test]
    fn chunks_shrink_from_all_to_one_at_a_time() {
        let text = r#"Scenario(name: "c", model: M2,
            faults: (schedule: [
                Drop(link: "producer-1->broker", nth: 1),
                Drop(link: "producer-1->broker", nth: 2),
                Drop(link: "producer-1->broker", nth: 3),
            ]),
            expect: Pass)"#;
        let s = Scenario::parse("c.ron", text).unwrap();
        let sizes: Vec<usize> = remove_chunks(s.spec(), false)
            .iter()
            .map(|e| e.apply(s.spec()).faults.schedule.len())
            .collect();
        assert_eq!(sizes, [0, 1, 2, 2, 2, 2]);
        assert!(remove_chunks(s.spec(), true).is_empty(), "no delays");
        assert_eq!(smaller_than(9), [1, 4, 8]);
        assert_eq!(smaller_than(2), [1]);
        assert!(smaller_than(1).is_empty());
    }
}
