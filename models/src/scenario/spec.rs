//! The scenario file format: plain data deserialised from RON.
//!
//! Every struct denies unknown fields; durations are integers with a unit
//! suffix (`_us`, `_ms`); probabilities are `Ratio(n, d)`. Optional sections
//! have documented defaults. Validation into a runnable
//! [`Scenario`](super::Scenario) is separate (see `validate.rs`).

use serde::{Deserialize, Serialize};

use crate::check::CheckId;
use crate::protocols::Model;

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct ScenarioSpec {
    /// The scenario's name, used in output and run folders.
    pub name: String,
    /// The seed used when none is given on the command line.
    #[serde(default)]
    pub seed: u64,
    /// The protocol model.
    pub model: Model,
    /// Who sends how much.
    #[serde(default)]
    pub workload: WorkloadSpec,
    /// Producer knobs.
    #[serde(default)]
    pub producer: ProducerSpec,
    /// Broker knobs.
    #[serde(default)]
    pub broker: BrokerSpec,
    /// Consumer knobs.
    #[serde(default)]
    pub consumer: ConsumerSpec,
    /// The seeds' recovery worker (M0 only).
    #[serde(default)]
    pub recovery: Option<RecoverySpec>,
    /// Links and their faults.
    #[serde(default)]
    pub network: NetworkSpec,
    /// Crashes, scheduled faults and the faulty phase.
    #[serde(default)]
    pub faults: FaultsSpec,
    /// Bounds on the run.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// `Pass`, or the checks the run is meant to violate.
    pub expect: Expect,
    /// The bounds `eosim explore` uses unless its flags say otherwise.
    /// Left out of the resolved file when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<ExploreSpec>,
}

/// What the author expects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// Every check holds (or is skipped).
    Pass,
    /// Exactly these checks are violated.
    Violates(Vec<CheckId>),
}

/// A probability `n / d`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "Ratio")]
pub struct RatioSpec(pub u32, pub u32);

/// Who sends how much.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadSpec {
    /// Number of producers (`producer-1` …). Default 1.
    pub producers: u32,
    /// Messages per producer. Default 10.
    pub messages: u32,
    /// Time between two messages of one producer; 0 sends all at once.
    /// Default 1000 µs.
    pub interval_us: u64,
    /// Partitions, one consumer each (`consumer-1` …; a scenario that
    /// rebalances has one idle consumer more). Default 1.
    pub partitions: u32,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            producers: 1,
            messages: 10,
            interval_us: 1_000,
            partitions: 1,
        }
    }
}

/// Producer knobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerSpec {
    /// Retransmission timeout of retrying models. Default 50 ms.
    pub retry_ms: u64,
    /// Exponential backoff with a cap, as clients retry: each retry waits
    /// twice as long as the one before, from `retry_ms` up to this. None
    /// (the default): every retry waits `retry_ms`. Left out of the
    /// resolved file when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_max_ms: Option<u64>,
    /// Re-send with a fresh id each time (an app-level resend). Default false.
    pub new_id_on_retry: bool,
    /// Dedup ids (idempotency keys) cycle through this many values, so that
    /// later messages reuse earlier ones' keys (M11's breaker). Default: one
    /// per message. Left out of the resolved file when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_space: Option<u32>,
    /// Most messages unacked at once (M6 only). Default 5, Kafka's limit.
    /// Left out of the resolved file when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
}

impl Default for ProducerSpec {
    fn default() -> Self {
        ProducerSpec {
            retry_ms: 50,
            backoff_max_ms: None,
            new_id_on_retry: false,
            key_space: None,
            max_in_flight: None,
        }
    }
}

