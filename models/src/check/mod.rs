//! Checkers: pure functions from a run's history to verdicts, numbered and
//! named as in the catalogue (C1 no-loss … C16 liveness), plus the law probes
//! C14 and C15.
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
use crate::protocols::Model;
pub use crate::vocab::CheckId;
use crate::vocab::MsgKey;

impl CheckId {
    /// The check's name (`no-duplicate-effect`).
    pub fn name(self) -> &'static str {
        match self {
            CheckId::C1 => "no-loss",
            CheckId::C2 => "prefix-no-loss",
            CheckId::C3 => "no-duplicate-effect",
            CheckId::C4 => "no-duplicate-append",
            CheckId::C5 => "offset-uniqueness",
            CheckId::C6 => "no-phantom",
            CheckId::C7 => "no-aborted-effect",
            CheckId::C8 => "exactly-once",
            CheckId::C9 => "transaction-atomicity",
            CheckId::C10 => "no-early-read",
            CheckId::C11 => "order-per-key",
            CheckId::C12 => "consumer-monotonic",
            CheckId::C13 => "fencing",
            CheckId::C14 => "idempotence-law",
            CheckId::C15 => "retry-law",
            CheckId::C16 => "liveness",
        }
    }

    /// The Jepsen anomaly name, where one exists.
    pub fn jepsen(self) -> Option<&'static str> {
        match self {
            CheckId::C1 => Some("lost"),
            CheckId::C2 => Some("lost-write"),
            CheckId::C3 => Some("duplicated"),
            CheckId::C4 => Some("duplicate"),
            CheckId::C5 => Some("inconsistent-offsets"),
            CheckId::C6 => Some("unexpected"),
            CheckId::C7 => Some("G1a"),
            CheckId::C9 => Some("G1b"),
            CheckId::C10 => Some("precommitted-read"),
            CheckId::C11 => Some("nonmonotonic-send"),
            CheckId::C12 => Some("nonmonotonic-poll, poll-skip"),
            CheckId::C13 => Some("zombie write"),
            CheckId::C16 => Some("unseen"),
            CheckId::C8 | CheckId::C14 | CheckId::C15 => None,
        }
    }

    /// Number, name and Jepsen anomaly, as printed in catalogues:
    /// `C3 no-duplicate-effect (duplicated)`.
    pub fn label(self) -> String {
        match self.jepsen() {
            Some(j) => format!("{} {} ({j})", self.code(), self.name()),
            None => format!("{} {}", self.code(), self.name()),
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
    /// It could not be judged on this run; the text says why.
    Skipped(String),
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

/// Run every check.
pub fn run_all(input: &CheckInput<'_>) -> Vec<CheckResult> {
    CheckId::ALL
        .iter()
        .map(|c| CheckResult {
            check: *c,
            status: run_one(*c, input),
        })
        .collect()
}

fn run_one(check: CheckId, input: &CheckInput<'_>) -> Status {
    match check {
        CheckId::C1 => delivery::no_loss(input),
        CheckId::C2 => log::prefix_no_loss(input),
        CheckId::C3 => delivery::no_duplicate_effect(input),
        CheckId::C4 => log::no_duplicate_append(input),
        CheckId::C5 => log::offset_uniqueness(input),
        CheckId::C6 => delivery::no_phantom(input),
        CheckId::C7 => delivery::no_aborted_effect(input),
        CheckId::C8 => delivery::exactly_once(input),
        CheckId::C9 => txn::atomicity(input),
        CheckId::C10 => txn::no_early_read(input),
        CheckId::C11 => order::order_per_key(input),
        CheckId::C12 => order::consumer_monotonic(input),
        CheckId::C13 => log::fencing(input),
        CheckId::C14 => law_status(input, Law::Idempotence),
        CheckId::C15 => law_status(input, Law::Retry),
        CheckId::C16 => delivery::liveness(input),
    }
}

fn law_status(input: &CheckInput<'_>, law: Law) -> Status {
    if !input.model.claims_exactly_once() {
        let code = input.model.info().code;
        return Status::Skipped(format!("{code} does not claim exactly-once"));
    }
    if !input.probe {
        return Status::Skipped("the law probe is off".into());
    }
    let ran = match law {
        Law::Idempotence => input.ledger.idempotence_probes,
        Law::Retry => input.ledger.retry_probes,
    };
    if ran == 0 {
        return Status::Skipped("no record was processed, so no probe ran".into());
    }
    let violations: Vec<Violation> = input
        .ledger
        .law_failures
        .iter()
        .filter(|(.., f)| f.law == law)
        .map(|(time, actor, key, f)| law_violation(input, *time, *actor, *key, f))
        .collect();
    if violations.is_empty() {
        Status::Held(format!("{ran} probes, all equal"))
    } else {
        Status::Violated(first_per_point(violations, ran))
    }
}

/// One violation per crash point is enough to read; the count of all of them
/// goes in the summary of the first.
fn first_per_point(mut violations: Vec<Violation>, ran: u64) -> Vec<Violation> {
    let total = violations.len();
    let mut seen = Vec::new();
    violations.retain(|v| {
        let new = !seen.contains(&v.crash_point);
        seen.push(v.crash_point);
        new
    });
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
                "f(f(s,false),true) ≠ f(s,true) with a crash at {point}: {}",
                f.difference
            ),
            CheckId::C15,
        ),
        _ => (
            format!("h(h(s,m),m) ≠ h(s,m): {}", f.difference),
            CheckId::C14,
        ),
    };
    let story = vec![format!(
        "probed at t={time} on the state {} reached before processing {key}",
        input.name(actor)
    )];
    Violation {
        check,
        subject: Some(key),
        summary,
        story,
        crash_point: f.crash_point,
        cause: f.crash_point.unwrap_or("processing twice differs"),
    }
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
        };
        f(&input)
    }

    /// `seq` appended at partition 0, `offset`, at `ms`.
    pub fn append(ms: u64, seq: u32, offset: u64) -> Observed<Obs> {
        let obs = Obs::Append {
            key: key(seq),
            partition: 0,
            offset,
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
