//! Engine tests on tiny fixture actors.

use super::*;
use crate::actor::Store;
use crate::choice::{Ratio, Seeded, Tape};
use crate::fault::{
    CrashKnob, Datagram, Partition, Realized, ScheduledCrash, ScheduledSignal, SignalKind,
    SignalKnob,
};
use crate::network::LinkConfig;

/// Actor 0 sends `count` numbered pings to actor 1 at start, each with a
/// retransmission timer; actor 1 applies each ping to durable state and
/// counts deliveries in volatile state, passing a crash point in between,
/// and acks every copy; it observes each ping's number, plus [`COPY`] for a
/// network copy. On a [`MOVE`] signal about another actor, an actor
/// writes `1000 + that actor` to durable state; an [`EVICT`] signal takes
/// effect and changes nothing.
/// A signal that takes effect and changes nothing.
const EVICT: SignalKind = SignalKind::new(20, "evict");
/// A signal that writes `1000 + about` at its target.
const MOVE: SignalKind = SignalKind::new(21, "move");
/// Added to the number a receiver observes for a network copy of a ping.
const COPY: u32 = 100;

#[derive(Clone)]
struct Node {
    count: u32,
}

#[derive(Clone, Debug, Hash)]
enum Msg {
    Ping(u32),
    Ack(u32),
}

#[derive(Default)]
struct Vol {
    seen: u32,
    /// Pings handled that were sent to an earlier life of this actor.
    stale: u32,
    /// The life this volatile state was built in.
    life: u32,
    timers: Vec<Option<TimerId>>,
}

impl Actor for Node {
    type Msg = Msg;
    type Timer = u32;
    type Durable = Vec<u32>;
    type Volatile = Vol;
    type Obs = u32;

    fn init_durable(&self) -> Vec<u32> {
        Vec::new()
    }

    fn start<C: Choices>(&self, _: &Vec<u32>, ctx: &mut Ctx<'_, Self, C>) -> Vol {
        let mut v = Vol {
            life: ctx.life(),
            ..Vol::default()
        };
        if ctx.id() == ActorId(0) {
            for i in 0..self.count {
                ctx.send(ActorId(1), Msg::Ping(i));
                v.timers
                    .push(Some(ctx.set_timer(SimDuration::from_ms(50), i)));
            }
        }
        v
    }

    fn on_msg<C: Choices>(
        &self,
        mut d: Store<'_, Vec<u32>>,
        v: &mut Vol,
        ctx: &mut Ctx<'_, Self, C>,
        src: ActorId,
        msg: Msg,
    ) -> Step {
        match msg {
            Msg::Ping(i) => {
                v.seen += 1;
                v.stale += u32::from(ctx.sent_to_earlier_life());
                d.transaction(|d| d.push(i));
                ctx.observe(if ctx.is_network_copy() { COPY + i } else { i });
                ctx.crash_point("after-apply-before-ack")?;
                ctx.send(src, Msg::Ack(i));
            }
            Msg::Ack(i) => {
                if let Some(t) = v.timers[i as usize].take() {
                    ctx.cancel_timer(t);
                }
            }
        }
        Ok(())
    }

    fn signal<C: Choices>(
        &self,
        mut d: Store<'_, Vec<u32>>,
        _: Option<&mut Vol>,
        ctx: &mut Ctx<'_, Self, C>,
        kind: &'static SignalKind,
        about: ActorId,
    ) -> bool {
        if *kind == MOVE {
            d.transaction(|d| d.push(1000 + about.0));
            ctx.observe(1000 + about.0);
        }
        true
    }

    fn on_timer<C: Choices>(
        &self,
        _: Store<'_, Vec<u32>>,
        v: &mut Vol,
        ctx: &mut Ctx<'_, Self, C>,
        i: u32,
    ) -> Step {
        ctx.send(ActorId(1), Msg::Ping(i));
        v.timers[i as usize] = Some(ctx.set_timer(SimDuration::from_ms(50), i));
        Ok(())
    }
}

fn names() -> Vec<String> {
    vec!["sender".into(), "receiver".into()]
}

