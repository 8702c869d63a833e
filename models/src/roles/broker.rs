//! The broker: appends produced messages to partition logs, acks every copy,
//! and delivers each record to the consumer its partition is assigned to
//! until an offset commit for it arrives.
//!
//! **Flushing.** The durable state is the log on disk. With [`Flush::OnAppend`]
//! every write goes to disk before the ack (one transaction), and a crash at
//! [`AFTER_FLUSH_BEFORE_ACK`] leaves a record the producer will send again.
//! With [`Flush::AfterAck`] or [`Flush::Periodic`] handlers write to the
//! log in memory (the page cache, volatile) and the disk catches up after
//! the ack or within a period: a crash at [`AFTER_ACK_BEFORE_FLUSH`] loses
//! every acknowledged write since the last flush. Consumers read only
//! flushed records (Kafka's consumers read up to the high watermark), so a
//! lost record was never delivered; offset commits are written like
//! appends and can be lost the same way. With `read_unflushed` consumers
//! read the log in memory (a single-replica partition, whose high
//! watermark is its log end): a crash loses records they have read, and
//! the next appends take their offsets. M7's transaction coordinator and
//! M12's lease storage always flush on write and have no crash points.

use std::collections::BTreeMap;

use sim_core::{ActorId, Choices, Ctx, SimDuration, SimTime, Step, Store, TimerId};

use super::lease::{LeaseCfg, LeaseDb, LeaseVol};
use super::txn::{EndTxn, TxnDb, TxnLog};
use super::{Msg, Node, Timer, crash_point};
use crate::history::Obs;
use crate::protocols::m7_transactions::TxnRules;
use crate::protocols::{Model, Record};
use crate::vocab::{IdSet, MsgKey};

/// The broker's program.
#[derive(Clone, Debug)]
pub struct Broker {
    /// The protocol model (it says which partition a message goes to).
    pub model: Model,
    /// The consumer each partition starts with (partition `i` →
    /// `consumers[i]`); their number is the number of partitions.
    pub consumers: Vec<ActorId>,
    /// The consumer group, when the scenario rebalances (empty otherwise):
    /// partitions move between these consumers.
    pub group: Vec<ActorId>,
    /// Append each dedup id at most once (an idempotent broker).
    pub dedup_appends: bool,
    /// The queue's deduplication interval: a dedup id accepted less than
    /// this long ago is acknowledged and dropped (SQS FIFO).
    pub dedup_window: Option<SimDuration>,
    /// How long to wait for an offset commit before redelivering.
    pub redeliver: SimDuration,
    /// Records a partition is expected to hold (room is made up front).
    pub expected_records: usize,
    /// Answer each offset commit with an ack saying whether it stored the
    /// offset (only M1's consumer waits for one).
    pub confirm_offset_commits: bool,
    /// M12: a lease over partition 0 between two consumers.
    pub lease: Option<LeaseCfg>,
    /// M7: the transaction rules (the broker is the coordinator).
    pub txn: Option<TxnRules>,
    /// When the log reaches the disk.
    pub flush: Flush,
    /// Consumers read the log in memory, flushed or not (a single-replica
    /// partition: its high watermark is its log end).
    pub read_unflushed: bool,
    /// Whether records carry checksums; without, a record torn by a crash
    /// during a flush comes back as what its bytes read as.
    pub checksums: bool,
    /// The producers: a record torn without a checksum reads as a message
    /// of a producer index from `producers` on, which does not exist.
    pub producers: u32,
    /// Messages per producer (a torn record's id is its key's place in
    /// the table of messages).
    pub messages: u32,
    /// Its crash points ([`broker_crash_points`] of its model and flush).
    pub crash_points: &'static [&'static str],
}

/// When the broker's log reaches its disk, against its ack (the scenario's
/// `broker.flush`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flush {
    /// Flushed with each write, before the ack.
    OnAppend,
    /// Flushed right after the handler's acks.
    AfterAck,
    /// Flushed at most this long after a write.
    Periodic(SimDuration),
}

