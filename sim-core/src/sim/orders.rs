//! Exploring orders: where a seeded run draws each datagram's delay when it
//! is sent, an exploring run keeps the datagram waiting with its window
//! (the link's least and greatest delay) and decides, event by event, which
//! of the events that may come next comes next.
//!
//! An event may come next when no other waiting event must come before it:
//! its earliest place in the run's `(time, seq)` order is before every other
//! event's latest place. Timers, restarts, pauses and signals have no
//! window. The chosen event happens at the earliest time its place allows,
//! so the choices of an exploration are orders, and each order is one run
//! the seeded engine can make: give every datagram the delay it had here
//! and the same events happen in the same order (see
//! [`Sim::realize_waiting`](super::Sim::realize_waiting)).

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

/// A waiting event: its earliest time, its place among events scheduled
/// at one time, and its window if it is a datagram.
#[derive(Clone, Debug)]
pub(crate) struct Waiting<E> {
    pub(crate) at: SimTime,
    pub(crate) seq: u64,
    pub(crate) window: Option<Window>,
    pub(crate) event: E,
}

impl<E> Waiting<E> {
    fn latest(&self) -> (SimTime, u64) {
        (self.window.map_or(self.at, |w| w.latest), self.seq)
    }
}

/// The waiting events of an exploring run, in scheduling order.
#[derive(Clone, Debug)]
pub(crate) struct Orders<E> {
    pub(crate) timing: Timing,
    /// Whether the run's future depends on the time only through the
    /// waiting events (see [`Sim::clock_free`](super::Sim::clock_free)).
    pub(crate) clock_free: bool,
    next_seq: u64,
    /// The place of the last event that happened, once one has.
    last: Option<(SimTime, u64)>,
    pub(crate) waiting: Vec<Waiting<E>>,
}

impl<E> Orders<E> {
    pub(crate) fn new(timing: Timing) -> Orders<E> {
        Orders {
            timing,
            clock_free: false,
            next_seq: 0,
            last: None,
            waiting: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, at: SimTime, window: Option<Window>, event: E) {
        self.waiting.push(Waiting {
            at,
            seq: self.next_seq,
            window,
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

    /// Whether a waiting event's own place is not after the last event's,
    /// so that it can only happen a microsecond later.
    pub(crate) fn before_last(&self, w: &Waiting<E>) -> bool {
        self.last.is_some_and(|last| (w.at, w.seq) <= last)
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

    /// The events that may come next, earliest place first (so that the
    /// first is the one a seeded run with the least delays takes).
    pub(crate) fn enabled(&self) -> Vec<usize> {
        let (first, second) = self.two_latest();
        let mut enabled: Vec<usize> = (0..self.waiting.len())
            .filter(|&i| !self.behind_on_its_link(i))
            .filter(|&i| {
                if self.timing == Timing::Untimed {
                    return true;
                }
                let place = self.earliest(i);
                let others = if Some(i) == first.map(|f| f.1) {
                    second.map(|s| s.0)
                } else {
                    first.map(|f| f.0)
                };
                place <= self.waiting[i].latest() && others.is_none_or(|o| place < o)
            })
            .collect();
        enabled.sort_by_key(|&i| self.earliest(i));
        enabled
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

    /// Take event `i`; it happens at the returned time.
    pub(crate) fn take(&mut self, i: usize) -> (SimTime, Waiting<E>) {
        let place = self.earliest(i);
        self.last = Some(place);
        (place.0, self.waiting.remove(i))
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
        orders.push(SimTime(sent + 1_000), Some(window), ());
    }

    #[test]
    fn a_datagram_comes_on_its_links_delay_grid() {
        let mut orders = Orders::new(Timing::Untimed);
        datagram_every_ms(&mut orders, 0);
        orders.push(SimTime(1_500), None, ());
        // The timer at 1.5 ms first: the datagram then comes at 2 ms, its
        // least delay plus one step, not at 1.5 ms.
        assert_eq!(orders.take(1).0, SimTime(1_500));
        assert_eq!(orders.earliest(0), (SimTime(2_000), 0));
    }

    #[test]
    fn a_datagram_behind_a_later_one_at_its_time_waits_a_step() {
        let mut orders = Orders::new(Timing::Untimed);
        datagram_every_ms(&mut orders, 0);
        datagram_every_ms(&mut orders, 0);
        // The second first, at 1 ms: the first can no longer come at 1 ms
        // (a seeded run orders equal times by scheduling), so at 2 ms.
        assert_eq!(orders.take(1).0, SimTime(1_000));
        assert_eq!(orders.earliest(0), (SimTime(2_000), 0));
    }
}
