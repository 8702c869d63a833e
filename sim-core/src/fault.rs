//! The fault plan: when faults may happen, stochastic knobs and an explicit
//! schedule.
//!
//! A run is faulty until [`FaultPlan::faults_until`]; after that it is healed:
//! no new drops, duplicates or crashes, partitions are over, and crashed
//! actors come back after [`FaultPlan::restart_after`]. The explicit schedule
//! lets a run be reproduced with no randomness at all.

use crate::actor::ActorId;
use crate::choice::Ratio;
use crate::time::{SimDuration, SimTime};

/// Crash at the `nth` time (1-based) `actor` passes crash point `point`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScheduledCrash {
    /// The actor that crashes.
    pub actor: ActorId,
    /// The crash point's name.
    pub point: String,
    /// Which pass of the point fires (1 = the first).
    pub nth: u32,
}

/// A datagram named by its link and its position on it: the `nth` (1-based)
/// datagram `src` sent to `dst`. The name survives changes elsewhere in the
/// run, which is what lets a schedule be shrunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Datagram {
    /// Sender.
    pub src: ActorId,
    /// Receiver.
    pub dst: ActorId,
    /// Which datagram on the link (1 = the first).
    pub nth: u64,
}

/// Deliver a datagram (or its network duplicate) after exactly `delay`
/// instead of a drawn delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScheduledDelay {
    /// The datagram.
    pub datagram: Datagram,
    /// The network duplicate's copy rather than the original.
    pub copy: bool,
    /// Time from send to delivery.
    pub delay: SimDuration,
}

/// From `at` on, `actor`'s clock reads `by_us` microseconds off the true
/// time (F-clock: a jump, or a skew from the start; negative: behind). The
/// latest jump of an actor replaces the ones before. Only what an actor
/// reads from its clock changes (TTLs, windows, leases), never when its
/// timers fire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockJump {
    /// The actor whose clock jumps.
    pub actor: ActorId,
    /// When it jumps.
    pub at: SimTime,
    /// Its offset from the true time from then on.
    pub by_us: i64,
}

/// A kind of signal a model defines: the engine delivers it at a
/// scheduled or drawn time and leaves its meaning to the receiving actor
/// ([`crate::Actor::signal`]); a model's fault that is neither a crash, a
/// network fault, a pause nor a clock jump (say, "evict your dedup state",
/// or "take this member's partitions away") is one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignalKind {
    /// Hashed into the run's digest in place of the name; distinct per
    /// kind, and none of the engine's own event codes
    /// ([`SignalKind::new`] checks).
    pub code: u8,
    /// Written in traces (`expire`).
    pub name: &'static str,
    /// Whether its draws, its place among the realized faults and among
    /// the signals due at the same time come after the pauses' (otherwise
    /// before): part of what a seed means, so a model keeps it fixed.
    pub after_pauses: bool,
}

impl SignalKind {
    /// The kind `name`, hashed as `code`.
    ///
    /// # Panics
    /// If `code` is one the engine uses for its own events (1 to 10, 12,
    /// 13), at compile time when used in a constant.
    pub const fn new(code: u8, name: &'static str) -> SignalKind {
        assert!(
            !crate::trace::engine_code(code),
            "a signal's code must not be an engine event's"
        );
        SignalKind {
            code,
            name,
            after_pauses: false,
        }
    }

    /// This kind, drawn and listed after the pauses.
    #[must_use]
    pub const fn after_pauses(self) -> SignalKind {
        SignalKind {
            after_pauses: true,
            ..self
        }
    }
}

/// At `at`, `target` receives the signal `kind` about `about` (itself, or
/// another actor: a coordinator told to take a member's partitions). A
/// signal about another actor waits while its target is paused (the target
/// acts on it); a signal about the target itself happens to it at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScheduledSignal {
    /// What the signal is.
    pub kind: &'static SignalKind,
    /// The actor that receives it.
    pub target: ActorId,
    /// The actor it is about.
    pub about: ActorId,
    /// When.
    pub at: SimTime,
}

/// Stochastic signals: each `(target, about)` pair receives `kind` once,
/// with probability `ratio`, at a time drawn within the faulty phase.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignalKnob {
    /// What the signal is.
    pub kind: &'static SignalKind,
    /// Probability per pair.
    pub ratio: Ratio,
    /// The `(target, about)` pairs, in the order they are drawn.
    pub pairs: Vec<(ActorId, ActorId)>,
}

/// From `from` until `to` (or until the run heals, whichever is first),
/// `actor` is paused (F-pause: a stop-the-world GC, a stalled VM): it
/// handles nothing, and the datagrams and timers that come due wait for
/// it; then it resumes with its memory, and with the beliefs it had (a
/// lease it no longer holds: a zombie).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScheduledPause {
    /// The actor.
    pub actor: ActorId,
    /// Start of the pause.
    pub from: SimTime,
    /// End of the pause (exclusive).
    pub to: SimTime,
}

