//! W2 "M0 bounded exhaustive": the peer harness's model of the seeds'
//! protocol, written as eosim actors and explored by `eosim explore`'s
//! search ([`models::explore`]), so that the `w2` binary can run side by
//! side with the Stateright peer on the same model.
//!
//! - *Guarantee.* Atomic: exactly-once effect (no message's effect applied
//!   twice). Naive claims the same and does not keep it.
//! - *What breaks it.* Naive: a consumer crash after its `Effect` was
//!   applied and before `Done` leaves the row `processing`; a sweep returns
//!   it and the effect is applied again. Untimed, a sweep can also return a
//!   row a live consumer is still working on.
//! - *Anchor.* `../shared/peers/stateright-w2`'s README ("The model,
//!   exactly"), after the seed article's §3.2 and §5.
//!
//! Four actors: producer (0), storage (1, the broker and the database:
//! every change durable), consumer (2), recovery worker (3). The messages
//! and handlers are the peer's, one to one. Where eosim's engine differs,
//! the model follows the engine:
//! - a delivery the receiver ignores is consumed (the peer leaves it in
//!   flight, not an action);
//! - a datagram that reaches a crashed actor is lost (the peer keeps it
//!   waiting); a crashed actor restarts 50 ms later (timed) or at any
//!   moment (untimed), as the peer's `Recover`;
//! - an actor crashes after any handler (the crash point `after-handling`),
//!   within the crash budget, instead of at any state with at most one
//!   crashed at a time and no limit on crash-recover cycles;
//! - losses and duplicates are bounded per execution (the peer's network
//!   loses any number; its duplicating network redelivers any envelope any
//!   number of times);
//! - timed, the links take 1–10 ms, the producer retries after 50 ms and
//!   the recovery worker sweeps every 100 ms (the bundled M0 scenarios'
//!   values); untimed, any waiting event may come next, as in the peer.
//!
//! # Determinism contract
//! A search depends only on its [`W2`] configuration and bounds: the search
//! is breadth- or depth-first over the engine's choice source, with no
//! clock, thread or hash-container order inside it.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use models::check::{CheckId, Violation};
use models::explore::{Bounds, Model};
use models::run::{Judged, Judgement};
use sim_core::{
    Actor, ActorId, Choices, CrashKnob, Ctx, EndReason, Explorer, FaultPlan, Limits, LinkConfig,
    Ordering, Ratio, Sim, SimDuration, SimTime, Step, Store, TimerId, Topology,
};

/// The peer's two variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The effect and the status update are separate steps.
    Naive,
    /// They are one durable step.
    Atomic,
}

/// A row of the message table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Row {
    /// Not appended.
    Absent,
    /// Appended, not claimed.
    Unprocessed,
    /// Claimed by the consumer.
    Processing,
    /// Done.
    Processed,
}

/// The datagrams, as in the peer (`i` is a message's index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Msg {
    /// Producer to storage.
    Append(u8),
    /// Storage to producer.
    AppendAck(u8),
    /// Storage to consumer.
    Deliver(u8),
    /// Consumer to storage: claim the row if it is unprocessed.
    Claim(u8),
    /// Storage to consumer: claimed.
    Claimed(u8),
    /// Storage to consumer: not unprocessed (the processed-check).
    Skip(u8),
    /// Naive: apply the effect.
    Effect(u8),
    /// Naive: the effect was applied.
    Applied(u8),
    /// Naive: mark the row processed.
    Done(u8),
    /// Atomic: the effect and the row, in one step.
    Commit(u8),
    /// Recovery to storage: compensate and redeliver.
    Sweep,
}

/// The timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Producer: re-send message `i` unless acked.
    Retry(u8),
    /// Recovery: send a sweep.
    Sweep,
}

/// The storage's state, all durable (empty for the other actors).
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub struct Db {
    rows: Vec<Row>,
    /// How many times each message's effect was applied, saturating at 2.
    effects: Vec<u8>,
}