/// Broker knobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerSpec {
    /// Redelivery timeout for records whose offset is not committed.
    /// Default 50 ms.
    pub redeliver_ms: u64,
    /// Append each message id at most once (an idempotent broker). Default
    /// false.
    pub dedup_appends: bool,
    /// How long a lease lasts without renewal (M12 only). Default 100 ms.
    /// Left out of the resolved file when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_ms: Option<u64>,
    /// The queue's deduplication interval (SQS FIFO's is five minutes): a
    /// message whose dedup id the queue accepted less than this long ago
    /// is acknowledged and dropped; an older one is appended again. None
    /// (the default): no deduplication at the queue, unless
    /// `dedup_appends`. Left out of the resolved file when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup_window_ms: Option<u64>,
    /// When the broker's log reaches its disk. Default `OnAppend`. Left
    /// out of the resolved file when default.
    #[serde(skip_serializing_if = "FlushSpec::is_on_append")]
    pub flush: FlushSpec,
    /// Consumers read what is written, flushed or not: a single-replica
    /// Kafka partition, whose high watermark is its log end in the page
    /// cache. A crash then loses records consumers have read, and their
    /// offsets go to the next appends. Default false (consumers read only
    /// flushed records); only with a flush after the ack. Left out of the
    /// resolved file when false.
    #[serde(skip_serializing_if = "is_false")]
    pub read_unflushed: bool,
    /// Each record carries a checksum, and the broker's recovery drops a
    /// record that fails it (Kafka's CRC32C per batch). Default true;
    /// false: a record torn by a crash during a flush comes back as
    /// whatever its bytes read as, a record no producer sent. Only with a
    /// flush after the ack. Left out of the resolved file when true.
    #[serde(skip_serializing_if = "is_true")]
    pub checksums: bool,
}

impl Default for BrokerSpec {
    fn default() -> Self {
        BrokerSpec {
            redeliver_ms: 50,
            dedup_appends: false,
            lease_ms: None,
            dedup_window_ms: None,
            flush: FlushSpec::OnAppend,
            read_unflushed: false,
            checksums: true,
        }
    }
}

/// When the broker's log reaches its disk, against when it acknowledges a
/// produce. A broker crash loses everything not yet flushed; consumers
/// read only flushed records (as Kafka's consumers read only up to the
/// high watermark), so what is lost was never delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlushSpec {
    /// Each append is flushed before its ack (RabbitMQ's publisher confirms,
    /// Kafka with `acks=all` and `min.insync.replicas` > 1 in effect): an
    /// acknowledged record survives a crash; a crash after the flush and
    /// before the ack makes the producer retry.
    #[default]
    OnAppend,
    /// The ack goes out first, then the flush (a leader that acks before
    /// its disk, Kafka's `acks=1`): a crash between them loses an
    /// acknowledged record.
    AfterAck,
    /// The ack goes out at once; what was written is flushed within
    /// `every_ms` (Kafka's `log.flush.interval.ms`, Redis's `appendfsync
    /// everysec`): a crash in between loses every acknowledged record
    /// since the last flush.
    Periodic {
        /// Most time between a write and its flush.
        every_ms: u64,
    },
}

impl FlushSpec {
    /// The default: flushed before the ack.
    pub fn is_on_append(&self) -> bool {
        *self == FlushSpec::OnAppend
    }
}

/// Consumer knobs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsumerSpec {
    /// Probe C14 and C15 before processing each record, whatever the model
    /// claims. Default true.
    pub law_probe: bool,
    /// How long a dedup entry counts (M5 only). Default 300000 ms, SQS
    /// FIFO's five minutes. Left out of the resolved file when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup_window_ms: Option<u64>,
    /// How long processing one record takes. Default 0: a record is
    /// processed the moment it arrives. Above 0, a consumer works on one
    /// record at a time and queues the rest in memory; M3 checks its
    /// seen-set when it starts on a record and records the id when done.
    /// Models that do not process records one by one on arrival ignore
    /// it: M0's worker, M1 (which commits first), M7's tasks, M8 and M12.
    #[serde(skip_serializing_if = "is_zero")]
    pub processing_ms: u64,
    /// Where the consumer's database is. Default `Local`. Left out of the
    /// resolved file when local.
    #[serde(skip_serializing_if = "DatabaseSpec::is_local")]
    pub database: DatabaseSpec,
}

