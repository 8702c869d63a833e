//! The run as one ordered list of events in delivery vocabulary, the
//! common input of every picture and of `events.jsonl`.
//!
//! The list merges the engine's trace (datagrams sent, lost, duplicated,
//! delivered; timers; crashes and restarts) with the actors' observations
//! (appends, acks, effects, offset commits, …). Within one engine step the
//! event that started it comes first, then what the handler observed, then
//! the datagrams it sent. Each event carries the state of the actors that
//! changed with it, so a reader can replay states step by step.

use std::collections::{BTreeMap, BTreeSet};

use models::check::CheckId;
use models::history::{Law, LawFailure, Obs};
use models::record::{ActorState, Recording};

use models::vocab::{EXPIRE, MsgKey, REBALANCE, SendOutcome, TxnTag};
use serde::Serialize;
use sim_core::{TraceEvent, TraceKind};

/// What happened, in delivery vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A datagram left its sender and will arrive.
    Send,
    /// The network made a second copy of a datagram.
    Dup,
    /// The network lost a datagram (randomly or by the schedule).
    Lost,
    /// A partition cut a datagram.
    Cut,
    /// A datagram reached its receiver.
    Deliver,
    /// A datagram reached a crashed receiver and vanished.
    DeliverToCrashed,
    /// A timer fired.
    Timer,
    /// An actor crashed at a named point: its volatile state is gone.
    Crash,
    /// A crashed actor restarted from its durable state.
    Restart,
    /// A producer sent or re-sent a message.
    SendAttempt,
    /// A producer got the ack for a message.
    Ack,
    /// A producer gave up on a message, or never learned its outcome.
    SendFailed,
    /// The broker appended a message to a partition's log.
    Append,
    /// A consumer received a record.
    Receive,
    /// A consumer applied a message's effect to its durable state.
    Effect,
    /// The broker stored a consumer's offset commit.
    OffsetCommit,
    /// The recovery worker returned a stuck message to `unprocessed`.
    Compensate,
    /// A transaction ended, as its task learned or as the broker did it (M7).
    TxnEnd,
    /// An actor's dedup state was evicted (F-expire).
    Expire,
    /// An actor was paused (F-pause).
    Pause,
    /// A paused actor resumed, with its memory.
    Resume,
    /// A consumer lost its partitions in a rebalance (F-rebalance).
    Rebalance,
    /// The group coordinator assigned a partition to another consumer.
    Assign,
    /// The law probe found that a retry does not act like one clean attempt.
    LawDiffers,
    /// On a restore, a streaming job found that its sink had aborted the
    /// staged transaction holding a record, after the sink's timeout (M8).
    SinkAbort,
    /// The storage or the broker refused a request: a write under a stale
    /// lease token or producer epoch, a consumer past its generation, an
    /// idempotency key used for another request.
    Refused,
    /// The broker restarted without records it had acknowledged but not
    /// flushed to disk.
    LogLost,
    /// A consumer's request to its remote database got no reply in time:
    /// its outcome is unknown, and the consumer sends it again.
    OutcomeUnknown,
    /// The broker restarted with a record torn by a crash during a flush,
    /// which no checksum rejected: its bytes read as a message no producer
    /// sent.
    Torn,
}

impl Kind {
    /// The kind as in `events.jsonl` (`deliver_to_crashed`).
    pub fn word(self) -> &'static str {
        match self {
            Kind::Send => "send",
            Kind::Dup => "dup",
            Kind::Lost => "lost",
            Kind::Cut => "cut",
            Kind::Deliver => "deliver",
            Kind::DeliverToCrashed => "deliver_to_crashed",
            Kind::Timer => "timer",
            Kind::Crash => "crash",
            Kind::Restart => "restart",
            Kind::SendAttempt => "send_attempt",
            Kind::Ack => "ack",
            Kind::SendFailed => "send_failed",
            Kind::Append => "append",
            Kind::Receive => "receive",
            Kind::Effect => "effect",
            Kind::OffsetCommit => "offset_commit",
            Kind::Compensate => "compensate",
            Kind::TxnEnd => "txn_end",
            Kind::Expire => "expire",
            Kind::Pause => "pause",
            Kind::Resume => "resume",
            Kind::Rebalance => "rebalance",
            Kind::Assign => "assign",
            Kind::LawDiffers => "law_differs",
            Kind::SinkAbort => "sink_abort",
            Kind::Refused => "refused",
            Kind::LogLost => "log_lost",
            Kind::OutcomeUnknown => "outcome_unknown",
            Kind::Torn => "torn",
        }
    }

    /// Whether the event is a datagram on the network (drawn as an arrow).
    pub fn is_network(self) -> bool {
        matches!(self, Kind::Send | Kind::Dup | Kind::Lost | Kind::Cut)
    }
}

