//! The delivery vocabulary: message keys, send outcomes and the dense tables
//! durable state is made of.
//!
//! Words are never overloaded: an *append* goes to a log, an *ack* goes back
//! to a sender, an *offset commit* records consumer progress, and an *effect*
//! is a side effect applied to durable state.

use std::fmt;
use std::rc::Rc;

/// A logical message: the `seq`-th message (0-based) of producer `producer`
/// (0-based). Shown 1-based, as `p1#17`, in `Display` and `Debug` alike.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgKey {
    /// The producer's index, from 0.
    pub producer: u32,
    /// The message's index within its producer, from 0.
    pub seq: u32,
}

impl MsgKey {
    /// The key's position in a dense table of `per_producer` messages per
    /// producer.
    pub fn index(self, per_producer: u32) -> usize {
        self.producer as usize * per_producer as usize + self.seq as usize
    }
}

impl fmt::Debug for MsgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for MsgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}#{}", self.producer + 1, self.seq + 1)
    }
}

/// How a send ended, as the producer saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SendOutcome {
    /// Acknowledged: the producer believes the message is stored.
    Acked,
    /// Definitely failed: the message must have no effect.
    Failed,
    /// Unknown (timed out, or the run ended first): zero or one effect is fine.
    Indeterminate,
}

/// Entries per shared chunk of a [`CowTable`]: a chunk of `u32` with its
/// `Rc` counts takes 1024 bytes, the largest block mimalloc serves from its
/// fast path (a chunk of 256 took 1040 and cost about ten times as much to
/// allocate, on every copy-on-write).
const CHUNK: usize = 252;

/// A fixed-length table whose clones share storage until written: chunks of
/// `CHUNK` (252) entries behind `Rc`, copied on the first write after a clone. Cloning
/// and comparing two tables that differ in a few entries costs a pointer per
/// chunk, which is what lets the law probe clone a consumer's whole durable
/// state before every record and compare it with `Eq`.
#[derive(Debug)]
pub struct CowTable<T: Copy + Default + Eq> {
    chunks: Vec<Rc<[T; CHUNK]>>,
    len: usize,
}

impl<T: Copy + Default + Eq> Clone for CowTable<T> {
    fn clone(&self) -> Self {
        CowTable {
            chunks: self.chunks.clone(),
            len: self.len,
        }
    }

    /// Reuses the chunk list's allocation and touches only the chunks that
    /// differ (the law probe clones into scratch tables before every record,
    /// and a record changes one chunk).
    fn clone_from(&mut self, source: &Self) {
        self.chunks.truncate(source.chunks.len());
        for (mine, theirs) in self.chunks.iter_mut().zip(&source.chunks) {
            if !Rc::ptr_eq(mine, theirs) {
                mine.clone_from(theirs);
            }
        }
        let have = self.chunks.len();
        self.chunks.extend(source.chunks[have..].iter().cloned());
        self.len = source.len;
    }
}

impl<T: Copy + Default + Eq> CowTable<T> {
    /// `len` default entries.
    pub fn new(len: usize) -> CowTable<T> {
        let chunk = Rc::new([T::default(); CHUNK]);
        CowTable {
            chunks: vec![chunk; len.div_ceil(CHUNK)],
            len,
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Entry `i`.
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn get(&self, i: usize) -> T {
        assert!(i < self.len, "index {i} out of a table of {}", self.len);
        self.chunks[i / CHUNK][i % CHUNK]
    }

    /// Set entry `i` (copying its chunk if it is shared).
    ///
    /// # Panics
    /// If `i` is out of bounds.
    pub fn set(&mut self, i: usize, value: T) {
        assert!(i < self.len, "index {i} out of a table of {}", self.len);
        Rc::make_mut(&mut self.chunks[i / CHUNK])[i % CHUNK] = value;
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| c.iter().copied())
            .take(self.len)
    }
}

impl<T: Copy + Default + Eq> PartialEq for CowTable<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self
                .chunks
                .iter()
                .zip(&other.chunks)
                .all(|(a, b)| Rc::ptr_eq(a, b) || a == b)
    }
}

impl<T: Copy + Default + Eq> Eq for CowTable<T> {}

/// A set of small integer ids as a bitset. Equality is logical: trailing
/// empty words do not count, so two sets with the same members are equal
/// however they grew.
#[derive(Debug, Default)]
pub struct IdSet {
    words: Vec<u64>,
}

impl Clone for IdSet {
    fn clone(&self) -> Self {
        IdSet {
            words: self.words.clone(),
        }
    }

    /// Reuses the allocation.
    fn clone_from(&mut self, source: &Self) {
        self.words.clone_from(&source.words);
    }
}

impl IdSet {
    /// Whether `id` is a member.
    pub fn contains(&self, id: u64) -> bool {
        let (w, b) = split(id);
        self.words.get(w).is_some_and(|word| word & (1 << b) != 0)
    }

    /// Add `id`; returns whether it was new.
    pub fn insert(&mut self, id: u64) -> bool {
        let (w, b) = split(id);
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let new = self.words[w] & (1 << b) == 0;
        self.words[w] |= 1 << b;
        new
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
}

impl PartialEq for IdSet {
    /// Equal words where both sets have them, and only empty words beyond
    /// (one pass, without first trimming each side).
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.words.as_slice(), other.words.as_slice());
        let n = a.len().min(b.len());
        a[..n] == b[..n] && a[n..].iter().all(|w| *w == 0) && b[n..].iter().all(|w| *w == 0)
    }
}

impl Eq for IdSet {}

fn split(id: u64) -> (usize, u32) {
    (
        usize::try_from(id / 64).expect("ids fit in memory"),
        u32::try_from(id % 64).expect("< 64"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_display_one_based() {
        assert_eq!(
            MsgKey {
                producer: 0,
                seq: 16
            }
            .to_string(),
            "p1#17"
        );
    }

    #[test]
    fn cow_tables_share_until_written_and_compare_by_content() {
        let mut a = CowTable::<u32>::new(200);
        let b = a.clone();
        a.set(130, 7);
        assert_eq!((a.get(130), b.get(130)), (7, 0));
        assert_ne!(a, b);
        let mut c = b.clone();
        c.set(130, 7);
        assert_eq!(a, c, "equal contents in separate chunks");
        assert_eq!(a.iter().count(), 200);
        assert_eq!(a.iter().filter(|v| *v == 7).count(), 1);
    }

    #[test]
    fn id_sets_with_the_same_members_are_equal_however_they_grew() {
        let mut a = IdSet::default();
        let mut b = IdSet::default();
        a.insert(3);
        b.insert(3);
        b.insert(700);
        assert_ne!(a, b);
        let mut c = b.clone();
        c.words[10] = 0;
        assert_eq!(a, c);
        assert!(a.contains(3) && !a.contains(4));
        assert!(!a.insert(3));
        assert_eq!(b.len(), 2);
    }
}
