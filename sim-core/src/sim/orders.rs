//! Exploring orders: where a seeded run draws each datagram's delay when it
//! is sent, an exploring run keeps the datagram waiting with its window
//! (the link's least and greatest delay) and decides, event by event, which
//! of the events that may come next comes next.
//!
//! An event may come next when no other waiting event must come before it:
//! its earliest place in the run's `(time, seq)` order is before every other
//! event's latest place. Timers, restarts, pauses and signals have no
//! window. A chosen timer happens at its time; a chosen datagram happens
//! either as early as its place allows or as late as it allows (on its
//! link's delay grid, before every other waiting event's latest place):
//! when it comes decides the windows of what it causes, so a reply that
//! is late only when its request was late too (a round trip longer than a
//! retry timeout) is explored. Each choice is one run the seeded engine
//! can make: give every datagram the delay it had here and the same events
//! happen in the same order (see
//! [`Sim::realize_waiting`](super::Sim::realize_waiting)). Times between
//! the two ends are not explored.

use crate::fault::Datagram;
use crate::time::SimTime;

/// How an exploration orders events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timing {
    /// As the links' delay ranges and the timers allow: every order found
    /// is one a seeded run can make.
    Timed,
    /// Any waiting event may come next, as in a model checker without a
    /// clock: orders the scenario's timing forbids are explored too.
    Untimed,
}

impl Timing {
    /// Untimed when asked (`--untimed`), else timed.
    pub fn untimed_if(untimed: bool) -> Timing {
        if untimed {
            Timing::Untimed
        } else {
            Timing::Timed
        }
    }
}

/// A datagram's delivery window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub(crate) sent: SimTime,
    pub(crate) latest: SimTime,
    pub(crate) datagram: Datagram,
    pub(crate) copy: bool,
    /// The link's delay step: the datagram arrives at its earliest time
    /// plus a multiple of it, as a seeded run draws delays.
    pub(crate) step: u64,
    /// The link, when it keeps its datagrams in order.
    pub(crate) fifo_link: Option<usize>,
}

/// A waiting datagram's hashes, worked out once when it is sent: it waits
/// through many states, and a search fingerprints each of them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DatagramHashes {
    /// Its sender, receiver and message: equal for copies of one datagram.
    pub(crate) copies: u64,
    /// The whole event, alone, as a fingerprint that takes the waiting
    /// events as a multiset adds it in.
    pub(crate) alone: u64,
}

/// A waiting event: its earliest time, its place among events scheduled
/// at one time, and its window and hashes if it is a datagram. `Copy`
/// when the event is, so that copying the waiting events is a `memcpy`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Waiting<E> {
    pub(crate) at: SimTime,
    pub(crate) seq: u64,
    pub(crate) window: Option<Window>,
    pub(crate) hashes: Option<DatagramHashes>,
    pub(crate) event: E,
}

impl<E> Waiting<E> {
    fn latest(&self) -> (SimTime, u64) {
        (self.window.map_or(self.at, |w| w.latest), self.seq)
    }
}

/// An event that may come next: its index among the waiting events and
/// the place it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Next {
    pub(crate) index: usize,
    pub(crate) place: (SimTime, u64),
}

/// A place as one number that orders as the place does: the time in the
/// high 64 bits, the sequence number in the low.
fn packed((time, seq): (SimTime, u64)) -> u128 {
    (u128::from(time.0) << 64) | u128::from(seq)
}

/// The waiting events of an exploring run, in scheduling order.
#[derive(Debug)]
pub(crate) struct Orders<E> {
    pub(crate) timing: Timing,
    /// Whether the run's future depends on the time only through the
    /// waiting events (see [`Sim::clock_free`](super::Sim::clock_free)).
    pub(crate) clock_free: bool,
    next_seq: u64,
    /// The sequence number of the first event pushed by the step under
    /// way (or the last one): derived, not part of the state.
    step_from: u64,
    /// The place of the last event that happened, once one has.
    last: Option<(SimTime, u64)>,
    waiting: Vec<Waiting<E>>,
    /// The events that may come next ([`Orders::enabled_into`]), once
    /// worked out for the waiting events as they are: derived from the
    /// state, not part of it. A search makes every successor of a state
    /// from a copy of it, and a copy made after [`Orders::work_out_next`]
    /// takes them over instead of working them out again.
    next: Vec<Next>,
    /// Whether `next` holds the events that may come next now: cleared by
    /// every change to the waiting events or the last place.
    next_known: bool,
}

