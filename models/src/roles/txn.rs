//! M7's transactions, split between the broker (transaction coordinator,
//! output log and its downstream reader) and the consumers (transactional
//! tasks). See [`crate::protocols::m7_transactions`].
//!
//! A task reads its partition in offset order and handles one record per
//! transaction: produce the output, EndTxn(commit) with the input offset.
//! The broker keeps one output log per transactional id (one per
//! partition; with `M7Unfenced`, one per consumer and partition). Its reader reads a `read_committed` log up to the last
//! stable offset (the first record of a transaction still open), and a
//! `read_uncommitted` log as records are appended, as it reads a
//! `read_committed` one when the broker serves fetches past the LSO
//! (`M7FetchPastLso`); every output record read is its message's effect.

use std::collections::BTreeMap;

use sim_core::{ActorId, Choices, Ctx, SimTime, Step, Store, TimerId};

use super::broker::{Broker, BrokerDb, BrokerVol};
use super::consumer::{Consumer, ConsumerDb, ConsumerVol};
use super::{Msg, Node, Timer, crash_point};
use crate::history::Obs;
use crate::protocols::m7_transactions::{
    AFTER_END_TXN_BEFORE_ACK, AFTER_PRODUCE_BEFORE_END_TXN, TXN_REQUEST_TIMEOUT, TxnRules,
};
use crate::vocab::{MsgKey, TxnTag};

/// Where an output record's transaction stands at the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutState {
    /// Its transaction is open.
    Open,
    /// Its transaction committed.
    Committed,
    /// Its transaction aborted.
    Aborted,
}

/// A record of an output log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OutRecord {
    /// The input message it was produced for.
    pub key: MsgKey,
    /// The task's attempt that produced it.
    pub tag: TxnTag,
    /// Its offset in the output log.
    pub offset: u64,
    /// Its transaction's state.
    pub state: OutState,
}

/// One transactional id at the broker: its epoch, its output log and its
/// open transaction.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct TxnLog {
    /// The current producer epoch.
    pub epoch: u32,
    /// The output records, by offset.
    pub output: Vec<OutRecord>,
    /// Offsets of the open transaction's records.
    pub open: Vec<usize>,
    /// The last transaction ended: the attempt that ended it, and whether
    /// it committed (KIP-890 answers a retried EndTxn from this).
    pub last_end: Option<(TxnTag, bool)>,
    /// The last stable offset: every record below it has ended.
    pub lso: usize,
}

/// M7's durable state at the broker.
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct TxnDb {
    /// One per transactional id (see `Broker::txn_log`).
    pub ids: Vec<TxnLog>,
    /// How many output records the reader has read, per message.
    pub reads: BTreeMap<MsgKey, u32>,
}

impl Clone for TxnLog {
    fn clone(&self) -> Self {
        let mut copy = TxnLog::default();
        copy.clone_from(self);
        copy
    }

    /// Field by field, reusing the buffers: an exploring search copies
    /// every state once per successor.
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let TxnLog {
            epoch,
            output,
            open,
            last_end,
            lso,
        } = source;
        self.epoch = *epoch;
        self.output.clone_from(output);
        self.open.clone_from(open);
        self.last_end = *last_end;
        self.lso = *lso;
    }
}

impl Clone for TxnDb {
    fn clone(&self) -> Self {
        TxnDb {
            ids: self.ids.clone(),
            reads: self.reads.clone(),
        }
    }

    /// Reuses the logs' buffers, as [`TxnLog`] does.
    fn clone_from(&mut self, source: &Self) {
        let TxnDb { ids, reads } = source;
        self.ids.clone_from(ids);
        self.reads.clone_from(reads);
    }
}

impl TxnLog {
    /// The log in a few words, for reports: epoch, LSO, and the open
    /// transaction's records.
    pub fn describe(&self, index: usize) -> String {
        let open: Vec<String> = self
            .open
            .iter()
            .map(|&o| format!("{} ({})", self.output[o].key, self.output[o].tag))
            .collect();
        format!(
            "transactional id {}: epoch {}, {} output records, LSO {}, open transaction: {}",
            index + 1,
            self.epoch,
            self.output.len(),
            self.lso,
            super::consumer::listed(&open)
        )
    }

