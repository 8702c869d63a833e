//! The protocols: each one unit implementing [`Protocol`] in its own file,
//! opening with its mechanism, the guarantee it claims, the checks it is
//! expected to break and the faults that break them, and its real-world
//! anchor; the unit holds its catalogue entry ([`ModelInfo`]), its role
//! wiring ([`Wiring`]), the scenario knobs it reads ([`Knob`]), its record
//! handler with named crash points, its compensation, its explanation
//! hints ([`Hints`]) and any [`Property`] of its own.
//!
//! A scenario's `model` names a unit through the installed [`Registry`]
//! ([`registry`]); the rest of eosim holds a [`Model`] handle and asks it,
//! never matching on a model. Adding a protocol to the catalogue is its
//! file, its `pub mod` line below, and one line in [`Registry::builtin`].
//! A protocol outside this crate implements the same trait and is added
//! with [`Registry::with`].
//!
//! | model | file | claims |
//! |---|---|---|
//! | M0-naive, M0-atomic | [`m0_seeds`] | exactly-once (the seeds' protocol) |
//! | M1 | [`m1_at_most_once`] | at-most-once |
//! | M2 | [`m2_at_least_once`] | at-least-once |
//! | M2-set | [`m2_set`] | each handler lawful on its own (not under interleaving) |
//! | M3, M3-memory | [`m3_consumer_dedup`] | exactly-once effect against duplicates |
//! | M4, M4-external | [`m4_inbox`] | exactly-once effect / at-least-once |
//! | M5 | [`m5_dedup_window`] | exactly-once effect within the window |
//! | M6 | [`m6_idempotent_producer`] | no duplicate append within a session |
//! | M11 | [`m11_idempotency_key`] | exactly-once execution within the retention |
//! | M7, M7-pre890, M7-uncommitted, M7-unfenced, M7-external | [`m7_transactions`] | exactly-once effect log to log / at-least-once |
//! | M8, M8-alo | [`m8_checkpoint`] | exactly-once effect / at-least-once |
//! | M12, M12-lease | [`m12_lease`] | no zombie write / at-least-once |
//! | M9, M9-rev | [`m9_dual_write`] | at-least-once for published events |
//! | M10, M10-plain | [`m10_outbox`] | exactly-once effect / at-least-once |

pub mod m0_seeds;
pub mod m10_outbox;
pub mod m11_idempotency_key;
pub mod m12_lease;
pub mod m1_at_most_once;
pub mod m2_at_least_once;
pub mod m2_set;
pub mod m3_consumer_dedup;
pub mod m4_inbox;
pub mod m5_dedup_window;
pub mod m6_idempotent_producer;
pub mod m7_transactions;
pub mod m8_checkpoint;
pub mod m9_dual_write;
pub mod steps;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sim_core::{SimDuration, SimTime, Step, Store};

use crate::history::{Ledger, Obs};
use crate::roles::{ConsumerDb, ProtocolState, Source};
use crate::vocab::{CheckId, FaultClass, IdSet, MsgKey};

pub use m7_transactions::TxnRules;

