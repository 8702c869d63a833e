//! The history: the omniscient record of a run in delivery vocabulary, and
//! the per-message ledger the checkers read.

use std::collections::BTreeMap;

use sim_core::{ActorId, Observed, SimDuration, SimTime};
use smallvec::SmallVec;

use crate::vocab::{MsgKey, SendOutcome, TxnTag};

/// One observation, recorded by the actor where it happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Obs {
    /// A producer sent (or re-sent) a message: one observation per send.
    SendAttempt {
        /// The message.
        key: MsgKey,
        /// 1 for the first send, 2 for the first retry, …, as the producer
        /// counts in memory: a restarted producer counts from 1 again.
        attempt: u32,
    },
    /// A producer learned the outcome of its send.
    SendOutcome {
        /// The message.
        key: MsgKey,
        /// The outcome.
        outcome: SendOutcome,
    },
    /// The broker appended a copy of a message to a partition's log.
    Append {
        /// The message.
        key: MsgKey,
        /// The partition.
        partition: u32,
        /// Where in the log.
        offset: u64,
        /// Whether the produce request appended was a second copy the
        /// network made (F-dup), not a datagram its producer sent.
        copy: bool,
    },
    /// A consumer received a record.
    Deliver {
        /// The message.
        key: MsgKey,
        /// The partition.
        partition: u32,
        /// The record's offset.
        offset: u64,
    },
    /// A consumer applied a message's effect to durable state.
    Effect {
        /// The message.
        key: MsgKey,
        /// How many times it has been applied, this one included.
        count: u32,
    },
    /// The broker stored a consumer's offset commit.
    OffsetCommit {
        /// The partition.
        partition: u32,
        /// The committed offset.
        offset: u64,
    },
    /// The recovery worker returned a message stuck in `processing` to
    /// `unprocessed` (the seeds' compensation).
    Compensate {
        /// The message.
        key: MsgKey,
    },
    /// A consumer took a copy of a message for a new one: its dedup entry
    /// had been recorded `age` ago, past the `window` (M5).
    LateCopy {
        /// The message.
        key: MsgKey,
        /// Time since the entry was recorded.
        age: SimDuration,
        /// The dedup window.
        window: SimDuration,
    },
    /// A request for a message was refused: its idempotency key was stored
    /// for another message (M11).
    KeyMismatch {
        /// The message refused.
        key: MsgKey,
        /// The message the key was first used for.
        first: MsgKey,
    },
    /// The storage received a write under a lease token (M12).
    TokenWrite {
        /// The message.
        key: MsgKey,
        /// Who sent the write (the storage observes it).
        writer: ActorId,
        /// The writer's token.
        token: u64,
        /// The highest token a write had carried before.
        highest: u64,
        /// Whether the storage accepted it.
        accepted: bool,
    },
    /// On a restore, the job found that the sink had aborted the staged
    /// (pre-committed) transaction holding a message's record: the sink's
    /// transaction timeout passed before the job came back to commit it
    /// (M8). The checkpoint stored the record's offset already, so it is
    /// never replayed.
    SinkAborted {
        /// The message.
        key: MsgKey,
        /// When the transaction was pre-committed, on the job's clock.
        staged_at: SimTime,
        /// The sink's transaction timeout.
        timeout: SimDuration,
    },
    /// The group coordinator (the broker) refused a transactional request
    /// of a consumer that no longer owns the partition: generation fencing
    /// after a rebalance (KIP-447; M7).
    GenerationFenced {
        /// The message the request was about (`None` for
        /// `initTransactions`).
        key: Option<MsgKey>,
        /// The partition.
        partition: u32,
        /// The consumer whose request was refused.
        from: ActorId,
    },
    /// The broker appended an output record to a transaction (M7).
    TxnAppend {
        /// The input message the output was produced for.
        key: MsgKey,
        /// The attempt that produced it.
        tag: TxnTag,
        /// The output log (its transactional id's index).
        log: u16,
        /// Its offset in the output log.
        offset: u32,
    },
    /// The downstream reader read an output record of a transaction (M7):
    /// an effect of its message.
    TxnRead {
        /// The input message the output was produced for.
        key: MsgKey,
        /// The attempt that produced it.
        tag: TxnTag,
        /// Whether its transaction had committed when it was read.
        committed: bool,
        /// Whether the reader is `read_committed`.
        read_committed: bool,
    },
    /// The broker ended the transaction holding an output record (M7).
    TxnEnded {
        /// The input message the output was produced for.
        key: MsgKey,
        /// The attempt that produced it.
        tag: TxnTag,
        /// The output log (its transactional id's index).
        log: u16,
        /// Its offset in the output log.
        offset: u32,
        /// The attempt whose EndTxn ended it (`session` 0: the next
        /// session's `initTransactions`); another attempt than `tag` means
        /// a request crossed a transaction boundary.
        by: TxnTag,
        /// Committed (else aborted).
        committed: bool,
    },
    /// A task learned how its transaction attempt ended (M7).
    TxnOutcome {
        /// The input message.
        key: MsgKey,
        /// The attempt.
        tag: TxnTag,
        /// Committed (else aborted).
        committed: bool,
    },
    /// The group coordinator moved a partition to another consumer
    /// (F-rebalance).
    Rebalance {
        /// The partition.
        partition: u32,
        /// Its owner until now.
        from: ActorId,
        /// Its new owner.
        to: ActorId,
    },
    /// An actor's dedup state was evicted (F-expire).
    Evicted {
        /// How many entries it lost.
        entries: u64,
    },
    /// A consumer crashed at a named point while handling a message.
    Crashed {
        /// The message it was handling.
        key: MsgKey,
        /// The crash point.
        point: &'static str,
    },
    /// The law probe ran on the state a consumer reached before processing a
    /// message (boxed: rare and large next to the other observations).
    Probe(Box<ProbeReport>),
    /// The broker restarted with `records` records of `partition` on disk;
    /// any appended beyond them were never flushed and are gone.
    LogRecovered {
        /// The partition.
        partition: u32,
        /// Its records on disk.
        records: u64,
    },
    /// A consumer's request to its remote database got no reply in time:
    /// it may or may not have been applied; the consumer sends it again.
    OutcomeUnknown {
        /// The message.
        key: MsgKey,
    },
    // New variants go last: a variant's place is hashed into run digests.
    /// The broker moved an unrenewed lease to another consumer with the
    /// next token (M12).
    LeaseMoved {
        /// The holder whose lease ran out.
        from: ActorId,
        /// The new holder.
        to: ActorId,
        /// The new holder's token.
        token: u64,
    },
    /// The broker restarted with a record torn by a crash during a flush,
    /// and no checksum to reject it: its bytes read as `key`, which no
    /// producer sent.
    TornRecord {
        /// The partition.
        partition: u32,
        /// Its offset.
        offset: u64,
        /// What it reads as.
        key: MsgKey,
    },
}