/// Stochastic pauses: each matching actor is paused once, with probability
/// `ratio`, for `duration`, from a time drawn within the faulty phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PauseKnob {
    /// Only this actor, or every actor.
    pub actor: Option<ActorId>,
    /// Probability per actor.
    pub ratio: Ratio,
    /// How long the pause lasts.
    pub duration: SimDuration,
}

/// A fault or delay that happened in a run, named so that it can be
/// scheduled: the run's faults written down as a seedless schedule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Realized {
    /// A datagram was lost (not by a partition: those are scheduled already).
    Drop(Datagram),
    /// The network delivered a datagram twice.
    Duplicate(Datagram),
    /// A datagram took longer than its link's minimum delay.
    Delay(ScheduledDelay),
    /// An actor crashed at a named point.
    Crash(ScheduledCrash),
    /// An actor's clock jumped (scheduled, or drawn at the start).
    ClockJump(ClockJump),
    /// An actor was paused (scheduled, or drawn at the start).
    Pause(ScheduledPause),
    /// A signal took effect (scheduled, or drawn at the start).
    Signal(ScheduledSignal),
}

/// A stochastic crash knob: at each pass of a matching crash point, crash
/// with probability `ratio`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CrashKnob {
    /// Only this actor, or every actor.
    pub actor: Option<ActorId>,
    /// Only this point, or every point.
    pub point: Option<String>,
    /// Probability per pass.
    pub ratio: Ratio,
}

/// A cut between two actors from `from` until `to` (or until the run heals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Partition {
    /// One side.
    pub a: ActorId,
    /// The other side.
    pub b: ActorId,
    /// Start of the cut.
    pub from: SimTime,
    /// End of the cut (exclusive).
    pub to: SimTime,
    /// Only datagrams from `a` to `b` are cut.
    pub one_way: bool,
}

impl Partition {
    /// Whether the partition cuts `src -> dst` at `now`.
    pub fn cuts(&self, src: ActorId, dst: ActorId, now: SimTime) -> bool {
        if now < self.from || now >= self.to {
            return false;
        }
        (self.a == src && self.b == dst) || (!self.one_way && self.a == dst && self.b == src)
    }
}

/// Every fault of a run, decided before it starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FaultPlan {
    /// No new fault at or after this time.
    pub faults_until: SimTime,
    /// How long a crashed actor stays down.
    pub restart_after: SimDuration,
    /// Stochastic crash knobs.
    pub crash_knobs: Vec<CrashKnob>,
    /// Crashes at named points.
    pub crashes: Vec<ScheduledCrash>,
    /// Datagrams lost by position on their link.
    pub drops: Vec<Datagram>,
    /// Datagrams the network delivers twice.
    pub duplicates: Vec<Datagram>,
    /// Datagrams with a fixed delay (these apply in the healed phase too:
    /// a delay is not a fault).
    pub delays: Vec<ScheduledDelay>,
    /// Scheduled partitions.
    pub partitions: Vec<Partition>,
    /// Scheduled clock jumps.
    pub clock_jumps: Vec<ClockJump>,
    /// Stochastic clock jumps: each actor's clock jumps once, at a time
    /// drawn within the faulty phase, by up to this much either way (the
    /// default choice, `0`, is no jump).
    pub clock_jump_max: Option<SimDuration>,
    /// Scheduled pauses.
    pub pauses: Vec<ScheduledPause>,
    /// Stochastic pauses.
    pub pause_knobs: Vec<PauseKnob>,
    /// Scheduled signals; those due together are delivered in this order,
    /// the kinds drawn after the pauses last.
    pub signals: Vec<ScheduledSignal>,
    /// Stochastic signals, drawn in this order, before or after the pauses
    /// as their kind says.
    pub signal_knobs: Vec<SignalKnob>,
}

impl Default for FaultPlan {
    /// No faults at all; crashed actors restart after 50 ms.
    fn default() -> Self {
        FaultPlan {
            faults_until: SimTime::ZERO,
            restart_after: SimDuration::from_ms(50),
            crash_knobs: Vec::new(),
            crashes: Vec::new(),
            drops: Vec::new(),
            duplicates: Vec::new(),
            delays: Vec::new(),
            partitions: Vec::new(),
            clock_jumps: Vec::new(),
            clock_jump_max: None,
            pauses: Vec::new(),
            pause_knobs: Vec::new(),
            signals: Vec::new(),
            signal_knobs: Vec::new(),
        }
    }
}

impl FaultPlan {
    /// Whether faults may still happen at `now`.
    pub fn is_faulty(&self, now: SimTime) -> bool {
        now < self.faults_until
    }

    /// Cut every pause at the heal, as partitions are: a pause is a fault,
    /// and none outlasts the faulty phase. A pause that would begin at or
    /// after the heal is dropped. The engine calls this before a run, once
    /// the stochastic pauses are drawn.
    pub fn end_pauses_at_heal(&mut self) {
        let heal = self.faults_until;
        for p in &mut self.pauses {
            p.to = p.to.min(heal);
        }
        self.pauses.retain(|p| p.from < p.to);
    }

