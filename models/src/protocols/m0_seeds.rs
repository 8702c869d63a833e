//! **M0: the seeds' protocol (message table with states and compensation).**
//!
//! - *Mechanism.* The consumer's database holds a message table. A delivered
//!   record is inserted as `unprocessed` unless its id is already there (the
//!   processed-check), then claimed (`processing`), its effect applied and its
//!   status set to `processed`; then the offset is committed. A recovery
//!   worker periodically returns messages stuck in `processing` (their worker
//!   crashed) to `unprocessed`, and they are processed again: the seeds'
//!   compensation ("将消息标记为未处理状态").
//!   - *naive*: the effect and the status update are two durable writes, with
//!     a crash point between them;
//!   - *atomic*: they are one durable transaction.
//! - *Claimed guarantee.* Exactly-once, stated as the law
//!   `f(f(s, false), true) = f(s, true)`: a failed attempt followed by a
//!   completed retry equals one completed attempt.
//! - *Expected violations.* naive: C3, C8 and C15 (the probe finds the law
//!   broken at `after-effect-before-status-update` on every run, even when
//!   the run itself never crashes there). atomic: none.
//! - *Breakers.* naive: F-crash at `after-effect-before-status-update`, after
//!   which compensation re-runs an effect that already happened. Both: no
//!   recovery worker, so stuck messages never finish (C16).
//! - *Anchor.* The two source articles in `seeds/` (exactly-once by message
//!   storage, idempotent processing and compensation).

use sim_core::{Step, Store};

use super::{
    CrashCause, EXACTLY_ONCE_CLAIMS, Gate, Hints, ModelInfo, Protocol, Record, Wiring, apply_effect,
};
use crate::history::Obs;
use crate::roles::{ConsumerDb, RowStatus};
use crate::vocab::{CheckId, FaultClass, IdSet, MsgKey};

/// Crashed after claiming a message, before its effect: compensation makes
/// it `unprocessed` again, harmlessly.
pub const AFTER_CLAIM_BEFORE_EFFECT: &str = "after-claim-before-effect";
/// Crashed between the effect and the status update (naive only): the
/// message stays `processing`, compensation makes it `unprocessed`, and its
/// effect is applied again.
pub const AFTER_EFFECT_BEFORE_STATUS_UPDATE: &str = "after-effect-before-status-update";
/// Crashed after the status update, before the offset commit: the record is
/// redelivered and found `processed`.
pub const AFTER_STATUS_UPDATE_BEFORE_OFFSET_COMMIT: &str =
    "after-status-update-before-offset-commit";

/// Naive or atomic effect and status update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Two durable writes with a crash point between them.
    Naive,
    /// One durable transaction.
    Atomic,
}

/// The seeds' protocol, as one unit per variant.
#[derive(Debug)]
pub struct Seeds {
    info: ModelInfo,
    variant: Variant,
}

/// The seeds claim exactly-once.
const CLAIMS: &[CheckId] = EXACTLY_ONCE_CLAIMS;

/// The naive variant.
pub static NAIVE: Seeds = Seeds {
    variant: Variant::Naive,
    info: ModelInfo {
        name: "M0Naive",
        code: "M0-naive",
        title: "the seeds' message table, effect and status update as separate writes",
        guarantee: "exactly-once (claimed by the seeds)",
        mechanism: "insert as unprocessed unless present, claim as processing, apply the effect, \
                then set processed; a recovery worker returns stuck messages to unprocessed",
        claims: CLAIMS,
        // The law probe finds C15 broken before every record, whatever the
        // faults: the seeds' claim holds under no fault class.
        survives: &[],
        breakers: "a crash at after-effect-before-status-update: compensation re-runs an effect \
               that already happened (C3, C8, C15)",
        anchor: "seeds/ (message storage + idempotent processing + compensation)",
        consumer_crash_points: &[
            AFTER_CLAIM_BEFORE_EFFECT,
            AFTER_EFFECT_BEFORE_STATUS_UPDATE,
            AFTER_STATUS_UPDATE_BEFORE_OFFSET_COMMIT,
        ],
        producer_crash_points: &[],
        remedy: "M0-atomic (or M4) writes the effect and the status in one transaction",
        outside_claim: &[],
        fixed_by: Some("M0Atomic"),
    },
};

