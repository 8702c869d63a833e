//! The delivery vocabulary: message keys, send outcomes and the dense tables
//! durable state is made of.
//!
//! Words are never overloaded: an *append* goes to a log, an *ack* goes back
//! to a sender, an *offset commit* records consumer progress, and an *effect*
//! is a side effect applied to durable state.

use std::fmt;
use std::sync::Arc;

use sim_core::SignalKind;

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
    /// `p`, the producer and `#`, the sequence number, both 1-based. The
    /// numbers are written with `itoa` rather than `write!`: a recorded
    /// run writes a key into the label of nearly every datagram, and
    /// `write!` costs several times as much.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut producer, mut seq) = (itoa::Buffer::new(), itoa::Buffer::new());
        f.write_str("p")?;
        f.write_str(producer.format(u64::from(self.producer) + 1))?;
        f.write_str("#")?;
        f.write_str(seq.format(u64::from(self.seq) + 1))
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
/// `Arc` counts takes 1024 bytes, the largest block mimalloc serves from its
/// fast path (a chunk of 256 took 1040 and cost about ten times as much to
/// allocate, on every copy-on-write).
const CHUNK: usize = 252;

/// An entry of a [`CowTable`], and how two chunks of them are compared
/// (the law probe compares tables before every record).
pub trait TableEntry: Copy + Default + Eq {
    /// Whether two chunks hold the same entries. By default every pair is
    /// compared, with no early exit, so that the loop compiles to wide
    /// comparisons: the `==` of slices compares an enum's entries one by
    /// one, and only integers' as bytes.
    fn same(a: &[Self], b: &[Self]) -> bool {
        a.iter().zip(b).fold(true, |all, (x, y)| all & (x == y))
    }
}

impl TableEntry for u32 {
    /// As bytes (`memcmp`), which stops at the first difference.
    fn same(a: &[u32], b: &[u32]) -> bool {
        a == b
    }
}

/// A fixed-length table whose clones share storage until written: chunks of
/// `CHUNK` (252) entries behind `Arc`, copied on the first write after a clone. Cloning
/// and comparing two tables that differ in a few entries costs a pointer per
/// chunk, which is what lets the law probe clone a consumer's whole durable
/// state before every record and compare it with `Eq`.
#[derive(Debug)]
pub struct CowTable<T: TableEntry> {
    chunks: Vec<Arc<[T; CHUNK]>>,
    len: usize,
}

impl<T: TableEntry> Clone for CowTable<T> {
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
            if !Arc::ptr_eq(mine, theirs) {
                mine.clone_from(theirs);
            }
        }
        let have = self.chunks.len();
        self.chunks.extend(source.chunks[have..].iter().cloned());
        self.len = source.len;
    }
}

impl<T: TableEntry> CowTable<T> {
    /// `len` default entries.
    pub fn new(len: usize) -> CowTable<T> {
        let chunks = match len.div_ceil(CHUNK) {
            // No chunk to share: none allocated (a copy starts empty).
            0 => Vec::new(),
            n => {
                // Every chunk shares one of defaults until written.
                let defaults = Arc::new([T::default(); CHUNK]);
                vec![defaults; n]
            }
        };
        CowTable { chunks, len }
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
        Arc::make_mut(&mut self.chunks[i / CHUNK])[i % CHUNK] = value;
    }

    /// The first entry, among those both tables have, where this table and
    /// `other` differ: chunks they share are skipped whole, unread.
    pub fn first_difference(&self, other: &Self) -> Option<usize> {
        let len = self.len.min(other.len);
        self.chunks
            .iter()
            .zip(&other.chunks)
            .enumerate()
            .filter(|(_, (a, b))| !Arc::ptr_eq(a, b))
            .find_map(|(c, (a, b))| {
                let k = a.iter().zip(b.iter()).position(|(x, y)| x != y)?;
                Some(c * CHUNK + k)
            })
            .filter(|i| *i < len)
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.chunks
            .iter()
            .flat_map(|c| c.iter().copied())
            .take(self.len)
    }
}

impl<T: TableEntry> PartialEq for CowTable<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && self
                .chunks
                .iter()
                .zip(&other.chunks)
                .all(|(a, b)| Arc::ptr_eq(a, b) || T::same(&a[..], &b[..]))
    }
}