/// Which law a probe checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Law {
    /// C14: `h(h(s, m), m) = h(s, m)`.
    Idempotence,
    /// C15: `f(f(s, false), true) = f(s, true)`.
    Retry,
}

/// A probe whose two sides differed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LawFailure {
    /// The law.
    pub law: Law,
    /// For C15, the crash point forced in the failed attempt.
    pub crash_point: Option<&'static str>,
    /// For C15, when the retry came after the failed attempt.
    pub retry: RetryAt,
    /// How the durable states differ, in words.
    pub difference: String,
    /// The durable state field by field: the fields that differ between
    /// the three states, and the message's own entries.
    pub state: Vec<StateField>,
}

/// When a probe's retry came, after the failed attempt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RetryAt {
    /// How long after the failed attempt (zero: at once).
    pub after: SimDuration,
    /// What made a retry come then, when it did not come at once (`the
    /// producer's retry timeout`, `past the dedup window of 300 s`).
    pub why: Option<RetryReason>,
}

/// Why a probe's retry came when it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetryReason {
    /// A timeout of the run's roles (`the producer's retry timeout`).
    Timeout(&'static str),
    /// Just past a horizon of the protocol's durable state (`dedup
    /// window`), which lasts the given time.
    PastHorizon(&'static str, SimDuration),
}

impl std::fmt::Display for RetryAt {
    /// `at once`, `+0.050 s (the producer's retry timeout)`, `+300.001 s,
    /// past the 300 s dedup window`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let after = seconds(self.after);
        match self.why {
            None => f.write_str("at once"),
            Some(RetryReason::Timeout(what)) => write!(f, "at +{after} s ({what})"),
            Some(RetryReason::PastHorizon(what, lasts)) => {
                write!(f, "at +{after} s, past the {} s {what}", seconds(lasts))
            }
        }
    }
}

/// `300`, `0.05`, `300.001`: seconds with the milliseconds only where
/// there are some.
fn seconds(d: SimDuration) -> String {
    let ms = d.0 / 1000;
    let (s, rest) = (ms / 1000, ms % 1000);
    if rest == 0 {
        s.to_string()
    } else {
        format!("{s}.{rest:03}")
    }
}

/// One field of the durable state in the three states a law compares: `s`
/// before the message, one clean attempt from `s`, and the failed attempt
/// then the retry (for C14: processing twice).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StateField {
    /// The field (`effects[p1#4]`, `row[p1#4]`, `inbox`).
    pub field: String,
    /// Its value in `s`.
    pub before: String,
    /// After one clean attempt.
    pub clean: String,
    /// After the failed attempt and the retry (C14: after processing twice).
    pub retried: String,
}

/// The result of probing the laws on one message at one reached state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProbeReport {
    /// The message processed.
    pub key: MsgKey,
    /// How many C14 comparisons ran (0 or 1).
    pub idempotence_probes: u32,
    /// How many C15 comparisons ran (one per crash point reached).
    pub retry_probes: u32,
    /// The comparisons that differed.
    pub failures: Vec<LawFailure>,
}

