//! The delivery checks on the per-message ledger: C1 no-loss, C3
//! no-duplicate-effect, C6 no-phantom, C7 no-aborted-effect, C8 exactly-once
//! and C16 liveness.

use sim_core::{ActorId, EndReason, SimDuration, SimTime};

use super::{CheckId, CheckInput, Status, Violation};
use crate::history::MsgLedger;
use crate::vocab::{MsgKey, SendOutcome};

/// C1: once the run drained, every acked message has taken effect.
pub fn no_loss(input: &CheckInput<'_>) -> Status {
    if !input.drained() {
        return Status::Skipped(
            "the run did not drain: loss cannot be told from delay (see C16)".into(),
        );
    }
    let acked = acked(input).count();
    let lost: Vec<Violation> = acked_without_effect(input)
        .map(|(key, m)| violation(input, CheckId::C1, *key, m, "acked but never applied"))
        .collect();
    if lost.is_empty() {
        Status::Held(format!("{acked}/{acked} acked messages applied"))
    } else {
        Status::Violated(crashes_first(lost))
    }
}

/// C3: no message takes effect twice.
pub fn no_duplicate_effect(input: &CheckInput<'_>) -> Status {
    let dups: Vec<Violation> = input
        .ledger
        .messages
        .iter()
        .filter(|(_, m)| m.effect_count() >= 2)
        .map(|(key, m)| {
            let summary = format!("applied {}×", m.effect_count());
            violation(input, CheckId::C3, *key, m, &summary)
        })
        .collect();
    let applied = input
        .ledger
        .messages
        .values()
        .filter(|m| m.effect_count() > 0)
        .count();
    if dups.is_empty() {
        let each = if applied == 1 { "" } else { "s" };
        Status::Held(format!("{applied} message{each} applied once each"))
    } else {
        Status::Violated(crashes_first(dups))
    }
}

/// C6: nothing is delivered or applied that no producer sent.
pub fn no_phantom(input: &CheckInput<'_>) -> Status {
    if input.ledger.phantoms.is_empty() {
        return Status::Held("every effect belongs to a sent message".into());
    }
    let mut told: Vec<MsgKey> = Vec::new();
    let violations = input
        .ledger
        .phantoms
        .iter()
        // One violation per message no producer sent, at its first sighting.
        .filter(|(_, _, key)| {
            let first = !told.contains(key);
            told.push(*key);
            first
        })
        .map(|(time, actor, key)| {
            let torn = input.ledger.torn.iter().find(|t| t.reads_as == *key);
            Violation {
                check: CheckId::C6,
                subject: Some(*key),
                summary: format!(
                    "{key} seen at {} t={time} but never sent",
                    input.name(*actor)
                ),
                story: torn.map(torn_record).into_iter().flatten().collect(),
                crash_point: torn.map(|_| crate::roles::DURING_FLUSH),
                cause: if torn.is_some() {
                    "a torn record recovered without a checksum"
                } else {
                    "never sent"
                },
            }
        })
        .collect();
    Status::Violated(violations)
}

/// C7: no message whose operation definitely failed (was rolled back)
/// takes effect, and no output of an aborted transaction is read (Jepsen's
/// G1a, aborted read).
pub fn no_aborted_effect(input: &CheckInput<'_>) -> Status {
    let failed = input
        .ledger
        .messages
        .iter()
        .filter(|(_, m)| m.final_outcome() == SendOutcome::Failed);
    let mut bad: Vec<Violation> = failed
        .clone()
        .filter(|(_, m)| m.effect_count() > 0)
        .map(|(key, m)| {
            let what = format!("failed (rolled back), yet applied {}×", m.effect_count());
            let mut v = violation(input, CheckId::C7, *key, m, &what);
            v.cause = "the event of a rolled-back operation took effect";
            v
        })
        .collect();
    bad.extend(super::txn::aborted_reads(input));
    if bad.is_empty() {
        let aborted = input.ledger.txn.aborted_outputs();
        let txns = if input.ledger.txn.is_empty() {
            String::new()
        } else {
            format!("; {aborted} aborted outputs, none read")
        };
        Status::Held(format!(
            "{} failed operations, none applied{txns}",
            failed.count()
        ))
    } else {
        Status::Violated(crashes_first(bad))
    }
}

