//! Checkers: pure functions from a run's history to verdicts, numbered and
//! named as in the catalogue (C1 no-loss … C16 liveness), plus the law probes
//! C14 and C15. Each is one [`Checker`] unit in [`CHECKERS`]: its name,
//! Jepsen name, meaning, evaluation and the sentence that explains a
//! violation; the families below hold the evaluations.
//!
//! - [`delivery`]: C1, C3, C6, C7, C8 and C16 on the per-message ledger.
//! - [`log`]: C2, C4 and C5 on the partition logs, and C13 on the storage's
//!   lease-token writes.
//! - [`order`]: C11 and C12, order per key and per consumer.
//! - [`txn`]: C9 and C10 on M7's transactions (and the aborted reads C7
//!   counts).
//! - C14 and C15 here read the reports of the law probe, which the
//!   consumer role runs before each record (`roles/law_probe.rs`).

pub mod delivery;
pub mod log;
pub mod order;
pub mod txn;

use sim_core::{ActorId, RunEnd, SimTime};

use crate::history::{Law, Ledger};
use serde::Deserialize;

use crate::protocols::{Model, Property, registry};
pub use crate::vocab::CheckId;
use crate::vocab::MsgKey;

/// A checker as one unit: what the check is called, what it means, how a
/// run is judged, and the sentence that states a violation's contradiction.
/// Every checker is registered in [`CHECKERS`], in report order.
pub struct Checker {
    /// The check.
    pub id: CheckId,
    /// Its name (`no-duplicate-effect`).
    pub name: &'static str,
    /// The Jepsen anomaly name, where one exists.
    pub jepsen: Option<&'static str>,
    /// What it requires, in a sentence.
    pub means: &'static str,
    /// Judge a run.
    pub evaluate: fn(&CheckInput<'_>) -> Status,
    /// The last sentence of a violation's explanation: the rule, and the
    /// fact of the run that contradicts it.
    pub contradiction: fn(&Witness<'_>) -> String,
}

/// What a violation's last sentence rests on.
pub struct Witness<'a> {
    /// The message concerned (`p1#3`), or "a message".
    pub message: &'a str,
    /// How many times it took effect, in words (`twice`).
    pub times: &'a str,
    /// The violation.
    pub violation: &'a Violation,
}

/// Every checker, in report order (the order of [`CheckId::ALL`]).
pub static CHECKERS: [Checker; 16] = [
    Checker {
        id: CheckId::C1,
        name: "no-loss",
        jepsen: Some("lost"),
        means: "no acked message is left without effect once the run drained",
        evaluate: delivery::no_loss,
        contradiction: |w| {
            format!(
                "However, no-loss requires every acked message to take effect, and {} was acked \
                 but never applied: a contradiction.",
                w.message
            )
        },
    },
    Checker {
        id: CheckId::C2,
        name: "prefix-no-loss",
        jepsen: Some("lost-write"),
        means: "no acked message is left unapplied while a later offset of its partition \
                took effect",
        evaluate: log::prefix_no_loss,
        contradiction: |w| {
            format!(
                "However, prefix-no-loss requires every acked message before a consumed offset \
                 to be consumed too, and {} was skipped ({}): a contradiction.",
                w.message, w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C3,
        name: "no-duplicate-effect",
        jepsen: Some("duplicated"),
        means: "no message takes effect twice",
        evaluate: delivery::no_duplicate_effect,
        contradiction: |w| {
            format!(
                "However, no-duplicate-effect allows one effect per message, and {} took effect \
                 {}: a contradiction.",
                w.message, w.times
            )
        },
    },
    Checker {
        id: CheckId::C4,
        name: "no-duplicate-append",
        jepsen: Some("duplicate"),
        means: "no message is appended twice",
        evaluate: log::no_duplicate_append,
        contradiction: |w| {
            format!(
                "However, no-duplicate-append allows one append per message, and {} was \
                 appended more than once ({}): a contradiction.",
                w.message, w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C5,
        name: "offset-uniqueness",
        jepsen: Some("inconsistent-offsets"),
        means: "no offset holds two messages",
        evaluate: log::offset_uniqueness,
        contradiction: |w| {
            format!(
                "However, offset-uniqueness allows one message per offset ({}): a contradiction.",
                w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C6,
        name: "no-phantom",
        jepsen: Some("unexpected"),
        means: "nothing takes effect that was never sent",
        evaluate: delivery::no_phantom,
        contradiction: |w| {
            format!(
                "However, only messages that were sent may take effect, and {} never was: a \
                 contradiction.",
                w.message
            )
        },
    },
    Checker {
        id: CheckId::C7,
        name: "no-aborted-effect",
        jepsen: Some("G1a"),
        means: "nothing takes effect whose operation failed (was rolled back)",
        evaluate: delivery::no_aborted_effect,
        contradiction: |w| {
            format!(
                "However, no-aborted-effect allows no effect for an operation that failed, and {} \
                 took effect {} ({}): a contradiction.",
                w.message, w.times, w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C8,
        name: "exactly-once",
        jepsen: None,
        means: "an acked message takes effect once, an indeterminate one at most once, a \
                failed one never",
        evaluate: delivery::exactly_once,
        contradiction: |w| {
            format!(
                "However, exactly-once allows one effect for an acked message, at most one if \
                 never acked and none if failed, and {} took effect {} ({}): a contradiction.",
                w.message, w.times, w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C9,
        name: "transaction-atomicity",
        jepsen: Some("G1b"),
        means: "a transaction's output and input offset commit are seen together or not at all",
        evaluate: txn::atomicity,
        contradiction: |w| {
            format!(
                "However, transaction-atomicity requires a transaction's output and input offset \
                 commit to be seen together or not at all ({}): a contradiction.",
                w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C10,
        name: "no-early-read",
        jepsen: Some("precommitted-read"),
        means: "a read_committed reader never reads a record before its transaction commits",
        evaluate: txn::no_early_read,
        contradiction: |w| {
            format!(
                "However, no-early-read requires a read_committed reader to read only committed \
                 records ({}): a contradiction.",
                w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C11,
        name: "order-per-key",
        jepsen: Some("nonmonotonic-send"),
        means: "a message acked before the next was sent is appended and applied first",
        evaluate: order::order_per_key,
        contradiction: |w| {
            format!(
                "However, order-per-key requires a later message of a key to come after an \
                 earlier acked one ({}): a contradiction.",
                w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C12,
        name: "consumer-monotonic",
        jepsen: Some("nonmonotonic-poll, poll-skip"),
        means: "a consumer's deliveries on a partition never go back or skip",
        evaluate: order::consumer_monotonic,
        contradiction: |w| {
            format!(
                "However, consumer-monotonic requires a consumer's offsets to move forward ({}): \
                 a contradiction.",
                w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C13,
        name: "fencing",
        jepsen: Some("zombie write"),
        means: "no write under a lease token below one already established",
        evaluate: log::fencing,
        contradiction: |w| {
            format!(
                "However, fencing refuses a write under a token older than one already seen \
                 ({}): a contradiction.",
                w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C14,
        name: "idempotence-law",
        jepsen: None,
        means: "processing a record twice leaves the state of processing it once: \
                h(h(s,m),m) = h(s,m)",
        evaluate: |input| law_status(input, Law::Idempotence),
        contradiction: |w| {
            format!(
                "However, the idempotence law h(h(s,m),m) = h(s,m) requires processing {} twice \
                 to leave the state of processing it once: {}.",
                w.message, w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C15,
        name: "retry-law",
        jepsen: None,
        means: "a failed attempt followed by a completed retry equals one completed attempt: \
                f(f(s,false),true) = f(s,true)",
        evaluate: |input| law_status(input, Law::Retry),
        contradiction: |w| {
            format!(
                "However, the retry law f(f(s,false),true) = f(s,true) requires a crashed attempt \
                 plus a retry to leave the state of one clean attempt: {}.",
                w.violation.summary
            )
        },
    },
    Checker {
        id: CheckId::C16,
        name: "liveness",
        jepsen: Some("unseen"),
        means: "after the faults heal, every acked message takes effect",
        evaluate: delivery::liveness,
        contradiction: |w| {
            if w.violation.cause == delivery::HANGING_TRANSACTION {
                format!(
                    "However, liveness requires every transaction to end, so that a \
                     read_committed reader can read past it, and {}'s output is in one that \
                     never will ({}): a contradiction.",
                    w.message, w.violation.summary
                )
            } else {
                format!(
                    "However, liveness requires every acked message to take effect once the \
                     faults heal, and {} never did: a contradiction.",
                    w.message
                )
            }
        },
    },
];

impl CheckId {
    /// The check's unit in [`CHECKERS`]; `None` for a protocol's property.
    pub fn checker(self) -> Option<&'static Checker> {
        CHECKERS.iter().find(|c| c.id == self)
    }

    /// The check's name (`no-duplicate-effect`; a property's own name).
    pub fn name(self) -> &'static str {
        match self {
            CheckId::Property(name) => name,
            _ => self.checker().map_or("", |c| c.name),
        }
    }

    /// The Jepsen anomaly name, where one exists.
    pub fn jepsen(self) -> Option<&'static str> {
        self.checker().and_then(|c| c.jepsen)
    }

    /// What the check requires, in a sentence.
    pub fn means(self) -> &'static str {
        match self {
            CheckId::Property(name) => registry().property(name).map_or("", |p| p.means),
            _ => self.checker().map_or("", |c| c.means),
        }
    }

    /// The last sentence of `w`'s explanation: the rule and the fact that
    /// contradicts it.
    pub fn contradiction(self, w: &Witness<'_>) -> String {
        match self.checker() {
            Some(c) => (c.contradiction)(w),
            None => format!(
                "However, {} requires that {}, and {} broke it ({}): a contradiction.",
                self.name(),
                self.means(),
                w.message,
                w.violation.summary
            ),
        }
    }

    /// Number and name (`C3 no-duplicate-effect`); a property's name alone.
    pub fn heading(self) -> String {
        match self {
            CheckId::Property(name) => name.to_string(),
            _ => format!("{} {}", self.code(), self.name()),
        }
    }

    /// Number, name and Jepsen anomaly, as printed in catalogues:
    /// `C3 no-duplicate-effect (duplicated)`.
    pub fn label(self) -> String {
        match self.jepsen() {
            Some(j) => format!("{} ({j})", self.heading()),
            None => self.heading(),
        }
    }
}

/// One broken promise, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The check.
    pub check: CheckId,
    /// The message concerned, if one.
    pub subject: Option<MsgKey>,
    /// One line: what is wrong.
    pub summary: String,
    /// What happened to the message, step by step.
    pub story: Vec<String>,
    /// The crash point involved, if any.
    pub crash_point: Option<&'static str>,
    /// The cause in a few words, the same for every violation with the same
    /// root cause (sweeps cluster failures by it).
    pub cause: &'static str,
}

/// The outcome of one check on one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// It held; the text says over what.
    Held(String),
    /// It was violated.
    Violated(Vec<Violation>),
    /// It does not apply to this run (no transaction ran, no write carried
    /// a token); the text says why.
    Skipped(String),
    /// It applies to this run but was not evaluated (the law probe is off,
    /// or the handler cannot be probed); the text says why. A check a model
    /// claims is never left unchecked silently: runs and sweeps say so.
    Unchecked(String),
}

/// A check and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckResult {
    /// The check.
    pub check: CheckId,
    /// Its outcome.
    pub status: Status,
}

/// What the checkers read.
pub struct CheckInput<'a> {
    /// The protocol model.
    pub model: Model,
    /// The per-message ledger.
    pub ledger: &'a Ledger,
    /// How the run ended.
    pub end: &'a RunEnd,
    /// When faults stopped.
    pub healed_at: SimTime,
    /// Actor names, by id.
    pub names: &'a [String],
    /// Whether the law probe ran.
    pub probe: bool,
    /// Whether every broker → consumer link is FIFO, so that the order in
    /// which a consumer receives records is the broker's to keep (C11's
    /// consumer side and C12 are judged only then).
    pub ordered_delivery: bool,
    /// Whether a message's violations tell its story
    /// ([`Violation::story`]); an exploring search keeps only their
    /// summaries, and judges many states.
    pub stories: bool,
}

impl CheckInput<'_> {
    /// An actor's name.
    pub fn name(&self, a: ActorId) -> &str {
        &self.names[a.index()]
    }

    /// Whether the run drained, so that loss can be told from delay.
    pub fn drained(&self) -> bool {
        self.end.reason.is_quiet()
    }
}

/// Run the checks, then the protocol's own properties, that `wanted`
/// picks (the others are left out of the results).
pub fn run_those(input: &CheckInput<'_>, wanted: impl Fn(CheckId) -> bool) -> Vec<CheckResult> {
    let checks = CHECKERS
        .iter()
        .filter(|c| wanted(c.id))
        .map(|c| CheckResult {
            check: c.id,
            status: (c.evaluate)(input),
        });
    let properties = input
        .model
        .unit()
        .properties()
        .iter()
        .filter(|p| wanted(CheckId::Property(p.name)))
        .map(|p| CheckResult {
            check: CheckId::Property(p.name),
            status: property_status(input, p),
        });
    checks.chain(properties).collect()
}

/// Judge a protocol's property on the run's ledger.
fn property_status(input: &CheckInput<'_>, p: &Property) -> Status {
    let broken = (p.evaluate)(input.ledger);
    if broken.is_empty() {
        let n = input.ledger.messages.len();
        return Status::Held(format!("held on {n} messages"));
    }
    let violations = broken
        .into_iter()
        .map(|(key, what)| match input.ledger.messages.get(&key) {
            Some(m) => delivery::violation(input, CheckId::Property(p.name), key, m, &what),
            None => Violation {
                check: CheckId::Property(p.name),
                subject: Some(key),
                summary: format!("{key} {what}"),
                story: Vec::new(),
                crash_point: None,
                cause: p.name,
            },
        })
        .collect();
    Status::Violated(violations)
}

impl<'de> Deserialize<'de> for CheckId {
    /// By code (`C3`), or by the name of a property of a registered
    /// protocol.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CheckId, D::Error> {
        d.deserialize_enum("CheckId", CHECK_CODES, CheckIdVisitor)
    }
}

/// The catalogue's check codes, for "expected one of" errors.
const CHECK_CODES: &[&str] = &[
    "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10", "C11", "C12", "C13", "C14", "C15",
    "C16",
];

struct CheckIdVisitor;

impl<'de> serde::de::Visitor<'de> for CheckIdVisitor {
    type Value = CheckId;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a check (C1 … C16) or a property name")
    }

    fn visit_str<E: serde::de::Error>(self, code: &str) -> Result<CheckId, E> {
        if let Some(c) = CheckId::ALL.into_iter().find(|c| c.code() == code) {
            return Ok(c);
        }
        registry()
            .property(code)
            .map(|p| CheckId::Property(p.name))
            .ok_or_else(|| E::unknown_variant(code, CHECK_CODES))
    }

    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<CheckId, A::Error> {
        use serde::de::VariantAccess as _;
        let (check, variant) = data.variant_seed(self)?;
        variant.unit_variant()?;
        Ok(check)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for CheckIdVisitor {
    type Value = CheckId;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<CheckId, D::Error> {
        d.deserialize_identifier(self)
    }
}

fn law_status(input: &CheckInput<'_>, law: Law) -> Status {
    let unprobed = input.model.unit().unprobed();
    if !input.probe {
        return Status::Unchecked("the law probe is off (consumer.law_probe: false)".into());
    }
    let ran = match law {
        Law::Idempotence => input.ledger.idempotence_probes,
        Law::Retry => input.ledger.retry_probes,
    };
    if ran == 0 {
        return match unprobed.first() {
            Some(u) => Status::Unchecked(format!(
                "the law probe cannot replay {}: {}",
                u.handler, u.why
            )),
            None => Status::Skipped("no record was processed, so no probe ran".into()),
        };
    }
    let failures = || {
        input
            .ledger
            .law_failures
            .iter()
            .filter(|(.., f)| f.law == law)
    };
    let total = failures().count();
    if total > 0 {
        return Status::Violated(first_per_point(input, failures(), (total, ran)));
    }
    let handlers: Vec<&str> = unprobed.iter().map(|u| u.handler).collect();
    match handlers.as_slice() {
        [] => Status::Held(format!("{ran} probes, all equal")),
        _ => Status::Held(format!(
            "{ran} probes, all equal; not probed: {}",
            handlers.join(", ")
        )),
    }
}

/// One violation per crash point is enough to read, so only the first
/// failure at each point is made one (a run can fail the probe on every
/// record); the count of all `total` failures of `ran` probes goes in the
/// summary of the first.
fn first_per_point<'f>(
    input: &CheckInput<'_>,
    failures: impl Iterator<Item = &'f (SimTime, ActorId, MsgKey, crate::history::LawFailure)>,
    (total, ran): (usize, u64),
) -> Vec<Violation> {
    let mut seen = Vec::new();
    let mut violations: Vec<Violation> = failures
        .filter(|(.., f)| {
            let new = !seen.contains(&f.crash_point);
            if new {
                seen.push(f.crash_point);
            }
            new
        })
        .map(|(time, actor, key, f)| law_violation(input, *time, *actor, *key, f))
        .collect();
    if let Some(first) = violations.first_mut() {
        first.summary = format!("{} ({total} of {ran} probes differ)", first.summary);
    }
    violations
}

fn law_violation(
    input: &CheckInput<'_>,
    time: SimTime,
    actor: ActorId,
    key: MsgKey,
    f: &crate::history::LawFailure,
) -> Violation {
    let (summary, check) = match (f.law, f.crash_point) {
        (Law::Retry, Some(point)) => (
            format!(
                "f(f(s,false),true) ≠ f(s,true) with a crash at {} and the retry {}: {}",
                input.model.place_of(point),
                f.retry,
                f.difference
            ),
            CheckId::C15,
        ),
        _ => (
            format!("h(h(s,m),m) ≠ h(s,m): {}", f.difference),
            CheckId::C14,
        ),
    };
    let mut story = vec![format!(
        "probed at t={time} on the state {} reached before processing {key}",
        input.name(actor)
    )];
    story.extend(state_table(f));
    Violation {
        check,
        subject: Some(key),
        summary,
        story,
        crash_point: f.crash_point,
        cause: f.crash_point.unwrap_or("processing twice differs"),
    }
}

/// The state a law compared, as aligned lines: a heading naming the three
/// states, then one line per field.
fn state_table(f: &crate::history::LawFailure) -> Vec<String> {
    let third = match f.law {
        Law::Retry => "f(f(s,false),true)",
        Law::Idempotence => "h(h(s,m),m)",
    };
    let second = match f.law {
        Law::Retry => "f(s,true)",
        Law::Idempotence => "h(s,m)",
    };
    let rows: Vec<[&str; 4]> = std::iter::once(["field", "s", second, third])
        .chain(f.state.iter().map(|s| {
            [
                s.field.as_str(),
                s.before.as_str(),
                s.clean.as_str(),
                s.retried.as_str(),
            ]
        }))
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2)];
    rows.iter()
        .map(|r| {
            format!(
                "{:w0$}  {:w1$}  {:w2$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )
        })
        .collect()
}

/// Hand-built histories for the checkers' unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use sim_core::{ActorId, Digest, EndReason, Observed, RunEnd, SimTime, Stats};

    use super::{CheckInput, Status};
    use crate::history::{Ledger, Obs};
    use crate::vocab::{MsgKey, SendOutcome};

    /// The `seq`-th message of producer 1.
    pub fn key(seq: u32) -> MsgKey {
        MsgKey { producer: 0, seq }
    }

    /// An observation at `ms` by actor 2 (`consumer-1`).
    pub fn at(ms: u64, obs: Obs) -> Observed<Obs> {
        Observed {
            time: SimTime::from_ms(ms),
            actor: ActorId(2),
            obs,
        }
    }

    /// Run one checker on a drained run of `history`, deliveries FIFO.
    pub fn check(history: &[Observed<Obs>], f: fn(&CheckInput<'_>) -> Status) -> Status {
        check_with(history, true, f)
    }

    /// As [`check`], deliveries over a reordering link.
    pub fn check_unordered(history: &[Observed<Obs>], f: fn(&CheckInput<'_>) -> Status) -> Status {
        check_with(history, false, f)
    }

    fn check_with(
        history: &[Observed<Obs>],
        ordered_delivery: bool,
        f: fn(&CheckInput<'_>) -> Status,
    ) -> Status {
        let ledger = Ledger::build(history);
        let end = RunEnd {
            reason: EndReason::Quiet,
            time: SimTime::from_ms(9),
            stats: Stats::default(),
            digest: Digest(0),
            trace_events: 0,
        };
        let names = ["producer-1", "broker", "consumer-1"].map(String::from);
        let input = CheckInput {
            model: crate::protocols::registry().get("M4").unwrap(),
            ledger: &ledger,
            end: &end,
            healed_at: SimTime::ZERO,
            names: &names,
            probe: true,
            ordered_delivery,
            stories: true,
        };
        f(&input)
    }

    /// `seq` appended at partition 0, `offset`, at `ms`.
    pub fn append(ms: u64, seq: u32, offset: u64) -> Observed<Obs> {
        let obs = Obs::Append {
            key: key(seq),
            partition: 0,
            offset,
            copy: false,
        };
        at(ms, obs)
    }

    /// `seq` delivered from partition 0, `offset`, at `ms`.
    pub fn deliver(ms: u64, seq: u32, offset: u64) -> Observed<Obs> {
        let obs = Obs::Deliver {
            key: key(seq),
            partition: 0,
            offset,
        };
        at(ms, obs)
    }

    /// The first effect of `seq` at `ms`.
    pub fn effect(ms: u64, seq: u32) -> Observed<Obs> {
        let obs = Obs::Effect {
            key: key(seq),
            count: 1,
        };
        at(ms, obs)
    }

    /// `seq` sent at t=0 and acked at t=1.
    pub fn sent_and_acked(seq: u32) -> [Observed<Obs>; 2] {
        [
            at(
                0,
                Obs::SendAttempt {
                    key: key(seq),
                    attempt: 1,
                },
            ),
            at(
                1,
                Obs::SendOutcome {
                    key: key(seq),
                    outcome: SendOutcome::Acked,
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_has_one_checker_in_report_order_with_its_own_name() {
        let ids: Vec<CheckId> = CHECKERS.iter().map(|c| c.id).collect();
        assert_eq!(ids, CheckId::ALL);
        for (i, c) in CHECKERS.iter().enumerate() {
            assert!(!c.means.is_empty(), "{}", c.id);
            assert!(
                CHECKERS[..i].iter().all(|d| d.name != c.name),
                "{} repeats a name",
                c.id
            );
        }
    }
}