/// `Copy` events: copying the waiting events is then a `memcpy` (a
/// search copies them once per successor), not a clone of each.
impl<E: Copy> Clone for Orders<E> {
    fn clone(&self) -> Self {
        Orders {
            timing: self.timing,
            clock_free: self.clock_free,
            next_seq: self.next_seq,
            step_from: self.step_from,
            last: self.last,
            waiting: self.waiting.clone(),
            next: self.next.clone(),
            next_known: self.next_known,
        }
    }

    /// Reuses the buffers: a search copies a state once per successor.
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let Orders {
            timing,
            clock_free,
            next_seq,
            step_from,
            last,
            waiting,
            next,
            next_known,
        } = source;
        self.timing = *timing;
        self.clock_free = *clock_free;
        self.next_seq = *next_seq;
        self.step_from = *step_from;
        self.last = *last;
        copy_into(&mut self.waiting, waiting);
        if *next_known {
            self.next.clone_from(next);
        }
        self.next_known = *next_known;
    }
}

/// `source` copied into `dest`'s buffer: the part both have in one
/// `memcpy` (`copy_from_slice`), the rest one by one. (`clone_from` and
/// `extend_from_slice` clone each element, and `extend` copies each
/// alone: for a waiting event, one `memcpy` call apiece.)
fn copy_into<T: Copy>(dest: &mut Vec<T>, source: &[T]) {
    dest.truncate(source.len());
    let both = dest.len();
    dest.copy_from_slice(&source[..both]);
    dest.extend(source[both..].iter().copied());
}

impl<E> Orders<E> {
    pub(crate) fn new(timing: Timing) -> Orders<E> {
        Orders {
            timing,
            clock_free: false,
            next_seq: 0,
            step_from: 0,
            last: None,
            waiting: Vec::new(),
            next: Vec::new(),
            next_known: false,
        }
    }

    /// The waiting events, in scheduling order.
    pub(crate) fn waiting(&self) -> &[Waiting<E>] {
        &self.waiting
    }

    /// A step begins: the events pushed from now on are its own.
    pub(crate) fn begin_step(&mut self) {
        self.step_from = self.next_seq;
    }

    /// The waiting events the last step pushed (the waiting events keep
    /// the order they were pushed in).
    pub(crate) fn pushed_by_the_step(&self) -> &[Waiting<E>] {
        let old = self
            .waiting
            .iter()
            .rposition(|w| w.seq < self.step_from)
            .map_or(0, |i| i + 1);
        &self.waiting[old..]
    }

    /// Keep only the waiting events `keep` says to.
    pub(crate) fn retain_waiting(&mut self, keep: impl FnMut(&Waiting<E>) -> bool) {
        self.next_known = false;
        self.waiting.retain(keep);
    }

    /// Work out the events that may come next, unless that is done
    /// already; [`Orders::next`] then lists them.
    pub(crate) fn work_out_next(&mut self) {
        if self.next_known {
            return;
        }
        let mut next = std::mem::take(&mut self.next);
        self.enabled_into(&mut next);
        self.next = next;
        self.next_known = true;
    }

    /// The events that may come next, as [`Orders::work_out_next`] found
    /// them.
    pub(crate) fn next(&self) -> &[Next] {
        debug_assert!(self.next_known, "worked out first");
        &self.next
    }

    pub(crate) fn push(
        &mut self,
        at: SimTime,
        (window, hashes): (Option<Window>, Option<DatagramHashes>),
        event: E,
    ) {
        self.next_known = false;
        self.waiting.push(Waiting {
            at,
            seq: self.next_seq,
            window,
            hashes,
            event,
        });
        self.next_seq += 1;
    }

    /// The earliest place event `i` can take after the last event: on its
    /// link's delay grid if it is a datagram.
    fn earliest(&self, i: usize) -> (SimTime, u64) {
        let w = &self.waiting[i];
        let Some(last) = self.last else {
            return (w.at, w.seq);
        };
        let step = w.window.map_or(1, |w| w.step.max(1));
        let behind = last.0.0.saturating_sub(w.at.0);
        let at = SimTime(w.at.0 + behind.div_ceil(step) * step);
        if (at, w.seq) > last {
            (at, w.seq)
        } else {
            (SimTime(at.0 + step), w.seq)
        }
    }