/// An actor's state, as recorded after an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StateView {
    /// Running (false while crashed).
    pub up: bool,
    /// What survives a crash.
    pub durable: String,
    /// What a crash loses (`null` while crashed).
    pub volatile: Option<String>,
}

impl From<&ActorState> for StateView {
    fn from(s: &ActorState) -> Self {
        StateView {
            up: s.up,
            durable: s.durable.clone(),
            volatile: s.volatile.clone(),
        }
    }
}

/// One event of the run; one line of `events.jsonl`. Fields without a
/// value (no peer, no message, no state change, …) are left out of the line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Position in the list, from 0.
    pub step: usize,
    /// Simulated time, microseconds.
    pub time_us: u64,
    /// Where it happened (the sender, for datagrams).
    pub actor: String,
    /// The actor's lane: its index in scenario order (producers, broker,
    /// consumers, recovery), left to right in the pictures.
    pub lane: usize,
    /// The other end, for datagrams.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The other end's lane.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_lane: Option<usize>,
    /// What happened.
    pub kind: Kind,
    /// The message concerned (`p1#3`), if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// The datagram, timer or crash point, in words.
    pub detail: String,
    /// The engine's trace event id, for events from the trace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<u64>,
    /// The step of the event that caused this one: the send of a
    /// delivery, or the delivery or timer whose handler did this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<usize>,
    /// For effects: how many times the message has now taken effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<u32>,
    /// The vector clock: per lane, how many events of that actor happen
    /// before or at this one (program order, plus send → delivery and
    /// trigger → handler), as ShiViz and Lamport diagrams read it.
    pub clock: Vec<u32>,
    /// The checks this event violates (`C3`), for ringed events.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violates: Vec<String>,
    /// For an event inside a handler that ends later: the step of the
    /// handler's last event. A handler runs at one instant, and the states
    /// it leaves are recorded once, on its last event: those are the states
    /// at each of its events too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler_ends: Option<usize>,
    /// The new state of every actor that changed here, by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub state: BTreeMap<String, StateView>,
    /// For a law probe that found a difference: each law it broke, with
    /// the three durable states compared, field by field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub law: Vec<LawView>,
}

/// A law the probe found broken, as `events.jsonl` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LawView {
    /// `C14` or `C15`.
    pub check: &'static str,
    /// The crash point of the failed attempt (C15).
    pub crash_point: Option<&'static str>,
    /// When the retry came (`at once`, `at +300.001 s, past …`).
    pub retry: String,
    /// The fields that differ, and the message's own: `s`, one clean
    /// attempt, the failed attempt then the retry (C14: twice).
    pub state: Vec<FieldView>,
}

/// One field in the three states a law compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldView {
    /// The field (`effects[p1#4]`).
    pub field: String,
    /// In `s`.
    pub s: String,
    /// After one clean attempt.
    pub clean: String,
    /// After the failed attempt and the retry.
    pub retried: String,
}

impl From<&LawFailure> for LawView {
    fn from(f: &LawFailure) -> Self {
        LawView {
            check: match f.law {
                Law::Idempotence => "C14",
                Law::Retry => "C15",
            },
            crash_point: f.crash_point,
            retry: f.retry.to_string(),
            state: f
                .state
                .iter()
                .map(|s| FieldView {
                    field: s.field.clone(),
                    s: s.before.clone(),
                    clean: s.clean.clone(),
                    retried: s.retried.clone(),
                })
                .collect(),
        }
    }
}

impl Event {
    /// The time in milliseconds, as people read it (`12.5`).
    pub fn time_ms(&self) -> String {
        ms(self.time_us)
    }
}