impl Flush {
    /// Whether writes wait in memory for a flush.
    fn defers(self) -> bool {
        self != Flush::OnAppend
    }
}

/// Crash point: the append is on disk, its ack not sent (the producer will
/// retry).
pub const AFTER_FLUSH_BEFORE_ACK: &str = "after-flush-before-ack";
/// Crash point: the append is acknowledged, not yet on disk (a crash loses
/// it).
pub const AFTER_ACK_BEFORE_FLUSH: &str = "after-ack-before-flush";
/// Crash point of a broker without checksums: the flush is writing its
/// last record when the crash tears it.
pub const DURING_FLUSH: &str = "during-flush";

/// The broker's crash points: none for M7's coordinator and M12's storage;
/// else the one its flush policy has, and, without checksums, the flush's
/// torn write.
pub fn broker_crash_points(model: Model, flush: Flush, checksums: bool) -> &'static [&'static str] {
    if model.txn_rules().is_some() || model.uses_lease() {
        &[]
    } else if flush.defers() && !checksums {
        &[AFTER_ACK_BEFORE_FLUSH, DURING_FLUSH]
    } else if flush.defers() {
        &[AFTER_ACK_BEFORE_FLUSH]
    } else {
        &[AFTER_FLUSH_BEFORE_ACK]
    }
}

/// One partition's log and its offset commits.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct PartitionLog {
    /// The records, by offset.
    pub records: Vec<Record>,
    /// Whether each offset is committed.
    pub committed: Vec<bool>,
}

impl Clone for PartitionLog {
    fn clone(&self) -> Self {
        PartitionLog {
            records: self.records.clone(),
            committed: self.committed.clone(),
        }
    }

    /// Reuses the buffers: an exploring search copies every state once
    /// per successor.
    fn clone_from(&mut self, source: &Self) {
        let PartitionLog { records, committed } = source;
        self.records.clone_from(records);
        self.committed.clone_from(committed);
    }
}

/// The broker's durable state.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct BrokerDb {
    /// One log per partition.
    pub partitions: Vec<PartitionLog>,
    /// Dedup ids appended so far (only with `dedup_appends`).
    pub appended_ids: IdSet,
    /// When the queue last accepted each dedup id (only with a
    /// deduplication interval).
    pub accepted_at: BTreeMap<u64, SimTime>,
    /// M6: per (producer, session, partition), the batches appended.
    pub sessions: BTreeMap<(u32, u32, u32), SeqWindow>,
    /// M12: the lease and the storage.
    pub lease: LeaseDb,
    /// Whether producer state was ever evicted (F-expire), so that an
    /// unknown session may start at any sequence number.
    pub producer_state_lost: bool,
    /// M7: transactional ids and their output logs.
    pub txn: TxnDb,
    /// The consumer each partition is assigned to (F-rebalance moves
    /// them).
    pub owners: Vec<ActorId>,
}

impl Clone for BrokerDb {
    fn clone(&self) -> Self {
        let mut copy = BrokerDb::default();
        copy.clone_from(self);
        copy
    }

    /// Field by field, reusing the buffers: an exploring search copies
    /// every state once per successor.
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let BrokerDb {
            partitions,
            appended_ids,
            accepted_at,
            sessions,
            lease,
            producer_state_lost,
            txn,
            owners,
        } = source;
        self.partitions.clone_from(partitions);
        self.appended_ids.clone_from(appended_ids);
        self.accepted_at.clone_from(accepted_at);
        self.sessions.clone_from(sessions);
        self.lease.clone_from(lease);
        self.producer_state_lost = *producer_state_lost;
        self.txn.clone_from(txn);
        self.owners.clone_from(owners);
    }
}

impl BrokerDb {
    /// Forget the dedup state (F-expire: producer state evicted, a failover
    /// without a snapshot): M6's sessions and the appended ids; returns how
    /// many entries went.
    pub fn evict_dedup_state(&mut self) -> u64 {
        let n = self.sessions.len() + self.appended_ids.len() + self.accepted_at.len();
        self.sessions.clear();
        self.appended_ids = IdSet::default();
        self.accepted_at.clear();
        self.producer_state_lost = true;
        n as u64
    }

