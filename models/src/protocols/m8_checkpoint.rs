//! **M8: checkpoint barriers and a two-phase-commit sink (Flink).**
//!
//! - *Mechanism.* The consumer is a streaming job. Each record it receives
//!   joins the sink's open transaction; nothing takes effect yet. Every
//!   checkpoint interval (20 ms) a barrier closes the transaction: the sink
//!   **pre-commits** it (durably staged), the checkpoint **completes** (the
//!   source position, here the records' offsets, is stored and the offsets
//!   committed), then the sink **commits** (the effects apply). On a
//!   restart the job restores the last completed checkpoint: an open
//!   transaction is gone, and a staged one is committed ("restore resolves
//!   dangling transactions"); records past the checkpoint are replayed by
//!   the broker. (The job is one actor, so pre-commit and completion are one
//!   durable step: no staged transaction belongs to an incomplete
//!   checkpoint.) Two variants:
//!   - `M8`: the two-phase-commit sink (Flink `EXACTLY_ONCE`);
//!   - `M8AtLeastOnce`: effects apply as records arrive, offsets at the
//!     checkpoint (Flink `AT_LEAST_ONCE`: "on a restore, these records will
//!     occur as duplicates").
//! - *Source.* The broker appends each message once (as if an idempotent
//!   producer fed the source topic): Flink's exactly-once is per source
//!   record, and a duplicate the log held would take effect twice (C3).
//! - *Claimed guarantee.* `M8`: exactly-once effect (C1, C2, C3, C5, C6, C7,
//!   C8, C16) under every crash point and network fault, and the laws C14
//!   and C15, which the probe cannot check here: it replays one record's
//!   handler, and a record alone changes no durable state (its effect waits
//!   for the checkpoint); runs report them UNCHECKED and say so.
//!   `M8AtLeastOnce`: at-least-once (C1, C2, C5, C6, C16).
//! - *Expected violations.* `M8AtLeastOnce`: C3 and C8 after a crash.
//! - *Breakers.* The sink's transaction timeout ([`SINK_TIMEOUT_MS`], 1 s):
//!   if the job stays down longer (`faults.restart_after_ms`) between the
//!   checkpoint's completion and the sink's commit (crash point
//!   `after-precommit-before-commit`), the sink has aborted the staged
//!   transaction while the checkpoint already stored its offsets: **data
//!   loss** (C1, C2, C8). At-least-once mode: duplicates (C3).
//! - *Anchor.* Flink docs, stateful stream processing (aligned barriers,
//!   restore to checkpoint k and replay); Flink's TwoPhaseCommitSinkFunction
//!   ("if the commit does not eventually succeed, data loss occurs");
//!   flink-connector-kafka (`transaction.timeout.ms` must exceed checkpoint
//!   plus restart time "or data loss may happen").

use sim_core::{SimDuration, Step, Store};

use super::AT_LEAST_ONCE_CLAIMS;
use super::{ConsumerRole, Gate, ModelInfo, Protocol, Record, Wiring};
use crate::roles::ConsumerDb;
use crate::vocab::{CheckId, FaultClass, IdSet};

/// A record joined the open sink transaction; the job crashed before the
/// checkpoint (harmless: the transaction is gone and the record replayed).
pub const AFTER_RECORD_BEFORE_CHECKPOINT: &str = "after-record-before-checkpoint";
/// The checkpoint completed (offsets stored), the sink has not committed
/// its staged transaction: restore commits it, unless the sink's timeout
/// aborted it first.
pub const AFTER_PRECOMMIT_BEFORE_COMMIT: &str = "after-precommit-before-commit";
/// At-least-once mode: the effect applied, the checkpoint not taken yet.
pub const AFTER_EFFECT_BEFORE_CHECKPOINT: &str = "after-effect-before-checkpoint";

/// Time between two checkpoints.
pub const CHECKPOINT_INTERVAL: SimDuration = SimDuration::from_ms(20);
/// How long the sink keeps a staged transaction before it aborts it.
pub const SINK_TIMEOUT_MS: u64 = 1_000;

/// M8 as a protocol unit, with a two-phase-commit sink or effects applied at once.
#[derive(Debug)]
pub struct Checkpoint {
    info: ModelInfo,
    two_phase: bool,
}

/// The catalogue entry of the two-phase-commit sink.
pub static TWO_PHASE: Checkpoint = Checkpoint {
    two_phase: true,
    info: ModelInfo {
        name: "M8",
        code: "M8",
        title: "checkpoint barriers and a two-phase-commit sink (Flink exactly-once)",
        guarantee: "exactly-once effect",
        mechanism: "records join an open sink transaction; at each checkpoint it is \
                pre-committed, the offsets are stored, then it commits; restore commits a \
                completed checkpoint's staged transaction and replays the rest",
        claims: &[
            CheckId::C1,
            CheckId::C2,
            CheckId::C3,
            CheckId::C5,
            CheckId::C6,
            CheckId::C7,
            CheckId::C8,
            CheckId::C14,
            CheckId::C15,
            CheckId::C16,
        ],
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a crash at after-precommit-before-commit that outlasts the sink's transaction \
               timeout (1 s): the sink aborts what the checkpoint already counted (C1, C8)",
        anchor: "Flink aligned checkpoints; TwoPhaseCommitSinkFunction; flink-connector-kafka \
             transaction.timeout.ms",
        consumer_crash_points: &[
            AFTER_RECORD_BEFORE_CHECKPOINT,
            AFTER_PRECOMMIT_BEFORE_COMMIT,
        ],
        producer_crash_points: &[],
        remedy: "a sink transaction timeout well above checkpoint plus restart time",
        outside_claim: &[],
        fixed_by: None,
    },
};

/// The catalogue entry of at-least-once mode.
pub static AT_LEAST_ONCE: Checkpoint = Checkpoint {
    two_phase: false,
    info: ModelInfo {
        name: "M8AtLeastOnce",
        code: "M8-alo",
        title: "checkpoint barriers without a transactional sink (Flink at-least-once)",
        guarantee: "at-least-once",
        mechanism: "effects apply as records arrive; offsets are stored at each checkpoint; a \
                restore replays everything after the last checkpoint",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a crash between an effect and the next checkpoint replays the record (C3, C8)",
        anchor: "Flink docs: at-least-once mode, \"on a restore, these records will occur as \
             duplicates\"",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_CHECKPOINT],
        producer_crash_points: &[],
        remedy: "M8: a two-phase-commit sink",
        outside_claim: &[],
        fixed_by: Some("M8"),
    },
};

impl Protocol for Checkpoint {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        Wiring {
            consumer: ConsumerRole::Streaming {
                two_phase: self.two_phase,
            },
            // The source log holds each message once (an idempotent
            // producer upstream): exactly-once here is per source record.
            dedup_appends: true,
            ..Wiring::PER_RECORD
        }
    }

    /// Never called: M8's effects apply at checkpoints, not per record (see `roles/checkpoint.rs`).
    fn process(
        &self,
        _db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        _rec: Record,
        _checked: Option<bool>,
        _gate: &mut dyn Gate,
    ) -> Step {
        Ok(())
    }
}
