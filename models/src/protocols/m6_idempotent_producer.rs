//! **M6: idempotent producer (session, sequence numbers, last 5 batches).**
//!
//! - *Mechanism.* Each producer session (Kafka's PID and epoch) numbers its
//!   batches per partition from 0; the broker appends a batch only if it is
//!   the next in sequence, answers a retry of any of the last 5 batches it
//!   remembers with an ack, drops a batch that arrives ahead of a missing one
//!   (the producer retries it), and answers a batch behind the sequence that
//!   it no longer remembers with `OutOfOrderSequence`, on which the producer
//!   starts a new session (bumps its epoch) and re-sends with sequences from
//!   0. At most `producer.max_in_flight` messages are unacked (default 5,
//!   Kafka's limit). The producer remembers durably which messages await
//!   their ack, and re-sends them after a restart, in a new session: without
//!   a `transactional.id` it gets a new PID. The consumer is M2's.
//! - *Claimed guarantee.* No duplicate append from the producer's own retries
//!   within a session (C4), in order, with at-least-once delivery (C1, C2,
//!   C5, C6, C16).
//! - *Expected violations.* C3 and C8: it does nothing for consumers (a lost
//!   offset commit or a consumer crash still repeats an effect).
//! - *Breakers.* A producer restart (F-crash at `after-send-before-ack`): the
//!   new session cannot recognise batches of the old one, so a message whose
//!   ack was lost is appended again (C4). More than 5 in flight
//!   (`max_in_flight` above 5) with lost acks: a retry falls out of the
//!   broker's memory, the broker answers `OutOfOrderSequence`, the producer
//!   bumps its epoch and re-sends, and the message is appended again (C4),
//!   the hole of KAFKA-17926 and Redpanda #3039.
//! - *Anchor.* Kafka KIP-98 idempotent producer:
//!   `ProducerStateEntry.NUM_BATCHES_TO_RETAIN = 5`,
//!   `max.in.flight.requests.per.connection <= 5`; "idempotence for messages
//!   sent within a single session" (KafkaProducer javadoc).

use sim_core::{Step, Store};

use super::{AFTER_EFFECT_BEFORE_OFFSET_COMMIT, Gate, Knob, ModelInfo, Protocol, Record, Wiring};
use super::{NETWORK_FAULTS, m2_at_least_once};
use crate::roles::{ConsumerDb, Source};
use crate::vocab::FaultClass;
use crate::vocab::{CheckId, IdSet};

/// The producer crashed while waiting for an ack: it restarts with a new
/// session and re-sends what was not acked.
pub const AFTER_SEND_BEFORE_ACK: &str = "after-send-before-ack";

/// Kafka's limit on unacked requests, and the default.
pub const MAX_IN_FLIGHT_DEFAULT: u32 = 5;

/// M6 as a protocol unit.
#[derive(Debug)]
pub struct IdempotentProducer {
    info: ModelInfo,
}

/// The model.
pub static M6: IdempotentProducer = IdempotentProducer {
    info: ModelInfo {
        name: "M6",
        code: "M6",
        title: "idempotent producer (session, sequence numbers, last 5 batches)",
        guarantee: "no duplicate append within a producer session; at-least-once delivery",
        mechanism: "the broker appends each session's batches once and in sequence, remembering \
                the last 5; at most 5 unacked; OutOfOrderSequence starts a new session; the \
                consumer is M2's",
        claims: &[
            CheckId::C1,
            CheckId::C2,
            CheckId::C4,
            CheckId::C5,
            CheckId::C6,
            CheckId::C16,
        ],
        survives: NETWORK_FAULTS,
        breakers: "a producer restart (new PID) or more than 5 in flight appends a message again \
               (C4); consumers still repeat effects (C3, C8)",
        anchor: "Kafka KIP-98 (NUM_BATCHES_TO_RETAIN = 5, max.in.flight <= 5); KAFKA-17926; \
             Redpanda #3039",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[AFTER_SEND_BEFORE_ACK],
        remedy: "a stable transactional.id (fenced epochs, M7) across restarts, at most 5 in \
             flight, and an inbox (M4) at the consumer",
        outside_claim: &[FaultClass::Crash],
        fixed_by: None,
    },
};

impl Protocol for IdempotentProducer {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        Wiring {
            producer: Source::Idempotent,
            ..Wiring::PER_RECORD
        }
    }

    fn knobs(&self) -> &'static [Knob] {
        &[Knob::MaxInFlight]
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
