//! W1 on eosim's engine, with the command line and `TOTAL` line of the peer
//! harnesses, so that `run-all.sh` can compare it side by side.
//!
//! `w1 --seeds A..B --n N [--quiet] [--no-verify] [--probe]`: runs the seeds
//! in order on one thread, then re-runs each once and compares.

// Wall-clock timing around runs is this binary's purpose.
#![allow(clippy::disallowed_types, clippy::cast_precision_loss)]

use std::time::Instant;

use benches::{W1Run, run_w1, w1_scenario};
use clap::Parser;
use sim_core::Buffers;

/// Each run allocates and frees its buffers; mimalloc keeps freed memory in
/// the process instead of returning it to the kernel, where the page faults
/// of the next run cost a fifth of the time with the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// W1 "lossy pipeline" on eosim's engine.
#[derive(Parser, Debug)]
struct Args {
    /// Seeds `A..B` (end exclusive).
    #[arg(long, default_value = "0..1")]
    seeds: String,
    /// Messages per run.
    #[arg(long, default_value_t = 1000)]
    n: u32,
    /// Print only the TOTAL line (and failures).
    #[arg(long)]
    quiet: bool,
    /// Skip the determinism re-run.
    #[arg(long)]
    no_verify: bool,
    /// Run the law probe on every record (off: the engine alone).
    #[arg(long)]
    probe: bool,
}

struct Timed {
    run: W1Run,
    wall_s: f64,
}

fn main() {
    let args = Args::parse();
    let Some((lo, hi)) = parse_seeds(&args.seeds) else {
        eprintln!("error: --seeds wants A..B with A < B");
        std::process::exit(2);
    };
    let scenario = w1_scenario(args.n, args.probe);
    let mut buffers = Buffers::default();
    let sched0 = sched_stat();
    let t0 = Instant::now();
    let mut results = Vec::new();
    for seed in lo..hi {
        let t = Instant::now();
        let run = run_w1(&scenario, seed, &mut buffers);
        let timed = Timed {
            run,
            wall_s: t.elapsed().as_secs_f64(),
        };
        if !args.quiet || !run.passed {
            println!("{}", run_line(args.n, &timed));
        }
        results.push(timed);
    }
    let wall = t0.elapsed().as_secs_f64();
    let sched1 = sched_stat();
    let identical = if args.no_verify {
        None
    } else {
        Some(
            results
                .iter()
                .filter(|r| run_w1(&scenario, r.run.seed, &mut buffers) == r.run)
                .count(),
        )
    };
    println!(
        "{}",
        total_line(&args, (lo, hi), &results, wall, (sched0, sched1), identical)
    );
    let all_passed = results.iter().all(|r| r.run.passed);
    let deterministic = identical.is_none_or(|k| k == results.len());
    std::process::exit(if all_passed && deterministic { 0 } else { 1 });
}

fn parse_seeds(s: &str) -> Option<(u64, u64)> {
    let (a, b) = s.split_once("..")?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a < b).then_some((a, b))
}

fn run_line(n: u32, t: &Timed) -> String {
    let r = &t.run;
    format!(
        "RUN harness=eosim seed={} n={n} events={} delivered={} dropped={} timers={} sim_s={:.6} wall_s={:.6} events_per_s={:.0} pass={} digest={}",
        r.seed,
        r.events(),
        r.delivered,
        r.dropped,
        r.timers,
        r.sim_us as f64 / 1e6,
        t.wall_s,
        r.events() as f64 / t.wall_s,
        r.passed,
        r.digest
    )
}

fn total_line(
    args: &Args,
    (lo, hi): (u64, u64),
    results: &[Timed],
    wall: f64,
    sched: (Sched, Sched),
    identical: Option<usize>,
) -> String {
    let runs = results.len() as f64;
    let sum = |f: fn(&W1Run) -> u64| results.iter().map(|r| f(&r.run)).sum::<u64>();
    let events = sum(W1Run::events);
    let (delivered, dropped, timers) =
        (sum(|r| r.delivered), sum(|r| r.dropped), sum(|r| r.timers));
    let sim_s = sum(|r| r.sim_us) as f64 / 1e6;
    let run_wall: f64 = results.iter().map(|r| r.wall_s).sum();
    let (cpu_s, runq_s) = match sched {
        (Some(a), Some(b)) => ((b.0 - a.0) as f64 / 1e9, (b.1 - a.1) as f64 / 1e9),
        _ => (f64::NAN, f64::NAN),
    };
    let mean_delay_ms =
        sum(|r| r.delay_us_sum) as f64 / sum(|r| r.deliveries_scheduled).max(1) as f64 / 1000.0;
    let passed = results.iter().filter(|r| r.run.passed).count();
    let determinism = match identical {
        None => "not-checked".to_string(),
        Some(k) if k == results.len() => format!("identical({k}/{})", results.len()),
        Some(k) => format!("DIFFERENT({}/{})", results.len() - k, results.len()),
    };
    let mut fp = sim_core::trace::Fnv64::default();
    for r in results {
        std::hash::Hasher::write_u64(&mut fp, r.run.digest.0);
    }
    let config = if args.probe { "engine+probe" } else { "engine" };
    format!(
        "TOTAL harness=eosim config={config} n={} seeds={lo}..{hi} runs={} wall_s={wall:.4} run_wall_s={run_wall:.4} cpu_s={cpu_s:.4} runq_wait_s={runq_s:.4} events={events} events_per_s={:.0} events_per_cpu_s={:.0} runs_per_s={:.2} sim_s={sim_s:.3} sim_s_per_wall_s={:.2} events_per_run={:.1} sim_s_per_run={:.4} delivered={delivered} dropped={dropped} timers={timers} loss={:.4} mean_delay_ms={mean_delay_ms:.3} max_delay_ms=10.000 passed={passed}/{} determinism={determinism} fingerprint={:016x}",
        args.n,
        results.len(),
        events as f64 / wall,
        events as f64 / cpu_s,
        runs / wall,
        sim_s / wall,
        events as f64 / runs,
        sim_s / runs,
        dropped as f64 / (dropped + delivered).max(1) as f64,
        results.len(),
        std::hash::Hasher::finish(&fp),
    )
}

/// (ns on CPU, ns waiting to run) of this thread, if the kernel tells.
type Sched = Option<(u64, u64)>;

/// Read [`Sched`] from the kernel.
fn sched_stat() -> Sched {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}
