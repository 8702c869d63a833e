//! What an exploration needs of a run: explore orders instead of drawing
//! delays, advance one event at a time, copy a state, fingerprint it, and
//! turn a path into faults a seeded run can schedule.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::orders::{DatagramHashes, Orders, Timing, Waiting};
use super::{Actor, Choices, EndReason, Event, Sim};
use crate::actor::{ActorId, TimerNames};
use crate::fault::FaultPlan;
use crate::network::Topology;
use crate::time::SimTime;
use crate::trace::Fnv64;

impl<A: Actor, C: Choices> Sim<A, C> {
    /// Explore orders: keep each datagram waiting with its delivery window
    /// instead of drawing its delay, and let the choice source pick, event
    /// by event, which event that may come next comes next (see
    /// [`Timing`]). Must be called before the run starts.
    ///
    /// # Panics
    /// If the run has started.
    pub fn explore_orders(&mut self, timing: Timing) {
        assert!(!self.started, "exploring is chosen before the run starts");
        self.core.orders = Some(Orders::new(timing));
    }

    /// Declare that the run's future depends on the time only through
    /// the waiting events: the actors neither read nor keep the clock, and
    /// no bound or fault of the run is reached by time. Fingerprints then
    /// hash the waiting events' times relative to now (timed orders) or
    /// not at all (untimed), so that states that differ only in when they
    /// happen are one. Must follow [`Sim::explore_orders`].
    ///
    /// # Panics
    /// If the run does not explore orders.
    pub fn clock_free(&mut self) {
        self.core
            .orders
            .as_mut()
            .expect("exploring orders first")
            .clock_free = true;
    }

    /// Start the run, or dispatch its next event: one step of an
    /// exploration. `Some` when the run has ended (then nothing more
    /// happens).
    pub fn advance(&mut self) -> Option<EndReason> {
        if let Some(orders) = &mut self.core.orders {
            orders.begin_step();
        }
        if !self.started {
            // As in `run_until`: whether the run is quiet is asked only
            // after an event (an actor may start with nothing pending but
            // a timer that is not progress, such as a producer's first
            // send).
            self.start_all();
            return self.bound_hit();
        }
        if let Some(reason) = self.step() {
            return Some(reason);
        }
        self.after_step()
    }

    /// Work out which events may come next, once: copies made from now on
    /// take the answer over, so a state whose successors are all made from
    /// copies of it works it out once rather than once per successor. Does
    /// nothing in a seeded run.
    pub fn work_out_next(&mut self) {
        if let Some(orders) = &mut self.core.orders {
            orders.work_out_next();
        }
    }

    /// The choice source, to script the next step of an exploration.
    pub fn choices_mut(&mut self) -> &mut C {
        &mut self.core.choices
    }

    /// The most copies of one datagram (the same sender, receiver and
    /// message) waiting at once in an exploring run; 0 in a seeded one.
    pub fn most_copies_waiting(&self) -> usize {
        let Some(orders) = &self.core.orders else {
            return 0;
        };
        let waiting = orders.waiting();
        let copies = |i: usize| waiting[i].hashes.map(|h| h.copies);
        // Few events wait at once: count each datagram's copies among those
        // before it rather than gather and sort them.
        (0..waiting.len())
            .filter_map(|i| {
                let mine = copies(i)?;
                Some((0..=i).filter(|&k| copies(k) == Some(mine)).count())
            })
            .max()
            .unwrap_or(0)
    }

