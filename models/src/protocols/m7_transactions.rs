//! **M7: transactional consume-process-produce (Kafka transactions).**
//!
//! - *Mechanism.* Each consumer is a Kafka Streams-style task with a
//!   `transactional.id` (its partition). At start it calls
//!   `initTransactions`: the coordinator (the broker) bumps the id's
//!   **epoch**, aborts the transaction a previous instance left open, and
//!   answers with the epoch and the committed position. The task then reads
//!   its partition in offset order and handles each record in its own
//!   transaction: it **produces** the output record (carrying its epoch),
//!   waits for the produce ack, then sends **EndTxn(commit)** carrying the
//!   record's offset (`sendOffsetsToTransaction`), so that the output
//!   record and the input offset commit become visible together. A produce
//!   unacked after [`TXN_REQUEST_TIMEOUT`] makes it abort the transaction
//!   (EndTxn(abort)) and try the record again. The broker refuses requests
//!   from an older epoch (fencing, KIP-98/KIP-447). In a consumer group
//!   (F-rebalance), a task starts when a record of a partition reaches its
//!   consumer, and the broker, as group coordinator, also refuses every
//!   transactional request from a consumer that no longer owns the
//!   partition (KIP-447's generation fencing): the zombie left behind by a
//!   rebalance is fenced, and the new owner's `initTransactions` aborts the
//!   zombie's open transaction. Downstream, a reader
//!   reads the output log; each output record it reads is the message's
//!   **effect** (a `read_committed` reader reads only committed records
//!   below the last stable offset, LSO). Six variants:
//!   - `M7`: KIP-890 server-side defence (the epoch is bumped at every
//!     EndTxn, so a request of an ended transaction is refused), a
//!     `read_committed` reader;
//!   - `M7Pre890`: the epoch stays the same for a whole session, so a late
//!     request joins whatever transaction is open when it arrives;
//!   - `M7ReadUncommitted`: as `M7`, with a `read_uncommitted` reader,
//!     which reads records as they are appended;
//!   - `M7Unfenced`: as `M7`, but each consumer process has its own
//!     `transactional.id` and sends offsets without the group's metadata
//!     (before KIP-447), so nothing fences a rebalance's zombie;
//!   - `M7External`: as `M7`, but the message's effect is an external call
//!     the task makes when it starts on a record, outside the transaction;
//!   - `M7FetchPastLso`: as `M7`, but the broker bounds a `read_committed`
//!     fetch by the end of the log instead of the LSO (Kafka-on-Pulsar
//!     before its fix #1856), so the reader reads records of transactions
//!     still open, as they are appended.
//! - *Source.* The broker appends each input message once (an idempotent
//!   producer upstream): Kafka's exactly-once is per input record.
//! - *Claimed guarantee.* `M7`: exactly-once effect (C1, C2, C3, C5, C6,
//!   C7, C8), atomic transactions (C9), no read of an uncommitted record
//!   (C10), fencing (C13) and liveness (C16), under every network fault and
//!   every crash point. It claims the laws C14 and C15 too, as an
//!   exactly-once model, but the probe cannot replay its task (the effect
//!   lives in the output log and the coordinator, not in the consumer's
//!   database the probe clones): runs report them UNCHECKED and say so.
//!   `M7Pre890` claims the same while requests arrive in order: under
//!   loss, duplication, crashes, partitions, pauses and clock jumps on FIFO
//!   links, not under reordering (the fault matrix's 200-seed run found C1,
//!   C2 and C9 broken under reordering in 15 of 200 seeds).
//!   `M7ReadUncommitted` claims at-least-once (C1, C2, C5, C6, C16).
//!   `M7Unfenced` claims what `M7` claims while partitions stay where they
//!   are: under every fault class but rebalances. `M7External` claims
//!   at-least-once for its call. `M7FetchPastLso` claims what `M7` claims
//!   (its reader asked for `read_committed`), and breaks it on every run.
//! - *Expected violations.* None for `M7`.
//! - *Breakers.*
//!   - `M7Pre890`, F-reorder past the request timeout: a produce delayed
//!     past its transaction's abort lands in the next transaction, which
//!     commits it: the aborted attempt's output is read (C7, G1a) beside
//!     the retry's (C3, C8). A delayed EndTxn(abort) resent after a lost
//!     ack can abort the *next* transaction, whose commit then stores the
//!     offset without the output: a torn transaction and a lost write (C9,
//!     C1).
//!   - `M7ReadUncommitted`, F-drop or F-reorder: the reader reads a record
//!     whose transaction later aborts (C7, G1a), then the retry's (C3).
//!   - `M7Unfenced`, F-rebalance (with F-pause, the usual cause): the
//!     consumer that lost its partition still commits the transaction it
//!     had open, under its own id, after the new owner processed the same
//!     record: the output is read twice (C3, C8).
//!   - `M7External`, any abort or crash after the call (a lost produce ack,
//!     a crash at `after-produce-before-end-txn`): the transaction rolls
//!     back, the call does not, and the retry calls again (C3, C8).
//!   - `M7FetchPastLso`, any transaction at all: its output is read before
//!     its commit marker (C10, precommitted read); one that aborts (after a
//!     lost produce ack, a crash) has its output read (C7, G1a) beside the
//!     retry's (C3, C8).
//!   - Any variant, F-expire at the broker: the idempotent producer
//!     upstream loses its state, the input log holds a message twice, and
//!     each copy is processed exactly once (C4, C3, C8): exactly-once is
//!     per input record.
//!   - Not modelled: a coordinator timeout (a hanging transaction stays
//!     open), and `transactional.id` reuse across unrelated tasks.
//! - *Anchor.* KIP-98 (transactions, control records, `read_committed`,
//!   LSO); `sendOffsetsToTransaction` and KIP-447 (epoch and generation
//!   fencing); KIP-890 "Transactions Server-Side Defense" (a delayed
//!   produce crosses a transaction boundary; bump the epoch per
//!   transaction); Kingsbury, KAFKA-17754 and Jepsen's Bufstream analysis
//!   ("aborted transactions can actually succeed", torn transactions).