    /// Append `rec` to `partition`; returns its offset.
    fn append(&mut self, partition: u32, rec: Record) -> u64 {
        let log = &mut self.partitions[partition as usize];
        log.records.push(rec);
        log.committed.push(false);
        log.records.len() as u64 - 1
    }
}

/// How many batches per producer session and partition the broker
/// remembers (Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`).
pub const BATCHES_RETAINED: usize = 5;

/// M6: what the broker remembers of one producer session on a partition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqWindow {
    /// The last batch appended.
    pub last: u64,
    /// The last [`BATCHES_RETAINED`] batches appended, oldest first.
    pub recent: Vec<u64>,
}

/// What the broker does with an idempotent batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Admit {
    /// The next in sequence (or 0 for a new session): append it.
    Append,
    /// One of the batches it remembers: ack it again, append nothing.
    Duplicate,
    /// Ahead of the sequence: an earlier batch is missing; drop it.
    Gap,
    /// Behind the sequence and forgotten: `OutOfOrderSequence`.
    OutOfOrder,
}

impl Admit {
    fn of(window: Option<&SeqWindow>, seq: u64) -> Admit {
        match window {
            None if seq == 0 => Admit::Append,
            None => Admit::Gap,
            Some(w) if w.recent.contains(&seq) => Admit::Duplicate,
            Some(w) if seq == w.last + 1 => Admit::Append,
            Some(w) if seq > w.last + 1 => Admit::Gap,
            Some(_) => Admit::OutOfOrder,
        }
    }
}

/// The broker's volatile state: one redelivery timer per uncommitted record
/// (per partition for M7's transactional tasks).
#[derive(Debug, Default, Hash)]
pub struct BrokerVol {
    timers: Vec<Vec<Option<TimerId>>>,
    /// M7: per partition, the timer that redelivers its uncommitted records
    /// when none was committed for a redelivery timeout.
    stalled: Vec<Option<TimerId>>,
    /// M12: when the lease was last renewed.
    pub(super) lease: LeaseVol,
    /// The log as written, ahead of the disk (a deferred flush policy
    /// only; `None` until the first handler after a start).
    unflushed: Option<Box<BrokerDb>>,
    /// How many records of each partition are on disk (a deferred flush
    /// policy only): consumers read no further.
    flushed: Vec<usize>,
    /// The pending periodic flush.
    flush_timer: Option<TimerId>,
}

impl Clone for BrokerVol {
    fn clone(&self) -> Self {
        let mut copy = BrokerVol::default();
        copy.clone_from(self);
        copy
    }

    /// Field by field, reusing the buffers, as for [`BrokerDb`].
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let BrokerVol {
            timers,
            stalled,
            lease,
            unflushed,
            flushed,
            flush_timer,
        } = source;
        self.timers.clone_from(timers);
        self.stalled.clone_from(stalled);
        self.lease.clone_from(lease);
        self.unflushed.clone_from(unflushed);
        self.flushed.clone_from(flushed);
        self.flush_timer = *flush_timer;
    }
}

impl BrokerDb {
    /// The logs in a few words, for reports: per partition, its records and
    /// the offsets not yet committed.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .partitions
            .iter()
            .enumerate()
            .map(|(p, log)| {
                let open: Vec<String> = log
                    .committed
                    .iter()
                    .enumerate()
                    .filter(|(_, done)| !**done)
                    .map(|(o, _)| format!("{o} ({})", log.records[o].key))
                    .collect();
                format!(
                    "partition {p}: {} records, uncommitted offsets: {}",
                    log.records.len(),
                    super::consumer::listed(&open)
                )
            })
            .collect();
        let mut parts = parts;
        parts.extend(self.lease.describe());
        // A broker without transactions keeps an unused log at epoch 0.
        parts.extend(
            self.txn
                .ids
                .iter()
                .enumerate()
                .filter(|(_, log)| log.epoch > 0 || !log.output.is_empty())
                .map(|(i, log)| log.describe(i)),
        );
        parts.join(" · ")
    }
}