/// The atomic variant.
pub static ATOMIC: Seeds = Seeds {
    variant: Variant::Atomic,
    info: ModelInfo {
        name: "M0Atomic",
        code: "M0-atomic",
        title: "the seeds' message table, effect and status update in one transaction",
        guarantee: "exactly-once",
        mechanism: "as M0-naive, but the effect and the status update are one durable transaction",
        claims: CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "no recovery worker: a message stuck in processing never finishes (C16)",
        anchor: "seeds/ (the law f(f(s,false),true) = f(s,true))",
        consumer_crash_points: &[
            AFTER_CLAIM_BEFORE_EFFECT,
            AFTER_STATUS_UPDATE_BEFORE_OFFSET_COMMIT,
        ],
        producer_crash_points: &[],
        remedy: "keep a recovery worker running so that stuck messages are compensated",
        outside_claim: &[],
        fixed_by: None,
    },
};

/// Insert the record into the message table unless it is there, then
/// process it if it is `unprocessed`.
///
/// # Errors
/// `Crashed` at any of the variant's crash points.
pub fn process(
    db: &mut Store<'_, ConsumerDb>,
    rec: Record,
    variant: Variant,
    gate: &mut dyn Gate,
) -> Step {
    db.transaction(|d| {
        if d.status(rec.key) == RowStatus::Absent {
            d.set_status(rec.key, RowStatus::Unprocessed);
        }
    });
    process_row(db, rec.key, variant, gate)
}

/// Process one row if it is `unprocessed`; a row that is `processing` or
/// `processed` is left alone (the processed-check).
///
/// # Errors
/// `Crashed` at any of the variant's crash points.
pub fn process_row(
    db: &mut Store<'_, ConsumerDb>,
    key: MsgKey,
    variant: Variant,
    gate: &mut dyn Gate,
) -> Step {
    if db.get().status(key) != RowStatus::Unprocessed {
        return Ok(());
    }
    db.transaction(|d| d.set_status(key, RowStatus::Processing));
    gate.crash_point(key, AFTER_CLAIM_BEFORE_EFFECT)?;
    match variant {
        Variant::Naive => {
            apply_effect(db, key, gate);
            gate.crash_point(key, AFTER_EFFECT_BEFORE_STATUS_UPDATE)?;
            db.transaction(|d| d.set_status(key, RowStatus::Processed));
        }
        Variant::Atomic => {
            let count = db.transaction(|d| {
                d.set_status(key, RowStatus::Processed);
                d.add_effect(key)
            });
            gate.effect(key, count);
        }
    }
    gate.crash_point(key, AFTER_STATUS_UPDATE_BEFORE_OFFSET_COMMIT)
}

/// The recovery worker's compensation: every row still `processing` belongs
/// to a crashed worker (handlers run atomically in simulated time, so a live
/// worker never leaves one behind) and goes back to `unprocessed`. With
/// `only`, just that message's row (the law probe compensates the attempt
/// it crashed, not other messages' rows).
pub fn compensate(db: &mut Store<'_, ConsumerDb>, only: Option<MsgKey>, gate: &mut dyn Gate) {
    let stuck = db.get().keys_with_among(RowStatus::Processing, only);
    db.transaction(|d| {
        for key in &stuck {
            d.set_status(*key, RowStatus::Unprocessed);
        }
    });
    stuck
        .into_iter()
        .for_each(|key| gate.observe(Obs::Compensate { key }));
}

impl Protocol for Seeds {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        Wiring {
            recovery: true,
            ..Wiring::PER_RECORD
        }
    }

    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        rec: Record,
        _checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        process(db, rec, self.variant, gate)
    }

    fn compensate(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        only: Option<MsgKey>,
        gate: &mut dyn Gate,
    ) {
        compensate(db, only, gate);
    }

    fn hints(&self) -> Hints {
        Hints {
            lost_effect: Some(CrashCause {
                at: AFTER_CLAIM_BEFORE_EFFECT,
                why: "its consumer crashed after claiming it (status processing) and before \
                      the effect; when the record came again the row still read processing, \
                      so the consumer skipped it and committed its offset, and only the \
                      recovery worker's compensation returns such a row to unprocessed",
            }),
            ..Hints::DEFAULT
        }
    }

    /// Every row left `unprocessed` is processed at once.
    fn resume(&self, db: &mut Store<'_, ConsumerDb>, gate: &mut dyn Gate) -> Step {
        for key in db.get().keys_with(RowStatus::Unprocessed) {
            process_row(db, key, self.variant, gate)?;
        }
        Ok(())
    }
}
