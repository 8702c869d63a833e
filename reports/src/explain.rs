//! The causal story of each violation, in delivery vocabulary (`explain.txt`
//! and the terminal): "Let m = p1#3. Then: 1. … 2. …", ending in the
//! contradiction with the check and the model's claimed guarantee, and a
//! hint naming the protocol that avoids it (after Elle's Let/Then/because
//! proofs).
//!
//! A story's steps come from the happens-before graph of
//! [`crate::causality`]: the events that show the violation (and those the
//! check compares them with) and, of their causal past, those about m and
//! the crashes of the actors where it shows, plus the lost or cut
//! datagrams of m that made its producer retry (not causally before the
//! retry: it fired because nothing came). Steps are listed by step, a
//! topological order of the graph, so a duplicate's story ends at the
//! violation (a crash's restart aside).

use std::collections::BTreeSet;

use models::check::{CheckId, Violation, Witness};
use models::history::{Ledger, MsgLedger};
use models::protocols::ModelInfo;
use models::record::Recording;
use models::run::RunReport;
use models::scenario::Scenario;
use models::vocab::{FaultClass, SendOutcome};
use sim_core::ActorId;

use crate::causality::Causality;
use crate::events::{Event, Kind};
use crate::text::wrap;

/// Steps shown at most per story; a longer one leaves out its least telling
/// steps (receives, acks, offset commits), then its middle.
const STEPS_MAX: usize = 12;
/// Violations explained in full per check.
const TOLD_PER_CHECK: usize = 2;

/// One violation, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The check broken.
    pub check: CheckId,
    /// The message, if one.
    pub subject: Option<String>,
    /// Whether the scenario expects this violation.
    pub expected: bool,
    /// The story: (event step, line), in order.
    pub steps: Vec<(usize, String)>,
    /// Events left out of the middle of a long story.
    pub elided: usize,
    /// Why it happened, from the checker's reading of the ledger.
    pub because: Vec<String>,
    /// The contradiction, one sentence.
    pub conclusion: String,
    /// Whether this breaks the model's claim, or is what it allows.
    pub claim: String,
    /// The protocol that avoids it.
    pub hint: String,
    /// The story as a mini space-time diagram.
    pub diagram: String,
}

/// Why a run's claims held, read from its ledger: what came more than
/// once and took effect once, which crashed handlers still took effect
/// once, which stale writes and requests were refused. Empty when a
/// claimed check was broken, or when no fault reached a message twice.
pub fn held(scenario: &Scenario, report: &RunReport) -> Vec<String> {
    let info = scenario.model().info();
    if report
        .violations()
        .any(|(v, _)| info.claims.contains(&v.check))
    {
        return Vec::new();
    }
    let ledger = &report.ledger;
    let mut lines = Vec::new();
    let again: Vec<_> = ledger
        .messages
        .iter()
        .filter(|(_, m)| once_as_due(m) && (m.deliveries.len() > 1 || m.appends.len() > 1))
        .collect();
    if let Some((key, m)) = again.first() {
        lines.push(format!(
            "{} came more than once and took effect once{} (e.g. {key}: {}). {} \
             absorbed the copies: {}.",
            counted(again.len(), "message"),
            if again.len() == 1 { "" } else { " each" },
            copies(m),
            info.code,
            info.mechanism
        ));
    }
    // A re-send appended once may only have replaced a lost request: said
    // only where the broker can recognise re-sends.
    let broker = &scenario.spec().broker;
    let dedups = info.claims.contains(&CheckId::C4)
        || broker.dedup_appends
        || broker.dedup_window_ms.is_some();
    let resent: Vec<_> = ledger
        .messages
        .iter()
        .filter(|(_, m)| dedups && m.attempts > 1 && m.appends.len() == 1)
        .collect();
    if let Some((key, m)) = resent.first() {
        let how = match broker.dedup_window_ms {
            Some(ms) => format!(
                "the queue's deduplication window: a copy whose id it accepted less than {} \
                 ago is dropped",
                models::check::delivery::span(sim_core::SimDuration::from_ms(ms))
            ),
            None if !info.claims.contains(&CheckId::C4) => {
                "it appends each message id once: `dedup_appends`".to_string()
            }
            None => format!("{}: {}", info.code, info.mechanism),
        };
        lines.push(format!(
            "{} sent more than once and appended once{} (e.g. {key}: sent {}×): each \
             re-send replaced a lost request or was recognised by the broker ({how}).",
            counted(resent.len(), "message"),
            if resent.len() == 1 { "" } else { " each" },
            m.attempts,
        ));
    }
    let unknown: Vec<_> = ledger
        .messages
        .iter()
        .filter(|(_, m)| once_as_due(m) && m.unknown_outcomes > 0)
        .collect();
    if let Some((key, _)) = unknown.first() {
        lines.push(format!(
            "{} sent to the database again after no reply came in time, not knowing \
             whether {} had been applied, and applied once{} (e.g. {key}). {}: {}.",
            counted(unknown.len(), "request"),
            if unknown.len() == 1 { "it" } else { "each" },
            if unknown.len() == 1 { "" } else { " each" },
            info.code,
            info.mechanism
        ));
    }
    let is_recovery = |actor: ActorId| report.names[actor.index()] == RECOVERY;
    let survived: Vec<_> = ledger
        .messages
        .iter()
        .filter(|(_, m)| once_as_due(m))
        .filter_map(|(key, m)| {
            m.crashes
                .iter()
                .find(|c| !is_recovery(c.1))
                .map(|c| (key, c))
        })
        .collect();
    if let Some((key, (_, actor, point))) = survived.first() {
        lines.push(format!(
            "{} handled by an actor that crashed took effect once{}, e.g. {key}: {} crashed \
             at {point} while handling it.",
            counted(survived.len(), "message"),
            if survived.len() == 1 { "" } else { " each" },
            report.names[actor.index()]
        ));
    }
    lines.extend(recovery_died(ledger, is_recovery));
    let refused: Vec<_> = ledger.stale_writes.iter().filter(|w| !w.5).collect();
    // M7's broker observes its epoch checks as token writes.
    let token = if scenario.model().transactional() {
        "producer epoch"
    } else {
        "lease token"
    };
    if let Some(&&(time, writer, key, old, highest, _)) = refused.first() {
        lines.push(format!(
            "{} under an old {token} refused, e.g. {}'s write of {key} under {token} {old} \
             at t={time}, after {highest}: fencing.",
            counted(refused.len(), "write"),
            report.names[writer.index()]
        ));
    }
    if let Some((time, from, _)) = ledger.generation_fenced.first() {
        lines.push(format!(
            "{} of a consumer past its generation refused, e.g. {}'s at t={time}: the \
             coordinator fenced it after the rebalance.",
            counted(ledger.generation_fenced.len(), "request"),
            report.names[from.index()]
        ));
    }
    lines
}

