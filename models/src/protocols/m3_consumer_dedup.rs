//! **M3: consumer dedup, non-atomic (check → apply → record).**
//!
//! - *Mechanism.* As M2 (retry, process, then offset commit), but the
//!   consumer keeps a seen-set of message ids: it skips a record whose id is
//!   in the set, else applies the effect and *then*, as a separate write,
//!   adds the id. Two variants:
//!   - `M3`: the seen-set is a durable table, written after the effect;
//!   - `M3Memory`: the seen-set lives in memory and is lost with the process.
//! - *Claimed guarantee.* Exactly-once effect against duplicates from the
//!   network and from retries: a lost ack (duplicate append), a lost offset
//!   commit (redelivery) or a network duplicate finds the id in the set
//!   (C1, C2, C3, C5, C6, C8, C16). It does not claim the laws C14 and C15:
//!   the check, the effect and the record are separate steps, so a crash
//!   between them breaks `f(f(s,false),true) = f(s,true)` by construction,
//!   and the law probe shows it on every record, as for M0-naive (an
//!   unclaimed violation: lessons expect it).
//! - *Expected violations.* C4 (the log holds duplicate appends; the
//!   seen-set makes them harmless). Under crashes: C3 and C8.
//! - *Breakers.* F-crash at `after-effect-before-record`: the effect is
//!   applied, the id never recorded, the record redelivered and applied
//!   again. F-restart(vol) for `M3Memory`: a crash at any point, even
//!   `after-record-before-offset-commit`, empties the in-memory set, and
//!   every record applied but not yet offset-committed is applied again.
//!   F-rebalance, when processing takes time (`consumer.processing_ms`):
//!   the consumer checks the set when it starts on a record and records
//!   the id when done; a rebalance moves the partition to another consumer
//!   of the group while the first still works on the record, the new owner
//!   checks the same (shared) set before the id is recorded, and both pass
//!   the check (C3, C8).
//! - *Anchor.* DOMAIN §4 "Idempotent consumer / inbox": it breaks when "the
//!   id store is in a *different* transaction from the effect";
//!   microservices.io, "Idempotent Consumer".

use sim_core::{Step, Store};

use super::NETWORK_FAULTS;
use super::{Gate, Hints, ModelInfo, Protocol, Record, apply_effect};
use crate::roles::ConsumerDb;
use crate::vocab::FaultClass;
use crate::vocab::{CheckId, IdSet};

/// Crashed after the effect, before the id was added to the seen-set: the
/// redelivered record passes the check and is applied again.
pub const AFTER_EFFECT_BEFORE_RECORD: &str = "after-effect-before-record";
/// Crashed after recording the id, before the offset commit: harmless with
/// a durable seen-set, a duplicate with an in-memory one.
pub const AFTER_RECORD_BEFORE_OFFSET_COMMIT: &str = "after-record-before-offset-commit";

/// Where the seen-set lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeenSet {
    /// A durable table, written after the effect.
    Durable,
    /// Process memory, lost on a crash.
    Memory,
}

/// M3 as a protocol unit, one per place the seen-set lives.
#[derive(Debug)]
pub struct ConsumerDedup {
    info: ModelInfo,
    seen_set: SeenSet,
}

const CLAIMS: &[CheckId] = &[
    CheckId::C1,
    CheckId::C2,
    CheckId::C3,
    CheckId::C5,
    CheckId::C6,
    CheckId::C8,
    CheckId::C16,
];

/// The durable variant.
pub static DURABLE: ConsumerDedup = ConsumerDedup {
    seen_set: SeenSet::Durable,
    info: ModelInfo {
        name: "M3",
        code: "M3",
        title: "consumer dedup, non-atomic (check, apply, then record the id)",
        guarantee: "exactly-once effect against duplicates, not against crashes",
        mechanism: "the consumer skips ids in its seen-set, else applies the effect and then \
                records the id in a durable table, as a separate write",
        claims: CLAIMS,
        survives: NETWORK_FAULTS,
        breakers: "a crash at after-effect-before-record leaves the effect without its record: \
               the redelivery is applied again (C3, C8); a rebalance while a record is in \
               hand lets two consumers both pass the check (C3, C8)",
        anchor: "microservices.io Idempotent Consumer (breaks when the id store is in a different \
             transaction from the effect)",
        consumer_crash_points: &[
            AFTER_EFFECT_BEFORE_RECORD,
            AFTER_RECORD_BEFORE_OFFSET_COMMIT,
        ],
        producer_crash_points: &[],
        remedy: "M4 (inbox) records the id in the same transaction as the effect",
        outside_claim: &[FaultClass::Crash],
        fixed_by: Some("M4"),
    },
};

/// The in-memory variant.
pub static MEMORY: ConsumerDedup = ConsumerDedup {
    seen_set: SeenSet::Memory,
    info: ModelInfo {
        name: "M3Memory",
        code: "M3-memory",
        title: "consumer dedup with an in-memory seen-set",
        guarantee: "exactly-once effect against duplicates, until the process restarts",
        mechanism: "as M3, but the seen-set is kept in memory and lost on a crash",
        claims: CLAIMS,
        survives: NETWORK_FAULTS,
        breakers: "any crash empties the seen-set: records applied but not yet offset-committed \
               are redelivered and applied again (C3, C8)",
        anchor: "DOMAIN F-restart(vol): volatile dedup state lost on restart",
        consumer_crash_points: &[
            AFTER_EFFECT_BEFORE_RECORD,
            AFTER_RECORD_BEFORE_OFFSET_COMMIT,
        ],
        producer_crash_points: &[],
        remedy: "keep the seen-set durable and write it with the effect (M4)",
        outside_claim: &[FaultClass::Crash],
        fixed_by: Some("M4"),
    },
};

/// The check: whether the seen-set holds `id`.
pub fn seen(db: &ConsumerDb, memory: &IdSet, id: u64, seen_set: SeenSet) -> bool {
    match seen_set {
        SeenSet::Durable => db.inbox.contains(id),
        SeenSet::Memory => memory.contains(id),
    }
}

/// Check the seen-set (unless `checked` holds what the check found when
/// work on the record began), apply, record, then pass the last crash
/// point.
///
/// # Errors
/// `Crashed` at either crash point.
pub fn process(
    db: &mut Store<'_, ConsumerDb>,
    memory: &mut IdSet,
    (rec, checked): (Record, Option<bool>),
    seen_set: SeenSet,
    gate: &mut dyn Gate,
) -> Step {
    let id = rec.dedup_id;
    if checked.unwrap_or_else(|| seen(db.get(), memory, id, seen_set)) {
        return Ok(());
    }
    apply_effect(db, rec.key, gate);
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_RECORD)?;
    match seen_set {
        SeenSet::Durable => {
            db.transaction(|d| d.inbox.insert(id));
        }
        SeenSet::Memory => {
            memory.insert(id);
        }
    }
    gate.crash_point(rec.key, AFTER_RECORD_BEFORE_OFFSET_COMMIT)
}

impl Protocol for ConsumerDedup {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        memory: &mut IdSet,
        rec: Record,
        checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        process(db, memory, (rec, checked), self.seen_set, gate)
    }

    /// The seen-set is checked when work on a record begins.
    fn check_on_start(&self, db: &ConsumerDb, memory: &IdSet, rec: Record) -> Option<bool> {
        Some(seen(db, memory, rec.dedup_id, self.seen_set))
    }

    fn hints(&self) -> Hints {
        Hints {
            rebalance_duplicate: Some(
                "both passed the seen-set check before either recorded the id",
            ),
            ..Hints::DEFAULT
        }
    }
}
