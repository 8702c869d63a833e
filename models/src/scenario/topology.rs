//! The actors a scenario implies, their names, links and crash points, and
//! the translation of a checked spec into engine types.

use sim_core::{
    ActorId, ClockJump, CrashKnob, Datagram, FaultPlan, Limits, LinkConfig, Ordering, Partition,
    PauseKnob, Ratio, ScheduledCrash, ScheduledDelay, ScheduledPause, ScheduledSignal, SignalKnob,
    SimDuration, SimTime, Topology,
};

use super::spec::{
    CompensationSpec, DatabaseSpec, FaultEvent, FlushSpec, LinkSpec, OrderingSpec, RatioSpec,
    ScenarioSpec,
};
use crate::protocols::{ConsumerRole, Model, m6_idempotent_producer, m12_lease};
use crate::roles::{
    AFTER_COMMIT_BEFORE_REPLY, AFTER_REPLY_BEFORE_OFFSET_COMMIT, AFTER_REQUEST_BEFORE_REPLY,
    BEFORE_COMPENSATING_A_ROW, Broker, Consumer, Database, Flush, LeaseCfg, Node, Producer,
    Recovery, RetryPlan, broker_crash_points,
};

/// Whether the scenario's recovery worker compensates row by row.
fn row_by_row(spec: &ScenarioSpec) -> bool {
    spec.recovery
        .as_ref()
        .is_some_and(|r| r.compensate == CompensationSpec::RowByRow)
}

/// The broker's flush policy as the engine runs it.
fn flush_of(spec: FlushSpec) -> Flush {
    match spec {
        FlushSpec::OnAppend => Flush::OnAppend,
        FlushSpec::AfterAck => Flush::AfterAck,
        FlushSpec::Periodic { every_ms } => Flush::Periodic(SimDuration::from_ms(every_ms)),
    }
}
use crate::vocab::{EXPIRE, REBALANCE};

/// What part an actor plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Producer(u32),
    Broker,
    Consumer(u32),
    Recovery,
    Database,
}

/// A consumer's crash points with a remote database.
const REMOTE_CONSUMER_POINTS: &[&str] =
    &[AFTER_REQUEST_BEFORE_REPLY, AFTER_REPLY_BEFORE_OFFSET_COMMIT];
/// A remote database's crash points.
const DATABASE_POINTS: &[&str] = &[AFTER_COMMIT_BEFORE_REPLY];
/// The crash points of a recovery worker that compensates row by row.
const ROW_BY_ROW_RECOVERY_POINTS: &[&str] = &[BEFORE_COMPENSATING_A_ROW];

/// The actors of a scenario: `producer-1..P`, `broker`, `consumer-1..C`,
/// `recovery` for the models with a recovery worker, and `database` for a
/// remote database. A scenario that rebalances has one consumer more than
/// partitions: the group's idle member.
#[derive(Clone, Debug)]
pub struct Actors {
    names: Vec<String>,
    roles: Vec<Role>,
    model: Model,
    /// The broker's crash points (they depend on its flush policy).
    broker_points: &'static [&'static str],
    /// Whether the recovery worker compensates row by row.
    row_by_row: bool,
}

impl Actors {
    /// The actors `spec` implies (before validation: counts are clamped).
    pub fn new(spec: &ScenarioSpec) -> Actors {
        let producers = spec.workload.producers.clamp(1, 64);
        let partitions = spec.workload.partitions.clamp(1, 16);
        // M12: two consumers compete for partition 0 under a lease.
        let consumers = if spec.model.uses_lease() {
            2
        } else if spec.faults.rebalances() {
            partitions + 1
        } else {
            partitions
        };
        let mut roles: Vec<Role> = (0..producers).map(Role::Producer).collect();
        roles.push(Role::Broker);
        roles.extend((0..consumers).map(Role::Consumer));
        if spec.model.uses_recovery() && spec.recovery.as_ref().is_none_or(|r| r.enabled) {
            roles.push(Role::Recovery);
        }
        if !spec.consumer.database.is_local() {
            roles.push(Role::Database);
        }
        let names = roles
            .iter()
            .map(|r| match r {
                Role::Producer(i) => format!("producer-{}", i + 1),
                Role::Broker => "broker".to_string(),
                Role::Consumer(i) => format!("consumer-{}", i + 1),
                Role::Recovery => "recovery".to_string(),
                Role::Database => "database".to_string(),
            })
            .collect();
        Actors {
            names,
            roles,
            model: spec.model,
            broker_points: broker_crash_points(
                spec.model,
                flush_of(spec.broker.flush),
                spec.broker.checksums,
            ),
            row_by_row: row_by_row(spec),
        }
    }