/// A delivery protocol as one unit: its catalogue entry, how its roles are
/// wired, the scenario knobs it reads, its record handler with named crash
/// points, its compensation, and the hints its explanations use.
///
/// The built-in models implement it in their own files; a protocol outside
/// this repository implements it the same way and is added to a
/// [`Registry`]. Only [`Protocol::info`] and [`Protocol::process`] are
/// required: the defaults describe a consumer that processes each record,
/// then commits its offset, fed by a producer that retries until acked.
///
/// The consumer's durable state is its database, [`ConsumerDb`]: effects,
/// the seeds' message table, a seen-set ([`ConsumerDb::inbox`]), a window
/// table, and state of the protocol's own type
/// ([`Protocol::durable_state`]). Its volatile state is `memory`, an id set
/// lost on a crash. Every durable write goes through [`Store::transaction`]:
/// one call is one atomic write, and a crash point fires only between them.
///
/// ```
/// use models::protocols::{Gate, ModelInfo, Protocol, Record, Registry, apply_effect};
/// use models::roles::ConsumerDb;
/// use models::vocab::IdSet;
/// use sim_core::{Step, Store};
///
/// /// Apply, then commit: at-least-once.
/// struct ApplyThenCommit;
///
/// static INFO: ModelInfo = ModelInfo {
///     claims: models::protocols::AT_LEAST_ONCE_CLAIMS,
///     consumer_crash_points: &["after-effect"],
///     ..ModelInfo::new("ApplyThenCommit", "apply, then commit")
/// };
///
/// impl Protocol for ApplyThenCommit {
///     fn info(&self) -> &ModelInfo {
///         &INFO
///     }
///
///     fn process(
///         &self,
///         db: &mut Store<'_, ConsumerDb>,
///         _memory: &mut IdSet,
///         rec: Record,
///         _checked: Option<bool>,
///         gate: &mut dyn Gate,
///     ) -> Step {
///         apply_effect(db, rec.key, gate);
///         gate.crash_point(rec.key, "after-effect")
///     }
/// }
///
/// static UNIT: ApplyThenCommit = ApplyThenCommit;
/// let registry = Registry::builtin().with(&UNIT);
/// assert!(registry.find("ApplyThenCommit").is_some());
/// ```
pub trait Protocol: Sync + 'static {
    /// The catalogue entry: name, mechanism, claims, breakers, anchor,
    /// crash points.
    fn info(&self) -> &ModelInfo;

    /// How the roles are wired (default: [`Wiring::PER_RECORD`]).
    fn wiring(&self) -> Wiring {
        Wiring::PER_RECORD
    }

    /// The model-specific scenario knobs it reads; any other is an error
    /// in a scenario that names it (default: none).
    fn knobs(&self) -> &'static [Knob] {
        &[]
    }

    /// Handle one delivered record, from durable state `db` and volatile
    /// `memory`, up to (not including) the offset commit; pass each crash
    /// point through `gate`, and report each effect (see [`apply_effect`]).
    /// `checked` is what [`Protocol::check_on_start`] found when work on
    /// the record began, if it checked.
    /// A [`ConsumerRole::CommitFirst`] consumer calls it after its offset
    /// commit is confirmed; transactional, streaming and leased consumers
    /// never call it.
    ///
    /// # Errors
    /// `Crashed` when a crash point fired.
    fn process(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        memory: &mut IdSet,
        rec: Record,
        checked: Option<bool>,
        gate: &mut dyn Gate,
    ) -> Step;

    /// When processing takes time (`consumer.processing_ms`), what a check
    /// made when work on `rec` begins found (M3 checks its seen-set then);
    /// [`Protocol::process`] then gets it as `checked`. Default: nothing
    /// is checked early.
    fn check_on_start(&self, db: &ConsumerDb, memory: &IdSet, rec: Record) -> Option<bool> {
        let _ = (db, memory, rec);
        None
    }

    /// What runs between a crashed attempt and its retry: the recovery
    /// worker's compensation, limited to `only`'s row when given (the law
    /// probe compensates the attempt it crashed). Called only when
    /// [`Wiring::recovery`] is set: by the recovery worker in a run, and by
    /// the law probe. Default: nothing.
    fn compensate(
        &self,
        db: &mut Store<'_, ConsumerDb>,
        only: Option<MsgKey>,
        gate: &mut dyn Gate,
    ) {
        let _ = (db, only, gate);
    }

    /// Work a restart or a compensation leaves in the seeds' message table,
    /// done at once (M0 processes every row left `unprocessed`). Called
    /// only when [`Wiring::recovery`] is set. Default: none.
    ///
    /// # Errors
    /// `Crashed` when a crash point fired.
    fn resume(&self, db: &mut Store<'_, ConsumerDb>, gate: &mut dyn Gate) -> Step {
        let _ = (db, gate);
        Ok(())
    }

    /// Durable state of the protocol's own type, as it starts: kept in the
    /// consumer's database, read with [`ConsumerDb::own`] and changed with
    /// [`ConsumerDb::own_mut`] inside a transaction (default: none; the
    /// shared tables serve the catalogue).
    fn durable_state(&self) -> Option<Box<dyn ProtocolState>> {
        None
    }

    /// The horizons of the durable state `db`: times after which it treats
    /// a message's copy as new (M5's dedup window, M11's key retention).
    /// The law probe retries just past each, when a retry can come that
    /// late (default: none).
    fn horizons(&self, db: &ConsumerDb) -> Vec<Horizon> {
        let _ = db;
        Vec::new()
    }

    /// The handlers that change durable state on a message but that the law
    /// probe cannot replay, each with why; the law's verdict names them
    /// (default: read from the wiring, see [`unprobed_by_wiring`]).
    fn unprobed(&self) -> Vec<Unprobed> {
        unprobed_by_wiring(self.wiring(), self.info())
    }

    /// What explanations may say about this protocol's failures.
    fn hints(&self) -> Hints {
        Hints::DEFAULT
    }

    /// What a message is partitioned by, as a record's key is in Kafka:
    /// messages with the same value go to the same partition, whose one
    /// consumer keeps their order (default: the message's sequence number,
    /// so a producer's messages take the partitions in turn).
    fn partition_key(&self, key: MsgKey) -> u32 {
        key.seq
    }

    /// Properties of its own, checked on every run beside the catalogue's
    /// checks; a scenario expects one broken by its name (default: none).
    fn properties(&self) -> &'static [Property] {
        &[]
    }
}

