//! **KV-setnx: dedup with a key-value store's set-if-absent, then the
//! effect**, a protocol written outside eosim's catalogue against its
//! public API only (see the README's "Write your own protocol").
//!
//! - *Mechanism.* Before it applies a record's effect, the consumer claims
//!   the record's dedup id in a key-value store with set-if-absent (Redis
//!   `SET key 1 NX`). If the key was already there it skips the record;
//!   otherwise it applies the effect. Then it commits the offset.
//!   - [`NAIVE`]: the claim and the effect are two writes (the store is not
//!     the database the effect goes to);
//!   - [`ATOMIC`]: the claim and the effect are one transaction (the key
//!     lives in the same database as the effect).
//! - *Claimed guarantee.* Exactly-once effect: a duplicate, a redelivery or
//!   a retry finds its key and is skipped.
//! - *What breaks it.* A crash between the claim and the effect: the key is
//!   set, the effect never happened, and the redelivery is skipped, so the
//!   message is lost (C1). The law probe shows it on every record, crash or
//!   not: a failed attempt followed by a retry, `f(f(s,false),true)`, leaves
//!   no effect, one clean attempt `f(s,true)` leaves one (C15).
//! - *Anchor.* The "SETNX dedup key" pattern of many Redis-backed
//!   consumers; microservices.io, "Idempotent Consumer" (the id store must
//!   be in the same transaction as the effect).

use eosim::models::history::Ledger;
use eosim::models::protocols::{
    CrashCause, EXACTLY_ONCE_CLAIMS, Gate, Hints, ModelInfo, NETWORK_FAULTS, Property, Protocol,
    Record, Registry, apply_effect,
};
use eosim::models::roles::{ConsumerDb, ProtocolState};
use eosim::models::vocab::{IdSet, MsgKey};
use eosim::sim_core::{Step, Store};

/// The key-value store the consumer claims ids in: its durable state, of
/// the protocol's own type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyStore {
    keys: std::collections::BTreeSet<u64>,
}

impl KeyStore {
    /// Redis `SET key 1 NX`: store `key` unless it is there; returns
    /// whether it stored it.
    pub fn set_if_absent(&mut self, key: u64) -> bool {
        self.keys.insert(key)
    }
}

/// Claim `id` in the consumer's key store; returns whether it was free.
fn claim(d: &mut ConsumerDb, id: u64) -> bool {
    d.own_mut::<KeyStore>()
        .is_some_and(|store| store.set_if_absent(id))
}

/// Crashed after the key was set, before the effect: the record is lost.
pub const AFTER_CLAIM_BEFORE_EFFECT: &str = "after-claim-before-effect";
/// Crashed after the effect, before the offset commit: harmless, the
/// redelivery finds the key.
pub const AFTER_EFFECT_BEFORE_OFFSET_COMMIT: &str = "after-effect-before-offset-commit";

/// The protocol, in either variant.
#[derive(Debug)]
pub struct KvDedup {
    info: ModelInfo,
    atomic: bool,
}

/// Set-if-absent, then the effect, as two writes.
pub static NAIVE: KvDedup = KvDedup {
    atomic: false,
    info: ModelInfo {
        code: "KV-setnx",
        guarantee: "exactly-once effect (claimed)",
        mechanism: "claim the dedup id with set-if-absent in a key-value store, skip the \
                    record if it was taken, else apply the effect; two separate writes",
        claims: EXACTLY_ONCE_CLAIMS,
        survives: NETWORK_FAULTS,
        breakers: "a crash at after-claim-before-effect: the key is set, the effect never \
                   ran, the redelivery is skipped (C1, C8, C15)",
        anchor: "Redis SET NX dedup keys; microservices.io Idempotent Consumer",
        consumer_crash_points: &[AFTER_CLAIM_BEFORE_EFFECT, AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        remedy: "KvDedupAtomic: set the key in the effect's transaction",
        ..ModelInfo::new("KvDedup", "dedup with set-if-absent, then the effect")
    },
};

/// Set-if-absent and the effect in one transaction.
pub static ATOMIC: KvDedup = KvDedup {
    atomic: true,
    info: ModelInfo {
        code: "KV-setnx-atomic",
        guarantee: "exactly-once effect",
        mechanism: "claim the dedup id with set-if-absent and apply the effect in one \
                    transaction; skip the record if the id was taken",
        claims: EXACTLY_ONCE_CLAIMS,
        survives: &eosim::models::matrix::FaultClass::ABOVE_THE_LOG,
        breakers: "a producer that re-sends with a new id gets a second effect (C3, C8)",
        anchor: "microservices.io Idempotent Consumer (id store in the effect's transaction)",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        remedy: "keep the dedup id stable across retries",
        ..ModelInfo::new(
            "KvDedupAtomic",
            "dedup with set-if-absent, in the effect's transaction",
        )
    },
};

/// The protocol's own property: a message the consumer was handed takes
/// effect. The naive variant breaks it when the key outlives a crash.
pub static DELIVERED_TAKES_EFFECT: Property = Property {
    name: "DeliveredTakesEffect",
    means: "every message delivered to a consumer takes effect",
    evaluate: delivered_without_effect,
};

/// The messages delivered at least once and never applied.
fn delivered_without_effect(ledger: &Ledger) -> Vec<(MsgKey, String)> {
    ledger
        .messages
        .iter()
        .filter(|(_, m)| !m.deliveries.is_empty() && m.effect_count() == 0)
        .map(|(key, m)| {
            (
                *key,
                format!("delivered {}×, never applied", m.deliveries.len()),
            )
        })
        .collect()
}

impl Protocol for KvDedup {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        rec: Record,
        _checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step {
        if self.atomic {
            let applied = db.transaction(|d| claim(d, rec.dedup_id).then(|| d.add_effect(rec.key)));
            if let Some(count) = applied {
                gate.effect(rec.key, count);
            }
        } else if db.transaction(|d| claim(d, rec.dedup_id)) {
            gate.crash_point(rec.key, AFTER_CLAIM_BEFORE_EFFECT)?;
            apply_effect(db, rec.key, gate);
        }
        gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
    }

    fn durable_state(&self) -> Option<Box<dyn ProtocolState>> {
        Some(Box::new(KeyStore::default()))
    }

    fn properties(&self) -> &'static [Property] {
        std::slice::from_ref(&DELIVERED_TAKES_EFFECT)
    }

    fn hints(&self) -> Hints {
        let lost = CrashCause {
            at: AFTER_CLAIM_BEFORE_EFFECT,
            why: "its dedup key was set before the crash and the effect never ran: the \
                  redelivery found the key taken and skipped it",
        };
        Hints {
            lost_effect: (!self.atomic).then_some(lost),
            ..Hints::DEFAULT
        }
    }
}

/// The built-in catalogue with both variants added.
pub fn registry() -> Registry {
    Registry::builtin().with(&NAIVE).with(&ATOMIC)
}