/// Everything that happened to one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MsgLedger {
    /// Sends: the first, its retries, and re-sends after a restart of its
    /// producer (one per [`Obs::SendAttempt`]).
    pub attempts: u32,
    /// Sends made by a producer that had crashed and restarted since its
    /// previous send of this message (not retries: the producer re-sent
    /// what its durable state still held as unsent).
    pub resent_after_restart: u32,
    /// When it was first sent.
    pub first_sent: Option<SimTime>,
    /// The outcome the producer saw, if it saw one.
    pub outcome: Option<SendOutcome>,
    /// When it was acked.
    pub acked_at: Option<SimTime>,
    /// Every append: (partition, offset). Inline up to two, as the lists
    /// below: a run builds one ledger entry per message, and most messages
    /// are appended, delivered and applied once or twice.
    pub appends: SmallVec<[(u32, u64); 2]>,
    /// Appends of a network copy of a produce request (F-dup): the others
    /// each appended a datagram the producer sent.
    pub copy_appends: u32,
    /// Every delivery to a consumer: (time, consumer).
    pub deliveries: SmallVec<[(SimTime, ActorId); 2]>,
    /// Every effect: (time, consumer).
    pub effects: SmallVec<[(SimTime, ActorId); 2]>,
    /// Offset commits of one of its records.
    pub offset_commits: u32,
    /// Compensations by the recovery worker.
    pub compensations: u32,
    /// Crashes that happened while this message was being handled:
    /// (time, actor, crash point).
    pub crashes: Vec<(SimTime, ActorId, &'static str)>,
    /// Copies taken for new messages after the dedup window: (age, window).
    pub late_copies: Vec<(SimDuration, SimDuration)>,
    /// Requests refused because their key was stored for another message.
    pub key_mismatches: Vec<MsgKey>,
    /// Staged sink transactions holding its record that the sink aborted
    /// after its timeout (M8): (pre-committed at, timeout).
    pub sink_aborts: Vec<(SimTime, SimDuration)>,
    /// The first transaction output the broker ended by another attempt's
    /// EndTxn (M7 before KIP-890): (the output's attempt, the ending
    /// attempt, committed). Boxed: rare, and entries are moved around.
    pub txn_crossing: Option<Box<(TxnTag, TxnTag, bool)>>,
    /// Appends the broker lost in a crash before flushing them: (partition,
    /// offset, when it came back without them). They are not in `appends`.
    pub lost_appends: Vec<(u32, u64, SimTime)>,
    /// Requests to a remote database whose reply did not come in time, so
    /// the consumer sent them again not knowing their outcome.
    pub unknown_outcomes: u32,
}

impl MsgLedger {
    /// The outcome as the checkers judge it: acked, failed, or indeterminate
    /// if the producer never learned one.
    pub fn final_outcome(&self) -> SendOutcome {
        self.outcome.unwrap_or(SendOutcome::Indeterminate)
    }

    /// `Eff(m)`: how many times the effect was applied.
    pub fn effect_count(&self) -> usize {
        self.effects.len()
    }

    /// Re-sends by a producer that had not restarted since its previous
    /// send of the message: retries after a timeout.
    pub fn retries(&self) -> u32 {
        self.attempts
            .saturating_sub(1)
            .saturating_sub(self.resent_after_restart)
    }

    /// What made the broker append the message more than once, read from
    /// its sends and appends; `None` if it was appended at most once.
    pub fn reappended(&self) -> Option<Reappended> {
        let appends = u32::try_from(self.appends.len()).unwrap_or(u32::MAX);
        if appends < 2 {
            return None;
        }
        // Each append not of a network copy appended a datagram the
        // producer sent: two of them are two sends, so it re-sent the
        // message (how, its sends say).
        let resent = appends.saturating_sub(self.copy_appends) >= 2;
        Some(Reappended {
            retried: resent && self.retries() > 0,
            restarted: resent && self.resent_after_restart > 0,
            network_copy: self.copy_appends > 0,
        })
    }
}

/// What made the broker append a message more than once (see
/// [`MsgLedger::reappended`]); several can be true at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reappended {
    /// Sends of its that the broker appended were two or more, and its
    /// producer retried it after a timeout (no ack came in time).
    pub retried: bool,
    /// Sends of its that the broker appended were two or more, and its
    /// producer sent it again after a crash and restart.
    pub restarted: bool,
    /// The broker appended a second copy of a produce request that the
    /// network made (F-dup).
    pub network_copy: bool,
}

impl Reappended {
    /// The cause in a few words, for clusters of violations.
    pub fn cause(self) -> &'static str {
        match (self.retried, self.restarted, self.network_copy) {
            (false, false, true) => "the network duplicated the produce request",
            (true, false, false) => "re-sent after a lost or late ack",
            (false, true, false) => "re-sent after its producer restarted",
            (true, true, false) => "re-sent after a lost or late ack and after a restart",
            (true, false, true) => "re-sent after a lost or late ack, and a network copy",
            (false, true, true) => "re-sent after its producer restarted, and a network copy",
            (true, true, true) => "re-sent after a lost ack and a restart, and a network copy",
            // Two sends appended, yet the history shows no re-send: say
            // nothing rather than guess.
            (false, false, false) => "appended again",
        }
    }

    /// What keeps the broker from appending it twice, for this cause
    /// (without the leading `hint: `).
    pub fn remedy(self) -> &'static str {
        if self.restarted {
            "a restarted producer cannot tell which of its sends were appended: keep its \
             sequence numbers durable across restarts, or deduplicate downstream by message id \
             (an inbox, M4)"
        } else {
            "an idempotent producer (M6) numbers its sends, so the broker appends a re-sent or \
             duplicated request once"
        }
    }

    /// Why, in a sentence (without the leading `why: `).
    pub fn why(self) -> String {
        let mut how = Vec::new();
        if self.retried {
            how.push("the producer re-sent it (an ack was lost or late)");
        }
        if self.restarted {
            how.push("its producer re-sent it after a crash and a restart");
        }
        if self.network_copy {
            how.push("the network duplicated a produce request");
        }
        match how.split_last() {
            None => "it was appended more than once".to_string(),
            Some((last, [])) => format!("{last} and the broker appended every copy"),
            Some((last, rest)) => format!(
                "{} and {last}; the broker appended every copy",
                rest.join(", ")
            ),
        }
    }
}

