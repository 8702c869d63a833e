//! **M4: inbox (idempotent consumer).**
//!
//! - *Mechanism.* As M2, but the consumer records each message id in an
//!   inbox table in the *same* durable transaction as the effect, and skips
//!   ids already there. The inbox is never pruned.
//! - *Claimed guarantee.* Exactly-once effect: every crash point, every
//!   duplicate append, redelivery or network duplicate is harmless (C1, C2,
//!   C3, C5, C6, C8, C14, C15, C16). The log itself may hold a message twice
//!   (C4): the inbox makes that harmless. So is a rebalance (F-rebalance):
//!   the group's consumers share the database, and the one whose
//!   transaction comes second finds the id in the inbox.
//! - *Expected violations.* None on the atomic path.
//! - *Breakers.* A producer that re-sends with a **new** id (an app-level
//!   resend) defeats the inbox: C3 and C8. A side effect outside the
//!   transaction would too.
//! - *Anchor.* microservices.io, "Idempotent Consumer"; Kafka's advice to
//!   store the consumer's progress in the same place as its output.

use sim_core::{Step, Store};

use super::{
    AFTER_EFFECT_BEFORE_OFFSET_COMMIT, EXACTLY_ONCE_CLAIMS, Gate, ModelId, ModelInfo, Record,
};
use crate::matrix::FaultClass;
use crate::roles::ConsumerDb;

/// The catalogue entry.
pub const INFO: ModelInfo = ModelInfo {
    id: ModelId::M4,
    code: "M4",
    title: "inbox (dedup record and effect in one transaction)",
    guarantee: "exactly-once effect",
    mechanism: "the consumer inserts the message id into an inbox and applies the effect in \
                one transaction, skipping ids already in the inbox",
    claims: EXACTLY_ONCE_CLAIMS,
    survives: &FaultClass::ALL,
    breakers: "a producer that re-sends with a new id (new_id_on_retry) gets a second effect \
               (C3, C8)",
    anchor: "microservices.io Idempotent Consumer; Kafka design §4.6 (offset with the output)",
    consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
    producer_crash_points: &[],
    remedy: "keep the message id stable across retries (the producer's key, not a fresh id)",
};

/// In one transaction: if the id is new, apply the effect and record the id.
///
/// # Errors
/// `Crashed` at `after-effect-before-offset-commit` (harmless: the retry
/// finds the id in the inbox).
pub fn process(db: &mut Store<'_, ConsumerDb>, rec: Record, gate: &mut impl Gate) -> Step {
    let applied = db.transaction(|d| d.inbox.insert(rec.dedup_id).then(|| d.add_effect(rec.key)));
    if let Some(count) = applied {
        gate.effect(rec.key, count);
    }
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
}