impl BrokerVol {
    /// F-expire reaches the log in memory as it reaches the disk.
    pub(super) fn evict_unflushed_dedup_state(&mut self) {
        if let Some(log) = &mut self.unflushed {
            log.evict_dedup_state();
        }
    }

    /// The volatile state in a few words, for reports.
    pub fn describe(&self) -> String {
        let armed: usize = self
            .timers
            .iter()
            .flatten()
            .chain(&self.stalled)
            .filter(|t| t.is_some())
            .count();
        let unflushed = match &self.unflushed {
            Some(log) => {
                let written: usize = log.partitions.iter().map(|p| p.records.len()).sum();
                let flushed: usize = self.flushed.iter().sum();
                format!(" · records not yet flushed: {}", written - flushed)
            }
            None => String::new(),
        };
        format!("redelivery timers armed: {armed}{unflushed}")
    }
}

impl Broker {
    pub(super) fn init_durable(&self) -> BrokerDb {
        let log = || PartitionLog {
            records: Vec::with_capacity(self.expected_records),
            committed: Vec::with_capacity(self.expected_records),
        };
        BrokerDb {
            partitions: (0..self.consumers.len()).map(|_| log()).collect(),
            appended_ids: IdSet::default(),
            accepted_at: BTreeMap::new(),
            sessions: BTreeMap::new(),
            lease: LeaseDb {
                token: 1,
                ..LeaseDb::default()
            },
            txn: TxnDb {
                ids: vec![TxnLog::default(); self.txn_logs()],
                ..TxnDb::default()
            },
            producer_state_lost: false,
            owners: self.consumers.clone(),
        }
    }

    /// After a (re)start, every uncommitted record is delivered again.
    pub(super) fn start<C: Choices>(&self, db: &BrokerDb, ctx: &mut Ctx<'_, Node, C>) -> BrokerVol {
        let mut v = BrokerVol {
            timers: db
                .partitions
                .iter()
                .map(|p| {
                    let mut timers = Vec::with_capacity(self.expected_records.max(p.records.len()));
                    timers.resize(p.records.len(), None);
                    timers
                })
                .collect(),
            stalled: vec![None; db.partitions.len()],
            lease: LeaseVol::default(),
            unflushed: None,
            flushed: db.partitions.iter().map(|p| p.records.len()).collect(),
            flush_timer: None,
        };
        if ctx.life() > 0 {
            for (partition, log) in db.partitions.iter().enumerate() {
                ctx.observe(Obs::LogRecovered {
                    partition: to_u32(partition),
                    records: log.records.len() as u64,
                });
                let torn = log.records.iter().enumerate();
                for (offset, rec) in torn.filter(|(_, r)| r.key.producer >= self.producers) {
                    ctx.observe(Obs::TornRecord {
                        partition: to_u32(partition),
                        offset: offset as u64,
                        key: rec.key,
                    });
                }
            }
        }
        self.lease_start(&mut v, ctx);
        self.redeliver_all(db, &mut v, ctx);
        v
    }

    /// Deliver every uncommitted record.
    pub(super) fn redeliver_all<C: Choices>(
        &self,
        db: &BrokerDb,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) {
        for p in 0..db.partitions.len() {
            self.redeliver_partition(db, v, ctx, p);
        }
    }

    /// Deliver every uncommitted record of partition `p`.
    pub(super) fn redeliver_partition<C: Choices>(
        &self,
        db: &BrokerDb,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        p: usize,
    ) {
        // The partition's stall timeout starts again with the deliveries.
        if let Some(t) = v.stalled.get_mut(p).and_then(Option::take) {
            ctx.cancel_timer(t);
        }
        let log = &db.partitions[p];
        let readable = self.readable(v, p, log);
        for (o, rec) in log.records.iter().enumerate().take(readable) {
            if !log.committed[o] {
                self.deliver(db, v, ctx, to_u32(p), o as u64, *rec);
            }
        }
    }

