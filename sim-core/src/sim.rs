//! The run loop: start every actor, then pop the earliest event, dispatch it,
//! and stop when the run is quiet or a bound is hit.
//!
//! A run has a faulty phase (until [`FaultPlan::faults_until`]) and a healed
//! phase that drains until quiet. It is bounded in simulated time, in events
//! and in drain time; hitting a bound is a reported [`EndReason`], never a
//! hang.

mod explore;
mod orders;

use std::sync::Arc;

use crate::actor::{Actor, ActorId, Crashed, Ctx, Step, Store, TimerId};
use crate::choice::{Choices, Site, Stream};
use crate::fault::{
    ClockJump, Datagram, FaultPlan, Realized, ScheduledCrash, ScheduledDelay, ScheduledPause,
    ScheduledSignal,
};
use crate::network::{LinkConfig, LinkState, Ordering, Topology};
use crate::queue::EventQueue;
use crate::time::{SimDuration, SimTime};
use crate::trace::{Digest, Trace, TraceEvent, TraceKind};
pub use orders::Timing;
use orders::{Orders, Window};

/// Bounds on a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// No event after this time is dispatched.
    pub time_max: SimTime,
    /// At most this many trace events.
    pub events_max: u64,
    /// How long the healed phase may drain before the run is called stuck.
    pub drain_max: SimDuration,
    /// At most this many observations kept: the run's memory bound.
    pub observations_max: u64,
}

impl Default for Limits {
    /// Ten simulated minutes, ten million events, one minute of drain.
    fn default() -> Self {
        Limits {
            time_max: SimTime::from_ms(600_000),
            events_max: 10_000_000,
            drain_max: SimDuration::from_ms(60_000),
            observations_max: u64::MAX,
        }
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// Nothing pending and no actor busy: the run drained.
    Quiet,
    /// The queue ran empty while an actor still had work: nothing will ever
    /// make progress again.
    Stalled,
    /// The caller's stop condition held.
    Stopped,
    /// The healed phase ran for [`Limits::drain_max`] without going quiet:
    /// the next event was due after it (the run's time is the drain bound).
    DrainBound,
    /// The next event was after [`Limits::time_max`].
    TimeBound,
    /// [`Limits::events_max`] events happened.
    EventBound,
    /// [`Limits::observations_max`] observations were kept: the run would
    /// outgrow its memory budget.
    MemoryBound,
}

impl EndReason {
    /// Whether the run drained (nothing more could happen).
    pub fn is_quiet(self) -> bool {
        matches!(self, EndReason::Quiet | EndReason::Stopped)
    }

    /// Whether a time, event or memory bound cut the run short (an
    /// inconclusive run).
    pub fn is_bound(self) -> bool {
        matches!(
            self,
            EndReason::TimeBound | EndReason::EventBound | EndReason::MemoryBound
        )
    }
}

/// Counters of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    /// Datagrams handed to the network.
    pub sent: u64,
    /// Datagrams that reached a running actor.
    pub delivered: u64,
    /// Datagrams lost (random loss, scheduled loss or partition).
    pub dropped: u64,
    /// Extra copies the network made.
    pub duplicated: u64,
    /// Datagrams that reached a crashed actor.
    pub to_crashed: u64,
    /// Timers that fired (cancelled timers do not count).
    pub timers: u64,
    /// Sum of the delays of every scheduled delivery, microseconds.
    pub delay_us_sum: u64,
    /// Crashes.
    pub crashes: u64,
    /// Restarts.
    pub restarts: u64,
    /// Pauses (F-pause) that began.
    pub pauses: u64,
    /// Signals that took effect.
    pub signals: u64,
}

impl Stats {
    /// Events as the W1 benchmark counts them: deliveries, drops and timers.
    pub fn events(&self) -> u64 {
        self.delivered + self.dropped + self.timers
    }
}

/// An observation an actor recorded, with when and where.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Observed<O> {
    /// When.
    pub time: SimTime,
    /// Which actor.
    pub actor: ActorId,
    /// What it observed.
    pub obs: O,
}

/// A crash or restart, always kept (the checkers and explanations need them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lifecycle {
    /// When.
    pub time: SimTime,
    /// Which actor.
    pub actor: ActorId,
    /// Crash or restart.
    pub kind: LifecycleKind,
}