/// Whether the message took effect once, as its outcome asks: an effect of
/// an operation that failed is a phantom, not a success.
fn once_as_due(m: &MsgLedger) -> bool {
    m.effect_count() == 1 && m.final_outcome() != SendOutcome::Failed
}

/// The recovery worker's name in every scenario.
const RECOVERY: &str = "recovery";

/// A recovery worker that died in the middle of a scan, when each row it
/// left stuck was compensated all the same and took effect once.
fn recovery_died(ledger: &Ledger, is_recovery: impl Fn(ActorId) -> bool) -> Option<String> {
    let left: Vec<_> = ledger
        .messages
        .iter()
        .filter_map(|(key, m)| {
            let crash = m.crashes.iter().find(|c| is_recovery(c.1))?;
            (m.compensations > 0 && once_as_due(m)).then_some((key, m, crash.2))
        })
        .collect();
    let (key, m, point) = left.first()?;
    let rows = match left.len() {
        1 => format!(
            "it was compensated all the same ({}× in all)",
            m.compensations
        ),
        n => format!(
            "each of the {n} rows it left this way was compensated all the same ({key}: {}×)",
            m.compensations
        ),
    };
    Some(format!(
        "The recovery worker died before compensating {key}, a row it had found stuck \
         ({point}); {rows} and took effect once: a scan that dies halfway, then a whole one, \
         leaves what one whole scan leaves."
    ))
}

/// How a message came more than once: its appends and their cause, its
/// deliveries.
fn copies(m: &MsgLedger) -> String {
    let mut what = Vec::new();
    if let Some(again) = m.reappended() {
        what.push(format!("appended {}× ({})", m.appends.len(), again.cause()));
    }
    if m.deliveries.len() > 1 {
        what.push(format!("delivered {}×", m.deliveries.len()));
    }
    what.join(", ")
}

