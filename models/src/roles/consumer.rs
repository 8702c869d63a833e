//! The consumer: receives the records of its partition, processes them as its
//! model prescribes against its database (its own, or the group's shared
//! one), and commits their offsets.
//! Before processing a record, a consumer runs the law probe on the durable
//! state it has reached, whatever its model claims.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use sim_core::{ActorId, Choices, Ctx, SimDuration, SimTime, Step, Store, TimerId};

use super::checkpoint::{CheckpointDb, CheckpointVol};
use super::group::Taken;
use super::law_probe;
use super::txn::TxnVol;
use super::{Msg, Node, Timer};
use crate::history::{Obs, StateField};
use crate::protocols::m2_set::SetOp;
use crate::protocols::{ConsumerRole, Gate, Model, Record};
use crate::vocab::{CowTable, IdSet, MsgKey};

/// A consumer's program.
#[derive(Clone, Debug)]
pub struct Consumer {
    /// The protocol model.
    pub model: Model,
    /// The partition it starts with (in a group whose last consumer starts
    /// idle, that one's is past the last partition; records name their
    /// partition).
    pub partition: u32,
    /// The broker.
    pub broker: ActorId,
    /// Messages per producer, to index dense tables.
    pub messages: u32,
    /// Number of producers.
    pub producers: u32,
    /// Run the law probe before processing each record, retrying when
    /// the plan says a retry can come; `None`: the probe is off.
    pub probe: Option<law_probe::RetryPlan>,
    /// How long a dedup entry counts (M5).
    pub dedup_window: SimDuration,
    /// How long processing one record takes (zero: it is processed the
    /// moment it arrives); see `group.rs`.
    pub processing: SimDuration,
    /// A member of a consumer group whose partitions move (F-rebalance).
    pub group: bool,
    /// How long a restarted consumer waits for the broker to answer its
    /// fetch before it takes deliveries as they come (the broker's
    /// redelivery timeout).
    pub fetch_timeout: SimDuration,
    /// Its database across the network, if remote: records are handled
    /// there, one request each.
    pub database: Option<ActorId>,
    /// How long it waits for its remote database's reply before sending
    /// the request again.
    pub db_timeout: SimDuration,
}

/// Crash point (remote database): the request is sent, its reply not
/// received.
pub const AFTER_REQUEST_BEFORE_REPLY: &str = "after-request-before-reply";
/// Crash point (remote database): the reply is received, the offset not
/// committed.
pub const AFTER_REPLY_BEFORE_OFFSET_COMMIT: &str = "after-reply-before-offset-commit";

/// A consumer's requests to its remote database.
#[derive(Clone, Debug, Default, Hash)]
pub(super) struct DbRequests {
    /// Those awaiting their reply, by id.
    pending: BTreeMap<u64, DbRequest>,
    /// How many were sent in this life.
    sent: u64,
}

/// A request to the remote database awaiting its reply.
#[derive(Clone, Copy, Debug, Hash)]
pub(super) struct DbRequest {
    partition: u32,
    offset: u64,
    rec: Record,
    timer: TimerId,
}

/// A row's status in the seeds' message table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RowStatus {
    /// No row for this message.
    #[default]
    Absent,
    /// Stored, not yet processed.
    Unprocessed,
    /// Claimed by a worker.
    Processing,
    /// Done.
    Processed,
}

impl crate::vocab::TableEntry for RowStatus {}

impl std::fmt::Display for RowStatus {
    /// The status as the seeds name it (`unprocessed`, `processing`, …).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RowStatus::Absent => "absent",
            RowStatus::Unprocessed => "unprocessed",
            RowStatus::Processing => "processing",
            RowStatus::Processed => "processed",
        })
    }
}

/// A write a lease holder is about to send (M12), in its memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PendingWrite {
    /// The message.
    pub key: MsgKey,
    /// Its offset in partition 0.
    pub offset: u64,
    /// The lease token it was delivered under.
    pub token: u64,
}

/// Durable state of a protocol's own type, kept in the consumer's database
/// beside its shared tables: any `Clone + PartialEq + Hash + Debug` type is
/// one. The law probe clones and compares it with the rest of the
/// database, `eosim explore` hashes it into its fingerprints, and reports
/// describe it with `Debug`. `Hash` keeps out `HashSet` and `HashMap`,
/// whose order (and so whose `Debug` text) changes from one instance to
/// the next: a `BTreeSet` or `BTreeMap` is the same run every time.
pub trait ProtocolState: std::any::Any + std::fmt::Debug + Send {
    /// A copy, boxed.
    fn clone_box(&self) -> Box<dyn ProtocolState>;
    /// Whether `other` is the same type with the same value.
    fn eq_dyn(&self, other: &dyn ProtocolState) -> bool;
    /// Hash the value into `h` (equal values hash alike).
    fn hash_dyn(&self, h: &mut dyn std::hash::Hasher);
    /// The state, for reports and the law probe's differences.
    fn describe(&self) -> String {
        format!("{self:?}")
    }
    /// As `Any`, to read it back as its type.
    fn as_any(&self) -> &dyn std::any::Any;
    /// As `Any`, to change it as its type.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

impl std::hash::Hash for dyn ProtocolState {
    /// By the type's own `Hash` (for `eosim explore`'s fingerprints).
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.hash_dyn(h);
    }
}