/// C8: acked → exactly one effect; indeterminate → at most one; failed → none.
pub fn exactly_once(input: &CheckInput<'_>) -> Status {
    let drained = input.drained();
    let bad: Vec<Violation> = input
        .ledger
        .messages
        .iter()
        .filter_map(|(key, m)| {
            let n = m.effect_count();
            let wrong = match m.final_outcome() {
                SendOutcome::Acked => n > 1 || (n == 0 && drained),
                SendOutcome::Indeterminate => n > 1,
                SendOutcome::Failed => n > 0,
            };
            wrong.then(|| {
                let outcome = outcome_word(m.final_outcome());
                violation(
                    input,
                    CheckId::C8,
                    *key,
                    m,
                    &format!("{outcome}, applied {n}×"),
                )
            })
        })
        .collect();
    if bad.is_empty() {
        let n = input.ledger.messages.len();
        let note = if drained {
            ""
        } else {
            " (not drained: missing effects not judged)"
        };
        Status::Held(format!("{n} messages, effects match outcomes{note}"))
    } else {
        Status::Violated(crashes_first(bad))
    }
}

/// C16: after the faults heal, the run drains and every acked message takes
/// effect.
pub fn liveness(input: &CheckInput<'_>) -> Status {
    let when = match input.end.reason {
        EndReason::Quiet | EndReason::Stopped => return hanging_transactions(input),
        EndReason::TimeBound | EndReason::EventBound => {
            return Status::Skipped("a time or event bound cut the run short".into());
        }
        EndReason::MemoryBound => {
            return Status::Skipped("the memory budget cut the run short".into());
        }
        EndReason::Stalled => "the run stalled with work left",
        EndReason::DrainBound => "the drain bound passed",
    };
    let mut stuck: Vec<Violation> = acked_without_effect(input)
        .map(|(key, m)| {
            let what = format!("acked, still not applied when {when}");
            let mut v = violation(input, CheckId::C16, *key, m, &what);
            let stranded =
                input.model.uses_recovery() && !m.crashes.is_empty() && m.compensations == 0;
            if input.stories && stranded {
                v.story.push(
                    "why: its worker crashed while it was `processing`, and only the recovery \
                     worker's compensation returns it to `unprocessed`"
                        .into(),
                );
            }
            v
        })
        .collect();
    if stuck.is_empty() {
        stuck.push(Violation {
            check: CheckId::C16,
            subject: None,
            summary: format!(
                "{when} at t={} (healed at t={})",
                input.end.time, input.healed_at
            ),
            story: Vec::new(),
            crash_point: None,
            cause: when,
        });
    }
    Status::Violated(crashes_first(stuck))
}

/// The cause of a C16 violation by a transaction left open.
pub const HANGING_TRANSACTION: &str = "a hanging transaction holds the LSO";

/// A drained run is live unless a transaction was left open: a hanging
/// transaction holds the last stable offset, so a `read_committed` reader
/// reads nothing past it (M7's stuck LSO).
fn hanging_transactions(input: &CheckInput<'_>) -> Status {
    let hanging: Vec<Violation> = input
        .ledger
        .txn
        .hanging()
        .map(|(key, tag, offset)| Violation {
            check: CheckId::C16,
            subject: Some(key),
            summary: format!(
                "{tag} ({key}'s output at output offset {offset}) is still open when the run \
                 drained: a hanging transaction; the LSO is stuck at {offset}"
            ),
            story: vec![
                "why: the produce arrived after its transaction had ended, and with one epoch \
                 per session the broker opened a transaction for it that nobody will end"
                    .into(),
            ],
            crash_point: None,
            cause: HANGING_TRANSACTION,
        })
        .collect();
    if hanging.is_empty() {
        Status::Held(format!("drained at t={}", input.end.time))
    } else {
        Status::Violated(hanging)
    }
}

/// Violations with a crash point first: they carry the most telling story.
pub(super) fn crashes_first(mut violations: Vec<Violation>) -> Vec<Violation> {
    violations.sort_by_key(|v| v.crash_point.is_none());
    violations
}

fn acked<'a>(input: &'a CheckInput<'_>) -> impl Iterator<Item = (&'a MsgKey, &'a MsgLedger)> {
    input
        .ledger
        .messages
        .iter()
        .filter(|(_, m)| m.final_outcome() == SendOutcome::Acked)
}

fn acked_without_effect<'a>(
    input: &'a CheckInput<'_>,
) -> impl Iterator<Item = (&'a MsgKey, &'a MsgLedger)> {
    acked(input).filter(|(_, m)| m.effect_count() == 0)
}