fn counted(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Explain every violation of a recorded run (the first few per check).
pub fn explain(scenario: &Scenario, rec: &Recording, events: &[Event]) -> Vec<Explanation> {
    explain_at_most(scenario, rec, events, usize::MAX)
}

/// The first violation's explanation alone, as [`explain`] would tell it
/// first: what the terminal shows, without the cost of the others.
pub fn explain_first(
    scenario: &Scenario,
    rec: &Recording,
    events: &[Event],
) -> Option<Explanation> {
    explain_at_most(scenario, rec, events, 1).pop()
}

/// The first `limit` explanations of [`explain`].
fn explain_at_most(
    scenario: &Scenario,
    rec: &Recording,
    events: &[Event],
    limit: usize,
) -> Vec<Explanation> {
    let mut out: Vec<Explanation> = Vec::new();
    let hb = Causality::build(events);
    for (v, expected) in rec.report.violations() {
        if out.len() == limit {
            break;
        }
        let told = out.iter().filter(|x| x.check == v.check).count();
        if told < TOLD_PER_CHECK {
            let also = other_at_offset(&rec.report, v);
            let mut x = one(scenario, events, &hb, (v, also.as_deref()), expected);
            let steps: Vec<usize> = x.steps.iter().map(|(s, _)| *s).collect();
            x.diagram = crate::minidiagram::render(events, &steps, &rec.report.names);
            out.push(x);
        }
    }
    out
}

/// For an offset that named two messages, the message other than the
/// violation's subject, when its story is part of the contradiction: the
/// other one of C5, and, for any check, a record read there that the
/// broker then lost.
fn other_at_offset(report: &RunReport, v: &Violation) -> Option<String> {
    let key = v.subject?;
    // A torn record and the message whose record it was.
    let torn = report.ledger.torn.iter().find_map(|t| {
        (t.was == key)
            .then_some(t.reads_as)
            .or((t.reads_as == key).then_some(t.was))
    });
    if let Some(other) = torn {
        return Some(other.to_string());
    }
    let c = report.ledger.offset_conflicts.iter().find(|c| {
        let lost_other = c.lost.is_some_and(|(lost, _)| lost != key);
        (c.first == key || c.second == key) && (v.check == CheckId::C5 || lost_other)
    })?;
    let other = if c.first == key { c.second } else { c.first };
    Some(other.to_string())
}

/// Explain violation `v`, whose story also follows `also` (the other
/// message at an offset that named two).
fn one(
    scenario: &Scenario,
    events: &[Event],
    hb: &Causality,
    (v, also): (&Violation, Option<&str>),
    expected: bool,
) -> Explanation {
    let subject = v.subject.map(|k| k.to_string());
    let mut steps: Vec<(usize, String)> = match subject.as_deref() {
        Some(k) if v.check.is_law() => law_story(events, k, v),
        Some(k) => story(events, hb, v.check, (k, also)),
        None => Vec::new(),
    };
    let elided = shorten(&mut steps, events, also);
    place_crashes(&mut steps, events, scenario.model());
    let info = scenario.model().info();
    // A protocol's own property is a promise it makes, as its claims are.
    let promised = info.claims.contains(&v.check) || matches!(v.check, CheckId::Property(_));
    let outside = unclaimed_fault(events, &steps, (v.check, info.outside_claim));
    let claim = match (promised, expected, outside) {
        (true, true, Some(fault)) => format!(
            "{} claims {}; this run has {fault}, which that claim leaves out, as this lesson \
             shows.",
            info.code, info.guarantee
        ),
        (true, false, Some(fault)) => format!(
            "{} claims {}; this run has {fault}, which that claim leaves out: the scenario \
             expects more than the model claims.",
            info.code, info.guarantee
        ),
        (promised, expected, _) => claim(info, v.check, promised, expected),
    };
    Explanation {
        check: v.check,
        subject,
        expected,
        steps,
        elided,
        because: v
            .story
            .iter()
            .filter_map(|l| l.strip_prefix("why: "))
            .map(|l| format!("Because {l}."))
            .collect(),
        conclusion: conclusion(v, events),
        claim,
        hint: hint(v, info.remedy).unwrap_or_default(),
        diagram: String::new(),
    }
}

/// Whether this breaks the model's claim, or is what it allows.
fn claim(info: &ModelInfo, check: CheckId, promised: bool, expected: bool) -> String {
    match (promised, expected) {
        (true, true) => format!(
            "{} claims {}, so this breaks its promise, as this lesson expects.",
            info.code, info.guarantee
        ),
        (true, false) => format!(
            "{} claims {}, so this breaks its promise.",
            info.code, info.guarantee
        ),
        (false, true) => format!(
            "As the model predicts: {} claims only {}, which does not promise {}.",
            info.code,
            info.guarantee,
            check.name()
        ),
        (false, false) => format!(
            "{} claims only {}, which does not promise {}: the scenario expects more than \
             the model claims.",
            info.code,
            info.guarantee,
            check.name()
        ),
    }
}

/// A fault in the story that the model's claim leaves out (see
/// [`ModelInfo::outside_claim`]), in words: a crash that caused a
/// duplicate is not a broken promise of a model that claims nothing under
/// crashes.
fn unclaimed_fault(
    events: &[Event],
    steps: &[(usize, String)],
    (check, outside_claim): (CheckId, &[FaultClass]),
) -> Option<&'static str> {
    steps.iter().find_map(|(i, _)| {
        let (class, words) = match events.get(*i)?.kind {
            // No protocol above the log claims to survive a log that loses
            // what it acknowledged.
            Kind::LogLost => {
                return Some("a broker that acknowledged records before flushing them");
            }
            // A torn record is the phantom's cause; for the message it
            // replaced, the loss comes from the ack before the flush.
            Kind::Torn if check == CheckId::C6 => {
                return Some("a broker that recovers torn records without checksums");
            }
            Kind::Torn => {
                return Some("a broker that acknowledged records before flushing them");
            }
            Kind::Crash => (FaultClass::Crash, "a crash"),
            Kind::Lost => (FaultClass::Loss, "a lost datagram"),
            Kind::Dup => (FaultClass::Duplicate, "a duplicated datagram"),
            Kind::Cut => (FaultClass::Partition, "a partition"),
            Kind::Pause => (FaultClass::Pause, "a pause"),
            Kind::Rebalance => (FaultClass::Rebalance, "a rebalance"),
            _ => return None,
        };
        outside_claim.contains(&class).then_some(words)
    })
}