    /// Whether a datagram the last step sent (see [`Sim::advance`]) now
    /// waits in more than `most` copies. A step takes one event away and
    /// adds the ones it sends, so of a successor of a state where no
    /// datagram waited in more than `most` copies, this says whether one
    /// does now, as [`Sim::most_copies_waiting`] would, for the cost of
    /// counting the copies of the few datagrams sent (a search asks it of
    /// every successor).
    pub fn sent_past_copies(&self, most: usize) -> bool {
        let Some(orders) = &self.core.orders else {
            return false;
        };
        let copies_of = |mine: DatagramHashes| {
            orders
                .waiting()
                .iter()
                .filter(|w| w.hashes.is_some_and(|h| h.copies == mine.copies))
                .count()
        };
        orders
            .pushed_by_the_step()
            .iter()
            .filter_map(|w| w.hashes)
            .any(|sent| copies_of(sent) > most)
    }

    /// Note the delay of every datagram still waiting as its link's
    /// greatest, so that the faults kept (see [`Sim::record_faults`]) give,
    /// scheduled in a seeded run, the very events of this exploring one up
    /// to here: a datagram that waited past every event that happened was
    /// late enough for all of them.
    pub fn realize_waiting(&mut self) {
        let Some(orders) = &self.core.orders else {
            return;
        };
        let windows: Vec<_> = orders.waiting().iter().filter_map(|w| w.window).collect();
        for window in windows {
            self.core.realize_delay(window, window.latest);
        }
    }

    /// A stable 64-bit fingerprint of the state: every actor's durable and
    /// volatile state (by their `Hash`, which must agree with their
    /// equality and hold no hash-container order), its life, the waiting events with their times and
    /// windows, the crash-point passes and datagram counts when a scheduled
    /// fault counts them, the faults the path has used, and what the actors
    /// observed (as a multiset, without times). Timer ids are named by the
    /// place of their timer among the waiting events, so that two paths
    /// that set the same timers agree.
    ///
    /// Only an exploring run (see [`Sim::explore_orders`]) has one.
    pub fn fingerprint(&self) -> u64
    where
        A::Durable: Hash,
        A::Volatile: Hash,
        A::Obs: Hash,
        C: Hash,
    {
        let orders = self.core.orders.as_ref().expect("an exploring run");
        let unordered = Self::order_is_moot(orders);
        let mut h = Fnv64::default();
        if !orders.clock_free {
            self.core.now.hash(&mut h);
        }
        self.core.choices.hash(&mut h);
        self.core.lives.hash(&mut h);
        let name = |names: &mut Vec<_>| Self::timer_names(orders, unordered, names);
        TimerNames::with(name, || {
            for slot in &self.slots {
                slot.store.hash(&mut h);
                slot.volatile.hash(&mut h);
            }
            self.stores.hash(&mut h);
        });
        if unordered {
            let sum = orders.waiting().iter().fold(0u64, |sum, w| {
                let alone = w.hashes.map_or_else(
                    || {
                        let mut one = Fnv64::default();
                        self.hash_event(&w.event, &mut one);
                        finalize(one.finish())
                    },
                    |h| h.alone,
                );
                sum.wrapping_add(alone)
            });
            (orders.waiting().len(), sum).hash(&mut h);
        } else {
            for w in orders.waiting() {
                self.hash_times(orders, w, &mut h);
                self.hash_event(&w.event, &mut h);
            }
        }
        // Crash-point passes and datagrams sent matter only to faults
        // scheduled by their count.
        let faults = &self.core.faults;
        if !faults.crashes.is_empty() {
            self.core.passes.hash(&mut h);
        }
        if !(faults.drops.is_empty() && faults.duplicates.is_empty() && faults.delays.is_empty()) {
            for link in &self.core.links {
                link.sent.hash(&mut h);
            }
        }
        observed_multiset(&self.core.history, &mut h);
        finalize(h.finish())
    }

    /// A waiting event's times: as they are, relative to now, or none
    /// (see [`Sim::clock_free`]).
    fn hash_times(&self, orders: &Orders<Event<A>>, w: &Waiting<Event<A>>, h: &mut Fnv64) {
        let times = (w.at, w.window.map(|w| (w.sent, w.latest)));
        let scheduled_before_last = orders.scheduled_before_last(w);
        match (orders.clock_free, orders.timing) {
            (false, _) => (times, scheduled_before_last).hash(h),
            (true, Timing::Timed) => {
                let since = |t: SimTime| t.0.wrapping_sub(self.core.now.0);
                let (at, window) = times;
                let window = window.map(|(s, l)| (since(s), since(l)));
                (since(at), window, scheduled_before_last).hash(h);
            }
            (true, Timing::Untimed) => {}
        }
    }