fn outcome_word(o: SendOutcome) -> &'static str {
    match o {
        SendOutcome::Acked => "acked",
        SendOutcome::Failed => "failed",
        SendOutcome::Indeterminate => "never acked",
    }
}

pub(super) fn violation(
    input: &CheckInput<'_>,
    check: CheckId,
    key: MsgKey,
    m: &MsgLedger,
    what: &str,
) -> Violation {
    let mut v = Violation {
        check,
        subject: Some(key),
        summary: format!("{key} {what}"),
        story: Vec::new(),
        crash_point: m.crashes.first().map(|c| c.2),
        cause: cause(m),
    };
    if !input.stories {
        if committed_for_a_lost_record(input, key, m).is_some() {
            v.cause = COMMIT_FOR_A_LOST_RECORD;
        }
        return v;
    }
    v.story = story(input, key, m);
    if let Some(t) = input.ledger.torn.iter().find(|t| t.was == key)
        && v.story.iter().any(|l| l.starts_with(ACKED_NEVER_FLUSHED))
    {
        // Lost because it was acked before its flush; torn on the way.
        v.story.retain(|l| !l.starts_with(ACKED_NEVER_FLUSHED));
        v.story.push(format!(
            "why: the broker acknowledged it before writing it to disk and crashed while \
             flushing it: its record at {}:{} was torn, and with no checksums (`checksums: \
             false`) the broker came back at t={} with the torn bytes, which read as {}, in its \
             place",
            t.partition, t.offset, t.time, t.reads_as
        ));
    }
    if let Some(why) = committed_for_a_lost_record(input, key, m) {
        v.story.retain(|l| !l.starts_with(COMMITTED_NEVER_RAN));
        v.story.push(why);
        v.story.push(
            "hint: let consumers read only flushed records (leave `read_unflushed` out), or \
             flush each append before its ack (`flush: OnAppend`)"
                .into(),
        );
        v.cause = COMMIT_FOR_A_LOST_RECORD;
    }
    v
}

/// The cause of a message lost because a consumer committed an offset
/// meant for another record there.
const COMMIT_FOR_A_LOST_RECORD: &str = "a commit meant for a lost record at the same offset";

/// The start of the reason for an acked message the broker lost unflushed.
const ACKED_NEVER_FLUSHED: &str = "why: the broker acknowledged it before writing it to disk";

/// Why a message no producer sent was seen: the broker came back from a
/// crash during a flush with a torn record, and no checksum rejected it;
/// and the hint.
fn torn_record(t: &crate::history::TornRecord) -> [String; 2] {
    [
        format!(
            "why: no producer sent it: the broker crashed while flushing {} at {}:{}, tearing \
             its record, and with no checksums (`checksums: false`) it came back at t={} with \
             the torn bytes as a record, which read as {}",
            t.was, t.partition, t.offset, t.time, t.reads_as
        ),
        "hint: checksum each record and drop, on recovery, the first that fails it and \
         everything after (Kafka's CRC32C per batch): leave `checksums` out"
            .to_string(),
    ]
}

/// The start of the generic reason for a committed message never applied.
const COMMITTED_NEVER_RAN: &str = "why: its offset was committed but its effect never ran";

/// Why a message never delivered had its offset committed: it took the
/// offset of a record a consumer had read and the broker then lost, and
/// that consumer's commit of the offset, sent for the lost record, marked
/// it done.
fn committed_for_a_lost_record(
    input: &CheckInput<'_>,
    key: MsgKey,
    m: &MsgLedger,
) -> Option<String> {
    if !m.deliveries.is_empty() || m.offset_commits == 0 {
        return None;
    }
    let c = input.ledger.offset_conflicts.iter().find(|c| {
        c.lost.is_some_and(|(lost, _)| lost != key) && (c.first == key || c.second == key)
    })?;
    let (lost, came_back) = c.lost?;
    Some(format!(
        "why: it took offset {p}:{o} after the broker lost {lost}, which a consumer had read \
         there (it came back without it at t={came_back}; consumers read the log in memory: \
         `read_unflushed`); it was never delivered, so the commit of {p}:{o} that marked it \
         done was sent for {lost}",
        p = c.partition,
        o = c.offset,
    ))
}

