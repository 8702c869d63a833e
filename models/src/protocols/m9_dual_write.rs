//! **M9: naive dual write (database commit, then publish).**
//!
//! - *Mechanism.* The producer is a service with its own database. Each
//!   operation commits a business row, answers its client (the operation is
//!   acked), then publishes the event to the broker, retrying until the broker
//!   acks. The two writes share no transaction, and whether the event was
//!   published is kept only in memory. The consumer is M2's (process, then
//!   offset commit).
//! - *Claimed guarantee.* Nothing beyond M2: at-least-once for events that
//!   were published (C1, C2, C5, C6, C16 under network faults).
//! - *Expected violations.* C3, C4 and C8 as for M2 (lost acks, redeliveries).
//! - *Breakers.* F-crash at `after-db-commit-before-publish`: the row is
//!   committed and the client told, but the event is never published; the
//!   restarted service resumes with the next row. A crash while a publish
//!   awaits its broker ack loses the retry too. Both are a **lost event**
//!   (C1, C2, C8).
//! - *The reverse order*, `M9Reverse` (`M9-rev`): publish, then commit the
//!   row once the broker acked. A crash at `after-publish-before-db-commit`
//!   rolls the operation back (its client gets an error: the operation
//!   failed) while its event is already out and takes effect downstream: a
//!   **phantom event** (C7 no-aborted-effect, C8).
//! - *Anchor.* DOMAIN §4 "Dual write (anti-pattern)": "crash between the two:
//!   DB-then-publish gives a lost event"; microservices.io, Transactional
//!   outbox (the problem it solves).

use sim_core::{Step, Store};

use super::{AFTER_EFFECT_BEFORE_OFFSET_COMMIT, Gate, ModelInfo, Protocol, Record, Wiring};
use super::{AT_LEAST_ONCE_CLAIMS, NETWORK_FAULTS, m2_at_least_once};
use crate::roles::{ConsumerDb, Source};
use crate::vocab::IdSet;

/// The producer crashed after committing the business row, before
/// publishing its event: the event is lost.
pub const AFTER_DB_COMMIT_BEFORE_PUBLISH: &str = "after-db-commit-before-publish";
/// The producer (M9-rev) crashed after the broker acked the event, before
/// committing the business row: the operation is rolled back, its event
/// is out: a phantom.
pub const AFTER_PUBLISH_BEFORE_DB_COMMIT: &str = "after-publish-before-db-commit";

/// M9 as a protocol unit, one per order of the two writes.
#[derive(Debug)]
pub struct DualWrite {
    info: ModelInfo,
    source: Source,
}

/// Database commit, then publish.
pub static DUAL_WRITE: DualWrite = DualWrite {
    source: Source::DualWrite,
    info: ModelInfo {
        name: "M9",
        code: "M9",
        title: "naive dual write (database commit, then publish)",
        guarantee: "at-least-once, for events that were published",
        mechanism: "the producer commits a business row and acks its client, then publishes the \
                event with retries tracked in memory; the consumer is M2's",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: NETWORK_FAULTS,
        breakers: "a producer crash at after-db-commit-before-publish (or while a publish awaits \
               its ack) loses the event of a committed row (C1, C2, C8)",
        anchor: "DOMAIN §4 dual write anti-pattern; microservices.io Transactional outbox",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[AFTER_DB_COMMIT_BEFORE_PUBLISH],
        remedy: "M10 writes the event into an outbox in the business transaction; a relay \
             publishes it",
        outside_claim: &[],
        fixed_by: Some("M10"),
    },
};

/// Publish, then database commit.
pub static REVERSE: DualWrite = DualWrite {
    source: Source::DualWriteReverse,
    info: ModelInfo {
        name: "M9Reverse",
        code: "M9-rev",
        title: "naive dual write, reversed (publish, then database commit)",
        guarantee: "at-least-once, for operations that committed",
        mechanism: "the producer publishes the event, and commits the business row and acks its \
                client once the broker acked; the consumer is M2's",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: NETWORK_FAULTS,
        breakers: "a producer crash at after-publish-before-db-commit rolls the operation back \
               while its event takes effect: a phantom (C7, C8)",
        anchor: "DOMAIN §4 dual write anti-pattern: \"publish-then-DB gives a phantom event for \
             state that rolled back\"",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[AFTER_PUBLISH_BEFORE_DB_COMMIT],
        remedy: "M10 writes the event into an outbox in the business transaction",
        outside_claim: &[],
        fixed_by: Some("M10"),
    },
};

impl Protocol for DualWrite {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        Wiring {
            producer: self.source,
            ..Wiring::PER_RECORD
        }
    }

    /// M2's consumer.
    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        rec: Record,
        _checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        m2_at_least_once::process(db, rec, gate)
    }
}