fn lossy() -> LinkConfig {
    LinkConfig {
        drop: Ratio::new(1, 5),
        duplicate: Ratio::new(1, 10),
        delay_us_min: 1_000,
        delay_us_max: 10_000,
        delay_us_step: 1,
        ordering: Ordering::Reordering,
    }
}

fn sim_with<C: Choices>(count: u32, link: LinkConfig, faults: FaultPlan, c: C) -> Sim<Node, C> {
    let topology = Topology::full_mesh(&names(), link);
    let actors = vec![Node { count }, Node { count }];
    Sim::new(names(), actors, topology, faults, Limits::default(), c)
}

fn faulty() -> FaultPlan {
    FaultPlan {
        faults_until: SimTime::from_ms(1_000),
        ..FaultPlan::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_digest_and_another_seed_does_not() {
    let run = |seed| sim_with(50, lossy(), faulty(), Seeded::new(seed)).run();
    assert_eq!(run(3), run(3));
    assert_ne!(run(3).digest, run(4).digest);
}

#[test]
fn retransmissions_deliver_everything_and_the_run_ends_quiet() {
    let mut sim = sim_with(50, lossy(), faulty(), Seeded::new(11));
    let end = sim.run();
    assert_eq!(end.reason, EndReason::Quiet);
    assert!(end.stats.dropped > 0, "one in five datagrams is lost");
    let mut applied = sim.durable(ActorId(1)).clone();
    applied.sort_unstable();
    applied.dedup();
    assert_eq!(applied, (0..50).collect::<Vec<_>>());
}

#[test]
fn a_recorded_tape_replays_the_run_exactly() {
    let mut seeded = sim_with(30, lossy(), faulty(), Seeded::recording(5));
    seeded.record_trace();
    let first = seeded.run();
    let tape = Tape::new(seeded.choices().tape().to_vec());
    let mut replay = sim_with(30, lossy(), faulty(), tape);
    replay.record_trace();
    assert_eq!(replay.run(), first);
    assert_eq!(replay.trace(), seeded.trace());
}

#[test]
fn an_empty_tape_is_the_fault_free_run() {
    let mut sim = sim_with(10, lossy(), faulty(), Tape::default());
    let end = sim.run();
    assert_eq!(
        (end.stats.dropped, end.stats.duplicated, end.stats.timers),
        (0, 0, 0)
    );
    assert_eq!(end.stats.delivered, 20, "ten pings and ten acks");
}

/// DESIGN §3: choice `0` is the fault-free default, the clock jump's too.
#[test]
fn the_default_choice_is_no_clock_jump() {
    let plan = FaultPlan {
        clock_jump_max: Some(SimDuration::from_ms(400_000)),
        ..faulty()
    };
    let mut sim = sim_with(10, lossy(), plan, Tape::default());
    sim.record_faults();
    sim.run();
    assert_eq!(sim.faults().clock_jumps, [], "no jump drawn");
    assert_eq!(sim.realized(), Some(&[][..]), "no fault at all");
    for actor in [ActorId(0), ActorId(1)] {
        assert_eq!(sim.faults().clock_offset(actor, SimTime::from_ms(2_000)), 0);
    }
}

#[test]
fn clock_offset_choices_count_outwards_from_no_jump() {
    let offsets: Vec<i64> = (0..7).map(clock_offset_ms).collect();
    assert_eq!(offsets, [0, 1, -1, 2, -2, 3, -3]);
    let max_ms = 1_000;
    let mut all: Vec<i64> = (0..2 * max_ms + 1).map(clock_offset_ms).collect();
    all.sort_unstable();
    let expected: Vec<i64> = (-1_000..=1_000).collect();
    assert_eq!(all, expected, "every offset in ±max once");
}

#[test]
fn a_crash_loses_volatile_state_and_timers_but_keeps_durable_state() {
    let faults = FaultPlan {
        crashes: vec![ScheduledCrash {
            actor: ActorId(1),
            point: "after-apply-before-ack".into(),
            nth: 2,
        }],
        ..faulty()
    };
    let mut sim = sim_with(3, LinkConfig::reliable(1_000), faults, Seeded::new(0));
    sim.record_trace();
    let end = sim.run();
    assert_eq!((end.stats.crashes, end.stats.restarts), (1, 1));
    assert_eq!(
        sim.lifecycle()[0].kind,
        LifecycleKind::Crash("after-apply-before-ack")
    );
    // Ping 1 was applied, then the receiver crashed before acking it; the
    // sender's retransmissions apply it (and ping 2) after the restart.
    assert_eq!(sim.durable(ActorId(1)), &vec![0, 1, 1, 2]);
    // Ping 2 arrived while the receiver was down (all sent at t=0, 1 ms delay).
    assert_eq!(end.stats.to_crashed, 1);
    // Volatile state was rebuilt: the restarted receiver has seen only the
    // retransmissions of pings 1 and 2.
    assert_eq!(sim.volatile(ActorId(1)).unwrap().seen, 2);
    assert!(end.reason.is_quiet());
}

#[test]
fn a_datagram_sent_before_a_restart_reaches_the_new_life_marked_as_such() {
    // The receiver crashes on ping 0 at 1 ms and restarts at 6 ms. Ping 1,
    // sent at 0 ms and held on the wire until 20 ms, reaches the new life;
    // ping 0's retransmission at 50 ms is sent to it.
    let held = ScheduledDelay {
        datagram: Datagram {
            src: ActorId(0),
            dst: ActorId(1),
            nth: 2,
        },
        copy: false,
        delay: SimDuration::from_ms(20),
    };
    let faults = FaultPlan {
        restart_after: SimDuration::from_ms(5),
        crashes: vec![ScheduledCrash {
            actor: ActorId(1),
            point: "after-apply-before-ack".into(),
            nth: 1,
        }],
        delays: vec![held],
        ..faulty()
    };
    let mut sim = sim_with(2, LinkConfig::reliable(1_000), faults, Seeded::new(0));
    let end = sim.run();
    assert_eq!(end.stats.restarts, 1);
    let receiver = sim.volatile(ActorId(1)).unwrap();
    assert_eq!(receiver.life, 1, "one restart");
    assert_eq!(receiver.seen, 2, "ping 1, then ping 0 again");
    assert_eq!(
        receiver.stale, 1,
        "only ping 1 was sent to the life that crashed"
    );
    assert_eq!(sim.volatile(ActorId(0)).unwrap().life, 0, "never restarted");
}

#[test]
fn a_crashed_actor_loses_its_pending_timers() {
    let faults = FaultPlan {
        crashes: vec![ScheduledCrash {
            actor: ActorId(0),
            point: "after-apply-before-ack".into(),
            nth: 1,
        }],
        ..faulty()
    };
    // Actor 0 never receives a ping, so it never passes the point: no crash.
    let end = sim_with(2, LinkConfig::reliable(1_000), faults, Seeded::new(0)).run();
    assert_eq!(end.stats.crashes, 0);
    // Now crash the receiver on every pass until the plan heals at 1 s; the
    // sender keeps retransmitting, and after the heal everything drains.
    let faults = FaultPlan {
        crash_knobs: vec![CrashKnob {
            actor: Some(ActorId(1)),
            point: None,
            ratio: Ratio::new(1, 1),
        }],
        ..faulty()
    };
    let mut sim = sim_with(2, LinkConfig::reliable(1_000), faults, Seeded::new(0));
    let end = sim.run();
    assert!(end.stats.crashes > 5);
    assert_eq!(end.stats.crashes, end.stats.restarts);
    assert!(end.reason.is_quiet());
    assert!(sim.now() >= SimTime::from_ms(1_000));
}

#[test]
fn no_fault_happens_after_the_plan_heals() {
    let always_lose = LinkConfig {
        drop: Ratio::new(1, 1),
        ..LinkConfig::reliable(1_000)
    };
    let end = sim_with(5, always_lose, FaultPlan::default(), Seeded::new(0)).run();
    assert_eq!(
        end.stats.dropped, 0,
        "faults_until is zero: healed from the start"
    );
}

#[test]
fn a_scheduled_drop_loses_exactly_the_nth_datagram() {
    let faults = FaultPlan {
        drops: vec![Datagram {
            src: ActorId(0),
            dst: ActorId(1),
            nth: 2,
        }],
        ..faulty()
    };
    let mut sim = sim_with(3, LinkConfig::reliable(1_000), faults, Seeded::new(0));
    sim.record_trace();
    let end = sim.run();
    assert_eq!(end.stats.dropped, 1);
    let lost = sim
        .trace()
        .iter()
        .find(|e| e.kind == TraceKind::LostScheduled)
        .unwrap();
    assert_eq!(lost.label, "Ping(1)");
    assert_eq!(end.stats.timers, 1, "one retransmission repairs it");
}

#[test]
fn a_handler_is_told_only_of_the_copy_the_network_made() {
    let faults = FaultPlan {
        duplicates: vec![Datagram {
            src: ActorId(0),
            dst: ActorId(1),
            nth: 2,
        }],
        ..faulty()
    };
    let mut sim = sim_with(3, LinkConfig::reliable(1_000), faults, Seeded::new(0));
    let end = sim.run();
    assert_eq!(end.stats.duplicated, 1);
    let mut seen: Vec<u32> = sim.history().iter().map(|o| o.obs).collect();
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, COPY + 1], "the original is no copy");
}

