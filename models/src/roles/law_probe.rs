//! The law probes, checked literally on the states a run reaches.
//!
//! Before a consumer processes a record, whatever its model claims, the
//! probe clones its durable state `s` and compares, with `Eq`:
//! - **C14** idempotence: processing twice, `h(h(s, m), m)`, against once,
//!   `h(s, m)`;
//! - **C15** the seeds' law: for each crash point the clean attempt passes, an
//!   attempt forced to crash there, then the model's compensation, then a
//!   clean retry, `f(f(s, false), true)`, against one clean attempt
//!   `f(s, true)`.
//!
//! The retry comes at once, and, when the handler reads its clock, at each
//! moment a retry can really come ([`RetryPlan`]): after the run's
//! timeouts, and just past each horizon of the protocol's state (M5's
//! dedup window, M11's key retention) that a retry can still reach. A
//! retry at a later moment passes the law when it equals a clean attempt
//! made either when the failed attempt was, or when the retry is.
//!
//! The memory a crash loses is lost in the probe too: the clean attempt
//! and the failed attempt start from the consumer's memory, the retry
//! from an empty one (so M3-memory's seen-set shows why it breaks).
//!
//! A difference is a [`LawFailure`] naming the crash point, the retry's
//! moment and the state, field by field. The probe never touches the run
//! itself: it works on clones, with a gate that records crash points
//! instead of asking the choice source.

use sim_core::{Crashed, SimDuration, SimTime, Step, Store};
use smallvec::SmallVec;

use crate::history::{Law, LawFailure, Obs, ProbeReport, RetryAt, RetryReason, StateField};
use crate::protocols::{Gate, Model, Record};
use crate::roles::ConsumerDb;
use crate::vocab::{IdSet, MsgKey};

/// When a retry can come in a run, read from its scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RetryPlan {
    /// The run's timeouts after which a retry comes, each named (`the
    /// producer's retry timeout`).
    pub timeouts: Vec<(SimDuration, &'static str)>,
    /// The slowest way back once nothing holds a message up: the longest
    /// timeout, a round trip on the slowest link, a record's processing.
    pub slack: SimDuration,
    /// When the run's faults can no longer hold a message up (the heal, or
    /// the end of the last scheduled partition or pause), plus how far
    /// ahead a clock can jump; `None`: the scenario injects no fault.
    pub faults_end: Option<SimTime>,
}

impl RetryPlan {
    /// Whether a retry `after` a failed attempt at true time `now` can
    /// come: within the slack of the attempt, or within the slack of the
    /// faults' end.
    fn reaches(&self, now: SimTime, after: SimDuration) -> bool {
        after <= self.slack
            || self
                .faults_end
                .is_some_and(|end| now + after <= end + self.slack)
    }

    /// The moments the probe retries at, for a failed attempt at true time
    /// `now` on a protocol whose state has `horizons`: at once first, then
    /// each later moment a retry can reach, each once.
    fn moments(&self, now: SimTime, horizons: &[crate::protocols::Horizon]) -> Vec<RetryAt> {
        let timeouts = self.timeouts.iter().map(|(after, what)| RetryAt {
            after: *after,
            why: Some(RetryReason::Timeout(what)),
        });
        let past = horizons.iter().map(|h| RetryAt {
            after: h.lasts + SimDuration::from_ms(1),
            why: Some(RetryReason::PastHorizon(h.name, h.lasts)),
        });
        let mut moments = vec![RetryAt::default()];
        for m in past.chain(timeouts) {
            if self.reaches(now, m.after) && moments.iter().all(|k| k.after != m.after) {
                moments.push(m);
            }
        }
        // Earliest first: a failure names the first moment that breaks the
        // law (just past a window, rather than a later timeout).
        moments.sort_by_key(|m| m.after);
        moments
    }
}

/// The crash points an attempt passed, in order: inline for the few a
/// handler usually passes (the probe runs several attempts before every
/// record), on the heap for a handler that passes more.
#[derive(Clone, Default)]
struct Passed {
    points: SmallVec<[&'static str; 8]>,
}

impl Passed {
    fn push(&mut self, point: &'static str) {
        self.points.push(point);
    }

