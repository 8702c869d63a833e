//! The event queue: pending events popped in `(time, seq)` order.
//!
//! `seq` is assigned when an event is scheduled, so the order is total and
//! events scheduled for the same instant run first-in, first-out.
//!
//! Most events are scheduled a fixed delay after the current time (a link's
//! delay, a retransmission timer), and the current time never goes back, so
//! the events scheduled with one delay arrive already in order. The queue
//! keeps them in *lanes*, first-in first-out lists, one per recent delay, and
//! only the head of each lane in a small heap; an event that fits no lane
//! goes to a general heap. A lane takes an event only if it is not earlier
//! than the lane's last, so every lane stays sorted whatever the delays are,
//! and popping the earlier of the two heaps' tops yields exactly the order of
//! one big heap, with far shorter sifts. A lane holds its events themselves,
//! so that they are read in the order they were written.

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, VecDeque};

use crate::time::SimTime;

/// Most lanes: the distinct delays a model uses at once are few.
const LANES_MAX: usize = 16;

/// A pending event's place packed into one number, so that a comparison is
/// one wide comparison and an entry takes 16 bytes: the time in the high 64
/// bits, then the scheduling sequence number (32 bits), then, for an event
/// in the general heap, the slot where it waits (32 bits): events there stay
/// put in a slab while only these entries move. The slot never decides the
/// order: sequence numbers of pending events are distinct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry(u128);

impl Entry {
    fn new(time: SimTime, seq: u32, slot: u32) -> Entry {
        Entry((u128::from(time.0) << 64) | (u128::from(seq) << 32) | u128::from(slot))
    }

    fn time(self) -> SimTime {
        SimTime(u64::try_from(self.0 >> 64).expect("the high half is 64 bits"))
    }

    fn slot(self) -> u32 {
        u32::try_from(self.0 & u128::from(u32::MAX)).expect("masked to 32 bits")
    }

    fn with_seq(self, seq: u32) -> Entry {
        let time_and_slot = self.0 & !(u128::from(u32::MAX) << 32);
        Entry(time_and_slot | (u128::from(seq) << 32))
    }
}

/// Events scheduled with one delay, in order, each with its entry (whose
/// slot is unused: the event is right there, read in order as the lane
/// drains, rather than from a slot written long before).
struct Lane<E> {
    delay: u64,
    events: VecDeque<(Entry, E)>,
}

impl<E: Clone> Clone for Lane<E> {
    fn clone(&self) -> Self {
        Lane {
            delay: self.delay,
            events: self.events.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        let Lane { delay, events } = source;
        self.delay = *delay;
        self.events.clone_from(events);
    }
}

/// Pending events, earliest first, ties in scheduling order.
pub struct EventQueue<E> {
    lanes: Vec<Lane<E>>,
    /// The head of every non-empty lane, with its lane; reversed, so that
    /// the standard max-heap pops the earliest.
    heads: BinaryHeap<Reverse<(Entry, u32)>>,
    /// Events that fit no lane; they wait in `slab`.
    others: BinaryHeap<Reverse<Entry>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u32,
    /// The time of the last event popped: delays are counted from it.
    now: SimTime,
    len: usize,
}

impl<E: Clone> Clone for EventQueue<E> {
    fn clone(&self) -> Self {
        EventQueue {
            lanes: self.lanes.clone(),
            heads: self.heads.clone(),
            others: self.others.clone(),
            slab: self.slab.clone(),
            free: self.free.clone(),
            next_seq: self.next_seq,
            now: self.now,
            len: self.len,
        }
    }