#[test]
fn a_partition_cuts_until_it_heals() {
    let faults = FaultPlan {
        partitions: vec![Partition {
            a: ActorId(0),
            b: ActorId(1),
            from: SimTime::ZERO,
            to: SimTime::from_ms(120),
            one_way: false,
        }],
        ..faulty()
    };
    let mut sim = sim_with(1, LinkConfig::reliable(1_000), faults, Seeded::new(0));
    let end = sim.run();
    // Sends at 0, 50 and 100 ms are cut; the one at 150 ms gets through.
    assert_eq!(end.stats.dropped, 3);
    assert_eq!(sim.durable(ActorId(1)), &vec![0]);
}

#[test]
fn fifo_links_deliver_in_send_order() {
    // Round trips stay under the 50 ms retransmission timeout: no copies.
    let fifo = LinkConfig {
        ordering: Ordering::Fifo,
        delay_us_max: 20_000,
        ..LinkConfig::reliable(1_000)
    };
    let mut sim = sim_with(40, fifo, faulty(), Seeded::new(2));
    sim.run();
    assert_eq!(sim.durable(ActorId(1)), &(0..40).collect::<Vec<_>>());
    let reorder = LinkConfig {
        ordering: Ordering::Reordering,
        ..fifo
    };
    let mut reordering = sim_with(40, reorder, faulty(), Seeded::new(2));
    reordering.run();
    assert_eq!(reordering.durable(ActorId(1)).len(), 40);
    assert_ne!(reordering.durable(ActorId(1)), &(0..40).collect::<Vec<_>>());
}