    fn as_slice(&self) -> &[&'static str] {
        &self.points
    }
}

/// A gate that records the crash points passed and fires the `crash_at`-th;
/// time stands still at `now`, and the gate notes whether the handler read
/// it.
#[derive(Default)]
struct ProbeGate {
    crash_at: Option<usize>,
    passed: Passed,
    now: SimTime,
    read_clock: std::cell::Cell<bool>,
}

impl Gate for ProbeGate {
    fn crash_point(&mut self, _: MsgKey, point: &'static str) -> Step {
        self.passed.push(point);
        if self.crash_at == Some(self.passed.points.len() - 1) {
            Err(Crashed { point })
        } else {
            Ok(())
        }
    }

    fn effect(&mut self, _: MsgKey, _: u32) {}

    fn now(&self) -> SimTime {
        self.read_clock.set(true);
        self.now
    }

    fn observe(&mut self, _: Obs) {}
}

/// What one attempt did: the crash points it passed, and whether it read
/// the clock.
struct Attempt {
    passed: Passed,
    read_clock: bool,
}

/// One attempt of the model's processing on `db` and `memory`.
fn attempt(
    model: Model,
    db: &mut ConsumerDb,
    memory: &mut IdSet,
    rec: Record,
    crash_at: Option<usize>,
    now: SimTime,
) -> Attempt {
    let mut gate = ProbeGate {
        crash_at,
        now,
        ..ProbeGate::default()
    };
    let unit = model.unit();
    let outcome = unit.process(&mut Store::new(db), memory, rec, None, &mut gate);
    debug_assert_eq!(
        outcome.is_err(),
        crash_at.is_some_and(|k| k < gate.passed.points.len())
    );
    Attempt {
        passed: gate.passed,
        read_clock: gate.read_clock.get(),
    }
}

/// Databases the probe clones into, kept between records so that each
/// probe reuses their allocations; and the failures whose state was
/// already shown.
pub struct Scratch {
    clean: ConsumerDb,
    twice: ConsumerDb,
    retried: ConsumerDb,
    clean_later: ConsumerDb,
    /// The (law, crash point) pairs whose first failure carries its state:
    /// reports show the first failure of each, and a field-by-field diff
    /// costs a pass over every table, so later ones carry none.
    shown: Vec<(Law, Option<&'static str>)>,
}

impl std::hash::Hash for Scratch {
    /// Only what decides later probes, as `Debug` shows.
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.shown.hash(h);
    }
}

impl std::fmt::Debug for Scratch {
    /// Only what decides later probes: the scratch databases are
    /// overwritten before each use, so they are not part of the state.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("shown", &self.shown)
            .finish_non_exhaustive()
    }
}

impl Scratch {
    /// The clean attempt a retry is compared with: made when the retry
    /// came (`later`), or when the failed attempt was.
    fn clean_one(&self, later: bool) -> &ConsumerDb {
        if later {
            &self.clean_later
        } else {
            &self.clean
        }
    }

    /// The state to attach to a failure of `law` at `point`: `diff()` the
    /// first time, nothing after.
    fn state_once(
        &mut self,
        law: Law,
        point: Option<&'static str>,
        diff: impl FnOnce(&Scratch) -> Vec<StateField>,
    ) -> Vec<StateField> {
        if self.shown.contains(&(law, point)) {
            return Vec::new();
        }
        self.shown.push((law, point));
        diff(self)
    }
}

impl Default for Scratch {
    /// Empty databases, which the first probe grows (a probe copies into
    /// each before it reads it), and no failure shown yet.
    fn default() -> Self {
        let empty = ConsumerDb::new(0, 0);
        Scratch {
            clean: empty.clone(),
            twice: empty.clone(),
            retried: empty.clone(),
            clean_later: empty,
            shown: Vec::new(),
        }
    }
}

impl Clone for Scratch {
    /// What decides later probes (the failures already shown), with empty
    /// databases: a probe overwrites each before it reads it, so copying
    /// them (an exploring search copies every state once per successor)
    /// would be wasted.
    fn clone(&self) -> Self {
        Scratch {
            shown: self.shown.clone(),
            ..Scratch::default()
        }
    }

    /// Keeps this scratch's own databases, for the same reason.
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later is either copied here or
        // said to be scratch.
        let Scratch {
            clean: _,
            twice: _,
            retried: _,
            clean_later: _,
            shown,
        } = source;
        self.shown.clone_from(shown);
    }
}

