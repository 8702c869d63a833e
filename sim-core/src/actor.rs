//! Sans-IO actors: the [`Actor`] trait, the [`Ctx`] its handlers act through,
//! durable [`Store`]s, crash points and timers.
//!
//! An actor's state is split in two. **Durable** state survives a crash (think
//! fsync'd disk or a database) and is only written inside
//! [`Store::transaction`], whose closure cannot reach a crash point, so every
//! transaction is atomic. **Volatile** state is lost on a crash together with
//! the actor's timers; a restart rebuilds it from durable state by calling
//! [`Actor::start`] again.

use std::fmt::Debug;
use std::hash::Hash;

use crate::choice::{Choices, Ratio, Site, Stream};
use crate::fault::SignalKind;
use crate::sim::Core;
use crate::time::{SimDuration, SimTime};

/// The index of an actor in its [`Sim`](crate::Sim), in scenario order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActorId(pub u32);

impl ActorId {
    /// The id as a vector index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A handler stopped at a crash point that fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crashed {
    /// The name of the crash point.
    pub point: &'static str,
}

/// What a handler returns: `Err` when it crashed at a named point.
pub type Step = Result<(), Crashed>;

/// A timer set by an actor; used to cancel it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TimerId {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl Hash for TimerId {
    /// By slot and generation; while a state is fingerprinted, by the
    /// timer's place among the waiting timers (as `Debug` shows it).
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match TimerNames::place_of(*self) {
            Some(place) => place.hash(h),
            None => (self.slot, self.generation).hash(h),
        }
    }
}

impl Debug for TimerId {
    /// `TimerId(slot.generation)`; while a state is fingerprinted, the
    /// timer's place among the waiting timers instead (`timer#2`, or
    /// `timer#gone` for one that already fired), which does not depend on
    /// the path that set it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match TimerNames::place_of(*self) {
            Some(Some(place)) => write!(f, "timer#{place}"),
            Some(None) => f.write_str("timer#gone"),
            None => write!(f, "TimerId({}.{})", self.slot, self.generation),
        }
    }
}

/// The names timer ids take while a state is fingerprinted (see
/// [`Sim::fingerprint`](crate::Sim::fingerprint)).
pub(crate) struct TimerNames;

/// The names in force, if any, and their buffer (kept between uses: a
/// search fingerprints every successor).
#[derive(Default)]
struct InForce {
    active: bool,
    names: Vec<(TimerId, u64)>,
}

thread_local! {
    static TIMER_NAMES: std::cell::RefCell<InForce> =
        std::cell::RefCell::new(InForce::default());
}

impl TimerNames {
    /// Run `f` with the names `name` writes into its (emptied) buffer in
    /// force on this thread.
    pub(crate) fn with<T>(name: impl FnOnce(&mut Vec<(TimerId, u64)>), f: impl FnOnce() -> T) -> T {
        TIMER_NAMES.with(|n| {
            let mut n = n.borrow_mut();
            n.names.clear();
            name(&mut n.names);
            n.active = true;
        });
        let out = f();
        TIMER_NAMES.with(|n| n.borrow_mut().active = false);
        out
    }

    /// `None` outside [`TimerNames::with`]; else the id's place, if its
    /// timer still waits.
    fn place_of(id: TimerId) -> Option<Option<u64>> {
        TIMER_NAMES.with(|n| {
            let n = n.borrow();
            n.active
                .then(|| n.names.iter().find(|(t, _)| *t == id).map(|(_, p)| *p))
        })
    }
}

/// A handler's access to its durable state: reads at any time, writes only
/// through atomic transactions.
#[derive(Debug)]
pub struct Store<'a, D> {
    data: &'a mut D,
}

impl<'a, D> Store<'a, D> {
    /// Access to `data` (the engine makes one per handler call; tests and the
    /// law probe make their own).
    pub fn new(data: &'a mut D) -> Store<'a, D> {
        Store { data }
    }

    /// Read the durable state.
    pub fn get(&self) -> &D {
        self.data
    }

    /// Write the durable state atomically: the closure is handed no [`Ctx`],
    /// so no crash point fires inside it. (A closure that captured the
    /// handler's `Ctx` could still reach one; handlers must not do that.)
    pub fn transaction<T>(&mut self, write: impl FnOnce(&mut D) -> T) -> T {
        write(self.data)
    }

    /// Narrow the store to a part of the state (for example one variant of
    /// an enum of roles); `None` if `part` finds nothing.
    pub fn project<E>(
        self,
        part: impl FnOnce(&'a mut D) -> Option<&'a mut E>,
    ) -> Option<Store<'a, E>> {
        part(self.data).map(|data| Store { data })
    }

    /// Reborrow for a shorter call.
    pub fn reborrow(&mut self) -> Store<'_, D> {
        Store { data: self.data }
    }
}

/// A sans-IO state machine run by the engine.
///
/// Handlers never touch a clock, a socket or another actor: they read `now`
/// from the [`Ctx`] and push effects through it (send, set or cancel a timer,
/// record an observation, pass a crash point).
pub trait Actor: Sized {
    /// Messages on the wire.
    type Msg: Clone + Debug + Hash;
    /// Timer tags.
    type Timer: Clone + Debug + Hash;
    /// State that survives a crash.
    type Durable: Clone + Debug;
    /// State lost on a crash.
    type Volatile;
    /// Observations recorded for the checkers (the run's history).
    type Obs;

    /// The durable state before the first start.
    fn init_durable(&self) -> Self::Durable;

    /// Build volatile state from durable state, at the start of the run and at
    /// every restart after a crash.
    fn start<C: Choices>(
        &self,
        durable: &Self::Durable,
        ctx: &mut Ctx<'_, Self, C>,
    ) -> Self::Volatile;