/// Two different messages seen at one (partition, offset): appended there
/// both, or appended as one and delivered as the other (C5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetConflict {
    /// When the second value was seen.
    pub time: SimTime,
    /// Who saw it (the broker appending, or a consumer receiving).
    pub actor: ActorId,
    /// The partition.
    pub partition: u32,
    /// The offset.
    pub offset: u64,
    /// The message first recorded at that offset.
    pub first: MsgKey,
    /// The other message seen there.
    pub second: MsgKey,
    /// The message of the two that a consumer read there and the broker
    /// then lost in a crash, and when the broker came back without it: the
    /// offset went to the other one.
    pub lost: Option<(MsgKey, SimTime)>,
}

/// How a consumer's successive deliveries on one partition broke order
/// (C12), named as Jepsen names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollAnomaly {
    /// The offset went backwards or repeated: `nonmonotonic-poll`.
    Nonmonotonic,
    /// The offset jumped over offsets that exist: `poll-skip`.
    Skip,
}

/// One break of order in a consumer's deliveries, within one session (from
/// a start or restart to the next crash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollBreak {
    /// When.
    pub time: SimTime,
    /// The consumer.
    pub consumer: ActorId,
    /// The partition.
    pub partition: u32,
    /// The offset delivered before.
    pub from: u64,
    /// The offset delivered now.
    pub to: u64,
    /// Backwards or a skip.
    pub anomaly: PollAnomaly,
    /// The message delivered at `from`, and when.
    pub read: (MsgKey, SimTime),
}

/// The ledger of every message, built from a run's observations.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// Per message, in key order.
    pub messages: BTreeMap<MsgKey, MsgLedger>,
    /// Offsets that held two different messages (C5).
    pub offset_conflicts: Vec<OffsetConflict>,
    /// Breaks of order in consumers' deliveries (C12), in time order.
    pub poll_breaks: Vec<PollBreak>,
    /// Effects or deliveries of keys no producer ever sent.
    pub phantoms: Vec<(SimTime, ActorId, MsgKey)>,
    /// Writes under a lease token (M12).
    pub token_writes: u64,
    /// Writes whose token was below the highest already seen: (time,
    /// writer, message, token, highest, accepted).
    pub stale_writes: Vec<(SimTime, ActorId, MsgKey, u64, u64, bool)>,
    /// Requests refused because their sender no longer owned the partition
    /// (generation fencing): (time, the sender, the message if any).
    pub generation_fenced: Vec<(SimTime, ActorId, Option<MsgKey>)>,
    /// Law probe reports that found a difference.
    pub law_failures: Vec<(SimTime, ActorId, MsgKey, LawFailure)>,
    /// C14 comparisons run.
    pub idempotence_probes: u64,
    /// C15 comparisons run.
    pub retry_probes: u64,
    /// M7's transactions.
    pub txn: TxnHistory,
    /// Evictions of dedup state: (time, actor, entries lost).
    pub evictions: Vec<(SimTime, ActorId, u64)>,
    /// Partitions moved by rebalances (F-rebalance): (time, partition,
    /// from, to).
    pub rebalances: Vec<(SimTime, u32, ActorId, ActorId)>,
    /// Records the broker came back with torn (no checksums): (when,
    /// partition, offset, what it reads as, the message whose record it
    /// was).
    pub torn: Vec<TornRecord>,
}

/// A record torn by a crash during a flush, which a broker without
/// checksums came back with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornRecord {
    /// When the broker came back with it.
    pub time: SimTime,
    /// The partition.
    pub partition: u32,
    /// Its offset.
    pub offset: u64,
    /// What its bytes read as: a message no producer sent.
    pub reads_as: MsgKey,
    /// The message whose record it was.
    pub was: MsgKey,
}

/// A read of an output record of a transaction (M7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnReadEvent {
    /// When.
    pub time: SimTime,
    /// The input message the output was produced for.
    pub key: MsgKey,
    /// The attempt that produced it.
    pub tag: TxnTag,
    /// Whether its transaction had committed when it was read.
    pub committed: bool,
    /// Whether the reader is `read_committed`.
    pub read_committed: bool,
}

/// What M7's transactions did: how each attempt ended for its task and at
/// the broker, and what the reader read.
#[derive(Clone, Debug, Default)]
pub struct TxnHistory {
    /// How each attempt ended, as its task learned it (true: committed).
    pub outcomes: BTreeMap<(MsgKey, TxnTag), bool>,
    /// Output records whose transaction has not ended, by (output log,
    /// offset).
    pub open: BTreeMap<(u16, u32), (MsgKey, TxnTag)>,
    /// Output records appended.
    pub appended: u64,
    /// How the broker ended each attempt's output: by which attempt's
    /// EndTxn, and whether it committed.
    pub ended: BTreeMap<(MsgKey, TxnTag), (TxnTag, bool)>,
    /// Every read of an output record, in time order.
    pub reads: Vec<TxnReadEvent>,
}

impl TxnHistory {
    /// Whether any transaction ran.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty() && self.appended == 0 && self.reads.is_empty()
    }

    /// Whether the attempt's transaction aborted, for its task or at the
    /// broker.
    pub fn aborted(&self, key: MsgKey, tag: TxnTag) -> bool {
        self.outcomes.get(&(key, tag)) == Some(&false) || self.broker_aborted(key, tag)
    }

    /// Whether the broker aborted the attempt's output.
    pub fn broker_aborted(&self, key: MsgKey, tag: TxnTag) -> bool {
        matches!(self.ended.get(&(key, tag)), Some((_, false)))
    }

    /// Outputs whose transaction never ended (hanging transactions, which
    /// hold the LSO): (message, attempt, output offset).
    pub fn hanging(&self) -> impl Iterator<Item = (MsgKey, TxnTag, u32)> + '_ {
        self.open
            .iter()
            .map(|((_, offset), (key, tag))| (*key, *tag, *offset))
    }

    /// How many outputs the broker aborted.
    pub fn aborted_outputs(&self) -> usize {
        self.ended.values().filter(|(_, c)| !c).count()
    }
}

