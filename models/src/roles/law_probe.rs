//! The law probes, checked literally on the states a run reaches.
//!
//! Before a consumer of an exactly-once model processes a record, the probe
//! clones its durable state `s` and compares, with `Eq`:
//! - **C14** idempotence: processing twice, `h(h(s, m), m)`, against once,
//!   `h(s, m)`;
//! - **C15** the seeds' law: for each crash point the clean attempt passes, an
//!   attempt forced to crash there, then the model's compensation, then a
//!   clean retry, `f(f(s, false), true)`, against one clean attempt
//!   `f(s, true)`.
//!
//! A difference is a [`LawFailure`] naming the crash point and the state
//! that differs. The probe never touches the run itself: it works on clones,
//! with a gate that records crash points instead of asking the choice source.

use sim_core::{Crashed, SimTime, Step, Store};
use smallvec::SmallVec;

use crate::history::{Law, LawFailure, Obs, ProbeReport};
use crate::protocols::{Gate, Model, Record};
use crate::roles::ConsumerDb;
use crate::vocab::{IdSet, MsgKey};

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
/// time stands still at `now`, the time of the probe.
#[derive(Default)]
struct ProbeGate {
    crash_at: Option<usize>,
    passed: Passed,
    now: SimTime,
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
        self.now
    }

    fn observe(&mut self, _: Obs) {}
}

/// One attempt of the model's processing on `db`; returns the crash points
/// passed.
fn attempt(
    model: Model,
    db: &mut ConsumerDb,
    rec: Record,
    crash_at: Option<usize>,
    now: SimTime,
) -> Passed {
    let mut gate = ProbeGate {
        crash_at,
        passed: Passed::default(),
        now,
    };
    // Exactly-once models keep no volatile dedup state: an empty memory.
    let mut memory = IdSet::default();
    let unit = model.unit();
    let outcome = unit.process(&mut Store::new(db), &mut memory, rec, None, &mut gate);
    debug_assert_eq!(
        outcome.is_err(),
        crash_at.is_some_and(|k| k < gate.passed.points.len())
    );
    gate.passed
}

/// Databases the probe clones into, kept between records so that each
/// probe reuses their allocations.
#[derive(Debug)]
pub struct Scratch {
    clean: ConsumerDb,
    twice: ConsumerDb,
    retried: ConsumerDb,
}

impl Scratch {
    /// Scratch space shaped like `s`.
    pub fn new(s: &ConsumerDb) -> Scratch {
        Scratch {
            clean: s.clone(),
            twice: s.clone(),
            retried: s.clone(),
        }
    }
}

/// Probe both laws for processing `rec` from state `s` at time `now`.
pub fn probe(
    model: Model,
    s: &ConsumerDb,
    rec: Record,
    scratch: &mut Scratch,
    now: SimTime,
) -> ProbeReport {
    let Scratch {
        clean,
        twice,
        retried,
    } = scratch;
    clean.clone_from(s);
    let points = attempt(model, clean, rec, None, now);
    let mut failures = Vec::new();

    twice.clone_from(clean);
    attempt(model, twice, rec, None, now);
    if twice != clean {
        let difference = describe(twice, clean, "after processing twice", "after once");
        failures.push(LawFailure {
            law: Law::Idempotence,
            crash_point: None,
            difference,
        });
    }

    for (k, point) in points.as_slice().iter().enumerate() {
        retried.clone_from(s);
        attempt(model, retried, rec, Some(k), now);
        if model.uses_recovery() {
            let mut store = Store::new(&mut *retried);
            let gate = &mut ProbeGate::default();
            model.unit().compensate(&mut store, Some(rec.key), gate);
        }
        attempt(model, retried, rec, None, now);
        if retried != clean {
            let difference = describe(retried, clean, "after the retry", "after one clean attempt");
            failures.push(LawFailure {
                law: Law::Retry,
                crash_point: Some(point),
                difference,
            });
        }
    }
    ProbeReport {
        key: rec.key,
        idempotence_probes: 1,
        retry_probes: to_u32(points.points.len()),
        failures,
    }
}

/// The states differ (by `Eq`); say where, in words.
fn describe(left: &ConsumerDb, right: &ConsumerDb, left_is: &str, right_is: &str) -> String {
    match left.difference(right) {
        Some((what, a, b)) => format!("{what}: {a} {left_is}, {b} {right_is}"),
        None => format!("the durable states differ {left_is} and {right_is}"),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("a handler passes few crash points")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocols::m0_seeds::AFTER_EFFECT_BEFORE_STATUS_UPDATE;

    fn rec() -> Record {
        Record {
            key: MsgKey {
                producer: 0,
                seq: 1,
            },
            dedup_id: 1,
        }
    }

    #[test]
    fn the_naive_seeds_protocol_breaks_the_retry_law_between_effect_and_status() {
        let report = probe(
            crate::protocols::registry().get("M0Naive").unwrap(),
            &ConsumerDb::new(1, 3),
            rec(),
            &mut Scratch::new(&ConsumerDb::new(1, 3)),
            SimTime::ZERO,
        );
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
    }

    #[test]
    fn the_atomic_seeds_protocol_and_the_inbox_keep_both_laws() {
        for model in [
            crate::protocols::registry().get("M0Atomic").unwrap(),
            crate::protocols::registry().get("M4").unwrap(),
        ] {
            let report = probe(
                model,
                &ConsumerDb::new(1, 3),
                rec(),
                &mut Scratch::new(&ConsumerDb::new(1, 3)),
                SimTime::ZERO,
            );
            assert!(
                report.failures.is_empty(),
                "{model:?}: {:?}",
                report.failures
            );
            assert!(report.retry_probes >= 1);
        }
    }

    #[test]
    fn at_least_once_processing_is_not_idempotent() {
        let report = probe(
            crate::protocols::registry().get("M2").unwrap(),
            &ConsumerDb::new(1, 3),
            rec(),
            &mut Scratch::new(&ConsumerDb::new(1, 3)),
            SimTime::ZERO,
        );
        let laws: Vec<Law> = report.failures.iter().map(|f| f.law).collect();
        assert_eq!(laws, [Law::Idempotence, Law::Retry]);
    }

    #[test]
    fn the_probe_works_on_clones_and_leaves_the_state_alone() {
        let s = ConsumerDb::new(1, 3);
        let before = s.clone();
        probe(
            crate::protocols::registry().get("M0Naive").unwrap(),
            &s,
            rec(),
            &mut Scratch::new(&s),
            SimTime::ZERO,
        );
        assert_eq!(s, before);
    }
}
