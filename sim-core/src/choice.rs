//! The single choice source through which every nondeterministic decision of a
//! run flows.
//!
//! A decision is a request "pick one of `n` at this site"; choice `0` is always
//! the fault-free default (deliver, no duplicate, minimal delay, no crash).
//! Because every fault is a choice, replay is "feed the tape back", and
//! shrinking is "make choices default while the same check still fails".

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::actor::ActorId;

/// A probability as an integer ratio `num / den`, drawn with integer
/// arithmetic only (never a float).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ratio {
    /// Numerator; `0` means "never".
    pub num: u32,
    /// Denominator; must be non-zero.
    pub den: u32,
}

impl Ratio {
    /// The ratio that never fires.
    pub const NEVER: Ratio = Ratio { num: 0, den: 1 };

    /// `num / den`.
    pub const fn new(num: u32, den: u32) -> Ratio {
        Ratio { num, den }
    }

    /// Whether the ratio can never fire (so no draw is needed).
    pub const fn is_never(self) -> bool {
        self.num == 0 || self.den == 0
    }

    /// Whether the ratio always fires (so no draw is needed).
    pub const fn is_always(self) -> bool {
        !self.is_never() && self.num >= self.den
    }
}

/// An independent random stream. Each subsystem and each actor draws from its
/// own stream, so that an extra draw in one place does not shift the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    /// Stochastic crash decisions.
    Faults,
    /// Workload generation.
    Workload,
    /// Decisions about datagrams sent by this actor (loss, duplication, delay).
    Network(ActorId),
    /// Decisions an actor makes itself.
    Actor(ActorId),
}

impl Stream {
    /// A dense index for the stream, also used as the ChaCha stream number.
    fn index(self) -> usize {
        match self {
            Stream::Faults => 0,
            Stream::Workload => 1,
            Stream::Network(a) => 2 + 2 * a.index(),
            Stream::Actor(a) => 3 + 2 * a.index(),
        }
    }
}

/// What a decision is about; recorded on the tape so that a shrinker or a
/// reader can tell a dropped datagram from a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Site {
    /// Drop a datagram (1) or deliver it (0).
    Drop,
    /// Duplicate a datagram (1) or not (0).
    Duplicate,
    /// Extra delay above the link's minimum, in microseconds.
    Delay,
    /// Fire a crash point (1) or not (0).
    Crash,
    /// A decision an actor makes (for example which key to write).
    Actor,
    /// When an actor's clock jumps, and by how much.
    Clock,
    /// Whether and when an actor is paused.
    Pause,
    /// Whether and when a signal a model defines is sent.
    Signal,
    /// Which of the events that may come next comes next (only when the
    /// engine explores orders: see [`Sim::explore_orders`](crate::Sim::explore_orders)).
    Order,
}

/// One non-default decision, as recorded by [`Seeded`] and replayed by [`Tape`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TapeEntry {
    /// The position of the decision among all decisions of the run.
    pub draw: u64,
    /// What the decision was about.
    pub site: Site,
    /// The choice made; never `0` (defaults are not recorded).
    pub value: u64,
}

/// The interface every nondeterministic decision goes through.
///
/// Implementations must count a draw for every call that reaches them with a
/// real choice (`0 < num < den`, or `n > 1`), so that a [`Tape`] recorded from
/// one implementation lines up with another.
pub trait Choices {
    /// Decide a yes/no question that is "yes" with probability `p`.
    /// `false` is the default.
    fn flip(&mut self, stream: Stream, site: Site, p: Ratio) -> bool;

    /// Pick a number in `0..n`; `0` is the default. `n <= 1` returns `0`
    /// without a draw.
    fn pick(&mut self, stream: Stream, site: Site, n: u64) -> u64;
}

/// The seeded source: ChaCha8 streams derived from one run seed.
///
/// With recording on, every non-default decision is appended to a tape that a
/// [`Tape`] source replays exactly.
#[derive(Clone, Debug)]
pub struct Seeded {
    seed: u64,
    streams: Vec<Option<ChaCha8Rng>>,
    draws: u64,
    recording: bool,
    tape: Vec<TapeEntry>,
}

impl Seeded {
    /// A source for run `seed`, not recording.
    pub fn new(seed: u64) -> Seeded {
        Seeded {
            seed,
            streams: Vec::new(),
            draws: 0,
            recording: false,
            tape: Vec::new(),
        }
    }

    /// A source for run `seed` that records its non-default choices.
    pub fn recording(seed: u64) -> Seeded {
        Seeded {
            recording: true,
            ..Seeded::new(seed)
        }
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The recorded non-default choices (empty unless recording).
    pub fn tape(&self) -> &[TapeEntry] {
        &self.tape
    }

    /// How many real decisions were drawn so far.
    pub fn draws(&self) -> u64 {
        self.draws
    }

    #[inline]
    fn rng(&mut self, stream: Stream) -> &mut ChaCha8Rng {
        let i = stream.index();
        if i >= self.streams.len() {
            self.streams.resize(i + 1, None);
        }
        let seed = self.seed;
        self.streams[i].get_or_insert_with(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(i as u64);
            rng
        })
    }