/// Crash (at a named point) or restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LifecycleKind {
    /// Crashed at the named point; volatile state and timers were lost.
    Crash(&'static str),
    /// Restarted from durable state.
    Restart,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RunEnd {
    /// Why it ended.
    pub reason: EndReason,
    /// The simulated time of the last dispatched event, or the drain bound
    /// when the run ended there.
    pub time: SimTime,
    /// Counters.
    pub stats: Stats,
    /// The digest of every event.
    pub digest: Digest,
    /// Trace events, recorded or not (what [`Limits::events_max`] bounds).
    pub trace_events: u64,
}

// Copies of events are made only by an exploration, whose actors are
// `Clone`.
#[derive(Clone)]
pub(crate) enum Event<A: Actor> {
    Deliver {
        src: ActorId,
        dst: ActorId,
        /// The life of `dst` the datagram was sent to (see [`Ctx::life`]).
        life: u32,
        msg: A::Msg,
        send_id: u64,
        /// A second copy the network made (F-dup), not the datagram sent.
        copy: bool,
    },
    Timer {
        actor: ActorId,
        id: TimerId,
        timer: A::Timer,
    },
    Restart {
        actor: ActorId,
    },
    Pause {
        actor: ActorId,
        resumes: bool,
    },
    Signal(ScheduledSignal),
}

impl<A: Actor> Event<A> {
    /// The one actor whose state the event may change: the receiver, the
    /// timer's owner, the actor restarted or paused, a signal's target.
    fn actor(&self) -> ActorId {
        match self {
            Event::Deliver { dst, .. } => *dst,
            Event::Timer { actor, .. } | Event::Restart { actor } | Event::Pause { actor, .. } => {
                *actor
            }
            Event::Signal(signal) => signal.target,
        }
    }
}

/// An event is plain data when its message and timer are: an exploring
/// search, which copies the waiting events once per successor, needs them
/// so, to copy the list in one `memcpy` rather than clone each event.
impl<A: Actor> Copy for Event<A>
where
    A: Clone,
    A::Msg: Copy,
    A::Timer: Copy,
{
}

#[derive(Clone, Copy, Debug)]
struct TimerSlot {
    generation: u32,
    live: bool,
    progress: bool,
    actor: ActorId,
}

/// Timers with lazy deletion: a cancelled timer stays in the queue but is
/// skipped, without counting as an event, when it comes up.
#[derive(Default)]
struct Timers {
    slots: Vec<TimerSlot>,
    free: Vec<u32>,
}

impl Clone for Timers {
    fn clone(&self) -> Self {
        Timers {
            slots: self.slots.clone(),
            free: self.free.clone(),
        }
    }

    /// Reuses the buffers (an exploring search copies states in place).
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let Timers { slots, free } = source;
        self.slots.clone_from(slots);
        self.free.clone_from(free);
    }
}

impl Timers {
    fn clear(&mut self) {
        self.slots.clear();
        self.free.clear();
    }

    fn add(&mut self, actor: ActorId, progress: bool) -> TimerId {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let s = u32::try_from(self.slots.len()).expect("fewer than 2^32 timers at once");
                self.slots.push(TimerSlot {
                    generation: 0,
                    live: false,
                    progress,
                    actor,
                });
                s
            }
        };
        let t = &mut self.slots[slot as usize];
        t.generation = t.generation.wrapping_add(1);
        t.live = true;
        t.progress = progress;
        t.actor = actor;
        TimerId {
            slot,
            generation: t.generation,
        }
    }

    /// Mark a timer dead; returns whether it was a live progress timer.
    fn cancel(&mut self, id: TimerId) -> bool {
        let t = &mut self.slots[id.slot as usize];
        if t.generation != id.generation || !t.live {
            return false;
        }
        t.live = false;
        t.progress
    }

    /// A timer came up in the queue: free its slot. Returns `Some(progress)`
    /// if it was live and should fire.
    fn take(&mut self, id: TimerId) -> Option<bool> {
        let t = &mut self.slots[id.slot as usize];
        debug_assert_eq!(
            t.generation, id.generation,
            "a slot is reused only after its pop"
        );
        let fire = t.live.then_some(t.progress);
        t.live = false;
        self.free.push(id.slot);
        fire
    }

    /// Kill every live timer of `actor`; returns how many were progress timers.
    fn kill_all(&mut self, actor: ActorId) -> u64 {
        let mut progress = 0;
        for t in self.slots.iter_mut().filter(|t| t.live && t.actor == actor) {
            t.live = false;
            progress += u64::from(t.progress);
        }
        progress
    }
}

/// The large buffers of a run, kept between runs so that a process running
/// many seeds does not hand its memory back to the kernel and fault it in
/// again for every run. Take them from a finished run with
/// [`Sim::into_buffers`], give them to the next with [`Sim::reuse`].
pub struct Buffers<A: Actor> {
    queue: EventQueue<Event<A>>,
    history: Vec<Observed<A::Obs>>,
    timers: Timers,
}

impl<A: Actor> Default for Buffers<A> {
    fn default() -> Self {
        Buffers {
            queue: EventQueue::default(),
            history: Vec::new(),
            timers: Timers::default(),
        }
    }
}

/// Everything but the actors: what a [`Ctx`] may touch.
pub(crate) struct Core<A: Actor, C: Choices> {
    pub(crate) now: SimTime,
    pub(crate) choices: C,
    queue: EventQueue<Event<A>>,
    topology: Arc<Topology>,
    links: Vec<LinkState>,
    pub(crate) faults: Arc<FaultPlan>,
    /// The waiting events, when the run explores orders (the queue is
    /// then unused).
    orders: Option<Orders<Event<A>>>,
    passes: Vec<(ActorId, &'static str, u32)>,
    timers: Timers,
    /// Deliveries, progress timers and restarts still in the queue.
    pending: u64,
    cause: Option<u64>,
    /// Whether the handler running now handles a network copy of a
    /// datagram (see [`Ctx::is_network_copy`]).
    pub(crate) network_copy: bool,
    stats: Stats,
    trace: Trace,
    history: Vec<Observed<A::Obs>>,
    lifecycle: Vec<Lifecycle>,
    /// The faults that happened, when kept (see [`Sim::record_faults`]).
    realized: Option<Vec<Realized>>,
    /// Each actor's life: how many times it has restarted.
    pub(crate) lives: Vec<u32>,
    /// Whether the datagram being handled was sent to an earlier life of
    /// its receiver (see [`Ctx::sent_to_earlier_life`]).
    pub(crate) earlier_life: bool,
    /// The actors an exploring run's steps may have changed since it was
    /// last copied from another run (see [`Sim::reset_to`]).
    touched: explore::Touched,
}

impl<A: Actor, C: Choices> Core<A, C> {
    /// Schedule `event` at `at`. In an exploring run, a datagram
    /// scheduled here (one a pause deferred) keeps its hashes, so that it
    /// counts among its copies; its time is fixed, so it has no window.
    #[inline]
    fn schedule(&mut self, at: SimTime, event: Event<A>) {
        match self.orders {
            None => self.queue.push(at, event),
            Some(_) => self.schedule_waiting(at, event),
        }
    }