    /// End the open transaction; returns the records it held.
    fn end_open(&mut self, commit: bool) -> Vec<OutRecord> {
        let state = if commit {
            OutState::Committed
        } else {
            OutState::Aborted
        };
        std::mem::take(&mut self.open)
            .into_iter()
            .map(|o| {
                self.output[o].state = state;
                self.output[o]
            })
            .collect()
    }

    /// Move the LSO past every ended record; returns the committed records
    /// passed.
    fn advance_lso(&mut self) -> Vec<OutRecord> {
        let mut passed = Vec::new();
        while let Some(r) = self.output.get(self.lso) {
            match r.state {
                OutState::Open => break,
                OutState::Committed => passed.push(*r),
                OutState::Aborted => {}
            }
            self.lso += 1;
        }
        passed
    }
}

/// A task's request to end its open transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EndTxn {
    /// The partition (the transactional id).
    pub partition: u32,
    /// The input record's offset.
    pub offset: u64,
    /// The input message.
    pub key: MsgKey,
    /// The task's attempt.
    pub tag: TxnTag,
    /// The task's epoch.
    pub epoch: u32,
    /// Commit (else abort).
    pub commit: bool,
}

impl Broker {
    fn rules(&self) -> TxnRules {
        self.txn.expect("only M7's broker handles transactions")
    }

