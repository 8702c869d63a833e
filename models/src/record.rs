//! Recording a run for reports: the trace, every observation, and after each
//! step of the engine the durable and volatile state of the actors that
//! acted in it, described in words.
//!
//! Recording re-runs a scenario at a seed; it is only done when a report is
//! written. It observes the engine from outside, after each step (through
//! [`sim_core::Sim::run_until`]), so the engine's fast path is the same code
//! with or without it, and a recorded run has the digest of an unrecorded one.

use std::ops::Range;

use sim_core::{ActorId, Observed, RunEnd, Seeded, Sim};

use crate::history::Obs;
use crate::roles::Node;
use crate::run::{self, RunReport};
use crate::scenario::Scenario;
use crate::scenario::memory::{self, TooLarge};

/// An actor's state after a step, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorState {
    /// Whether it is running (false while crashed).
    pub up: bool,
    /// What survives a crash.
    pub durable: String,
    /// What a crash loses (`None` while crashed).
    pub volatile: Option<String>,
}

/// One step of the engine: the trace events and observations it produced,
/// and the new state of each actor that acted in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// Positions in [`RunReport::trace`].
    pub events: Range<usize>,
    /// Positions in [`Recording::history`].
    pub observations: Range<usize>,
    /// The state after the step of every actor that acted in it, by id.
    pub states: Vec<(ActorId, ActorState)>,
}

/// A run recorded in full.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The run, with its trace.
    pub report: RunReport,
    /// Every observation, in the order it was made.
    pub history: Vec<Observed<Obs>>,
    /// Every step that produced an event or an observation, in order.
    pub steps: Vec<StepRecord>,
}

/// Run `scenario` at `seed` with its trace, its history and per-step actor
/// states recorded.
pub fn record(scenario: &Scenario, seed: u64) -> Recording {
    record_states_in(scenario, seed, 0..usize::MAX)
}

/// Record `scenario` at `seed` for a report: with every actor state if the
/// run has at most `full_max` trace events, else with the states of the
/// window `shown` picks from a first, cheaper recording without states.
///
/// # Errors
/// [`TooLarge`] if the report would not fit the memory budget
/// ([`crate::scenario::memory`]); nothing is recorded then.
pub fn record_for_report(
    scenario: &Scenario,
    seed: u64,
    full_max: usize,
    shown: impl FnOnce(&Recording) -> Range<usize>,
) -> Result<Recording, TooLarge> {
    let trace_events = run::run(scenario, seed, false).end.trace_events;
    memory::report_fits(trace_events)?;
    if usize::try_from(trace_events).is_ok_and(|n| n <= full_max) {
        return Ok(record(scenario, seed));
    }
    let bare = record_states_in(scenario, seed, 0..0);
    Ok(record_states_in(scenario, seed, shown(&bare)))
}

/// Like [`record`], but describe actor states only for the steps whose
/// trace events fall in `window` (positions in the trace): describing every
/// state of a long run costs more than the run. The first step in the
/// window describes every actor, so the window starts with a full picture.
pub fn record_states_in(scenario: &Scenario, seed: u64, window: Range<usize>) -> Recording {
    let (end, sim, steps) = recorded_run(scenario, seed, &window, u64::MAX);
    let report = run::report_of(scenario, seed, end, &sim);
    Recording {
        report,
        history: sim.history().to_vec(),
        steps,
    }
}

/// Record the trace and history of the run that `judged` reports, without
/// actor states, for the causal story of a run already checked.
///
/// The checks are not run again: the recorded run is the same run, which
/// its end (digest, counters, reason) confirms. Should the two ends ever
/// differ, the recorded run is judged on its own, as [`record_states_in`]
/// does.
pub fn record_judged(scenario: &Scenario, judged: RunReport) -> Recording {
    let (end, sim, steps) = recorded_run(scenario, judged.seed, &(0..0), u64::MAX);
    let mut covered = end;
    covered.digest = end.digest.covering(sim.history());
    debug_assert_eq!(covered, judged.end, "a run repeated at its seed differs");
    let report = if covered == judged.end {
        RunReport {
            trace: sim.trace().to_vec(),
            ..judged
        }
    } else {
        run::report_of(scenario, judged.seed, end, &sim)
    };
    Recording {
        report,
        history: sim.history().to_vec(),
        steps,
    }
}

