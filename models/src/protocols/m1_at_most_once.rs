//! **M1: at-most-once ("save position, then process").**
//!
//! - *Mechanism.* The producer sends each message once without waiting for an
//!   ack (Kafka `acks=0`: the send counts as successful as soon as it leaves).
//!   Since nothing retries, every copy of a produce request the broker sees
//!   comes from the network; the broker appends one (as one TCP connection
//!   delivers a request once).
//!   The consumer commits the record's offset first and waits for the broker
//!   to confirm that this commit was the one that moved it; only then does it
//!   apply the effect.
//! - *Claimed guarantee.* At-most-once: "messages may be lost but are never
//!   redelivered". No message takes effect twice (C3), whatever the network
//!   duplicates or reorders.
//! - *Expected violations.* C1 no-loss and C8 exactly-once; C2 prefix
//!   no-loss when later records take effect past a lost one; C11 order per
//!   key, because a fire-and-forget send counts as acked when it leaves and a
//!   later send may overtake it on the wire.
//! - *Breakers.* F-drop of the produce request (nothing retries it), F-drop of
//!   the offset-commit ack (the consumer never learns it may process), and
//!   F-crash at `after-offset-commit-before-effect`.
//! - *Anchor.* Kafka documentation, design §4.6: a crash after saving the
//!   position but before the output is written loses messages.

use sim_core::{Step, Store};

use super::{ConsumerRole, Gate, ModelInfo, Protocol, Record, Wiring, apply_effect};
use crate::roles::ConsumerDb;
use crate::vocab::{CheckId, FaultClass, IdSet, MsgKey};

/// The consumer crashed after the broker stored its offset commit, before
/// the effect: the message is lost.
pub const AFTER_OFFSET_COMMIT_BEFORE_EFFECT: &str = "after-offset-commit-before-effect";

/// M1 as a protocol unit.
#[derive(Debug)]
pub struct AtMostOnce {
    info: ModelInfo,
}

/// The model.
pub static M1: AtMostOnce = AtMostOnce {
    info: ModelInfo {
        name: "M1",
        code: "M1",
        title: "at-most-once (offset commit, then process)",
        guarantee: "at-most-once",
        mechanism: "fire-and-forget producer; the consumer commits the offset and waits for the \
                broker's confirmation before it applies the effect",
        claims: &[CheckId::C3, CheckId::C5, CheckId::C6, CheckId::C16],
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "loss of a produce request or of the offset-commit ack, and a crash at \
               after-offset-commit-before-effect, lose messages (C1, C8)",
        anchor: "Kafka design §4.6, \"save position, then process\"",
        consumer_crash_points: &[AFTER_OFFSET_COMMIT_BEFORE_EFFECT],
        producer_crash_points: &[],
        remedy: "M2 (retry, process, then offset commit) never loses; M4 adds dedup",
        outside_claim: &[],
        fixed_by: Some("M2"),
    },
};

/// The broker confirmed that this consumer's offset commit stored the
/// record's offset: apply the effect (so that no record is processed twice,
/// only the commit that moved the offset leads here).
///
/// # Errors
/// `Crashed` at `after-offset-commit-before-effect`.
pub fn after_offset_commit(
    db: &mut Store<'_, ConsumerDb>,
    key: MsgKey,
    gate: &mut dyn Gate,
) -> Step {
    gate.crash_point(key, AFTER_OFFSET_COMMIT_BEFORE_EFFECT)?;
    apply_effect(db, key, gate);
    Ok(())
}

impl Protocol for AtMostOnce {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// A fire-and-forget producer: every copy the broker sees comes from
    /// the network, and it appends one.
    fn wiring(&self) -> Wiring {
        Wiring {
            consumer: ConsumerRole::CommitFirst,
            producer_retries: false,
            dedup_appends: true,
            ..Wiring::PER_RECORD
        }
    }

    /// Called once the broker confirmed the offset commit.
    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        rec: Record,
        _checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        after_offset_commit(db, rec.key, gate)
    }
}