/// Microseconds as milliseconds with at most three decimals.
pub fn ms(us: u64) -> String {
    let (whole, frac) = (us / 1000, us % 1000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// The detail of a send attempt by an actor that restarted since it last
/// sent the message (its attempt count starts over in a new incarnation).
pub const RESENT_AFTER_RESTART: &str = "after a restart";

/// The end of an offset commit's detail when its offset was given to
/// another record after the broker lost the one there: the commit may
/// have been sent for the lost one.
pub const REUSED: &str = ", an offset the broker reused";

/// Every event of a recorded run, in order, with violating events marked.
pub fn build(rec: &Recording) -> Vec<Event> {
    let mut events = build_unclocked(rec);
    clocks(&mut events, rec.report.names.len());
    events
}

/// [`build`] without the vector clocks (every [`Event::clock`] empty), for
/// a causal story: it reads each event's cause, not its clock.
pub fn build_unclocked(rec: &Recording) -> Vec<Event> {
    let mut b = Builder::new(rec);
    for step in &rec.steps {
        b.step(rec, step);
    }
    let mut events = b.events;
    mark_violations(rec, &mut events);
    events
}

/// Fill in every event's vector clock, in order: an event knows what its
/// actor's previous event knew, and what its cause knew.
fn clocks(events: &mut [Event], lanes: usize) {
    let mut last: Vec<Option<usize>> = vec![None; lanes];
    for i in 0..events.len() {
        let lane = events[i].lane;
        let mut clock = last
            .get(lane)
            .copied()
            .flatten()
            .map_or_else(|| vec![0; lanes], |p| events[p].clock.clone());
        if let Some(c) = events[i].cause.filter(|c| *c < i) {
            for (mine, theirs) in clock.iter_mut().zip(&events[c].clock) {
                *mine = (*mine).max(*theirs);
            }
        }
        if let Some(own) = clock.get_mut(lane) {
            *own += 1;
        }
        if let Some(slot) = last.get_mut(lane) {
            *slot = Some(i);
        }
        events[i].clock = clock;
    }
}

/// The records each broker restart came back without, by (time,
/// partition), in offset order, from the run's ledger.
fn lost_appends(rec: &Recording) -> BTreeMap<(u64, u32), Vec<(u64, MsgKey)>> {
    let mut lost: BTreeMap<(u64, u32), Vec<(u64, MsgKey)>> = BTreeMap::new();
    let ledger = &rec.report.ledger;
    // A record torn, not lost: its own event says what it reads as.
    let torn = |key: MsgKey, partition: u32, offset: u64, time: sim_core::SimTime| {
        ledger
            .torn
            .iter()
            .any(|t| (t.was, t.partition, t.offset, t.time) == (key, partition, offset, time))
    };
    for (key, m) in &ledger.messages {
        for &(partition, offset, time) in &m.lost_appends {
            if torn(*key, partition, offset, time) {
                continue;
            }
            let (partition, offset, time) = (&partition, &offset, &time);
            lost.entry((time.0, *partition))
                .or_default()
                .push((*offset, *key));
        }
    }
    for records in lost.values_mut() {
        records.sort_unstable();
    }
    lost
}

struct Builder<'a> {
    names: &'a [String],
    events: Vec<Event>,
    /// Trace id (a position in the trace) → position in `events`, if the
    /// trace event has one.
    by_trace: Vec<Option<usize>>,
    /// (partition, offset) → the message appended there so far (in a run
    /// whose broker lost and reused offsets, the one there at the time).
    offsets: BTreeMap<(u32, u64), MsgKey>,
    /// Offsets appended to a second time, after the broker lost the
    /// record there in a crash.
    reused: BTreeSet<(u32, u64)>,
    /// (when the broker came back, partition) → the records it came back
    /// without, as the ledger found them: (offset, message).
    lost: BTreeMap<(u64, u32), Vec<(u64, MsgKey)>>,
    /// Restarts so far, by lane.
    restarts: BTreeMap<usize, u32>,
    /// (lane, message) → the lane's restarts when it last sent the message.
    sent: BTreeMap<(usize, MsgKey), u32>,
}

impl<'a> Builder<'a> {
    fn new(rec: &'a Recording) -> Self {
        Builder {
            names: &rec.report.names,
            events: Vec::with_capacity(rec.report.trace.len() + rec.history.len()),
            by_trace: vec![None; rec.report.trace.len()],
            offsets: BTreeMap::new(),
            reused: BTreeSet::new(),
            lost: lost_appends(rec),
            restarts: BTreeMap::new(),
            sent: BTreeMap::new(),
        }
    }

    fn step(&mut self, rec: &Recording, step: &models::record::StepRecord) {
        let trace = &rec.report.trace[step.events.clone()];
        let triggered = trace.first().is_some_and(|e| {
            matches!(
                e.kind,
                TraceKind::Deliver
                    | TraceKind::DeliverToDown
                    | TraceKind::Timer
                    | TraceKind::Restart
            )
        });
        let (head, rest) = trace.split_at(usize::from(triggered));
        let first = self.events.len();
        for e in head {
            self.trace_event(e, None);
        }
        let trigger = triggered.then_some(first);
        let mut crashed_on = None;
        for o in &rec.history[step.observations.clone()] {
            match o.obs {
                Obs::Crashed { key, .. } => crashed_on = Some(key),
                Obs::Append {
                    key,
                    partition,
                    offset,
                    ..
                } => self.appended(partition, offset, key),
                _ => {}
            }
            self.observation(o, trigger);
            // The torn record holds the offset from now on.
            if let Obs::TornRecord {
                partition,
                offset,
                key,
            } = o.obs
            {
                self.offsets.insert((partition, offset), key);
            }
        }
        for e in rest {
            self.trace_event(e, crashed_on);
        }
        self.in_time_order(first);
        self.attach_states(first, &step.states);
    }

    /// The first recorded step also holds what every actor did when it
    /// started, at time 0: put the events from `first` on in time order
    /// (stable, so the order within one instant stays), renumbering steps
    /// and causes.
    fn in_time_order(&mut self, first: usize) {
        let group = &mut self.events[first..];
        if group.windows(2).all(|w| w[0].time_us <= w[1].time_us) {
            return;
        }
        group.sort_by_key(|e| e.time_us);
        let moved: BTreeMap<usize, usize> = group
            .iter()
            .enumerate()
            .map(|(i, e)| (e.step, first + i))
            .collect();
        for e in group.iter_mut() {
            e.step = moved[&e.step];
            e.cause = e.cause.map(|c| moved.get(&c).copied().unwrap_or(c));
        }
        for at in self.by_trace.iter_mut().flatten() {
            if let Some(new) = moved.get(at) {
                *at = *new;
            }
        }
    }

    /// The states go on the last event of the step: the state after it;
    /// the step's other events point at it.
    fn attach_states(&mut self, first: usize, states: &[(sim_core::ActorId, ActorState)]) {
        let Some(last) = self.events.len().checked_sub(1).filter(|l| *l >= first) else {
            return;
        };
        for e in &mut self.events[first..last] {
            e.handler_ends = Some(last);
        }
        for (actor, state) in states {
            let name = self.name(actor.index());
            self.events[last].state.insert(name, state.into());
        }
    }

    fn name(&self, lane: usize) -> String {
        self.names.get(lane).cloned().unwrap_or_else(|| "?".into())
    }

    fn push(&mut self, mut e: Event) {
        e.step = self.events.len();
        self.events.push(e);
    }

    fn blank(&self, time_us: u64, lane: usize, kind: Kind) -> Event {
        Event {
            step: 0,
            time_us,
            actor: self.name(lane),
            lane,
            peer: None,
            peer_lane: None,
            kind,
            msg: None,
            detail: String::new(),
            trace_id: None,
            cause: None,
            effect: None,
            clock: Vec::new(),
            violates: Vec::new(),
            handler_ends: None,
            state: BTreeMap::new(),
            law: Vec::new(),
        }
    }

    fn trace_event(&mut self, t: &TraceEvent, crashed_on: Option<MsgKey>) {
        let kind = match t.kind {
            TraceKind::Send => Kind::Send,
            TraceKind::Duplicate => Kind::Dup,
            TraceKind::Lost | TraceKind::LostScheduled => Kind::Lost,
            TraceKind::Cut => Kind::Cut,
            TraceKind::Deliver => Kind::Deliver,
            TraceKind::DeliverToDown => Kind::DeliverToCrashed,
            TraceKind::Timer => Kind::Timer,
            TraceKind::Crash(_) => Kind::Crash,
            TraceKind::Restart => Kind::Restart,
            TraceKind::Pause => Kind::Pause,
            TraceKind::Resume => Kind::Resume,
            TraceKind::Signal(&EXPIRE) => Kind::Expire,
            TraceKind::Signal(&REBALANCE) => Kind::Rebalance,
            // The delivery domain sends no other signal.
            TraceKind::Signal(_) => return,
        };
        if kind == Kind::Restart {
            *self.restarts.entry(t.actor.index()).or_default() += 1;
        }
        let mut e = self.blank(t.time.0, t.actor.index(), kind);
        e.peer_lane = t.peer.map(sim_core::ActorId::index);
        e.peer = e.peer_lane.map(|p| self.name(p));
        e.trace_id = Some(t.id);
        e.cause = t.cause.and_then(|c| self.step_of(c));
        e.detail = match t.kind {
            TraceKind::Crash(point) => point.to_string(),
            TraceKind::LostScheduled => format!("{} (scheduled drop)", t.label),
            _ if t.label == "()" => String::new(),
            _ => t.label.clone(),
        };
        e.msg = match t.kind {
            TraceKind::Crash(_) => crashed_on.map(|k| k.to_string()),
            _ => self.key_text_of(&t.label),
        };
        let step = self.events.len();
        if let Some(slot) = usize::try_from(t.id)
            .ok()
            .and_then(|id| self.by_trace.get_mut(id))
        {
            *slot = Some(step);
        }
        self.push(e);
    }

    /// The step of trace event `id`, if it has one.
    fn step_of(&self, id: u64) -> Option<usize> {
        let id = usize::try_from(id).ok()?;
        self.by_trace.get(id).copied().flatten()
    }

    /// `key` was appended at (partition, offset): the message there from
    /// now on, and the offset noted as reused if another was there before.
    fn appended(&mut self, partition: u32, offset: u64, key: MsgKey) {
        if self.offsets.insert((partition, offset), key).is_some() {
            self.reused.insert((partition, offset));
        }
    }

    /// The message a datagram or timer is about, as text: its `key`, taken
    /// as written in the label (a key's `Debug` text is its `Display`
    /// text), or the message at its `partition` and `offset`.
    fn key_text_of(&self, label: &str) -> Option<String> {
        let [key, partition, offset] = fields_at(label, ["key", "partition", "offset"])
            .map(|at| at.map(|at| value_at(label, at)));
        if let Some(text) = key.filter(|text| parse_key(text).is_some()) {
            debug_assert_eq!(
                parse_key(text).map(|k| k.to_string()).as_deref(),
                Some(text)
            );
            return Some(text.to_owned());
        }
        let partition = partition?.parse().ok()?;
        let offset = offset?.parse().ok()?;
        self.offsets
            .get(&(partition, offset))
            .map(ToString::to_string)
    }

    /// An observation as (kind, message, detail, effect count); `None`
    /// for observations that are not events of their own.
    fn parts(&self, obs: &Obs) -> Option<(Kind, Option<MsgKey>, String, Option<u32>)> {
        Some(match obs {
            Obs::SendAttempt { key, attempt } => (
                Kind::SendAttempt,
                Some(*key),
                format!("attempt {attempt}"),
                None,
            ),
            Obs::SendOutcome { key, outcome } => match outcome {
                SendOutcome::Acked => (Kind::Ack, Some(*key), "acked".into(), None),
                SendOutcome::Failed => (Kind::SendFailed, Some(*key), "failed".into(), None),
                SendOutcome::Indeterminate => {
                    (Kind::SendFailed, Some(*key), "outcome unknown".into(), None)
                }
            },
            Obs::Append {
                key,
                partition,
                offset,
                ..
            } => (
                Kind::Append,
                Some(*key),
                format!("partition {partition} offset {offset}"),
                None,
            ),
            Obs::Deliver {
                key,
                partition,
                offset,
            } => (
                Kind::Receive,
                Some(*key),
                format!("partition {partition} offset {offset}"),
                None,
            ),
            Obs::Effect { key, count } => (
                Kind::Effect,
                Some(*key),
                format!("effect #{count}"),
                Some(*count),
            ),
            Obs::OffsetCommit { partition, offset } => (
                Kind::OffsetCommit,
                self.offsets.get(&(*partition, *offset)).copied(),
                if self.reused.contains(&(*partition, *offset)) {
                    format!("partition {partition} offset {offset}{REUSED}")
                } else {
                    format!("partition {partition} offset {offset}")
                },
                None,
            ),
            Obs::Compensate { key } => (
                Kind::Compensate,
                Some(*key),
                "processing → unprocessed".into(),
                None,
            ),
            Obs::TxnOutcome {
                key,
                tag,
                committed,
            } => {
                let how = if *committed { "committed" } else { "aborted" };
                (Kind::TxnEnd, Some(*key), format!("{tag} {how}"), None)
            }
            Obs::TxnEnded {
                key,
                tag,
                by,
                committed,
                ..
            } => (Kind::TxnEnd, Some(*key), ended(*tag, *by, *committed), None),
            Obs::TxnAppend {
                key, tag, offset, ..
            } => (
                Kind::Append,
                Some(*key),
                format!("output offset {offset} ({tag})"),
                None,
            ),
            Obs::SinkAborted { key, timeout, .. } => (
                Kind::SinkAbort,
                Some(*key),
                format!(
                    "after the sink's {} ms transaction timeout",
                    timeout.as_us() / 1_000
                ),
                None,
            ),
            Obs::Rebalance {
                partition,
                from,
                to,
            } => (
                Kind::Assign,
                None,
                format!(
                    "partition {partition} to {} (was {})",
                    self.name(to.index()),
                    self.name(from.index())
                ),
                None,
            ),
            Obs::LeaseMoved { from, to, token } => (
                Kind::Assign,
                None,
                format!(
                    "the lease, token {token}, to {} ({}'s ran out unrenewed)",
                    self.name(to.index()),
                    self.name(from.index())
                ),
                None,
            ),
            Obs::TokenWrite {
                key,
                writer,
                token,
                highest,
                accepted: false,
            } => (
                Kind::Refused,
                Some(*key),
                format!(
                    "{}'s write under token {token}: token {highest} already seen",
                    self.name(writer.index())
                ),
                None,
            ),
            Obs::GenerationFenced {
                key,
                partition,
                from,
            } => (
                Kind::Refused,
                *key,
                format!(
                    "{}'s request: partition {partition} moved on (generation fenced)",
                    self.name(from.index())
                ),
                None,
            ),
            Obs::KeyMismatch { key, first } => (
                Kind::Refused,
                Some(*key),
                format!("its idempotency key was used for {first}"),
                None,
            ),
            Obs::OutcomeUnknown { key } => (
                Kind::OutcomeUnknown,
                Some(*key),
                "no reply from the database in time: applied or not, unknown".into(),
                None,
            ),
            // Told at the restart that came back with it, not again.
            Obs::TornRecord {
                partition,
                offset,
                key,
            } if self.offsets.get(&(*partition, *offset)) == Some(key) => return None,
            Obs::TornRecord {
                partition,
                offset,
                key,
            } => (
                Kind::Torn,
                Some(*key),
                format!(
                    "partition {partition} offset {offset}{}: torn by a crash during the \
                     flush, and no checksum rejected it",
                    self.offsets
                        .get(&(*partition, *offset))
                        .filter(|was| *was != key)
                        .map(|was| format!(", where {was} was"))
                        .unwrap_or_default()
                ),
                None,
            ),
            Obs::Crashed { .. }
            | Obs::LogRecovered { .. }
            | Obs::Evicted { .. }
            | Obs::TxnRead { .. }
            | Obs::LateCopy { .. }
            | Obs::TokenWrite { .. } => return None,
            Obs::Probe(p) if p.failures.is_empty() => return None,
            Obs::Probe(p) => (
                Kind::LawDiffers,
                Some(p.key),
                p.failures
                    .iter()
                    .map(|f| f.difference.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                None,
            ),
        })
    }

    /// The broker came back with `records` records of `partition` on disk:
    /// one event per record appended beyond them, lost with the memory
    /// that held it; their offsets are free again.
    fn log_lost(
        &mut self,
        o: &sim_core::Observed<Obs>,
        trigger: Option<usize>,
        partition: u32,
        records: u64,
    ) {
        let lost = self.lost.remove(&(o.time.0, partition)).unwrap_or_default();
        for (offset, key) in lost {
            let mut e = self.blank(o.time.0, o.actor.index(), Kind::LogLost);
            e.msg = Some(key.to_string());
            e.detail = format!(
                "partition {partition} offset {offset}: acknowledged, never flushed \
                 ({records} records of partition {partition} on disk)"
            );
            e.cause = trigger;
            self.push(e);
        }
    }

    /// Note that `lane` sends `key` now: whether it restarted since it last
    /// sent it (its attempts count from 1 again, so the attempt number
    /// cannot tell).
    fn resent_after_restart(&mut self, lane: usize, key: MsgKey) -> bool {
        let restarts = self.restarts.get(&lane).copied().unwrap_or(0);
        let before = self.sent.insert((lane, key), restarts);
        before.is_some_and(|b| b < restarts)
    }

    fn observation(&mut self, o: &sim_core::Observed<Obs>, trigger: Option<usize>) {
        if let Obs::LogRecovered { partition, records } = o.obs {
            self.log_lost(o, trigger, partition, records);
            return;
        }
        let Some((kind, key, detail, effect)) = self.parts(&o.obs) else {
            return;
        };
        let lane = o.actor.index();
        let mut e = self.blank(o.time.0, lane, kind);
        e.msg = key.map(|k| k.to_string());
        e.detail = match (&o.obs, key) {
            (Obs::SendAttempt { .. }, Some(k)) if self.resent_after_restart(lane, k) => {
                RESENT_AFTER_RESTART.to_string()
            }
            _ => detail,
        };
        e.effect = effect;
        e.cause = trigger;
        if let Obs::LeaseMoved { to, .. } = &o.obs {
            e.peer = Some(self.name(to.index()));
            e.peer_lane = Some(to.index());
        }
        if let Obs::Probe(p) = &o.obs {
            e.law = p.failures.iter().map(LawView::from).collect();
        }
        self.push(e);
    }
}

/// Where the value of the first `name: ` of each of `names` starts in a
/// `Debug` label, in one pass over it.
fn fields_at<const N: usize>(label: &str, names: [&str; N]) -> [Option<usize>; N] {
    let text = label.as_bytes();
    // A byte that may end a longer name (any byte of a non-ASCII
    // character counts, so that no such name is cut).
    let in_a_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii();
    let mut found = [None; N];
    // Each `: ` in turn (a colon is found far faster than a word), and
    // the names that end just before it.
    for colon in memchr::memchr_iter(b':', text) {
        if text.get(colon + 1) != Some(&b' ') {
            continue;
        }
        let before = &text[..colon];
        for (name, slot) in names.iter().zip(&mut found) {
            let Some(at) = colon.checked_sub(name.len()) else {
                continue;
            };
            if slot.is_none()
                && before.ends_with(name.as_bytes())
                && (at == 0 || !in_a_name(text[at - 1]))
            {
                *slot = Some(colon + 2);
            }
        }
        if found.iter().all(Option::is_some) {
            break;
        }
    }
    found
}

/// The value that starts at `at` in a `Debug` label, up to the next `,`,
/// ` ` or `}`.
fn value_at(label: &str, at: usize) -> &str {
    let rest = &label[at..];
    let end = rest
        .bytes()
        .position(|b| matches!(b, b',' | b' ' | b'}'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The text after the first `name: ` in a `Debug` label, up to the next
/// `,`, ` ` or `}`.
#[cfg(test)]
fn field<'l>(label: &'l str, name: &str) -> Option<&'l str> {
    let [at] = fields_at(label, [name]);
    at.map(|at| value_at(label, at))
}

/// `p1#3` → the key (producer 0, seq 2).
fn parse_key(text: &str) -> Option<MsgKey> {
    let rest = text.strip_prefix('p')?;
    // Found byte by byte: a key is a few bytes long.
    let hash = rest.bytes().position(|b| b == b'#')?;
    let (p, s) = (&rest[..hash], &rest[hash + 1..]);
    let (p, s): (u32, u32) = (p.parse().ok()?, s.parse().ok()?);
    Some(MsgKey {
        producer: p.checked_sub(1)?,
        seq: s.checked_sub(1)?,
    })
}

/// Mark, for each violation, the events that show it.
fn mark_violations(rec: &Recording, events: &mut [Event]) {
    let mut by_msg: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for e in events.iter() {
        if let Some(m) = e.msg.as_deref() {
            by_msg.entry(m).or_default().push(e.step);
        }
    }
    let mut marks: Vec<(usize, &'static str)> = Vec::new();
    for (v, _) in rec.report.violations() {
        let Some(key) = v.subject.map(|k| k.to_string()) else {
            continue;
        };
        let about = by_msg.get(key.as_str()).map_or(&[][..], Vec::as_slice);
        marks.extend(violating_among(events, about, v.check).map(|i| (i, v.check.code())));
    }
    for (i, code) in marks {
        if !events[i].violates.iter().any(|c| c == code) {
            events[i].violates.push(code.to_string());
        }
    }
}

/// The events that show a violation of `check` on message `key`, by
/// position in `events`.
pub fn violating(events: &[Event], check: CheckId, key: &str) -> Vec<usize> {
    let about: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.msg.as_deref() == Some(key))
        .map(|(i, _)| i)
        .collect();
    violating_among(events, &about, check).collect()
}

/// The events among `about` (the steps of one message's events, in order)
/// that show a violation of `check`: the repeated effects of a duplicate,
/// the repeated appends of a duplicate append, the last event of a lost
/// message, the law probe's difference.
fn violating_among<'e>(
    events: &'e [Event],
    about: &'e [usize],
    check: CheckId,
) -> impl Iterator<Item = usize> + 'e {
    let of = |kind: Kind| {
        about
            .iter()
            .copied()
            .filter(move |i| events[*i].kind == kind)
    };
    let repeats: Vec<usize> = of(Kind::Effect)
        .filter(|i| events[*i].effect.is_some_and(|n| n >= 2))
        .collect();
    let effects: Vec<usize> = of(Kind::Effect).collect();
    let appended_again: Vec<usize> = of(Kind::Append).skip(1).collect();
    let last = about.last().copied();
    let chosen: Vec<usize> = match check {
        CheckId::C1 | CheckId::C16 => last.into_iter().collect(),
        CheckId::C14 | CheckId::C15 => of(Kind::LawDiffers).next().or(last).into_iter().collect(),
        CheckId::C4 if !appended_again.is_empty() => appended_again,
        _ if !repeats.is_empty() => repeats,
        _ if !effects.is_empty() => effects,
        _ => last.into_iter().collect(),
    };
    chosen.into_iter()
}

/// At most `cap` consecutive events, placed around the first violating event
/// (a quarter of the window after it), or the start of the run.
pub fn window(events: &[Event], cap: usize) -> std::ops::Range<usize> {
    let n = events.len();
    if n <= cap {
        return 0..n;
    }
    let focus = events
        .iter()
        .position(|e| !e.violates.is_empty())
        .unwrap_or(0);
    let end = (focus + cap / 4).clamp(cap, n);
    end - cap..end
}

/// `events.jsonl`: one JSON object per line.
///
/// # Errors
/// If an event cannot be serialised (it always can: every field is plain data).
pub fn jsonl(events: &[Event]) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    for e in events {
        out.push_str(&serde_json::to_string(e)?);
        out.push('\n');
    }
    Ok(out)
}