    /// [`Core::schedule`] in an exploring run: out of line, so that a
    /// seeded run's scheduling stays as small as it was.
    #[inline(never)]
    fn schedule_waiting(&mut self, at: SimTime, event: Event<A>) {
        let hashes = explore::datagram_hashes(&event);
        let orders = self.orders.as_mut().expect("an exploring run");
        orders.push(at, (None, hashes), event);
    }

    /// The next event and its time: the queue's earliest, or, when the
    /// run explores orders, the one the choice source picks among those
    /// that may come next.
    #[inline]
    fn next_event(&mut self) -> Option<(SimTime, Event<A>)> {
        if self.orders.is_none() {
            return self.queue.pop();
        }
        self.choose_next()
    }

    /// The next event of an exploring run: out of line, so that a seeded
    /// run's loop stays as small as it was.
    #[inline(never)]
    fn choose_next(&mut self) -> Option<(SimTime, Event<A>)> {
        let orders = self.orders.as_mut().expect("an exploring run");
        orders.work_out_next();
        let enabled = orders.next();
        if enabled.is_empty() {
            return None;
        }
        let n = enabled.len() as u64;
        let chosen = self.choices.pick(Stream::Faults, Site::Order, n);
        let next = enabled[usize::try_from(chosen).expect("a small index")];
        let (time, waiting) = orders.take(next);
        self.touched.add(waiting.event.actor());
        if let Some(window) = waiting.window {
            self.realize_delay(window, time);
        }
        Some((time, waiting.event))
    }

    /// Note the delay a datagram had, when it is not its link's least.
    fn realize_delay(&mut self, window: Window, delivered: SimTime) {
        let index = self
            .topology
            .link_index(window.datagram.src, window.datagram.dst)
            .expect("a datagram travels on a link");
        let delay = delivered.since(window.sent);
        let least = self.links[index].config.delay_us_min;
        self.note_delay(least, (window.datagram, window.copy), delay);
    }

    /// Note the delay a datagram (or its copy) had, when it is not its
    /// link's `least`: the faults kept schedule it again.
    fn note_delay(&mut self, least: u64, (datagram, copy): (Datagram, bool), delay: SimDuration) {
        if delay.0 != least {
            self.realize(|| {
                Realized::Delay(ScheduledDelay {
                    datagram,
                    copy,
                    delay,
                })
            });
        }
    }

    pub(crate) fn send(&mut self, src: ActorId, dst: ActorId, msg: A::Msg) {
        self.stats.sent += 1;
        let index = self
            .topology
            .link_index(src, dst)
            .expect("a model sends only on links");
        let state = &mut self.links[index];
        state.sent += 1;
        let link = state.config;
        let datagram = Datagram {
            src,
            dst,
            nth: state.sent,
        };
        let faulty = self.faults.is_faulty(self.now);
        let stream = Stream::Network(src);
        let lost = if !faulty {
            None
        } else if self.faults.partitioned(src, dst, self.now) {
            Some(TraceKind::Cut)
        } else if self.faults.drop_scheduled(datagram) {
            Some(TraceKind::LostScheduled)
        } else if self.choices.flip(stream, Site::Drop, link.drop) {
            Some(TraceKind::Lost)
        } else {
            None
        };
        if let Some(kind) = lost {
            self.stats.dropped += 1;
            if kind != TraceKind::Cut {
                self.realize(|| Realized::Drop(datagram));
            }
            self.trace
                .note(self.now, src, Some(dst), kind, self.cause, &msg);
            return;
        }
        if faulty
            && (self.faults.duplicate_scheduled(datagram)
                || self.choices.flip(stream, Site::Duplicate, link.duplicate))
        {
            self.stats.duplicated += 1;
            self.realize(|| Realized::Duplicate(datagram));
            self.schedule_delivery(index, datagram, true, msg.clone());
        }
        self.schedule_delivery(index, datagram, false, msg);
    }

    /// Note a realized fault, when the run keeps them.
    fn realize(&mut self, fault: impl FnOnce() -> Realized) {
        if let Some(log) = &mut self.realized {
            log.push(fault());
        }
    }

    /// The delay of `datagram` (or of its duplicate, if `copy`): scheduled,
    /// or drawn from the link's range.
    fn delay_of(&mut self, link: LinkConfig, datagram: Datagram, copy: bool) -> u64 {
        if let Some(delay) = self.faults.delay_scheduled(datagram, copy) {
            return delay.0;
        }
        let step = link.delay_us_step.max(1);
        let range = (link.delay_us_max - link.delay_us_min) / step + 1;
        let stream = Stream::Network(datagram.src);
        link.delay_us_min + self.choices.pick(stream, Site::Delay, range) * step
    }