/// A property a protocol adds to the catalogue's checks, in the spirit of
/// stateright's `Property::always`: it must hold on every run, unless the
/// scenario expects it broken (`expect: Violates([DeliveredTakesEffect])`).
#[derive(Clone, Copy, Debug)]
pub struct Property {
    /// Its name, as scenario files and reports write it: letters and
    /// digits, unique among the registry's properties.
    pub name: &'static str,
    /// What it requires, in a sentence (`every delivered message takes
    /// effect`).
    pub means: &'static str,
    /// The messages that break it in a run's ledger, each with what is
    /// wrong in a few words (`delivered, never applied`); none: it held.
    pub evaluate: fn(&Ledger) -> Vec<(MsgKey, String)>,
}

/// A time after which a protocol's durable state treats a copy of a
/// message as new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Horizon {
    /// What it is, as a sentence names it (`dedup window`).
    pub name: &'static str,
    /// How long it lasts.
    pub lasts: SimDuration,
}

/// A handler the law probe cannot replay, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unprobed {
    /// The handler (`the transactional task`).
    pub handler: &'static str,
    /// Why the probe cannot replay it, in a clause.
    pub why: &'static str,
}

/// The handlers the law probe cannot replay, read from a protocol's
/// wiring: the probe replays [`Protocol::process`] (and the compensation
/// between a crashed attempt and its retry) on a clone of one consumer's
/// database; handlers whose state spans several actors are out of its
/// reach.
pub fn unprobed_by_wiring(wiring: Wiring, info: &ModelInfo) -> Vec<Unprobed> {
    let mut out = Vec::new();
    match wiring.consumer {
        ConsumerRole::PerRecord | ConsumerRole::CommitFirst => {}
        ConsumerRole::Transactional(_) => out.push(Unprobed {
            handler: "the transactional task",
            why: "its read, produce and offset commit form one transaction held by the broker \
                  and the transaction coordinator, not by the consumer's database",
        }),
        ConsumerRole::Streaming { .. } => out.push(Unprobed {
            handler: "the streaming job's sink",
            why: "its effects commit at checkpoint barriers that span many records, not one \
                  record at a time",
        }),
        ConsumerRole::Leased { .. } => out.push(Unprobed {
            handler: "the lease holder's write",
            why: "the storage accepts or refuses it by the lease token, outside the \
                  consumer's database",
        }),
    }
    if !info.producer_crash_points.is_empty() {
        out.push(Unprobed {
            handler: "the producer's durable steps",
            why: "they write the producer's database and the broker, two stores the probe \
                  cannot clone together",
        });
    }
    out
}

/// How a protocol's roles are wired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wiring {
    /// What the consumers do with a record.
    pub consumer: ConsumerRole,
    /// Where the producer's messages come from.
    pub producer: Source,
    /// Whether the producer retries until acked (otherwise it fires and
    /// forgets).
    pub producer_retries: bool,
    /// Whether the seeds' recovery worker runs beside the consumers.
    pub recovery: bool,
    /// Whether the broker appends each message once: its source log is
    /// written by an idempotent producer upstream, or one connection
    /// delivers a request once.
    pub dedup_appends: bool,
}