/// The checker's hint for this violation's cause when it gave one, else
/// the model's remedy; none when neither says anything (a step program
/// has no remedy of its own).
fn hint(v: &Violation, remedy: &str) -> Option<String> {
    let own = v.story.iter().find_map(|l| l.strip_prefix("hint: "));
    let hint = own.unwrap_or(remedy);
    (!hint.is_empty()).then(|| format!("hint: {hint}."))
}

/// A step program's crashes, told between which of its steps they came
/// (`CRASHED at after-effect-before-set-status-processed, after step 4
/// (Effect), before step 5 (SetStatus(Processed))`).
fn place_crashes(steps: &mut [(usize, String)], events: &[Event], model: models::protocols::Model) {
    if model.steps().is_none() {
        return;
    }
    for (i, text) in steps.iter_mut() {
        let Some(e) = events.get(*i).filter(|e| e.kind == Kind::Crash) else {
            continue;
        };
        let told = format!("CRASHED at {}", e.detail);
        *text = text.replace(&told, &format!("CRASHED at {}", model.place_of(&e.detail)));
    }
}

/// The story of message `key` under `check`, read from the happens-before
/// graph: the events the contradiction rests on ([`premises`]) and their
/// causal past, keeping what concerns m and the crashes where the
/// violation shows ([`chosen`]), plus what made the producer retry
/// ([`why_retried`]); listed by step, a topological order of the graph.
fn story(
    events: &[Event],
    hb: &Causality,
    check: CheckId,
    (key, also): (&str, Option<&str>),
) -> Vec<(usize, String)> {
    let mut keep = chosen(events, hb, check, (key, also));
    for (i, why) in why_retried(events, hb, key, &keep).into_iter().enumerate() {
        keep[i] |= why;
    }
    for i in why_resent_after_restart(events, key, &keep) {
        keep[i] = true;
    }
    events
        .iter()
        .enumerate()
        .filter(|(i, _)| keep[*i])
        .filter_map(|(i, e)| {
            let what = tell(e)?;
            // An event of the other message names it: m is `key` only.
            let what = match e.msg.as_deref() {
                Some(other) if other != key => naming_m(&what, other),
                _ => what,
            };
            Some((i, line(e, &what)))
        })
        .collect()
}

/// `text` with the word m, as [`tell`] writes it, replaced by `name`.
fn naming_m(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '#' {
            word.push(c);
            continue;
        }
        out.push_str(if word == "m" { name } else { &word });
        word.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// Per step, whether the event is in m's story before retries are
/// explained: the causal past of the [`premises`], narrowed to the
/// events about m and, after m first appears, the crashes of the actors
/// where the violation shows (a crash there may have lost what the actor
/// knew about m), and the pauses of actors that handled m while m was in
/// play (a pause held m up). Lost datagrams of other messages, and crashes elsewhere
/// while handling other messages, are left out: they are causally before
/// the violation only through later, unrelated traffic. The request that
/// made a kept compensation happen (the recovery worker's) is kept. The
/// restart after a kept crash is kept too, even past the violation, so a
/// crash is never left hanging.
fn chosen(
    events: &[Event],
    hb: &Causality,
    check: CheckId,
    (key, also): (&str, Option<&str>),
) -> Vec<bool> {
    let about = |e: &Event| {
        let msg = e.msg.as_deref();
        (msg == Some(key) || (msg.is_some() && msg == also)) && e.kind != Kind::LawDiffers
    };
    let mut rests_on = premises(events, check, key);
    // The other message's life at the offset: appended, read, lost.
    rests_on.extend(events.iter().enumerate().filter_map(|(i, e)| {
        let at_offset = matches!(
            e.kind,
            Kind::Append | Kind::Receive | Kind::LogLost | Kind::Torn
        );
        (also.is_some() && e.msg.as_deref() == also && at_offset).then_some(i)
    }));
    let past = hb.ancestors(&rests_on);
    let first = events.iter().position(about).unwrap_or(events.len());
    let lanes: BTreeSet<usize> = rests_on
        .iter()
        .filter_map(|s| events.get(*s))
        .map(|e| e.lane)
        .collect();
    // A pause matters while m is in play: it may start before m appears.
    let resumed_after = |i: usize, lane: usize| {
        let resume = events[i..]
            .iter()
            .position(|e| e.kind == Kind::Resume && e.lane == lane);
        resume.is_none_or(|k| i + k > first)
    };
    // The actors that handled m, where a pause held it up.
    let handled: BTreeSet<usize> = events
        .iter()
        .enumerate()
        .filter(|(i, e)| past[*i] && about(e))
        .map(|(_, e)| e.lane)
        .collect();
    let mut keep: Vec<bool> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let crash = e.kind == Kind::Crash && i > first && lanes.contains(&e.lane);
            let pause =
                e.kind == Kind::Pause && handled.contains(&e.lane) && resumed_after(i, e.lane);
            // A rebalance that took m's partition from an actor holding m.
            let rebalance = e.kind == Kind::Rebalance && i > first && handled.contains(&e.lane);
            // A lease moved, while m was in play, to an actor that handled
            // m (M12; a rebalance's assignment has no peer).
            let lease = e.kind == Kind::Assign
                && i > first
                && e.peer_lane.is_some_and(|to| handled.contains(&to));
            (past[i] && (about(e) || crash || lease)) || pause || rebalance
        })
        .collect();
    // With a kept rebalance, the assignment it made.
    let rebalanced: BTreeSet<u64> = events
        .iter()
        .zip(&keep)
        .filter(|(e, k)| **k && e.kind == Kind::Rebalance)
        .map(|(e, _)| e.time_us)
        .collect();
    for (i, e) in events.iter().enumerate() {
        if e.kind == Kind::Assign && rebalanced.contains(&e.time_us) {
            keep[i] = true;
        }
    }
    // What made a kept event about m happen when it was not m's own
    // traffic: the recovery worker's request behind a compensation.
    for i in 0..events.len() {
        let asked = |c: usize| events[c].kind == Kind::Deliver && events[c].msg.is_none();
        if keep[i]
            && events[i].kind == Kind::Compensate
            && let Some(c) = events[i].cause.filter(|&c| asked(c))
        {
            keep[c] = true;
        }
    }
    let mut down: BTreeSet<usize> = BTreeSet::new();
    for (i, e) in events.iter().enumerate() {
        match e.kind {
            Kind::Crash | Kind::Pause if keep[i] => {
                down.insert(e.lane);
            }
            Kind::Restart | Kind::Resume if down.remove(&e.lane) => keep[i] = true,
            _ => {}
        }
    }
    keep
}