    fn schedule_delivery(&mut self, index: usize, datagram: Datagram, copy: bool, msg: A::Msg) {
        if self.orders.is_some() {
            self.wait_for_delivery(index, datagram, copy, msg);
            return;
        }
        let link = self.links[index].config;
        let delay = self.delay_of(link, datagram, copy);
        // As `note_delay`, written out: the seeded hot path compiles
        // smaller this way (W1: 275.0 M against 275.8 M instructions).
        if delay != link.delay_us_min {
            self.realize(|| {
                Realized::Delay(ScheduledDelay {
                    datagram,
                    copy,
                    delay: SimDuration(delay),
                })
            });
        }
        self.stats.delay_us_sum += delay;
        let mut at = self.now + SimDuration(delay);
        let state = &mut self.links[index];
        if link.ordering == Ordering::Fifo {
            at = at.max(state.last_delivery);
        }
        state.last_delivery = state.last_delivery.max(at);
        let event = self.in_flight(datagram, copy, msg);
        self.queue.push(at, event);
    }

    /// Note a datagram (or the network's copy of it) on its way, count it
    /// as pending, and make its delivery event.
    #[inline]
    fn in_flight(&mut self, datagram: Datagram, copy: bool, msg: A::Msg) -> Event<A> {
        let (src, dst) = (datagram.src, datagram.dst);
        let kind = if copy {
            TraceKind::Duplicate
        } else {
            TraceKind::Send
        };
        let send_id = self
            .trace
            .note(self.now, src, Some(dst), kind, self.cause, &msg);
        self.pending += 1;
        Event::Deliver {
            src,
            dst,
            life: self.lives[dst.index()],
            msg,
            send_id,
            copy,
        }
    }

    /// Schedule a delivery with its window, for an exploring run: its
    /// delay is decided when it is chosen to come next. Out of line, so
    /// that a seeded run's sends stay as small as they were.
    #[inline(never)]
    fn wait_for_delivery(&mut self, index: usize, datagram: Datagram, copy: bool, msg: A::Msg) {
        let link = self.links[index].config;
        let event = self.in_flight(datagram, copy, msg);
        let hashes = explore::datagram_hashes(&event);
        // A scheduled delay is kept as scheduled: that datagram has no
        // window. It is noted as a seeded run notes it, so that the faults
        // kept schedule it again.
        let (at, window) = match self.faults.delay_scheduled(datagram, copy) {
            Some(delay) => {
                self.note_delay(link.delay_us_min, (datagram, copy), delay);
                (self.now + delay, None)
            }
            None => {
                let window = Window {
                    sent: self.now,
                    latest: self.now + SimDuration(link.delay_us_max),
                    datagram,
                    copy,
                    step: link.delay_us_step,
                    fifo_link: (link.ordering == Ordering::Fifo).then_some(index),
                };
                (self.now + SimDuration(link.delay_us_min), Some(window))
            }
        };
        self.orders
            .as_mut()
            .expect("only an exploring run waits")
            .push(at, (window, hashes), event);
    }

    pub(crate) fn set_timer(
        &mut self,
        actor: ActorId,
        after: SimDuration,
        timer: A::Timer,
        progress: bool,
    ) -> TimerId {
        let id = self.timers.add(actor, progress);
        self.pending += u64::from(progress);
        self.schedule(self.now + after, Event::Timer { actor, id, timer });
        id
    }

    pub(crate) fn cancel_timer(&mut self, id: TimerId) {
        if self.timers.cancel(id) {
            self.pending -= 1;
        }
        if self.orders.is_some() {
            self.forget_dead_timers();
        }
    }

    /// Drop dead timers from an exploring run's waiting events and free
    /// their slots: a dead timer does nothing when it comes up, so it is
    /// not an event to order (a seeded run skips it in its queue).
    #[inline(never)]
    fn forget_dead_timers(&mut self) {
        let (Some(orders), timers) = (&mut self.orders, &mut self.timers) else {
            return;
        };
        orders.retain_waiting(|w| match &w.event {
            Event::Timer { id, .. } if !timers.slots[id.slot as usize].live => {
                timers.take(*id);
                false
            }
            _ => true,
        });
    }

    pub(crate) fn crash_point_fires(&mut self, actor: ActorId, point: &'static str) -> bool {
        let nth = self.count_pass(actor, point);
        if !self.faults.is_faulty(self.now) {
            return false;
        }
        let (faults, choices) = (&self.faults, &mut self.choices);
        let fires = nth.is_some_and(|n| faults.crash_scheduled(actor, point, n))
            || faults
                .knobs_for(actor, point)
                .any(|r| choices.flip(Stream::Faults, Site::Crash, r));
        if fires && let Some(nth) = nth {
            self.realize(|| {
                Realized::Crash(ScheduledCrash {
                    actor,
                    point: point.to_string(),
                    nth,
                })
            });
        }
        fires
    }

    /// Count a pass of a crash point that has a scheduled crash (or of every
    /// point, when realized faults are kept); returns the pass number
    /// (1-based).
    fn count_pass(&mut self, actor: ActorId, point: &'static str) -> Option<u32> {
        if self.realized.is_none() && !self.faults.counts_passes(actor, point) {
            return None;
        }
        let entry = match self
            .passes
            .iter()
            .position(|(a, p, _)| *a == actor && *p == point)
        {
            Some(i) => &mut self.passes[i],
            None => {
                self.passes.push((actor, point, 0));
                self.passes.last_mut().expect("just pushed")
            }
        };
        entry.2 += 1;
        Some(entry.2)
    }