    /// Names, by actor index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of the actor called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The consumers, in order.
    pub fn consumers(&self) -> Vec<ActorId> {
        self.ids_where(|r| matches!(r, Role::Consumer(_)))
    }

    /// Whether actor `a` is a consumer.
    pub fn is_consumer(&self, a: usize) -> bool {
        matches!(self.roles[a], Role::Consumer(_))
    }

    /// Whether there is a link from `a` to `b`.
    pub fn has_link(&self, a: usize, b: usize) -> bool {
        use Role::{Broker, Consumer, Database, Producer, Recovery};
        matches!(
            (self.roles[a], self.roles[b]),
            (Producer(_), Broker)
                | (Broker, Producer(_))
                | (Broker, Consumer(_))
                | (Consumer(_), Broker)
                | (Recovery, Consumer(_))
                | (Consumer(_), Recovery)
                | (Consumer(_), Database)
                | (Database, Consumer(_))
        )
    }

    /// The crash points of actor `a`.
    pub fn crash_points(&self, a: usize) -> &'static [&'static str] {
        match self.roles[a] {
            Role::Consumer(_) if self.remote_database() => REMOTE_CONSUMER_POINTS,
            Role::Consumer(_) => self.model.info().consumer_crash_points,
            Role::Database => DATABASE_POINTS,
            Role::Producer(_) => self.model.info().producer_crash_points,
            Role::Broker => self.broker_points,
            Role::Recovery if self.row_by_row => ROW_BY_ROW_RECOVERY_POINTS,
            Role::Recovery => &[],
        }
    }

    /// Why actor `a` has no crash points, if it has none.
    pub fn why_no_crash_points(&self, a: usize) -> Option<&'static str> {
        if !self.crash_points(a).is_empty() {
            return None;
        }
        Some(match self.roles[a] {
            Role::Recovery => {
                "it asks the consumers to compensate; each compensation is one transaction in \
                 their database, and the worker holds no state to lose (`recovery: (compensate: \
                 RowByRow)` compensates row by row and has the crash point \
                 before-compensating-a-row)"
            }
            Role::Broker if self.model.uses_lease() => {
                "M12's lease storage is not modelled crashing"
            }
            Role::Broker => "M7's transaction coordinator is not modelled crashing",
            Role::Producer(_) => "it keeps no durable state in this model",
            Role::Consumer(_) | Role::Database => "it keeps no durable step in this model",
        })
    }

    /// Every crash point of the scenario's actors, each once, in actor
    /// order.
    pub fn all_crash_points(&self) -> Vec<&'static str> {
        let mut points: Vec<&'static str> = Vec::new();
        for a in 0..self.roles.len() {
            for p in self.crash_points(a) {
                if !points.contains(p) {
                    points.push(p);
                }
            }
        }
        points
    }

    /// Whether the consumers' database is its own actor.
    fn remote_database(&self) -> bool {
        self.roles.contains(&Role::Database)
    }

    /// The actors a crash knob reaches: the one it names; else, if it
    /// names a point, every actor that has it; else the actors that
    /// process messages (producers and consumers), not the broker, a
    /// remote database or the recovery worker, whose crashes are asked for
    /// by name.
    fn knob_targets(&self, actor: Option<&str>, point: Option<&str>) -> Vec<ActorId> {
        if let Some(name) = actor {
            return vec![self.id(name)];
        }
        let by_name_only = |r: Role| matches!(r, Role::Broker | Role::Database | Role::Recovery);
        self.ids_where(|r| !by_name_only(r) || point.is_some())
            .into_iter()
            .filter(|a| {
                let points = self.crash_points(a.index());
                point.map_or(!points.is_empty(), |p| points.contains(&p))
            })
            .collect()
    }

    fn broker(&self) -> ActorId {
        self.ids_where(|r| r == Role::Broker)[0]
    }

    fn id(&self, name: &str) -> ActorId {
        let i = self.index_of(name).expect("validated actor name");
        ActorId(u32::try_from(i).expect("few actors"))
    }

    fn ids_where(&self, pick: impl Fn(Role) -> bool) -> Vec<ActorId> {
        (0..self.roles.len())
            .filter(|i| pick(self.roles[*i]))
            .map(|i| ActorId(u32::try_from(i).expect("few actors")))
            .collect()
    }

    /// The actor programs of a validated spec.
    pub(super) fn nodes(&self, spec: &ScenarioSpec) -> Vec<Node> {
        let broker = self.broker();
        let group = if spec.faults.rebalances() {
            self.consumers()
        } else {
            Vec::new()
        };
        let mut consumers = self.consumers();
        let lease = spec.model.uses_lease().then(|| LeaseCfg {
            holders: [consumers[0], consumers[1]],
            duration: SimDuration::from_ms(
                spec.broker.lease_ms.unwrap_or(m12_lease::DEFAULT_LEASE_MS),
            ),
            fencing: spec.model.wiring().consumer == ConsumerRole::Leased { fencing: true },
        });
        if lease.is_some() {
            // Partition 0 is the only one; the lease decides who gets it.
            consumers.truncate(1);
        }
        // Partition `i` starts with consumer `i`; a group's last consumer
        // starts idle.
        consumers.truncate(spec.workload.partitions.clamp(1, 16) as usize);
        let w = &spec.workload;
        let model = spec.model;
        // What every consumer, and a remote database, share.
        let consumer = Consumer {
            model,
            partition: 0,
            broker,
            messages: w.messages,
            // Without checksums a torn record reads as a message of a
            // producer that does not exist, one per real one: the tables
            // hold them.
            producers: if spec.broker.checksums {
                w.producers
            } else {
                2 * w.producers
            },
            probe: spec.consumer.law_probe.then(|| retry_plan(spec, model)),
            dedup_window: model.dedup_window(spec.consumer.dedup_window_ms),
            processing: SimDuration::from_ms(spec.consumer.processing_ms),
            group: false,
            fetch_timeout: SimDuration::from_ms(spec.broker.redeliver_ms),
            database: None,
            db_timeout: match spec.consumer.database {
                DatabaseSpec::Remote { timeout_ms } => SimDuration::from_ms(timeout_ms),
                DatabaseSpec::Local => SimDuration::from_us(0),
            },
        };
        self.roles
            .iter()
            .map(|role| match *role {
                Role::Producer(index) => Node::Producer(Producer {
                    model,
                    index,
                    broker,
                    messages: w.messages,
                    interval: SimDuration::from_us(w.interval_us),
                    retry: model
                        .producer_retries()
                        .then(|| SimDuration::from_ms(spec.producer.retry_ms)),
                    backoff_max: spec.producer.backoff_max_ms.map(SimDuration::from_ms),
                    new_id_on_retry: spec.producer.new_id_on_retry,
                    id_space: u64::from(w.producers) * u64::from(w.messages),
                    key_space: spec.producer.key_space.map(u64::from),
                    source: model.producer_source(),
                    max_in_flight: spec
                        .producer
                        .max_in_flight
                        .unwrap_or(m6_idempotent_producer::MAX_IN_FLIGHT_DEFAULT),
                    partitions: w.partitions,
                }),
                Role::Broker => Node::Broker(Broker {
                    model,
                    consumers: consumers.clone(),
                    group: group.clone(),
                    dedup_appends: spec.broker.dedup_appends || model.wiring().dedup_appends,
                    dedup_window: spec.broker.dedup_window_ms.map(SimDuration::from_ms),
                    redeliver: SimDuration::from_ms(spec.broker.redeliver_ms),
                    confirm_offset_commits: model.wiring().consumer == ConsumerRole::CommitFirst,
                    lease,
                    txn: model.txn_rules(),
                    flush: flush_of(spec.broker.flush),
                    read_unflushed: spec.broker.read_unflushed,
                    checksums: spec.broker.checksums,
                    producers: w.producers,
                    messages: w.messages,
                    crash_points: self.broker_points,
                    expected_records: (w.producers as usize * w.messages as usize)
                        .div_ceil(w.partitions.max(1) as usize),
                }),
                Role::Consumer(index) => Node::Consumer(Consumer {
                    partition: if lease.is_some() { 0 } else { index },
                    group: !group.is_empty(),
                    database: self.ids_where(|r| r == Role::Database).first().copied(),
                    ..consumer.clone()
                }),
                Role::Database => Node::Database(Database {
                    consumer: consumer.clone(),
                }),
                Role::Recovery => Node::Recovery(Recovery {
                    consumers: consumers.clone(),
                    interval: SimDuration::from_ms(
                        spec.recovery.clone().unwrap_or_default().interval_ms,
                    ),
                    row_by_row: self.row_by_row,
                }),
            })
            .collect()
    }

    /// The network of a validated spec.
    pub(super) fn topology(&self, spec: &ScenarioSpec) -> Topology {
        let mut t = Topology::new(&self.names);
        let default = link_config(&spec.network.default);
        for a in 0..self.names.len() {
            for b in 0..self.names.len() {
                if self.has_link(a, b) {
                    t.set_link(actor(a), actor(b), default);
                }
            }
        }
        for o in &spec.network.links {
            let d = &spec.network.default;
            let merged = LinkSpec {
                loss: o.loss.unwrap_or(d.loss),
                duplicate: o.duplicate.unwrap_or(d.duplicate),
                delay_us_min: o.delay_us_min.unwrap_or(d.delay_us_min),
                delay_us_max: o.delay_us_max.unwrap_or(d.delay_us_max),
                delay_us_step: o.delay_us_step.unwrap_or(d.delay_us_step),
                ordering: o.ordering.unwrap_or(d.ordering),
            };
            t.set_link(self.id(&o.from), self.id(&o.to), link_config(&merged));
        }
        t
    }

    /// The fault plan of a validated spec.
    pub(super) fn plan(&self, spec: &ScenarioSpec) -> FaultPlan {
        let f = &spec.faults;
        let mut plan = FaultPlan {
            faults_until: SimTime::from_ms(f.until_ms),
            restart_after: SimDuration::from_ms(f.restart_after_ms),
            crash_knobs: f
                .crash
                .iter()
                .flat_map(|k| {
                    let targets = self.knob_targets(k.actor.as_deref(), k.at_point.as_deref());
                    targets.into_iter().map(|a| CrashKnob {
                        actor: Some(a),
                        point: k.at_point.clone(),
                        ratio: ratio(k.ratio),
                    })
                })
                .collect(),
            clock_jump_max: f.clock_jump_ms_max.map(SimDuration::from_ms),
            pause_knobs: f
                .pause
                .iter()
                .map(|k| PauseKnob {
                    actor: k.actor.as_deref().map(|a| self.id(a)),
                    ratio: ratio(k.ratio),
                    duration: SimDuration::from_ms(k.for_ms),
                })
                .collect(),
            signal_knobs: self.signal_knobs(spec),
            ..FaultPlan::default()
        };
        for event in &f.schedule {
            self.schedule(&mut plan, event);
        }
        plan
    }

    /// F-expire reaches every actor; F-rebalance reaches the broker, as the
    /// group's coordinator, once about each consumer.
    fn signal_knobs(&self, spec: &ScenarioSpec) -> Vec<SignalKnob> {
        let f = &spec.faults;
        let every_actor = (0..self.roles.len()).map(|i| {
            let a = ActorId(u32::try_from(i).expect("few actors"));
            (a, a)
        });
        let expire = f.expire.map(|r| SignalKnob {
            kind: &EXPIRE,
            ratio: ratio(r),
            pairs: every_actor.collect(),
        });
        let broker = self.broker();
        let rebalance = f.rebalance.map(|r| SignalKnob {
            kind: &REBALANCE,
            ratio: ratio(r),
            pairs: self.consumers().into_iter().map(|c| (broker, c)).collect(),
        });
        expire.into_iter().chain(rebalance).collect()
    }

    /// The `nth` datagram on a validated `"sender->receiver"` link.
    fn datagram(&self, link: &str, nth: u64) -> Datagram {
        let (a, b) = link.split_once("->").expect("validated link");
        Datagram {
            src: self.id(a.trim()),
            dst: self.id(b.trim()),
            nth,
        }
    }

    fn schedule(&self, plan: &mut FaultPlan, event: &FaultEvent) {
        match event {
            FaultEvent::Crash {
                actor,
                at_point,
                nth,
            } => {
                plan.crashes.push(ScheduledCrash {
                    actor: self.id(actor),
                    point: at_point.clone(),
                    nth: *nth,
                });
            }
            FaultEvent::Drop { link, nth } => plan.drops.push(self.datagram(link, *nth)),
            FaultEvent::Duplicate { link, nth } => {
                plan.duplicates.push(self.datagram(link, *nth));
            }
            FaultEvent::Delay {
                link,
                nth,
                delay_us,
                copy,
            } => plan.delays.push(ScheduledDelay {
                datagram: self.datagram(link, *nth),
                copy: *copy,
                delay: SimDuration(*delay_us),
            }),
            FaultEvent::Partition {
                between,
                and,
                from_ms,
                to_ms,
                one_way,
            } => {
                for a in between {
                    for b in and {
                        plan.partitions.push(Partition {
                            a: self.id(a),
                            b: self.id(b),
                            from: SimTime::from_ms(*from_ms),
                            to: SimTime::from_ms(*to_ms),
                            one_way: *one_way,
                        });
                    }
                }
            }
            FaultEvent::Pause {
                actor,
                from_ms,
                to_ms,
            } => plan.pauses.push(ScheduledPause {
                actor: self.id(actor),
                from: SimTime::from_ms(*from_ms),
                to: SimTime::from_ms(*to_ms),
            }),
            FaultEvent::Rebalance { consumer, at_ms } => plan.signals.push(ScheduledSignal {
                kind: &REBALANCE,
                target: self.broker(),
                about: self.id(consumer),
                at: SimTime::from_ms(*at_ms),
            }),
            FaultEvent::Expire { actor, at_ms } => plan.signals.push(ScheduledSignal {
                kind: &EXPIRE,
                target: self.id(actor),
                about: self.id(actor),
                at: SimTime::from_ms(*at_ms),
            }),
            FaultEvent::ClockJump {
                actor,
                at_ms,
                by_ms,
            } => plan.clock_jumps.push(ClockJump {
                actor: self.id(actor),
                at: SimTime::from_ms(*at_ms),
                by_us: by_ms.saturating_mul(1_000),
            }),
        }
    }
}

