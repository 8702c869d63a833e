//! Criterion bench `report/m2-100k-events`: render every report artifact of
//! a recorded run of about 100,000 events (M2 duplicating under ack loss).
//! The pictures and the page are windowed or bucketed, so their size stays bounded
//! however long the run; the bench checks that before it measures.

#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use models::scenario::Scenario;
use reports::bundle;
use reports::svg::Theme;

/// The same allocator as the `eosim` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCENARIO: &str = r#"Scenario(
    name: "report-100k",
    model: M2,
    workload: (producers: 1, messages: 12000, interval_us: 0, partitions: 1),
    network: (default: (loss: Ratio(1, 20), delay_us_min: 1000, delay_us_max: 10000)),
    faults: (until_ms: 600000),
    consumer: (law_probe: false),
    expect: Violates([C3, C4, C8]),
)"#;

fn report(c: &mut Criterion) {
    let scenario = Scenario::parse("report-100k.ron", SCENARIO).expect("a valid scenario");
    let rec = models::record::record_for_report(&scenario, 1, bundle::FULL_STATES_MAX, |bare| {
        bundle::shown_window_in(bare, None)
    })
    .expect("within the default memory budget");
    let events = reports::events::build(&rec).len();
    assert!(events >= 100_000, "about 100,000 events, not {events}");
    let files = bundle::files(&scenario, &rec, "report-100k.ron", Theme::Color).expect("renders");
    for (name, text) in &files {
        let bounded = matches!(
            *name,
            bundle::SPACETIME_SVG | bundle::INDEX | bundle::LEDGER_SVG | bundle::TIMELINE_SVG
        );
        assert!(
            !bounded || text.len() < 2_000_000,
            "{name} is {} bytes",
            text.len()
        );
    }
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.bench_function("m2-100k-events", |b| {
        b.iter(|| bundle::files(&scenario, &rec, "report-100k.ron", Theme::Color));
    });
    group.finish();
}

criterion_group!(benches, report);
criterion_main!(benches);
