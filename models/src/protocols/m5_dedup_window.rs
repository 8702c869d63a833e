//! **M5: bounded dedup window (an inbox whose entries expire).**
//!
//! - *Mechanism.* As M4, the consumer records each message id in the same
//!   transaction as the effect and skips ids it has recorded, but an entry
//!   only counts for the dedup window `W` after it was recorded
//!   (`consumer.dedup_window_ms`, default 300 000 ms, SQS FIFO's five
//!   minutes): a copy arriving later is treated as a new message.
//! - *Claimed guarantee.* Exactly-once effect for copies that arrive within
//!   `W` of the first (C1, C2, C3, C5, C6, C8, C14, C15, C16): every crash
//!   point, lost acks, redeliveries and network duplicates, as long as retries
//!   come back quickly.
//! - *Expected violations.* C4: the log holds duplicate appends.
//! - *Breakers.* A copy older than the window: an ack partition (or a delay)
//!   that keeps the producer retrying past `W`, or a redelivery delayed past
//!   `W` (F-reorder / F-part past W, F-expire). The violation says how late
//!   the copy was: "a copy arrived 300.010 s after the first was recorded;
//!   window 300 s".
//! - *Anchor.* AWS SQS FIFO `MessageDeduplicationId` (5-minute interval);
//!   NATS JetStream duplicate window (2 minutes); Azure Service Bus duplicate
//!   detection (10 minutes).

use sim_core::{Step, Store};

use super::{
    AFTER_EFFECT_BEFORE_OFFSET_COMMIT, EXACTLY_ONCE_CLAIMS, Gate, Horizon, Knob, ModelInfo,
    Protocol, Record,
};
use crate::history::Obs;
use crate::roles::ConsumerDb;
use crate::vocab::{FaultClass, IdSet};

/// The window when the scenario sets none: SQS FIFO's five minutes.
pub const DEFAULT_WINDOW_MS: u64 = 300_000;

/// M5 as a protocol unit.
#[derive(Debug)]
pub struct DedupWindow {
    info: ModelInfo,
}

/// The model.
pub static M5: DedupWindow = DedupWindow {
    info: ModelInfo {
        name: "M5",
        code: "M5",
        title: "bounded dedup window (inbox entries expire after W)",
        guarantee: "exactly-once effect within the dedup window",
        mechanism: "the consumer records each id with the effect, in one transaction, and skips \
                ids recorded less than W ago (consumer.dedup_window_ms, default 5 minutes)",
        claims: EXACTLY_ONCE_CLAIMS,
        survives: &[
            FaultClass::Loss,
            FaultClass::Duplicate,
            FaultClass::Reorder,
            FaultClass::Crash,
            FaultClass::Partition,
            FaultClass::Pause,
            FaultClass::Rebalance,
        ],
        breakers: "a retry or redelivery that arrives more than W after the first copy is applied \
               again (C3, C8, C15): an ack partition, a delay or a stuck offset commit past W, \
               or a clock that jumps ahead by more than W",
        anchor: "AWS SQS FIFO deduplication interval (5 min); NATS JetStream duplicate window \
             (2 min); Azure Service Bus duplicate detection (10 min)",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[],
        remedy: "keep dedup state for longer than any retry can take (M4 never forgets), or \
             bound retries by the window",
        outside_claim: &[],
        fixed_by: Some("M4"),
    },
};

/// In one transaction: unless the id was recorded less than `window` ago,
/// apply the effect and record the id now.
///
/// # Errors
/// `Crashed` at `after-effect-before-offset-commit` (harmless within the
/// window).
pub fn process(db: &mut Store<'_, ConsumerDb>, rec: Record, gate: &mut dyn Gate) -> Step {
    let now = gate.now();
    let applied = db.transaction(|d| {
        let window = d.dedup_window;
        let prior = d.window_entry(rec.dedup_id).map(|(t, _)| t);
        if prior.is_some_and(|t| now.since(t) < window) {
            return None;
        }
        d.record_window_entry(rec.dedup_id, now, rec.key);
        Some((prior, d.add_effect(rec.key), window))
    });
    if let Some((prior, count, window)) = applied {
        if let Some(first) = prior {
            let age = now.since(first);
            gate.observe(Obs::LateCopy {
                key: rec.key,
                age,
                window,
            });
        }
        gate.effect(rec.key, count);
    }
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
}

impl Protocol for DedupWindow {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn knobs(&self) -> &'static [Knob] {
        &[Knob::DedupWindowMs {
            default_ms: DEFAULT_WINDOW_MS,
        }]
    }

    fn horizons(&self, db: &ConsumerDb) -> Vec<Horizon> {
        vec![Horizon {
            name: "dedup window",
            lasts: db.dedup_window,
        }]
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