/// The root cause of what happened to a message, in a few words; a crash
/// point when a crash was involved.
fn cause(m: &MsgLedger) -> &'static str {
    if let Some((.., point)) = m.crashes.first() {
        return point;
    }
    match m.effect_count() {
        0 if !m.key_mismatches.is_empty() => "key reused for another request",
        2.. if !m.late_copies.is_empty() => "a copy arrived after the dedup window",
        _ if m.txn_crossing.is_some() => "a request crossed a transaction boundary",
        0 if !m.lost_appends.is_empty() => {
            "acknowledged, then lost: the broker crashed before its flush"
        }
        0 if m.appends.is_empty() => "request lost, never retried",
        0 if !m.sink_aborts.is_empty() => "the sink's timeout aborted its staged transaction",
        0 if m.offset_commits > 0 => "offset committed, effect never ran",
        0 => "appended, never processed",
        1 => "applied once",
        _ if let Some(again) = m.reappended() => again.cause(),
        _ if m.compensations > 0 => "compensation re-ran the effect",
        _ if m.unknown_outcomes > 0 => "a database reply was lost or late: request sent again",
        _ if m.deliveries.len() > m.appends.len() => "redelivered",
        _ => "applied again",
    }
}

/// What happened to a message, in delivery vocabulary, one fact a line.
pub fn story(input: &CheckInput<'_>, key: MsgKey, m: &MsgLedger) -> Vec<String> {
    let mut lines = Vec::new();
    let acked = m
        .acked_at
        .map_or_else(|| "never acked".to_string(), |t| format!("acked t={t}"));
    lines.push(format!("sent {}× ({}), {acked}", m.attempts, resends(m)));
    let offsets: Vec<String> = m.appends.iter().map(|(p, o)| format!("{p}:{o}")).collect();
    lines.push(match offsets.len() {
        0 if !m.lost_appends.is_empty() => "not in the log".to_string(),
        0 => "never appended".to_string(),
        n => format!("appended {n}× at partition:offset {}", offsets.join(", ")),
    });
    for (p, o, t) in &m.lost_appends {
        let torn = input
            .ledger
            .torn
            .iter()
            .find(|r| (r.partition, r.offset, r.time) == (*p, *o, *t));
        lines.push(match torn {
            Some(r) => format!(
                "appended at {p}:{o}, torn by a crash while the broker flushed it: the broker \
                 came back t={t} with bytes that read as {} in its place",
                r.reads_as
            ),
            None => format!(
                "appended at {p}:{o} in the broker's memory, never flushed: the broker came \
                 back t={t} without it"
            ),
        });
    }
    let effects: Vec<String> = m
        .effects
        .iter()
        .map(|(t, a)| format!("t={t} {}", input.name(*a)))
        .collect();
    lines.push(format!(
        "delivered {}×, applied {}×{}, offset committed {}×",
        m.deliveries.len(),
        effects.len(),
        if effects.is_empty() {
            String::new()
        } else {
            format!(" ({})", effects.join("; "))
        },
        m.offset_commits,
    ));
    if m.compensations > 0 {
        lines.push(format!(
            "returned to unprocessed by the recovery worker {}×",
            m.compensations
        ));
    }
    for (t, a, point) in &m.crashes {
        lines.push(format!(
            "{} crashed at {} t={t} while handling it",
            input.name(*a),
            input.model.place_of(point)
        ));
    }
    let hints = input.model.unit().hints();
    let duplicated = hints.duplicate_effect.filter(|_| m.effect_count() > 1);
    let crashed_at = |at: &str| m.crashes.iter().any(|(_, _, point)| *point == at);
    let lost = hints
        .lost_effect
        .filter(|c| m.effect_count() == 0 && crashed_at(c.at))
        .map(|c| c.why);
    if let Some(why) = duplicated.or(lost) {
        lines.push(format!("why: {why}"));
    } else {
        let moved = rebalance_between_copies(input, m);
        let zombie = zombie_write(input, key);
        let redelivery = redelivery_why(input.end.stats);
        let explained = moved.is_some() || zombie.is_some();
        lines.extend(causes(m, (!explained).then_some(redelivery.as_str())));
        lines.extend(moved);
        lines.extend(zombie);
    }
    lines.extend(eviction_between_copies(input, m));
    if !m.lost_appends.is_empty() && m.effect_count() == 0 {
        lines.push(
            "hint: flush each append before acknowledging it (`broker: (flush: OnAppend)`)".into(),
        );
    }
    lines
}

