//! The order checks: C11 order per key (Jepsen's `nonmonotonic-send`) and
//! C12 consumer monotonic (`nonmonotonic-poll`, `poll-skip`).
//!
//! The ordering key is (producer, partition): the messages one producer
//! sends into one partition. Order is only promised between messages where
//! the first was acked before the second was sent; messages in flight
//! together may land in either order.

use std::collections::BTreeMap;

use sim_core::SimTime;

use super::delivery::violation;
use super::{CheckId, CheckInput, Status, Violation};
use crate::history::{MsgLedger, PollAnomaly, PollBreak};
use crate::vocab::MsgKey;

/// A message's place in its ordering key: when it was sent and acked, its
/// first append offset and its first effect.
struct Placed<'a> {
    key: MsgKey,
    m: &'a MsgLedger,
    sent: SimTime,
    offset: u64,
}

impl Placed<'_> {
    fn first_effect(&self) -> Option<SimTime> {
        self.m.effects.first().map(|(t, _)| *t)
    }
}

/// The appended messages, grouped by (producer, partition of the first
/// append), each group in send order.
fn groups<'a>(input: &'a CheckInput<'_>) -> BTreeMap<(u32, u32), Vec<Placed<'a>>> {
    let mut groups: BTreeMap<(u32, u32), Vec<Placed<'a>>> = BTreeMap::new();
    for (key, m) in &input.ledger.messages {
        let first = m.appends.iter().copied().min_by_key(|(_, o)| *o);
        if let (Some((partition, offset)), Some(sent)) = (first, m.first_sent) {
            let placed = Placed {
                key: *key,
                m,
                sent,
                offset,
            };
            groups
                .entry((key.producer, partition))
                .or_default()
                .push(placed);
        }
    }
    for g in groups.values_mut() {
        g.sort_unstable_by_key(|p| (p.sent, p.key));
    }
    groups
}

/// C11: a message m1 acked before m2 was sent (same producer, same
/// partition) is appended at a higher offset than m2, or, when the broker's
/// deliveries keep order, applied after m2.
pub fn order_per_key(input: &CheckInput<'_>) -> Status {
    let mut violations = Vec::new();
    let mut pairs = 0u64;
    for group in groups(input).values() {
        pairs += check_group(input, group, &mut violations);
    }
    if violations.is_empty() {
        let scope = if input.ordered_delivery {
            "appended and applied"
        } else {
            "appended (apply order not judged: deliveries cross a reordering link)"
        };
        Status::Held(format!("{pairs} ordered sends {scope} in order"))
    } else {
        Status::Violated(violations)
    }
}

