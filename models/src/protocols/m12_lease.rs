//! **M12: lease lock, with or without a fencing token.**
//!
//! - *Mechanism.* Two consumers compete for partition 0. The broker, as a
//!   lease service, grants the lease to one of them with a token (1, 2, …);
//!   the holder renews it with each offset commit, and when a lease check
//!   finds it unrenewed for `broker.lease_ms` (default 100 ms), the lease
//!   moves to the other consumer with the next token and the uncommitted
//!   records are delivered to it. A consumer computes a record's effect for
//!   [`PROCESSING_TIME`] (records that arrive meanwhile are computed
//!   alongside, their writes sent in arrival order) and applies it by a
//!   write to the storage (the broker), carrying the token of the delivery
//!   and the record's offset, which the storage commits with the effect (a
//!   first version sent the offset commit apart; the 200-seed sweep found a
//!   refused zombie committing a record that never took effect, a loss, at
//!   seed 3). Two variants:
//!   - `M12`: the storage refuses a write whose token is below the highest
//!     it has seen (fencing);
//!   - `M12LeaseOnly`: the storage accepts every write (a lease alone).
//! - *Claimed guarantee.* `M12`: no write from a holder whose lease has
//!   passed on is accepted (C13), with at-least-once delivery (C1, C2, C5,
//!   C6, C16). `M12LeaseOnly`: at-least-once only.
//! - *Expected violations.* C3 and C8 under loss, as for M2: fencing
//!   excludes zombies, it does not deduplicate.
//! - *Breakers.* F-pause longer than the lease without fencing: the holder
//!   pauses (a stop-the-world GC, a stalled VM: the engine holds its
//!   datagrams and timers and it keeps its memory) while it computes a
//!   write; its lease passes to the other consumer, which applies the
//!   record; the paused one resumes and writes with its old token, and the
//!   storage accepts it (C13, and a duplicate effect: C3, C8). F-clock: a
//!   forward jump of the broker's clock ends a lease early, with the same
//!   zombie. A crash at `before-write` loses the writes in memory, which is
//!   harmless: the lease passes and the records are delivered again.
//! - *Anchor.* Kleppmann, "How to do distributed locking" (2016): the lock
//!   service issues a monotonically increasing token; storage rejects a write
//!   with a token below the highest seen (33 after 34). Kafka's producer
//!   epochs and consumer generations are the same idea.

use sim_core::{SimDuration, Step, Store};

use super::AT_LEAST_ONCE_CLAIMS;
use super::{ConsumerRole, Gate, Knob, ModelInfo, Protocol, Record, Wiring};
use crate::roles::ConsumerDb;
use crate::vocab::{CheckId, FaultClass, IdSet};

/// The lease holder crashes before it sends its write.
pub const BEFORE_WRITE: &str = "before-write";

/// How long a consumer computes a record's effect before it writes it.
pub const PROCESSING_TIME: SimDuration = SimDuration::from_ms(2);

/// The lease duration when the scenario sets none.
pub const DEFAULT_LEASE_MS: u64 = 100;

/// M12 as a protocol unit, with or without a fencing token.
#[derive(Debug)]
pub struct Lease {
    info: ModelInfo,
    fencing: bool,
}

/// The catalogue entry with fencing.
pub static FENCED: Lease = Lease {
    fencing: true,
    info: ModelInfo {
        name: "M12",
        code: "M12",
        title: "lease lock with a fencing token",
        guarantee: "no write from a stale lease holder; at-least-once delivery",
        mechanism: "the broker leases partition 0 to one of two consumers with an increasing \
                token; writes carry the token and the storage refuses one below the highest seen",
        claims: &[
            CheckId::C1,
            CheckId::C2,
            CheckId::C5,
            CheckId::C6,
            CheckId::C13,
            CheckId::C16,
        ],
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "none for zombies; duplicates from redelivery remain (C3, C8): fencing is not \
               dedup",
        anchor: "Kleppmann 2016, fencing tokens; Kafka epochs and generations",
        consumer_crash_points: &[BEFORE_WRITE],
        producer_crash_points: &[],
        remedy: "add an inbox (M4) at the storage for exactly-once effects",
        outside_claim: &[],
        fixed_by: None,
    },
};

/// The catalogue entry without fencing.
pub static UNFENCED: Lease = Lease {
    fencing: false,
    info: ModelInfo {
        name: "M12LeaseOnly",
        code: "M12-lease",
        title: "lease lock without a fencing token",
        guarantee: "at-least-once; mutual exclusion only while no holder pauses",
        mechanism: "as M12, but the storage accepts every write",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a pause longer than the lease: the old holder wakes as a zombie and its write \
               is accepted after the new holder's (C13, C3, C8)",
        anchor: "Kleppmann 2016: a lease/TTL lock alone is unsafe",
        consumer_crash_points: &[BEFORE_WRITE],
        producer_crash_points: &[],
        remedy: "M12: make the storage check a fencing token",
        outside_claim: &[FaultClass::Pause],
        fixed_by: Some("M12"),
    },
};

impl Protocol for Lease {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        Wiring {
            consumer: ConsumerRole::Leased {
                fencing: self.fencing,
            },
            ..Wiring::PER_RECORD
        }
    }

    fn knobs(&self) -> &'static [Knob] {
        &[Knob::LeaseMs]
    }

    /// Never called: M12's consumers write to the storage under their lease (see `roles/lease.rs`).
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