impl Ledger {
    /// Build the ledger from a run's observations.
    pub fn build(history: &[Observed<Obs>]) -> Ledger {
        Ledger::build_from(history, Builder::sized_for(history))
    }

    /// [`Ledger::build`], for a run whose workload sends about `messages`
    /// messages: room for their entries is made up front instead of by a
    /// first pass over the history. The ledger is the same whatever the
    /// estimate.
    pub fn build_expecting(history: &[Observed<Obs>], messages: usize) -> Ledger {
        let b = Builder {
            messages: Vec::with_capacity(messages),
            ..Builder::default()
        };
        Ledger::build_from(history, b)
    }

    fn build_from(history: &[Observed<Obs>], mut b: Builder) -> Ledger {
        for o in history {
            b.add(o);
        }
        // Entries are large: each was made in place in a list of the right
        // size, in the order messages were first sent, which is key order in
        // most runs; the map takes the list over without copying it and
        // moves each entry once, into its nodes.
        let mut messages = b.messages;
        if !messages.is_sorted_by_key(|(key, _)| *key) {
            messages.sort_unstable_by_key(|(key, _)| *key);
        }
        Ledger {
            messages: messages.into_iter().collect(),
            ..b.ledger
        }
    }
}

/// The ledger while it is built: messages and offsets in dense tables, so
/// that each observation costs two index operations, not a tree search.
#[derive(Default)]
struct Builder {
    ledger: Ledger,
    /// Each message's entry, in the order they were first seen.
    messages: Vec<(MsgKey, MsgLedger)>,
    /// Per entry of `messages`, who sent the message last and how many
    /// times that actor had crashed by then.
    last_send: Vec<Option<(ActorId, u32)>>,
    /// How many times each actor crashed so far, by actor index.
    crashes: Vec<u32>,
    /// Where each message's entry is in `messages`, plus one (0: none yet),
    /// by producer, then sequence number.
    index: Vec<Vec<u32>>,
    /// The message at each offset, by partition, then offset, and whether
    /// a consumer read it there.
    offsets: Vec<Vec<Option<(MsgKey, bool)>>>,
    /// Records consumers read that the broker lost in a crash, their
    /// offsets free again: (partition, offset, message, when the broker
    /// came back without it).
    lost_reads: Vec<(u32, u64, MsgKey, SimTime)>,
    /// The offset each consumer was last delivered on each partition in its
    /// current session: (consumer, partition, offset, the message there,
    /// when).
    last_polled: Vec<(ActorId, u32, u64, MsgKey, SimTime)>,
}

/// Grow `table` so that `[i][j]` exists, and return that cell.
#[inline(always)]
fn cell<T>(table: &mut Vec<Vec<Option<T>>>, i: usize, j: usize) -> &mut Option<T> {
    if table.len() <= i {
        table.resize_with(i + 1, Vec::new);
    }
    let row = &mut table[i];
    if row.len() <= j {
        row.resize_with(j + 1, || None);
    }
    &mut row[j]
}

impl Builder {
    /// A builder with room for an entry for every message sent in
    /// `history`, so that adding entries never moves the (large) ones
    /// already made.
    fn sized_for(history: &[Observed<Obs>]) -> Builder {
        let mut rows: Vec<u32> = Vec::new();
        for o in history {
            if let Obs::SendAttempt { key, .. } | Obs::SendOutcome { key, .. } = &o.obs {
                let i = key.producer as usize;
                if rows.len() <= i {
                    rows.resize(i + 1, 0);
                }
                rows[i] = rows[i].max(key.seq + 1);
            }
        }
        let index: Vec<Vec<u32>> = rows.iter().map(|len| vec![0; *len as usize]).collect();
        let count = rows.iter().map(|len| *len as usize).sum();
        Builder {
            messages: Vec::with_capacity(count),
            index,
            ..Builder::default()
        }
    }

    fn entry(&mut self, key: MsgKey) -> &mut MsgLedger {
        let at = self.entry_index(key);
        &mut self.messages[at].1
    }

    /// The position of `key`'s entry in `messages`, made if new.
    fn entry_index(&mut self, key: MsgKey) -> usize {
        let (p, seq) = (key.producer as usize, key.seq as usize);
        if self.index.len() <= p {
            self.index.resize_with(p + 1, Vec::new);
        }
        let row = &mut self.index[p];
        if row.len() <= seq {
            row.resize(seq + 1, 0);
        }
        if row[seq] == 0 {
            self.messages.push((key, MsgLedger::default()));
            self.last_send.push(None);
            row[seq] = u32::try_from(self.messages.len()).expect("fewer than 2^32 messages");
        }
        row[seq] as usize - 1
    }

    /// How many times `actor` has crashed so far.
    fn crashes_of(&self, actor: ActorId) -> u32 {
        self.crashes.get(actor.index()).copied().unwrap_or(0)
    }

    /// A send of `key` by `actor`: a re-send after a restart if the actor
    /// crashed since it last sent the message.
    fn sent_by(&mut self, o: &Observed<Obs>, key: MsgKey) {
        let at = self.entry_index(key);
        let now = (o.actor, self.crashes_of(o.actor));
        let before = self.last_send[at].replace(now);
        let m = &mut self.messages[at].1;
        m.attempts += 1;
        if before.is_some_and(|(actor, crashes)| actor == now.0 && crashes < now.1) {
            m.resent_after_restart += 1;
        }
        m.first_sent.get_or_insert(o.time);
    }