/// How a message's re-sends came about: retries, and sends after its
/// producer restarted (`1 retry, 1 after a restart`); `0 retries` if none.
fn resends(m: &MsgLedger) -> String {
    let (retries, restarted) = (m.retries(), m.resent_after_restart);
    let mut parts = Vec::new();
    if retries > 0 || restarted == 0 {
        parts.push(match retries {
            1 => "1 retry".to_string(),
            n => format!("{n} retries"),
        });
    }
    if restarted > 0 {
        parts.push(format!("{restarted} after a restart"));
    }
    parts.join(", ")
}

/// A rebalance (F-rebalance) that moved a message's partition from one
/// consumer that applied it to another that applied it too.
fn rebalance_between_copies(input: &CheckInput<'_>, m: &MsgLedger) -> Option<String> {
    // M7's effects show at the broker's reader: there, processing is
    // being delivered the record.
    let processed_by = |a: ActorId| {
        let delivered = input.model.transactional() && m.deliveries.iter().any(|(_, b)| *b == a);
        delivered || m.effects.iter().any(|(_, b)| *b == a)
    };
    let (t, partition, from, to) = input
        .ledger
        .rebalances
        .iter()
        .find(|(_, _, from, to)| processed_by(*from) && processed_by(*to))?;
    let both = input.model.unit().hints().rebalance_duplicate?;
    Some(format!(
        "why: a rebalance at t={t} moved partition {partition} from {} to {} while {} still \
         held the record: {both}",
        input.name(*from),
        input.name(*to),
        input.name(*from),
    ))
}

/// An eviction of dedup state (F-expire) between a message's first and
/// last effect, or first and last append: why a later copy looked new.
fn eviction_between_copies(input: &CheckInput<'_>, m: &MsgLedger) -> Option<String> {
    let times: Vec<SimTime> = if m.effects.len() > 1 {
        m.effects.iter().map(|(t, _)| *t).collect()
    } else if m.appends.len() > 1 {
        m.deliveries.iter().map(|(t, _)| *t).collect()
    } else {
        return None;
    };
    let (first, last) = (times.iter().min()?, times.iter().max()?);
    let (t, actor, entries) = input
        .ledger
        .evictions
        .iter()
        .find(|(t, ..)| t >= first && t <= last)?;
    let lost = match entries {
        1 => "1 entry".to_string(),
        n => format!("{n} entries"),
    };
    Some(format!(
        "why: {}'s dedup state was evicted at t={t} ({lost} lost, F-expire), so a later \
         copy looked new",
        input.name(*actor)
    ))
}

/// A write of message `key` that the storage accepted under a lease token
/// below one a write had already carried (M12 without fencing): a zombie's.
fn zombie_write(input: &CheckInput<'_>, key: MsgKey) -> Option<String> {
    let &(time, actor, _, token, highest, _) = input
        .ledger
        .stale_writes
        .iter()
        .find(|w| w.2 == key && w.5)?;
    Some(format!(
        "why: {} wrote it at t={time} under lease token {token}, after a write under token \
         {highest}: its lease had passed to a newer holder, and the storage accepted the old token",
        input.name(actor)
    ))
}

/// Why a record delivered again (no crash, rebalance or zombie
/// explaining it) was: only the causes this run had the faults for.
fn redelivery_why(stats: sim_core::Stats) -> String {
    let late = "its offset commit came after the broker's redelivery timeout";
    let how = match (stats.dropped > 0, stats.duplicated > 0) {
        (false, false) => late.to_string(),
        (true, false) => format!("its offset commit was lost, or {late}"),
        (false, true) => format!("the network duplicated the delivery, or {late}"),
        (true, true) => {
            "its offset commit was lost or late, or the network duplicated the delivery".into()
        }
    };
    format!("why: a record was delivered again: {how}")
}

/// Whether a consumer crashed while handling the message and the record
/// was delivered again after the crash.
fn redelivered_after_crash(m: &MsgLedger) -> bool {
    m.crashes
        .iter()
        .any(|(crashed, ..)| m.deliveries.iter().any(|(t, _)| t > crashed))
}