    pub(crate) fn observe(&mut self, actor: ActorId, obs: A::Obs) {
        self.history.push(Observed {
            time: self.now,
            actor,
            obs,
        });
    }
}

struct Slot<A: Actor> {
    /// The index of the actor's durable state in `Sim::stores` (actors that
    /// share a database share an index; see [`Sim::share_durable`]).
    store: usize,
    volatile: Option<A::Volatile>,
}

/// A deterministic run of actors `A` with choice source `C`.
pub struct Sim<A: Actor, C: Choices> {
    names: Arc<[String]>,
    actors: Arc<[A]>,
    slots: Vec<Slot<A>>,
    stores: Vec<A::Durable>,
    core: Core<A, C>,
    limits: Limits,
    started: bool,
}

impl<A: Actor, C: Choices> Sim<A, C> {
    /// A run of `actors` (named by `names`, in the same order) over
    /// `topology`, with `faults`, bounded by `limits`, drawing from `choices`.
    /// The trace is not recorded; see [`Sim::record_trace`].
    ///
    /// # Panics
    /// If `names`, `actors` and the topology disagree on the number of actors.
    pub fn new(
        names: Vec<String>,
        actors: Vec<A>,
        topology: Topology,
        faults: FaultPlan,
        limits: Limits,
        choices: C,
    ) -> Self {
        let mut faults = faults;
        faults.sort();
        let mut choices = choices;
        draw_clock_jumps(&mut faults, actors.len(), &mut choices);
        draw_signals(&mut faults, false, &mut choices);
        draw_pauses(&mut faults, actors.len(), &mut choices);
        faults.end_pauses_at_heal();
        draw_signals(&mut faults, true, &mut choices);
        assert_eq!(names.len(), actors.len(), "one name per actor");
        assert_eq!(
            topology.actor_count(),
            actors.len(),
            "one topology node per actor"
        );
        let slots = (0..actors.len())
            .map(|store| Slot {
                store,
                volatile: None,
            })
            .collect();
        let stores = actors.iter().map(Actor::init_durable).collect();
        let core = Core {
            now: SimTime::ZERO,
            choices,
            queue: EventQueue::default(),
            links: topology.link_states(),
            topology: Arc::new(topology),
            faults: Arc::new(faults),
            orders: None,
            passes: Vec::new(),
            timers: Timers::default(),
            pending: 0,
            cause: None,
            network_copy: false,
            stats: Stats::default(),
            trace: Trace::new(false),
            history: Vec::new(),
            lifecycle: Vec::new(),
            realized: None,
            lives: vec![0; actors.len()],
            earlier_life: false,
            touched: explore::Touched::All,
        };
        Sim {
            names: names.into(),
            actors: actors.into(),
            slots,
            stores,
            core,
            limits,
            started: false,
        }
    }

    /// Let `actors` share the first one's durable state, as processes of
    /// one service share its database: a transaction of one is seen by the
    /// others at once, and a crash of one loses none of it. Must be called
    /// before the run starts.
    ///
    /// # Panics
    /// If the run has started, or `actors` is empty.
    pub fn share_durable(&mut self, actors: &[ActorId]) {
        assert!(!self.started, "sharing is chosen before the run starts");
        self.core.touched = explore::Touched::All;
        let store = self.slots[actors[0].index()].store;
        for a in actors {
            self.slots[a.index()].store = store;
        }
    }

    /// Keep every trace event (for replay files and golden traces). Must be
    /// called before the run starts.
    pub fn record_trace(&mut self) {
        assert!(!self.started, "recording is chosen before the run starts");
        self.core.trace = Trace::new(true);
    }

    /// Keep the trace events as [`Sim::record_trace`] does while there are
    /// at most `events` of them; past that, drop them and record no more
    /// ([`Sim::trace_given_up`] says so). The run itself, and its digest,
    /// are the same either way. Must be called before the run starts.
    pub fn record_trace_at_most(&mut self, events: u64) {
        assert!(!self.started, "recording is chosen before the run starts");
        self.core.trace = Trace::keeping_at_most(true, events);
    }

    /// Whether a recording bounded by [`Sim::record_trace_at_most`] passed
    /// its bound, so that [`Sim::trace`] is empty.
    pub fn trace_given_up(&self) -> bool {
        self.core.trace.given_up()
    }

    /// Keep every fault that happens, named so that it can be scheduled
    /// (see [`Sim::realized`]). Must be called before the run starts.
    pub fn record_faults(&mut self) {
        assert!(!self.started, "recording is chosen before the run starts");
        // Clock jumps, pauses and signals, scheduled or drawn, are known
        // from the start.
        let faults = &self.core.faults;
        let jumps = faults.clock_jumps.iter().map(|j| Realized::ClockJump(*j));
        let signals = |after: bool| {
            let of_kind = move |s: &&ScheduledSignal| s.kind.after_pauses == after;
            faults
                .signals
                .iter()
                .filter(of_kind)
                .map(|s| Realized::Signal(*s))
        };
        let pauses = faults.pauses.iter().map(|p| Realized::Pause(*p));
        self.core.realized = Some(
            jumps
                .chain(signals(false))
                .chain(pauses)
                .chain(signals(true))
                .collect(),
        );
    }