impl Wiring {
    /// A consumer that handles each record with [`Protocol::process`], then
    /// commits its offset; a producer that retries until acked.
    pub const PER_RECORD: Wiring = Wiring {
        consumer: ConsumerRole::PerRecord,
        producer: Source::Memory,
        producer_retries: true,
        recovery: false,
        dedup_appends: false,
    };
}

/// What a consumer does with the records of its partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerRole {
    /// Process, then commit the offset.
    PerRecord,
    /// Commit the offset, wait for the broker to confirm that this commit
    /// stored it, then process (M1).
    CommitFirst,
    /// A transactional consume-process-produce task (M7).
    Transactional(TxnRules),
    /// A streaming job with checkpoint barriers (M8); `two_phase`: its sink
    /// commits in two phases, otherwise effects apply at once.
    Streaming {
        /// Whether the sink is transactional.
        two_phase: bool,
    },
    /// Two consumers compete for partition 0 under a lease and write to the
    /// storage under it (M12); `fencing`: the storage refuses stale tokens.
    Leased {
        /// Whether writes carry a fencing token.
        fencing: bool,
    },
}

/// A scenario knob that only some protocols read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Knob {
    /// `producer.max_in_flight`.
    MaxInFlight,
    /// `broker.lease_ms`.
    LeaseMs,
    /// `consumer.dedup_window_ms`, with the protocol's default.
    DedupWindowMs {
        /// The window when the scenario gives none.
        default_ms: u64,
    },
}

impl Knob {
    /// The knob's path in a scenario file.
    pub fn path(self) -> &'static str {
        match self {
            Knob::MaxInFlight => "producer.max_in_flight",
            Knob::LeaseMs => "broker.lease_ms",
            Knob::DedupWindowMs { .. } => "consumer.dedup_window_ms",
        }
    }
}

/// What explanations may say about a protocol's failures; a hint is said
/// only where the run shows the failure it explains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hints {
    /// Why a message took effect more than once, when the protocol's own
    /// mechanism is the cause whatever the faults were.
    pub duplicate_effect: Option<&'static str>,
    /// Why a message was never applied, said when a consumer crashed at
    /// the named point while handling it.
    pub lost_effect: Option<CrashCause>,
    /// What let two consumers both process a record that a rebalance moved
    /// between them; `None` when a rebalance cannot cause a duplicate.
    pub rebalance_duplicate: Option<&'static str>,
}

impl Hints {
    /// No cause of the protocol's own; a rebalance duplicates because both
    /// consumers processed the record.
    pub const DEFAULT: Hints = Hints {
        duplicate_effect: None,
        lost_effect: None,
        rebalance_duplicate: Some("both processed it"),
    };
}

/// A cause tied to a crash point: said only for a message whose handler
/// crashed there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashCause {
    /// The crash point.
    pub at: &'static str,
    /// What a crash there did, in a sentence.
    pub why: &'static str,
}

/// A protocol as a scenario names it: a handle to its unit in a
/// [`Registry`], with what the roles ask of it on every record read once
/// (its wiring). Two handles are equal when
/// they name the same protocol.
#[derive(Clone, Copy)]
pub struct Model {
    unit: &'static dyn Protocol,
    wiring: Wiring,
    /// The step program, when the scenario wrote the protocol as steps.
    steps: Option<&'static steps::StepProtocol>,
}

impl Model {
    /// The handle of `unit`.
    pub fn of(unit: &'static dyn Protocol) -> Model {
        Model {
            unit,
            wiring: unit.wiring(),
            steps: None,
        }
    }

    /// The handle of a step program (see [`steps`]).
    pub fn of_steps(program: steps::Program) -> Model {
        let unit = steps::unit_for(program);
        Model {
            steps: Some(unit),
            ..Model::of(unit)
        }
    }