    pub(super) fn on_msg<C: Choices>(
        &self,
        mut db: Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        src: ActorId,
        msg: Msg,
    ) -> Step {
        if let Msg::TxnProduce { partition, .. } | Msg::EndTxn(EndTxn { partition, .. }) = msg {
            self.heard_from_task(db.get(), v, ctx, src, partition);
        }
        match msg {
            Msg::Produce { key, dedup_id } => {
                self.on_produce(&mut db, v, ctx, src, Record { key, dedup_id })?;
            }
            Msg::ProduceIdempotent {
                key,
                dedup_id,
                session,
                seq,
            } => {
                let batch = (Record { key, dedup_id }, session, seq);
                self.on_produce_idempotent(&mut db, v, ctx, src, batch)?;
            }
            Msg::Write {
                key,
                token,
                partition,
                offset,
            } => self.on_write(&mut db, v, ctx, src, (key, token, partition, offset)),
            Msg::InitTxn { partition, nonce } => {
                self.on_init_txn(&mut db, ctx, src, (partition, nonce));
            }
            Msg::TxnProduce {
                partition,
                key,
                tag,
                epoch,
            } => self.on_txn_produce(&mut db, ctx, src, (partition, key, tag, epoch)),
            Msg::EndTxn(end) => self.on_end_txn(&mut db, v, ctx, src, end),
            Msg::Fetch { nonce } => self.on_fetch(db.get(), v, ctx, src, nonce),
            Msg::OffsetCommit {
                partition,
                offset,
                request,
            } => {
                self.renew(db.get(), v, ctx.clock(), src);
                let commit = (partition, offset, request);
                self.on_offset_commit(&mut db, v, ctx, src, commit);
            }
            _ => {}
        }
        Ok(())
    }