use sim_core::{SimDuration, Step, Store};

use super::AT_LEAST_ONCE_CLAIMS;
use super::{ConsumerRole, Gate, Hints, ModelInfo, Protocol, Record, Wiring};
use crate::roles::ConsumerDb;
use crate::vocab::{CheckId, FaultClass, IdSet};

/// The produce was acked; the task stops before it sends EndTxn(commit).
/// Harmless: the restart's `initTransactions` aborts the open transaction.
pub const AFTER_PRODUCE_BEFORE_END_TXN: &str = "after-produce-before-end-txn";
/// EndTxn(commit) is sent; the task stops before its ack. Harmless: the
/// commit either lands before the restart's `initTransactions`, or is
/// refused for its old epoch after it.
pub const AFTER_END_TXN_BEFORE_ACK: &str = "after-end-txn-before-ack";

/// How long the task waits for an answer (produce ack, EndTxn ack, init
/// ack) before it aborts, or asks again.
pub const TXN_REQUEST_TIMEOUT: SimDuration = SimDuration::from_ms(30);

/// What M7 claims: exactly-once effect, atomic transactions, no early read,
/// fencing, the laws (which the probe cannot check on its task: runs say
/// so) and liveness.
const TRANSACTIONAL_CLAIMS: &[CheckId] = &[
    CheckId::C1,
    CheckId::C2,
    CheckId::C3,
    CheckId::C5,
    CheckId::C6,
    CheckId::C7,
    CheckId::C8,
    CheckId::C9,
    CheckId::C10,
    CheckId::C13,
    CheckId::C14,
    CheckId::C15,
    CheckId::C16,
];