/// Run `scenario` at `seed` once, judged, with its trace and history
/// recorded for causal stories (no actor states): one run where a plain
/// run followed by [`record_judged`] takes two, for a run expected to
/// break. The report is the run's own, without its trace (as a plain
/// run's); the recording's report has it.
///
/// # Errors
/// [`TooLarge`] if the trace has more events than a story may keep
/// within the memory budget: the recording was dropped once it passed
/// that, and the report is given all the same.
pub fn run_for_story(scenario: &Scenario, seed: u64) -> (RunReport, Result<Recording, TooLarge>) {
    let window = 0..0;
    let (end, sim, steps) = recorded_run(scenario, seed, &window, memory::reported_events_max());
    let mut report = run::report_of(scenario, seed, end, &sim);
    let trace = std::mem::take(&mut report.trace);
    let recording = memory::report_fits(end.trace_events).map(|()| Recording {
        report: RunReport {
            trace,
            ..report.clone()
        },
        history: sim.history().to_vec(),
        steps,
    });
    (report, recording)
}

/// Run `scenario` at `seed` with its trace recorded (dropped past
/// `keep_at_most` events, see [`Sim::record_trace_at_most`]), describing
/// actor states for the steps in `window`; the engine's end, the engine,
/// and every step (none once the trace was dropped).
fn recorded_run(
    scenario: &Scenario,
    seed: u64,
    window: &Range<usize>,
    keep_at_most: u64,
) -> (RunEnd, Sim<Node, Seeded>, Vec<StepRecord>) {
    let mut sim = scenario.sim(Seeded::new(seed));
    sim.record_trace_at_most(keep_at_most);
    let mut steps = Vec::new();
    let mut seen = (0, 0);
    let mut inside = false;
    let mut observe = |sim: &Sim<Node, Seeded>, steps: &mut Vec<StepRecord>| {
        if sim.trace_given_up() {
            std::mem::take(steps);
            return;
        }
        if let Some(step) = next_step(sim, &mut seen, window, &mut inside) {
            steps.push(step);
        }
    };
    let end = sim.run_until(|sim| {
        observe(sim, &mut steps);
        false
    });
    // The last step, when a bound or quiet ends the loop before the check.
    observe(&sim, &mut steps);
    (end, sim, steps)
}

/// The step since `seen` (trace events, observations), if it did anything.
/// `inside` says whether an earlier step was already in `window`.
fn next_step(
    sim: &Sim<Node, Seeded>,
    seen: &mut (usize, usize),
    window: &Range<usize>,
    inside: &mut bool,
) -> Option<StepRecord> {
    let events = seen.0..sim.trace().len();
    let observations = seen.1..sim.history().len();
    *seen = (events.end, observations.end);
    if events.is_empty() && observations.is_empty() {
        return None;
    }
    let in_window = events.start < window.end && window.start < events.end.max(events.start + 1);
    if !in_window {
        return Some(StepRecord {
            events,
            observations,
            states: Vec::new(),
        });
    }
    let mut actors: Vec<ActorId> = sim.trace()[events.clone()]
        .iter()
        .map(|e| e.actor)
        .chain(sim.history()[observations.clone()].iter().map(|o| o.actor))
        .collect();
    if events.start == 0 || !*inside {
        // The first step also started every actor; the first step in the
        // window shows every actor.
        actors.extend(
            (0..sim.names().len())
                .map(|i| ActorId(u32::try_from(i).expect("fewer than 2^32 actors"))),
        );
    }
    *inside = true;
    actors.sort_unstable();
    actors.dedup();
    let states = actors.into_iter().map(|a| (a, state(sim, a))).collect();
    Some(StepRecord {
        events,
        observations,
        states,
    })
}

fn state(sim: &Sim<Node, Seeded>, actor: ActorId) -> ActorState {
    let volatile = sim.volatile(actor).map(crate::roles::NodeVol::describe);
    ActorState {
        up: volatile.is_some(),
        durable: sim.durable(actor).describe(),
        volatile,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_run_is_the_same_run_and_accounts_for_every_event() {
        let text = r#"Scenario(name: "r", model: M0Naive, workload: (messages: 5),
            faults: (schedule: [Crash(actor: "consumer-1", at_point: "after-effect-before-status-update", nth: 2)]),
            expect: Violates([C3, C8, C15]))"#;
        let scenario = Scenario::parse("r.ron", text).unwrap();
        let plain = run::run(&scenario, 0, true);
        let rec = record(&scenario, 0);
        assert_eq!(rec.report.end, plain.end);
        assert_eq!(rec.report.trace, plain.trace);
        let covered: usize = rec.steps.iter().map(|s| s.events.len()).sum();
        assert_eq!(covered, rec.report.trace.len());
        let crashed = rec
            .steps
            .iter()
            .flat_map(|s| &s.states)
            .any(|(_, st)| !st.up && st.volatile.is_none());
        assert!(crashed, "the crash shows as an actor that is down");
    }
}
