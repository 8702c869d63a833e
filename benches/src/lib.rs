//! The W1 "lossy pipeline" workload on the real engine, shared by the `w1`
//! binary (side by side with the peer harnesses) and the criterion benches.
//!
//! W1 is `scenarios/bench/w1.ron`, run by the same engine, network, choice
//! source and actors as every scenario; only the message count and the law
//! probe are set here.
//!
//! # Determinism contract
//! A run depends only on the scenario, `n` and the seed; wall-clock time is
//! measured around runs, never inside one.

pub mod w2;

use models::roles::{Node, NodeDb, NodeVol};
use models::run;
use models::scenario::Scenario;
use models::vocab::MsgKey;
use sim_core::{ActorId, Buffers, Digest, EndReason, Seeded};

/// The bundled W1 scenario file.
pub const W1_RON: &str = include_str!("../../scenarios/bench/w1.ron");

/// W1 with `n` messages, with or without the law probe.
///
/// # Panics
/// If the bundled file is invalid (a test keeps it valid).
pub fn w1_scenario(n: u32, probe: bool) -> Scenario {
    let bundled = Scenario::parse("scenarios/bench/w1.ron", W1_RON).expect("bundled W1 is valid");
    let mut spec = bundled.spec().clone();
    spec.workload.messages = n;
    spec.consumer.law_probe = probe;
    Scenario::from_spec("scenarios/bench/w1.ron", spec).expect("W1 with any n in range is valid")
}

/// What one W1 run reports, in the peers' terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct W1Run {
    /// The seed.
    pub seed: u64,
    /// Datagrams delivered to a node.
    pub delivered: u64,
    /// Datagrams lost.
    pub dropped: u64,
    /// Retransmission timers that fired.
    pub timers: u64,
    /// Simulated time when the end condition held, µs.
    pub sim_us: u64,
    /// Sum of scheduled delays, µs.
    pub delay_us_sum: u64,
    /// Scheduled deliveries.
    pub deliveries_scheduled: u64,
    /// The W1 check held.
    pub passed: bool,
    /// The engine's digest.
    pub digest: Digest,
}

impl W1Run {
    /// Events as W1 counts them.
    pub fn events(&self) -> u64 {
        self.delivered + self.dropped + self.timers
    }
}

const PRODUCER: ActorId = ActorId(0);
const BROKER: ActorId = ActorId(1);
const CONSUMER: ActorId = ActorId(2);

/// Run W1 once: until the consumer applied every message and the producer
/// holds every ack (the peers' end condition), then check as the peers do.
/// `buffers` carries the engine's buffers from one run to the next.
pub fn run_w1(scenario: &Scenario, seed: u64, buffers: &mut Buffers<Node>) -> W1Run {
    let n = scenario.spec().workload.messages;
    let mut sim = scenario.sim_reusing(Seeded::new(seed), std::mem::take(buffers));
    let end = sim.run_until(|sim| {
        let acked =
            matches!(sim.volatile(PRODUCER), Some(NodeVol::Producer(p)) if p.acked_count() == n);
        acked && matches!(sim.durable(CONSUMER), NodeDb::Consumer(c) if c.applied() == n)
    });
    let consumer_ok = match sim.durable(CONSUMER) {
        NodeDb::Consumer(c) => (0..n).all(|seq| c.effects(MsgKey { producer: 0, seq }) == 1),
        _ => false,
    };
    let broker_ok = match sim.durable(BROKER) {
        NodeDb::Broker(b) => b.partitions[0].records.len() == n as usize,
        _ => false,
    };
    let s = end.stats;
    *buffers = sim.into_buffers();
    W1Run {
        seed,
        delivered: s.delivered,
        dropped: s.dropped,
        timers: s.timers,
        sim_us: end.time.as_us(),
        delay_us_sum: s.delay_us_sum,
        deliveries_scheduled: s.sent - s.dropped + s.duplicated,
        passed: end.reason == EndReason::Stopped && consumer_ok && broker_ok,
        digest: end.digest,
    }
}

/// The consumer's durable state at the end of a W1 run with `n` messages
/// (every message applied), for probing the law on it alone.
///
/// # Panics
/// If the consumer's state is not a consumer's (the topology puts it
/// third).
pub fn w1_consumer_state(n: u32, seed: u64) -> models::roles::ConsumerDb {
    let scenario = w1_scenario(n, false);
    let mut sim = scenario.sim_reusing(Seeded::new(seed), Buffers::default());
    sim.run_until(|sim| matches!(sim.durable(CONSUMER), NodeDb::Consumer(c) if c.applied() == n));
    match sim.durable(CONSUMER) {
        NodeDb::Consumer(c) => c.clone(),
        _ => panic!("W1's third actor is its consumer"),
    }
}

/// Run W1 through the whole pipeline a scenario run takes: engine to
/// quiescence, ledger, every checker and (if the scenario has it on) the law
/// probe. Returns whether it passed.
pub fn run_w1_checked(scenario: &Scenario, seed: u64) -> bool {
    run::run(scenario, seed, false).verdict == run::Verdict::Pass
}
