//! `stats.json`: the counters of a run, messages per effect and the
//! latency from first send to first effect, for machines.

use models::record::Recording;
use serde_json::{Value, json};

/// The statistics of a recorded run as a JSON value.
pub fn stats(rec: &Recording) -> Value {
    let r = &rec.report;
    let s = r.end.stats;
    let effects: usize = r.ledger.messages.values().map(|m| m.effect_count()).sum();
    let mut latencies: Vec<u64> = r
        .ledger
        .messages
        .values()
        .filter_map(|m| Some(m.effects.first()?.0.0.saturating_sub(m.first_sent?.0)))
        .collect();
    latencies.sort_unstable();
    let quantile =
        |q: usize| (!latencies.is_empty()).then(|| latencies[(latencies.len() - 1) * q / 100]);
    let per_effect = (effects > 0).then(|| {
        // Two decimals, as a string-free number: hundredths over 100.
        let hundredths = s.sent * 100 / effects as u64;
        json!(hundredths as f64 / 100.0)
    });
    json!({
        "schema": 1,
        "seed": r.seed,
        "digest": r.end.digest.to_string(),
        "verdict": r.verdict.word(),
        "simulated_us": r.end.time.0,
        "messages": r.messages(),
        "datagrams_sent": s.sent,
        "delivered": s.delivered,
        "lost": s.dropped,
        "duplicated": s.duplicated,
        "to_crashed": s.to_crashed,
        "retries": r.retries(),
        "timers": s.timers,
        "crashes": s.crashes,
        "restarts": s.restarts,
        "effects": effects,
        "datagrams_per_effect": per_effect,
        "effect_latency_us": {
            "p50": quantile(50),
            "p99": quantile(99),
            "max": latencies.last(),
        },
        // `events` counts what `replay`, `sweep` and `shrink` call events
        // (deliveries, losses, timers, crashes, restarts); `trace_events`
        // the lines of `events.txt`, sends and every fault included.
        "events": r.events(),
        "trace_events": r.trace.len(),
    })
}