/// The run bounds of a spec.
pub(super) fn limits(spec: &ScenarioSpec) -> Limits {
    Limits {
        time_max: SimTime::from_ms(spec.limits.time_ms_max),
        events_max: spec.limits.events_max,
        drain_max: SimDuration::from_ms(spec.limits.drain_ms_max) + workload_after_heal(spec),
        observations_max: super::memory::observations_max(super::memory::budget()),
    }
}

/// How long the workload keeps sending after the faults heal: the drain
/// bound counts from the later of the two.
fn workload_after_heal(spec: &ScenarioSpec) -> SimDuration {
    let w = &spec.workload;
    let last_send_us = u64::from(w.messages.saturating_sub(1)).saturating_mul(w.interval_us);
    SimDuration(last_send_us.saturating_sub(spec.faults.until_ms.saturating_mul(1_000)))
}

fn ratio(r: RatioSpec) -> Ratio {
    Ratio::new(r.0, r.1)
}

/// When a retry can come in a run of `spec`: after the producer's retry
/// timeout (if it retries), the broker's redelivery timeout and a
/// consumer's restart; within the slowest of those, a round trip on the
/// slowest link and a record's processing (the slack) of the failed
/// attempt; and, if the scenario injects faults, as late as the slack
/// after they end, a clock that jumped ahead reading its jump.
fn retry_plan(spec: &ScenarioSpec, model: Model) -> RetryPlan {
    let ms = SimDuration::from_ms;
    let mut timeouts = vec![
        (
            ms(spec.broker.redeliver_ms),
            "the broker's redelivery timeout",
        ),
        (ms(spec.faults.restart_after_ms), "a restart after a crash"),
    ];
    if let DatabaseSpec::Remote { timeout_ms } = spec.consumer.database {
        timeouts.push((
            ms(timeout_ms),
            "the consumer's timeout for its database's reply",
        ));
    }
    if model.producer_retries() {
        timeouts.push((ms(spec.producer.retry_ms), "the producer's retry timeout"));
        if let Some(max) = spec.producer.backoff_max_ms {
            timeouts.push((ms(max), "the producer's longest backoff"));
        }
    }
    let slowest_timeout = timeouts.iter().map(|(t, _)| *t).max().unwrap_or_default();
    let slack = slowest_timeout
        + SimDuration(slowest_delay_us(spec).saturating_mul(2))
        + ms(spec.consumer.processing_ms);
    let faults_end = injects_faults(spec).then(|| {
        let end = spec
            .faults
            .schedule
            .iter()
            .filter_map(|e| match e {
                FaultEvent::Partition { to_ms, .. } | FaultEvent::Pause { to_ms, .. } => {
                    Some(*to_ms)
                }
                _ => None,
            })
            .fold(spec.faults.until_ms, u64::max);
        SimTime::from_ms(end) + ms(largest_jump_ahead_ms(spec))
    });
    RetryPlan {
        timeouts,
        slack,
        faults_end,
    }
}