impl Default for ConsumerSpec {
    fn default() -> Self {
        ConsumerSpec {
            law_probe: true,
            dedup_window_ms: None,
            processing_ms: 0,
            database: DatabaseSpec::Local,
        }
    }
}

/// Where a consumer's database is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatabaseSpec {
    /// In the consumer's process: a write either happened or the process
    /// crashed.
    #[default]
    Local,
    /// Across the network, as its own actor (`database`): the consumer
    /// sends each record's handling as one request and waits for the
    /// reply; a reply lost or later than `timeout_ms` leaves the outcome
    /// unknown, and the consumer sends the request again (Jepsen's
    /// indeterminate operations).
    Remote {
        /// How long the consumer waits for a reply before it retries.
        timeout_ms: u64,
    },
}

impl DatabaseSpec {
    /// The default: in the consumer's process.
    pub fn is_local(&self) -> bool {
        *self == DatabaseSpec::Local
    }
}

/// The seeds' recovery worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecoverySpec {
    /// Run it at all. Default true.
    pub enabled: bool,
    /// Time between two scans for stuck messages. Default 100 ms.
    pub interval_ms: u64,
    /// How a scan compensates the rows it finds stuck. Default
    /// `OneTransaction`. Left out of the resolved file when default.
    #[serde(skip_serializing_if = "CompensationSpec::is_one_transaction")]
    pub compensate: CompensationSpec,
}

impl Default for RecoverySpec {
    fn default() -> Self {
        RecoverySpec {
            enabled: true,
            interval_ms: 100,
            compensate: CompensationSpec::OneTransaction,
        }
    }
}

/// How the recovery worker compensates the rows it finds stuck in
/// `processing`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompensationSpec {
    /// The worker asks each consumer to compensate, and its database
    /// returns every stuck row to `unprocessed` in one transaction: the
    /// worker holds nothing to lose and has no crash point.
    #[default]
    OneTransaction,
    /// The worker asks each consumer for its stuck rows and compensates
    /// them one at a time, each its own request and transaction (a script
    /// over a database connection in autocommit mode). It can die between
    /// two rows: crash point `before-compensating-a-row`.
    RowByRow,
}

impl CompensationSpec {
    /// The default: one transaction per scan.
    pub fn is_one_transaction(&self) -> bool {
        *self == CompensationSpec::OneTransaction
    }
}

/// FIFO or reordering links.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderingSpec {
    /// Independent delays: later datagrams may overtake.
    #[default]
    Reordering,
    /// In send order.
    Fifo,
}

/// One link's behaviour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSpec {
    /// Probability a datagram is lost. Default `Ratio(0, 1)`.
    pub loss: RatioSpec,
    /// Probability a datagram is delivered twice. Default `Ratio(0, 1)`.
    pub duplicate: RatioSpec,
    /// Smallest delay. Default 1000 µs.
    pub delay_us_min: u64,
    /// Largest delay (inclusive). Default 10000 µs.
    pub delay_us_max: u64,
    /// Delays come in steps of this size above the minimum. Default 1 µs.
    pub delay_us_step: u64,
    /// Default `Reordering`.
    pub ordering: OrderingSpec,
}

impl Default for LinkSpec {
    fn default() -> Self {
        LinkSpec {
            loss: RatioSpec(0, 1),
            duplicate: RatioSpec(0, 1),
            delay_us_min: 1_000,
            delay_us_max: 10_000,
            delay_us_step: 1,
            ordering: OrderingSpec::Reordering,
        }
    }
}

/// Overrides for the links between two actors (each direction named
/// separately).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    /// Sender.
    pub from: String,
    /// Receiver.
    pub to: String,
    /// Loss, if different from the default link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<RatioSpec>,
    /// Duplication, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<RatioSpec>,
    /// Smallest delay, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_us_min: Option<u64>,
    /// Largest delay, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_us_max: Option<u64>,
    /// Delay step, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_us_step: Option<u64>,
    /// Ordering, if different.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<OrderingSpec>,
}