/// Why a message was applied more than once, where the ledger shows it
/// (`redelivery`: why a record delivered again was, unless something else
/// explains it).
fn causes(m: &MsgLedger, redelivery: Option<&str>) -> Vec<String> {
    let mut why = Vec::new();
    if m.final_outcome() == SendOutcome::Failed && m.effect_count() > 0 {
        why.push("why: its operation was rolled back after its event had been published".into());
    }
    if let Some((tag, by, committed)) = m.txn_crossing.as_deref() {
        let how = if *committed { "committed" } else { "aborted" };
        why.push(format!(
            "why: {by}'s EndTxn {how} {tag}'s output: with one epoch per session the broker \
             took a request of one transaction attempt for another's"
        ));
    }
    if let Some(first) = m.key_mismatches.first() {
        why.push(format!(
            "why: its idempotency key was already stored for {first}: the server answered \
             key-mismatch and never executed it"
        ));
    } else if m.effect_count() == 0 && m.acked_at.is_some() && m.txn_crossing.is_none() {
        why.push(if m.appends.is_empty() && !m.lost_appends.is_empty() {
            "why: the broker acknowledged it before writing it to disk and crashed before the \
             flush; it came back without it, and the producer, holding an ack, never sent it again"
                .into()
        } else if m.appends.is_empty() {
            "why: it was never appended: the produce request was lost and nothing retried it".into()
        } else if let Some((_, timeout)) = m.sink_aborts.first() {
            format!(
                "why: a checkpoint stored its offset, but when the job restored, the sink had \
                 aborted the staged transaction holding it: its {} ms timeout passed before the \
                 job came back to commit it",
                timeout.as_us() / 1_000
            )
        } else if m.offset_commits > 0 && redelivered_after_crash(m) {
            "why: its consumer crashed while handling it, before the effect; the record came \
             again after the restart, but what the crashed attempt had written made the \
             consumer skip it and commit its offset"
                .into()
        } else if m.offset_commits == 0 && redelivered_after_crash(m) {
            let crashed = m.crashes.first().map(|(t, ..)| *t);
            let again = m
                .deliveries
                .iter()
                .filter(|(t, _)| crashed.is_some_and(|c| *t > c))
                .count();
            format!(
                "why: its consumer crashed while handling it, before the effect; it came again \
                 {again}× after the restart, and each time what the crashed attempt had written \
                 made the consumer leave it uncommitted"
            )
        } else if m.offset_commits > 0 {
            "why: its offset was committed but its effect never ran (a crash between the two, or \
             a restarted consumer that forgot the confirmation)"
                .into()
        } else {
            "why: it was appended but never processed".into()
        });
    }
    if m.effect_count() < 2 {
        return why;
    }
    if let Some(again) = m.reappended() {
        why.push(format!("why: {}", again.why()));
    }
    if m.unknown_outcomes > 0 {
        why.push(format!(
            "why: the consumer's request to its database got no reply in time ({}): not \
             knowing whether it had been applied, the consumer sent it again, and the \
             database's handler applied it again",
            match m.unknown_outcomes {
                1 => "once".to_string(),
                n => format!("{n} times"),
            }
        ));
    }
    let redelivered = m.deliveries.len() > m.appends.len();
    if let Some(why_again) = redelivery
        && redelivered
        && m.crashes.is_empty()
        && m.txn_crossing.is_none()
        && m.unknown_outcomes == 0
    {
        why.push(why_again.into());
    }
    if m.compensations > 0 {
        why.push(
            "why: compensation returned it to unprocessed after its effect had already happened"
                .into(),
        );
    }
    for (age, window) in &m.late_copies {
        why.push(format!(
            "why: a copy arrived {} after the first was recorded; window {}: its dedup \
             entry had expired",
            span(*age),
            span(*window)
        ));
    }
    why
}

/// A span for people: `312 s`, `300.012 s`, `45.5 ms`; spans of an hour
/// or more also in hours or days (`86400 s (24 h)`, `90000 s (25 h)`).
pub fn span(d: SimDuration) -> String {
    const HOUR_US: u64 = 3_600_000_000;
    let exact = exact_span(d);
    let us = d.as_us();
    if us < HOUR_US {
        return exact;
    }
    let tenths = |unit: u64| {
        let t = us * 10 / unit;
        if t.is_multiple_of(10) {
            format!("{}", t / 10)
        } else {
            format!("{}.{}", t / 10, t % 10)
        }
    };
    if us >= 48 * HOUR_US {
        format!("{exact} ({} days)", tenths(24 * HOUR_US))
    } else {
        format!("{exact} ({} h)", tenths(HOUR_US))
    }
}

