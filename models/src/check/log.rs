//! The checks on the partition logs: C2 prefix no-loss (Jepsen's
//! `lost-write`), C4 no duplicate append (`duplicate`) and C5 offset
//! uniqueness (`inconsistent-offsets`); and C13 fencing (`zombie write`) on
//! the writes M12's storage receives under lease tokens and M7's broker
//! under producer epochs, and the requests it refuses by generation.
//!
//! A message's offset is its first append (its lowest offset): a copy
//! appended again later does not move it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::delivery::{crashes_first, violation};
use super::{CheckId, CheckInput, Status, Violation};
use crate::history::{MsgLedger, OffsetConflict, Reappended};
use crate::roles::AFTER_FLUSH_BEFORE_ACK;
use crate::vocab::{MsgKey, SendOutcome};
use sim_core::SimTime;

/// The message's first (lowest) append, as (partition, offset).
fn first_append(m: &MsgLedger) -> Option<(u32, u64)> {
    m.appends.iter().copied().min_by_key(|(_, o)| *o)
}

/// C2: an acked message appended at offset `a` is never applied although a
/// message appended at a later offset `b > a` of the same partition was.
/// A safety check: it needs no drain, because the later message's effect
/// proves the consumer went past `a`.
pub fn prefix_no_loss(input: &CheckInput<'_>) -> Status {
    // The highest first-append offset of an applied message, per partition,
    // and which message it was.
    let mut frontier: BTreeMap<u32, (u64, MsgKey)> = BTreeMap::new();
    for (key, m) in &input.ledger.messages {
        if let (Some((p, o)), true) = (first_append(m), m.effect_count() > 0) {
            let f = frontier.entry(p).or_insert((o, *key));
            if o > f.0 {
                *f = (o, *key);
            }
        }
    }
    let lost: Vec<Violation> = input
        .ledger
        .messages
        .iter()
        .filter(|(_, m)| m.final_outcome() == SendOutcome::Acked && m.effect_count() == 0)
        .filter_map(|(key, m)| {
            let (p, a) = first_append(m)?;
            let (b, later) = *frontier.get(&p).filter(|(b, _)| *b > a)?;
            let what = format!("at {p}:{a} never applied, yet {later} at {p}:{b} was");
            Some(violation(input, CheckId::C2, *key, m, &what))
        })
        .collect();
    if lost.is_empty() {
        let n = frontier.len();
        Status::Held(format!(
            "no applied offset passed an unapplied acked one ({n} partitions)"
        ))
    } else {
        Status::Violated(crashes_first(lost))
    }
}

/// C4: no message is appended more than once.
pub fn no_duplicate_append(input: &CheckInput<'_>) -> Status {
    let dups: Vec<Violation> = input
        .ledger
        .messages
        .iter()
        .filter(|(_, m)| m.appends.len() >= 2)
        .map(|(key, m)| {
            let what = appended_at(&m.appends);
            let mut v = violation(input, CheckId::C4, *key, m, &what);
            v.cause = m.reappended().map_or("appended again", Reappended::cause);
            let crashed = m.crashes.iter().find(|c| c.2 == AFTER_FLUSH_BEFORE_ACK);
            if crashed.is_some() {
                v.cause = AFTER_FLUSH_BEFORE_ACK;
            }
            if !input.stories {
                return v;
            }
            if let Some((t, ..)) = crashed {
                v.story.push(format!(
                    "why: the broker crashed at t={t} after writing it to disk and before \
                     acknowledging it; with no ack, the producer sent it again, and the broker \
                     appended the retry as a new record"
                ));
            }
            if let Some(again) = m.reappended() {
                v.story.push(format!("hint: {}", again.remedy()));
            }
            v
        })
        .collect();
    let appended = input
        .ledger
        .messages
        .values()
        .filter(|m| !m.appends.is_empty())
        .count();
    if dups.is_empty() {
        let each = if appended == 1 { "" } else { "s" };
        Status::Held(format!("{appended} message{each} in the log, none twice"))
    } else {
        Status::Violated(dups)
    }
}

/// `appended 2× at 0:0, 0:1`: a summary written in one buffer (a search
/// writes one for nearly every state after a retry).
fn appended_at(appends: &[(u32, u64)]) -> String {
    let mut what = format!("appended {}× at ", appends.len());
    for (i, (p, o)) in appends.iter().enumerate() {
        if i > 0 {
            what.push_str(", ");
        }
        write!(what, "{p}:{o}").expect("writing to a String does not fail");
    }
    what
}