impl Clone for Db {
    fn clone(&self) -> Self {
        Db {
            rows: self.rows.clone(),
            effects: self.effects.clone(),
        }
    }

    /// Reuses the buffers: the search copies a state once per successor.
    fn clone_from(&mut self, source: &Self) {
        let Db { rows, effects } = source;
        self.rows.clone_from(rows);
        self.effects.clone_from(effects);
    }
}

/// What the consumer is working on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    /// Nothing.
    Idle,
    /// Sent `Claim(i)`.
    Claiming(u8),
    /// Naive: sent `Effect(i)`.
    Applying(u8),
}

/// Volatile state, lost on a crash.
#[derive(Debug, PartialEq, Eq, Hash)]
pub enum Vol {
    /// The messages acked, and each one's retry timer.
    Producer(Vec<(bool, Option<TimerId>)>),
    /// Nothing volatile.
    Storage,
    /// The message in hand.
    Consumer(Work),
    /// Nothing volatile.
    Recovery,
}

impl Clone for Vol {
    fn clone(&self) -> Self {
        match self {
            Vol::Producer(acked) => Vol::Producer(acked.clone()),
            Vol::Storage => Vol::Storage,
            Vol::Consumer(work) => Vol::Consumer(*work),
            Vol::Recovery => Vol::Recovery,
        }
    }

    /// Reuses the producer's buffer: the search copies a state once per
    /// successor.
    fn clone_from(&mut self, source: &Self) {
        match (self, source) {
            (Vol::Producer(mine), Vol::Producer(theirs)) => mine.clone_from(theirs),
            (mine, theirs) => *mine = theirs.clone(),
        }
    }
}

/// An effect was applied: the search judges the state after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Applied(pub u8);

const PRODUCER: ActorId = ActorId(0);
const STORAGE: ActorId = ActorId(1);
const CONSUMER: ActorId = ActorId(2);
const RECOVERY: ActorId = ActorId(3);

/// The one crash point of every actor: after a handler ran.
pub const AFTER_HANDLING: &str = "after-handling";

/// One actor of the model.
#[derive(Clone, Debug)]
pub struct Node {
    role: ActorId,
    n: u8,
    variant: Variant,
}

const RETRY_AFTER: SimDuration = SimDuration::from_ms(50);
const SWEEP_EVERY: SimDuration = SimDuration::from_ms(100);

impl Node {
    fn storage(&self, db: &mut Store<'_, Db>, ctx: &mut Ctx<'_, Self, impl Choices>, msg: Msg) {
        let reply = |ctx: &mut Ctx<'_, Self, _>, m| ctx.send(CONSUMER, m);
        match msg {
            Msg::Append(i) => {
                if db.get().rows[usize::from(i)] == Row::Absent {
                    db.transaction(|d| d.rows[usize::from(i)] = Row::Unprocessed);
                    reply(ctx, Msg::Deliver(i));
                }
                ctx.send(PRODUCER, Msg::AppendAck(i));
            }
            Msg::Claim(i) => {
                if db.get().rows[usize::from(i)] == Row::Unprocessed {
                    db.transaction(|d| d.rows[usize::from(i)] = Row::Processing);
                    reply(ctx, Msg::Claimed(i));
                } else {
                    reply(ctx, Msg::Skip(i));
                }
            }
            Msg::Effect(i) => {
                db.transaction(|d| apply(d, i));
                ctx.observe(Applied(i));
                reply(ctx, Msg::Applied(i));
            }
            Msg::Done(i) => db.transaction(|d| d.rows[usize::from(i)] = Row::Processed),
            Msg::Commit(i) if db.get().rows[usize::from(i)] != Row::Processed => {
                db.transaction(|d| {
                    apply(d, i);
                    d.rows[usize::from(i)] = Row::Processed;
                });
                ctx.observe(Applied(i));
            }
            Msg::Sweep => {
                db.transaction(|d| {
                    for row in &mut d.rows {
                        if *row == Row::Processing {
                            *row = Row::Unprocessed;
                        }
                    }
                });
                for (i, row) in (0..self.n).zip(&db.get().rows) {
                    if *row == Row::Unprocessed {
                        reply(ctx, Msg::Deliver(i));
                    }
                }
            }
            _ => {}
        }
    }