    fn on_produce<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        producer: ActorId,
        rec: Record,
    ) -> Step {
        let partition = self.partition_of(rec.key);
        let dedup = self.dedup_appends;
        // Only a queue with a deduplication window reads its clock.
        let window = self.dedup_window.map(|w| (w, ctx.clock()));
        let (offset, late) = db.transaction(|d| {
            if dedup && !d.appended_ids.insert(rec.dedup_id) {
                return (None, None);
            }
            let Some((window, now)) = window else {
                return (Some(d.append(partition, rec)), None);
            };
            let age = d.accepted_at.get(&rec.dedup_id).map(|t| now.since(*t));
            if age.is_some_and(|age| age < window) {
                return (None, None);
            }
            d.accepted_at.insert(rec.dedup_id, now);
            (Some(d.append(partition, rec)), age.map(|age| (age, window)))
        });
        if let Some((age, window)) = late {
            ctx.observe(Obs::LateCopy {
                key: rec.key,
                age,
                window,
            });
        }
        if let Some(offset) = offset {
            self.appended(db.get(), v, ctx, partition, offset, rec);
        }
        let ack = Msg::ProduceAck { key: rec.key };
        self.acknowledge(ctx, producer, (rec.key, ack), offset.is_some())
    }

    /// Send the ack of `key`'s produce, passing the crash point the flush
    /// policy puts on its side when the produce appended.
    fn acknowledge<C: Choices>(
        &self,
        ctx: &mut Ctx<'_, Node, C>,
        producer: ActorId,
        (key, ack): (MsgKey, Msg),
        appended: bool,
    ) -> Step {
        // The broker has one crash point or none: which one its flush says.
        let passes = appended && !self.crash_points.is_empty();
        if passes && !self.flush.defers() {
            crash_point(ctx, key, AFTER_FLUSH_BEFORE_ACK)?;
        }
        ctx.send(producer, ack);
        if passes && self.flush.defers() {
            crash_point(ctx, key, AFTER_ACK_BEFORE_FLUSH)?;
        }
        Ok(())
    }

    /// Observe an append and deliver the record.
    fn appended<C: Choices>(
        &self,
        db: &BrokerDb,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        partition: u32,
        offset: u64,
        rec: Record,
    ) {
        ctx.observe(Obs::Append {
            key: rec.key,
            partition,
            offset,
            copy: ctx.is_network_copy(),
        });
        v.timers[partition as usize].push(None);
        // A record waiting for its flush is delivered by the flush.
        if !self.reads_only_flushed() {
            self.deliver(db, v, ctx, partition, offset, rec);
        }
    }

    /// M6: append batch `seq` of `session` once and in sequence; remember
    /// the last [`BATCHES_RETAINED`] batches to answer their retries.
    fn on_produce_idempotent<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        producer: ActorId,
        (rec, session, seq): (Record, u32, u64),
    ) -> Step {
        let partition = self.partition_of(rec.key);
        let id = (rec.key.producer, session, partition);
        let admit = db.transaction(|d| {
            let admit = match Admit::of(d.sessions.get(&id), seq) {
                // Once producer state was evicted, a sequence the broker
                // cannot place (an unknown session not at 0, or a gap) is
                // taken as the next: after Kafka's UNKNOWN_PRODUCER_ID the
                // client resets its sequence numbers.
                Admit::Gap if d.producer_state_lost => Admit::Append,
                admit => admit,
            };
            if admit == Admit::Append {
                let w = d.sessions.entry(id).or_default();
                w.last = seq;
                w.recent.push(seq);
                if w.recent.len() > BATCHES_RETAINED {
                    w.recent.remove(0);
                }
                return (admit, Some(d.append(partition, rec)));
            }
            (admit, None)
        });
        let ack = Msg::SessionAck {
            key: rec.key,
            session,
        };
        match admit {
            (Admit::Append, Some(offset)) => {
                self.appended(db.get(), v, ctx, partition, offset, rec);
                return self.acknowledge(ctx, producer, (rec.key, ack), true);
            }
            (Admit::Duplicate, _) => ctx.send(producer, ack),
            (Admit::OutOfOrder, _) => {
                let msg = Msg::OutOfOrderSequence {
                    key: rec.key,
                    session,
                };
                ctx.send(producer, msg);
            }
            // A gap: an earlier batch is still on its way; the producer
            // retries this one.
            _ => {}
        }
        Ok(())
    }

    /// A restarted consumer's fetch: answer it, then deliver again, in
    /// offset order, every uncommitted record of the partitions it is
    /// assigned (or holds the lease of).
    fn on_fetch<C: Choices>(
        &self,
        db: &BrokerDb,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        consumer: ActorId,
        nonce: u64,
    ) {
        ctx.send(consumer, Msg::Fetched { nonce });
        for p in 0..db.partitions.len() {
            if self.lease_target(db, to_u32(p)).0 == consumer {
                self.redeliver_partition(db, v, ctx, p);
            }
        }
    }

    pub(super) fn on_offset_commit<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        consumer: ActorId,
        (partition, offset, request): (u32, u64, u64),
    ) {
        let (p, o) = (partition as usize, to_usize(offset));
        // A commit of a record the broker lost in a crash (consumers that
        // read unflushed records) marks nothing: the offset is free.
        if o >= db.get().partitions[p].committed.len() {
            return;
        }
        let first = db.transaction(|d| !std::mem::replace(&mut d.partitions[p].committed[o], true));
        if first {
            ctx.observe(Obs::OffsetCommit { partition, offset });
        }
        if let Some(t) = v.timers[p][o].take() {
            ctx.cancel_timer(t);
        }
        if self.txn.is_some() {
            // Progress: the stall timeout starts again, if anything is left.
            if let Some(t) = v.stalled[p].take() {
                ctx.cancel_timer(t);
            }
            if db.get().partitions[p].committed.contains(&false) {
                self.arm_stalled(v, ctx, partition);
            }
        }
        if self.confirm_offset_commits {
            ctx.send(
                consumer,
                Msg::OffsetCommitAck {
                    partition,
                    offset,
                    first,
                    request,
                },
            );
        }
    }

    /// Run a handler on the log as written: the disk itself when each
    /// write is flushed before its ack; else the log in memory, which the
    /// disk catches up with right after the handler ([`Flush::AfterAck`])
    /// or by a timer ([`Flush::Periodic`]).
    pub(super) fn handle<C: Choices>(
        &self,
        mut disk: Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        handler: impl FnOnce(Store<'_, BrokerDb>, &mut BrokerVol, &mut Ctx<'_, Node, C>) -> Step,
    ) -> Step {
        if !self.flush.defers() {
            return handler(disk, v, ctx);
        }
        let mut log = v
            .unflushed
            .take()
            .unwrap_or_else(|| Box::new(disk.get().clone()));
        handler(Store::new(&mut log), v, ctx)?;
        let written = *log != *disk.get();
        v.unflushed = Some(log);
        match self.flush {
            Flush::AfterAck if written => self.flush(&mut disk, v, ctx)?,
            Flush::Periodic(every) if written && v.flush_timer.is_none() => {
                v.flush_timer = Some(ctx.set_timer(every, Timer::Flush));
            }
            _ => {}
        }
        Ok(())
    }

    /// Write the log in memory to disk, then deliver the records that
    /// just became readable.
    fn flush<C: Choices>(
        &self,
        disk: &mut Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        let Some(log) = v.unflushed.take() else {
            return Ok(());
        };
        if !self.checksums {
            self.torn_write(disk, v, ctx, &log)?;
        }
        disk.transaction(|d| d.clone_from(&log));
        for (p, part) in log.partitions.iter().enumerate() {
            let from = std::mem::replace(&mut v.flushed[p], part.records.len());
            if !self.reads_only_flushed() {
                continue;
            }
            for o in from..part.records.len() {
                if !part.committed[o] {
                    self.deliver(&log, v, ctx, to_u32(p), o as u64, part.records[o]);
                }
            }
        }
        v.unflushed = Some(log);
        Ok(())
    }

    /// The crash point of a flush without checksums: when it fires, the
    /// flush, which writes the partitions in order, had written everything
    /// but the last record of the last partition with new records, which
    /// it tore: on disk, that record's bytes read as a message of no
    /// producer (producer index `producers` + its own, so that two torn
    /// records read as two messages), with an id of its own.
    fn torn_write<C: Choices>(
        &self,
        disk: &mut Store<'_, BrokerDb>,
        v: &BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        log: &BrokerDb,
    ) -> Step {
        // The last record the flush writes.
        let last = log
            .partitions
            .iter()
            .enumerate()
            .filter(|(p, part)| part.records.len() > v.flushed[*p])
            .map(|(p, part)| (p, part.records.len() - 1))
            .next_back();
        let Some((p, o)) = last else {
            return Ok(());
        };
        let rec = log.partitions[p].records[o];
        let step = crash_point(ctx, rec.key, DURING_FLUSH);
        if step.is_err() {
            let mut torn = log.clone();
            let key = MsgKey {
                producer: self.producers + rec.key.producer,
                seq: rec.key.seq,
            };
            let dedup_id = u64::try_from(key.index(self.messages)).expect("a table index");
            torn.partitions[p].records[o] = Record { key, dedup_id };
            // The record's id went to disk with it, torn too: a retry of
            // the message is new to the broker that comes back.
            torn.appended_ids.remove(rec.dedup_id);
            torn.accepted_at.remove(&rec.dedup_id);
            disk.transaction(|d| d.clone_from(&torn));
        }
        step
    }

    /// Records of partition `p` a consumer may read: those on disk, unless
    /// consumers read the log in memory.
    fn readable(&self, v: &BrokerVol, p: usize, log: &PartitionLog) -> usize {
        if self.reads_only_flushed() {
            v.flushed[p]
        } else {
            log.records.len()
        }
    }

    /// Whether consumers wait for records to reach the disk: a deferred
    /// flush, read up to the high watermark.
    fn reads_only_flushed(&self) -> bool {
        self.flush.defers() && !self.read_unflushed
    }

    /// A timer: the periodic flush works on the disk, every other timer
    /// through [`Broker::handle`].
    pub(super) fn timer<C: Choices>(
        &self,
        mut disk: Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        timer: Timer,
    ) -> Step {
        if timer == Timer::Flush {
            v.flush_timer = None;
            return self.flush(&mut disk, v, ctx);
        }
        self.handle(disk, v, ctx, |db, v, ctx| self.on_timer(db, v, ctx, timer))
    }

    fn on_timer<C: Choices>(
        &self,
        mut db: Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        timer: Timer,
    ) -> Step {
        match timer {
            Timer::Redeliver { partition, offset } => {
                let log = &db.get().partitions[partition as usize];
                let o = to_usize(offset);
                if !log.committed[o] {
                    self.deliver(db.get(), v, ctx, partition, offset, log.records[o]);
                }
            }
            Timer::LeaseCheck => self.lease_check(&mut db, v, ctx),
            Timer::Stalled { partition } => {
                v.stalled[partition as usize] = None;
                self.redeliver_partition(db.get(), v, ctx, partition as usize);
            }
            _ => {}
        }
        Ok(())
    }

    fn deliver<C: Choices>(
        &self,
        db: &BrokerDb,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        partition: u32,
        offset: u64,
        rec: Record,
    ) {
        let (key, dedup_id) = (rec.key, rec.dedup_id);
        let msg = match self.lease_target(db, partition) {
            (consumer, Some(token)) => (
                consumer,
                Msg::DeliverLeased {
                    partition,
                    offset,
                    key,
                    dedup_id,
                    token,
                },
            ),
            (consumer, None) => (
                consumer,
                Msg::Deliver {
                    partition,
                    offset,
                    key,
                    dedup_id,
                },
            ),
        };
        ctx.send(msg.0, msg.1);
        if self.txn.is_some() {
            // A transactional task reads its partition in offset order, as a
            // Kafka consumer fetches it: the broker delivers a record again
            // only when the partition stalls (nothing heard from its task
            // and no offset committed for a redelivery timeout: a delivery
            // or the task was lost), and then every uncommitted record, in
            // order. Per-record timers would send a task that is merely
            // behind records it already has.
            if v.stalled[partition as usize].is_none() {
                self.arm_stalled(v, ctx, partition);
            }
            return;
        }
        // One redelivery timer per record: a delivery made early (to a new
        // lease holder) replaces the one pending.
        let slot = &mut v.timers[partition as usize][to_usize(offset)];
        if let Some(t) = slot.take() {
            ctx.cancel_timer(t);
        }
        let timer = ctx.set_timer(self.redeliver, Timer::Redeliver { partition, offset });
        v.timers[partition as usize][to_usize(offset)] = Some(timer);
    }

    /// A transaction's request from the task that owns `partition`: it is
    /// at work on a record, so the partition's stall timeout starts again.
    /// (Not `initTransactions`: a task waiting for a record it lost asks
    /// that again and again, and must get its records.)
    fn heard_from_task<C: Choices>(
        &self,
        db: &BrokerDb,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        task: ActorId,
        partition: u32,
    ) {
        let p = partition as usize;
        if db.owners.get(p) != Some(&task) {
            return;
        }
        if let Some(t) = v.stalled[p].take() {
            ctx.cancel_timer(t);
            self.arm_stalled(v, ctx, partition);
        }
    }

    /// Arm the stall timeout of a transactional task's partition.
    fn arm_stalled<C: Choices>(
        &self,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        partition: u32,
    ) {
        let timer = ctx.set_timer(self.redeliver, Timer::Stalled { partition });
        v.stalled[partition as usize] = Some(timer);
    }

    fn partition_of(&self, key: MsgKey) -> u32 {
        self.model.partition_of(key, to_u32(self.consumers.len()))
    }
}

pub(super) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).expect("partition counts are validated")
}

fn to_usize(offset: u64) -> usize {
    usize::try_from(offset).expect("offsets index an in-memory log")
}