    /// `initTransactions`: bump the epoch, abort what a previous instance
    /// left open, answer with the epoch and the committed position.
    pub(super) fn on_init_txn<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        ctx: &mut Ctx<'_, Node, C>,
        task: ActorId,
        (partition, nonce): (u32, u64),
    ) {
        let p = partition as usize;
        if !self.owner_or_fenced(db.get(), ctx, (partition, task), None) {
            ctx.send(task, Msg::NotAssigned { partition });
            return;
        }
        let l = self.txn_log(p, task);
        let fenced = self.rules().fenced;
        let (epoch, aborted) = db.transaction(|d| {
            // Distinct transactional ids get distinct producer ids: with
            // several ids per partition, a session's epoch is new across
            // all of them, so that no two sessions share a name.
            let next = if fenced {
                d.txn.ids[l].epoch + 1
            } else {
                d.txn.ids.iter().map(|t| t.epoch).max().unwrap_or(0) + 1
            };
            let t = &mut d.txn.ids[l];
            t.epoch = next;
            (t.epoch, t.end_open(false))
        });
        self.ended(db, ctx, l, &aborted, TxnTag::default());
        let log = &db.get().partitions[p];
        let position = log
            .committed
            .iter()
            .position(|c| !c)
            .unwrap_or(log.committed.len());
        let ack = Msg::InitTxnAck {
            partition,
            nonce,
            epoch,
            position: position as u64,
        };
        ctx.send(task, ack);
    }

    /// A produce within a transaction: refused from an old epoch, else
    /// appended to the open transaction (once per attempt: the idempotent
    /// producer's sequence numbers drop a network duplicate).
    pub(super) fn on_txn_produce<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        ctx: &mut Ctx<'_, Node, C>,
        task: ActorId,
        (partition, key, tag, epoch): (u32, MsgKey, TxnTag, u32),
    ) {
        let p = partition as usize;
        let l = self.txn_log(p, task);
        let owner = self.owner_or_fenced(db.get(), ctx, (partition, task), Some(key));
        if !owner || !self.admitted(db.get(), ctx, (l, task), key, epoch) {
            ctx.send(task, Msg::TxnFenced { key, tag });
            return;
        }
        let appended = db.transaction(|d| {
            let t = &mut d.txn.ids[l];
            let known = t.open.iter().any(|o| t.output[*o].tag == tag);
            (!known).then(|| {
                let rec = OutRecord {
                    key,
                    tag,
                    offset: t.output.len() as u64,
                    state: OutState::Open,
                };
                t.open.push(t.output.len());
                t.output.push(rec);
                rec
            })
        });
        if let Some(rec) = appended {
            ctx.observe(Obs::TxnAppend {
                key,
                tag,
                log: u16::try_from(l).expect("few transactional ids"),
                offset: u32::try_from(rec.offset).expect("an output log under 2^32 records"),
            });
            if !self.rules().read_committed || self.rules().fetch_past_lso {
                self.read(db, ctx, rec, false);
            }
        }
        ctx.send(task, Msg::TxnProduceAck { key, tag });
    }

    /// EndTxn: refused from an old epoch (KIP-890 answers the retry of the
    /// transaction that just ended instead); else end the open
    /// transaction, storing the input offset with a commit.
    pub(super) fn on_end_txn<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        v: &mut BrokerVol,
        ctx: &mut Ctx<'_, Node, C>,
        task: ActorId,
        end: EndTxn,
    ) {
        let p = end.partition as usize;
        if !self.owner_or_fenced(db.get(), ctx, (end.partition, task), Some(end.key)) {
            let fenced = Msg::TxnFenced {
                key: end.key,
                tag: end.tag,
            };
            ctx.send(task, fenced);
            return;
        }
        let rules = self.rules();
        let l = self.txn_log(p, task);
        let t = &db.get().txn.ids[l];
        let retried = rules.epoch_per_transaction
            && end.epoch + 1 == t.epoch
            && t.last_end == Some((end.tag, end.commit));
        if retried {
            let epoch = t.epoch;
            ctx.send(task, end_ack(end, epoch));
            return;
        }
        if !self.admitted(db.get(), ctx, (l, task), end.key, end.epoch) {
            let fenced = Msg::TxnFenced {
                key: end.key,
                tag: end.tag,
            };
            ctx.send(task, fenced);
            return;
        }
        let (epoch, ended) = db.transaction(|d| {
            let t = &mut d.txn.ids[l];
            let ended = t.end_open(end.commit);
            t.last_end = Some((end.tag, end.commit));
            if rules.epoch_per_transaction {
                t.epoch += 1;
            }
            (t.epoch, ended)
        });
        if end.commit {
            self.on_offset_commit(db, v, ctx, task, (end.partition, end.offset, 0));
        }
        self.ended(db, ctx, l, &ended, end.tag);
        ctx.send(task, end_ack(end, epoch));
    }

    /// Whether `task` may act for partition `p`: without a group always; in
    /// a group only the partition's owner (KIP-447's generation fencing:
    /// the group coordinator refuses a consumer whose generation is past),
    /// unless the model sends offsets without the group's metadata.
    fn owns(&self, db: &BrokerDb, p: usize, task: ActorId) -> bool {
        !self.rules().fenced || self.group.is_empty() || db.owners[p] == task
    }

    /// Whether `task` may act for `partition` (see [`Broker::owns`]); a
    /// refusal is observed, for C13, with the message the request was
    /// about.
    fn owner_or_fenced<C: Choices>(
        &self,
        db: &BrokerDb,
        ctx: &mut Ctx<'_, Node, C>,
        (partition, task): (u32, ActorId),
        key: Option<MsgKey>,
    ) -> bool {
        let owner = self.owns(db, partition as usize, task);
        if !owner {
            ctx.observe(Obs::GenerationFenced {
                key,
                partition,
                from: task,
            });
        }
        owner
    }

    /// The transactional id (an index of `TxnDb::ids`) `task` uses for
    /// partition `p`: the partition's own, or with an id per consumer
    /// process (`M7Unfenced`), one per (consumer, partition).
    pub(super) fn txn_log(&self, p: usize, task: ActorId) -> usize {
        if self.rules().fenced {
            return p;
        }
        let members = if self.group.is_empty() {
            &self.consumers
        } else {
            &self.group
        };
        let member = members
            .iter()
            .position(|m| *m == task)
            .expect("transactional requests come from consumers");
        member * self.consumers.len() + p
    }

    /// How many transactional ids there are (see [`Broker::txn_log`]).
    pub(super) fn txn_logs(&self) -> usize {
        let partitions = self.consumers.len();
        match self.txn {
            Some(r) if !r.fenced => partitions * self.group.len().max(partitions),
            _ => partitions,
        }
    }

    /// Whether a request of `epoch` from `writer` is current for
    /// transactional id `l` (fencing); observed as a write under a token,
    /// for C13.
    fn admitted<C: Choices>(
        &self,
        db: &BrokerDb,
        ctx: &mut Ctx<'_, Node, C>,
        (l, writer): (usize, ActorId),
        key: MsgKey,
        epoch: u32,
    ) -> bool {
        let current = db.txn.ids[l].epoch;
        let accepted = epoch >= current;
        ctx.observe(Obs::TokenWrite {
            key,
            writer,
            token: u64::from(epoch),
            highest: u64::from(current),
            accepted,
        });
        accepted
    }

    /// Records whose transaction `by` ended (`session` 0: by
    /// `initTransactions`): report them, and let a `read_committed` reader
    /// read up to the new LSO.
    fn ended<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        ctx: &mut Ctx<'_, Node, C>,
        l: usize,
        ended: &[OutRecord],
        by: TxnTag,
    ) {
        for r in ended {
            ctx.observe(Obs::TxnEnded {
                key: r.key,
                tag: r.tag,
                log: u16::try_from(l).expect("few transactional ids"),
                offset: u32::try_from(r.offset).expect("an output log under 2^32 records"),
                by,
                committed: r.state == OutState::Committed,
            });
        }
        let passed = db.transaction(|d| d.txn.ids[l].advance_lso());
        if self.rules().read_committed && !self.rules().fetch_past_lso {
            for r in passed {
                self.read(db, ctx, r, true);
            }
        }
    }

    /// The downstream reader reads `rec`: an effect of its message.
    fn read<C: Choices>(
        &self,
        db: &mut Store<'_, BrokerDb>,
        ctx: &mut Ctx<'_, Node, C>,
        rec: OutRecord,
        committed: bool,
    ) {
        let count = db.transaction(|d| {
            let n = d.txn.reads.entry(rec.key).or_default();
            *n += 1;
            *n
        });
        ctx.observe(Obs::TxnRead {
            key: rec.key,
            tag: rec.tag,
            committed,
            read_committed: self.rules().read_committed,
        });
        if !self.rules().external_effect {
            ctx.observe(Obs::Effect {
                key: rec.key,
                count,
            });
        }
    }
}