    fn add(&mut self, o: &Observed<Obs>) {
        match &o.obs {
            Obs::SendAttempt { key, .. } => self.sent_by(o, *key),
            Obs::SendOutcome { key, outcome } => {
                let m = self.entry(*key);
                m.outcome = Some(*outcome);
                if *outcome == SendOutcome::Acked {
                    m.acked_at.get_or_insert(o.time);
                }
            }
            Obs::Append {
                key,
                partition,
                offset,
                copy,
            } => {
                self.at_offset(o, *partition, *offset, *key, false);
                if let Some(m) = self.sent(*key, o) {
                    m.appends.push((*partition, *offset));
                    m.copy_appends += u32::from(*copy);
                }
            }
            Obs::Deliver {
                key,
                partition,
                offset,
            } => {
                self.at_offset(o, *partition, *offset, *key, true);
                self.polled(o, *partition, *offset, *key);
                if let Some(m) = self.sent(*key, o) {
                    m.deliveries.push((o.time, o.actor));
                }
            }
            Obs::Effect { key, .. } => {
                if let Some(m) = self.sent(*key, o) {
                    m.effects.push((o.time, o.actor));
                }
            }
            Obs::OffsetCommit { partition, offset } => {
                let at = usize::try_from(*offset).expect("offsets index an in-memory log");
                let key = self
                    .offsets
                    .get(*partition as usize)
                    .and_then(|row| row.get(at))
                    .copied()
                    .flatten();
                if let Some(m) = key.and_then(|(k, _)| self.existing(k)) {
                    m.offset_commits += 1;
                }
            }
            Obs::Compensate { key } => {
                if let Some(m) = self.sent(*key, o) {
                    m.compensations += 1;
                }
            }
            Obs::Crashed { key, point } => {
                // A crash ends the consumer's session: after the restart its
                // deliveries start afresh, as after an assignment.
                self.last_polled.retain(|(c, ..)| *c != o.actor);
                let a = o.actor.index();
                if self.crashes.len() <= a {
                    self.crashes.resize(a + 1, 0);
                }
                self.crashes[a] += 1;
                if let Some(m) = self.sent(*key, o) {
                    m.crashes.push((o.time, o.actor, point));
                }
            }
            Obs::LateCopy { key, age, window } => {
                if let Some(m) = self.sent(*key, o) {
                    m.late_copies.push((*age, *window));
                }
            }
            Obs::KeyMismatch { key, first } => {
                if let Some(m) = self.sent(*key, o) {
                    m.key_mismatches.push(*first);
                }
            }
            Obs::TokenWrite {
                key,
                writer,
                token,
                highest,
                accepted,
            } => {
                self.ledger.token_writes += 1;
                if token < highest {
                    let w = (o.time, *writer, *key, *token, *highest, *accepted);
                    self.ledger.stale_writes.push(w);
                }
            }
            Obs::SinkAborted {
                key,
                staged_at,
                timeout,
            } => {
                if let Some(m) = self.sent(*key, o) {
                    m.sink_aborts.push((*staged_at, *timeout));
                }
            }
            Obs::GenerationFenced { key, from, .. } => {
                self.ledger.generation_fenced.push((o.time, *from, *key));
            }
            Obs::TxnRead {
                key,
                tag,
                committed,
                read_committed,
            } => self.ledger.txn.reads.push(TxnReadEvent {
                time: o.time,
                key: *key,
                tag: *tag,
                committed: *committed,
                read_committed: *read_committed,
            }),
            Obs::TxnAppend {
                key,
                tag,
                log,
                offset,
            } => {
                self.ledger.txn.appended += 1;
                self.ledger.txn.open.insert((*log, *offset), (*key, *tag));
            }
            Obs::TxnEnded {
                key,
                tag,
                log,
                offset,
                by,
                committed,
            } => {
                self.ledger.txn.open.remove(&(*log, *offset));
                self.ledger
                    .txn
                    .ended
                    .insert((*key, *tag), (*by, *committed));
                let crossed = by != tag && by.session != 0;
                if let Some(m) = self.existing(*key).filter(|_| crossed) {
                    m.txn_crossing
                        .get_or_insert_with(|| Box::new((*tag, *by, *committed)));
                }
            }
            Obs::TxnOutcome {
                key,
                tag,
                committed,
            } => {
                self.ledger.txn.outcomes.insert((*key, *tag), *committed);
            }
            Obs::Evicted { entries } => self.ledger.evictions.push((o.time, o.actor, *entries)),
            Obs::OutcomeUnknown { key } => {
                if let Some(m) = self.existing(*key) {
                    m.unknown_outcomes += 1;
                }
            }
            Obs::LogRecovered { partition, records } => {
                self.truncate(o.time, *partition, *records);
            }
            Obs::TornRecord {
                partition,
                offset,
                key,
            } => self.torn(o, *partition, *offset, *key),
            // A new assignment: the partition's deliveries start afresh at
            // every consumer (C12 resets at a rebalance).
            Obs::Rebalance {
                partition,
                from,
                to,
            } => {
                self.last_polled.retain(|(_, p, ..)| p != partition);
                let moved = (o.time, *partition, *from, *to);
                self.ledger.rebalances.push(moved);
            }
            Obs::Probe(report) => self.add_probe(o, report),
            // Told in stories; the checks read the token writes.
            Obs::LeaseMoved { .. } => {}
        }
    }