#[test]
fn an_event_bound_ends_the_run_as_inconclusive() {
    let topology = Topology::full_mesh(&names(), lossy());
    let limits = Limits {
        events_max: 10,
        ..Limits::default()
    };
    let mut sim = Sim::new(
        names(),
        vec![Node { count: 50 }, Node { count: 50 }],
        topology,
        faulty(),
        limits,
        Seeded::new(1),
    );
    let end = sim.run();
    assert_eq!(end.reason, EndReason::EventBound);
    assert!(end.reason.is_bound());
}

#[test]
fn a_memory_bound_ends_the_run_as_inconclusive_with_what_it_kept() {
    let limits = Limits {
        observations_max: 7,
        ..Limits::default()
    };
    let mut sim = Sim::new(
        names(),
        vec![Node { count: 50 }, Node { count: 50 }],
        Topology::full_mesh(&names(), lossy()),
        faulty(),
        limits,
        Seeded::new(1),
    );
    let end = sim.run();
    assert_eq!(end.reason, EndReason::MemoryBound);
    assert!(end.reason.is_bound());
    assert_eq!(sim.history().len(), 7, "stopped as the bound was reached");
}

/// `plan` with stochastic signals that always happen: an [`EVICT`] to each
/// actor, then a [`MOVE`] to actor 0 about actor 1.
fn with_signals(plan: FaultPlan) -> FaultPlan {
    let always = Ratio::new(1, 1);
    let every = vec![(ActorId(0), ActorId(0)), (ActorId(1), ActorId(1))];
    FaultPlan {
        signal_knobs: vec![
            SignalKnob {
                kind: &EVICT,
                ratio: always,
                pairs: every,
            },
            SignalKnob {
                kind: &MOVE,
                ratio: always,
                pairs: vec![(ActorId(0), ActorId(1))],
            },
        ],
        ..plan
    }
}

