//! The protocol models: strategies for the producer, broker and consumer
//! roles, each in its own file opening with its mechanism, the guarantee it
//! claims, the checks it is expected to break and the faults that break them,
//! and its real-world anchor.
//!
//! | model | file | claims |
//! |---|---|---|
//! | M0-naive, M0-atomic | [`m0_seeds`] | exactly-once (the seeds' protocol) |
//! | M1 | [`m1_at_most_once`] | at-most-once |
//! | M2 | [`m2_at_least_once`] | at-least-once |
//! | M2-set | [`m2_set`] | each handler lawful on its own (not under interleaving) |
//! | M3, M3-memory | [`m3_consumer_dedup`] | exactly-once effect against duplicates |
//! | M4, M4-external | [`m4_inbox`] | exactly-once effect / at-least-once |
//! | M5 | [`m5_dedup_window`] | exactly-once effect within the window |
//! | M6 | [`m6_idempotent_producer`] | no duplicate append within a session |
//! | M11 | [`m11_idempotency_key`] | exactly-once execution within the retention |
//! | M7, M7-pre890, M7-uncommitted, M7-unfenced, M7-external | [`m7_transactions`] | exactly-once effect log to log / at-least-once |
//! | M8, M8-alo | [`m8_checkpoint`] | exactly-once effect / at-least-once |
//! | M12, M12-lease | [`m12_lease`] | no zombie write / at-least-once |
//! | M9 | [`m9_dual_write`] | at-least-once for published events |
//! | M10, M10-plain | [`m10_outbox`] | exactly-once effect / at-least-once |

pub mod m0_seeds;
pub mod m10_outbox;
pub mod m11_idempotency_key;
pub mod m12_lease;
pub mod m1_at_most_once;
pub mod m2_at_least_once;
pub mod m2_set;
pub mod m3_consumer_dedup;
pub mod m4_inbox;
pub mod m5_dedup_window;
pub mod m6_idempotent_producer;
pub mod m7_transactions;
pub mod m8_checkpoint;
pub mod m9_dual_write;

use serde::{Deserialize, Serialize};
use sim_core::{SimDuration, SimTime, Step, Store};

use crate::check::CheckId;
use crate::matrix::FaultClass;
use crate::roles::{ConsumerDb, Source};
use crate::vocab::{IdSet, MsgKey};

/// A protocol model, as named in scenario files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ModelId {
    /// The seeds' message table; effect and status update are separate writes.
    M0Naive,
    /// The seeds' message table; effect and status update in one transaction.
    M0Atomic,
    /// Offset commit, then process.
    M1,
    /// Retry, process, then offset commit.
    M2,
    /// As M2, with an idempotent set handler (add, remove).
    M2Set,
    /// Consumer dedup: seen-set written after the effect.
    M3,
    /// Consumer dedup: seen-set in memory.
    M3Memory,
    /// Inbox: dedup record and effect in one transaction.
    M4,
    /// Inbox whose effect is an external call outside the transaction.
    M4External,
    /// Inbox whose entries expire after a dedup window.
    M5,
    /// Idempotent producer: session and sequence numbers.
    M6,
    /// Idempotency key with a stored response and retention.
    M11,
    /// Transactional consume-process-produce with KIP-890's defence.
    M7,
    /// Transactional consume-process-produce before KIP-890.
    M7Pre890,
    /// Transactional consume-process-produce, read by a `read_uncommitted`
    /// reader.
    M7ReadUncommitted,
    /// M7 with a transactional id per consumer process: nothing fences a
    /// zombie.
    M7Unfenced,
    /// M7 whose processing calls an external service.
    M7External,
    /// Checkpoint barriers and a two-phase-commit sink.
    M8,
    /// Checkpoint barriers, effects applied at once (at-least-once mode).
    M8AtLeastOnce,
    /// Naive dual write: database commit, then publish.
    M9,
    /// Naive dual write reversed: publish, then database commit.
    M9Reverse,
    /// Transactional outbox and relay, inbox downstream.
    M10,
    /// Transactional outbox and relay, plain (M2) consumer.
    M10Plain,
    /// Lease lock with a fencing token.
    M12,
    /// Lease lock without a fencing token.
    M12LeaseOnly,
}

/// What the catalogue says about a model.
#[derive(Clone, Copy, Debug)]
pub struct ModelInfo {
    /// The model.
    pub id: ModelId,
    /// Short code, as printed (`M0-naive`).
    pub code: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// The guarantee it claims.
    pub guarantee: &'static str,
    /// How it works, in one sentence.
    pub mechanism: &'static str,
    /// The checks it claims to keep under the faults it survives.
    pub claims: &'static [CheckId],
    /// The fault classes under which every claimed check holds (the fault
    /// matrix checks this, run by run).
    pub survives: &'static [FaultClass],
    /// The faults that break it and what they break.
    pub breakers: &'static str,
    /// Where it comes from.
    pub anchor: &'static str,
    /// The consumer's crash points, in the order a handler passes them.
    pub consumer_crash_points: &'static [&'static str],
    /// The producer's crash points (M9, M10: between its database and the
    /// broker).
    pub producer_crash_points: &'static [&'static str],
    /// A model that avoids its failures, for hints.
    pub remedy: &'static str,
}