impl<T> ProtocolState for T
where
    T: Clone + PartialEq + std::hash::Hash + std::fmt::Debug + Send + 'static,
{
    fn clone_box(&self) -> Box<dyn ProtocolState> {
        Box::new(self.clone())
    }

    fn eq_dyn(&self, other: &dyn ProtocolState) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }

    fn hash_dyn(&self, mut h: &mut dyn std::hash::Hasher) {
        self.hash(&mut h);
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// The consumer's database: its durable state.
// `PartialEq` below compares every field, so the derived `Hash` agrees.
#[allow(clippy::derived_hash_with_manual_eq)]
#[derive(Debug, Hash)]
pub struct ConsumerDb {
    messages: u32,
    /// How many times each message's effect was applied.
    effects: CowTable<u32>,
    /// How many messages have at least one effect.
    applied: u32,
    /// The last offset-commit request id handed out (M1), a durable
    /// sequence so that ids never repeat across restarts.
    requests: u64,
    /// The seeds' message table (M0).
    table: CowTable<RowStatus>,
    /// The processed dedup ids: M4's inbox, M3's durable seen-set.
    pub inbox: IdSet,
    /// How long an entry of `window_entries` counts (M5's window, M11's
    /// retention; configuration kept with the data it governs).
    pub dedup_window: SimDuration,
    /// When each dedup id was last recorded, and for which message (M5,
    /// M11), by id.
    window_entries: BTreeMap<u64, (SimTime, MsgKey)>,
    /// M8: completed checkpoints and the staged sink transaction.
    pub checkpoint: CheckpointDb,
    /// M2-set: the set the operations act on, as (producer, element).
    pub set: BTreeSet<(u32, u32)>,
    /// The durable state of the protocol's own type, if it has one (see
    /// [`ProtocolState`]).
    own: Option<Box<dyn ProtocolState>>,
}

impl Clone for ConsumerDb {
    fn clone(&self) -> Self {
        let mut copy = ConsumerDb::new(0, self.messages);
        copy.clone_from(self);
        copy
    }

    /// Field by field, reusing every allocation (the law probe clones into
    /// scratch databases before every record).
    fn clone_from(&mut self, source: &Self) {
        self.messages = source.messages;
        self.effects.clone_from(&source.effects);
        self.applied = source.applied;
        self.requests = source.requests;
        self.table.clone_from(&source.table);
        self.inbox.clone_from(&source.inbox);
        self.dedup_window = source.dedup_window;
        // A map's `clone_from` rebuilds it even when both sides are empty
        // (every model but M5 and M11; M2-set's set likewise).
        if !(self.window_entries.is_empty() && source.window_entries.is_empty()) {
            self.window_entries.clone_from(&source.window_entries);
        }
        self.checkpoint.clone_from(&source.checkpoint);
        if !(self.set.is_empty() && source.set.is_empty()) {
            self.set.clone_from(&source.set);
        }
        if self.own.is_some() || source.own.is_some() {
            self.own = source.own.as_ref().map(|s| s.clone_box());
        }
    }
}

/// Both empty, or equal: most models leave these collections empty, and
/// the law probe compares databases before every record.
fn same<T: PartialEq>(a: &T, b: &T, empty: impl Fn(&T) -> bool) -> bool {
    (empty(a) && empty(b)) || a == b
}

impl Eq for ConsumerDb {}

impl PartialEq for ConsumerDb {
    /// Field by field, the cheap comparisons first.
    fn eq(&self, other: &Self) -> bool {
        self.messages == other.messages
            && self.applied == other.applied
            && self.requests == other.requests
            && self.dedup_window == other.dedup_window
            && self.effects == other.effects
            && self.table == other.table
            && self.inbox == other.inbox
            && same(
                &self.window_entries,
                &other.window_entries,
                BTreeMap::is_empty,
            )
            && same(&self.set, &other.set, BTreeSet::is_empty)
            && match (&self.own, &other.own) {
                (Some(a), Some(b)) => a.eq_dyn(b.as_ref()),
                (a, b) => a.is_none() && b.is_none(),
            }
            && self.checkpoint == other.checkpoint
    }
}

impl ConsumerDb {
    /// An empty database for `producers × messages` messages.
    pub fn new(producers: u32, messages: u32) -> ConsumerDb {
        let n = producers as usize * messages as usize;
        ConsumerDb {
            messages,
            effects: CowTable::new(n),
            applied: 0,
            requests: 0,
            table: CowTable::new(n),
            inbox: IdSet::default(),
            dedup_window: SimDuration::default(),
            window_entries: BTreeMap::new(),
            checkpoint: CheckpointDb::default(),
            set: BTreeSet::new(),
            own: None,
        }
    }

    /// This database with `state` as the protocol's own durable state.
    #[must_use]
    pub fn with_own(mut self, state: Option<Box<dyn ProtocolState>>) -> ConsumerDb {
        self.own = state;
        self
    }

    /// The protocol's own durable state, if it is a `T` (see
    /// [`crate::protocols::Protocol::durable_state`]). `None` means the
    /// protocol has none, or that it is of another type than `T`: ask for
    /// exactly the type `durable_state` boxes.
    pub fn own<T: ProtocolState>(&self) -> Option<&T> {
        self.own.as_deref()?.as_any().downcast_ref()
    }

    /// The protocol's own durable state, to change inside a transaction.
    pub fn own_mut<T: ProtocolState>(&mut self) -> Option<&mut T> {
        self.own.as_deref_mut()?.as_any_mut().downcast_mut()
    }

    /// When dedup id `id` was last recorded in the window table, and for
    /// which message (M5, M11).
    pub fn window_entry(&self, id: u64) -> Option<(SimTime, MsgKey)> {
        self.window_entries.get(&id).copied()
    }

    /// Record dedup id `id` for `key` at `now` in the window table (M5,
    /// M11).
    pub fn record_window_entry(&mut self, id: u64, now: SimTime, key: MsgKey) {
        self.window_entries.insert(id, (now, key));
    }

    /// Forget the dedup state (F-expire): the inbox or seen-set and the
    /// dedup window; returns how many entries went. Effects stay.
    pub fn evict_dedup_state(&mut self) -> u64 {
        let n = self.inbox.len() + self.window_entries.len();
        self.inbox = IdSet::default();
        self.window_entries.clear();
        n as u64
    }

    /// Apply a set operation of `producer` (M2-set); returns whether it
    /// changed the set.
    pub fn apply_set_op(&mut self, producer: u32, op: SetOp) -> bool {
        match op {
            SetOp::Add(x) => self.set.insert((producer, x)),
            SetOp::Remove(x) => self.set.remove(&(producer, x)),
        }
    }

    /// Apply one effect of `key`; returns how many times it is now applied.
    pub fn add_effect(&mut self, key: MsgKey) -> u32 {
        let i = key.index(self.messages);
        let count = self.effects.get(i) + 1;
        self.effects.set(i, count);
        if count == 1 {
            self.applied += 1;
        }
        count
    }

    /// A fresh offset-commit request id.
    pub fn next_request(&mut self) -> u64 {
        self.requests += 1;
        self.requests
    }

    /// How many messages have taken effect at least once.
    pub fn applied(&self) -> u32 {
        self.applied
    }

    /// How many times `key`'s effect was applied.
    pub fn effects(&self, key: MsgKey) -> u32 {
        self.effects.get(key.index(self.messages))
    }

    /// The dedup id a producer gives `key` when it keeps one id per
    /// message (the message's position among all messages).
    pub fn plain_id(&self, key: MsgKey) -> u64 {
        key.index(self.messages) as u64
    }

    /// The message table row of `key`.
    pub fn status(&self, key: MsgKey) -> RowStatus {
        self.table.get(key.index(self.messages))
    }

    /// Set the message table row of `key`.
    pub fn set_status(&mut self, key: MsgKey, status: RowStatus) {
        self.table.set(key.index(self.messages), status);
    }

    /// [`ConsumerDb::keys_with`], of `only`'s row alone when given: one
    /// row read, not the whole table (the law probe compensates the one
    /// attempt it crashed, before every record).
    pub fn keys_with_among(&self, status: RowStatus, only: Option<MsgKey>) -> Vec<MsgKey> {
        let Some(key) = only else {
            return self.keys_with(status);
        };
        let i = key.index(self.messages);
        let has = i < self.table.len() && self.table.get(i) == status;
        has.then_some(key).into_iter().collect()
    }

    /// Every key whose row has `status`, in key order.
    pub fn keys_with(&self, status: RowStatus) -> Vec<MsgKey> {
        (0..self.table.len())
            .filter(|i| self.table.get(*i) == status)
            .map(|i| self.key_at(i))
            .collect()
    }

    /// The key at position `i` of the dense tables.
    fn key_at(&self, i: usize) -> MsgKey {
        let per = self.messages.max(1);
        let i = u32::try_from(i).expect("validated workload size");
        MsgKey {
            producer: i / per,
            seq: i % per,
        }
    }

    /// Whether any row is `unprocessed` or `processing`.
    pub fn has_unfinished_rows(&self) -> bool {
        self.table
            .iter()
            .any(|s| matches!(s, RowStatus::Unprocessed | RowStatus::Processing))
    }

    /// The first difference between two databases: what differs, its
    /// value in `self`, its value in `other`.
    pub fn difference(&self, other: &ConsumerDb) -> Option<(String, String, String)> {
        if let Some(i) = self.effects.first_difference(&other.effects) {
            let (a, b) = (effects(self.effects.get(i)), effects(other.effects.get(i)));
            return Some((self.key_at(i).to_string(), a, b));
        }
        if let Some(i) = self.table.first_difference(&other.table) {
            let (a, b) = (
                self.table.get(i).to_string(),
                other.table.get(i).to_string(),
            );
            return Some((format!("{}'s row", self.key_at(i)), a, b));
        }
        if self.set != other.set {
            let show = |s: &BTreeSet<(u32, u32)>| format!("{} elements", s.len());
            return Some(("the set".to_string(), show(&self.set), show(&other.set)));
        }
        if let (Some(a), Some(b)) = (&self.own, &other.own)
            && !a.eq_dyn(b.as_ref())
        {
            let what = "the protocol's state".to_string();
            return Some((what, a.describe(), b.describe()));
        }
        if self.window_entries != other.window_entries {
            let (a, b) = (self.window_entries.len(), other.window_entries.len());
            let ids = |n| format!("{n} ids");
            return Some(("the dedup window".to_string(), ids(a), ids(b)));
        }
        (self.inbox != other.inbox).then(|| {
            let (a, b) = (self.inbox.len(), other.inbox.len());
            (
                "the inbox".to_string(),
                format!("{a} ids"),
                format!("{b} ids"),
            )
        })
    }
}

/// Three values of one field, as the law probe shows them.
type Three = [String; 3];

impl ConsumerDb {
    /// The three states a law compares, field by field: every field whose
    /// value differs between them, and message `key`'s own entries (its
    /// effects, its row, its dedup id `id`) whatever their values. The
    /// order of `states` is kept in each [`StateField`]: `s`, one clean
    /// attempt, the failed attempt then the retry.
    pub fn field_diff(states: [&ConsumerDb; 3], key: MsgKey, id: u64) -> Vec<StateField> {
        let mut out = Vec::new();
        let mut push = |field: String, [before, clean, retried]: Three, own: bool| {
            if own || before != clean || clean != retried {
                out.push(StateField {
                    field,
                    before,
                    clean,
                    retried,
                });
            }
        };
        let first = states[0];
        let own_index = key.index(first.messages);
        // Compared before formatted: the tables have a row per message.
        for i in 0..first.effects.len() {
            let counts = states.map(|d| d.effects.get(i));
            if i == own_index || counts.iter().any(|c| *c != counts[0]) {
                let k = first.key_at(i);
                push(format!("effects[{k}]"), counts.map(|c| c.to_string()), true);
            }
        }
        for i in 0..first.table.len() {
            let rows = states.map(|d| d.table.get(i));
            let used = i == own_index && rows.iter().any(|r| *r != RowStatus::Absent);
            if used || rows.iter().any(|r| *r != rows[0]) {
                let k = first.key_at(i);
                push(format!("row[{k}]"), rows.map(|r| r.to_string()), true);
            }
        }
        let recorded = states.map(|d| d.inbox.contains(id));
        let inbox = states.map(|d| inbox_entry(d, id));
        push("inbox".into(), inbox, recorded.contains(&true));
        let window = states.map(|d| window_entry(d, id));
        let windowed = states.iter().any(|d| d.window_entry(id).is_some());
        push(format!("window[id {id}]"), window, windowed);
        push("set".into(), states.map(|d| set_elements(&d.set)), false);
        let own = states.map(|d| d.own.as_ref().map_or_else(String::new, |o| o.describe()));
        push("protocol state".into(), own, false);
        let checkpoint = states.map(|d| format!("{:?}", d.checkpoint));
        push("checkpoint".into(), checkpoint, false);
        push(
            "requests".into(),
            states.map(|d| d.requests.to_string()),
            false,
        );
        out
    }

    /// The database in a few words, for reports: messages applied (with
    /// repeats marked `×n`), rows of the seeds' table that are not
    /// processed, and the dedup ids recorded (M4's inbox, M3's seen-set).
    pub fn describe(&self) -> String {
        let applied: Vec<String> = (0..self.effects.len())
            .filter(|i| self.effects.get(*i) > 0)
            .map(|i| self.key_at(i).to_string())
            .collect();
        let repeated: Vec<String> = (0..self.effects.len())
            .filter(|i| self.effects.get(*i) > 1)
            .map(|i| format!("{}×{}", self.key_at(i), self.effects.get(i)))
            .collect();
        let mut parts = vec![format!("effects: {}", listed(&applied))];
        if !repeated.is_empty() {
            parts.push(format!("applied more than once: {}", listed(&repeated)));
        }
        let rows: Vec<String> = (0..self.table.len())
            .filter(|i| {
                matches!(
                    self.table.get(*i),
                    RowStatus::Unprocessed | RowStatus::Processing
                )
            })
            .map(|i| format!("{} {}", self.key_at(i), self.table.get(i)))
            .collect();
        if !rows.is_empty() {
            parts.push(format!("rows: {}", listed(&rows)));
        }
        if !self.inbox.is_empty() {
            let ids: Vec<String> = self.inbox.iter().map(|id| id.to_string()).collect();
            parts.push(format!("dedup ids recorded: {}", listed(&ids)));
        }
        if let Some(own) = &self.own {
            parts.push(own.describe());
        }
        if !self.set.is_empty() {
            parts.push(format!("set: {}", set_elements(&self.set)));
        }
        parts.join(" · ")
    }
}

/// The inbox as the law probe shows it: its size, and whether it holds
/// `id`.
fn inbox_entry(db: &ConsumerDb, id: u64) -> String {
    let with = if db.inbox.contains(id) {
        "with"
    } else {
        "without"
    };
    format!("{} ids, {with} id {id}", db.inbox.len())
}

/// `id`'s entry in the dedup window: when it was recorded, or none.
fn window_entry(db: &ConsumerDb, id: u64) -> String {
    db.window_entry(id)
        .map_or_else(|| "none".into(), |(t, _)| format!("recorded at t={t}"))
}

/// M2-set's set, element by element.
fn set_elements(set: &BTreeSet<(u32, u32)>) -> String {
    let elements: Vec<String> = set
        .iter()
        .map(|(p, x)| format!("p{}:x{x}", p + 1))
        .collect();
    format!("{{{}}}", listed(&elements))
}

/// Up to eight items, then a count of the rest; `none` for no items.
pub(crate) fn listed(items: &[String]) -> String {
    const SHOWN: usize = 8;
    match items.len() {
        0 => "none".to_string(),
        n if n <= SHOWN => items.join(", "),
        n => format!("{} … (+{})", items[..SHOWN].join(", "), n - SHOWN),
    }
}

fn effects(n: u32) -> String {
    if n == 1 {
        "1 effect".into()
    } else {
        format!("{n} effects")
    }
}

/// What a consumer keeps in memory: M1's offset-commit requests awaiting
/// confirmation, M3-memory's seen-set.
#[derive(Debug, Default, Hash)]
pub struct ConsumerVol {
    /// Dedup ids seen since the last start (M3-memory).
    pub(super) seen: IdSet,
    /// M8's open sink transaction.
    pub(super) stream: CheckpointVol,
    /// M12: the writes this lease holder is computing, oldest first.
    pub(super) writes: VecDeque<PendingWrite>,
    /// M7's transactional task.
    pub(super) txn: TxnVol,
    /// Scratch databases the law probe clones into.
    scratch: Option<Box<law_probe::Scratch>>,
    /// By request id.
    awaiting: BTreeMap<u64, Record>,
    /// A remote database's requests (boxed: most consumers have none).
    requests: Option<Box<DbRequests>>,
    /// The record in hand, then the queued ones (when processing takes
    /// time).
    pub(super) queue: VecDeque<Taken>,
    /// After a restart, the fetch awaiting the broker's answer (its nonce)
    /// and its timeout: deliveries that arrive before the answer left the
    /// broker before the fetch, so they are dropped.
    fetching: Option<(u64, TimerId)>,
}

impl Clone for ConsumerVol {
    fn clone(&self) -> Self {
        ConsumerVol {
            seen: self.seen.clone(),
            stream: self.stream.clone(),
            writes: self.writes.clone(),
            txn: self.txn.clone(),
            scratch: self.scratch.clone(),
            awaiting: self.awaiting.clone(),
            requests: self.requests.clone(),
            queue: self.queue.clone(),
            fetching: self.fetching,
        }
    }

    /// Field by field, so that the law probe's scratch keeps its buffers
    /// (an exploring search copies every state once per successor).
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let ConsumerVol {
            seen,
            stream,
            writes,
            txn,
            scratch,
            awaiting,
            requests,
            queue,
            fetching,
        } = source;
        self.seen.clone_from(seen);
        self.stream.clone_from(stream);
        self.writes.clone_from(writes);
        self.txn.clone_from(txn);
        self.scratch.clone_from(scratch);
        self.awaiting.clone_from(awaiting);
        self.requests.clone_from(requests);
        self.queue.clone_from(queue);
        self.fetching = *fetching;
    }
}

