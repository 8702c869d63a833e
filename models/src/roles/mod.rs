//! The roles as actors: producers, the broker, consumers and the recovery
//! worker, joined in one [`Node`] type so that the engine stays generic
//! without dynamic dispatch.
//!
//! Datagrams are pushed: the broker forwards each appended record to the
//! consumer its partition is assigned to and redelivers it until an offset
//! commit for it arrives (per-record offset commits, as with
//! individual acknowledgements); M7's transactional tasks read their
//! partition in offset order, so theirs is delivered again, in order, only
//! when it stalls (no transaction's request and no offset commit for the
//! redelivery timeout). A restarted consumer fetches from its
//! committed position: it asks the broker, which answers and delivers every
//! uncommitted record of its partitions again, in offset order; what
//! reaches it before the answer, or was sent to the process that crashed,
//! it does not read.
//!
//! - `producer.rs`: sending, with the database-backed sources of M9 and
//!   M10; `idempotent.rs`: M6's sessions and sequence numbers.
//! - `broker.rs`: appends (M6's in-sequence appends too), deliveries,
//!   offset commits; `lease.rs`: M12's lease, token writes and fencing, with
//!   the consumers' side.
//! - `consumer.rs`: processing as the model prescribes, and the law probe;
//!   `checkpoint.rs`: M8's checkpoints and two-phase-commit sink;
//!   `txn.rs`: M7's transactions, at the broker and at the tasks.
//! - `group.rs`: the consumer group (F-rebalance) and record processing
//!   that takes time.
//! - `recovery.rs`: the seeds' recovery worker.
//! - `database.rs`: a consumer's database across the network, which runs
//!   each record's handling as one request.

mod broker;
mod checkpoint;
mod consumer;
mod database;
mod group;
mod idempotent;
mod law_probe;
mod lease;
mod producer;
mod recovery;
mod txn;

use sim_core::{Actor, ActorId, Choices, Ctx, SignalKind, Step, Store};

pub use broker::{
    AFTER_ACK_BEFORE_FLUSH, AFTER_FLUSH_BEFORE_ACK, Broker, BrokerDb, BrokerVol, DURING_FLUSH,
    Flush, PartitionLog, broker_crash_points,
};
pub use consumer::{
    AFTER_REPLY_BEFORE_OFFSET_COMMIT, AFTER_REQUEST_BEFORE_REPLY, Consumer, ConsumerDb,
    ConsumerVol, PendingWrite, ProtocolState, RowStatus,
};
pub use database::{AFTER_COMMIT_BEFORE_REPLY, Database};
pub use law_probe::{Reached, RetryPlan, Scratch, probe};
pub use lease::{LeaseCfg, LeaseDb};
pub use producer::{Producer, ProducerDb, ProducerVol, Row, Source};
pub use recovery::{BEFORE_COMPENSATING_A_ROW, Recovery};
pub use txn::{EndTxn, OutRecord, OutState, TxnDb, TxnLog};

use crate::history::Obs;
use crate::vocab::{EXPIRE, MsgKey, REBALANCE, TxnTag};