impl ModelId {
    /// Every model, in teaching order.
    pub const ALL: [ModelId; 25] = [
        ModelId::M1,
        ModelId::M2,
        ModelId::M2Set,
        ModelId::M0Naive,
        ModelId::M0Atomic,
        ModelId::M3,
        ModelId::M3Memory,
        ModelId::M4,
        ModelId::M4External,
        ModelId::M5,
        ModelId::M6,
        ModelId::M11,
        ModelId::M7,
        ModelId::M7Pre890,
        ModelId::M7ReadUncommitted,
        ModelId::M7Unfenced,
        ModelId::M7External,
        ModelId::M8,
        ModelId::M8AtLeastOnce,
        ModelId::M9,
        ModelId::M9Reverse,
        ModelId::M10,
        ModelId::M10Plain,
        ModelId::M12,
        ModelId::M12LeaseOnly,
    ];

    /// The catalogue entry.
    pub fn info(self) -> &'static ModelInfo {
        match self {
            ModelId::M0Naive => &m0_seeds::NAIVE,
            ModelId::M0Atomic => &m0_seeds::ATOMIC,
            ModelId::M1 => &m1_at_most_once::INFO,
            ModelId::M2 => &m2_at_least_once::INFO,
            ModelId::M2Set => &m2_set::INFO,
            ModelId::M3 => &m3_consumer_dedup::DURABLE,
            ModelId::M3Memory => &m3_consumer_dedup::MEMORY,
            ModelId::M4 => &m4_inbox::INFO,
            ModelId::M4External => &m4_inbox::EXTERNAL,
            ModelId::M5 => &m5_dedup_window::INFO,
            ModelId::M6 => &m6_idempotent_producer::INFO,
            ModelId::M11 => &m11_idempotency_key::INFO,
            ModelId::M7 => &m7_transactions::TRANSACTIONAL,
            ModelId::M7Pre890 => &m7_transactions::PRE_KIP_890,
            ModelId::M7ReadUncommitted => &m7_transactions::READ_UNCOMMITTED,
            ModelId::M7Unfenced => &m7_transactions::UNFENCED,
            ModelId::M7External => &m7_transactions::EXTERNAL,
            ModelId::M8 => &m8_checkpoint::TWO_PHASE,
            ModelId::M8AtLeastOnce => &m8_checkpoint::AT_LEAST_ONCE,
            ModelId::M9 => &m9_dual_write::INFO,
            ModelId::M9Reverse => &m9_dual_write::REVERSE,
            ModelId::M10 => &m10_outbox::INFO,
            ModelId::M10Plain => &m10_outbox::PLAIN,
            ModelId::M12 => &m12_lease::FENCED,
            ModelId::M12LeaseOnly => &m12_lease::UNFENCED,
        }
    }

    /// Whether the model claims exactly-once, so that the law probe applies.
    pub fn claims_exactly_once(self) -> bool {
        self.info().claims.contains(&CheckId::C15)
    }

    /// Whether the producer retries until acked (otherwise fire-and-forget).
    pub fn producer_retries(self) -> bool {
        self != ModelId::M1
    }

    /// Where the producer's messages come from.
    pub fn producer_source(self) -> Source {
        match self {
            ModelId::M6 => Source::Idempotent,
            ModelId::M9 => Source::DualWrite,
            ModelId::M9Reverse => Source::DualWriteReverse,
            ModelId::M10 | ModelId::M10Plain => Source::Outbox,
            _ => Source::Memory,
        }
    }

    /// Whether the consumer is a streaming job with checkpoints (M8).
    pub fn streams(self) -> bool {
        matches!(self, ModelId::M8 | ModelId::M8AtLeastOnce)
    }

    /// Whether the consumers are transactional tasks (M7).
    pub fn transactional(self) -> bool {
        m7_transactions::rules(self).is_some()
    }

    /// Whether two consumers compete for partition 0 under a lease (M12).
    pub fn uses_lease(self) -> bool {
        matches!(self, ModelId::M12 | ModelId::M12LeaseOnly)
    }

    /// Whether its consumers can form a group whose partitions move
    /// between them (F-rebalance): not M0's worker, M8's job or M12's lease
    /// holders.
    pub fn has_consumer_group(self) -> bool {
        !(self.uses_recovery() || self.streams() || self.uses_lease())
    }

    /// Whether the model uses the seeds' recovery worker.
    pub fn uses_recovery(self) -> bool {
        matches!(self, ModelId::M0Naive | ModelId::M0Atomic)
    }
}