    /// Handle a message from `src`.
    ///
    /// # Errors
    /// `Crashed` when a crash point fired; the engine then drops the volatile
    /// state and the timers, and schedules a restart.
    fn on_msg<C: Choices>(
        &self,
        durable: Store<'_, Self::Durable>,
        volatile: &mut Self::Volatile,
        ctx: &mut Ctx<'_, Self, C>,
        src: ActorId,
        msg: Self::Msg,
    ) -> Step;

    /// Receive the signal `kind` about `about` (itself, or another actor;
    /// `volatile` is `None` while it is down); returns whether it took
    /// effect, so that the trace notes it at `about` (a coordinator told to
    /// move a member's partitions moves nothing if the member owns none).
    /// What a signal means is the model's; by default nothing happens.
    fn signal<C: Choices>(
        &self,
        durable: Store<'_, Self::Durable>,
        volatile: Option<&mut Self::Volatile>,
        ctx: &mut Ctx<'_, Self, C>,
        kind: &'static SignalKind,
        about: ActorId,
    ) -> bool {
        let _ = (durable, volatile, ctx, kind, about);
        false
    }

    /// Handle a timer that expired.
    ///
    /// # Errors
    /// `Crashed` when a crash point fired, as for [`Actor::on_msg`].
    fn on_timer<C: Choices>(
        &self,
        durable: Store<'_, Self::Durable>,
        volatile: &mut Self::Volatile,
        ctx: &mut Ctx<'_, Self, C>,
        timer: Self::Timer,
    ) -> Step;

    /// Whether the actor still has work to do although nothing of it is
    /// pending in the queue (for example rows stuck in `processing`). A run is
    /// quiet only when no actor is busy. `volatile` is `None` while crashed.
    fn is_busy(&self, durable: &Self::Durable, volatile: Option<&Self::Volatile>) -> bool {
        let _ = (durable, volatile);
        false
    }
}

/// The context a handler acts through: its own id, the time, its own slice of
/// the choice source, and the effects it may push.
pub struct Ctx<'a, A: Actor, C: Choices> {
    pub(crate) id: ActorId,
    pub(crate) core: &'a mut Core<A, C>,
}

impl<A: Actor, C: Choices> Ctx<'_, A, C> {
    /// This actor's id.
    pub fn id(&self) -> ActorId {
        self.id
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// What this actor's own clock reads: the simulated time, off by its
    /// clock jumps (F-clock). Read it for wall-clock logic (TTLs, dedup
    /// windows, leases); timers always run on the true time.
    pub fn clock(&self) -> SimTime {
        let offset = self.core.faults.clock_offset(self.id, self.core.now);
        SimTime(self.core.now.0.saturating_add_signed(offset))
    }

    /// Send `msg` to `dst`; the network decides whether and when it arrives.
    ///
    /// # Panics
    /// If the topology has no link from this actor to `dst` (a model bug).
    pub fn send(&mut self, dst: ActorId, msg: A::Msg) {
        self.core.send(self.id, dst, msg);
    }

    /// Set a timer for pending work (a retransmission, a scheduled send). The
    /// run is not quiet while such a timer is set.
    pub fn set_timer(&mut self, after: SimDuration, timer: A::Timer) -> TimerId {
        self.core.set_timer(self.id, after, timer, true)
    }

    /// Set a polling timer (periodic work that exists even when idle). It
    /// does not keep the run from being quiet.
    pub fn set_poll_timer(&mut self, after: SimDuration, timer: A::Timer) -> TimerId {
        self.core.set_timer(self.id, after, timer, false)
    }

    /// Cancel a timer; cancelling one that fired or was cancelled is a no-op.
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.core.cancel_timer(id);
    }

    /// Pass the crash point `point`: the fault plan and the choice source
    /// decide whether it fires.
    ///
    /// # Errors
    /// `Crashed` if it fires; the handler must return it (use `?`).
    pub fn crash_point(&mut self, point: &'static str) -> Step {
        if self.core.crash_point_fires(self.id, point) {
            Err(Crashed { point })
        } else {
            Ok(())
        }
    }

    /// This actor's life: how many times it has restarted (0 until its
    /// first crash's restart).
    pub fn life(&self) -> u32 {
        self.core.lives[self.id.index()]
    }

    /// Whether the datagram being handled was sent to an earlier life of
    /// this actor: sent before its last restart, to the process that
    /// crashed (false in a timer's handler, and in every handler of an
    /// actor that never restarted). What such a datagram means is the
    /// model's to say: a reply on a connection that died with the process
    /// would never reach the new one.
    pub fn sent_to_earlier_life(&self) -> bool {
        self.core.earlier_life
    }

    /// Record an observation in the run's history.
    pub fn observe(&mut self, obs: A::Obs) {
        self.core.observe(self.id, obs);
    }

    /// Whether the datagram being handled is a second copy the network made
    /// (a duplicate), not the one its sender sent. No real process can tell:
    /// this is the simulator's omniscience, for observations that let the
    /// history say what made an event happen. A handler must not act on it.
    pub fn is_network_copy(&self) -> bool {
        self.core.network_copy
    }

    /// A yes/no decision of this actor's own, from its own stream.
    pub fn flip(&mut self, p: Ratio) -> bool {
        self.core
            .choices
            .flip(Stream::Actor(self.id), Site::Actor, p)
    }

    /// Pick a number in `0..n` from this actor's own stream.
    pub fn pick(&mut self, n: u64) -> u64 {
        self.core
            .choices
            .pick(Stream::Actor(self.id), Site::Actor, n)
    }
}