    fn note(&mut self, site: Site, value: u64) {
        if self.recording && value != 0 {
            self.tape.push(TapeEntry {
                draw: self.draws,
                site,
                value,
            });
        }
        self.draws += 1;
    }
}

impl Choices for Seeded {
    #[inline]
    fn flip(&mut self, stream: Stream, site: Site, p: Ratio) -> bool {
        if p.is_never() {
            return false;
        }
        if p.is_always() {
            return true;
        }
        let hit = self.rng(stream).random_range(0..p.den) < p.num;
        self.note(site, u64::from(hit));
        hit
    }

    #[inline]
    fn pick(&mut self, stream: Stream, site: Site, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let v = self.rng(stream).random_range(0..n);
        self.note(site, v);
        v
    }
}

/// Replays a recorded sequence of choices; every decision beyond the tape, or
/// not on it, takes the default `0`.
#[derive(Clone, Debug, Default)]
pub struct Tape {
    entries: Vec<TapeEntry>,
    next: usize,
    draws: u64,
}

impl Tape {
    /// A tape from recorded entries (sorted by draw position).
    pub fn new(mut entries: Vec<TapeEntry>) -> Tape {
        entries.sort_by_key(|e| e.draw);
        Tape {
            entries,
            next: 0,
            draws: 0,
        }
    }

    fn take(&mut self) -> u64 {
        let draw = self.draws;
        self.draws += 1;
        while self.next < self.entries.len() && self.entries[self.next].draw < draw {
            self.next += 1;
        }
        match self.entries.get(self.next) {
            Some(e) if e.draw == draw => e.value,
            _ => 0,
        }
    }
}

impl Choices for Tape {
    fn flip(&mut self, _: Stream, _: Site, p: Ratio) -> bool {
        if p.is_never() {
            return false;
        }
        if p.is_always() {
            return true;
        }
        self.take() != 0
    }

    fn pick(&mut self, _: Stream, _: Site, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        self.take().min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network_draws(src: &mut Seeded, n: usize) -> Vec<u64> {
        (0..n)
            .map(|_| src.pick(Stream::Network(ActorId(0)), Site::Delay, 1_000_000))
            .collect()
    }

    #[test]
    fn a_draw_in_one_stream_does_not_shift_another() {
        let mut quiet = Seeded::new(42);
        let mut busy = Seeded::new(42);
        let first = network_draws(&mut quiet, 3);
        for _ in 0..17 {
            busy.pick(Stream::Actor(ActorId(3)), Site::Actor, 1_000);
        }
        let second = network_draws(&mut busy, 3);
        assert_eq!(first, second);
    }

    #[test]
    fn different_seeds_give_different_draws() {
        assert_ne!(
            network_draws(&mut Seeded::new(1), 4),
            network_draws(&mut Seeded::new(2), 4)
        );
    }

    #[test]
    fn streams_of_one_seed_differ_from_each_other() {
        let mut s = Seeded::new(5);
        let a: Vec<u64> = (0..4)
            .map(|_| s.pick(Stream::Faults, Site::Actor, 1 << 40))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| s.pick(Stream::Workload, Site::Actor, 1 << 40))
            .collect();
        assert_ne!(a, b);
    }

    #[test]
    fn a_recorded_tape_replays_the_same_decisions() {
        let mut seeded = Seeded::recording(9);
        let mut decisions = Vec::new();
        for i in 0..200u64 {
            let s = Stream::Network(ActorId(u32::try_from(i % 3).unwrap()));
            decisions.push(u64::from(seeded.flip(s, Site::Drop, Ratio::new(1, 4))));
            decisions.push(seeded.pick(s, Site::Delay, 10));
        }
        let mut tape = Tape::new(seeded.tape().to_vec());
        let replayed: Vec<u64> = (0..200u64)
            .flat_map(|_| {
                let s = Stream::Faults;
                let a = u64::from(tape.flip(s, Site::Drop, Ratio::new(1, 4)));
                [a, tape.pick(s, Site::Delay, 10)]
            })
            .collect();
        assert_eq!(decisions, replayed);
        assert!(
            seeded.tape().iter().all(|e| e.value != 0),
            "defaults are not recorded"
        );
    }

    #[test]
    fn certain_and_impossible_ratios_draw_nothing() {
        let mut s = Seeded::new(0);
        assert!(!s.flip(Stream::Faults, Site::Drop, Ratio::NEVER));
        assert!(s.flip(Stream::Faults, Site::Drop, Ratio::new(3, 3)));
        assert_eq!(s.pick(Stream::Faults, Site::Delay, 1), 0);
        assert_eq!(s.draws(), 0);
    }

    #[test]
    fn an_empty_tape_takes_every_default() {
        let mut t = Tape::default();
        assert!(!t.flip(Stream::Faults, Site::Crash, Ratio::new(1, 2)));
        assert_eq!(t.pick(Stream::Faults, Site::Delay, 50), 0);
    }
}
