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
//!   resend) defeats the inbox: C3 and C8. So does a side effect outside
//!   the transaction: the variant `M4External` calls an external service
//!   (the effect) and then records the id in the inbox; a crash at
//!   [`AFTER_CALL_BEFORE_INBOX`] leaves the call without its inbox row, and
//!   the redelivery calls again (C3, C8).
//! - *Anchor.* microservices.io, "Idempotent Consumer"; Kafka's advice to
//!   store the consumer's progress in the same place as its output.

use sim_core::{Step, Store};

use super::{
    AFTER_EFFECT_BEFORE_OFFSET_COMMIT, AT_LEAST_ONCE_CLAIMS, EXACTLY_ONCE_CLAIMS, Gate, Hints,
    ModelInfo, Protocol, Record,
};
use crate::roles::ConsumerDb;
use crate::vocab::{FaultClass, IdSet};

/// M4 as a protocol unit: the inbox, with the effect inside its
/// transaction or an external call outside it.
#[derive(Debug)]
pub struct Inbox {
    info: ModelInfo,
    external: bool,
}

/// The model.
pub static INBOX: Inbox = Inbox {
    external: false,
    info: ModelInfo {
        name: "M4",
        code: "M4",
        title: "inbox (dedup record and effect in one transaction)",
        guarantee: "exactly-once effect",
        mechanism: "the consumer inserts the message id into an inbox and applies the effect in \
                one transaction, skipping ids already in the inbox",
        claims: EXACTLY_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a producer that re-sends with a new id (new_id_on_retry) gets a second effect \
               (C3, C8)",
        anchor: "microservices.io Idempotent Consumer; Kafka design §4.6 (offset with the output)",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[],
        remedy: "keep the message id stable across retries (the producer's key, not a fresh id)",
        outside_claim: &[],
        fixed_by: None,
    },
};

/// `M4External` called the external service, and stops before the inbox
/// transaction: the call happened, the id is not recorded.
pub const AFTER_CALL_BEFORE_INBOX: &str = "after-call-before-inbox";

/// The variant with an external call.
pub static EXTERNAL: Inbox = Inbox {
    external: true,
    info: ModelInfo {
        name: "M4External",
        code: "M4-external",
        title: "inbox, with the effect an external call outside its transaction",
        guarantee: "at-least-once for the external call",
        mechanism: "the consumer skips ids in its inbox, else calls an external service (the \
                effect) and then records the id in the inbox: the call cannot join the \
                database transaction",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a crash at after-call-before-inbox: the call happened, the id was never \
               recorded, and the redelivery calls again (C3, C8)",
        anchor: "microservices.io Idempotent Consumer (the inbox works only inside the \
             transaction); DOMAIN §6.2 M4 breakers",
        consumer_crash_points: &[AFTER_CALL_BEFORE_INBOX, AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[],
        remedy: "pass the message id to the service as an idempotency key (M11), or keep the \
             effect in the database transaction (M4)",
        outside_claim: &[],
        fixed_by: Some("M4"),
    },
};

/// `M4External`: if the id is new, call the external service, then record
/// the id in the inbox, in a transaction of its own.
///
/// # Errors
/// `Crashed` at `after-call-before-inbox` (the redelivery calls again) or
/// at `after-effect-before-offset-commit` (harmless).
pub fn process_external(db: &mut Store<'_, ConsumerDb>, rec: Record, gate: &mut dyn Gate) -> Step {
    if !db.get().inbox.contains(rec.dedup_id) {
        // The external service keeps its own record of each call: a
        // durable write, apart from the inbox.
        let count = db.transaction(|d| d.add_effect(rec.key));
        gate.effect(rec.key, count);
        gate.crash_point(rec.key, AFTER_CALL_BEFORE_INBOX)?;
        db.transaction(|d| d.inbox.insert(rec.dedup_id));
    }
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
}

/// In one transaction: if the id is new, apply the effect and record the id.
///
/// # Errors
/// `Crashed` at `after-effect-before-offset-commit` (harmless: the retry
/// finds the id in the inbox).
pub fn process(db: &mut Store<'_, ConsumerDb>, rec: Record, gate: &mut dyn Gate) -> Step {
    let applied = db.transaction(|d| d.inbox.insert(rec.dedup_id).then(|| d.add_effect(rec.key)));
    if let Some(count) = applied {
        gate.effect(rec.key, count);
    }
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
}

impl Protocol for Inbox {
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
        if self.external {
            process_external(db, rec, gate)
        } else {
            process(db, rec, gate)
        }
    }

    fn hints(&self) -> Hints {
        let external = "the consumer called the external service before the inbox recorded the \
                        id, in a transaction of its own: the redelivery found no id and called \
                        again";
        Hints {
            duplicate_effect: self.external.then_some(external),
            ..Hints::DEFAULT
        }
    }
}