/// The events the contradiction rests on: those that show the violation
/// (see [`crate::events::violating`]) and the other events of m the check
/// compares them with: every effect of a duplicate, every append of a
/// duplicate append, and what the producer learned (acks, failures) for
/// the checks that hold effects against it; for no-aborted-effect also
/// the crashes during m's send that rolled it back.
fn premises(events: &[Event], check: CheckId, key: &str) -> Vec<usize> {
    let compared: &[Kind] = match check {
        CheckId::C1 | CheckId::C2 | CheckId::C16 => &[
            Kind::Ack,
            Kind::SendFailed,
            Kind::OffsetCommit,
            Kind::LogLost,
        ],
        CheckId::C3 => &[Kind::Effect],
        CheckId::C4 => &[Kind::Append],
        CheckId::C7 => &[Kind::Effect, Kind::Ack, Kind::SendFailed, Kind::Crash],
        CheckId::C8 => &[Kind::Effect, Kind::Ack, Kind::SendFailed, Kind::LogLost],
        _ => &[],
    };
    let mut steps = crate::events::violating(events, check, key);
    steps.extend(
        events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.msg.as_deref() == Some(key) && compared.contains(&e.kind))
            .map(|(i, _)| i),
    );
    steps
}

/// Per step, the faults that explain the retries in m's story: for each
/// kept re-send of m, the datagrams of m to or from the retrying actor
/// that were lost, cut, or arrived while it was down, after the attempt it
/// repeats and caused by it (its causal future), before the re-send. A
/// lost ack does not happen before the retry (no datagram links them; the
/// retry timer fired because nothing came), so without this the story
/// could show a retry without its reason.
fn why_retried(events: &[Event], hb: &Causality, key: &str, keep: &[bool]) -> Vec<bool> {
    let mut why = vec![false; events.len()];
    let attempts: Vec<(usize, &Event)> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == Kind::SendAttempt && e.msg.as_deref() == Some(key))
        .collect();
    for (n, &(at, retry)) in attempts.iter().enumerate().filter(|(_, (at, _))| keep[*at]) {
        let Some(&(since, _)) = attempts[..n]
            .iter()
            .rev()
            .find(|(_, a)| a.lane == retry.lane)
        else {
            continue;
        };
        let future = hb.descendants_before(since, at);
        for (i, e) in events.iter().enumerate().take(at).skip(since) {
            let lost_on_the_way = matches!(e.kind, Kind::Lost | Kind::Cut)
                && (e.lane == retry.lane || e.peer_lane == Some(retry.lane));
            let came_while_down = e.kind == Kind::DeliverToCrashed && e.lane == retry.lane;
            why[i] |= (lost_on_the_way || came_while_down)
                && future[i - since]
                && e.msg.as_deref() == Some(key);
        }
    }
    why
}

/// The crash and restart behind each kept re-send of m after a restart
/// (see [`crate::events::RESENT_AFTER_RESTART`]): the last restart of the
/// re-sending actor before it, and that actor's crash before the restart,
/// so that the story shows why the producer sent m again. Positions in
/// `events`.
fn why_resent_after_restart(events: &[Event], key: &str, keep: &[bool]) -> Vec<usize> {
    let mut why = Vec::new();
    let resent = events.iter().enumerate().filter(|(i, e)| {
        keep[*i]
            && e.kind == Kind::SendAttempt
            && e.msg.as_deref() == Some(key)
            && e.detail == crate::events::RESENT_AFTER_RESTART
    });
    for (at, e) in resent {
        let last_on_lane = |kind: Kind, before: usize| {
            events[..before]
                .iter()
                .rposition(|r| r.kind == kind && r.lane == e.lane)
        };
        if let Some(restart) = last_on_lane(Kind::Restart, at) {
            why.push(restart);
            why.extend(last_on_lane(Kind::Crash, restart));
        }
    }
    why
}