    /// The faults that happened so far, in order, if
    /// [`Sim::record_faults`] was called.
    pub fn realized(&self) -> Option<&[Realized]> {
        self.core.realized.as_deref()
    }

    /// Run on `buffers` (emptied first) instead of fresh ones. Must be called
    /// before the run starts.
    pub fn reuse(&mut self, mut buffers: Buffers<A>) {
        assert!(!self.started, "buffers are chosen before the run starts");
        buffers.queue.clear();
        buffers.history.clear();
        buffers.timers.clear();
        self.core.queue = buffers.queue;
        self.core.history = buffers.history;
        self.core.timers = buffers.timers;
    }

    /// End the run and keep its buffers for the next one.
    pub fn into_buffers(self) -> Buffers<A> {
        let core = self.core;
        Buffers {
            queue: core.queue,
            history: core.history,
            timers: core.timers,
        }
    }

    /// Make room for about `events` events and observations up front, so
    /// that a large run does not spend its time growing buffers.
    pub fn reserve(&mut self, events: usize) {
        self.core.history.reserve(events);
        self.core.queue.reserve(events / 2);
    }

    /// Run until quiet or a bound.
    pub fn run(&mut self) -> RunEnd {
        self.run_until(|_| false)
    }

    /// Run until quiet, a bound, or `stop` holds after an event.
    pub fn run_until(&mut self, mut stop: impl FnMut(&Self) -> bool) -> RunEnd {
        if !self.started {
            self.start_all();
        }
        let reason = loop {
            if let Some(reason) = self.step() {
                break reason;
            }
            if stop(self) {
                break EndReason::Stopped;
            }
            if let Some(reason) = self.after_step() {
                break reason;
            }
        };
        RunEnd {
            reason,
            time: self.core.now,
            stats: self.core.stats,
            digest: self.core.trace.digest(),
            trace_events: self.core.trace.len(),
        }
    }

    fn start_all(&mut self) {
        self.started = true;
        // Every actor's state is made here (see `Sim::reset_to`).
        self.core.touched = explore::Touched::All;
        for i in 0..self.actors.len() {
            self.start_actor(actor_id(i));
        }
        // Signals and pauses are not pending work: a run may end quiet
        // before them.
        let faults = Arc::clone(&self.core.faults);
        for after_pauses in [false, true] {
            for signal in &faults.signals {
                if signal.kind.after_pauses == after_pauses {
                    self.core.schedule(signal.at, Event::Signal(*signal));
                }
            }
        }
        for p in &faults.pauses {
            let actor = p.actor;
            let start = Event::Pause {
                actor,
                resumes: false,
            };
            self.core.schedule(p.from, start);
            self.core.schedule(
                p.to,
                Event::Pause {
                    actor,
                    resumes: true,
                },
            );
        }
    }

    fn start_actor(&mut self, id: ActorId) {
        let slot = &mut self.slots[id.index()];
        let mut ctx = Ctx {
            id,
            core: &mut self.core,
        };
        let durable = &self.stores[slot.store];
        slot.volatile = Some(self.actors[id.index()].start(durable, &mut ctx));
    }

    /// Dispatch the next event; `Some` when the run must end.
    fn step(&mut self) -> Option<EndReason> {
        let Some((time, event)) = self.core.next_event() else {
            return Some(if self.any_busy() {
                EndReason::Stalled
            } else {
                EndReason::Quiet
            });
        };
        if let Some(reason) = self.bound_before(time) {
            return Some(reason);
        }
        debug_assert!(time >= self.core.now, "time never goes backwards");
        self.core.now = time;
        // A deferred event ends this step with nothing else to do.
        let event = self.defer_while_paused(event)?;
        match event {
            Event::Deliver {
                src,
                dst,
                life,
                msg,
                send_id,
                copy,
            } => self.deliver(src, dst, (life, copy), msg, send_id),
            Event::Timer { actor, id, timer } => self.fire_timer(actor, id, timer),
            Event::Restart { actor } => self.restart(actor),
            Event::Signal(signal) => self.signal(signal),
            Event::Pause { actor, resumes } => {
                let kind = if resumes {
                    TraceKind::Resume
                } else {
                    self.core.stats.pauses += 1;
                    TraceKind::Pause
                };
                let core = &mut self.core;
                core.trace.note(core.now, actor, None, kind, None, &());
            }
        }
        None
    }

    /// After an event: whether the run drained or hit a bound.
    #[inline]
    fn after_step(&self) -> Option<EndReason> {
        if self.core.pending == 0 && !self.any_busy() {
            return Some(EndReason::Quiet);
        }
        self.bound_hit()
    }

    fn bound_hit(&self) -> Option<EndReason> {
        if self.core.trace.len() >= self.limits.events_max {
            return Some(EndReason::EventBound);
        }
        (self.core.history.len() as u64 >= self.limits.observations_max)
            .then_some(EndReason::MemoryBound)
    }

    /// The bound the run meets before an event due at `time`, if any; the
    /// event is then not dispatched. The drain bound comes first when it is
    /// not after the time bound: the run then ends at the drain bound,
    /// where it was cut (the healed phase drained for all it may, so
    /// liveness is judged), even if the next event is past the time bound
    /// too. Otherwise an event past the time bound ends the run short.
    fn bound_before(&mut self, time: SimTime) -> Option<EndReason> {
        let drain_end = self.core.faults.faults_until + self.limits.drain_max;
        if time > drain_end && drain_end <= self.limits.time_max {
            self.core.now = self.core.now.max(drain_end);
            return Some(EndReason::DrainBound);
        }
        (time > self.limits.time_max).then_some(EndReason::TimeBound)
    }