/// C5: no (partition, offset) holds two different messages, and every
/// consumer receives at an offset the message the broker appended there.
pub fn offset_uniqueness(input: &CheckInput<'_>) -> Status {
    let conflicts = &input.ledger.offset_conflicts;
    if conflicts.is_empty() {
        return Status::Held("every offset holds one message".into());
    }
    let violations = conflicts
        .iter()
        .map(|c| Violation {
            check: CheckId::C5,
            subject: Some(c.second),
            summary: format!(
                "{}:{} holds {} and {} (seen by {} t={})",
                c.partition,
                c.offset,
                c.first,
                c.second,
                input.name(c.actor),
                c.time
            ),
            story: c
                .lost
                .map(|lost| reused_offset(input, c, lost))
                .into_iter()
                .flatten()
                .collect(),
            crash_point: None,
            cause: if c.lost.is_some() {
                "a read record lost in a broker crash, its offset reused"
            } else {
                "two messages at one offset"
            },
        })
        .collect();
    Status::Violated(violations)
}

/// Why an offset a consumer read names another message now: the broker
/// lost the record read there in a crash, and gave its offset to another;
/// and the hint.
fn reused_offset(
    input: &CheckInput<'_>,
    c: &OffsetConflict,
    (lost, came_back): (MsgKey, SimTime),
) -> [String; 2] {
    let other = if lost == c.first { c.second } else { c.first };
    if let Some(t) = input.ledger.torn.iter().find(|t| t.reads_as == other) {
        let why = format!(
            "why: a consumer read {lost} at {p}:{o} before the broker flushed it (consumers \
             read the log in memory: `read_unflushed`); the broker crashed while flushing it \
             and, with no checksums, came back at t={} with the torn bytes there, which read \
             as {other}: the offset names two messages",
            t.time,
            p = c.partition,
            o = c.offset,
        );
        let hint = "hint: checksum each record and drop, on recovery, the first that fails it \
                    and everything after (leave `checksums` out), and let consumers read only \
                    flushed records (leave `read_unflushed` out)";
        return [why, hint.to_string()];
    }
    let why = format!(
        "why: a consumer read {lost} at {p}:{o} before the broker flushed it (consumers read \
         the log in memory: `read_unflushed`); the broker crashed and came back at \
         t={came_back} without it, and the offset went to {other}; {} saw {} there at t={}: \
         the offset names two messages",
        input.name(c.actor),
        c.second,
        c.time,
        p = c.partition,
        o = c.offset,
    );
    let hint = "hint: let consumers read only flushed records (leave `read_unflushed` out: \
                Kafka's consumers read up to the high watermark, which waits for the \
                replicas), or flush each append before its ack (`flush: OnAppend`)";
    [why, hint.to_string()]
}

/// C13: the storage accepted a write whose lease token was below one a
/// write had already carried: a zombie's write. When none was, every stale
/// request was refused, and the summary counts them all: writes under an
/// old token or epoch, and requests of a consumer past its generation.
pub fn fencing(input: &CheckInput<'_>) -> Status {
    let ledger = input.ledger;
    if ledger.token_writes == 0 && ledger.generation_fenced.is_empty() {
        return Status::Skipped("no write carried a lease token".into());
    }
    let zombies: Vec<Violation> = ledger
        .stale_writes
        .iter()
        .filter(|w| w.5)
        .map(|&(time, actor, key, token, highest, _)| Violation {
            check: CheckId::C13,
            subject: Some(key),
            summary: format!(
                "{key} written with lease token {token} at t={time}, after token {highest} \
                 (by {})",
                input.name(actor)
            ),
            story: vec![
                "why: its writer's lease had passed to a newer holder, and the storage \
                 accepted the old token"
                    .into(),
            ],
            crash_point: None,
            cause: "a zombie's write accepted",
        })
        .collect();
    if zombies.is_empty() {
        let (stale, generation) = (ledger.stale_writes.len(), ledger.generation_fenced.len());
        let refused = match (stale, generation) {
            (1, 0) => "1 stale write refused".to_string(),
            (n, 0) => format!("{n} stale writes refused"),
            (0, g) => format!("{g} stale {} refused ({g} by generation)", plural(g)),
            (n, g) => format!(
                "{} stale requests refused ({n} by token or epoch, {g} by generation)",
                n + g
            ),
        };
        Status::Held(format!("{} token writes, {refused}", ledger.token_writes))
    } else {
        Status::Violated(zombies)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "request" } else { "requests" }
}

#[cfg(test)]
mod tests {
    use sim_core::{ActorId, Observed, SimTime};