/// The network.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkSpec {
    /// Every link, unless overridden.
    pub default: LinkSpec,
    /// Per-link overrides.
    pub links: Vec<LinkOverride>,
}

/// A stochastic crash knob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrashKnobSpec {
    /// Only this actor (default: every actor with crash points).
    #[serde(default)]
    pub actor: Option<String>,
    /// Only this crash point (default: every point).
    #[serde(default)]
    pub at_point: Option<String>,
    /// Probability per pass of a matching point.
    pub ratio: RatioSpec,
}

/// A stochastic pause knob (F-pause).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseKnobSpec {
    /// Only this actor (default: every actor).
    #[serde(default)]
    pub actor: Option<String>,
    /// Probability that an actor pauses once, from a time drawn before
    /// `faults.until_ms`.
    pub ratio: RatioSpec,
    /// How long the pause lasts (it ends at `faults.until_ms` at the
    /// latest, as every fault does).
    pub for_ms: u64,
}

/// One scheduled fault.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultEvent {
    /// Crash `actor` the `nth` time (1-based) it passes `at_point`.
    Crash {
        /// The actor.
        actor: String,
        /// The crash point.
        at_point: String,
        /// Which pass.
        nth: u32,
    },
    /// Lose the `nth` datagram (1-based) sent on `link` (`"a->b"`).
    Drop {
        /// The link, as `"sender->receiver"`.
        link: String,
        /// Which datagram.
        nth: u64,
    },
    /// Deliver the `nth` datagram (1-based) sent on `link` twice.
    Duplicate {
        /// The link, as `"sender->receiver"`.
        link: String,
        /// Which datagram.
        nth: u64,
    },
    /// Deliver the `nth` datagram (1-based) sent on `link` after exactly
    /// `delay_us` (in the healed phase too: a delay is not a fault).
    Delay {
        /// The link, as `"sender->receiver"`.
        link: String,
        /// Which datagram.
        nth: u64,
        /// Time from send to delivery.
        delay_us: u64,
        /// Delay the network duplicate's copy instead of the original.
        #[serde(default, skip_serializing_if = "is_false")]
        copy: bool,
    },
    /// Cut every link between the two groups from `from_ms` to `to_ms`.
    Partition {
        /// One side.
        between: Vec<String>,
        /// The other side.
        and: Vec<String>,
        /// Start.
        from_ms: u64,
        /// End (exclusive).
        to_ms: u64,
        /// Only cut datagrams from `between` to `and`.
        #[serde(default)]
        one_way: bool,
    },
    /// From `from_ms` to `to_ms`, `actor` is paused (F-pause): its
    /// datagrams and timers wait, and it resumes with its memory. Like a
    /// partition, the pause ends at `faults.until_ms` at the latest.
    Pause {
        /// The actor.
        actor: String,
        /// Start.
        from_ms: u64,
        /// End (exclusive).
        to_ms: u64,
    },
    /// At `at_ms`, `actor` loses its dedup state (F-expire): the broker its
    /// producer sessions (M6) and appended ids, a consumer its inbox,
    /// seen-set and dedup window (M3, M4, M5, M11).
    Expire {
        /// The actor.
        actor: String,
        /// When.
        at_ms: u64,
    },
    /// At `at_ms`, the broker (the group coordinator) takes `consumer`'s
    /// partitions away and assigns them to the group's idle consumer
    /// (F-rebalance: the consumer's session timed out). The consumer is not
    /// told: it finishes the records it holds.
    Rebalance {
        /// The consumer that loses its partitions.
        consumer: String,
        /// When.
        at_ms: u64,
    },
    /// From `at_ms` on, `actor`'s clock reads `by_ms` off the true time
    /// (F-clock; negative: behind). Its TTLs, dedup windows and leases
    /// read that clock; its timers do not.
    ClockJump {
        /// The actor.
        actor: String,
        /// When its clock jumps.
        at_ms: u64,
        /// Its offset from the true time from then on.
        by_ms: i64,
    },
}