impl<T: TableEntry> Eq for CowTable<T> {}

impl<T: TableEntry + std::hash::Hash> std::hash::Hash for CowTable<T> {
    /// Agrees with `Eq`: the entries, whichever chunks they share.
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.len.hash(h);
        let mut left = self.len;
        for chunk in &self.chunks {
            let used = left.min(CHUNK);
            chunk[..used].hash(h);
            left -= used;
        }
    }
}

/// A set of small integer ids as a bitset. Equality is logical: trailing
/// empty words do not count, so two sets with the same members are equal
/// however they grew.
#[derive(Debug, Default)]
pub struct IdSet {
    words: Vec<u64>,
}

impl std::hash::Hash for IdSet {
    /// Agrees with `Eq`: trailing empty words do not count.
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let used = self
            .words
            .iter()
            .rposition(|w| *w != 0)
            .map_or(0, |i| i + 1);
        self.words[..used].hash(h);
    }
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

    /// Take `id` out; returns whether it was a member.
    pub fn remove(&mut self, id: u64) -> bool {
        let (w, b) = split(id);
        let Some(word) = self.words.get_mut(w) else {
            return false;
        };
        let was = *word & (1 << b) != 0;
        *word &= !(1 << b);
        was
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }

    /// The members, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.words.iter().enumerate().flat_map(|(w, word)| {
            (0..64u64)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| w as u64 * 64 + b)
        })
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
    fn keys_write_every_digit_in_debug_too() {
        let key = MsgKey {
            producer: 9,
            seq: u32::MAX,
        };
        assert_eq!(key.to_string(), "p10#4294967296");
        assert_eq!(format!("{key:?}"), "p10#4294967296");
        assert_eq!(format!("[{key}]"), "[p10#4294967296]");
    }

    /// An entry compared by the default, pair by pair.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    enum Status {
        #[default]
        Absent,
        Done,
    }

    impl TableEntry for Status {}

    #[test]
    fn tables_of_enums_compare_every_entry() {
        let mut a = CowTable::<Status>::new(300);
        let mut b = CowTable::<Status>::new(300);
        assert_eq!(a, b);
        a.set(299, Status::Done);
        assert_ne!(a, b, "a difference in the last chunk's last entry");
        b.set(299, Status::Done);
        assert_eq!(a, b, "equal contents in separate chunks");
        b.set(0, Status::Done);
        assert_ne!(a, b, "a difference in the first entry");
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
        assert_eq!(a.first_difference(&b), Some(130));
        assert_eq!(a.first_difference(&c), None, "equal, though not shared");
        c.set(3, 1);
        c.set(199, 2);
        assert_eq!(a.first_difference(&c), Some(3), "the first of two");
        assert_eq!(a.iter().count(), 200);
        assert_eq!(a.iter().filter(|v| *v == 7).count(), 1);
    }

    #[test]
    fn an_id_set_lists_its_members_in_order() {
        let mut ids = IdSet::default();
        for id in [130, 3, 64, 0, 3] {
            ids.insert(id);
        }
        assert_eq!(ids.iter().collect::<Vec<_>>(), [0, 3, 64, 130]);
        assert_eq!(ids.iter().count(), ids.len());
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

/// A class of fault, as a matrix column: one knob of the scenario format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum FaultClass {
    /// F-drop: every link loses one datagram in five (requests and acks).
    Loss,
    /// F-dup: every link delivers one datagram in five twice.
    Duplicate,
    /// F-reorder: reordering links with delays of 1 to 20 ms, so later
    /// datagrams overtake earlier ones (round trips stay under the 50 ms
    /// timeouts). Every other column keeps links FIFO, so that each column
    /// shows one fault alone.
    Reorder,
    /// F-crash: every crash point (consumers', and producers' where the
    /// model has them) fires one pass in ten; the actor restarts from
    /// durable state 50 ms later.
    Crash,
    /// F-part: the broker is cut off from everyone from 5 ms to 120 ms.
    Partition,
    /// F-pause: every actor pauses once, in one run in two, for 300 ms
    /// (longer than M12's 100 ms lease), from a time within the first 2 s.
    Pause,
    /// F-clock: every actor's clock jumps once, by up to ten minutes either
    /// way (past M5's five-minute window), at a time within the first 2 s.
    Clock,
    /// F-rebalance: a group of two consumers on one partition, each losing
    /// it once, at a time within the first 2 s; processing a record takes
    /// 10 ms, so a rebalance can catch a record in hand. Only for models
    /// whose consumers form a group ([`FaultClass::applies_to`]).
    Rebalance,
    /// F-storage: the broker acknowledges each produce before its flush
    /// (every 50 ms) and crashes after an ack one pass in ten, losing what
    /// it had not flushed; it restarts from its disk 50 ms later. Not for
    /// models whose broker flushes every write (M7's coordinator, M12's
    /// lease storage).
    Storage,
}