/// What the consumer had when the probe ran: its durable state and its
/// memory, at time `now` on its clock.
#[derive(Clone, Copy)]
pub struct Reached<'a> {
    /// The durable state `s`.
    pub db: &'a ConsumerDb,
    /// The memory a crash loses.
    pub memory: &'a IdSet,
    /// The consumer's clock, as the handler reads it (a clock jump moves
    /// it).
    pub now: SimTime,
    /// The true time, which says whether a retry can still come.
    pub true_now: SimTime,
}

/// Probe both laws for processing `rec` from `reached`, retrying at the
/// moments `plan` allows.
pub fn probe(
    model: Model,
    reached: Reached<'_>,
    rec: Record,
    scratch: &mut Scratch,
    plan: &RetryPlan,
) -> ProbeReport {
    let Reached {
        db: s,
        memory,
        now,
        true_now,
    } = reached;
    scratch.clean.clone_from(s);
    let mut clean_memory = memory.clone();
    let first = attempt(model, &mut scratch.clean, &mut clean_memory, rec, None, now);
    let mut failures = Vec::new();

    scratch.twice.clone_from(&scratch.clean);
    attempt(model, &mut scratch.twice, &mut clean_memory, rec, None, now);
    if scratch.twice != scratch.clean {
        let (twice, clean) = (&scratch.twice, &scratch.clean);
        let difference = describe(twice, clean, "after processing twice", "after once");
        let state = scratch.state_once(Law::Idempotence, None, |d| {
            ConsumerDb::field_diff([s, &d.clean, &d.twice], rec.key, rec.dedup_id)
        });
        failures.push(LawFailure {
            law: Law::Idempotence,
            crash_point: None,
            retry: RetryAt::default(),
            difference,
            state,
        });
    }

    // A handler that reads no clock is retried at once only (no list to
    // allocate for every record).
    let at_once = [RetryAt::default()];
    let planned;
    let moments: &[RetryAt] = if first.read_clock {
        planned = plan.moments(true_now, &model.unit().horizons(s));
        &planned
    } else {
        &at_once
    };
    let mut retry_probes = 0;
    for (k, point) in first.passed.as_slice().iter().enumerate() {
        for retry in moments {
            retry_probes += 1;
            if let Some(failure) = retry_differs(model, reached, rec, scratch, (k, point), *retry) {
                failures.push(failure);
                break;
            }
        }
    }
    ProbeReport {
        key: rec.key,
        idempotence_probes: 1,
        retry_probes,
        failures,
    }
}