    /// Whether a scheduled partition cuts `src -> dst` at `now`.
    pub fn partitioned(&self, src: ActorId, dst: ActorId, now: SimTime) -> bool {
        self.partitions.iter().any(|p| p.cuts(src, dst, now))
    }

    /// Sort the per-datagram schedules so that each lookup is a binary
    /// search (a shrunk long run can schedule tens of thousands of delays).
    /// The engine calls this before a run.
    pub fn sort(&mut self) {
        self.drops.sort_unstable();
        self.duplicates.sort_unstable();
        self.delays.sort_unstable();
    }

    /// Whether `datagram` is scheduled to be lost (schedules sorted).
    pub fn drop_scheduled(&self, datagram: Datagram) -> bool {
        self.drops.binary_search(&datagram).is_ok()
    }

    /// Whether `datagram` is scheduled to be delivered twice (schedules
    /// sorted).
    pub fn duplicate_scheduled(&self, datagram: Datagram) -> bool {
        self.duplicates.binary_search(&datagram).is_ok()
    }

    /// The fixed delay of `datagram` (or of its duplicate, if `copy`), the
    /// shortest if several are scheduled (schedules sorted).
    pub fn delay_scheduled(&self, datagram: Datagram, copy: bool) -> Option<SimDuration> {
        let at = self
            .delays
            .partition_point(|d| (d.datagram, d.copy) < (datagram, copy));
        self.delays
            .get(at)
            .filter(|d| d.datagram == datagram && d.copy == copy)
            .map(|d| d.delay)
    }

    /// How far `actor`'s clock reads off the true time at `now`, in
    /// microseconds: its latest jump at or before `now`.
    pub fn clock_offset(&self, actor: ActorId, now: SimTime) -> i64 {
        self.clock_jumps
            .iter()
            .filter(|j| j.actor == actor && j.at <= now)
            .max_by_key(|j| j.at)
            .map_or(0, |j| j.by_us)
    }

    /// When `actor`'s pause ends, if it is paused at `now`.
    pub fn paused_until(&self, actor: ActorId, now: SimTime) -> Option<SimTime> {
        self.pauses
            .iter()
            .filter(|p| p.actor == actor && p.from <= now && now < p.to)
            .map(|p| p.to)
            .max()
    }

    /// Whether a crash is scheduled for the `nth` pass of `point` by `actor`.
    pub fn crash_scheduled(&self, actor: ActorId, point: &str, nth: u32) -> bool {
        self.crashes
            .iter()
            .any(|c| c.actor == actor && c.point == point && c.nth == nth)
    }

    /// Whether any crash is scheduled for `actor` at `point` (so passes must
    /// be counted).
    pub fn counts_passes(&self, actor: ActorId, point: &str) -> bool {
        self.crashes
            .iter()
            .any(|c| c.actor == actor && c.point == point)
    }

    /// The stochastic knobs that apply to `actor` at `point`.
    pub fn knobs_for<'a>(
        &'a self,
        actor: ActorId,
        point: &'a str,
    ) -> impl Iterator<Item = Ratio> + 'a {
        self.crash_knobs
            .iter()
            .filter(move |k| k.actor.is_none_or(|a| a == actor))
            .filter(move |k| k.point.as_deref().is_none_or(|p| p == point))
            .map(|k| k.ratio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_way_partition_cuts_only_its_direction() {
        let p = Partition {
            a: ActorId(0),
            b: ActorId(1),
            from: SimTime(10),
            to: SimTime(20),
            one_way: true,
        };
        assert!(p.cuts(ActorId(0), ActorId(1), SimTime(10)));
        assert!(!p.cuts(ActorId(1), ActorId(0), SimTime(10)));
        assert!(
            !p.cuts(ActorId(0), ActorId(1), SimTime(20)),
            "the end is exclusive"
        );
        assert!(!p.cuts(ActorId(0), ActorId(1), SimTime(9)));
    }

    #[test]
    fn a_knob_without_actor_or_point_applies_everywhere() {
        let plan = FaultPlan {
            crash_knobs: vec![CrashKnob {
                actor: None,
                point: None,
                ratio: Ratio::new(1, 2),
            }],
            ..FaultPlan::default()
        };
        assert_eq!(plan.knobs_for(ActorId(4), "anywhere").count(), 1);
    }

    #[test]
    fn an_actors_clock_reads_its_latest_jump() {
        let jump = |at, by_us| ClockJump {
            actor: ActorId(1),
            at: SimTime(at),
            by_us,
        };
        let plan = FaultPlan {
            clock_jumps: vec![jump(30, -5), jump(10, 7)],
            ..FaultPlan::default()
        };
        assert_eq!(plan.clock_offset(ActorId(1), SimTime(9)), 0);
        assert_eq!(plan.clock_offset(ActorId(1), SimTime(10)), 7);
        assert_eq!(plan.clock_offset(ActorId(1), SimTime(30)), -5);
        assert_eq!(plan.clock_offset(ActorId(0), SimTime(30)), 0);
    }
}