impl FaultClass {
    /// Every class, in column order.
    pub const ALL: [FaultClass; 9] = [
        FaultClass::Loss,
        FaultClass::Duplicate,
        FaultClass::Reorder,
        FaultClass::Crash,
        FaultClass::Partition,
        FaultClass::Pause,
        FaultClass::Clock,
        FaultClass::Rebalance,
        FaultClass::Storage,
    ];

    /// Every class but storage (the last of [`FaultClass::ALL`]): what a
    /// protocol above a durable log can claim to survive.
    pub const ABOVE_THE_LOG: [FaultClass; 8] = {
        let mut classes = [FaultClass::Loss; 8];
        let mut i = 0;
        while i < classes.len() {
            classes[i] = FaultClass::ALL[i];
            i += 1;
        }
        classes
    };

    /// The column name (`loss`, `dup`, …).
    pub fn name(self) -> &'static str {
        match self {
            FaultClass::Loss => "loss",
            FaultClass::Duplicate => "dup",
            FaultClass::Reorder => "reorder",
            FaultClass::Crash => "crash",
            FaultClass::Partition => "partition",
            FaultClass::Pause => "pause",
            FaultClass::Clock => "clock",
            FaultClass::Rebalance => "rebalance",
            FaultClass::Storage => "storage",
        }
    }

    /// The class named `name` (as printed by [`FaultClass::name`]).
    pub fn from_name(name: &str) -> Option<FaultClass> {
        FaultClass::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The knob this class turns on, in words.
    pub fn knob(self) -> &'static str {
        match self {
            FaultClass::Loss => "every link loses 1 datagram in 5",
            FaultClass::Duplicate => "every link duplicates 1 datagram in 5",
            FaultClass::Reorder => "links reorder, delays 1-20 ms (others: FIFO)",
            FaultClass::Crash => "every crash point fires 1 pass in 10",
            FaultClass::Partition => "the broker is cut off from 5 ms to 120 ms",
            FaultClass::Pause => "every actor pauses 300 ms, in one run in two",
            FaultClass::Clock => "every clock jumps once, by up to ±10 min",
            FaultClass::Rebalance => "2 consumers lose it once each; 10 ms per record",
            FaultClass::Storage => "broker acks before a 50 ms flush; crashes 1 ack in 10",
        }
    }
}

/// A check, as named in scenario files (`expect: Violates([C3, C8])`):
/// one of the catalogue's, or a property of the scenario's protocol, by its
/// name (`Violates([C1, DeliveredTakesEffect])`). Both are written as the
/// code; reading one needs the protocols, so it is implemented in `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    /// No acked message is left without effect once the run drained.
    C1,
    /// No acked message is left unapplied while a later offset of its
    /// partition took effect.
    C2,
    /// No message takes effect twice.
    C3,
    /// No message is appended twice.
    C4,
    /// No offset holds two messages.
    C5,
    /// Nothing takes effect that was never sent.
    C6,
    /// Nothing takes effect whose operation failed (was rolled back).
    C7,
    /// Exactly-once: acked → one effect, indeterminate → at most one, failed → none.
    C8,
    /// A transaction's output and input offset commit are seen together or
    /// not at all.
    C9,
    /// A `read_committed` reader never reads a record before its
    /// transaction commits.
    C10,
    /// A message acked before the next was sent is appended and applied
    /// first.
    C11,
    /// A consumer's deliveries on a partition never go back or skip.
    C12,
    /// No write under a lease token below one already established.
    C13,
    /// Idempotence law `h(h(s,m),m) = h(s,m)`.
    C14,
    /// The seeds' retry law `f(f(s,false),true) = f(s,true)`.
    C15,
    /// Liveness: after the faults heal, every acked message takes effect.
    C16,
    /// A property of the protocol's own, by its name.
    Property(&'static str),
}