/// Datagrams between roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// producer → broker: append this message.
    Produce {
        /// The message.
        key: MsgKey,
        /// The id the broker and consumers deduplicate on.
        dedup_id: u64,
    },
    /// broker → producer: the message is appended.
    ProduceAck {
        /// The message.
        key: MsgKey,
    },
    /// broker → consumer: a record of its partition.
    Deliver {
        /// The partition.
        partition: u32,
        /// The record's offset.
        offset: u64,
        /// The message.
        key: MsgKey,
        /// The id to deduplicate on.
        dedup_id: u64,
    },
    /// consumer → broker: the record at `offset` is done.
    OffsetCommit {
        /// The partition.
        partition: u32,
        /// The offset.
        offset: u64,
        /// Identifies the request, so that its ack is matched once.
        request: u64,
    },
    /// broker → consumer: the offset commit is stored; `first` says whether
    /// this commit was the one that stored it.
    OffsetCommitAck {
        /// The partition.
        partition: u32,
        /// The offset.
        offset: u64,
        /// Whether the offset was uncommitted before.
        first: bool,
        /// The request this answers.
        request: u64,
    },
    /// recovery → consumer: compensate messages stuck in `processing`.
    RecoverStuck,
    /// producer → broker: append this message idempotently (M6): the
    /// broker appends each (session, seq) once, in sequence.
    ProduceIdempotent {
        /// The message.
        key: MsgKey,
        /// The id consumers deduplicate on.
        dedup_id: u64,
        /// The producer session (Kafka's PID and epoch).
        session: u32,
        /// The batch sequence number within the session and partition.
        seq: u64,
    },
    /// broker → producer: an idempotent batch is appended (M6); a producer
    /// counts only acks of its current session.
    SessionAck {
        /// The message.
        key: MsgKey,
        /// The session it was sent in.
        session: u32,
    },
    /// broker → producer: `seq` is below the session's last and older than
    /// the batches the broker remembers (Kafka `OutOfOrderSequence`).
    OutOfOrderSequence {
        /// The message.
        key: MsgKey,
        /// The session it was sent in.
        session: u32,
    },
    /// broker → the lease holder: a record of partition 0, under the lease
    /// `token` (M12).
    DeliverLeased {
        /// The partition.
        partition: u32,
        /// The record's offset.
        offset: u64,
        /// The message.
        key: MsgKey,
        /// The id to deduplicate on.
        dedup_id: u64,
        /// The lease token the holder had when the record was delivered.
        token: u64,
    },
    /// consumer → broker (the storage): apply `key`'s effect and commit
    /// its offset, in one transaction, under the lease `token` (M12).
    Write {
        /// The message.
        key: MsgKey,
        /// The token the writer holds.
        token: u64,
        /// The record's partition.
        partition: u32,
        /// The record's offset, committed with the effect.
        offset: u64,
    },
    /// task → broker: `initTransactions` for the partition's transactional
    /// id (M7).
    InitTxn {
        /// The partition (the transactional id).
        partition: u32,
        /// Identifies the request, so that a stale answer is ignored.
        nonce: u64,
    },
    /// broker → task: the new epoch, and the committed input position.
    InitTxnAck {
        /// The partition.
        partition: u32,
        /// The request this answers.
        nonce: u64,
        /// The epoch to send from now on.
        epoch: u32,
        /// The first input offset not committed.
        position: u64,
    },
    /// task → broker: produce an output record in the open transaction.
    TxnProduce {
        /// The partition (the transactional id).
        partition: u32,
        /// The input message the output is for.
        key: MsgKey,
        /// The task's attempt.
        tag: TxnTag,
        /// The task's epoch.
        epoch: u32,
    },
    /// broker → task: the output record is appended.
    TxnProduceAck {
        /// The input message.
        key: MsgKey,
        /// The attempt.
        tag: TxnTag,
    },
    /// task → broker: end the open transaction; a commit also commits the
    /// input offset (`sendOffsetsToTransaction`).
    EndTxn(EndTxn),
    /// broker → task: the transaction ended.
    EndTxnAck {
        /// The input message.
        key: MsgKey,
        /// The attempt.
        tag: TxnTag,
        /// Whether it committed.
        commit: bool,
        /// The epoch to send from now on.
        epoch: u32,
    },
    /// broker → task: the request's epoch is old (`ProducerFenced`), or
    /// the task's consumer no longer owns the partition (generation
    /// fencing, after a rebalance).
    TxnFenced {
        /// The input message.
        key: MsgKey,
        /// The attempt.
        tag: TxnTag,
    },
    /// broker → task: `initTransactions` refused, because the consumer is
    /// not the partition's owner in the group (a rebalance moved it).
    NotAssigned {
        /// The partition.
        partition: u32,
    },
    /// consumer → broker, at a restart: deliver again, in offset order,
    /// every uncommitted record of the partitions this consumer is assigned
    /// (a restarted consumer fetches from its committed position).
    Fetch {
        /// Identifies the request, so that a stale answer is ignored.
        nonce: u64,
    },
    /// broker → consumer: the answer to a `Fetch`, sent ahead of the
    /// records it delivers again.
    Fetched {
        /// The request this answers.
        nonce: u64,
    },
    /// consumer → its remote database: handle this record, as one
    /// request.
    DbRequest {
        /// The message.
        key: MsgKey,
        /// The id to deduplicate on.
        dedup_id: u64,
        /// Identifies the request, so that its reply is matched once.
        request: u64,
    },
    /// remote database → consumer: the request is committed.
    DbReply {
        /// The message.
        key: MsgKey,
        /// The request this answers.
        request: u64,
    },
    /// recovery → consumer: which of your rows are stuck in `processing`?
    /// (a worker that compensates row by row)
    ListStuck,
    /// consumer → recovery: this row is stuck in `processing`.
    Stuck {
        /// The row's message.
        key: MsgKey,
    },
    /// recovery → consumer: return this row to `unprocessed`, in its own
    /// transaction, if it is still stuck.
    Compensate {
        /// The row's message.
        key: MsgKey,
    },
}

