//! The checks on M7's transactions: C9 transaction atomicity (a torn
//! transaction, Jepsen's G1b), C10 no early read (`precommitted-read`), and
//! the aborted reads C7 counts (G1a).
//!
//! A transaction attempt T of a task writes one output record W(T) and, on
//! commit, the input offset O(T). How T ended comes from two witnesses: its
//! task (the EndTxn ack it received) and the broker (which aborted or
//! committed the records the transaction held when it ended). A late
//! request can make them disagree, which is the point.

use super::{CheckId, CheckInput, Status, Violation};
use crate::history::{TxnHistory, TxnReadEvent};

fn skipped() -> Status {
    Status::Skipped("no transaction ran".into())
}

/// Reads of an output record whose transaction aborted: G1a, for C7.
pub(super) fn aborted_reads(input: &CheckInput<'_>) -> Vec<Violation> {
    let txn = &input.ledger.txn;
    txn.reads
        .iter()
        .filter(|r| txn.aborted(r.key, r.tag))
        .map(|r| Violation {
            check: CheckId::C7,
            subject: Some(r.key),
            summary: format!(
                "{}'s output from {} was read at t={}, but {} aborted",
                r.key, r.tag, r.time, r.tag
            ),
            story: vec![why_aborted_read(txn, r)],
            crash_point: None,
            cause: "an aborted transaction's output was read",
        })
        .collect()
}

fn why_aborted_read(txn: &TxnHistory, r: &TxnReadEvent) -> String {
    if !r.read_committed {
        return "why: the reader is read_uncommitted and read the record before its \
                transaction aborted"
            .into();
    }
    match txn.ended.get(&(r.key, r.tag)) {
        Some((by, true)) if *by != r.tag => format!(
            "why: the task aborted {} and retried, but with one epoch per session the \
             broker took a request of another attempt for one of the open transaction: \
             {by}'s EndTxn(commit) committed {}'s output",
            r.tag, r.tag
        ),
        _ => format!(
            "why: the task was told {} aborted, yet the broker committed its output",
            r.tag
        ),
    }
}

/// C9: no transaction is seen in part: a commit the task was told of
/// stored the input offset while the broker aborted the output, so the
/// record counts as consumed but its output is gone.
pub fn atomicity(input: &CheckInput<'_>) -> Status {
    let txn = &input.ledger.txn;
    if txn.is_empty() {
        return skipped();
    }
    let torn: Vec<Violation> = txn
        .outcomes
        .iter()
        .filter(|((key, tag), committed)| **committed && txn.broker_aborted(*key, *tag))
        .map(|((key, tag), _)| Violation {
            check: CheckId::C9,
            subject: Some(*key),
            summary: format!(
                "{tag} committed {key}'s input offset, but its output was aborted: a torn \
                 transaction"
            ),
            story: vec![
                "why: a late EndTxn(abort) of an earlier attempt, with the same epoch, aborted \
                 this transaction; its own commit then found nothing open and stored only the \
                 offset"
                    .into(),
            ],
            crash_point: None,
            cause: "a late abort tore a later transaction",
        })
        .collect();
    if torn.is_empty() {
        let n = txn.outcomes.values().filter(|c| **c).count();
        Status::Held(format!("{n} committed transactions, each whole"))
    } else {
        Status::Violated(torn)
    }
}