    /// Whether a waiting event due at or before the last event's time was
    /// scheduled before the last event: then it cannot take the last
    /// event's time, only a later one (see [`Orders::earliest`]). With the
    /// waiting events' times, this is all the last event's place decides
    /// of their futures, so a fingerprint keeps it: two states whose
    /// events wait alike but differ here differ in what comes next.
    pub(crate) fn scheduled_before_last(&self, w: &Waiting<E>) -> bool {
        self.last
            .is_some_and(|(time, seq)| w.at <= time && w.seq < seq)
    }

    /// Whether a datagram on a FIFO link waits behind an earlier one.
    fn behind_on_its_link(&self, i: usize) -> bool {
        let Some(link) = self.waiting[i].window.and_then(|w| w.fifo_link) else {
            return false;
        };
        self.waiting[..i]
            .iter()
            .any(|w| w.window.and_then(|w| w.fifo_link) == Some(link))
    }

    /// The events that may come next, each at a place it may take,
    /// earliest place first (so that the first is the one a seeded run with
    /// the least delays takes). A datagram that may also come later than
    /// its earliest place is listed twice: at its earliest place and at its
    /// latest (see the module's docs).
    #[cfg(test)]
    pub(crate) fn enabled(&self) -> Vec<Next> {
        let mut enabled = Vec::new();
        self.enabled_into(&mut enabled);
        enabled
    }

    /// [`Orders::enabled`], written into `enabled` (its buffer reused).
    pub(crate) fn enabled_into(&self, enabled: &mut Vec<Next>) {
        // Untimed, every waiting event may come next: no latest place
        // bounds another.
        let (first, second) = match self.timing {
            Timing::Untimed => (None, None),
            Timing::Timed => self.two_latest(),
        };
        enabled.clear();
        for i in 0..self.waiting.len() {
            if self.behind_on_its_link(i) {
                continue;
            }
            let place = self.earliest(i);
            if self.timing == Timing::Untimed {
                enabled.push(Next { index: i, place });
                continue;
            }
            let others = if Some(i) == first.map(|f| f.1) {
                second.map(|s| s.0)
            } else {
                first.map(|f| f.0)
            };
            let own = self.waiting[i].latest();
            if place > own || others.is_some_and(|o| place >= o) {
                continue;
            }
            enabled.push(Next { index: i, place });
            if let Some(late) = self.latest_place(i, place, others) {
                enabled.push(Next {
                    index: i,
                    place: late,
                });
            }
        }
        // Places are distinct (each event has its own `seq`; a datagram
        // listed twice has two times), so an unstable sort gives the one
        // order there is, and a place packed into one number compares at
        // once.
        enabled.sort_unstable_by_key(|n| packed(n.place));
    }

    /// The latest place datagram `i` may take, when it is later than its
    /// `earliest`: on its delay grid, within its window, and before
    /// `others` (the least latest place of the other waiting events).
    fn latest_place(
        &self,
        i: usize,
        earliest: (SimTime, u64),
        others: Option<(SimTime, u64)>,
    ) -> Option<(SimTime, u64)> {
        let w = &self.waiting[i];
        let window = w.window?;
        let step = window.step.max(1);
        let mut limit = window.latest;
        if let Some((time, seq)) = others {
            // Strictly before the other's place: at its time only when
            // scheduled before it.
            let before = if w.seq < seq {
                time.0
            } else {
                time.0.saturating_sub(1)
            };
            limit = limit.min(SimTime(before));
        }
        let late = SimTime(w.at.0 + limit.0.checked_sub(w.at.0)? / step * step);
        (late > earliest.0).then_some((late, w.seq))
    }

    /// The two smallest latest places, each with its index.
    #[allow(clippy::type_complexity)]
    fn two_latest(
        &self,
    ) -> (
        Option<((SimTime, u64), usize)>,
        Option<((SimTime, u64), usize)>,
    ) {
        let mut first = None;
        let mut second = None;
        for (i, w) in self.waiting.iter().enumerate() {
            let key = (w.latest(), i);
            if first.is_none_or(|f| key < f) {
                second = first;
                first = Some(key);
            } else if second.is_none_or(|s| key < s) {
                second = Some(key);
            }
        }
        (first, second)
    }

