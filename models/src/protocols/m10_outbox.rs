//! **M10: transactional outbox and relay (with an inbox downstream).**
//!
//! - *Mechanism.* The producer writes the business row and an outbox row in
//!   one transaction and acks its client. A relay publishes every outbox row
//!   not marked sent, retrying until the broker acks, then marks it sent; a
//!   restarted relay re-publishes every row not marked sent. Two variants:
//!   - `M10`: the consumer is M4's inbox (dedup record and effect in one
//!     transaction);
//!   - `M10Plain`: the consumer is M2's (process, then offset commit).
//! - *Claimed guarantee.* `M10`: exactly-once effect, whatever crashes on
//!   either side (C1, C2, C3, C5, C6, C8, C14, C15, C16). `M10Plain`:
//!   at-least-once (C1, C2, C5, C6, C16), no lost event.
//! - *Expected violations.* C4 always: the outbox publishes at least once.
//!   `M10Plain`: C3 and C8.
//! - *Breakers.* F-crash at `after-publish-before-mark-sent`: the relay
//!   published the event (the broker acked it) but crashed before marking
//!   it sent, so it publishes it again: a duplicate publish (C4), harmless
//!   with the inbox, a duplicate effect without (C3, C8). Two relays on one
//!   outbox (reordering) are not modelled.
//! - *Anchor.* microservices.io, "Transactional outbox" and "Transaction log
//!   tailing" ("tricky to avoid duplicate publishing", so consumers must be
//!   idempotent).

use sim_core::{Step, Store};

use super::{AFTER_EFFECT_BEFORE_OFFSET_COMMIT, EXACTLY_ONCE_CLAIMS, ModelInfo};
use super::{AT_LEAST_ONCE_CLAIMS, Gate, Protocol, Record, Wiring, m2_at_least_once, m4_inbox};
use crate::roles::{ConsumerDb, Source};
use crate::vocab::{FaultClass, IdSet};

/// The relay crashed after the broker acked a publish, before marking the
/// outbox row sent: the row is published again after the restart.
pub const AFTER_PUBLISH_BEFORE_MARK_SENT: &str = "after-publish-before-mark-sent";

/// M10 as a protocol unit, with or without an inbox downstream.
#[derive(Debug)]
pub struct Outbox {
    info: ModelInfo,
    inbox: bool,
}

/// The outbox with an inbox downstream.
pub static OUTBOX: Outbox = Outbox {
    inbox: true,
    info: ModelInfo {
        name: "M10",
        code: "M10",
        title: "transactional outbox and relay, inbox downstream",
        guarantee: "exactly-once effect",
        mechanism: "business row and outbox row in one transaction; a relay publishes unsent \
                rows until acked, then marks them sent; the consumer is M4's inbox",
        claims: EXACTLY_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a relay crash at after-publish-before-mark-sent publishes the event again \
               (C4), harmless only because of the inbox",
        anchor: "microservices.io Transactional outbox and Transaction log tailing",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[AFTER_PUBLISH_BEFORE_MARK_SENT],
        remedy: "keep the inbox: the outbox publishes at least once",
        outside_claim: &[],
        fixed_by: None,
    },
};

/// The outbox with a plain consumer.
pub static PLAIN: Outbox = Outbox {
    inbox: false,
    info: ModelInfo {
        name: "M10Plain",
        code: "M10-plain",
        title: "transactional outbox and relay, plain consumer",
        guarantee: "at-least-once (no lost event)",
        mechanism: "as M10, but the consumer is M2's: process, then offset commit",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a relay crash at after-publish-before-mark-sent publishes the event again, \
               and the consumer applies it twice (C3, C4, C8)",
        anchor: "microservices.io Transactional outbox (\"consumers must be idempotent\")",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[AFTER_PUBLISH_BEFORE_MARK_SENT],
        remedy: "M10: put an inbox (M4) downstream of the outbox",
        outside_claim: &[],
        fixed_by: Some("M10"),
    },
};

impl Protocol for Outbox {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        Wiring {
            producer: Source::Outbox,
            ..Wiring::PER_RECORD
        }
    }

    /// M4's inbox, or M2's plain consumer.
    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        rec: Record,
        _checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        if self.inbox {
            m4_inbox::process(db, rec, gate)
        } else {
            m2_at_least_once::process(db, rec, gate)
        }
    }
}