/// Check one ordering key in O(n log n): walk the messages in send order,
/// admitting as predecessors those acked before the current one was sent,
/// and keep the predecessor with the highest offset and the one applied
/// last. Returns how many messages had a predecessor.
fn check_group(input: &CheckInput<'_>, group: &[Placed<'_>], out: &mut Vec<Violation>) -> u64 {
    let mut by_ack: Vec<(&Placed<'_>, SimTime)> = group
        .iter()
        .filter_map(|p| p.m.acked_at.map(|t| (p, t)))
        .collect();
    by_ack.sort_unstable_by_key(|(p, t)| (*t, p.key));
    let (mut admitted, mut pairs) = (0, 0);
    let mut highest: Option<&Placed<'_>> = None;
    let mut latest: Option<(SimTime, &Placed<'_>)> = None;
    for m2 in group {
        while admitted < by_ack.len() && by_ack[admitted].1 < m2.sent {
            let m1 = by_ack[admitted].0;
            admitted += 1;
            if highest.is_none_or(|h| m1.offset > h.offset) {
                highest = Some(m1);
            }
            if let Some(t) = m1
                .first_effect()
                .filter(|t| latest.is_none_or(|l| *t > l.0))
            {
                latest = Some((t, m1));
            }
        }
        pairs += u64::from(highest.is_some());
        if let Some(m1) = highest.filter(|h| h.offset > m2.offset) {
            let what = format!(
                "at offset {} is ahead of {} (offset {}), acked before {} was sent",
                m2.offset, m1.key, m1.offset, m2.key
            );
            out.push(order_violation(
                input,
                m2,
                &what,
                "overtook an acked message",
            ));
        } else if let (true, Some(t2), Some((t1, m1))) =
            (input.ordered_delivery, m2.first_effect(), latest)
            && t1 > t2
        {
            let what = format!(
                "applied t={t2}, ahead of {} (applied t={t1}), acked before {} was sent",
                m1.key, m2.key
            );
            out.push(order_violation(input, m2, &what, "applied out of order"));
        }
    }
    pairs
}

fn order_violation(
    input: &CheckInput<'_>,
    m2: &Placed<'_>,
    what: &str,
    cause: &'static str,
) -> Violation {
    let mut v = violation(input, CheckId::C11, m2.key, m2.m, what);
    v.cause = cause;
    v
}

/// C12: within one session of a consumer (until it crashes), its deliveries
/// on a partition never go back or repeat (`nonmonotonic-poll`) and never
/// jump over an offset (`poll-skip`). Judged only when every broker →
/// consumer link is FIFO: over a reordering link, order is not the broker's
/// to keep.
pub fn consumer_monotonic(input: &CheckInput<'_>) -> Status {
    if !input.ordered_delivery {
        return Status::Skipped(
            "deliveries cross a reordering link (set `ordering: Fifo` on broker → consumer)".into(),
        );
    }
    let breaks = &input.ledger.poll_breaks;
    if breaks.is_empty() {
        let n: usize = input
            .ledger
            .messages
            .values()
            .map(|m| m.deliveries.len())
            .sum();
        return Status::Held(format!("{n} deliveries, each one offset on"));
    }
    let violations = breaks
        .iter()
        .map(|b| {
            let (word, cause) = match b.anomaly {
                PollAnomaly::Nonmonotonic => ("back to", "nonmonotonic-poll"),
                PollAnomaly::Skip => ("on to", "poll-skip"),
            };
            Violation {
                check: CheckId::C12,
                subject: None,
                summary: if b.from == b.to {
                    format!(
                        "{} read {p}:{} again at t={} ({cause})",
                        input.name(b.consumer),
                        b.from,
                        b.time,
                        p = b.partition,
                    )
                } else {
                    format!(
                        "{} went from {p}:{} {word} {p}:{} at t={} ({cause})",
                        input.name(b.consumer),
                        b.from,
                        b.to,
                        b.time,
                        p = b.partition,
                    )
                },
                story: log_shrank(input, b).into_iter().flatten().collect(),
                crash_point: None,
                cause,
            }
        })
        .collect();
    Status::Violated(violations)
}

/// Why a consumer's position went back, when the broker lost the record
/// the consumer had read last: it came back with a shorter log, and the
/// next appends took the lost offsets again. The why and the hint.
fn log_shrank(input: &CheckInput<'_>, b: &PollBreak) -> Option<[String; 2]> {
    if b.anomaly != PollAnomaly::Nonmonotonic {
        return None;
    }
    // The record the consumer read last, lost after that read and before
    // the break.
    let (key, read_at) = b.read;
    let at = input
        .ledger
        .messages
        .get(&key)?
        .lost_appends
        .iter()
        .rev()
        .find_map(|l| {
            let when = (read_at..=b.time).contains(&l.2);
            ((l.0, l.1) == (b.partition, b.from) && when).then_some(l.2)
        })?;
    let torn = input
        .ledger
        .torn
        .iter()
        .find(|t| (t.was, t.partition, t.offset) == (key, b.partition, b.from))
        .filter(|_| b.to == b.from);
    if let Some(t) = torn {
        return Some([
            format!(
                "why: {} had read {key} at {p}:{} from the broker's log in memory \
                 (`read_unflushed`); the broker crashed while flushing it and, with no \
                 checksums, came back at t={at} with the torn bytes there, which read as {}, \
                 and delivered them at {p}:{}",
                input.name(b.consumer),
                b.from,
                t.reads_as,
                b.to,
                p = b.partition,
            ),
            "hint: checksum each record and drop, on recovery, the first that fails it and \
             everything after (leave `checksums` out)"
                .to_string(),
        ]);
    }
    Some([
        format!(
            "why: {} had read up to {p}:{} ({key}) from the broker's log in memory \
             (`read_unflushed`); the broker crashed and came back at t={at} without it, and \
             the next append took {p}:{} again",
            input.name(b.consumer),
            b.from,
            b.to,
            p = b.partition,
        ),
        "hint: let consumers read only flushed records (leave `read_unflushed` out), or \
         flush each append before its ack (`flush: OnAppend`)"
            .to_string(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_support::{
        append, at, check, check_unordered, deliver, effect, key, sent_and_acked,
    };
    use crate::history::Obs;
    use crate::vocab::SendOutcome;
    use sim_core::Observed;

    fn sent(ms: u64, seq: u32) -> Observed<Obs> {
        at(
            ms,
            Obs::SendAttempt {
                key: key(seq),
                attempt: 1,
            },
        )
    }

    fn acked(ms: u64, seq: u32) -> Observed<Obs> {
        at(
            ms,
            Obs::SendOutcome {
                key: key(seq),
                outcome: SendOutcome::Acked,
            },
        )
    }

    #[test]
    fn a_send_that_overtakes_an_acked_one_is_nonmonotonic() {
        // p1#1 is acked at t=2, p1#2 sent at t=3: p1#2 must land after.
        let ok = [
            sent(0, 0),
            append(1, 0, 0),
            acked(2, 0),
            sent(3, 1),
            append(4, 1, 1),
        ];
        assert!(matches!(check(&ok, order_per_key), Status::Held(_)));
        // Fire-and-forget: acked at send, overtaken on the wire.
        let bad = [
            sent(0, 0),
            acked(0, 0),
            sent(1, 1),
            acked(1, 1),
            append(2, 1, 0),
            append(3, 0, 1),
        ];
        let Status::Violated(v) = check(&bad, order_per_key) else {
            panic!("C11 must fire")
        };
        assert_eq!(v[0].subject, Some(key(1)));
        // In flight together (p1#2 sent before p1#1's ack): either order.
        let racing = [
            sent(0, 0),
            sent(1, 1),
            append(2, 1, 0),
            append(3, 0, 1),
            acked(4, 0),
            acked(4, 1),
        ];
        assert!(matches!(check(&racing, order_per_key), Status::Held(_)));
    }

    #[test]
    fn applying_out_of_order_counts_only_over_fifo_deliveries() {
        let mut h = vec![sent(0, 0), append(1, 0, 0), acked(2, 0)];
        h.extend([sent(3, 1), append(4, 1, 1), acked(5, 1)]);
        h.extend([effect(6, 1), effect(9, 0)]);
        assert!(matches!(check(&h, order_per_key), Status::Violated(_)));
        assert!(matches!(
            check_unordered(&h, order_per_key),
            Status::Held(_)
        ));
    }

    #[test]
    fn deliveries_that_go_back_or_skip_break_consumer_monotonicity() {
        let mut h = [sent_and_acked(0), sent_and_acked(1), sent_and_acked(2)].concat();
        h.extend([append(2, 0, 0), append(2, 1, 1), append(2, 2, 2)]);
        h.extend([deliver(3, 0, 0), deliver(3, 1, 1)]);
        assert!(matches!(check(&h, consumer_monotonic), Status::Held(_)));
        assert!(matches!(
            check_unordered(&h, consumer_monotonic),
            Status::Skipped(_)
        ));
        let mut back = h.clone();
        back.push(deliver(4, 0, 0));
        let Status::Violated(v) = check(&back, consumer_monotonic) else {
            panic!("C12 must fire")
        };
        assert_eq!(v[0].cause, "nonmonotonic-poll");
        let mut skip = [sent_and_acked(0), sent_and_acked(1), sent_and_acked(2)].concat();
        skip.extend([append(2, 0, 0), append(2, 1, 1), append(2, 2, 2)]);
        skip.extend([deliver(3, 0, 0), deliver(3, 2, 2)]);
        let Status::Violated(v) = check(&skip, consumer_monotonic) else {
            panic!("C12 must fire")
        };
        assert_eq!(v[0].cause, "poll-skip");
    }
}