const CRASH_POINTS: &[&str] = &[AFTER_PRODUCE_BEFORE_END_TXN, AFTER_END_TXN_BEFORE_ACK];

/// The catalogue entry with KIP-890's defence and a `read_committed`
/// M7 as a protocol unit, one per set of transaction rules.
#[derive(Debug)]
pub struct Transactions {
    info: ModelInfo,
    rules: TxnRules,
}

/// reader.
pub static TRANSACTIONAL: Transactions = Transactions {
    rules: RULES_TRANSACTIONAL,
    info: ModelInfo {
        name: "M7",
        code: "M7",
        title: "transactional consume-process-produce (Kafka exactly_once_v2, KIP-890)",
        guarantee: "exactly-once effect for log-to-log processing",
        mechanism: "each record is processed in a transaction: produce the output, then EndTxn \
                commits it with the input offset; epochs fence old instances and old \
                transactions, and the group's generation fences a rebalance's zombie; the \
                reader is read_committed",
        claims: TRANSACTIONAL_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "none among the network faults, crash points, pauses, clock jumps and \
               rebalances; evicted producer state upstream (F-expire) appends an input twice, \
               and each copy is processed once (C4, C3); an external call in the processing \
               step is not rolled back (M7-external); a transactional.id per process lets a \
               rebalance's zombie commit (M7-unfenced)",
        anchor: "KIP-98, sendOffsetsToTransaction, KIP-447 fencing, KIP-890 server-side defense",
        consumer_crash_points: CRASH_POINTS,
        producer_crash_points: &[],
        remedy: "keep every effect inside the Kafka transaction",
        outside_claim: &[],
        fixed_by: None,
    },
};

/// The catalogue entry before KIP-890.
pub static PRE_KIP_890: Transactions = Transactions {
    rules: RULES_PRE_KIP_890,
    info: ModelInfo {
        name: "M7Pre890",
        code: "M7-pre890",
        title: "Kafka transactions before KIP-890: one epoch per session",
        guarantee: "exactly-once while requests arrive in order",
        mechanism: "as M7, but the epoch changes only at initTransactions, so a request of an \
                ended transaction is taken for one of the open transaction",
        claims: TRANSACTIONAL_CLAIMS,
        survives: &[
            FaultClass::Loss,
            FaultClass::Duplicate,
            FaultClass::Crash,
            FaultClass::Partition,
            FaultClass::Pause,
            FaultClass::Clock,
            FaultClass::Rebalance,
        ],
        breakers: "a produce delayed past its transaction's abort joins the next transaction and \
               commits (C7 G1a, C3, C8); a late abort aborts the next transaction, whose \
               commit stores only the offset (C9, C1)",
        anchor: "KIP-890; Kingsbury on users@kafka, KAFKA-17754; Jepsen Bufstream 0.1.0",
        consumer_crash_points: CRASH_POINTS,
        producer_crash_points: &[],
        remedy: "M7: bump the epoch at every transaction end (KIP-890)",
        outside_claim: &[],
        fixed_by: Some("M7"),
    },
};

/// The catalogue entry with a `read_uncommitted` reader.
pub static READ_UNCOMMITTED: Transactions = Transactions {
    rules: RULES_READ_UNCOMMITTED,
    info: ModelInfo {
        name: "M7ReadUncommitted",
        code: "M7-uncommitted",
        title: "Kafka transactions read by a read_uncommitted consumer",
        guarantee: "at-least-once for the reader",
        mechanism: "as M7, but the downstream reader uses isolation.level=read_uncommitted (the \
                default) and reads records as they are appended",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "a transaction that aborts after its output was appended: the reader has read \
               it (C7 G1a), and reads the retry's output too (C3, C8)",
        anchor: "Kafka docs: isolation.level defaults to read_uncommitted; KIP-98 read_committed",
        consumer_crash_points: CRASH_POINTS,
        producer_crash_points: &[],
        remedy: "M7: set isolation.level=read_committed",
        outside_claim: &[],
        fixed_by: Some("M7"),
    },
};