impl ConsumerVol {
    /// Forget the in-memory seen-set (M3-memory); returns how many entries
    /// went.
    pub fn evict_dedup_state(&mut self) -> u64 {
        let n = self.seen.len();
        self.seen = IdSet::default();
        n as u64
    }

    /// The volatile state in a few words, for reports.
    pub fn describe(&self) -> String {
        if let Some(task) = self.txn.describe() {
            return task;
        }
        if let Some(requests) = self.requests.as_deref().filter(|r| !r.pending.is_empty()) {
            let keys: Vec<String> = requests
                .pending
                .values()
                .map(|r| r.rec.key.to_string())
                .collect();
            return format!("awaiting the database's reply: {}", listed(&keys));
        }
        let awaiting: Vec<String> = self.awaiting.values().map(|r| r.key.to_string()).collect();
        let taken: Vec<String> = self.queue.iter().map(|t| t.rec.key.to_string()).collect();
        match (awaiting.is_empty(), taken.split_first()) {
            (false, _) => format!("awaiting offset-commit ack: {}", listed(&awaiting)),
            (true, Some((hand, []))) => format!("working on {hand}"),
            (true, Some((hand, queued))) => {
                format!("working on {hand}, queued: {}", listed(queued))
            }
            (true, None) => "nothing in memory".to_string(),
        }
    }
}