/// Whether the scenario injects any fault that can hold a message up or
/// make an actor retry: loss or duplication on a link, a crash, pause,
/// clock jump, eviction or rebalance knob, or a scheduled fault (a delay
/// is not a fault: the slack covers it).
fn injects_faults(spec: &ScenarioSpec) -> bool {
    let lossy = |loss: RatioSpec, dup: RatioSpec| loss.0 > 0 || dup.0 > 0;
    let net = &spec.network;
    let f = &spec.faults;
    lossy(net.default.loss, net.default.duplicate)
        || net.links.iter().any(|l| {
            lossy(
                l.loss.unwrap_or(RatioSpec(0, 1)),
                l.duplicate.unwrap_or(RatioSpec(0, 1)),
            )
        })
        || !f.crash.is_empty()
        || !f.pause.is_empty()
        || f.clock_jump_ms_max.is_some()
        || f.expire.is_some()
        || f.rebalance.is_some()
        || f.schedule
            .iter()
            .any(|e| !matches!(e, FaultEvent::Delay { .. }))
}

/// The longest a datagram can take on any link, scheduled delays included.
fn slowest_delay_us(spec: &ScenarioSpec) -> u64 {
    let links = spec.network.links.iter().filter_map(|l| l.delay_us_max);
    let scheduled = spec.faults.schedule.iter().filter_map(|e| match e {
        FaultEvent::Delay { delay_us, .. } => Some(*delay_us),
        _ => None,
    });
    links
        .chain(scheduled)
        .fold(spec.network.default.delay_us_max, u64::max)
}

/// The furthest ahead an actor's clock can jump.
fn largest_jump_ahead_ms(spec: &ScenarioSpec) -> u64 {
    let scheduled = spec.faults.schedule.iter().filter_map(|e| match e {
        FaultEvent::ClockJump { by_ms, .. } => u64::try_from(*by_ms).ok(),
        _ => None,
    });
    scheduled.fold(spec.faults.clock_jump_ms_max.unwrap_or(0), u64::max)
}

fn link_config(l: &LinkSpec) -> LinkConfig {
    LinkConfig {
        drop: ratio(l.loss),
        duplicate: ratio(l.duplicate),
        delay_us_min: l.delay_us_min,
        delay_us_max: l.delay_us_max,
        delay_us_step: l.delay_us_step,
        ordering: match l.ordering {
            OrderingSpec::Reordering => Ordering::Reordering,
            OrderingSpec::Fifo => Ordering::Fifo,
        },
    }
}

fn actor(i: usize) -> ActorId {
    ActorId(u32::try_from(i).expect("few actors"))
}