/// C10: a `read_committed` reader reads no record whose transaction has not
/// committed yet.
pub fn no_early_read(input: &CheckInput<'_>) -> Status {
    let txn = &input.ledger.txn;
    let committed_reads: Vec<&TxnReadEvent> =
        txn.reads.iter().filter(|r| r.read_committed).collect();
    if committed_reads.is_empty() {
        return Status::Skipped("no read_committed reader read a transaction".into());
    }
    let early: Vec<Violation> = committed_reads
        .iter()
        .filter(|r| !r.committed)
        .map(|r| Violation {
            check: CheckId::C10,
            subject: Some(r.key),
            summary: format!(
                "{}'s output from {} was read at t={} before its transaction committed",
                r.key, r.tag, r.time
            ),
            story: vec![format!(
                "why: a read_committed reader read it while {} was still open; {} {}",
                r.tag,
                r.tag,
                match txn.ended.get(&(r.key, r.tag)) {
                    Some((_, true)) => "committed only later",
                    Some((_, false)) => "aborted later",
                    None => "never ended",
                }
            )],
            crash_point: None,
            cause: "an uncommitted record was read",
        })
        .collect();
    if early.is_empty() {
        Status::Held(format!(
            "{} read_committed reads, all committed",
            committed_reads.len()
        ))
    } else {
        Status::Violated(early)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::delivery::no_aborted_effect;
    use crate::check::test_support::{at, check, key};
    use crate::history::Obs;
    use crate::vocab::TxnTag;

    fn tag(attempt: u32) -> TxnTag {
        TxnTag {
            session: 1,
            attempt,
        }
    }

    fn outcome(ms: u64, attempt: u32, committed: bool) -> sim_core::Observed<Obs> {
        let obs = Obs::TxnOutcome {
            key: key(0),
            tag: tag(attempt),
            committed,
        };
        at(ms, obs)
    }

    fn read(ms: u64, attempt: u32, committed: bool) -> sim_core::Observed<Obs> {
        let obs = Obs::TxnRead {
            key: key(0),
            tag: tag(attempt),
            committed,
            read_committed: true,
        };
        at(ms, obs)
    }

    fn broker_aborted(ms: u64, attempt: u32) -> sim_core::Observed<Obs> {
        let obs = Obs::TxnEnded {
            key: key(0),
            tag: tag(attempt),
            log: 0,
            offset: attempt,
            by: tag(attempt),
            committed: false,
        };
        at(ms, obs)
    }

    #[test]
    fn without_transactions_the_checks_are_skipped() {
        assert!(matches!(check(&[], atomicity), Status::Skipped(_)));
        assert!(matches!(check(&[], no_early_read), Status::Skipped(_)));
    }

    #[test]
    fn a_commit_whose_output_the_broker_aborted_is_torn() {
        let mut h = vec![
            broker_aborted(3, 1),
            outcome(4, 1, false),
            outcome(9, 2, true),
        ];
        h.push(read(9, 2, true));
        assert!(matches!(check(&h, atomicity), Status::Held(_)));
        h.push(broker_aborted(8, 3));
        h.push(outcome(10, 3, true));
        let Status::Violated(v) = check(&h, atomicity) else {
            panic!("C9 must fire")
        };
        assert_eq!(v.len(), 1);
        assert!(
            v[0].summary.starts_with("txn 1.3 committed p1#1"),
            "{}",
            v[0].summary
        );
    }

    #[test]
    fn a_read_committed_read_of_an_open_transaction_is_early() {
        let mut h = vec![read(5, 1, true)];
        assert!(matches!(check(&h, no_early_read), Status::Held(_)));
        h.push(read(6, 2, false));
        let Status::Violated(v) = check(&h, no_early_read) else {
            panic!("C10 must fire")
        };
        assert!(v[0].summary.contains("txn 1.2"), "{}", v[0].summary);
    }

    #[test]
    fn reading_the_output_of_an_aborted_attempt_is_an_aborted_read() {
        let mut h = vec![outcome(4, 1, false), read(9, 2, true)];
        assert!(matches!(check(&h, no_aborted_effect), Status::Held(_)));
        h.push(read(9, 1, true));
        let Status::Violated(v) = check(&h, no_aborted_effect) else {
            panic!("C7 must fire")
        };
        assert!(v[0].summary.contains("from txn 1.1"), "{}", v[0].summary);
        assert!(v[0].story[0].contains("was told txn 1.1 aborted"));
        let crossed = Obs::TxnEnded {
            key: key(0),
            tag: tag(1),
            log: 0,
            offset: 0,
            by: tag(2),
            committed: true,
        };
        h.push(at(8, crossed));
        let Status::Violated(v) = check(&h, no_aborted_effect) else {
            panic!("C7 must fire")
        };
        assert!(
            v[0].story[0].contains("txn 1.2's EndTxn(commit) committed txn 1.1's output"),
            "{}",
            v[0].story[0]
        );
    }
}