/// Crash points and effects of a real run go to the engine's context.
struct CtxGate<'c, 'a, C: Choices> {
    ctx: &'c mut Ctx<'a, Node, C>,
    /// The handler asked to leave its record uncommitted.
    retry_later: bool,
}

impl<C: Choices> Gate for CtxGate<'_, '_, C> {
    fn crash_point(&mut self, key: MsgKey, point: &'static str) -> Step {
        super::crash_point(self.ctx, key, point)
    }

    fn effect(&mut self, key: MsgKey, count: u32) {
        self.ctx.observe(Obs::Effect { key, count });
    }

    fn now(&self) -> SimTime {
        self.ctx.clock()
    }

    fn observe(&mut self, obs: Obs) {
        self.ctx.observe(obs);
    }

    fn retry_later(&mut self) {
        self.retry_later = true;
    }
}

/// A remote database's request runs as one transaction: the handler's
/// crash points do not fire; effects and observations go to the engine.
struct RequestGate<'c, 'a, C: Choices>(CtxGate<'c, 'a, C>);

impl<C: Choices> Gate for RequestGate<'_, '_, C> {
    fn crash_point(&mut self, _key: MsgKey, _point: &'static str) -> Step {
        Ok(())
    }

    fn effect(&mut self, key: MsgKey, count: u32) {
        self.0.effect(key, count);
    }

