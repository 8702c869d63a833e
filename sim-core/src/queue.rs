//! The event queue: a binary min-heap ordered by `(time, seq)`.
//!
//! `seq` is assigned when an event is scheduled, so the order is total and
//! events scheduled for the same instant run first-in, first-out.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// A heap entry packed into one number, so that a sift step is one wide
/// comparison and an entry takes 16 bytes: the time in the high 64 bits,
/// then the scheduling sequence number (32 bits), then the slot where the
/// event waits (32 bits). Events stay put in a slab while only these
/// entries move. The slot never decides the order: sequence numbers of
/// pending events are distinct.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

/// Pending events, earliest first, ties in scheduling order.
pub struct EventQueue<E> {
    /// Reversed, so that the standard max-heap pops the earliest event.
    heap: BinaryHeap<Reverse<Entry>>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u32,
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
            heap: BinaryHeap::with_capacity(capacity),
            slab: Vec::with_capacity(capacity),
            free: Vec::new(),
            next_seq: 0,
        }
    }

    /// Remove every event, keeping the allocated memory.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.slab.clear();
        self.free.clear();
        self.next_seq = 0;
    }

    /// Make room for `additional` more pending events.
    pub fn reserve(&mut self, additional: usize) {
        self.heap.reserve(additional);
        self.slab.reserve(additional);
    }

    /// Schedule `event` at `time`.
    ///
    /// # Panics
    /// With 2^32 events pending at once.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
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
        if self.next_seq == u32::MAX {
            self.renumber();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry::new(time, seq, slot)));
    }

    /// Give the pending events the sequence numbers `0..len` in their
    /// order, so that numbering can go on after 2^32 - 1 events were
    /// scheduled; the order of every pending event is kept.
    #[cold]
    fn renumber(&mut self) {
        let mut entries: Vec<Entry> = self.heap.drain().map(|Reverse(e)| e).collect();
        entries.sort_unstable();
        let mut seq = 0;
        for e in &mut entries {
            *e = e.with_seq(seq);
            seq += 1;
        }
        self.next_seq = seq;
        self.heap = entries.into_iter().map(Reverse).collect();
    }

    /// Remove and return the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let Reverse(entry) = self.heap.pop()?;
        let slot = entry.slot();
        self.free.push(slot);
        let event = self.slab[slot as usize]
            .take()
            .expect("a queued slot holds its event");
        Some((entry.time(), event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(e)| e.time())
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