/// The plan that replays `realized` with every stochastic knob off.
fn seedless_plan(realized: &[Realized]) -> FaultPlan {
    let mut plan = faulty();
    for fault in realized {
        match fault {
            Realized::Drop(d) => plan.drops.push(*d),
            Realized::Duplicate(d) => plan.duplicates.push(*d),
            Realized::Delay(d) => plan.delays.push(*d),
            Realized::Crash(c) => plan.crashes.push(c.clone()),
            Realized::ClockJump(j) => plan.clock_jumps.push(*j),
            Realized::Pause(p) => plan.pauses.push(*p),
            Realized::Signal(s) => plan.signals.push(*s),
        }
    }
    plan
}

#[test]
fn realized_faults_replay_the_run_without_randomness() {
    let plan = FaultPlan {
        crash_knobs: vec![CrashKnob {
            actor: None,
            point: None,
            ratio: Ratio::new(1, 4),
        }],
        clock_jump_max: Some(SimDuration::from_ms(5)),
        pause_knobs: vec![crate::fault::PauseKnob {
            actor: None,
            ratio: Ratio::new(1, 1),
            duration: SimDuration::from_ms(30),
        }],
        ..with_signals(faulty())
    };
    let mut seeded = sim_with(30, lossy(), plan, Seeded::new(11));
    seeded.record_faults();
    let first = seeded.run();
    let realized = seeded.realized().expect("recorded").to_vec();
    let kinds = |f: fn(&Realized) -> bool| realized.iter().filter(|r| f(r)).count();
    assert!(kinds(|r| matches!(r, Realized::Drop(_))) > 0);
    assert!(kinds(|r| matches!(r, Realized::Duplicate(_))) > 0);
    assert!(kinds(|r| matches!(r, Realized::Crash(_))) > 0);
    assert!(kinds(|r| matches!(r, Realized::Delay(_))) > 0);
    let clock = |r: &Realized| matches!(r, Realized::ClockJump(_));
    // At most one jump per actor: an actor that draws an offset of 0 (here
    // one of the two) does not jump.
    assert_eq!(kinds(clock), 1, "one jump per actor, bar an offset of 0");
    let evict = |r: &Realized| matches!(r, Realized::Signal(s) if *s.kind == EVICT);
    assert_eq!(kinds(evict), 2, "one eviction per actor");
    let pause = |r: &Realized| matches!(r, Realized::Pause(_));
    assert_eq!(kinds(pause), 2, "one pause per actor");
    let moved = |r: &Realized| matches!(r, Realized::Signal(s) if *s.kind == MOVE);
    assert_eq!(kinds(moved), 1, "one move per pair");

    let fixed = LinkConfig {
        drop: Ratio::NEVER,
        duplicate: Ratio::NEVER,
        delay_us_max: 1_000,
        ..lossy()
    };
    let replay = seedless_plan(&realized);
    let mut seedless = sim_with(30, fixed, replay, Seeded::new(99));
    seedless.record_faults();
    let second = seedless.run();
    assert_eq!(seeded.history(), seedless.history());
    assert_eq!(first.stats, second.stats);
    assert_eq!(first.time, second.time);
    assert_eq!(seedless.realized(), Some(&realized[..]));
}

#[test]
fn a_paused_actor_handles_nothing_until_it_resumes_with_its_memory() {
    let reliable = LinkConfig::reliable(1_000);
    let pause = crate::fault::ScheduledPause {
        actor: ActorId(1),
        from: SimTime::ZERO,
        to: SimTime::from_ms(200),
    };
    let plan = FaultPlan {
        pauses: vec![pause],
        ..faulty()
    };
    let mut sim = sim_with(5, reliable, plan, Seeded::new(3));
    sim.record_trace();
    sim.run();
    let handled: Vec<SimTime> = sim.history().iter().map(|o| o.time).collect();
    assert!(
        handled.len() > 5,
        "the pings and the retransmissions waited"
    );
    assert!(
        handled.iter().all(|t| *t >= SimTime::from_ms(200)),
        "nothing is handled during the pause: {handled:?}"
    );
    assert_eq!(
        sim.durable(ActorId(1)).len(),
        handled.len(),
        "nothing was lost"
    );
    let kinds: Vec<TraceKind> = sim.trace().iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&TraceKind::Pause) && kinds.contains(&TraceKind::Resume));
}

