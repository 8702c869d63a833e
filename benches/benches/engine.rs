//! Criterion benches with stable names: `engine/w1-n1000`, `engine/w1-n10000`
//! (the engine alone, to the W1 end condition), `end-to-end/w1-n1000`
//! (engine, ledger, every checker and the law probe) and
//! `law-probe/m4-after-w1-n1000` (the law probe alone, on one record, from
//! the consumer's state at the end of a W1 run).

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

fn law_probe(c: &mut Criterion) {
    use models::protocols::Record;
    use models::roles::{Reached, RetryPlan, Scratch, probe};
    use models::vocab::{IdSet, MsgKey};
    use sim_core::{SimDuration, SimTime};
    let scenario = w1_scenario(1_000, true);
    let db = benches::w1_consumer_state(1_000, 1);
    let plan = RetryPlan {
        timeouts: vec![(SimDuration::from_ms(50), "the producer's retry timeout")],
        slack: SimDuration::from_ms(70),
        faults_end: Some(SimTime::from_ms(600_000)),
    };
    let memory = IdSet::default();
    let now = SimTime::from_ms(300);
    let reached = Reached {
        db: &db,
        memory: &memory,
        now,
        true_now: now,
    };
    // A redelivered record: the copy a retry brings.
    let rec = Record {
        key: MsgKey {
            producer: 0,
            seq: 500,
        },
        dedup_id: 500,
    };
    let mut scratch = Scratch::default();
    c.bench_function("law-probe/m4-after-w1-n1000", |b| {
        b.iter(|| probe(scenario.model(), reached, rec, &mut scratch, &plan));
    });
}

criterion_group!(benches, engine, end_to_end, law_probe);
criterion_main!(benches);