    fn consumer(&self, work: &mut Work, ctx: &mut Ctx<'_, Self, impl Choices>, msg: Msg) {
        *work = match (msg, *work) {
            (Msg::Deliver(i), Work::Idle) => {
                ctx.send(STORAGE, Msg::Claim(i));
                Work::Claiming(i)
            }
            (Msg::Claimed(i), Work::Claiming(j)) if i == j => match self.variant {
                Variant::Naive => {
                    ctx.send(STORAGE, Msg::Effect(i));
                    Work::Applying(i)
                }
                Variant::Atomic => {
                    ctx.send(STORAGE, Msg::Commit(i));
                    Work::Idle
                }
            },
            (Msg::Skip(i), Work::Claiming(j)) if i == j => Work::Idle,
            (Msg::Applied(i), Work::Applying(j)) if i == j => {
                ctx.send(STORAGE, Msg::Done(i));
                Work::Idle
            }
            (_, unchanged) => unchanged,
        };
    }
}

fn apply(d: &mut Db, i: u8) {
    let count = &mut d.effects[usize::from(i)];
    *count = (*count + 1).min(2);
}

impl Actor for Node {
    type Msg = Msg;
    type Timer = Timer;
    type Durable = Db;
    type Volatile = Vol;
    type Obs = Applied;

    fn init_durable(&self) -> Db {
        if self.role != STORAGE {
            return Db::default();
        }
        Db {
            rows: vec![Row::Absent; usize::from(self.n)],
            effects: vec![0; usize::from(self.n)],
        }
    }

    fn start<C: Choices>(&self, _: &Db, ctx: &mut Ctx<'_, Self, C>) -> Vol {
        match self.role {
            PRODUCER => Vol::Producer(
                (0..self.n)
                    .map(|i| {
                        ctx.send(STORAGE, Msg::Append(i));
                        (false, Some(ctx.set_timer(RETRY_AFTER, Timer::Retry(i))))
                    })
                    .collect(),
            ),
            STORAGE => Vol::Storage,
            CONSUMER => Vol::Consumer(Work::Idle),
            _ => {
                ctx.set_poll_timer(SWEEP_EVERY, Timer::Sweep);
                Vol::Recovery
            }
        }
    }

    fn on_msg<C: Choices>(
        &self,
        mut db: Store<'_, Db>,
        vol: &mut Vol,
        ctx: &mut Ctx<'_, Self, C>,
        _src: ActorId,
        msg: Msg,
    ) -> Step {
        match vol {
            Vol::Producer(acked) => {
                if let Msg::AppendAck(i) = msg
                    && let Some((done, retry)) = acked.get_mut(usize::from(i))
                    && !*done
                {
                    *done = true;
                    if let Some(t) = retry.take() {
                        ctx.cancel_timer(t);
                    }
                }
            }
            Vol::Storage => self.storage(&mut db, ctx, msg),
            Vol::Consumer(work) => self.consumer(work, ctx, msg),
            Vol::Recovery => {}
        }
        ctx.crash_point(AFTER_HANDLING)
    }

    fn on_timer<C: Choices>(
        &self,
        _: Store<'_, Db>,
        vol: &mut Vol,
        ctx: &mut Ctx<'_, Self, C>,
        timer: Timer,
    ) -> Step {
        match (timer, vol) {
            (Timer::Retry(i), Vol::Producer(acked)) => {
                let (done, retry) = &mut acked[usize::from(i)];
                *retry = None;
                if !*done {
                    ctx.send(STORAGE, Msg::Append(i));
                    *retry = Some(ctx.set_timer(RETRY_AFTER, Timer::Retry(i)));
                }
            }
            (Timer::Sweep, Vol::Recovery) => {
                ctx.send(STORAGE, Msg::Sweep);
                ctx.set_poll_timer(SWEEP_EVERY, Timer::Sweep);
            }
            _ => {}
        }
        ctx.crash_point(AFTER_HANDLING)
    }