#[test]
fn a_pause_that_outlasts_the_heal_ends_at_the_heal() {
    // Scheduled to 5 s and drawn for 5 s, in a run that heals at 1 s:
    // like a partition, the pause is over when the faults are. The
    // receiver sleeps from the start, so the pings wait for it.
    let pause = crate::fault::ScheduledPause {
        actor: ActorId(1),
        from: SimTime::ZERO,
        to: SimTime::from_ms(5_000),
    };
    let knob = crate::fault::PauseKnob {
        actor: Some(ActorId(0)),
        ratio: Ratio::new(1, 1),
        duration: SimDuration::from_ms(5_000),
    };
    let plan = FaultPlan {
        pauses: vec![pause],
        pause_knobs: vec![knob],
        ..faulty()
    };
    let heal = plan.faults_until;
    let mut sim = sim_with(5, LinkConfig::reliable(1_000), plan, Seeded::new(3));
    sim.record_trace();
    sim.record_faults();
    let end = sim.run();
    assert!(end.reason.is_quiet());
    assert_eq!(end.stats.pauses, 2);
    let resumed: Vec<SimTime> = sim
        .trace()
        .iter()
        .filter(|e| e.kind == TraceKind::Resume)
        .map(|e| e.time)
        .collect();
    assert_eq!(resumed, [heal, heal], "both resume at the heal");
    assert!(
        end.time < SimTime::from_ms(1_100),
        "drained at {}",
        end.time
    );
    for p in &sim.faults().pauses {
        assert_eq!(p.to, heal, "{p:?}");
    }
    let realized = sim.realized().unwrap().iter();
    assert!(
        realized
            .filter_map(|r| match r {
                Realized::Pause(p) => Some(p.to),
                _ => None,
            })
            .all(|to| to == heal),
        "a shrunk schedule names the pause as it was"
    );
}

/// How a run ends when its pings are all cut until the heal at 20 ms and
/// the retransmissions are due at 50 ms, with a drain of 10 ms (until
/// 30 ms) and a time bound of `time_max_ms`.
fn cut_short(time_max_ms: u64) -> RunEnd {
    let plan = FaultPlan {
        faults_until: SimTime::from_ms(20),
        partitions: vec![Partition {
            a: ActorId(0),
            b: ActorId(1),
            from: SimTime::ZERO,
            to: SimTime::from_ms(20),
            one_way: false,
        }],
        ..FaultPlan::default()
    };
    let limits = Limits {
        time_max: SimTime::from_ms(time_max_ms),
        drain_max: SimDuration::from_ms(10),
        ..Limits::default()
    };
    let topology = Topology::full_mesh(&names(), LinkConfig::reliable(1_000));
    let actors = vec![Node { count: 3 }, Node { count: 3 }];
    Sim::new(names(), actors, topology, plan, limits, Seeded::new(1)).run()
}

#[test]
fn a_run_ends_at_the_drain_bound_when_it_comes_before_the_time_bound() {
    // The next event (a retransmission at 50 ms) is past both bounds: the
    // drain bound came first, and the run ends there, nothing dispatched.
    let end = cut_short(40);
    assert_eq!(end.reason, EndReason::DrainBound);
    assert_eq!(end.time, SimTime::from_ms(30), "the drain bound");
    assert_eq!(end.stats.timers, 0, "the retransmission is not dispatched");
    assert!(!end.reason.is_bound(), "judged, not inconclusive");
    // Had the drain ended after the time bound, the time bound cut it.
    let end = cut_short(25);
    assert_eq!(end.reason, EndReason::TimeBound);
    assert!(end.reason.is_bound());
}