    /// The step program, when the scenario wrote the protocol as steps.
    pub fn steps(self) -> Option<&'static steps::StepProtocol> {
        self.steps
    }

    /// Where crash point `point` sits, in words: a step program says
    /// between which of its steps (`after step 3 (Effect), before step 4
    /// (SetStatus(Processed))`); a catalogue model's point names itself.
    pub fn place_of(self, point: &str) -> String {
        match self.steps.and_then(|s| s.place_of(point)) {
            Some(place) => format!("{point}, {place}"),
            None => point.to_string(),
        }
    }

    /// The unit.
    pub fn unit(self) -> &'static dyn Protocol {
        self.unit
    }

    /// The catalogue entry.
    pub fn info(self) -> &'static ModelInfo {
        self.unit.info()
    }

    /// The name scenario files use (`M0Naive`).
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// How the roles are wired.
    pub fn wiring(self) -> Wiring {
        self.wiring
    }

    /// Whether the producer retries until acked (otherwise fire-and-forget).
    pub fn producer_retries(self) -> bool {
        self.wiring().producer_retries
    }

    /// Where the producer's messages come from.
    pub fn producer_source(self) -> Source {
        self.wiring().producer
    }

    /// Whether the consumer is a streaming job with checkpoints (M8).
    pub fn streams(self) -> bool {
        matches!(self.wiring().consumer, ConsumerRole::Streaming { .. })
    }

    /// The transaction rules, if the consumers are transactional tasks (M7).
    pub fn txn_rules(self) -> Option<TxnRules> {
        match self.wiring().consumer {
            ConsumerRole::Transactional(rules) => Some(rules),
            _ => None,
        }
    }

    /// Whether the consumers are transactional tasks (M7).
    pub fn transactional(self) -> bool {
        self.txn_rules().is_some()
    }

    /// Whether two consumers compete for partition 0 under a lease (M12).
    pub fn uses_lease(self) -> bool {
        matches!(self.wiring().consumer, ConsumerRole::Leased { .. })
    }

    /// Whether its consumers can form a group whose partitions move
    /// between them (F-rebalance): not M0's worker, M8's job or M12's lease
    /// holders.
    pub fn has_consumer_group(self) -> bool {
        !(self.uses_recovery() || self.streams() || self.uses_lease())
    }

    /// Whether the model uses the seeds' recovery worker.
    pub fn uses_recovery(self) -> bool {
        self.wiring().recovery
    }

    /// Whether the law probe replays its consumer's record handler
    /// ([`Protocol::process`]): a per-record or commit-first consumer.
    pub fn probed(self) -> bool {
        matches!(
            self.wiring().consumer,
            ConsumerRole::PerRecord | ConsumerRole::CommitFirst
        )
    }

    /// The partition, of `partitions`, that `key` goes to (see
    /// [`Protocol::partition_key`]).
    pub fn partition_of(self, key: MsgKey, partitions: u32) -> u32 {
        self.unit.partition_key(key) % partitions.max(1)
    }

    /// Whether the model reads `knob` (compared by kind).
    pub fn reads(self, knob: Knob) -> bool {
        let same = |k: &Knob| std::mem::discriminant(k) == std::mem::discriminant(&knob);
        self.unit.knobs().iter().any(same)
    }

    /// How long its consumer keeps a dedup entry: the scenario's
    /// `consumer.dedup_window_ms`, else the model's default, else M5's.
    pub fn dedup_window(self, dedup_window_ms: Option<u64>) -> SimDuration {
        let default = self.unit.knobs().iter().find_map(|k| match k {
            Knob::DedupWindowMs { default_ms } => Some(*default_ms),
            _ => None,
        });
        let ms = dedup_window_ms
            .or(default)
            .unwrap_or(m5_dedup_window::DEFAULT_WINDOW_MS);
        SimDuration::from_ms(ms)
    }
}

impl PartialEq for Model {
    /// The same catalogue model, or the same step program.
    fn eq(&self, other: &Model) -> bool {
        let same_steps = match (self.steps, other.steps) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        self.name() == other.name() && same_steps
    }
}

impl Eq for Model {}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Model {
    /// As its name, spelled as a unit variant (`model: M2` in RON); a step
    /// program as a struct variant (`model: Steps(consumer: [...], ...)`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStructVariant as _;
        let Some(unit) = self.steps else {
            return s.serialize_unit_variant("ModelId", 0, self.name());
        };
        let p = unit.program();
        let mut v = s.serialize_struct_variant("ModelId", 0, steps::NAME, 5)?;
        match &p.name {
            Some(name) => v.serialize_field("name", name)?,
            None => v.skip_field("name")?,
        }
        v.serialize_field("consumer", &p.consumer)?;
        if p.recovery.is_empty() {
            v.skip_field("recovery")?;
        } else {
            v.serialize_field("recovery", &p.recovery)?;
        }
        if p.producer == steps::Producer::default() {
            v.skip_field("producer")?;
        } else {
            v.serialize_field("producer", &p.producer)?;
        }
        v.serialize_field("claims", &p.claims)?;
        v.end()
    }
}