    /// Whether the order of the waiting events cannot matter: untimed,
    /// clock-free, and no datagram waiting on a FIFO link. They are then
    /// hashed as a multiset.
    fn order_is_moot(orders: &Orders<Event<A>>) -> bool {
        orders.clock_free
            && orders.timing == Timing::Untimed
            && orders
                .waiting()
                .iter()
                .all(|w| w.window.is_none_or(|w| w.fifo_link.is_none()))
    }

    /// Each waiting timer's id with a name that does not depend on the
    /// path that set it: its place among the waiting timers, or, when their
    /// order is moot, its actor and tag (and its place among the timers
    /// with both the same).
    /// Written into `names`, which is empty.
    fn timer_names(
        orders: &Orders<Event<A>>,
        unordered: bool,
        names: &mut Vec<(crate::TimerId, u64)>,
    ) {
        names.extend(orders.waiting().iter().filter_map(|w| match &w.event {
            Event::Timer { actor, id, timer } => {
                let mut content = Fnv64::default();
                (actor, timer).hash(&mut content);
                Some((*id, content.finish()))
            }
            _ => None,
        }));
        // Last first: a timer's twins are counted among the timers before
        // it, still named by their content.
        for place in (0..names.len()).rev() {
            let content = names[place].1;
            names[place].1 = if unordered {
                let twins = names[..place].iter().filter(|t| t.1 == content).count();
                finalize(content ^ twins as u64)
            } else {
                place as u64
            };
        }
    }

    fn hash_event(&self, event: &Event<A>, h: &mut Fnv64) {
        match event {
            Event::Deliver { .. } => hash_delivery(event, h),
            Event::Timer { actor, id, timer } => {
                let live = self.core.timers.slots[id.slot as usize].live;
                (1u8, actor, timer, live).hash(h);
            }
            Event::Restart { actor } => (2u8, actor).hash(h),
            Event::Pause { actor, resumes } => (3u8, actor, resumes).hash(h),
            Event::Signal(signal) => (4u8, signal).hash(h),
        }
    }
}

/// A delivery event's content (the send id aside: two paths may send one
/// datagram under different ids).
fn hash_delivery<A: Actor, H: Hasher>(event: &Event<A>, h: &mut H) {
    if let Event::Deliver {
        src,
        dst,
        life,
        msg,
        copy,
        send_id: _,
    } = event
    {
        (0u8, src, dst, life, msg, copy).hash(h);
    }
}

/// The hashes of a datagram's delivery `event` that a search asks for in
/// every state it waits through.
pub(super) fn datagram_hashes<A: Actor>(event: &Event<A>) -> Option<DatagramHashes> {
    let Event::Deliver { src, dst, msg, .. } = event else {
        return None;
    };
    let mut copies = Apart::default();
    (src, dst, msg).hash(&mut copies);
    let mut alone = Apart::default();
    hash_delivery(event, &mut alone);
    Some(DatagramHashes {
        copies: copies.finish(),
        alone: finalize(alone.finish()),
    })
}

/// [`Fnv64`] under a name of its own, for the messages a search hashes
/// when they are sent: the same values, but its own compiled copy of a
/// message's hash, so that the copy a seeded run's trace calls for every
/// event stays inlined there (sharing it made the compiler call it
/// instead: +0.6% instructions per W1 sweep seed).
#[derive(Default)]
struct Apart(Fnv64);