/// A span in seconds or milliseconds, to the microsecond.
fn exact_span(d: SimDuration) -> String {
    let us = d.as_us();
    // Three decimals: milliseconds in seconds, microseconds in milliseconds.
    let (whole, frac, unit) = if us >= 1_000_000 {
        (us / 1_000_000, us % 1_000_000 / 1_000, "s")
    } else {
        (us / 1_000, us % 1_000, "ms")
    };
    let frac = format!("{frac:03}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{whole} {unit}")
    } else {
        format!("{whole}.{frac} {unit}")
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::check::test_support::{at, check, key, sent_and_acked};
    use crate::history::Obs;

    #[test]
    fn spans_read_in_seconds_or_milliseconds() {
        assert_eq!(span(SimDuration::from_ms(300_000)), "300 s");
        assert_eq!(span(SimDuration::from_us(300_012_000)), "300.012 s");
        assert_eq!(span(SimDuration::from_us(45_500)), "45.5 ms");
        assert_eq!(span(SimDuration::from_ms(86_400_000)), "86400 s (24 h)");
        assert_eq!(
            span(SimDuration::from_us(86_894_998_000)),
            "86894.998 s (24.1 h)"
        );
        assert_eq!(
            span(SimDuration::from_ms(2_592_000_000)),
            "2592000 s (30 days)"
        );
    }

    #[test]
    fn an_effect_of_a_message_nobody_sent_is_a_phantom() {
        let mut h = sent_and_acked(0).to_vec();
        h.push(at(
            2,
            Obs::Effect {
                key: key(0),
                count: 1,
            },
        ));
        assert!(matches!(check(&h, no_phantom), Status::Held(_)));
        h.push(at(
            3,
            Obs::Effect {
                key: key(5),
                count: 1,
            },
        ));
        let Status::Violated(v) = check(&h, no_phantom) else {
            panic!("C6 must fire")
        };
        assert_eq!(v[0].subject, Some(key(5)));
    }

    #[test]
    fn an_acked_message_without_effect_is_lost_once_drained() {
        let h = sent_and_acked(0);
        let Status::Violated(v) = check(&h, no_loss) else {
            panic!("C1 must fire")
        };
        assert!(
            v[0].story.iter().any(|l| l.contains("never appended")),
            "{:?}",
            v[0].story
        );
    }

    #[test]
    fn two_effects_are_a_duplicate_and_break_exactly_once() {
        let mut h = sent_and_acked(0).to_vec();
        h.push(at(
            2,
            Obs::Effect {
                key: key(0),
                count: 1,
            },
        ));
        assert!(matches!(check(&h, no_duplicate_effect), Status::Held(_)));
        assert!(matches!(check(&h, exactly_once), Status::Held(_)));
        h.push(at(
            3,
            Obs::Effect {
                key: key(0),
                count: 2,
            },
        ));
        assert!(matches!(
            check(&h, no_duplicate_effect),
            Status::Violated(_)
        ));
        assert!(matches!(check(&h, exactly_once), Status::Violated(_)));
    }

    #[test]
    fn a_failed_operation_that_takes_effect_is_an_aborted_effect() {
        let failed = |ms| {
            at(
                ms,
                Obs::SendOutcome {
                    key: key(0),
                    outcome: SendOutcome::Failed,
                },
            )
        };
        let attempt = at(
            0,
            Obs::SendAttempt {
                key: key(0),
                attempt: 1,
            },
        );
        let mut h = vec![attempt, failed(1)];
        assert!(matches!(check(&h, no_aborted_effect), Status::Held(_)));
        h.push(at(
            2,
            Obs::Effect {
                key: key(0),
                count: 1,
            },
        ));
        let Status::Violated(v) = check(&h, no_aborted_effect) else {
            panic!("C7 must fire")
        };
        assert_eq!(v[0].summary, "p1#1 failed (rolled back), yet applied 1×");
    }

    #[test]
    fn an_unacked_message_may_have_no_effect_but_not_two() {
        let mut h = vec![at(
            0,
            Obs::SendAttempt {
                key: key(0),
                attempt: 1,
            },
        )];
        assert!(matches!(check(&h, exactly_once), Status::Held(_)));
        assert!(matches!(check(&h, no_loss), Status::Held(_)));
        h.push(at(
            2,
            Obs::Effect {
                key: key(0),
                count: 1,
            },
        ));
        h.push(at(
            3,
            Obs::Effect {
                key: key(0),
                count: 2,
            },
        ));
        assert!(matches!(check(&h, exactly_once), Status::Violated(_)));
    }
}