/// How the broker ended an attempt's output, naming the attempt whose
/// EndTxn did it when that is another one (a request crossed a transaction
/// boundary).
fn ended(tag: TxnTag, by: TxnTag, committed: bool) -> String {
    let how = if committed { "committed" } else { "aborted" };
    if by == tag {
        format!("{tag}'s output {how}")
    } else if by.session == 0 {
        format!("{tag}'s output {how} by initTransactions")
    } else {
        format!("{tag}'s output {how} by {by}'s EndTxn")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_debug_labels() {
        let label = "Deliver { partition: 0, offset: 41, key: p1#17, dedup_id: 16 }";
        assert_eq!(field(label, "key"), Some("p1#17"));
        assert_eq!(field(label, "offset"), Some("41"));
        assert_eq!(field(label, "id"), None, "dedup_id is not id");
        assert_eq!(field("key: p1#2", "key"), Some("p1#2"), "at the start");
        assert_eq!(field("Ack { seq: 7 }", "seq"), Some("7"));
        assert_eq!(field("Ack { monkey: 7 }", "key"), None);
        assert_eq!(field("Ack { ékey: 7 }", "key"), None, "not part of a name");
        assert_eq!(field("Ack { key:7 }", "key"), None, "a colon and a space");
        assert_eq!(field("key", "key"), None);
        assert_eq!(
            parse_key("p1#17"),
            Some(MsgKey {
                producer: 0,
                seq: 16
            })
        );
        assert_eq!(parse_key("p0#1"), None);
    }

    fn event(step: usize, violates: bool) -> Event {
        Event {
            step,
            time_us: 0,
            actor: "a".into(),
            lane: 0,
            peer: None,
            peer_lane: None,
            kind: Kind::Timer,
            msg: None,
            detail: String::new(),
            trace_id: None,
            cause: None,
            effect: None,
            clock: Vec::new(),
            violates: if violates {
                vec!["C3".into()]
            } else {
                Vec::new()
            },
            handler_ends: None,
            state: BTreeMap::new(),
            law: Vec::new(),
        }
    }

    #[test]
    fn the_window_holds_the_first_violation_a_quarter_from_its_end() {
        let events: Vec<Event> = (0..100).map(|i| event(i, i == 50)).collect();
        assert_eq!(window(&events, 200), 0..100);
        assert_eq!(window(&events, 20), 35..55);
        let quiet: Vec<Event> = (0..100).map(|i| event(i, false)).collect();
        assert_eq!(window(&quiet, 20), 0..20);
    }

    #[test]
    fn a_duplicate_append_is_shown_by_the_repeated_append_not_the_effect() {
        let kinds = [Kind::Append, Kind::Effect, Kind::Append, Kind::Append];
        let events: Vec<Event> = kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| Event {
                kind: *kind,
                msg: Some("p1#1".into()),
                effect: (*kind == Kind::Effect).then_some(1),
                ..event(i, false)
            })
            .collect();
        assert_eq!(violating(&events, CheckId::C4, "p1#1"), [2, 3]);
        assert_eq!(violating(&events, CheckId::C3, "p1#1"), [1]);
    }

    #[test]
    fn milliseconds_keep_only_needed_decimals() {
        assert_eq!(ms(12_000), "12");
        assert_eq!(ms(12_500), "12.5");
        assert_eq!(ms(1), "0.001");
    }
}