    /// Take the event `next` names, at its place; it happens at the
    /// returned time.
    pub(crate) fn take(&mut self, next: Next) -> (SimTime, Waiting<E>) {
        self.next_known = false;
        self.last = Some(next.place);
        (next.place.0, self.waiting.remove(next.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ActorId;

    fn datagram_every_ms(orders: &mut Orders<()>, sent: u64) {
        let window = Window {
            sent: SimTime(sent),
            latest: SimTime(sent + 10_000),
            datagram: Datagram {
                src: ActorId(0),
                dst: ActorId(1),
                nth: 1,
            },
            copy: false,
            step: 1_000,
            fifo_link: None,
        };
        orders.push(SimTime(sent + 1_000), (Some(window), None), ());
    }

    fn take_earliest(orders: &mut Orders<()>, i: usize) -> SimTime {
        let place = orders.earliest(i);
        orders.take(Next { index: i, place }).0
    }

    #[test]
    fn a_datagram_comes_as_early_or_as_late_as_its_place_allows() {
        let mut orders = Orders::new(Timing::Timed);
        datagram_every_ms(&mut orders, 0);
        orders.push(SimTime(7_500), (None, None), ());
        // The datagram at 1 ms or at 7 ms (its grid, before the timer at
        // 7.5 ms), or the timer first.
        let places: Vec<_> = orders
            .enabled()
            .iter()
            .map(|n| (n.index, n.place.0))
            .collect();
        assert_eq!(
            places,
            [
                (0, SimTime(1_000)),
                (0, SimTime(7_000)),
                (1, SimTime(7_500))
            ]
        );
        // Alone, as late as its window allows.
        orders.take(Next {
            index: 1,
            place: (SimTime(7_500), 1),
        });
        let places: Vec<_> = orders.enabled().iter().map(|n| n.place.0).collect();
        assert_eq!(places, [SimTime(8_000), SimTime(10_000)]);
    }

    #[test]
    fn the_events_a_step_pushed_are_told_from_the_older_ones() {
        let mut orders = Orders::new(Timing::Untimed);
        orders.push(SimTime(1_000), (None, None), ());
        orders.push(SimTime(2_000), (None, None), ());
        orders.begin_step();
        assert_eq!(take_earliest(&mut orders, 0), SimTime(1_000));
        orders.push(SimTime(3_000), (None, None), ());
        orders.push(SimTime(4_000), (None, None), ());
        let seqs = |w: &[Waiting<()>]| w.iter().map(|w| w.seq).collect::<Vec<_>>();
        assert_eq!(seqs(orders.waiting()), [1, 2, 3]);
        assert_eq!(seqs(orders.pushed_by_the_step()), [2, 3]);
        // A copy knows them too; a step that pushes nothing pushed none.
        let copy = orders.clone();
        assert_eq!(seqs(copy.pushed_by_the_step()), [2, 3]);
        orders.begin_step();
        assert!(orders.pushed_by_the_step().is_empty());
    }

    #[test]
    fn a_datagram_comes_on_its_links_delay_grid() {
        let mut orders = Orders::new(Timing::Untimed);
        datagram_every_ms(&mut orders, 0);
        orders.push(SimTime(1_500), (None, None), ());
        // The timer at 1.5 ms first: the datagram then comes at 2 ms, its
        // least delay plus one step, not at 1.5 ms.
        assert_eq!(take_earliest(&mut orders, 1), SimTime(1_500));
        assert_eq!(orders.earliest(0), (SimTime(2_000), 0));
    }

    #[test]
    fn a_datagram_behind_a_later_one_at_its_time_waits_a_step() {
        let mut orders = Orders::new(Timing::Untimed);
        datagram_every_ms(&mut orders, 0);
        datagram_every_ms(&mut orders, 0);
        // The second first, at 1 ms: the first can no longer come at 1 ms
        // (a seeded run orders equal times by scheduling), so at 2 ms.
        assert_eq!(take_earliest(&mut orders, 1), SimTime(1_000));
        assert_eq!(orders.earliest(0), (SimTime(2_000), 0));
    }
}