    /// Reuses the buffers: a search copies a state once per successor.
    fn clone_from(&mut self, source: &Self) {
        // Every field named: a field added later must be copied here too.
        let EventQueue {
            lanes,
            heads,
            others,
            slab,
            free,
            next_seq,
            now,
            len,
        } = source;
        self.lanes.clone_from(lanes);
        self.heads.clone_from(heads);
        self.others.clone_from(others);
        self.slab.clone_from(slab);
        self.free.clone_from(free);
        self.next_seq = *next_seq;
        self.now = *now;
        self.len = *len;
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue::with_capacity(0)
    }
}

impl<E> EventQueue<E> {
    /// An empty queue with room for `capacity` events.
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            lanes: Vec::new(),
            heads: BinaryHeap::new(),
            others: BinaryHeap::with_capacity(capacity),
            slab: Vec::with_capacity(capacity),
            free: Vec::new(),
            next_seq: 0,
            now: SimTime::ZERO,
            len: 0,
        }
    }

    /// Remove every event, keeping the allocated memory.
    pub fn clear(&mut self) {
        for lane in &mut self.lanes {
            lane.events.clear();
        }
        self.heads.clear();
        self.others.clear();
        self.slab.clear();
        self.free.clear();
        self.next_seq = 0;
        self.now = SimTime::ZERO;
        self.len = 0;
    }

    /// Make room for `additional` more pending events.
    pub fn reserve(&mut self, additional: usize) {
        self.slab.reserve(additional);
    }

    /// Schedule `event` at `time`.
    ///
    /// # Panics
    /// With 2^32 events pending at once.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        if self.next_seq == u32::MAX {
            self.renumber();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.len += 1;
        let entry = Entry::new(time, seq, 0);
        let delay = time.0.saturating_sub(self.now.0);
        if let Some(i) = self.lane_for(delay) {
            let lane = &mut self.lanes[i].events;
            match lane.back() {
                Some((last, _)) if *last > entry => {}
                Some(_) => {
                    lane.push_back((entry, event));
                    return;
                }
                None => {
                    lane.push_back((entry, event));
                    let i = u32::try_from(i).expect("few lanes");
                    self.heads.push(Reverse((entry, i)));
                    return;
                }
            }
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slab[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slab.push(Some(event));
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        self.others.push(Reverse(Entry::new(time, seq, slot)));
    }

    /// The lane for `delay`: its own, an empty one to take it, or a new one
    /// while there are fewer than [`LANES_MAX`].
    #[inline]
    fn lane_for(&mut self, delay: u64) -> Option<usize> {
        if let Some(i) = self.lanes.iter().position(|l| l.delay == delay) {
            return Some(i);
        }
        if let Some(i) = self.lanes.iter().position(|l| l.events.is_empty()) {
            self.lanes[i].delay = delay;
            return Some(i);
        }
        if self.lanes.len() < LANES_MAX {
            self.lanes.push(Lane {
                delay,
                events: VecDeque::new(),
            });
            return Some(self.lanes.len() - 1);
        }
        None
    }

    /// Give the pending events the sequence numbers `0..len` in their
    /// order, so that numbering can go on after 2^32 - 1 events were
    /// scheduled; the order of every pending event is kept, and so is the
    /// order within each lane.
    #[cold]
    fn renumber(&mut self) {
        // Every entry with where it is: (lane, position), or no lane.
        let mut all: Vec<(Entry, u32, usize)> = self
            .others
            .drain()
            .map(|Reverse(e)| (e, u32::MAX, 0))
            .collect();
        for (i, lane) in self.lanes.iter().enumerate() {
            let i = u32::try_from(i).expect("few lanes");
            all.extend(lane.events.iter().enumerate().map(|(j, (e, _))| (*e, i, j)));
        }
        all.sort_unstable_by_key(|(e, ..)| *e);
        let mut others = Vec::new();
        let mut seq = 0;
        for (e, lane, j) in all {
            let e = e.with_seq(seq);
            seq += 1;
            match self.lanes.get_mut(lane as usize) {
                Some(l) => l.events[j].0 = e,
                None => others.push(Reverse(e)),
            }
        }
        self.next_seq = seq;
        self.others = others.into();
        self.heads.clear();
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some((e, _)) = lane.events.front() {
                let i = u32::try_from(i).expect("few lanes");
                self.heads.push(Reverse((*e, i)));
            }
        }
    }

    /// Remove and return the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let lane_first = match (self.heads.peek(), self.others.peek()) {
            (None, None) => return None,
            (Some(Reverse((head, _))), Some(Reverse(other))) => head < other,
            (head, _) => head.is_some(),
        };
        let (entry, event) = if lane_first {
            self.pop_lane()
        } else {
            let Reverse(entry) = self.others.pop().expect("peeked");
            let slot = entry.slot();
            self.free.push(slot);
            let event = self.slab[slot as usize]
                .take()
                .expect("a queued slot holds its event");
            (entry, event)
        };
        self.now = entry.time();
        self.len -= 1;
        Some((entry.time(), event))
    }

    /// Take the earliest lane head, and put that lane's next entry, if any,
    /// among the heads.
    fn pop_lane(&mut self) -> (Entry, E) {
        let mut top = self.heads.peek_mut().expect("a head to pop");
        let Reverse((head, i)) = *top;
        let lane = &mut self.lanes[i as usize].events;
        let (entry, event) = lane.pop_front().expect("a lane with a head");
        debug_assert_eq!(entry, head, "a lane's head is its first entry");
        match lane.front() {
            Some((next, _)) => *top = Reverse((*next, i)),
            None => {
                PeekMut::pop(top);
            }
        }
        (entry, event)
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        let head = self.heads.peek().map(|Reverse((e, _))| *e);
        let other = self.others.peek().map(|Reverse(e)| *e);
        match (head, other) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map(Entry::time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_time_pops_first() {
        let mut q = EventQueue::default();
        q.push(SimTime(30), "c");
        q.push(SimTime(10), "a");
        q.push(SimTime(20), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }

    #[test]
    fn ties_pop_in_scheduling_order() {
        let mut q = EventQueue::default();
        for i in 0..100 {
            q.push(SimTime(5), i);
        }
        q.push(SimTime(4), -1);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        let mut expected = vec![-1];
        expected.extend(0..100);
        assert_eq!(order, expected);
    }

    #[test]
    fn interleaved_pushes_and_pops_come_out_in_time_then_scheduling_order() {
        // A small linear congruential sequence: many equal times, pops mixed
        // with pushes, checked against a sort of everything pushed.
        let mut q = EventQueue::default();
        let mut x: u64 = 7;
        let mut next = |m: u64| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) % m
        };
        let (mut pushed, mut popped) = (Vec::new(), Vec::new());
        let mut now = 0;
        for i in 0..5000u64 {
            if next(3) == 0 {
                if let Some((t, e)) = q.pop() {
                    assert!(t.0 >= now, "time never goes back");
                    now = t.0;
                    popped.push((t.0, e));
                }
            } else {
                let t = now + next(20);
                q.push(SimTime(t), i);
                pushed.push((t, i));
            }
        }
        while let Some((t, e)) = q.pop() {
            popped.push((t.0, e));
        }
        pushed.sort_unstable();
        let mut expected_order = popped.clone();
        expected_order.sort_unstable();
        assert_eq!(popped.len(), pushed.len());
        assert_eq!(expected_order, pushed);
        for w in popped.windows(2) {
            assert!(w[0] < w[1], "{w:?} out of order");
        }
    }

    #[test]
    fn many_delays_and_out_of_order_pushes_keep_the_order() {
        // More distinct delays than lanes, and pushes earlier than a lane's
        // last entry, checked against a sort of everything pushed.
        let mut q = EventQueue::default();
        let mut x: u64 = 11;
        let mut next = |m: u64| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (x >> 33) % m
        };
        let (mut pushed, mut popped) = (Vec::new(), Vec::new());
        let mut now = 0;
        for i in 0..20_000u64 {
            if next(2) == 0 {
                if let Some((t, e)) = q.pop() {
                    now = t.0;
                    popped.push((t.0, e));
                }
            } else {
                let delay = if next(4) == 0 {
                    next(1000)
                } else {
                    10 * next(8)
                };
                q.push(SimTime(now + delay), i);
                pushed.push((now + delay, i));
            }
            assert_eq!(q.len(), pushed.len() - popped.len());
        }
        while let Some((t, e)) = q.pop() {
            popped.push((t.0, e));
        }
        assert!(q.is_empty());
        pushed.sort_unstable();
        assert_eq!(popped, pushed);
    }

    #[test]
    fn sequence_numbers_wrap_without_changing_the_order() {
        let mut q = EventQueue::default();
        q.push(SimTime(9), 0);
        q.next_seq = u32::MAX - 3;
        for i in 1..10 {
            q.push(SimTime(5 + i % 2), i);
            if i == 4 {
                assert_eq!(q.pop(), Some((SimTime(5), 2)));
            }
        }
        assert!(q.next_seq < 20, "renumbered");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, [4, 6, 8, 1, 3, 5, 7, 9, 0]);
    }

    #[test]
    fn peek_time_reports_the_next_event_without_removing_it() {
        let mut q = EventQueue::default();
        assert_eq!(q.peek_time(), None);
        q.push(SimTime(7), ());
        q.push(SimTime(3), ());
        assert_eq!(q.peek_time(), Some(SimTime(3)));
        assert_eq!(q.len(), 2);
    }
}
