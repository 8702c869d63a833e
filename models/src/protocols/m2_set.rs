//! **M2-set: at-least-once with an idempotent handler: lawful op by op,
//! broken under interleaving.**
//!
//! - *Mechanism.* As M2 (retry, process, then offset commit), but the
//!   messages are operations on a set: the `2i`-th message of a producer
//!   adds element `i`, the `2i+1`-th removes it, both keyed by the element
//!   (one partition, as Kafka's partitioner sends one key). Both handlers are
//!   idempotent: adding an element already there, or removing one that is
//!   not, changes nothing, so an operation's *effect* is a change of the
//!   set. ("Primary-key upserts make the replay harmless", Kafka design
//!   §4.6.)
//! - *Claimed guarantee.* Each handler keeps the laws on its own:
//!   `h(h(s,m),m) = h(s,m)` (C14) and a crashed attempt plus a retry equals
//!   one clean attempt (C15), and the log stays consistent (C5, C6). That
//!   is all it claims.
//! - *Expected violations.* C3 and C8, and C1 when a remove comes first.
//! - *Breakers.* Interleaving: a retry of `add(x)` that arrives after
//!   `remove(x)` (a lost offset commit redelivers the add; a lost produce
//!   request lets the remove overtake it) adds `x` back. Each handler is
//!   lawful; the history is not: the add takes effect twice (C3) and the
//!   set ends holding `x`, whose last operation removed it. A remove that
//!   runs before its add changes nothing (C1 for the remove).
//! - *Anchor.* DOMAIN's checker notes: "pointwise idempotence does not
//!   imply correctness under interleaving: add(x), remove(x), retry add(x)
//!   resurrects x"; Kafka design §4.6 on upserts.

use sim_core::{Step, Store};

use super::{AFTER_EFFECT_BEFORE_OFFSET_COMMIT, Gate, Hints, ModelInfo, Protocol, Record};
use crate::roles::ConsumerDb;
use crate::vocab::{CheckId, FaultClass, IdSet, MsgKey};

/// M2-set as a protocol unit.
#[derive(Debug)]
pub struct SetHandler {
    info: ModelInfo,
}

/// The model.
pub static M2_SET: SetHandler = SetHandler {
    info: ModelInfo {
        name: "M2Set",
        code: "M2-set",
        title: "at-least-once with an idempotent set handler (add, remove)",
        guarantee: "each handler idempotent and retry-safe on its own",
        mechanism: "as M2, but messages add and remove set elements; re-adding or re-removing \
                changes nothing",
        claims: &[CheckId::C5, CheckId::C6, CheckId::C14, CheckId::C15],
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a retried add(x) after remove(x) resurrects x (C3, C8); a remove that overtakes \
               its add changes nothing (C1)",
        anchor: "Kafka design §4.6 (upserts make replays harmless); pointwise idempotence is not \
             enough under interleaving",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[],
        remedy: "M4 (inbox): record each message id with its effect, so a retry never re-runs",
        outside_claim: &[],
        fixed_by: Some("M4"),
    },
};

/// A set operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// Add the element.
    Add(u32),
    /// Remove the element.
    Remove(u32),
}

impl SetOp {
    /// The operation message `key` carries: the `2i`-th message of a
    /// producer adds `i`, the next removes it.
    pub fn of(key: MsgKey) -> SetOp {
        let element = key.seq / 2;
        if key.seq.is_multiple_of(2) {
            SetOp::Add(element)
        } else {
            SetOp::Remove(element)
        }
    }
}

/// Apply the operation (an effect only if it changed the set), then pass
/// the crash point before the offset commit.
///
/// # Errors
/// `Crashed` at `after-effect-before-offset-commit`.
pub fn process(db: &mut Store<'_, ConsumerDb>, rec: Record, gate: &mut dyn Gate) -> Step {
    let op = SetOp::of(rec.key);
    let changed = db.transaction(|d| {
        let changed = d.apply_set_op(rec.key.producer, op);
        changed.then(|| d.add_effect(rec.key))
    });
    if let Some(count) = changed {
        gate.effect(rec.key, count);
    }
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
}

impl Protocol for SetHandler {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        rec: Record,
        _checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        process(db, rec, gate)
    }

    /// Both operations on an element are keyed by it: add(x) and
    /// remove(x) go to one partition, in the order they were sent.
    fn partition_key(&self, key: MsgKey) -> u32 {
        key.seq / 2
    }

    fn hints(&self) -> Hints {
        Hints {
            duplicate_effect: Some(
                "its set operation changed the set again after a later operation on the same \
                 element undid it: each handler is idempotent on its own, but a retried add(x) \
                 that arrives after remove(x) puts x back",
            ),
            ..Hints::DEFAULT
        }
    }
}