/// Leave out steps until at most [`STEPS_MAX`] remain: first the least
/// telling kinds, then from the middle; returns how many were left out.
fn shorten(steps: &mut Vec<(usize, String)>, events: &[Event], also: Option<&str>) -> usize {
    let before = steps.len();
    // The other message's reads are what the contradiction is about, and
    // how m came to be sent again is not.
    let telling = |e: &Event| also.is_some() && e.msg.as_deref() == also;
    let less_telling: &[Kind] = if also.is_some() {
        &[
            Kind::OffsetCommit,
            Kind::Ack,
            Kind::DeliverToCrashed,
            Kind::SendAttempt,
            Kind::Receive,
        ]
    } else {
        &[Kind::OffsetCommit, Kind::Ack, Kind::Receive]
    };
    for &kind in less_telling {
        // The earliest steps of this kind go first, in one pass.
        let mut extra = steps.len().saturating_sub(STEPS_MAX);
        steps.retain(|(s, _)| {
            let e = &events[*s];
            let leave_out = extra > 0 && e.kind == kind && !telling(e);
            extra -= usize::from(leave_out);
            !leave_out
        });
    }
    if steps.len() > STEPS_MAX {
        let extra = steps.len() - STEPS_MAX;
        steps.drain(4..4 + extra);
    }
    before - steps.len()
}

/// What the law probe did with message `key`: the experiment, step by
/// step, at the event where it found the difference.
fn law_story(events: &[Event], key: &str, v: &Violation) -> Vec<(usize, String)> {
    let Some(e) = events
        .iter()
        .find(|e| e.kind == Kind::LawDiffers && e.msg.as_deref() == Some(key))
    else {
        return Vec::new();
    };
    let mut lines = vec![line(e, "was about to process m from durable state s")];
    let probe = |what: &str| format!("{:<21}{what}", "law probe");
    let found = e
        .law
        .iter()
        .find(|l| l.check == v.check.code() && l.crash_point == v.crash_point);
    match (v.check, v.crash_point) {
        (CheckId::C15, Some(point)) => {
            let retry = found.map_or("", |l| l.retry.as_str());
            lines.push(probe(&format!(
                "f(s,false): process m from a copy of s, crash at {point}, recover"
            )));
            lines.push(probe(&format!(
                "…then f(·,true): process m again, the retry {retry}, to the end"
            )));
            lines.push(probe("f(s,true): one clean attempt from another copy of s"));
        }
        _ => {
            lines.push(probe("h(s,m): process m once from a copy of s"));
            lines.push(probe("h(h(s,m),m): process m twice from another copy"));
        }
    }
    lines.push(probe(&format!("the durable states differ: {}", e.detail)));
    if let Some(l) = found {
        let (clean, retried) = if v.check == CheckId::C15 {
            ("one clean attempt", "the retry")
        } else {
            ("once", "twice")
        };
        lines.extend(l.state.iter().map(|f| {
            probe(&format!(
                "  {}: {} in s, {} after {clean}, {} after {retried}",
                f.field, f.s, f.clean, f.retried
            ))
        }));
    }
    lines.into_iter().map(|l| (e.step, l)).collect()
}

fn line(e: &Event, what: &str) -> String {
    format!(
        "t={:<10} {:<11} {what}",
        format!("{}ms", e.time_ms()),
        e.actor
    )
}

/// What an event in m's story did, or `None` for events that only carry m.
fn tell(e: &Event) -> Option<String> {
    let variant = e.detail.split([' ', '{', '(']).next().unwrap_or_default();
    let peer = e.peer.as_deref().unwrap_or("?");
    Some(match e.kind {
        Kind::SendAttempt if e.detail == "attempt 1" => "sent m".into(),
        Kind::SendAttempt => format!("re-sent m ({})", e.detail),
        Kind::Lost => format!("→ {peer}: the network LOST {variant} of m"),
        Kind::Cut => format!("→ {peer}: a partition CUT {variant} of m"),
        Kind::Dup => format!("→ {peer}: the network DUPLICATED {variant} of m"),
        Kind::DeliverToCrashed => format!("{variant} of m arrived while it was down: gone"),
        Kind::Append => format!("appended m at {}", e.detail),
        Kind::Ack => "learned that m is acked".into(),
        Kind::SendFailed => format!("gave up on m ({})", e.detail),
        Kind::Receive => format!("received m ({})", e.detail),
        Kind::Effect => format!(
            "applied m                 effect #{}",
            e.effect.unwrap_or(0)
        ),
        Kind::OffsetCommit => match e.detail.strip_suffix(crate::events::REUSED) {
            Some(at) => format!("stored an offset commit of {at}, m's offset now"),
            None => "stored the offset commit of m".into(),
        },
        Kind::Compensate => "returned m from processing to unprocessed".into(),
        Kind::TxnEnd => format!("{} (m's transaction)", e.detail),
        Kind::Expire => "EVICTED its dedup state (F-expire)".into(),
        Kind::Pause => "PAUSED (F-pause): it handles nothing, its memory kept".into(),
        Kind::Resume => "RESUMED with the memory and beliefs it had".into(),
        Kind::Rebalance => {
            "LOST ITS PARTITIONS in a rebalance (F-rebalance); nobody tells it".into()
        }
        Kind::Assign => format!("assigned {}", e.detail),
        Kind::Crash => format!("CRASHED at {} (volatile state lost)", e.detail),
        Kind::LawDiffers => format!("law probe on m: {}", e.detail),
        Kind::SinkAbort => format!(
            "restored: the sink had ABORTED m's staged transaction, {}",
            e.detail
        ),
        Kind::Restart => "restarted from durable state".into(),
        Kind::Refused => format!("REFUSED m: {}", e.detail),
        Kind::LogLost => format!("came back WITHOUT m, at {}", e.detail),
        Kind::Torn => format!(
            "came back with a TORN record at {}; it reads as m, which no producer sent",
            e.detail
        ),
        Kind::OutcomeUnknown => {
            "got no reply to m's database request in time: outcome UNKNOWN, sent it again".into()
        }
        // A request about no message, kept for what it made happen (see
        // `chosen`).
        Kind::Deliver if e.msg.is_none() => format!("received {variant} from {peer}"),
        Kind::Send | Kind::Deliver | Kind::Timer => return None,
    })
}