    #[inline]
    /// Deliver `msg` to `dst`, sent to its `life`-th life; `copy`: a second
    /// copy the network made.
    fn deliver(
        &mut self,
        src: ActorId,
        dst: ActorId,
        (life, copy): (u32, bool),
        msg: A::Msg,
        send_id: u64,
    ) {
        self.core.pending -= 1;
        let now = self.core.now;
        if self.slots[dst.index()].volatile.is_none() {
            self.core.stats.to_crashed += 1;
            let kind = TraceKind::DeliverToDown;
            self.core
                .trace
                .note(now, dst, Some(src), kind, Some(send_id), &msg);
            return;
        }
        self.core.stats.delivered += 1;
        let id = self
            .core
            .trace
            .note(now, dst, Some(src), TraceKind::Deliver, Some(send_id), &msg);
        self.core.cause = Some(id);
        self.core.network_copy = copy;
        self.core.earlier_life = life != self.core.lives[dst.index()];
        let slot = &mut self.slots[dst.index()];
        let volatile = slot.volatile.as_mut().expect("checked above");
        let mut ctx = Ctx {
            id: dst,
            core: &mut self.core,
        };
        let step = self.actors[dst.index()].on_msg(
            Store::new(&mut self.stores[slot.store]),
            volatile,
            &mut ctx,
            src,
            msg,
        );
        self.after_handler(dst, step);
    }

    fn fire_timer(&mut self, actor: ActorId, id: TimerId, timer: A::Timer) {
        let Some(progress) = self.core.timers.take(id) else {
            return;
        };
        self.core.pending -= u64::from(progress);
        self.core.stats.timers += 1;
        let now = self.core.now;
        let event = self
            .core
            .trace
            .note(now, actor, None, TraceKind::Timer, None, &timer);
        self.core.cause = Some(event);
        let slot = &mut self.slots[actor.index()];
        let volatile = slot
            .volatile
            .as_mut()
            .expect("a crashed actor's timers are dead");
        let mut ctx = Ctx {
            id: actor,
            core: &mut self.core,
        };
        let step = self.actors[actor.index()].on_timer(
            Store::new(&mut self.stores[slot.store]),
            volatile,
            &mut ctx,
            timer,
        );
        self.after_handler(actor, step);
    }

    fn after_handler(&mut self, actor: ActorId, step: Step) {
        self.core.cause = None;
        self.core.network_copy = false;
        self.core.earlier_life = false;
        if let Err(Crashed { point }) = step {
            self.crash(actor, point);
        }
    }

    fn crash(&mut self, actor: ActorId, point: &'static str) {
        let core = &mut self.core;
        self.slots[actor.index()].volatile = None;
        core.pending -= core.timers.kill_all(actor);
        if core.orders.is_some() {
            core.forget_dead_timers();
        }
        core.stats.crashes += 1;
        core.trace
            .note(core.now, actor, None, TraceKind::Crash(point), None, &());
        core.lifecycle.push(Lifecycle {
            time: core.now,
            actor,
            kind: LifecycleKind::Crash(point),
        });
        core.pending += 1;
        let at = core.now + core.faults.restart_after;
        core.schedule(at, Event::Restart { actor });
    }

    fn restart(&mut self, actor: ActorId) {
        let core = &mut self.core;
        core.pending -= 1;
        core.stats.restarts += 1;
        core.lives[actor.index()] += 1;
        core.trace
            .note(core.now, actor, None, TraceKind::Restart, None, &());
        core.lifecycle.push(Lifecycle {
            time: core.now,
            actor,
            kind: LifecycleKind::Restart,
        });
        self.start_actor(actor);
    }

    /// A datagram or timer for a paused actor waits until the pause ends
    /// (`None`: deferred); everything else happens now.
    fn defer_while_paused(&mut self, event: Event<A>) -> Option<Event<A>> {
        let actor = match &event {
            Event::Deliver { dst, .. } => *dst,
            Event::Timer { actor, .. } => *actor,
            // The target acts on a signal about another actor; one about
            // itself happens to it, paused or not.
            Event::Signal(signal) if signal.target != signal.about => signal.target,
            Event::Signal(_) | Event::Restart { .. } | Event::Pause { .. } => {
                return Some(event);
            }
        };
        match self.core.faults.paused_until(actor, self.core.now) {
            Some(until) => {
                self.core.schedule(until, event);
                None
            }
            None => Some(event),
        }
    }

    /// A signal is noted, at the actor it is about, and counted only when
    /// it took effect.
    fn signal(&mut self, signal: ScheduledSignal) {
        let target = signal.target;
        let slot = &mut self.slots[target.index()];
        let mut ctx = Ctx {
            id: target,
            core: &mut self.core,
        };
        let took_effect = self.actors[target.index()].signal(
            Store::new(&mut self.stores[slot.store]),
            slot.volatile.as_mut(),
            &mut ctx,
            signal.kind,
            signal.about,
        );
        if took_effect {
            let core = &mut self.core;
            core.stats.signals += 1;
            let kind = TraceKind::Signal(signal.kind);
            core.trace
                .note(core.now, signal.about, None, kind, None, &());
        }
    }

