//! `w2`: the Stateright peer's M0 model (`../shared/peers/stateright-w2`)
//! explored by `eosim explore`'s search, printing the peer's `TOTAL` line
//! so that both can be run side by side.
//!
//! ```text
//! w2 --variant naive|atomic --n N --network nondup|dup [--untimed] [--dfs]
//!    [--crashes 1 --drops 2 --duplicates 1] [--states N] [--memory-gb 4]
//! ```

// The wall clock times the search from outside, as the peer's harness does.
#![allow(clippy::disallowed_types, clippy::cast_precision_loss)]

use std::process::ExitCode;
use std::time::Instant;

use benches::w2::{Network, Variant, W2};
use clap::{Parser, ValueEnum};
use models::explore::{self, Bounds, Cut, Order};
use sim_core::{FaultBudget, Timing};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum VariantArg {
    Naive,
    Atomic,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum NetworkArg {
    Nondup,
    Dup,
}

/// The peer's M0 model, explored by eosim; prints one `TOTAL` line.
#[derive(Parser, Debug)]
#[command(name = "w2")]
struct Args {
    /// Naive (effect and status update apart) or atomic (one step).
    #[arg(long, value_enum, default_value = "naive")]
    variant: VariantArg,
    /// Messages.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=64))]
    n: u8,
    /// The network: each copy at most once, or duplicating.
    #[arg(long, value_enum, default_value = "nondup")]
    network: NetworkArg,
    /// Search threads (breadth-first; depth-first uses one).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    threads: u16,
    /// Depth-first instead of breadth-first.
    #[arg(long, conflicts_with = "bfs")]
    dfs: bool,
    /// Breadth-first (the default).
    #[arg(long)]
    bfs: bool,
    /// Any waiting event may come next, as in the peer (no clock).
    #[arg(long)]
    untimed: bool,
    /// Crashes per execution.
    #[arg(long, default_value_t = 1)]
    crashes: u32,
    /// Lost datagrams per execution.
    #[arg(long, default_value_t = 2)]
    drops: u32,
    /// Duplicated datagrams per execution (dup network only).
    #[arg(long, default_value_t = 1)]
    duplicates: u32,
    /// Distinct states at most.
    #[arg(long, default_value_t = 100_000_000)]
    states: u64,
    /// Copies of one datagram in flight at most: a state with more is
    /// outside the bounds (the peer's `--max-copies`).
    #[arg(long, default_value_t = 2)]
    max_copies: u32,
    /// Resident memory at most, GiB.
    #[arg(long, default_value_t = 4)]
    memory_gb: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let variant = match args.variant {
        VariantArg::Naive => Variant::Naive,
        VariantArg::Atomic => Variant::Atomic,
    };
    let network = match args.network {
        NetworkArg::Nondup => Network::NonDuplicating,
        NetworkArg::Dup => Network::Duplicating,
    };
    let model = W2::new(variant, args.n, network);
    let bounds = model.bounds(Bounds {
        faults: FaultBudget {
            crashes: args.crashes,
            drops: args.drops,
            duplicates: args.duplicates,
        },
        depth: None,
        states: args.states,
        memory: args.memory_gb << 30,
        timing: Timing::untimed_if(args.untimed),
        order: Order::depth_first_if(args.dfs),
        copies: Some(args.max_copies),
        threads: usize::from(args.threads),
    });
    let started = Instant::now();
    let explored = explore::explore(&model, bounds, &mut |_| {
        explore::resident_bytes()
            .is_some_and(|b| b > bounds.memory)
            .then_some(Cut::Memory)
    });
    let wall = started.elapsed().as_secs_f64();
    let p = explored.progress;
    let found = explored.found.first();
    let verdict = match (found, explored.cut) {
        (Some(_), _) => "violated",
        (None, None) => "holds",
        (None, Some(_)) => "cut",
    };
    let len = found.map_or("-".to_string(), |f| f.events().to_string());
    let shortest = if found.is_some() && !args.dfs {
        len.clone()
    } else {
        "-".to_string()
    };
    let peak = explore::peak_resident_bytes().unwrap_or(0);
    println!(
        "TOTAL harness=eosim variant={} n={} network={} unique_states={} generated={} \
         depth_max={} wall_s={wall:.3} unique_per_s={:.0} verdict={verdict} \
         counterexample_len={len} shortest_len={shortest} all_applied={} threads={} \
         search={} stop=failure timing={} crashes={} drops={} duplicates={} max_copies={} \
         outside={} complete={} \
         cut={} peak_rss_mb={} bytes_per_state={}",
        match variant {
            Variant::Naive => "naive",
            Variant::Atomic => "atomic",
        },
        args.n,
        match network {
            Network::NonDuplicating => "nondup",
            Network::Duplicating => "dup",
        },
        p.states,
        p.transitions + 1,
        // The peer counts states on a path, its initial one (eosim's run
        // just started) as 1: one more than the events (0 when none).
        if p.states == 0 { 0 } else { p.depth + 1 },
        p.states as f64 / wall.max(1e-9),
        if model.all_applied() { "found" } else { "-" },
        if args.dfs { 1 } else { args.threads },
        if args.dfs { "dfs" } else { "bfs" },
        if args.untimed { "untimed" } else { "timed" },
        bounds.faults.crashes,
        bounds.faults.drops,
        bounds.faults.duplicates,
        args.max_copies,
        p.outside,
        explored.cut.is_none(),
        explored.cut.map_or("-", cut_word),
        peak >> 20,
        peak / p.states.max(1),
    );
    ExitCode::SUCCESS
}

fn cut_word(cut: Cut) -> &'static str {
    match cut {
        Cut::Depth => "depth",
        Cut::States => "states",
        Cut::Memory => "memory",
        Cut::Interrupted => "interrupted",
    }
}