#[test]
fn a_signal_reaches_its_target_and_is_noted_at_the_actor_it_is_about() {
    let plan = FaultPlan {
        signals: vec![ScheduledSignal {
            kind: &MOVE,
            target: ActorId(0),
            about: ActorId(1),
            at: SimTime::from_ms(7),
        }],
        ..faulty()
    };
    let mut sim = sim_with(0, LinkConfig::reliable(1_000), plan, Seeded::new(5));
    sim.record_trace();
    let end = sim.run();
    assert_eq!(end.stats.signals, 1);
    assert_eq!(sim.durable(ActorId(0)), &[1001], "the target acted");
    let note = sim
        .trace()
        .iter()
        .find(|e| e.kind == TraceKind::Signal(&MOVE))
        .expect("noted");
    assert_eq!((note.actor, note.time), (ActorId(1), SimTime::from_ms(7)));
}

/// Where and when `signal`, sent to actor 1 while actor 1 is paused from
/// 0 to 40 ms, is noted (three pings keep the run going past the pause).
fn noted_while_target_paused(signal: ScheduledSignal) -> (ActorId, SimTime) {
    let plan = FaultPlan {
        signals: vec![signal],
        pauses: vec![crate::fault::ScheduledPause {
            actor: signal.target,
            from: SimTime::ZERO,
            to: SimTime::from_ms(40),
        }],
        ..faulty()
    };
    let mut sim = sim_with(3, LinkConfig::reliable(1_000), plan, Seeded::new(5));
    sim.record_trace();
    sim.run();
    let kind = TraceKind::Signal(signal.kind);
    let note = sim.trace().iter().find(|e| e.kind == kind).expect("noted");
    (note.actor, note.time)
}

#[test]
fn a_signal_about_another_actor_waits_while_its_target_is_paused() {
    let signal = ScheduledSignal {
        kind: &MOVE,
        target: ActorId(1),
        about: ActorId(0),
        at: SimTime::from_ms(7),
    };
    let noted = noted_while_target_paused(signal);
    assert_eq!(noted, (ActorId(0), SimTime::from_ms(40)));
}

#[test]
fn a_signal_about_its_paused_target_itself_happens_at_once() {
    let signal = ScheduledSignal {
        kind: &EVICT,
        target: ActorId(1),
        about: ActorId(1),
        at: SimTime::from_ms(7),
    };
    let noted = noted_while_target_paused(signal);
    assert_eq!(noted, (ActorId(1), SimTime::from_ms(7)));
}

#[test]
fn actors_sharing_a_database_see_each_others_transactions() {
    let reliable = LinkConfig::reliable(1_000);
    let mut shared = sim_with(3, reliable, faulty(), Seeded::new(4));
    shared.share_durable(&[ActorId(0), ActorId(1)]);
    shared.run();
    assert_eq!(
        shared.durable(ActorId(0)),
        &[0, 1, 2],
        "the receiver's writes"
    );
    assert_eq!(shared.durable(ActorId(0)), shared.durable(ActorId(1)));
    let mut apart = sim_with(3, reliable, faulty(), Seeded::new(4));
    apart.run();
    assert!(
        apart.durable(ActorId(0)).is_empty(),
        "the sender writes nothing"
    );
}

#[test]
fn an_exploring_run_counts_the_copies_of_a_datagram_a_pause_deferred() {
    // The receiver is paused for 200 ms: the ping and each retransmission
    // (every 50 ms) arrive during the pause and wait for its end. Every
    // copy sent so far waits, deferred or not, and each counts.
    let plan = FaultPlan {
        pauses: vec![crate::fault::ScheduledPause {
            actor: ActorId(1),
            from: SimTime::ZERO,
            to: SimTime::from_ms(200),
        }],
        ..faulty()
    };
    let mut sim = sim_with(1, LinkConfig::reliable(1_000), plan, Tape::default());
    sim.explore_orders(Timing::Timed);
    sim.record_trace();
    while sim.now() < SimTime::from_ms(160) {
        assert_eq!(sim.advance(), None, "the run goes on past the pause");
    }
    let sent = |e: &&TraceEvent| e.kind == TraceKind::Send && e.actor == ActorId(0);
    let pings = sim.trace().iter().filter(sent).count();
    assert_eq!(pings, 4, "the ping and three retransmissions");
    assert_eq!(sim.most_copies_waiting(), pings);
}