/// Where a consumer's processing step reports crash points and effects: the
/// engine's context in a run, or the law probe's forcing gate.
pub trait Gate {
    /// Pass a crash point while handling `key`.
    ///
    /// # Errors
    /// `Crashed` if the point fires.
    fn crash_point(&mut self, key: MsgKey, point: &'static str) -> Step;
    /// An effect of `key` was applied; it has now been applied `count` times.
    fn effect(&mut self, key: MsgKey, count: u32);
    /// The recovery worker returned `key` to `unprocessed`.
    fn compensate(&mut self, key: MsgKey);
    /// The time on the actor's own clock (dedup windows expire; a clock
    /// jump moves it).
    fn now(&self) -> SimTime;
    /// A copy of `key` arrived `age` after its dedup entry was recorded,
    /// past the `window`, and was taken for a new message (M5).
    fn late_copy(&mut self, key: MsgKey, age: SimDuration, window: SimDuration);
    /// A request for `key` came with an idempotency key already stored for
    /// `first`, and was refused without executing (M11).
    fn key_mismatch(&mut self, key: MsgKey, first: MsgKey);
}

/// A record as a consumer receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Record {
    /// The logical message.
    pub key: MsgKey,
    /// The id the protocol deduplicates on (equal for every retry of a
    /// message unless the producer makes new ids on retry).
    pub dedup_id: u64,
}

/// Process one delivered record from durable state (and `memory`, the
/// consumer's volatile dedup state, lost on a crash), as the model
/// prescribes, up to (not including) the offset commit. M1 is not here: it
/// commits before processing, across two messages.
///
/// # Errors
/// `Crashed` when a crash point fired.
pub fn process(
    model: ModelId,
    db: &mut Store<'_, ConsumerDb>,
    memory: &mut IdSet,
    (rec, checked): (Record, Option<bool>),
    gate: &mut impl Gate,
) -> Step {
    match model {
        ModelId::M3 | ModelId::M3Memory => {
            let seen_set = m3_consumer_dedup::seen_set(model);
            m3_consumer_dedup::process(db, memory, (rec, checked), seen_set, gate)
        }
        ModelId::M0Naive => m0_seeds::process(db, rec, m0_seeds::Variant::Naive, gate),
        ModelId::M0Atomic => m0_seeds::process(db, rec, m0_seeds::Variant::Atomic, gate),
        ModelId::M2 | ModelId::M6 | ModelId::M9 | ModelId::M9Reverse | ModelId::M10Plain => {
            m2_at_least_once::process(db, rec, gate)
        }
        ModelId::M4 | ModelId::M10 => m4_inbox::process(db, rec, gate),
        ModelId::M4External => m4_inbox::process_external(db, rec, gate),
        ModelId::M2Set => m2_set::process(db, rec, gate),
        ModelId::M5 => m5_dedup_window::process(db, rec, gate),
        ModelId::M11 => m11_idempotency_key::process(db, rec, gate),
        ModelId::M1 => unreachable!("M1 processes after its offset commit is acked"),
        ModelId::M12 | ModelId::M12LeaseOnly => {
            unreachable!("M12's consumers write to the storage under their lease")
        }
        ModelId::M8 | ModelId::M8AtLeastOnce => {
            unreachable!("M8's effects apply at checkpoints, not per record")
        }
        ModelId::M7
        | ModelId::M7Pre890
        | ModelId::M7ReadUncommitted
        | ModelId::M7Unfenced
        | ModelId::M7External => {
            unreachable!("M7's effects are output records read downstream")
        }
    }
}

/// What runs between a crashed attempt and its retry: the model's
/// compensation (the seeds' recovery worker), or nothing. `only` limits it
/// to one message's row.
pub fn compensate(
    model: ModelId,
    db: &mut Store<'_, ConsumerDb>,
    only: Option<MsgKey>,
    gate: &mut impl Gate,
) {
    if model.uses_recovery() {
        m0_seeds::compensate(db, only, gate);
    }
}

/// Apply one effect of `key` and report it.
pub(crate) fn apply_effect(db: &mut Store<'_, ConsumerDb>, key: MsgKey, gate: &mut impl Gate) {
    let count = db.transaction(|d| d.add_effect(key));
    gate.effect(key, count);
}

/// What an exactly-once model claims: no loss (C1, C2), no duplicate effect
/// (C3), consistent offsets (C5), no phantom (C6), no effect of a failed
/// operation (C7), exactly-once (C8), both
/// laws (C14, C15) and liveness (C16). Not C4: the broker appends every copy
/// it receives, and an exactly-once *effect* is built on top of that; not
/// C11 or C12: records are redelivered one by one, out of order.
pub const EXACTLY_ONCE_CLAIMS: &[CheckId] = &[
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
];

/// What an at-least-once model claims: no loss (C1, C2), consistent offsets
/// (C5), no phantom (C6) and liveness (C16).
pub const AT_LEAST_ONCE_CLAIMS: &[CheckId] = &[
    CheckId::C1,
    CheckId::C2,
    CheckId::C5,
    CheckId::C6,
    CheckId::C16,
];

/// The network's fault classes: what a model survives when only crashes
/// break it.
pub const NETWORK_FAULTS: &[FaultClass] = &[
    FaultClass::Loss,
    FaultClass::Duplicate,
    FaultClass::Reorder,
    FaultClass::Partition,
];

/// The crash point every strategy but M1 passes last, before it sends the
/// offset commit.
pub const AFTER_EFFECT_BEFORE_OFFSET_COMMIT: &str = "after-effect-before-offset-commit";