/// Timer tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Producer: send the next message of the workload.
    SendNext,
    /// Producer: re-send a message that is not acked yet.
    Retry(u32),
    /// Broker: redeliver a record whose offset is not committed yet.
    Redeliver {
        /// The partition.
        partition: u32,
        /// The offset.
        offset: u64,
    },
    /// Consumer: process rows left `unprocessed` (after a restart).
    Work,
    /// Recovery worker: look for stuck messages.
    Poll,
    /// Broker: check whether the lease holder renewed its lease (M12).
    LeaseCheck,
    /// Consumer: take a checkpoint (M8).
    Checkpoint,
    /// Consumer: a transactional request went unanswered (M7).
    TxnTimeout,
    /// Consumer: the work on the record in hand is done.
    Processed,
    /// Consumer: the broker has not answered a `Fetch` in time.
    FetchTimeout,
    /// Broker: a transactional task's partition made no progress (no
    /// transaction's request, no offset committed) for a redelivery
    /// timeout (M7).
    Stalled {
        /// The partition.
        partition: u32,
    },
    /// Broker: flush the log written since the last flush to disk (a
    /// periodic flush policy).
    Flush,
    /// Consumer: its remote database has not answered a request in time.
    DbTimeout {
        /// The request.
        request: u64,
    },
}

/// One actor of a delivery scenario.
#[derive(Clone, Debug)]
pub enum Node {
    /// A producer.
    Producer(Producer),
    /// The broker (log storage).
    Broker(Broker),
    /// A consumer and its database.
    Consumer(Consumer),
    /// The seeds' recovery worker.
    Recovery(Recovery),
    /// A consumer's database across the network.
    Database(Database),
}

/// Durable state of a [`Node`].
#[derive(Debug, PartialEq, Eq, Hash)]
pub enum NodeDb {
    /// The recovery worker keeps nothing durable.
    None,
    /// A producer's business rows (M9, M10; empty otherwise).
    Producer(ProducerDb),
    /// The broker's logs and offset commits.
    Broker(BrokerDb),
    /// The consumer's database.
    Consumer(ConsumerDb),
}

/// Volatile state of a [`Node`].
#[derive(Debug, Hash)]
pub enum NodeVol {
    /// Producer.
    Producer(ProducerVol),
    /// Broker.
    Broker(BrokerVol),
    /// Consumer.
    Consumer(ConsumerVol),
    /// Recovery worker.
    Recovery,
}

impl Clone for NodeDb {
    fn clone(&self) -> Self {
        match self {
            NodeDb::None => NodeDb::None,
            NodeDb::Producer(db) => NodeDb::Producer(db.clone()),
            NodeDb::Broker(db) => NodeDb::Broker(db.clone()),
            NodeDb::Consumer(db) => NodeDb::Consumer(db.clone()),
        }
    }

    /// The role's own `clone_from`, reusing its buffers: an exploring
    /// search copies every state once per successor.
    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (NodeDb::Producer(mine), NodeDb::Producer(theirs)) => mine.clone_from(theirs),
            (NodeDb::Broker(mine), NodeDb::Broker(theirs)) => mine.clone_from(theirs),
            (NodeDb::Consumer(mine), NodeDb::Consumer(theirs)) => mine.clone_from(theirs),
            (mine, theirs) => *mine = theirs.clone(),
        }
    }
}

