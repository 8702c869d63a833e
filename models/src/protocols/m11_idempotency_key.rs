//! **M11: idempotency key with a stored response (Stripe).**
//!
//! - *Mechanism.* The consumer is an API server. Each request carries an
//!   idempotency key (the message's dedup id). The first execution stores
//!   the key, the request's parameters (which message it was) and its
//!   response in the same transaction as the effect. A request whose key is
//!   stored gets the stored response replayed, without executing, if its
//!   parameters match, and a key-mismatch error, without executing, if they
//!   differ. Keys are pruned after the retention `R`
//!   (`consumer.dedup_window_ms`, default 86 400 000 ms: Stripe keeps keys
//!   at least 24 hours); a request with a pruned key executes as new.
//! - *Claimed guarantee.* Exactly-once execution for client retries within
//!   the retention (C1, C2, C3, C5, C6, C8, C14, C15, C16).
//! - *Expected violations.* C4: the log holds duplicate appends.
//! - *Breakers.* A retry after the key was pruned executes again (C3, C8;
//!   the story gives the retry's age against the retention). A client that
//!   reuses a key for a different request (`producer.key_space` smaller than
//!   the workload) gets a key-mismatch error, and that request never executes
//!   (C1, C8). A concurrent duplicate in flight (answered 409 by Zuora and
//!   Worldline) cannot happen here: a handler runs atomically.
//! - *Anchor.* docs.stripe.com/idempotency and /api/idempotent_requests
//!   (first response replayed, including 500s; keys pruned after at least
//!   24 h; a parameter mismatch is an error).

use sim_core::{SimDuration, Step, Store};

use super::{
    AFTER_EFFECT_BEFORE_OFFSET_COMMIT, EXACTLY_ONCE_CLAIMS, Gate, Horizon, Knob, ModelInfo,
    Protocol, Record,
};
use crate::history::Obs;
use crate::roles::ConsumerDb;
use crate::vocab::{FaultClass, IdSet, MsgKey};

/// The retention when the scenario sets none: 24 hours.
pub const DEFAULT_RETENTION_MS: u64 = 86_400_000;

/// M11 as a protocol unit.
#[derive(Debug)]
pub struct IdempotencyKey {
    info: ModelInfo,
}

/// The model.
pub static M11: IdempotencyKey = IdempotencyKey {
    info: ModelInfo {
        name: "M11",
        code: "M11",
        title: "idempotency key with a stored response (Stripe)",
        guarantee: "exactly-once execution for retries within the key retention",
        mechanism: "the server stores key, parameters and response with the effect; a stored \
                key replays the response, or answers key-mismatch if the parameters differ; \
                keys are pruned after the retention (default 24 h)",
        claims: EXACTLY_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a retry after the key was pruned executes again (C3, C8); a key reused for a \
               different request is a key-mismatch and never executes (C1, C8)",
        anchor: "Stripe idempotent requests (docs.stripe.com/idempotency): first response \
             replayed, keys pruned after >= 24 h, parameter mismatch is an error",
        consumer_crash_points: &[AFTER_EFFECT_BEFORE_OFFSET_COMMIT],
        producer_crash_points: &[],
        remedy: "one fresh key per distinct request, kept longer than any retry can take",
        outside_claim: &[],
        fixed_by: None,
    },
};

/// What the server does with a request.
enum Answer {
    /// Executed: the effect applied, the response stored. `prior` is the
    /// message an expired entry for the key was stored for, `age` its age.
    Executed {
        prior: Option<MsgKey>,
        age: SimDuration,
        count: u32,
    },
    /// The stored response replayed.
    Replayed,
    /// The key was stored for another request.
    Mismatch(MsgKey),
}

/// In one transaction: replay, refuse, or execute and store the response.
///
/// # Errors
/// `Crashed` at `after-effect-before-offset-commit` (harmless: the retry
/// gets the stored response).
pub fn process(db: &mut Store<'_, ConsumerDb>, rec: Record, gate: &mut dyn Gate) -> Step {
    let now = gate.now();
    let retention = db.get().dedup_window;
    let answer = db.transaction(|d| match d.window_entry(rec.dedup_id) {
        Some((t, first)) if now.since(t) < retention && first != rec.key => Answer::Mismatch(first),
        Some((t, _)) if now.since(t) < retention => Answer::Replayed,
        prior => {
            d.record_window_entry(rec.dedup_id, now, rec.key);
            Answer::Executed {
                prior: prior.map(|(_, k)| k),
                age: prior.map_or(SimDuration::default(), |(t, _)| now.since(t)),
                count: d.add_effect(rec.key),
            }
        }
    });
    match answer {
        Answer::Executed { prior, age, count } => {
            if prior.is_some() {
                gate.observe(Obs::LateCopy {
                    key: rec.key,
                    age,
                    window: retention,
                });
            }
            gate.effect(rec.key, count);
        }
        Answer::Mismatch(first) => gate.observe(Obs::KeyMismatch {
            key: rec.key,
            first,
        }),
        Answer::Replayed => {}
    }
    gate.crash_point(rec.key, AFTER_EFFECT_BEFORE_OFFSET_COMMIT)
}

impl Protocol for IdempotencyKey {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn knobs(&self) -> &'static [Knob] {
        &[Knob::DedupWindowMs {
            default_ms: DEFAULT_RETENTION_MS,
        }]
    }

    fn horizons(&self, db: &ConsumerDb) -> Vec<Horizon> {
        vec![Horizon {
            name: "key retention",
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
