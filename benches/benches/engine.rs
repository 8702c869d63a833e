//! Criterion benches with stable names: `engine/w1-n1000`, `engine/w1-n10000`
//! (the engine alone, to the W1 end condition) and `end-to-end/w1-n1000`
//! (engine, ledger, every checker and the law probe).

#![allow(missing_docs)]

use benches::{run_w1, run_w1_checked, w1_scenario};
use criterion::{Criterion, criterion_group, criterion_main};
use sim_core::Buffers;

/// The same allocator as the `w1` and `eosim` binaries.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    for n in [1_000, 10_000] {
        let scenario = w1_scenario(n, false);
        if n >= 10_000 {
            group.sample_size(10);
        }
        let mut buffers = Buffers::default();
        group.bench_function(format!("w1-n{n}"), |b| {
            b.iter(|| run_w1(&scenario, 1, &mut buffers));
        });
    }
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let scenario = w1_scenario(1_000, true);
    c.bench_function("end-to-end/w1-n1000", |b| {
        b.iter(|| run_w1_checked(&scenario, 1));
    });
}

criterion_group!(benches, engine, end_to_end);
criterion_main!(benches);