/// Crash the attempt at its `k`-th crash point, compensate, retry at
/// `retry`; the failure if the result equals no clean attempt.
fn retry_differs(
    model: Model,
    reached: Reached<'_>,
    rec: Record,
    scratch: &mut Scratch,
    (k, point): (usize, &'static str),
    retry: RetryAt,
) -> Option<LawFailure> {
    let Reached {
        db: s, memory, now, ..
    } = reached;
    let retried = &mut scratch.retried;
    retried.clone_from(s);
    attempt(model, retried, &mut memory.clone(), rec, Some(k), now);
    if model.uses_recovery() {
        let mut store = Store::new(&mut *retried);
        let gate = &mut ProbeGate::default();
        model.unit().compensate(&mut store, Some(rec.key), gate);
    }
    let later = now + retry.after;
    attempt(model, retried, &mut IdSet::default(), rec, None, later);
    if *retried == scratch.clean {
        return None;
    }
    let later_clean = retry.after > SimDuration::default();
    if later_clean {
        scratch.clean_later.clone_from(s);
        let clean_later = &mut scratch.clean_later;
        attempt(model, clean_later, &mut memory.clone(), rec, None, later);
        if *retried == *clean_later {
            return None;
        }
    }
    let difference = describe(
        &scratch.retried,
        scratch.clean_one(later_clean),
        "after the retry",
        "after one clean attempt",
    );
    let state = scratch.state_once(Law::Retry, Some(point), |d| {
        let clean = d.clean_one(later_clean);
        ConsumerDb::field_diff([s, clean, &d.retried], rec.key, rec.dedup_id)
    });
    Some(LawFailure {
        law: Law::Retry,
        crash_point: Some(point),
        retry,
        difference,
        state,
    })
}

/// A gate for compensation run on a clone: it notes the rows compensated
/// and nothing else (compensation has no crash point of its own).
#[derive(Default)]
struct CompensationGate {
    compensated: Vec<MsgKey>,
}

impl Gate for CompensationGate {
    fn crash_point(&mut self, _: MsgKey, _: &'static str) -> Step {
        Ok(())
    }

    fn effect(&mut self, _: MsgKey, _: u32) {}

    fn now(&self) -> SimTime {
        SimTime::default()
    }

    fn observe(&mut self, obs: Obs) {
        if let Obs::Compensate { key } = obs {
            self.compensated.push(key);
        }
    }
}

/// The model's compensation of `only`'s row, or of every row, on `db`;
/// the rows it changed.
fn compensate(model: Model, db: &mut ConsumerDb, only: Option<MsgKey>) -> Vec<MsgKey> {
    let gate = &mut CompensationGate::default();
    model.unit().compensate(&mut Store::new(db), only, gate);
    std::mem::take(&mut gate.compensated)
}

/// The rows a recovery scan would compensate in `s`, in the order the
/// model compensates them.
pub fn stuck_rows(model: Model, s: &ConsumerDb) -> Vec<MsgKey> {
    compensate(model, &mut s.clone(), None)
}

/// The seeds' law on a recovery scan that compensates `stuck` row by row
/// (C15): for each row, a scan that died before compensating it (the rows
/// before it compensated, each on its own), then a whole scan, against one
/// whole scan, `f(f(s, false), true) = f(s, true)`. One report per row.
pub fn probe_compensation(
    model: Model,
    s: &ConsumerDb,
    stuck: &[MsgKey],
    point: &'static str,
) -> Vec<ProbeReport> {
    let mut whole = s.clone();
    compensate(model, &mut whole, None);
    stuck
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mut died = s.clone();
            for row in &stuck[..i] {
                compensate(model, &mut died, Some(*row));
            }
            compensate(model, &mut died, None);
            let failures = (died != whole)
                .then(|| LawFailure {
                    law: Law::Retry,
                    crash_point: Some(point),
                    retry: RetryAt::default(),
                    difference: describe(
                        &died,
                        &whole,
                        "after a scan that died and a whole one",
                        "after one whole scan",
                    ),
                    // Compensation changes rows, not dedup ids: no id's
                    // entries are the row's own.
                    state: ConsumerDb::field_diff([s, &whole, &died], *key, u64::MAX),
                })
                .into_iter()
                .collect();
            ProbeReport {
                key: *key,
                idempotence_probes: 0,
                retry_probes: 1,
                failures,
            }
        })
        .collect()
}