fn end_ack(end: EndTxn, epoch: u32) -> Msg {
    Msg::EndTxnAck {
        key: end.key,
        tag: end.tag,
        commit: end.commit,
        epoch,
    }
}

/// The transaction a task is in.
#[derive(Clone, Copy, Debug, Hash)]
struct Current {
    tag: TxnTag,
    key: MsgKey,
    offset: u64,
    stage: Stage,
}

impl Stage {
    fn describe(self) -> &'static str {
        match self {
            Stage::Producing => "awaiting the produce ack",
            Stage::Committing => "awaiting the commit ack",
            Stage::Aborting => "awaiting the abort ack",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Stage {
    /// The output is produced; waiting for its ack.
    Producing,
    /// EndTxn(commit) is sent; waiting for its ack.
    Committing,
    /// EndTxn(abort) is sent; waiting for its ack.
    Aborting,
}

/// A task's volatile state, lost on a crash.
#[derive(Clone, Debug, Default, Hash)]
pub struct TxnVol {
    /// The partition (the transactional id) the task works for: its own,
    /// or in a group the one whose records arrive (none yet).
    pub(super) partition: Option<u32>,
    /// The epoch to send (none until `initTransactions` is answered).
    epoch: Option<u32>,
    /// The epoch the session began with.
    session: u32,
    /// Attempts made in this session.
    attempts: u32,
    /// The `initTransactions` request awaiting its answer.
    init_nonce: u64,
    /// The next input offset to process.
    position: u64,
    /// Records received ahead of `position`, by offset.
    buffered: BTreeMap<u64, MsgKey>,
    /// In a group: when the task last asked `initTransactions` again
    /// because records past its position arrived and none at it.
    recheck: Option<SimTime>,
    current: Option<Current>,
    /// The armed request timeout.
    timer: Option<TimerId>,
}

impl TxnVol {
    /// The task's state in a few words, for reports; `None` for a consumer
    /// that is not a transactional task.
    pub fn describe(&self) -> Option<String> {
        if self.init_nonce == 0 {
            return None;
        }
        let text = match (self.epoch, &self.current) {
            (None, _) => "initialising transactions".to_string(),
            (Some(e), None) => format!("epoch {e}, position {}, idle", self.position),
            (Some(e), Some(c)) => format!(
                "epoch {e}, position {}, {} for {} {:?}",
                self.position,
                c.tag,
                c.key,
                c.stage.describe()
            ),
        };
        Some(text)
    }
}

impl Consumer {
    /// At a (re)start: `initTransactions` for the task's partition.
    pub(super) fn txn_start<C: Choices>(&self, v: &mut ConsumerVol, ctx: &mut Ctx<'_, Node, C>) {
        let t = &mut v.txn;
        t.epoch = None;
        t.init_nonce = ctx.now().as_us() + 1;
        let init = Msg::InitTxn {
            partition: task_partition(t),
            nonce: t.init_nonce,
        };
        ctx.send(self.broker, init);
        arm(t, ctx);
    }

    /// A delivered record: keep it until its turn. In a group, the first
    /// record of another partition than the task's starts a task for it
    /// (a rebalance assigned it here).
    pub(super) fn on_txn_record<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        (partition, offset): (u32, u64),
        key: MsgKey,
    ) -> Step {
        if v.txn.partition != Some(partition) {
            if v.txn.current.is_some() {
                // A late record of another partition than the open
                // transaction's: finish (or be fenced in) that one first.
                return Ok(());
            }
            drop_task(&mut v.txn, ctx);
            v.txn.partition = Some(partition);
            self.txn_start(v, ctx);
        }
        let t = &mut v.txn;
        let current = t.current.is_some_and(|c| c.offset == offset);
        if offset >= t.position && !current {
            t.buffered.insert(offset, key);
        }
        self.txn_next(db, v, ctx)
    }

    /// The answers of the broker.
    pub(super) fn on_txn_msg<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        msg: Msg,
    ) -> Step {
        let t = &mut v.txn;
        match msg {
            Msg::InitTxnAck {
                nonce,
                epoch,
                position,
                ..
            } if t.epoch.is_none() && nonce == t.init_nonce => {
                t.epoch = Some(epoch);
                t.session = epoch;
                t.attempts = 0;
                t.position = position;
                t.buffered = t.buffered.split_off(&position);
            }
            Msg::TxnProduceAck { tag, .. } => {
                let Some(c) = t
                    .current
                    .filter(|c| c.tag == tag && c.stage == Stage::Producing)
                else {
                    return Ok(());
                };
                crash_point(ctx, c.key, AFTER_PRODUCE_BEFORE_END_TXN)?;
                self.end_txn(v, ctx, c, true);
                crash_point(ctx, c.key, AFTER_END_TXN_BEFORE_ACK)?;
            }
            Msg::EndTxnAck {
                tag, commit, epoch, ..
            } => {
                let Some(c) = t.current.filter(|c| c.tag == tag) else {
                    return Ok(());
                };
                let expected = if commit {
                    Stage::Committing
                } else {
                    Stage::Aborting
                };
                if c.stage != expected {
                    return Ok(());
                }
                t.epoch = Some(epoch);
                t.current = None;
                ctx.observe(Obs::TxnOutcome {
                    key: c.key,
                    tag,
                    committed: commit,
                });
                if commit {
                    t.position = c.offset + 1;
                    t.buffered = t.buffered.split_off(&t.position);
                } else {
                    t.buffered.insert(c.offset, c.key);
                }
            }
            // The group gave the partition to another consumer: forget the
            // task until a record of a partition arrives.
            Msg::NotAssigned { partition } if t.partition == Some(partition) => {
                drop_task(t, ctx);
                return Ok(());
            }
            Msg::TxnFenced { tag, .. } if t.current.is_some_and(|c| c.tag == tag) => {
                // `ProducerFencedException` is fatal: start a new session.
                let c = t.current.take().expect("checked above");
                t.buffered.insert(c.offset, c.key);
                self.txn_start(v, ctx);
                return Ok(());
            }
            _ => return Ok(()),
        }
        self.txn_next(db, v, ctx)
    }