    use super::*;
    use crate::check::test_support::{append, at, check, effect, key, sent_and_acked};
    use crate::history::Obs;

    #[test]
    fn an_unapplied_offset_below_an_applied_one_is_a_lost_write() {
        let mut h = [sent_and_acked(0), sent_and_acked(1)].concat();
        h.extend([append(2, 0, 0), append(2, 1, 1), effect(3, 0)]);
        assert!(matches!(check(&h, prefix_no_loss), Status::Held(_)));
        h.push(effect(4, 1));
        assert!(matches!(check(&h, prefix_no_loss), Status::Held(_)));
        let mut lost = [sent_and_acked(0), sent_and_acked(1)].concat();
        lost.extend([append(2, 0, 0), append(2, 1, 1), effect(4, 1)]);
        let Status::Violated(v) = check(&lost, prefix_no_loss) else {
            panic!("C2 must fire")
        };
        assert_eq!(v[0].subject, Some(key(0)));
        assert!(v[0].summary.contains("p1#2 at 0:1 was"), "{}", v[0].summary);
    }

    #[test]
    fn a_message_appended_twice_is_a_duplicate_append() {
        let mut h = sent_and_acked(0).to_vec();
        h.push(append(2, 0, 0));
        assert!(matches!(check(&h, no_duplicate_append), Status::Held(_)));
        h.push(append(3, 0, 1));
        let Status::Violated(v) = check(&h, no_duplicate_append) else {
            panic!("C4 must fire")
        };
        assert_eq!(v[0].summary, "p1#1 appended 2× at 0:0, 0:1");
    }

    #[test]
    fn an_accepted_write_under_an_older_token_is_a_zombie_write() {
        let write = |seq, token, highest, accepted| {
            let obs = Obs::TokenWrite {
                key: key(seq),
                writer: ActorId(2),
                token,
                highest,
                accepted,
            };
            at(5, obs)
        };
        let mut h = [sent_and_acked(0), sent_and_acked(1)].concat();
        assert!(matches!(check(&h, fencing), Status::Skipped(_)));
        h.extend([write(0, 2, 0, true), write(1, 1, 2, false)]);
        assert!(matches!(check(&h, fencing), Status::Held(_)));
        h.push(write(1, 1, 2, true));
        let Status::Violated(v) = check(&h, fencing) else {
            panic!("C13 must fire")
        };
        assert_eq!(v.len(), 1);
        assert!(v[0].summary.contains("lease token 1"), "{}", v[0].summary);
        assert!(
            v[0].summary.contains("by consumer-1"),
            "the writer, not the storage"
        );
    }

    #[test]
    fn every_refused_stale_request_is_counted() {
        let write = |seq, token, highest| {
            let obs = Obs::TokenWrite {
                key: key(seq),
                writer: ActorId(2),
                token,
                highest,
                accepted: token >= highest,
            };
            at(5, obs)
        };
        let fenced = |seq: Option<u32>| {
            let obs = Obs::GenerationFenced {
                key: seq.map(key),
                partition: 0,
                from: ActorId(3),
            };
            at(6, obs)
        };
        let held = |h: &[Observed<Obs>]| match check(h, fencing) {
            Status::Held(s) => s,
            other => panic!("C13 holds: {other:?}"),
        };
        let mut h = sent_and_acked(0).to_vec();
        h.push(fenced(None));
        assert_eq!(
            held(&h),
            "0 token writes, 1 stale request refused (1 by generation)"
        );
        h.extend([write(0, 2, 2), write(0, 1, 2), fenced(Some(0))]);
        assert_eq!(
            held(&h),
            "2 token writes, 3 stale requests refused (1 by token or epoch, 2 by generation)"
        );
    }

    #[test]
    fn two_messages_at_one_offset_are_inconsistent_offsets() {
        let mut h = [sent_and_acked(0), sent_and_acked(1)].concat();
        h.extend([append(2, 0, 0), append(2, 1, 1)]);
        let deliver = |seq, offset| {
            let obs = Obs::Deliver {
                key: key(seq),
                partition: 0,
                offset,
            };
            Observed {
                time: SimTime::from_ms(5),
                actor: ActorId(2),
                obs,
            }
        };
        h.push(deliver(0, 0));
        assert!(matches!(check(&h, offset_uniqueness), Status::Held(_)));
        h.push(deliver(0, 1));
        let Status::Violated(v) = check(&h, offset_uniqueness) else {
            panic!("C5 must fire")
        };
        assert!(
            v[0].summary.starts_with("0:1 holds p1#2 and p1#1"),
            "{}",
            v[0].summary
        );
    }
}