/// The final sentence: the rule and the fact that contradicts it.
fn conclusion(v: &Violation, events: &[Event]) -> String {
    let m = v
        .subject
        .map_or_else(|| "a message".to_string(), |k| k.to_string());
    let effects = events
        .iter()
        .filter(|e| e.kind == Kind::Effect && e.msg.as_deref() == Some(m.as_str()))
        .count();
    let times = match effects {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    };
    let witness = Witness {
        message: &m,
        times: &times,
        violation: v,
    };
    v.check.contradiction(&witness)
}

/// The explanations as text, 80 columns; a message's story is told once.
pub fn render(explanations: &[Explanation]) -> String {
    lines(explanations)
        .into_iter()
        .map(|(_, line)| line + "\n")
        .collect()
}

/// The lines of [`render`], each with the event step of the story step it
/// tells, if it tells one (the page makes those lines links to the step).
pub fn lines(explanations: &[Explanation]) -> Vec<(Option<usize>, String)> {
    let mut out = Vec::new();
    let mut told: Vec<&str> = Vec::new();
    for x in explanations {
        match x.subject.as_deref() {
            // A law's story is the probe's experiment, not what happened
            // to m in the run: always told.
            Some(k) if told.contains(&k) && !x.check.is_law() => render_brief(&mut out, x),
            _ => render_one(&mut out, x),
        }
        told.extend(x.subject.as_deref());
    }
    if explanations.is_empty() {
        out.push((
            None,
            "No violations: every check held, was skipped or went unchecked.".to_string(),
        ));
    }
    out
}

/// Add `text` (one or more lines) to `out`, every line about `step`.
fn push(out: &mut Vec<(Option<usize>, String)>, step: Option<usize>, text: &str) {
    if text.is_empty() {
        out.push((step, String::new()));
    }
    out.extend(text.lines().map(|l| (step, l.to_string())));
}

fn heading(out: &mut Vec<(Option<usize>, String)>, x: &Explanation) {
    let tag = if x.expected { "expected" } else { "UNEXPECTED" };
    let jepsen = x
        .check
        .jepsen()
        .map(|j| format!(" ({j})"))
        .unwrap_or_default();
    let about = x
        .subject
        .as_deref()
        .map(|k| format!(" · {k}"))
        .unwrap_or_default();
    push(
        out,
        None,
        &format!("{}{jepsen}{about} · {tag}", x.check.heading()),
    );
}

/// An explanation whose message's story was told above: the heading and
/// the conclusion only.
fn render_brief(out: &mut Vec<(Option<usize>, String)>, x: &Explanation) {
    heading(out, x);
    push(out, None, "  What happened to m is told above.");
    for para in [&x.conclusion, &x.claim] {
        push(out, None, &wrap(&format!("  {para}"), "    "));
    }
    push(out, None, "");
}