impl Clone for NodeVol {
    fn clone(&self) -> Self {
        match self {
            NodeVol::Producer(v) => NodeVol::Producer(v.clone()),
            NodeVol::Broker(v) => NodeVol::Broker(v.clone()),
            NodeVol::Consumer(v) => NodeVol::Consumer(v.clone()),
            NodeVol::Recovery => NodeVol::Recovery,
        }
    }

    /// The role's own `clone_from`, as for [`NodeDb`].
    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (NodeVol::Producer(mine), NodeVol::Producer(theirs)) => mine.clone_from(theirs),
            (NodeVol::Broker(mine), NodeVol::Broker(theirs)) => mine.clone_from(theirs),
            (NodeVol::Consumer(mine), NodeVol::Consumer(theirs)) => mine.clone_from(theirs),
            (mine, theirs) => *mine = theirs.clone(),
        }
    }
}

impl NodeDb {
    /// The durable state in a few words, for reports.
    pub fn describe(&self) -> String {
        match self {
            NodeDb::None => "nothing durable".to_string(),
            NodeDb::Producer(p) => p.describe(),
            NodeDb::Broker(b) => b.describe(),
            NodeDb::Consumer(c) => c.describe(),
        }
    }
}

impl NodeVol {
    /// The volatile state in a few words, for reports.
    pub fn describe(&self) -> String {
        match self {
            NodeVol::Producer(p) => p.describe(),
            NodeVol::Broker(b) => b.describe(),
            NodeVol::Consumer(c) => c.describe(),
            NodeVol::Recovery => "nothing in memory".to_string(),
        }
    }
}

fn broker_db<'a>(d: Store<'a, NodeDb>) -> Store<'a, BrokerDb> {
    d.project(|d| {
        if let NodeDb::Broker(b) = d {
            Some(b)
        } else {
            None
        }
    })
    .expect("a broker's durable state is a BrokerDb")
}

fn producer_db<'a>(d: Store<'a, NodeDb>) -> Store<'a, ProducerDb> {
    d.project(|d| {
        if let NodeDb::Producer(p) = d {
            Some(p)
        } else {
            None
        }
    })
    .expect("a producer's durable state is a ProducerDb")
}

fn consumer_db<'a>(d: Store<'a, NodeDb>) -> Store<'a, ConsumerDb> {
    d.project(|d| {
        if let NodeDb::Consumer(c) = d {
            Some(c)
        } else {
            None
        }
    })
    .expect("a consumer's durable state is a ConsumerDb")
}

impl Actor for Node {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = NodeDb;
    type Volatile = NodeVol;
    type Obs = Obs;

    fn init_durable(&self) -> NodeDb {
        match self {
            Node::Broker(b) => NodeDb::Broker(b.init_durable()),
            Node::Consumer(c) => NodeDb::Consumer(c.init_durable()),
            Node::Producer(p) => NodeDb::Producer(p.init_durable()),
            Node::Recovery(_) => NodeDb::None,
            Node::Database(d) => NodeDb::Consumer(d.consumer.init_durable()),
        }
    }

    fn start<C: Choices>(&self, d: &NodeDb, ctx: &mut Ctx<'_, Self, C>) -> NodeVol {
        match (self, d) {
            (Node::Producer(p), NodeDb::Producer(db)) => NodeVol::Producer(p.start(db, ctx)),
            (Node::Broker(b), NodeDb::Broker(db)) => NodeVol::Broker(b.start(db, ctx)),
            (Node::Consumer(c), NodeDb::Consumer(db)) => NodeVol::Consumer(c.start(db, ctx)),
            (Node::Recovery(r), _) => {
                r.start(ctx);
                NodeVol::Recovery
            }
            (Node::Database(_), _) => NodeVol::Consumer(ConsumerVol::default()),
            _ => unreachable!("durable state always matches the role"),
        }
    }