impl<'de> Deserialize<'de> for Model {
    /// By name, from the installed [`registry`]; `Steps(...)` as a step
    /// program.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Model, D::Error> {
        d.deserialize_enum("ModelId", registry().variants(), ModelVisitor)
    }
}

/// The fields of `Steps(...)`.
const STEPS_FIELDS: &[&str] = &["name", "consumer", "recovery", "producer", "claims"];

struct StepsVisitor;

impl<'de> serde::de::Visitor<'de> for StepsVisitor {
    type Value = Model;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a step program: Steps(consumer: [...], claims: ...)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Model, A::Error> {
        let program =
            steps::Program::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(Model::of_steps(program))
    }
}

struct ModelVisitor;

impl<'de> serde::de::Visitor<'de> for ModelVisitor {
    type Value = Model;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a model name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Model, E> {
        let registry = registry();
        registry
            .get(name)
            .ok_or_else(|| E::unknown_variant(name, registry.names()))
    }

    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Model, A::Error> {
        use serde::de::VariantAccess as _;
        let (model, variant) = data.variant_seed(self)?;
        match model {
            Some(model) => {
                variant.unit_variant()?;
                Ok(model)
            }
            None => variant.struct_variant(STEPS_FIELDS, StepsVisitor),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for ModelVisitor {
    /// The catalogue model named, or `None` for `Steps`.
    type Value = Option<Model>;

    /// The variant's name, as an identifier.
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<Model>, D::Error> {
        d.deserialize_identifier(VariantName)
    }
}

/// A model's variant name: a catalogue model, or `Steps`.
struct VariantName;

impl serde::de::Visitor<'_> for VariantName {
    type Value = Option<Model>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a model name, or Steps(...)")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Option<Model>, E> {
        if name == steps::NAME {
            return Ok(None);
        }
        ModelVisitor.visit_str(name).map(Some)
    }
}

/// The protocols scenarios can name: the built-in catalogue, and any a
/// user adds.
#[derive(Clone)]
pub struct Registry {
    models: Vec<Model>,
    names: Vec<&'static str>,
    /// `names`, then `Steps`: what a scenario's `model` may be.
    variants: Vec<&'static str>,
}

impl Registry {
    /// The built-in catalogue, in teaching order. Adding a protocol to the
    /// catalogue is one file in `protocols/`, its `mod` line above, and
    /// one line here.
    pub fn builtin() -> Registry {
        let units: &[&'static dyn Protocol] = &[
            &m1_at_most_once::M1,
            &m2_at_least_once::M2,
            &m2_set::M2_SET,
            &m0_seeds::NAIVE,
            &m0_seeds::ATOMIC,
            &m3_consumer_dedup::DURABLE,
            &m3_consumer_dedup::MEMORY,
            &m4_inbox::INBOX,
            &m4_inbox::EXTERNAL,
            &m5_dedup_window::M5,
            &m6_idempotent_producer::M6,
            &m11_idempotency_key::M11,
            &m7_transactions::TRANSACTIONAL,
            &m7_transactions::PRE_KIP_890,
            &m7_transactions::READ_UNCOMMITTED,
            &m7_transactions::UNFENCED,
            &m7_transactions::EXTERNAL,
            &m7_transactions::FETCH_PAST_LSO,
            &m8_checkpoint::TWO_PHASE,
            &m8_checkpoint::AT_LEAST_ONCE,
            &m9_dual_write::DUAL_WRITE,
            &m9_dual_write::REVERSE,
            &m10_outbox::OUTBOX,
            &m10_outbox::PLAIN,
            &m12_lease::FENCED,
            &m12_lease::UNFENCED,
        ];
        units
            .iter()
            .copied()
            .fold(Registry::empty(), Registry::with)
    }

    /// A registry with no protocol in it.
    pub fn empty() -> Registry {
        Registry {
            models: Vec::new(),
            names: Vec::new(),
            variants: vec![steps::NAME],
        }
    }