/// One explanation as text, 80 columns.
fn render_one(out: &mut Vec<(Option<usize>, String)>, x: &Explanation) {
    heading(out, x);
    if let Some(k) = &x.subject {
        push(out, None, &format!("  Let m = {k}. Then:"));
    }
    for (i, (step, text)) in x.steps.iter().enumerate() {
        let n = format!("{:>4}. ", i + 1);
        push(
            out,
            Some(*step),
            &wrap(&format!("  {n}{text}"), &" ".repeat(33)),
        );
    }
    match x.elided {
        0 => {}
        1 => push(
            out,
            None,
            "        (1 less telling step left out: see events.jsonl)",
        ),
        n => push(
            out,
            None,
            &format!("        ({n} less telling steps left out: see events.jsonl)"),
        ),
    }
    let paragraphs = x.because.iter().chain([&x.conclusion, &x.claim, &x.hint]);
    for para in paragraphs.filter(|p| !p.is_empty()) {
        push(out, None, &wrap(&format!("  {para}"), "    "));
    }
    if x.steps.len() > 1 && !x.check.is_law() {
        push(out, None, "");
        push(out, None, &x.diagram);
    }
    push(out, None, "");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causality::tests::event;

    /// `event` about message `m` (`p1#1`), with `detail`, sent to `peer`.
    fn about(mut e: Event, detail: &str, peer: Option<usize>) -> Event {
        e.msg = Some("p1#1".into());
        e.detail = detail.into();
        e.peer_lane = peer;
        e
    }

    /// The producer (lane 0) sends m to replica A (lane 1), which applies
    /// it and loses the ack; another actor (lane 3) crashes; the producer
    /// times out and re-sends m to replica B (lane 2), which applies it
    /// again. Replica A never talks to B: its lost ack is not causally
    /// before the second effect.
    fn retried_elsewhere() -> Vec<Event> {
        let mut effect_2 = about(event(10, 2, Kind::Effect, Some(9)), "effect #2", None);
        effect_2.effect = Some(2);
        let mut effect_1 = about(event(3, 1, Kind::Effect, Some(2)), "effect #1", None);
        effect_1.effect = Some(1);
        vec![
            about(event(0, 0, Kind::SendAttempt, None), "attempt 1", None),
            about(event(1, 0, Kind::Send, None), "Produce", Some(1)),
            about(event(2, 1, Kind::Deliver, Some(1)), "Produce", Some(0)),
            effect_1,
            about(event(4, 1, Kind::Lost, Some(2)), "ProduceAck", Some(0)),
            event(5, 3, Kind::Crash, None),
            event(6, 0, Kind::Timer, None),
            about(event(7, 0, Kind::SendAttempt, Some(6)), "attempt 2", None),
            about(event(8, 0, Kind::Send, Some(6)), "Produce", Some(2)),
            about(event(9, 2, Kind::Deliver, Some(8)), "Produce", Some(0)),
            effect_2,
        ]
    }

    fn told(events: &[Event]) -> Vec<usize> {
        let hb = Causality::build(events);
        story(events, &hb, CheckId::C3, ("p1#1", None))
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }

    #[test]
    fn a_retry_brings_the_lost_ack_that_caused_it_but_not_unrelated_crashes() {
        let events = retried_elsewhere();
        assert_eq!(told(&events), [0, 3, 4, 7, 10]);
        let hb = Causality::build(&events);
        assert!(
            !hb.ancestors(&[10])[4],
            "the lost ack is only why, not before"
        );
    }

    #[test]
    fn the_story_stops_at_the_violation() {
        let mut events = retried_elsewhere();
        let mut late = about(event(11, 0, Kind::Ack, Some(6)), "acked", None);
        late.time_us = 20_000;
        events.push(late);
        assert_eq!(told(&events).last(), Some(&10));
    }

    #[test]
    fn a_crash_of_the_actor_that_applied_m_twice_is_told_with_its_restart() {
        let mut events = retried_elsewhere();
        events.insert(9, event(9, 2, Kind::Crash, None));
        events.insert(10, event(10, 2, Kind::Restart, None));
        for (i, e) in events.iter_mut().enumerate() {
            e.step = i;
        }
        events[11].cause = Some(8);
        events[12].cause = Some(11);
        let lines = story(
            &events,
            &Causality::build(&events),
            CheckId::C3,
            ("p1#1", None),
        );
        let steps: Vec<usize> = lines.iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, [0, 3, 4, 7, 9, 10, 12]);
        assert!(
            lines[5].1.contains("restarted from durable state"),
            "{lines:?}"
        );
    }

    #[test]
    fn events_numbered_out_of_place_do_not_panic() {
        let mut events = retried_elsewhere();
        for e in &mut events {
            e.step = 1000;
        }
        assert_eq!(told(&events), [0, 3, 4, 7, 10], "by position");
    }

    #[test]
    fn a_long_story_loses_its_earliest_commits_and_acks_first_then_its_middle() {
        let kinds = [Kind::Ack, Kind::Effect, Kind::OffsetCommit];
        let events: Vec<Event> = (0..30).map(|i| event(i, 0, kinds[i % 3], None)).collect();
        let mut steps: Vec<(usize, String)> = (0..30).map(|i| (i, String::new())).collect();
        let left_out = shorten(&mut steps, &events, None);
        assert_eq!(left_out, 18);
        let kept: Vec<usize> = steps.iter().map(|(s, _)| *s).collect();
        // The 10 commits go first, then the 8 earliest acks: 2 acks remain.
        assert_eq!(kept, [1, 4, 7, 10, 13, 16, 19, 22, 24, 25, 27, 28]);

        let effects: Vec<Event> = (0..20).map(|i| event(i, 0, Kind::Effect, None)).collect();
        let mut steps: Vec<(usize, String)> = (0..20).map(|i| (i, String::new())).collect();
        assert_eq!(
            shorten(&mut steps, &effects, None),
            8,
            "no least telling kind"
        );
        let kept: Vec<usize> = steps.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            kept,
            [0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19],
            "the middle goes"
        );
    }
}