    /// A timeout: ask `initTransactions` again, abort a transaction whose
    /// produce went unanswered, or send its EndTxn again.
    pub(super) fn on_txn_timeout<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        v.txn.timer = None;
        if v.txn.epoch.is_none() {
            self.txn_start(v, ctx);
            return Ok(());
        }
        if let Some(c) = v.txn.current {
            let commit = c.stage == Stage::Committing;
            self.end_txn(v, ctx, c, commit);
        }
        self.txn_next(db, v, ctx)
    }

    /// Begin the transaction of the record at the position, if it is here
    /// and none is open.
    fn txn_next<C: Choices>(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
    ) -> Step {
        let t = &mut v.txn;
        let Some(epoch) = t.epoch.filter(|_| t.current.is_none()) else {
            return Ok(());
        };
        let Some(key) = t.buffered.remove(&t.position) else {
            // In a group, records past the position and none at it: the
            // partition may have been away and come back, with its
            // committed position moved on by another consumer. Ask again
            // (initTransactions answers with the position), at most once per
            // request timeout.
            let due = t
                .recheck
                .is_none_or(|at| ctx.now().since(at) >= TXN_REQUEST_TIMEOUT);
            if self.group && !t.buffered.is_empty() && due {
                t.recheck = Some(ctx.now());
                self.txn_start(v, ctx);
            }
            return Ok(());
        };
        t.attempts += 1;
        let tag = TxnTag {
            session: t.session,
            attempt: t.attempts,
        };
        t.current = Some(Current {
            tag,
            key,
            offset: t.position,
            stage: Stage::Producing,
        });
        if self.model.txn_rules().is_some_and(|r| r.external_effect) {
            // The external call: outside the transaction, never rolled back.
            let count = db.transaction(|d| d.add_effect(key));
            ctx.observe(Obs::Effect { key, count });
        }
        let t = &mut v.txn;
        let produce = Msg::TxnProduce {
            partition: task_partition(t),
            key,
            tag,
            epoch,
        };
        ctx.send(self.broker, produce);
        arm(t, ctx);
        Ok(())
    }

    /// Send EndTxn for `c` (commit or abort) and wait for its ack.
    fn end_txn<C: Choices>(
        &self,
        v: &mut ConsumerVol,
        ctx: &mut Ctx<'_, Node, C>,
        c: Current,
        commit: bool,
    ) {
        let t = &mut v.txn;
        let stage = if commit {
            Stage::Committing
        } else {
            Stage::Aborting
        };
        t.current = Some(Current { stage, ..c });
        let end = Msg::EndTxn(EndTxn {
            partition: task_partition(t),
            offset: c.offset,
            key: c.key,
            tag: c.tag,
            epoch: t.epoch.expect("a transaction runs within a session"),
            commit,
        });
        ctx.send(self.broker, end);
        arm(t, ctx);
    }
}

/// The partition a running task works for.
fn task_partition(t: &TxnVol) -> u32 {
    t.partition.expect("a task runs for a partition")
}

/// Forget the task (its partition moved away), with its timeout.
fn drop_task<C: Choices>(t: &mut TxnVol, ctx: &mut Ctx<'_, Node, C>) {
    if let Some(timer) = t.timer.take() {
        ctx.cancel_timer(timer);
    }
    *t = TxnVol::default();
}

/// Arm the request timeout, cancelling the one armed before.
fn arm<C: Choices>(t: &mut TxnVol, ctx: &mut Ctx<'_, Node, C>) {
    if let Some(old) = t.timer.take() {
        ctx.cancel_timer(old);
    }
    t.timer = Some(ctx.set_timer(TXN_REQUEST_TIMEOUT, Timer::TxnTimeout));
}
