//! The event queue: a binary min-heap ordered by `(time, seq)`.
//!
//! `seq` is assigned when an event is scheduled, so the order is total and
//! events scheduled for the same instant run first-in, first-out.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// A heap entry: the ordering key and where the event waits. Events stay
/// put in a slab while only these 24-byte entries move during sifts.
#[derive(Clone, Copy)]
struct Entry {
    time: SimTime,
    seq: u64,
    slot: u32,
}

impl Entry {
    /// The ordering key as one number: time, then scheduling order (one
    /// wide comparison instead of two dependent ones).
    #[inline]
    fn key(&self) -> u128 {
        (u128::from(self.time.0) << 64) | u128::from(self.seq)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }

    // Reversed, as `cmp`; spelled out so that the heap's sifts compare keys
    // directly rather than through an `Ordering`.
    #[inline]
    fn lt(&self, other: &Self) -> bool {
        other.key() < self.key()
    }

    #[inline]
    fn le(&self, other: &Self) -> bool {
        other.key() <= self.key()
    }

    #[inline]
    fn gt(&self, other: &Self) -> bool {
        other.key() > self.key()
    }

    #[inline]
    fn ge(&self, other: &Self) -> bool {
        other.key() >= self.key()
    }
}

impl Ord for Entry {
    /// Reversed, so that the standard max-heap pops the earliest event.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

/// Pending events, earliest first, ties in scheduling order.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry>,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    next_seq: u64,
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
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, seq, slot });
    }

    /// Remove and return the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let entry = self.heap.pop()?;
        self.free.push(entry.slot);
        let event = self.slab[entry.slot as usize]
            .take()
            .expect("a queued slot holds its event");
        Some((entry.time, event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
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
    fn peek_time_reports_the_next_event_without_removing_it() {
        let mut q = EventQueue::default();
        assert_eq!(q.peek_time(), None);
        q.push(SimTime(7), ());
        q.push(SimTime(3), ());
        assert_eq!(q.peek_time(), Some(SimTime(3)));
        assert_eq!(q.len(), 2);
    }
}