    fn any_busy(&self) -> bool {
        self.actors
            .iter()
            .zip(&self.slots)
            .any(|(a, s)| a.is_busy(&self.stores[s.store], s.volatile.as_ref()))
    }

    /// The actors' names, by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The actor programs, by id.
    pub fn actors(&self) -> &[A] {
        &self.actors
    }

    /// An actor's durable state.
    pub fn durable(&self, id: ActorId) -> &A::Durable {
        &self.stores[self.slots[id.index()].store]
    }

    /// An actor's volatile state (`None` while crashed).
    pub fn volatile(&self, id: ActorId) -> Option<&A::Volatile> {
        self.slots[id.index()].volatile.as_ref()
    }

    /// The observations recorded so far.
    pub fn history(&self) -> &[Observed<A::Obs>] {
        &self.core.history
    }

    /// Crashes and restarts so far.
    pub fn lifecycle(&self) -> &[Lifecycle] {
        &self.core.lifecycle
    }

    /// The recorded trace (empty unless [`Sim::record_trace`] was called).
    pub fn trace(&self) -> &[TraceEvent] {
        self.core.trace.events()
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.core.stats
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// The fault plan.
    pub fn faults(&self) -> &FaultPlan {
        &self.core.faults
    }

    /// The choice source (for example to read a recorded tape).
    pub fn choices(&self) -> &C {
        &self.core.choices
    }
}

fn actor_id(i: usize) -> ActorId {
    ActorId(u32::try_from(i).expect("fewer than 2^32 actors"))
}

/// Draw each actor's pause, for every knob that applies to it: with the
/// knob's probability, from a whole millisecond within the faulty phase,
/// for the knob's duration. Nothing is drawn without knobs.
fn draw_pauses<C: Choices>(faults: &mut FaultPlan, actors: usize, choices: &mut C) {
    let span_ms = (faults.faults_until.as_us() / 1_000).max(1);
    let knobs = faults.pause_knobs.clone();
    for a in 0..actors {
        let actor = ActorId(u32::try_from(a).expect("few actors"));
        for k in knobs.iter().filter(|k| k.actor.is_none_or(|x| x == actor)) {
            if choices.flip(Stream::Faults, Site::Pause, k.ratio) {
                let from = SimTime::from_ms(choices.pick(Stream::Faults, Site::Pause, span_ms));
                faults.pauses.push(ScheduledPause {
                    actor,
                    from,
                    to: from + k.duration,
                });
            }
        }
    }
}

/// Draw the signals of each stochastic knob whose kind comes `after_pauses`
/// (or before), in plan order: for each pair, with the knob's probability,
/// at a whole millisecond within the faulty phase. Nothing is drawn without
/// a knob.
fn draw_signals<C: Choices>(faults: &mut FaultPlan, after_pauses: bool, choices: &mut C) {
    let span_ms = (faults.faults_until.as_us() / 1_000).max(1);
    let knobs = faults.signal_knobs.iter();
    for knob in knobs.filter(|k| k.kind.after_pauses == after_pauses) {
        for &(target, about) in &knob.pairs {
            if choices.flip(Stream::Faults, Site::Signal, knob.ratio) {
                let at_ms = choices.pick(Stream::Faults, Site::Signal, span_ms);
                faults.signals.push(ScheduledSignal {
                    kind: knob.kind,
                    target,
                    about,
                    at: SimTime::from_ms(at_ms),
                });
            }
        }
    }
}

/// Draw each actor's clock jump when the plan has the stochastic knob: a
/// whole millisecond within the faulty phase, and an offset of whole
/// milliseconds up to the knob either way (so that a schedule in
/// milliseconds reproduces it). Nothing is drawn without the knob, so other
/// runs keep their draws.
///
/// Choice `0` is the fault-free default here as everywhere: the offset's
/// choice counts outwards from no jump (`0, +1, -1, +2, -2, …` ms), and an
/// actor whose offset is `0` gets no jump at all (a jump by `0` would undo
/// a scheduled one).
fn draw_clock_jumps<C: Choices>(faults: &mut FaultPlan, actors: usize, choices: &mut C) {
    let Some(max) = faults.clock_jump_max else {
        return;
    };
    let span_ms = (faults.faults_until.as_us() / 1_000).max(1);
    let max_ms = max.as_us() / 1_000;
    for a in 0..actors {
        let at_ms = choices.pick(Stream::Faults, Site::Clock, span_ms);
        let by_ms = clock_offset_ms(choices.pick(Stream::Faults, Site::Clock, 2 * max_ms + 1));
        if by_ms != 0 {
            faults.clock_jumps.push(ClockJump {
                actor: ActorId(u32::try_from(a).expect("few actors")),
                at: SimTime::from_ms(at_ms),
                by_us: by_ms * 1_000,
            });
        }
    }
}

/// The clock offset in milliseconds that choice `k` stands for: `0` for
/// `0`, then outwards, `+1, -1, +2, -2, …`, so that choices `0..2m + 1` are
/// exactly the offsets `-m..=m` and a smaller choice is a smaller jump.
fn clock_offset_ms(k: u64) -> i64 {
    let magnitude = i64::try_from(k.div_ceil(2)).expect("a clock offset in ms fits");
    if k % 2 == 1 { magnitude } else { -magnitude }
}

#[cfg(test)]
mod tests;