    /// This registry with `unit` added after the others.
    ///
    /// # Panics
    /// If a protocol of the same name (or printed code) is already in it,
    /// or one of its properties is named like a catalogue check or like a
    /// different property already in it: a scenario could not tell them
    /// apart (variants of one protocol may share one `static` property).
    #[must_use]
    pub fn with(mut self, unit: &'static dyn Protocol) -> Registry {
        let info = unit.info();
        let clash = self.models.iter().find(|m| {
            let other = m.info();
            other.name.eq_ignore_ascii_case(info.name) || other.code.eq_ignore_ascii_case(info.code)
        });
        assert!(
            clash.is_none(),
            "protocol `{}` ({}) is already registered",
            info.name,
            info.code
        );
        for p in unit.properties() {
            assert!(
                CheckId::ALL
                    .iter()
                    .all(|c| !c.code().eq_ignore_ascii_case(p.name)),
                "property `{}` of `{}` is named like a catalogue check",
                p.name,
                info.name
            );
            let other = self.property(p.name);
            assert!(
                other.is_none_or(|o| std::ptr::eq(o, p)),
                "property `{}` of `{}` has another property's name",
                p.name,
                info.name
            );
        }
        assert!(
            info.name != steps::NAME,
            "`{}` is the name of step programs",
            steps::NAME
        );
        self.models.push(Model::of(unit));
        self.names.push(info.name);
        self.variants.insert(self.names.len() - 1, info.name);
        self
    }

    /// Every model, in registration order.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The property named `name`, among every registered protocol's.
    pub fn property(&self, name: &str) -> Option<&'static Property> {
        self.models
            .iter()
            .flat_map(|m| m.unit().properties())
            .find(|p| p.name == name)
    }

    /// Every model's scenario name, in registration order.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// What a scenario's `model` may be: every model's name, then `Steps`
    /// (a step program).
    pub fn variants(&self) -> &[&'static str] {
        &self.variants
    }

    /// The model a scenario file names exactly (`M0Naive`).
    pub fn get(&self, name: &str) -> Option<Model> {
        self.models.iter().copied().find(|m| m.name() == name)
    }

    /// The model with scenario name or printed code `name`, in any case
    /// (`M0Naive`, `m0-naive`).
    pub fn find(&self, name: &str) -> Option<Model> {
        self.models.iter().copied().find(|m| {
            m.name().eq_ignore_ascii_case(name) || m.info().code.eq_ignore_ascii_case(name)
        })
    }

    /// Make this the registry that scenario files are read against in this
    /// process. Call it once, before any scenario is read.
    ///
    /// # Errors
    /// Gives the registry back if one is already installed or in use (the
    /// built-in catalogue is installed by the first read otherwise).
    pub fn install(self) -> Result<(), Registry> {
        INSTALLED.set(self)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.names).finish()
    }
}

static INSTALLED: OnceLock<Registry> = OnceLock::new();

/// The registry scenario files are read against: the one installed with
/// [`Registry::install`], else the built-in catalogue.
pub fn registry() -> &'static Registry {
    INSTALLED.get_or_init(Registry::builtin)
}

/// What the catalogue says about a model.
#[derive(Clone, Copy, Debug)]
pub struct ModelInfo {
    /// The name scenario files use (`M0Naive`): letters and digits.
    pub name: &'static str,
    /// Short code, as printed (`M0-naive`).
    pub code: &'static str,
    /// One-line title.
    pub title: &'static str,
    /// The guarantee it claims.
    pub guarantee: &'static str,
    /// How it works, in one sentence.
    pub mechanism: &'static str,
    /// The checks it claims to keep under the faults it survives.
    pub claims: &'static [CheckId],
    /// The fault classes under which every claimed check holds (the fault
    /// matrix checks this, run by run).
    pub survives: &'static [FaultClass],
    /// The faults that break it and what they break.
    pub breakers: &'static str,
    /// Where it comes from.
    pub anchor: &'static str,
    /// The consumer's crash points, in the order a handler passes them.
    pub consumer_crash_points: &'static [&'static str],
    /// The producer's crash points (M9, M10: between its database and the
    /// broker).
    pub producer_crash_points: &'static [&'static str],
    /// A model that avoids its failures, for hints.
    pub remedy: &'static str,
    /// Faults its claim leaves out, as its guarantee says ("against
    /// duplicates, not against crashes"): a violation that one of them
    /// caused does not break its promise. Empty when the claim is meant
    /// to hold under every fault, even where it does not (M0-naive).
    pub outside_claim: &'static [FaultClass],
    /// The catalogue's remedy as a model (its scenario name, `M4`): the
    /// model that avoids this one's failures in the same scenario, which
    /// `eosim diff --fix` runs side by side. `None` where the remedy is a
    /// setting, not another model.
    pub fixed_by: Option<&'static str>,
}