/// The states differ (by `Eq`); say where, in words.
fn describe(left: &ConsumerDb, right: &ConsumerDb, left_is: &str, right_is: &str) -> String {
    match left.difference(right) {
        Some((what, a, b)) => format!("{what}: {a} {left_is}, {b} {right_is}"),
        None => format!("the durable states differ {left_is} and {right_is}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::StateField;
    use crate::protocols::m0_seeds::AFTER_EFFECT_BEFORE_STATUS_UPDATE;
    use crate::protocols::registry;

    fn rec() -> Record {
        Record {
            key: MsgKey {
                producer: 0,
                seq: 1,
            },
            dedup_id: 1,
        }
    }

    /// Probe `model` on `s` with an empty memory at t=0, retries allowed
    /// as far as `plan` reaches.
    fn probe_on(model: &str, s: &ConsumerDb, plan: &RetryPlan) -> ProbeReport {
        let reached = Reached {
            db: s,
            memory: &IdSet::default(),
            now: SimTime::ZERO,
            true_now: SimTime::ZERO,
        };
        let model = registry().get(model).unwrap();
        probe(model, reached, rec(), &mut Scratch::default(), plan)
    }

    fn field(f: &LawFailure, name: &str) -> StateField {
        f.state
            .iter()
            .find(|s| s.field == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", f.state))
            .clone()
    }

    #[test]
    fn the_naive_seeds_protocol_breaks_the_retry_law_between_effect_and_status() {
        let report = probe_on("M0Naive", &ConsumerDb::new(1, 3), &RetryPlan::default());
        assert_eq!(report.retry_probes, 3);
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        let f = &report.failures[0];
        assert_eq!(
            (f.law, f.crash_point),
            (Law::Retry, Some(AFTER_EFFECT_BEFORE_STATUS_UPDATE))
        );
        assert_eq!(
            f.difference,
            "p1#2: 2 effects after the retry, 1 effect after one clean attempt"
        );
        let effects = field(f, "effects[p1#2]");
        assert_eq!(
            (effects.before, effects.clean, effects.retried),
            ("0".into(), "1".into(), "2".into())
        );
        let row = field(f, "row[p1#2]");
        assert_eq!(
            (row.before, row.clean),
            ("absent".into(), "processed".into())
        );
        assert!(f.state.iter().all(|s| !s.field.contains("p1#1")));
    }

    #[test]
    fn the_atomic_seeds_protocol_and_the_inbox_keep_both_laws() {
        for model in ["M0Atomic", "M4"] {
            let report = probe_on(model, &ConsumerDb::new(1, 3), &RetryPlan::default());
            assert!(report.failures.is_empty(), "{model}: {:?}", report.failures);
            assert!(report.retry_probes >= 1);
        }
    }

    #[test]
    fn at_least_once_processing_is_not_idempotent() {
        let report = probe_on("M2", &ConsumerDb::new(1, 3), &RetryPlan::default());
        let laws: Vec<Law> = report.failures.iter().map(|f| f.law).collect();
        assert_eq!(laws, [Law::Idempotence, Law::Retry]);
    }

    fn windowed(ms: u64) -> ConsumerDb {
        let mut s = ConsumerDb::new(1, 3);
        s.dedup_window = SimDuration::from_ms(ms);
        s
    }

    #[test]
    fn a_dedup_window_breaks_the_law_only_when_a_retry_can_come_past_it() {
        let short = RetryPlan {
            timeouts: vec![(SimDuration::from_ms(50), "the producer's retry timeout")],
            slack: SimDuration::from_ms(60),
            faults_end: Some(SimTime::from_ms(40)),
        };
        let report = probe_on("M5", &windowed(300_000), &short);
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        assert_eq!(report.retry_probes, 2, "at once, and after the timeout");

        let long = RetryPlan {
            faults_end: Some(SimTime::from_ms(400_000)),
            ..short
        };
        let report = probe_on("M5", &windowed(300_000), &long);
        assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
        let f = &report.failures[0];
        assert_eq!(f.law, Law::Retry);
        assert_eq!(
            f.retry.to_string(),
            "at +300.001 s, past the 300 s dedup window"
        );
        let effects = field(f, "effects[p1#2]");
        assert_eq!((effects.clean, effects.retried), ("1".into(), "2".into()));
    }

    #[test]
    fn a_pruned_idempotency_key_breaks_the_law() {
        let plan = RetryPlan {
            timeouts: Vec::new(),
            slack: SimDuration::default(),
            faults_end: Some(SimTime::from_ms(5_000)),
        };
        let report = probe_on("M11", &windowed(2_000), &plan);
        let f = &report.failures[0];
        assert_eq!(
            f.retry.to_string(),
            "at +2.001 s, past the 2 s key retention"
        );
    }

    #[test]
    fn a_handler_that_never_reads_its_clock_is_retried_at_once_only() {
        let plan = RetryPlan {
            timeouts: vec![(SimDuration::from_ms(50), "the producer's retry timeout")],
            slack: SimDuration::from_ms(60),
            faults_end: Some(SimTime::from_ms(400_000)),
        };
        let report = probe_on("M4", &ConsumerDb::new(1, 3), &plan);
        assert_eq!(report.retry_probes, 1);
    }

    #[test]
    fn a_seen_set_in_memory_is_lost_with_the_crash() {
        // A crash after recording the id breaks the law only when the
        // record was in memory: the durable seen-set survives it.
        let points = |model| {
            let report = probe_on(model, &ConsumerDb::new(1, 3), &RetryPlan::default());
            let retries = report.failures.iter().filter(|f| f.law == Law::Retry);
            retries.filter_map(|f| f.crash_point).collect::<Vec<_>>()
        };
        assert_eq!(points("M3"), ["after-effect-before-record"]);
        assert_eq!(
            points("M3Memory"),
            [
                "after-effect-before-record",
                "after-record-before-offset-commit"
            ]
        );
    }

    #[test]
    fn the_probe_works_on_clones_and_leaves_the_state_alone() {
        let s = ConsumerDb::new(1, 3);
        let before = s.clone();
        probe_on("M0Naive", &s, &RetryPlan::default());
        assert_eq!(s, before);
    }
}
