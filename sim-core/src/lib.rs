//! The deterministic discrete-event engine of eosim.
//!
//! A [`Sim`] runs a set of sans-IO [`Actor`]s over a simulated network. Every
//! nondeterministic decision (drop this datagram? duplicate it? how long is its
//! delay? does this crash point fire?) is asked of one [`Choices`] source, where
//! choice `0` is always the fault-free default. The engine is generic over that
//! source, so the same loop runs seeded ([`Seeded`]) or replays a recorded tape
//! ([`Tape`]).
//!
//! # Module map
//! - [`time`]: [`SimTime`] and [`SimDuration`], `u64` microseconds.
//! - [`choice`]: the choice source: [`Ratio`], [`Stream`], [`Seeded`], [`Tape`].
//! - [`explore`]: the [`Explorer`] choice source, which enumerates every
//!   choice of a step under a fault budget (`eosim explore`).
//! - [`queue`]: the `(time, seq)` event queue.
//! - [`actor`]: the [`Actor`] trait, its [`Ctx`], crash points and timers.
//! - [`network`]: links from a petgraph topology, loss, duplication, delay, FIFO.
//! - [`fault`]: the [`FaultPlan`]: phases, scheduled and stochastic faults.
//! - [`trace`]: trace events and the [`Digest`], a stable FNV-1a-derived hash.
//! - [`sim`]: the run loop, phases and bounds.
//!
//! # Example
//! Two actors play ping-pong over a lossless link until five pongs arrive.
//! ```
//! use sim_core::{Actor, ActorId, Choices, Ctx, FaultPlan, Limits, LinkConfig, Seeded, Sim, Step, Store, Topology};
//!
//! struct Pinger { peer: u32 }
//! impl Actor for Pinger {
//!     type Msg = u32;
//!     type Timer = ();
//!     type Durable = u32;
//!     type Volatile = ();
//!     type Obs = ();
//!     fn init_durable(&self) -> u32 { 0 }
//!     fn start<C: Choices>(&self, _: &u32, ctx: &mut Ctx<'_, Self, C>) {
//!         if ctx.id().0 == 0 { ctx.send(ActorId(self.peer), 0); }
//!     }
//!     fn on_msg<C: Choices>(&self, mut d: Store<'_, u32>, _: &mut (), ctx: &mut Ctx<'_, Self, C>,
//!                           src: ActorId, n: u32) -> Step {
//!         d.transaction(|count| *count += 1);
//!         if n < 9 { ctx.send(src, n + 1); }
//!         Ok(())
//!     }
//!     fn on_timer<C: Choices>(&self, _: Store<'_, u32>, _: &mut (), _: &mut Ctx<'_, Self, C>, _: ()) -> Step {
//!         Ok(())
//!     }
//! }
//!
//! let names = vec!["a".to_string(), "b".to_string()];
//! let topology = Topology::full_mesh(&names, LinkConfig::reliable(1_000));
//! let actors = vec![Pinger { peer: 1 }, Pinger { peer: 0 }];
//! let mut sim = Sim::new(names, actors, topology, FaultPlan::default(), Limits::default(), Seeded::new(7));
//! let end = sim.run();
//! assert!(end.reason.is_quiet());
//! assert_eq!(*sim.durable(ActorId(1)), 5);
//! ```
//!
//! # Determinism contract
//! Same actors, same plan, same seed, same binary: the same run, event for
//! event, with the same [`Digest`], on every machine. To keep it so, nothing in
//! this crate reads a wall clock, iterates a hash container or draws from an
//! unseeded generator; all draws are integer draws (`u32`/`u64`, never `usize`
//! or floats) from ChaCha8 streams, one per subsystem and per actor, so an
//! extra draw in one stream never shifts another; ties in the queue are broken
//! by scheduling order.

pub mod actor;
pub mod choice;
pub mod explore;
pub mod fault;
pub mod network;
pub mod queue;
pub mod sim;
pub mod time;
pub mod trace;

pub use actor::{Actor, ActorId, Crashed, Ctx, Step, Store, TimerId};
pub use choice::{Choices, Ratio, Seeded, Site, Stream, Tape, TapeEntry};
pub use explore::{Explorer, FaultBudget, FaultsUsed};
pub use fault::{
    ClockJump, CrashKnob, Datagram, FaultPlan, Partition, PauseKnob, Realized, ScheduledCrash,
    ScheduledDelay, ScheduledPause, ScheduledSignal, SignalKind, SignalKnob,
};
pub use network::{LinkConfig, Ordering, Topology};
pub use sim::{
    Buffers, EndReason, Lifecycle, LifecycleKind, Limits, Observed, RunEnd, Sim, Stats, Timing,
};
pub use time::{SimDuration, SimTime};
pub use trace::{Digest, TraceEvent, TraceKind};