    fn on_msg<C: Choices>(
        &self,
        d: Store<'_, NodeDb>,
        v: &mut NodeVol,
        ctx: &mut Ctx<'_, Self, C>,
        src: ActorId,
        msg: Msg,
    ) -> Step {
        match (self, v) {
            (Node::Producer(p), NodeVol::Producer(v)) => p.on_msg(producer_db(d), v, ctx, msg),
            (Node::Broker(b), NodeVol::Broker(v)) => {
                b.handle(broker_db(d), v, ctx, |db, v, ctx| {
                    b.on_msg(db, v, ctx, src, msg)
                })
            }
            (Node::Consumer(c), NodeVol::Consumer(v)) => c.on_msg(consumer_db(d), v, ctx, src, msg),
            (Node::Recovery(r), NodeVol::Recovery) => r.on_msg(ctx, src, msg),
            (Node::Database(db), NodeVol::Consumer(v)) => {
                db.on_msg(consumer_db(d), v, ctx, src, msg)
            }
            _ => unreachable!("volatile state always matches the role"),
        }
    }

    fn on_timer<C: Choices>(
        &self,
        d: Store<'_, NodeDb>,
        v: &mut NodeVol,
        ctx: &mut Ctx<'_, Self, C>,
        timer: Timer,
    ) -> Step {
        match (self, v) {
            (Node::Producer(p), NodeVol::Producer(v)) => p.on_timer(producer_db(d), v, ctx, timer),
            (Node::Broker(b), NodeVol::Broker(v)) => b.timer(broker_db(d), v, ctx, timer),
            (Node::Consumer(c), NodeVol::Consumer(v)) => c.on_timer(consumer_db(d), v, ctx, timer),
            (Node::Recovery(r), NodeVol::Recovery) => r.on_timer(ctx, timer),
            (Node::Database(_), _) => Ok(()),
            _ => unreachable!("volatile state always matches the role"),
        }
    }

    /// F-expire evicts the receiver's dedup state (always noted, even
    /// when there was none); F-rebalance, at the broker, moves the
    /// partitions of the consumer it is about.
    fn signal<C: Choices>(
        &self,
        d: Store<'_, NodeDb>,
        v: Option<&mut NodeVol>,
        ctx: &mut Ctx<'_, Self, C>,
        kind: &'static SignalKind,
        about: ActorId,
    ) -> bool {
        match (*kind, self, v) {
            (EXPIRE, node, v) => {
                let evicted = match (node, v) {
                    (Node::Broker(_), v) => {
                        // The log in memory, ahead of the disk, loses it too.
                        if let Some(NodeVol::Broker(v)) = v {
                            v.evict_unflushed_dedup_state();
                        }
                        broker_db(d).transaction(BrokerDb::evict_dedup_state)
                    }
                    (Node::Consumer(_) | Node::Database(_), v) => {
                        let memory = match v {
                            Some(NodeVol::Consumer(v)) => v.evict_dedup_state(),
                            _ => 0,
                        };
                        memory + consumer_db(d).transaction(ConsumerDb::evict_dedup_state)
                    }
                    (Node::Producer(_) | Node::Recovery(_), _) => 0,
                };
                ctx.observe(Obs::Evicted { entries: evicted });
                true
            }
            (REBALANCE, Node::Broker(b), v) => {
                let v = match v {
                    Some(NodeVol::Broker(v)) => Some(v),
                    _ => None,
                };
                b.rebalance(&mut broker_db(d), v, ctx, about)
            }
            _ => false,
        }
    }

    fn is_busy(&self, d: &NodeDb, _: Option<&NodeVol>) -> bool {
        match (self, d) {
            (Node::Consumer(c), NodeDb::Consumer(db)) => c.is_busy(db),
            _ => false,
        }
    }
}

/// Pass a crash point, recording a crash that fires with the message it
/// interrupted, so that explanations name the right one.
pub(super) fn crash_point<C: Choices>(
    ctx: &mut Ctx<'_, Node, C>,
    key: MsgKey,
    point: &'static str,
) -> Step {
    let step = ctx.crash_point(point);
    if step.is_err() {
        ctx.observe(Obs::Crashed { key, point });
    }
    step
}