    fn now(&self) -> SimTime {
        self.0.now()
    }

    fn observe(&mut self, obs: Obs) {
        self.0.observe(obs);
    }
}

fn db_request(rec: Record, request: u64) -> Msg {
    Msg::DbRequest {
        key: rec.key,
        dedup_id: rec.dedup_id,
        request,
    }
}

impl Consumer {
    pub(super) fn init_durable(&self) -> ConsumerDb {
        let own = self.model.unit().durable_state();
        let mut db = ConsumerDb::new(self.producers, self.messages).with_own(own);
        db.dedup_window = self.dedup_window;
        db
    }

    /// After a restart, rows left `unprocessed` are picked up at once.
    pub(super) fn start<C: Choices>(
        &self,
        db: &ConsumerDb,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> ConsumerVol {
        let unprocessed =
            self.model.uses_recovery() && !db.keys_with(RowStatus::Unprocessed).is_empty();
        let dangling = db.checkpoint.staged.is_some();
        if unprocessed || dangling {
            ctx.set_timer(SimDuration::from_us(0), Timer::Work);
        }
        let mut v = ConsumerVol::default();
        // A group's task starts when a record of its partition arrives: a
        // restarted consumer may no longer own the one it had.
        if self.model.transactional() && !self.group {
            v.txn.partition = Some(self.partition);
            self.txn_start(&mut v, ctx);
        }
        if ctx.life() > 0 {
            self.fetch(&mut v, ctx);
        }
        v
    }

    /// A restarted consumer fetches from its committed position, as a
    /// Kafka consumer does when it rejoins: the broker answers, then
    /// delivers every uncommitted record of its partitions again, in
    /// offset order. What the broker sent before it had the fetch (to the
    /// crashed process, or on redelivery timers armed for it, in no order
    /// a fetch would have) is not read.
    fn fetch<C: Choices>(&self, v: &mut ConsumerVol, ctx: &mut Ctx<'_, Node, C>) {
        let nonce = ctx.now().as_us() + 1;
        ctx.send(self.broker, Msg::Fetch { nonce });
        let timer = ctx.set_timer(self.fetch_timeout, Timer::FetchTimeout);
        v.fetching = Some((nonce, timer));
    }

    pub(super) fn on_msg<C: Choices>(
        &self,
        mut db: Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        src: ActorId,
        msg: Msg,
    ) -> Step {
        // A record sent to the crashed process (its connection died with
        // it), or before the broker had this process's fetch, is not read.
        if matches!(msg, Msg::Deliver { .. } | Msg::DeliverLeased { .. })
            && (ctx.sent_to_earlier_life() || v.fetching.is_some())
        {
            return Ok(());
        }
        match msg {
            Msg::Deliver {
                partition,
                offset,
                key,
                dedup_id,
            } => {
                ctx.observe(Obs::Deliver {
                    key,
                    partition,
                    offset,
                });
                if self.model.streams() {
                    return self.on_streamed(&mut db, v, ctx, key, offset);
                }
                if self.model.transactional() {
                    return self.on_txn_record(&mut db, v, ctx, (partition, offset), key);
                }
                if let Some(database) = self.database {
                    let rec = Record { key, dedup_id };
                    return self.request(v, ctx, database, (partition, offset), rec);
                }
                let taken = Taken {
                    partition,
                    offset,
                    rec: Record { key, dedup_id },
                    seen: None,
                };
                if self.processing.0 == 0 || self.commits_first() {
                    return self.on_record(&mut db, v, ctx, taken);
                }
                self.take(db.get(), v, ctx, taken);
                Ok(())
            }
            // Only the ack of the commit that stored the offset releases the
            // record, once: a duplicated commit is answered twice (once
            // `first`), and a duplicated ack finds its request gone.
            Msg::OffsetCommitAck {
                first: true,
                request,
                ..
            } => match v.awaiting.remove(&request) {
                Some(rec) => {
                    self.probe_laws(db.get(), v, ctx, rec);
                    let gate = &mut CtxGate {
                        ctx,
                        retry_later: false,
                    };
                    self.model
                        .unit()
                        .process(&mut db, &mut v.seen, rec, None, gate)
                }
                None => Ok(()),
            },
            Msg::RecoverStuck => self.recover_stuck(&mut db, ctx, None),
            Msg::ListStuck => {
                self.list_stuck(db.get(), ctx, src);
                Ok(())
            }
            Msg::Compensate { key } => self.recover_stuck(&mut db, ctx, Some(key)),
            Msg::DbReply { request, .. } => self.on_db_reply(v, ctx, request),
            Msg::Fetched { nonce } => {
                if let Some((_, timer)) = v.fetching.filter(|(n, _)| *n == nonce) {
                    ctx.cancel_timer(timer);
                    v.fetching = None;
                }
                Ok(())
            }
            Msg::InitTxnAck { .. }
            | Msg::TxnProduceAck { .. }
            | Msg::EndTxnAck { .. }
            | Msg::TxnFenced { .. }
            | Msg::NotAssigned { .. } => self.on_txn_msg(&mut db, v, ctx, msg),
            Msg::DeliverLeased {
                partition,
                offset,
                key,
                dedup_id: _,
                token,
            } => {
                ctx.observe(Obs::Deliver {
                    key,
                    partition,
                    offset,
                });
                let write = PendingWrite { key, offset, token };
                self.on_leased(v, ctx, write);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Process a record as the model prescribes, then commit its offset.
    pub(super) fn on_record<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        taken: Taken,
    ) -> Step {
        let Taken {
            partition,
            offset,
            rec,
            seen,
        } = taken;
        if self.commits_first() {
            let request = db.transaction(ConsumerDb::next_request);
            v.awaiting.insert(request, rec);
            ctx.send(
                self.broker,
                Msg::OffsetCommit {
                    partition,
                    offset,
                    request,
                },
            );
            return Ok(());
        }
        let commit = Msg::OffsetCommit {
            partition,
            offset,
            request: 0,
        };
        self.probe_laws(db.get(), v, ctx, rec);
        let gate = &mut CtxGate {
            ctx: &mut *ctx,
            retry_later: false,
        };
        self.model
            .unit()
            .process(db, &mut v.seen, rec, seen, gate)?;
        if !gate.retry_later {
            ctx.send(self.broker, commit);
        }
        Ok(())
    }

    /// A remote database: send `rec`'s handling as one request, unless a
    /// request for its offset awaits a reply already.
    fn request<C: Choices>(
        &self,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        database: ActorId,
        (partition, offset): (u32, u64),
        rec: Record,
    ) -> Step {
        let requests = v.requests.get_or_insert_default();
        let in_hand = requests
            .pending
            .values()
            .any(|r| (r.partition, r.offset) == (partition, offset));
        if in_hand {
            return Ok(());
        }
        requests.sent += 1;
        let request = (u64::from(ctx.life()) << 32) | requests.sent;
        let timer = ctx.set_timer(self.db_timeout, Timer::DbTimeout { request });
        let pending = DbRequest {
            partition,
            offset,
            rec,
            timer,
        };
        requests.pending.insert(request, pending);
        ctx.send(database, db_request(rec, request));
        super::crash_point(ctx, rec.key, AFTER_REQUEST_BEFORE_REPLY)
    }

    /// The database committed a request: commit the record's offset.
    fn on_db_reply<C: Choices>(
        &self,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        request: u64,
    ) -> Step {
        let Some(r) = v.requests.as_mut().and_then(|q| q.pending.remove(&request)) else {
            return Ok(());
        };
        ctx.cancel_timer(r.timer);
        super::crash_point(ctx, r.rec.key, AFTER_REPLY_BEFORE_OFFSET_COMMIT)?;
        let commit = Msg::OffsetCommit {
            partition: r.partition,
            offset: r.offset,
            request: 0,
        };
        ctx.send(self.broker, commit);
        Ok(())
    }

    /// No reply in time: the request may or may not have been applied.
    /// Note the unknown outcome and send it again.
    fn on_db_timeout<C: Choices>(
        &self,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        request: u64,
    ) {
        let pending = v
            .requests
            .as_mut()
            .and_then(|q| q.pending.get_mut(&request));
        let (Some(database), Some(r)) = (self.database, pending) else {
            return;
        };
        ctx.observe(Obs::OutcomeUnknown { key: r.rec.key });
        r.timer = ctx.set_timer(self.db_timeout, Timer::DbTimeout { request });
        ctx.send(database, db_request(r.rec, request));
    }

    /// Run a remote database's request: the law probe, then the model's
    /// handler as one transaction (its crash points, the consumer's, do
    /// not fire inside the database).
    pub(super) fn execute<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        rec: Record,
    ) -> Step {
        self.probe_laws(db.get(), v, ctx, rec);
        let gate = &mut RequestGate(CtxGate {
            ctx,
            retry_later: false,
        });
        self.model.unit().process(db, &mut v.seen, rec, None, gate)
    }

    /// Probe the laws on processing `rec` from the state reached, if the
    /// probe is on.
    fn probe_laws<C: Choices>(
        &self,
        db: &ConsumerDb,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        rec: Record,
    ) {
        let Some(plan) = &self.probe else {
            return;
        };
        let scratch = v.scratch.get_or_insert_with(Box::default);
        let reached = law_probe::Reached {
            db,
            memory: &v.seen,
            now: ctx.clock(),
            true_now: ctx.now(),
        };
        let report = law_probe::probe(self.model, reached, rec, scratch, plan);
        ctx.observe(Obs::Probe(Box::new(report)));
    }

    /// The recovery worker's request: compensate the stuck rows (`only`'s
    /// row, when it compensates row by row) in one transaction, then
    /// process every `unprocessed` row.
    fn recover_stuck<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        ctx: &mut Ctx<'_, Node, C>,
        only: Option<MsgKey>,
    ) -> Step {
        if !self.model.uses_recovery() {
            return Ok(());
        }
        let gate = &mut CtxGate {
            ctx,
            retry_later: false,
        };
        self.model.unit().compensate(db, only, gate);
        self.model.unit().resume(db, gate)
    }

    /// A recovery worker that compensates row by row asks for the stuck
    /// rows: the law probe on a scan that dies between two of them, then
    /// one `Stuck` per row.
    fn list_stuck<C: Choices>(&self, db: &ConsumerDb, ctx: &mut Ctx<'_, Node, C>, src: ActorId) {
        if !self.model.uses_recovery() {
            return;
        }
        let stuck = law_probe::stuck_rows(self.model, db);
        if self.probe.is_some() {
            let point = super::BEFORE_COMPENSATING_A_ROW;
            for report in law_probe::probe_compensation(self.model, db, &stuck, point) {
                ctx.observe(Obs::Probe(Box::new(report)));
            }
        }
        for key in stuck {
            ctx.send(src, Msg::Stuck { key });
        }
    }

    /// The model commits the offset first and processes once the commit
    /// is confirmed (M1).
    fn commits_first(&self) -> bool {
        self.model.wiring().consumer == ConsumerRole::CommitFirst
    }

    pub(super) fn on_timer<C: Choices>(
        &self,
        mut db: Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        timer: Timer,
    ) -> Step {
        match timer {
            Timer::Work if self.model.uses_recovery() => self.model.unit().resume(
                &mut db,
                &mut CtxGate {
                    ctx,
                    retry_later: false,
                },
            ),
            Timer::Work if self.model.streams() => {
                self.restore(&mut db, ctx);
                Ok(())
            }
            Timer::Work => self.write(v, ctx),
            Timer::Checkpoint => self.checkpoint(&mut db, v, ctx),
            Timer::TxnTimeout => self.on_txn_timeout(&mut db, v, ctx),
            Timer::Processed => self.finish(&mut db, v, ctx),
            Timer::DbTimeout { request } => {
                self.on_db_timeout(v, ctx, request);
                Ok(())
            }
            Timer::FetchTimeout => {
                v.fetching = None;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Messages stuck or waiting in the message table keep the run going.
    pub(super) fn is_busy(&self, db: &ConsumerDb) -> bool {
        self.model.uses_recovery() && db.has_unfinished_rows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_among_reads_one_row_or_all() {
        let key = |seq| MsgKey { producer: 0, seq };
        let mut db = ConsumerDb::new(1, 4);
        db.set_status(key(1), RowStatus::Processing);
        db.set_status(key(3), RowStatus::Processing);
        let processing = RowStatus::Processing;
        assert_eq!(db.keys_with_among(processing, None), [key(1), key(3)]);
        assert_eq!(db.keys_with_among(processing, Some(key(3))), [key(3)]);
        assert_eq!(db.keys_with_among(processing, Some(key(2))), []);
        let beyond = MsgKey {
            producer: 1,
            seq: 0,
        };
        assert_eq!(db.keys_with_among(processing, Some(beyond)), []);
    }
}