/// The catalogue entry whose transactional id is not the partition's.
pub static UNFENCED: Transactions = Transactions {
    rules: RULES_UNFENCED,
    info: ModelInfo {
        name: "M7Unfenced",
        code: "M7-unfenced",
        title: "Kafka transactions with a transactional.id per process, not per partition",
        guarantee: "exactly-once while partitions stay where they are",
        mechanism: "as M7, but each consumer process uses its own transactional.id and sends its \
                offsets without the group's metadata (before KIP-447), so the task that takes \
                over a partition cannot fence the one that had it",
        claims: TRANSACTIONAL_CLAIMS,
        survives: &[
            FaultClass::Loss,
            FaultClass::Duplicate,
            FaultClass::Reorder,
            FaultClass::Crash,
            FaultClass::Partition,
            FaultClass::Pause,
            FaultClass::Clock,
        ],
        breakers: "a consumer paused past its session loses its partition in a rebalance; the new \
               owner processes its record, and the zombie resumes and commits its own \
               transaction too: the output is read twice (C3, C8)",
        anchor: "Kafka docs: transactional.id must stay the same across restarts for fencing; \
             KIP-447 (sendOffsetsToTransaction with the group's metadata fences by \
             generation)",
        consumer_crash_points: CRASH_POINTS,
        producer_crash_points: &[],
        remedy: "M7: one transactional.id per input partition, or offsets sent with the \
             group's metadata (KIP-447)",
        outside_claim: &[FaultClass::Rebalance],
        fixed_by: Some("M7"),
    },
};

/// The catalogue entry whose processing step calls an external service.
pub static EXTERNAL: Transactions = Transactions {
    rules: RULES_EXTERNAL,
    info: ModelInfo {
        name: "M7External",
        code: "M7-external",
        title: "Kafka transactions around an external call",
        guarantee: "at-least-once for the external call",
        mechanism: "as M7, but processing a record calls an external service (an e-mail, a \
                payment API) before producing the output; the Kafka transaction cannot roll \
                the call back",
        claims: AT_LEAST_ONCE_CLAIMS,
        survives: &FaultClass::ABOVE_THE_LOG,
        breakers: "an attempt that aborts or crashes after the call: the retry calls again (C3, \
               C8)",
        anchor: "Kafka's exactly-once covers reads and writes of Kafka topics only \
             (KIP-98, Kafka Streams docs); DOMAIN §1.3",
        consumer_crash_points: CRASH_POINTS,
        producer_crash_points: &[],
        remedy: "make the call idempotent (an idempotency key, M11), or call it from a consumer \
             of the output topic with an inbox (M4)",
        outside_claim: &[],
        fixed_by: Some("M7"),
    },
};

/// The catalogue entry whose broker serves `read_committed` fetches past
/// the LSO.
pub static FETCH_PAST_LSO: Transactions = Transactions {
    rules: RULES_FETCH_PAST_LSO,
    info: ModelInfo {
        name: "M7FetchPastLso",
        code: "M7-past-lso",
        title: "Kafka transactions on a broker that serves read_committed fetches past the LSO",
        guarantee: "exactly-once (claimed: the reader asks for read_committed)",
        mechanism: "as M7, but the broker bounds a read_committed fetch by the end of the log \
                instead of the last stable offset, so the reader gets records of transactions \
                that are still open",
        claims: TRANSACTIONAL_CLAIMS,
        survives: &[],
        breakers: "any transaction: the reader reads its output before the commit marker (C10); \
               one that aborts has its output read (C7 G1a) beside the retry's (C3, C8)",
        anchor: "KIP-98 (a read_committed fetch stops at the LSO); Kafka-on-Pulsar \
             streamnative/kop#1856 (\"the consumer can read unstable messages in \
             read_committed mode\", fixed by bounding fetches by the LSO)",
        consumer_crash_points: CRASH_POINTS,
        producer_crash_points: &[],
        remedy: "bound read_committed fetches by the last stable offset, as Apache Kafka does",
        outside_claim: &[],
        fixed_by: Some("M7"),
    },
};