impl Hasher for Apart {
    fn finish(&self) -> u64 {
        self.0.finish()
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    fn write_u8(&mut self, n: u8) {
        self.0.write_u8(n);
    }

    fn write_u16(&mut self, n: u16) {
        self.0.write_u16(n);
    }

    fn write_u32(&mut self, n: u32) {
        self.0.write_u32(n);
    }

    fn write_u64(&mut self, n: u64) {
        self.0.write_u64(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.0.write_usize(n);
    }

    fn write_i64(&mut self, n: i64) {
        self.0.write_i64(n);
    }

    fn write_isize(&mut self, n: isize) {
        self.0.write_isize(n);
    }
}

/// The observations as a multiset: the order of two observations that
/// commute does not split a state in two.
fn observed_multiset<O: Hash>(history: &[super::Observed<O>], h: &mut Fnv64) {
    let sum = history.iter().fold(0u64, |sum, o| {
        let mut one = Fnv64::default();
        (o.actor, &o.obs).hash(&mut one);
        sum.wrapping_add(finalize(one.finish()))
    });
    (history.len(), sum).hash(h);
}

/// Spread every input bit over the output (splitmix64's finalizer).
fn finalize(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Copy `source` into `mine`, leaving alone the observations already
/// equal: a search copies into one buffer states that share most of their
/// history, and an observation may hold a boxed report that a copy would
/// allocate again.
fn copy_history<O: Clone + PartialEq>(
    mine: &mut Vec<super::Observed<O>>,
    source: &[super::Observed<O>],
) {
    mine.truncate(source.len());
    for (m, s) in mine.iter_mut().zip(source) {
        if m != s {
            m.clone_from(s);
        }
    }
    let have = mine.len();
    mine.extend_from_slice(&source[have..]);
}

/// The actors whose state an exploring run may have changed since it was
/// last copied from another (see [`Sim::reset_to`]). An event changes the
/// state of its one actor only (see `Event::actor`); the start changes
/// every actor's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Touched {
    /// None: the run is as it was copied.
    Nothing,
    /// This actor's alone.
    One(ActorId),
    /// Any actor's.
    All,
}

impl Touched {
    /// `actor`'s state may have changed too.
    pub(crate) fn add(&mut self, actor: ActorId) {
        *self = match *self {
            Touched::Nothing => Touched::One(actor),
            Touched::One(a) if a == actor => Touched::One(a),
            Touched::One(_) | Touched::All => Touched::All,
        };
    }
}

/// Point `mine` at `theirs`' value, touching neither count when it already
/// does: an exploring search copies states into one another on several
/// threads at once, and every count written is a cache line the other
/// threads must fetch again, together with the value beside it.
fn share<T: ?Sized>(mine: &mut Arc<T>, theirs: &Arc<T>) {
    if !Arc::ptr_eq(mine, theirs) {
        *mine = Arc::clone(theirs);
    }
}

impl<A, C> Clone for Sim<A, C>
where
    A: Actor + Clone,
    A::Durable: Clone,
    A::Volatile: Clone,
    A::Obs: Clone + PartialEq,
    A::Msg: Copy,
    A::Timer: Copy,
    C: Choices + Clone,
{
    /// A copy of the run as it stands, to continue it another way.
    fn clone(&self) -> Self {
        Sim {
            names: Arc::clone(&self.names),
            actors: Arc::clone(&self.actors),
            slots: self
                .slots
                .iter()
                .map(|s| super::Slot {
                    store: s.store,
                    volatile: s.volatile.clone(),
                })
                .collect(),
            stores: self.stores.clone(),
            core: self.core.clone(),
            limits: self.limits,
            started: self.started,
        }
    }

    /// The copy made in place, reusing this run's buffers: an exploring
    /// search copies a state once per successor.
    fn clone_from(&mut self, source: &Self) {
        share(&mut self.names, &source.names);
        share(&mut self.actors, &source.actors);
        self.slots.truncate(source.slots.len());
        for (mine, theirs) in self.slots.iter_mut().zip(&source.slots) {
            mine.store = theirs.store;
            mine.volatile.clone_from(&theirs.volatile);
        }
        let have = self.slots.len();
        self.slots
            .extend(source.slots[have..].iter().map(|s| super::Slot {
                store: s.store,
                volatile: s.volatile.clone(),
            }));
        self.stores.clone_from(&source.stores);
        self.core.clone_from(&source.core);
        self.limits = source.limits;
        self.started = source.started;
    }
}

impl<A, C> Sim<A, C>
where
    A: Actor + Clone,
    A::Durable: Clone,
    A::Volatile: Clone,
    A::Obs: Clone + PartialEq,
    A::Msg: Copy,
    A::Timer: Copy,
    C: Choices + Clone,
{
    /// Make this run `source` again, when it was copied from `source`
    /// (with `clone` or `clone_from`) and advanced since, and `source` did
    /// not change meanwhile: as `clone_from`, but of the actors' states it
    /// copies only those the steps since may have changed. A search makes
    /// every successor of a state from it this way, and a step changes one
    /// actor's state at most. Copying from any other run gives a wrong
    /// state: debug builds compare the two runs' fingerprints (the actors'
    /// states, the waiting events and timers), clocks, counters and logs.
    pub fn reset_to(&mut self, source: &Self)
    where
        A::Durable: Hash,
        A::Volatile: Hash,
        A::Obs: Hash,
        C: Hash,
    {
        match self.core.touched {
            Touched::All => self.clone_from(source),
            Touched::Nothing => self.core.copy_from(&source.core, Logs::CutBack),
            Touched::One(actor) => {
                let (mine, theirs) = (&mut self.slots[actor.index()], &source.slots[actor.index()]);
                mine.volatile.clone_from(&theirs.volatile);
                let store = theirs.store;
                self.stores[store].clone_from(&source.stores[store]);
                self.core.copy_from(&source.core, Logs::CutBack);
            }
        }
        debug_assert_eq!(
            (
                self.started,
                self.fingerprint(),
                self.core.now,
                self.core.pending
            ),
            (
                source.started,
                source.fingerprint(),
                source.core.now,
                source.core.pending
            ),
            "reset to a run it was not copied from"
        );
        debug_assert!(
            self.core.stats == source.core.stats
                && self.core.lifecycle == source.core.lifecycle
                && self.core.history.len() == source.core.history.len()
                && self.core.realized == source.core.realized,
            "reset to a run it was not copied from"
        );
    }

    /// A copy that shares nothing with this run: the actors, names,
    /// topology and fault plan copied too. Each thread of a parallel
    /// search starts from one, so that the copies it makes of its states
    /// count references on its own cache lines only.
    #[must_use]
    pub fn unshared(&self) -> Self {
        let mut copy = self.clone();
        copy.names = Arc::from(self.names.to_vec());
        copy.actors = Arc::from(self.actors.to_vec());
        copy.core.topology = Arc::new(Topology::clone(&self.core.topology));
        copy.core.faults = Arc::new(FaultPlan::clone(&self.core.faults));
        copy
    }
}

impl<A, C> Clone for super::Core<A, C>
where
    A: Actor + Clone,
    A::Obs: Clone + PartialEq,
    A::Msg: Copy,
    A::Timer: Copy,
    C: Choices + Clone,
{
    fn clone(&self) -> Self {
        super::Core {
            now: self.now,
            choices: self.choices.clone(),
            queue: self.queue.clone(),
            topology: Arc::clone(&self.topology),
            links: self.links.clone(),
            faults: Arc::clone(&self.faults),
            orders: self.orders.clone(),
            passes: self.passes.clone(),
            timers: self.timers.clone(),
            pending: self.pending,
            cause: self.cause,
            network_copy: self.network_copy,
            stats: self.stats,
            trace: self.trace.clone(),
            history: self.history.clone(),
            lifecycle: self.lifecycle.clone(),
            realized: self.realized.clone(),
            lives: self.lives.clone(),
            earlier_life: self.earlier_life,
            touched: Touched::Nothing,
        }
    }

    /// The copy made in place, reusing this core's buffers.
    fn clone_from(&mut self, source: &Self) {
        self.copy_from(source, Logs::Copied);
    }
}

/// How [`Core::copy_from`] makes the logs a step only appends to (the
/// observations, the crashes and restarts, the faults kept) equal to the
/// source's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Logs {
    /// Compared and copied: the core may be a copy of any run.
    Copied,
    /// Cut back to the source's length: the core is a copy of the source,
    /// stepped since (see [`Sim::reset_to`]).
    CutBack,
}

impl<A, C> super::Core<A, C>
where
    A: Actor + Clone,
    A::Obs: Clone + PartialEq,
    A::Msg: Copy,
    A::Timer: Copy,
    C: Choices + Clone,
{
    /// `source` copied in place, reusing this core's buffers, its logs as
    /// `logs` says.
    fn copy_from(&mut self, source: &Self, logs: Logs) {
        self.now = source.now;
        self.choices.clone_from(&source.choices);
        // An exploring run's events wait in `orders`: its queue stays as
        // it was made, empty, and copying it would copy nothing.
        if self.orders.is_none() || source.orders.is_none() {
            self.queue.clone_from(&source.queue);
        }
        share(&mut self.topology, &source.topology);
        self.links.clone_from(&source.links);
        share(&mut self.faults, &source.faults);
        self.orders.clone_from(&source.orders);
        self.passes.clone_from(&source.passes);
        self.timers.clone_from(&source.timers);
        self.pending = source.pending;
        self.cause = source.cause;
        self.network_copy = source.network_copy;
        self.stats = source.stats;
        self.trace.clone_from(&source.trace);
        // Cut back only if both keep faults, as a copy stepped since does
        // (a reset of any other run breaks `reset_to`'s contract; this
        // only keeps the logs sound).
        let cut_back =
            logs == Logs::CutBack && self.realized.is_some() == source.realized.is_some();
        if cut_back {
            self.history.truncate(source.history.len());
            self.lifecycle.truncate(source.lifecycle.len());
            if let (Some(mine), Some(theirs)) = (&mut self.realized, &source.realized) {
                mine.truncate(theirs.len());
            }
        } else {
            copy_history(&mut self.history, &source.history);
            self.lifecycle.clone_from(&source.lifecycle);
            self.realized.clone_from(&source.realized);
        }
        self.lives.clone_from(&source.lives);
        self.earlier_life = source.earlier_life;
        self.touched = Touched::Nothing;
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{Hash, Hasher};

    use super::{Apart, Fnv64};

    /// The hasher a search hashes sent datagrams with must give the very
    /// values of [`Fnv64`], or a waiting datagram's precomputed hash would
    /// not be the one a fingerprint computes afresh.
    #[test]
    fn the_search_hasher_gives_the_stable_hashers_values() {
        let mut stable = Fnv64::default();
        let mut apart = Apart::default();
        let every_width = (
            1u8, 2u16, 3u32, 4u64, 5usize, -6i8, -7i16, -8i32, -9i64, -10isize, 11u128, -12i128,
        );
        every_width.hash(&mut stable);
        every_width.hash(&mut apart);
        for text in [
            "",
            "a",
            "seven b",
            "more than eight bytes",
            "exactly16bytes!!",
        ] {
            text.hash(&mut stable);
            text.hash(&mut apart);
        }
        (true, 'c', [1u8, 2, 3].as_slice()).hash(&mut stable);
        (true, 'c', [1u8, 2, 3].as_slice()).hash(&mut apart);
        assert_eq!(apart.finish(), stable.finish());
        assert_ne!(stable.finish(), Fnv64::default().finish());
    }
}