    /// The storage has work while a row is not processed: the sweeps go on.
    fn is_busy(&self, db: &Db, _: Option<&Vol>) -> bool {
        db.rows.iter().any(|r| *r != Row::Processed)
    }
}

/// The network: losing, and duplicating or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Each copy is delivered at most once.
    NonDuplicating,
    /// The network may deliver a datagram twice.
    Duplicating,
}

/// A W2 model: the variant, the number of messages and the network.
#[derive(Debug)]
pub struct W2 {
    /// Naive or atomic.
    pub variant: Variant,
    /// Messages (at most 255).
    pub n: u8,
    /// The network.
    pub network: Network,
    all_applied: AtomicBool,
}

impl W2 {
    /// The model with `n` messages.
    pub fn new(variant: Variant, n: u8, network: Network) -> W2 {
        W2 {
            variant,
            n,
            network,
            all_applied: AtomicBool::new(false),
        }
    }

    /// Whether some state the search judged had every message applied (the
    /// peer's `sometimes` property).
    pub fn all_applied(&self) -> bool {
        self.all_applied.load(Relaxed)
    }

    /// The peer's bounds where eosim can express them, and the given
    /// budget: no duplicates on a non-duplicating network.
    pub fn bounds(&self, mut bounds: Bounds) -> Bounds {
        if self.network == Network::NonDuplicating {
            bounds.faults.duplicates = 0;
        }
        bounds
    }
}

impl Model for W2 {
    type Actor = Node;

    fn sim(&self, choices: Explorer) -> Sim<Node, Explorer> {
        let names: Vec<String> = ["producer", "storage", "consumer", "recovery"]
            .map(String::from)
            .to_vec();
        let either = Ratio::new(1, 2);
        let link = LinkConfig {
            drop: either,
            duplicate: match self.network {
                Network::Duplicating => either,
                Network::NonDuplicating => Ratio::NEVER,
            },
            delay_us_min: 1_000,
            delay_us_max: 10_000,
            delay_us_step: 1_000,
            ordering: Ordering::Reordering,
        };
        let faults = FaultPlan {
            faults_until: SimTime::MAX,
            crash_knobs: vec![CrashKnob {
                actor: None,
                point: None,
                ratio: either,
            }],
            ..FaultPlan::default()
        };
        let limits = Limits {
            time_max: SimTime::MAX,
            events_max: u64::MAX,
            drain_max: SimDuration(0),
            observations_max: u64::MAX,
        };
        let actors = [PRODUCER, STORAGE, CONSUMER, RECOVERY]
            .map(|role| Node {
                role,
                n: self.n,
                variant: self.variant,
            })
            .to_vec();
        let topology = Topology::full_mesh(&names, link);
        Sim::new(names, actors, topology, faults, limits, choices)
    }

    /// No actor reads the clock, and nothing ends or stops by time.
    fn clock_free(&self) -> bool {
        true
    }

    fn judge(
        &self,
        state: &Sim<Node, Explorer>,
        _end: Option<EndReason>,
        _found: &[CheckId],
    ) -> Vec<Judged> {
        let effects = &state.durable(STORAGE).effects;
        if effects.iter().all(|e| *e >= 1) {
            self.all_applied.store(true, Relaxed);
        }
        let twice = effects.iter().position(|e| *e >= 2);
        let judgement = match twice {
            None => Judgement::Pass("no message's effect applied twice".into()),
            Some(i) => Judgement::Fail(vec![Violation {
                check: CheckId::C3,
                subject: None,
                summary: format!("message {i}'s effect applied twice"),
                story: Vec::new(),
                crash_point: None,
                cause: "applied twice",
            }]),
        };
        vec![Judged {
            check: CheckId::C3,
            judgement,
        }]
    }
}