    /// Record that `key` was seen at (partition, offset), `read` by a
    /// consumer or appended; a different message already recorded there,
    /// or read there before the broker lost it, is a conflict.
    fn at_offset(
        &mut self,
        o: &Observed<Obs>,
        partition: u32,
        offset: u64,
        key: MsgKey,
        read: bool,
    ) {
        let at = usize::try_from(offset).expect("offsets index an in-memory log");
        let slot = cell(&mut self.offsets, partition as usize, at);
        // The common case: the message the offset holds, seen again.
        if let Some((k, was_read)) = slot
            && *k == key
        {
            *was_read |= read;
            return;
        }
        let held = *slot;
        let (first, lost) = match held {
            // Another message holds the offset: a conflict, and when `key`
            // is a record the broker lost here, read late, that is why.
            Some((first, _)) => (
                first,
                self.lost_at(key, partition, offset).map(|t| (key, t)),
            ),
            // A late read of a lost record whose offset is still free: no
            // record holds it; a later append there is the conflict.
            None if read && let Some(t) = self.lost_at(key, partition, offset) => {
                self.lost_reads.push((partition, offset, key, t));
                return;
            }
            None => {
                self.offsets[partition as usize][at] = Some((key, read));
                match self.take_lost_read(partition, offset) {
                    Some((first, t)) if first != key => (first, Some((first, t))),
                    _ => return,
                }
            }
        };
        self.ledger.offset_conflicts.push(OffsetConflict {
            time: o.time,
            actor: o.actor,
            partition,
            offset,
            first,
            second: key,
            lost,
        });
    }

    /// When the broker last came back without `key`'s append at
    /// (partition, offset), if it did.
    fn lost_at(&mut self, key: MsgKey, partition: u32, offset: u64) -> Option<SimTime> {
        let m = self.existing(key)?;
        m.lost_appends
            .iter()
            .rev()
            .find(|l| (l.0, l.1) == (partition, offset))
            .map(|l| l.2)
    }

    /// The record read last at (partition, offset) before the broker lost
    /// it, with when it came back without it; every such read there is
    /// forgotten (a new record holds the offset now).
    fn take_lost_read(&mut self, partition: u32, offset: u64) -> Option<(MsgKey, SimTime)> {
        if self.lost_reads.is_empty() {
            return None;
        }
        let here = |l: &(u32, u64, MsgKey, SimTime)| (l.0, l.1) == (partition, offset);
        let latest = self
            .lost_reads
            .iter()
            .rev()
            .find(|l| here(l))
            .map(|l| (l.2, l.3));
        self.lost_reads.retain(|l| !here(l));
        latest
    }

    /// The broker came back with `records` records of `partition`: the
    /// appends beyond them were never flushed; they move to the messages'
    /// lost appends, and their offsets are free for new appends.
    fn truncate(&mut self, time: SimTime, partition: u32, records: u64) {
        let Some(row) = self.offsets.get_mut(partition as usize) else {
            return;
        };
        let from = usize::try_from(records).map_or(row.len(), |r| r.min(row.len()));
        let gone: Vec<(u64, (MsgKey, bool))> = (from..)
            .zip(row.drain(from..))
            .filter_map(|(o, slot)| Some((o as u64, slot?)))
            .collect();
        for (offset, (key, read)) in gone {
            if read {
                self.lost_reads.push((partition, offset, key, time));
            }
            if let Some(m) = self.existing(key) {
                m.appends.retain(|a| *a != (partition, offset));
                m.lost_appends.push((partition, offset, time));
            }
        }
    }

    /// The broker came back with the record at (partition, offset) torn:
    /// it reads as `key`; the message appended there lost its append.
    fn torn(&mut self, o: &Observed<Obs>, partition: u32, offset: u64, key: MsgKey) {
        let time = o.time;
        let at = usize::try_from(offset).expect("offsets index an in-memory log");
        let slot = cell(&mut self.offsets, partition as usize, at);
        // Seen at an earlier restart already.
        let Some((was, read)) = slot.filter(|(was, _)| *was != key) else {
            return;
        };
        *slot = Some((key, false));
        if let Some(m) = self.existing(was) {
            m.appends.retain(|a| *a != (partition, offset));
            m.lost_appends.push((partition, offset, time));
        }
        // A consumer read the message there: the offset names two now.
        if read {
            self.ledger.offset_conflicts.push(OffsetConflict {
                time,
                actor: o.actor,
                partition,
                offset,
                first: was,
                second: key,
                lost: Some((was, time)),
            });
        }
        self.ledger.torn.push(TornRecord {
            time,
            partition,
            offset,
            reads_as: key,
            was,
        });
    }

    /// A consumer was delivered `offset` of `partition`: compare with the
    /// offset it was delivered before in this session.
    fn polled(&mut self, o: &Observed<Obs>, partition: u32, offset: u64, key: MsgKey) {
        let consumer = o.actor;
        let last = self
            .last_polled
            .iter_mut()
            .find(|(c, p, ..)| *c == consumer && *p == partition);
        let Some(last) = last else {
            self.last_polled
                .push((consumer, partition, offset, key, o.time));
            return;
        };
        let (from, from_key, from_time) = (last.2, last.3, last.4);
        (last.2, last.3, last.4) = (offset, key, o.time);
        let anomaly = if offset <= from {
            PollAnomaly::Nonmonotonic
        } else if offset > from + 1 {
            // Logs are dense: every offset below a delivered one exists.
            PollAnomaly::Skip
        } else {
            return;
        };
        self.ledger.poll_breaks.push(PollBreak {
            time: o.time,
            consumer,
            partition,
            from,
            to: offset,
            anomaly,
            read: (from_key, from_time),
        });
    }