/// The transaction rules of a model of the M7 family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnRules {
    /// Bump the epoch at every EndTxn (KIP-890).
    pub epoch_per_transaction: bool,
    /// The reader reads only committed records below the LSO.
    pub read_committed: bool,
    /// The broker serves a `read_committed` fetch up to the end of the log,
    /// past the LSO: the reader reads records as they are appended, though
    /// it asked for committed ones.
    pub fetch_past_lso: bool,
    /// The transactional id is the input partition's, and offsets go with
    /// the group's metadata (KIP-447): a zombie is fenced by epoch and by
    /// generation. Off: the id is the consumer process's, and offsets go
    /// without the group's metadata, so nothing fences a zombie.
    pub fenced: bool,
    /// The message's effect is an external call the task makes when it
    /// starts processing a record, outside the transaction; otherwise it
    /// is the reader's read of the output.
    pub external_effect: bool,
}

/// M7: kIP-890's defence, a `read_committed` reader, fenced.
const RULES_TRANSACTIONAL: TxnRules = TxnRules {
    epoch_per_transaction: true,
    read_committed: true,
    fetch_past_lso: false,
    fenced: true,
    external_effect: false,
};

/// M7Pre890: before KIP-890: one epoch for every transaction of a producer.
const RULES_PRE_KIP_890: TxnRules = TxnRules {
    epoch_per_transaction: false,
    read_committed: true,
    fetch_past_lso: false,
    fenced: true,
    external_effect: false,
};

/// M7ReadUncommitted: a `read_uncommitted` reader.
const RULES_READ_UNCOMMITTED: TxnRules = TxnRules {
    epoch_per_transaction: true,
    read_committed: false,
    fetch_past_lso: false,
    fenced: true,
    external_effect: false,
};

/// M7Unfenced: a transactional id per consumer process: nothing fences a zombie.
const RULES_UNFENCED: TxnRules = TxnRules {
    epoch_per_transaction: true,
    read_committed: true,
    fetch_past_lso: false,
    fenced: false,
    external_effect: false,
};

/// M7External: an external call in the processing step.
const RULES_EXTERNAL: TxnRules = TxnRules {
    epoch_per_transaction: true,
    read_committed: true,
    fetch_past_lso: false,
    fenced: true,
    external_effect: true,
};

/// M7FetchPastLso: a `read_committed` reader served past the LSO.
const RULES_FETCH_PAST_LSO: TxnRules = TxnRules {
    epoch_per_transaction: true,
    read_committed: true,
    fetch_past_lso: true,
    fenced: true,
    external_effect: false,
};

impl Protocol for Transactions {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn wiring(&self) -> Wiring {
        Wiring {
            consumer: ConsumerRole::Transactional(self.rules),
            // The source log holds each message once (an idempotent
            // producer upstream): exactly-once here is per source record.
            dedup_appends: true,
            ..Wiring::PER_RECORD
        }
    }

    /// Never called: M7's effects are output records read downstream (see
    /// `roles/txn.rs`).
    fn process(
        &self,
        _db: &mut Store<'_, ConsumerDb>,
        _memory: &mut IdSet,
        _rec: Record,
        _checked: Option<bool>,
        _gate: &mut dyn Gate,
    ) -> Step {
        Ok(())
    }

    fn hints(&self) -> Hints {
        let unfenced = "nothing fenced the old owner, and both transactions committed";
        let external = "the task called the external service in each attempt; an abort or a \
                        crash rolled back the transaction, not the call";
        Hints {
            duplicate_effect: self.rules.external_effect.then_some(external),
            lost_effect: None,
            // A fenced variant's duplicate has another cause.
            rebalance_duplicate: (!self.rules.fenced).then_some(unfenced),
        }
    }
}
