//! **M2: at-least-once ("retry, process, then offset commit").**
//!
//! - *Mechanism.* The producer re-sends each message every retry interval
//!   until the broker acks it; the broker appends every copy it receives. The
//!   consumer applies the effect, then commits the offset; the broker
//!   redelivers every record whose offset is not committed.
//! - *Claimed guarantee.* At-least-once: "messages are never lost but may be
//!   redelivered" (C1, C2, C16).
//! - *Expected violations.* C3 no-duplicate-effect and C8 exactly-once; C4
//!   no-duplicate-append after a lost ack.
//! - *Breakers.* F-drop of an ack (the producer retries a message the broker
//!   already appended, so it is appended twice), F-drop of an offset commit
//!   (redelivery), F-dup of a delivery, and F-crash at
//!   `after-effect-before-offset-commit`.
//! - *Anchor.* Kafka's default consumer loop (design §4.6, "process, then
//!   save position": a crash before saving the position reprocesses).

use sim_core::{Step, Store};

use super::AT_LEAST_ONCE_CLAIMS;
use super::{AFTER_EFFECT_BEFORE_OFFSET_COMMIT, Gate, ModelInfo, Protocol, Record, apply_effect};
use crate::roles::ConsumerDb;
use crate::vocab::{FaultClass, IdSet};

/// M2 as a protocol unit.
#[derive(Debug)]
pub struct AtLeastOnce {
    info: ModelInfo,
}

/// The model.
pub static M2: AtLeastOnce = AtLeastOnce {
    info: ModelInfo {
        name: "M2",
        code: "M2",
        title: "at-least-once (retry, process, then offset commit)",
        guarantee: "at-least-once",
        mechanism: "the producer retries until acked; the consumer applies the effect, then commits \
                the offset; uncommitted records are redelivered",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a lost ack (duplicate append), a lost offset commit, a network duplicate, or a \
               crash at after-effect-before-offset-commit apply a message twice (C3, C8)",
        anchor: "Kafka design §4.6, \"process, then save position\"",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[],
        remedy: "M4 (inbox) records the message id in the same transaction as the effect",
        outside_claim: &[],
        fixed_by: Some("M4"),
    },
};

/// Apply the effect, then pass the crash point before the offset commit.
///
/// # Errors
/// `Crashed` at `after-effect-before-offset-commit`.
pub fn process(db: &mut Store<'_, ConsumerDb>, rec: Record, gate: &mut dyn Gate) -> Step {
    apply_effect(db, rec.key, gate);
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
}

impl Protocol for AtLeastOnce {
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
}