    fn existing(&mut self, key: MsgKey) -> Option<&mut MsgLedger> {
        let at = *self
            .index
            .get(key.producer as usize)?
            .get(key.seq as usize)?;
        let at = (at as usize).checked_sub(1)?;
        Some(&mut self.messages[at].1)
    }

    /// The ledger of a sent message, or a phantom noted if it was never sent.
    fn sent(&mut self, key: MsgKey, o: &Observed<Obs>) -> Option<&mut MsgLedger> {
        let known = self.existing(key).is_some_and(|m| m.attempts > 0);
        if !known {
            self.ledger.phantoms.push((o.time, o.actor, key));
            return None;
        }
        self.existing(key)
    }

    fn add_probe(&mut self, o: &Observed<Obs>, report: &ProbeReport) {
        self.ledger.idempotence_probes += u64::from(report.idempotence_probes);
        self.ledger.retry_probes += u64::from(report.retry_probes);
        for f in &report.failures {
            self.ledger
                .law_failures
                .push((o.time, o.actor, report.key, f.clone()));
        }
    }
}

/// The message an observation is about, if any.
pub fn subject(obs: &Obs) -> Option<MsgKey> {
    match obs {
        Obs::SendAttempt { key, .. }
        | Obs::SendOutcome { key, .. }
        | Obs::Append { key, .. }
        | Obs::Deliver { key, .. }
        | Obs::Effect { key, .. }
        | Obs::Compensate { key }
        | Obs::LateCopy { key, .. }
        | Obs::KeyMismatch { key, .. }
        | Obs::TokenWrite { key, .. }
        | Obs::TxnAppend { key, .. }
        | Obs::TxnRead { key, .. }
        | Obs::TxnEnded { key, .. }
        | Obs::TxnOutcome { key, .. }
        | Obs::SinkAborted { key, .. }
        | Obs::OutcomeUnknown { key }
        | Obs::TornRecord { key, .. }
        | Obs::Crashed { key, .. } => Some(*key),
        Obs::Probe(r) => Some(r.key),
        Obs::GenerationFenced { key, .. } => *key,
        Obs::OffsetCommit { .. }
        | Obs::Evicted { .. }
        | Obs::Rebalance { .. }
        | Obs::LogRecovered { .. }
        | Obs::LeaseMoved { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64, actor: u32, obs: Obs) -> Observed<Obs> {
        Observed {
            time: SimTime::from_ms(ms),
            actor: ActorId(actor),
            obs,
        }
    }

    #[test]
    fn a_send_after_its_senders_crash_counts_as_a_resend_after_a_restart() {
        let key = MsgKey {
            producer: 0,
            seq: 0,
        };
        let send = |ms, attempt| at(ms, 0, Obs::SendAttempt { key, attempt });
        let crash = |ms, actor| {
            let point = "p";
            at(ms, actor, Obs::Crashed { key, point })
        };
        // Sent, retried, the consumer crashed (not the sender), the sender
        // crashed and restarted: it counts from 1 again.
        let history = vec![
            send(0, 1),
            send(1, 2),
            crash(2, 2),
            send(3, 3),
            crash(4, 0),
            send(5, 1),
            send(6, 2),
        ];
        let ledger = Ledger::build(&history);
        let m = &ledger.messages[&key];
        assert_eq!(m.attempts, 5);
        assert_eq!(m.resent_after_restart, 1);
        assert_eq!(m.retries(), 3);
    }

    #[test]
    fn the_ledger_is_in_key_order_whatever_the_send_order_and_the_estimate() {
        let key = |producer, seq| MsgKey { producer, seq };
        let history = vec![
            at(
                0,
                1,
                Obs::SendAttempt {
                    key: key(1, 0),
                    attempt: 1,
                },
            ),
            at(
                0,
                0,
                Obs::SendAttempt {
                    key: key(0, 2),
                    attempt: 1,
                },
            ),
            at(
                1,
                0,
                Obs::SendAttempt {
                    key: key(0, 0),
                    attempt: 1,
                },
            ),
            at(
                2,
                2,
                Obs::Append {
                    key: key(0, 2),
                    partition: 0,
                    offset: 0,
                    copy: false,
                },
            ),
            at(
                3,
                3,
                Obs::Deliver {
                    key: key(0, 2),
                    partition: 0,
                    offset: 0,
                },
            ),
            at(
                3,
                3,
                Obs::Effect {
                    key: key(0, 2),
                    count: 1,
                },
            ),
            at(
                4,
                3,
                Obs::Effect {
                    key: key(5, 5),
                    count: 1,
                },
            ),
            at(
                5,
                0,
                Obs::SendOutcome {
                    key: key(0, 2),
                    outcome: SendOutcome::Acked,
                },
            ),
        ];
        let built = format!("{:?}", Ledger::build(&history));
        for estimate in [0, 1, 3, 1000] {
            let expecting = format!("{:?}", Ledger::build_expecting(&history, estimate));
            assert_eq!(expecting, built, "estimate {estimate}");
        }
        let ledger = Ledger::build(&history);
        let keys: Vec<MsgKey> = ledger.messages.keys().copied().collect();
        assert_eq!(keys, [key(0, 0), key(0, 2), key(1, 0)]);
        assert_eq!(ledger.messages[&key(0, 2)].effects.len(), 1);
        assert_eq!(ledger.phantoms.len(), 1);
    }
}