impl CheckId {
    /// Whether a violation seen part-way through a run stays one however
    /// the run goes on, so that the check can be judged on every prefix
    /// (`eosim explore` judges these on every state, the others only on
    /// executions that ended): a second effect, a second append, an offset
    /// holding two messages, a phantom or aborted effect, an early read, a
    /// delivery going back, a stale token write, a law broken. A message
    /// not yet applied, an order not yet kept or a transaction seen in
    /// part may still be put right.
    pub fn judged_on_prefixes(self) -> bool {
        matches!(
            self,
            CheckId::C3
                | CheckId::C4
                | CheckId::C5
                | CheckId::C6
                | CheckId::C7
                | CheckId::C10
                | CheckId::C12
                | CheckId::C13
                | CheckId::C14
                | CheckId::C15
        )
    }

    /// Every check, in report order.
    pub const ALL: [CheckId; 16] = [
        CheckId::C1,
        CheckId::C2,
        CheckId::C3,
        CheckId::C4,
        CheckId::C5,
        CheckId::C6,
        CheckId::C7,
        CheckId::C8,
        CheckId::C9,
        CheckId::C10,
        CheckId::C11,
        CheckId::C12,
        CheckId::C13,
        CheckId::C14,
        CheckId::C15,
        CheckId::C16,
    ];

    /// The check's code (`C3`).
    pub fn code(self) -> &'static str {
        match self {
            CheckId::C1 => "C1",
            CheckId::C2 => "C2",
            CheckId::C3 => "C3",
            CheckId::C4 => "C4",
            CheckId::C5 => "C5",
            CheckId::C6 => "C6",
            CheckId::C7 => "C7",
            CheckId::C8 => "C8",
            CheckId::C9 => "C9",
            CheckId::C10 => "C10",
            CheckId::C11 => "C11",
            CheckId::C12 => "C12",
            CheckId::C13 => "C13",
            CheckId::C14 => "C14",
            CheckId::C15 => "C15",
            CheckId::C16 => "C16",
            CheckId::Property(name) => name,
        }
    }

    /// Whether the check is a law the probe checks (C14, C15).
    pub fn is_law(self) -> bool {
        matches!(self, CheckId::C14 | CheckId::C15)
    }
}

impl serde::Serialize for CheckId {
    /// As its code, spelled as a unit variant (`C3` in RON, `"C3"` in
    /// JSON, a map key too).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit_variant("CheckId", 0, self.code())
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Names one transaction attempt of a task: the epoch its session began
/// with, and the attempt's number in that session (from 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnTag {
    /// The epoch `initTransactions` returned to the session.
    pub session: u32,
    /// The attempt's number within the session.
    pub attempt: u32,
}

impl fmt::Display for TxnTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "txn {}.{}", self.session, self.attempt)
    }
}

static COMMAND: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Name the command that printed commands call (`eosim` unless set): a
/// binary built with its own protocols prints its own name, so that a
/// pasted command finds them. Only the first call counts.
pub fn set_command(name: &str) {
    let _ = COMMAND.set(name.to_string());
}

/// The command that printed commands call.
pub fn command() -> &'static str {
    COMMAND.get().map_or("eosim", String::as_str)
}

/// The engine signal of F-expire: the receiving actor loses its dedup
/// state. Its code is the one eviction events always had in the digest.
pub const EXPIRE: SignalKind = SignalKind::new(11, "expire");

/// The engine signal of F-rebalance: the group's coordinator (the broker)
/// takes the partitions of the consumer it is about away and assigns them
/// to another member. Its code, and its draws after the pauses', are what
/// rebalances always had.
pub const REBALANCE: SignalKind = SignalKind::new(14, "rebalance").after_pauses();