impl ModelInfo {
    /// An entry named `name` (also its printed code) with `title`, claiming
    /// nothing and with no crash points: fill in the rest with struct
    /// update syntax.
    pub const fn new(name: &'static str, title: &'static str) -> ModelInfo {
        ModelInfo {
            name,
            code: name,
            title,
            guarantee: "",
            mechanism: "",
            claims: &[],
            survives: &[],
            breakers: "",
            anchor: "",
            consumer_crash_points: &[],
            producer_crash_points: &[],
            remedy: "",
            outside_claim: &[],
            fixed_by: None,
        }
    }
}

/// Where a consumer's processing step reports crash points and effects: the
/// engine's context in a run, or the law probe's forcing gate.
pub trait Gate {
    /// Pass a crash point while handling `key`.
    ///
    /// # Errors
    /// `Crashed` if the point fires.
    fn crash_point(&mut self, key: MsgKey, point: &'static str) -> Step;
    /// An effect of `key` was applied; it has now been applied `count` times.
    fn effect(&mut self, key: MsgKey, count: u32);
    /// The time on the actor's own clock (dedup windows expire; a clock
    /// jump moves it).
    fn now(&self) -> SimTime;
    /// Record something the history should know besides effects (a
    /// compensation, a copy taken after its dedup window, a refused
    /// request), for the checkers and the explanations; the law probe's
    /// gate ignores it.
    fn observe(&mut self, obs: Obs);
    /// Leave the record being handled uncommitted: a process-then-commit
    /// consumer sends no offset commit for it, and the broker redelivers it
    /// after its redelivery timeout (a step program's `Retry`). Default:
    /// ignored (the law probe judges the attempt as it ended).
    fn retry_later(&mut self) {}
}

/// A record as a consumer receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Record {
    /// The logical message.
    pub key: MsgKey,
    /// The id the protocol deduplicates on (equal for every retry of a
    /// message unless the producer makes new ids on retry).
    pub dedup_id: u64,
}

/// Apply one effect of `key` in one durable write, and report it.
pub fn apply_effect(db: &mut Store<'_, ConsumerDb>, key: MsgKey, gate: &mut dyn Gate) {
    let count = db.transaction(|d| d.add_effect(key));
    gate.effect(key, count);
}

/// What an exactly-once model claims: no loss (C1, C2), no duplicate effect
/// (C3), consistent offsets (C5), no phantom (C6), no effect of a failed
/// operation (C7), exactly-once (C8), both
/// laws (C14, C15) and liveness (C16). Not C4: the broker appends every copy
/// it receives, and an exactly-once *effect* is built on top of that; not
/// C11 or C12: records are redelivered one by one, out of order.
pub const EXACTLY_ONCE_CLAIMS: &[CheckId] = &[
    CheckId::C1,
    CheckId::C2,
    CheckId::C3,
    CheckId::C5,
    CheckId::C6,
    CheckId::C7,
    CheckId::C8,
    CheckId::C14,
    CheckId::C15,
    CheckId::C16,
];

/// What an at-least-once model claims: no loss (C1, C2), consistent offsets
/// (C5), no phantom (C6) and liveness (C16).
pub const AT_LEAST_ONCE_CLAIMS: &[CheckId] = &[
    CheckId::C1,
    CheckId::C2,
    CheckId::C5,
    CheckId::C6,
    CheckId::C16,
];

/// The network's fault classes: what a model survives when only crashes
/// break it.
pub const NETWORK_FAULTS: &[FaultClass] = &[
    FaultClass::Loss,
    FaultClass::Duplicate,
    FaultClass::Reorder,
    FaultClass::Partition,
];

/// The crash point every strategy but M1 passes last, before it sends the
/// offset commit.
pub const AFTER_EFFECT_BEFORE_OFFSET_COMMIT: &str = "after-effect-before-offset-commit";