/// Faults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultsSpec {
    /// No new fault at or after this time. Default 10000 ms.
    pub until_ms: u64,
    /// How long a crashed actor stays down. Default 50 ms.
    pub restart_after_ms: u64,
    /// Stochastic crash knobs.
    pub crash: Vec<CrashKnobSpec>,
    /// Stochastic clock jumps (F-clock): every actor's clock jumps once,
    /// at a time drawn before `until_ms`, by up to this much either way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_jump_ms_max: Option<u64>,
    /// Stochastic pauses (F-pause).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pause: Vec<PauseKnobSpec>,
    /// Stochastic evictions (F-expire): each actor loses its dedup state
    /// once with this probability, at a time drawn before `until_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire: Option<RatioSpec>,
    /// Stochastic rebalances (F-rebalance): each consumer of the group
    /// loses its partitions once with this probability, at a time drawn
    /// before `until_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<RatioSpec>,
    /// The explicit schedule.
    pub schedule: Vec<FaultEvent>,
}

impl FaultsSpec {
    /// Whether the scenario rebalances its consumer group (a knob or a
    /// scheduled rebalance): then the group has one idle consumer more than
    /// there are partitions, and its consumers share one database.
    pub fn rebalances(&self) -> bool {
        self.rebalance.is_some()
            || self
                .schedule
                .iter()
                .any(|e| matches!(e, FaultEvent::Rebalance { .. }))
    }
}

impl Default for FaultsSpec {
    fn default() -> Self {
        FaultsSpec {
            until_ms: 10_000,
            restart_after_ms: 50,
            crash: Vec::new(),
            clock_jump_ms_max: None,
            expire: None,
            rebalance: None,
            pause: Vec::new(),
            schedule: Vec::new(),
        }
    }
}

/// Bounds on a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsSpec {
    /// Simulated-time bound. Default 600000 ms.
    pub time_ms_max: u64,
    /// Event bound. Default 5000000.
    pub events_max: u64,
    /// How long the healed phase may drain. Default 60000 ms.
    pub drain_ms_max: u64,
}

impl Default for LimitsSpec {
    fn default() -> Self {
        LimitsSpec {
            time_ms_max: 600_000,
            events_max: 5_000_000,
            drain_ms_max: 60_000,
        }
    }
}

/// Bounds for `eosim explore`: a lesson that proves a protocol within
/// bounds, or finds what random seeds miss, says which bounds it means.
/// Each unset bound is the command's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExploreSpec {
    /// Crash points that may fire per execution. Default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crashes: Option<u32>,
    /// Datagrams that may be lost per execution. Default 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drops: Option<u32>,
    /// Datagrams that may be duplicated per execution. Default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<u32>,
    /// Messages per producer, instead of the workload's. Default: the
    /// workload's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<u32>,
}

impl ExploreSpec {
    /// The faults per execution when nothing says otherwise.
    pub const DEFAULT_FAULTS: sim_core::FaultBudget = sim_core::FaultBudget {
        crashes: 1,
        drops: 2,
        duplicates: 1,
    };

    /// These bounds, each unset one taken from `fallback`.
    #[must_use]
    pub fn or(self, fallback: ExploreSpec) -> ExploreSpec {
        ExploreSpec {
            crashes: self.crashes.or(fallback.crashes),
            drops: self.drops.or(fallback.drops),
            duplicates: self.duplicates.or(fallback.duplicates),
            messages: self.messages.or(fallback.messages),
        }
    }

    /// The faults per execution, unset ones at their defaults.
    pub fn faults(&self) -> sim_core::FaultBudget {
        let d = ExploreSpec::DEFAULT_FAULTS;
        sim_core::FaultBudget {
            crashes: self.crashes.unwrap_or(d.crashes),
            drops: self.drops.unwrap_or(d.drops),
            duplicates: self.duplicates.unwrap_or(d.duplicates),
        }
    }
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
