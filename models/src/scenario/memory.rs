//! The memory a scenario may take, and the budget it must fit.
//!
//! A run keeps what it observed until it is checked, so its memory grows
//! with its messages and its events. [`Estimate::of`] bounds that from the
//! scenario alone (its workload and `limits.events_max`); validation
//! refuses a scenario whose estimate is above the [`budget`], naming the
//! knob to turn. A run that still keeps more observations than the budget
//! allows stops at the memory bound ([`sim_core::EndReason::MemoryBound`]),
//! an inconclusive end, instead of being killed by the operating system.
//!
//! The budget is a setting of the process (`--memory-budget`), not of the
//! scenario: it changes no run that stays within it. The constants are
//! measured on this project's own runs (peak resident memory over events
//! and messages, rounded up), so an estimate is an upper bound in practice,
//! not a promise.
//!
//! # Determinism contract
//! An estimate is a pure function of the scenario; the observation bound a
//! run gets is a pure function of the budget. Neither reads the machine.

use std::sync::atomic::{AtomicU64, Ordering};

use super::spec::ScenarioSpec;

/// The default budget: 8 GiB, a third of a 24 GB machine, so that two
/// sweep jobs and the rest of the machine fit.
pub const BUDGET_DEFAULT: u64 = 8 << 30;

/// The smallest budget accepted.
pub const BUDGET_MIN: u64 = 64 << 20;

/// What every run takes whatever its size: the engine, the checkers and
/// their buffers.
const BYTES_BASE: u64 = 64 << 20;

/// What one message keeps: the producer's and consumer's records of it, the
/// broker's log entry, its datagrams in flight and the checkers' ledger
/// (measured: 0.9 to 1.9 KB per message sent all at once).
const BYTES_PER_MESSAGE: u64 = 2 << 10;

/// What one event keeps until the run is checked: its observations, the
/// queue entries it made and the state it grew (measured: 340 bytes per
/// event on a run of 4,000,000 events of retries).
const BYTES_PER_EVENT: u64 = 400;

/// What one trace event of a recorded run takes once it is turned into a
/// report or a causal story (measured: 1.4 to 2.2 KB per trace event,
/// actor states and pictures included).
const BYTES_PER_REPORTED_EVENT: u64 = 2560;

static BUDGET: AtomicU64 = AtomicU64::new(BUDGET_DEFAULT);

/// Set the process's memory budget, in bytes (at least [`BUDGET_MIN`]).
pub fn set_budget(bytes: u64) {
    BUDGET.store(bytes.max(BUDGET_MIN), Ordering::Relaxed);
}

/// The process's memory budget, in bytes.
pub fn budget() -> u64 {
    BUDGET.load(Ordering::Relaxed)
}

/// The most observations a run may keep within `budget` bytes: the bytes
/// per event spread over the observations an event makes (at least one in
/// every run measured).
pub fn observations_max(budget: u64) -> u64 {
    budget.saturating_sub(BYTES_BASE) / BYTES_PER_EVENT
}

/// Whether a report or causal story of a run with `trace_events` trace
/// events fits the budget.
///
/// # Errors
/// [`TooLarge`], which says by how much and which knob to turn.
pub fn report_fits(trace_events: u64) -> Result<(), TooLarge> {
    let bytes = trace_events.saturating_mul(BYTES_PER_REPORTED_EVENT);
    let budget = budget();
    if bytes <= budget {
        Ok(())
    } else {
        Err(TooLarge {
            trace_events,
            bytes,
            budget,
        })
    }
}

/// The most trace events a run may have for its report or causal story
/// to fit the budget: [`report_fits`] holds exactly up to this many.
pub fn reported_events_max() -> u64 {
    budget() / BYTES_PER_REPORTED_EVENT
}

/// A run too large to draw or explain within the memory budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge {
    /// The run's trace events.
    pub trace_events: u64,
    /// What its report would take, in bytes.
    pub bytes: u64,
    /// The budget, in bytes.
    pub budget: u64,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the run has {} trace events; its report would take about {}, above the {} \
             memory budget (raise it with --memory-budget, or shrink the run first)",
            crate::numbers::thousands(self.trace_events),
            crate::numbers::bytes(self.bytes),
            crate::numbers::bytes(self.budget)
        )
    }
}

/// The most memory a run of a scenario may take, by part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The messages' part: 2 KiB per message.
    pub messages: u64,
    /// The events' part: 400 bytes per event of `limits.events_max`.
    pub events: u64,
}

impl Estimate {
    /// The estimate for `spec`.
    pub fn of(spec: &ScenarioSpec) -> Estimate {
        let w = &spec.workload;
        let messages = u64::from(w.producers) * u64::from(w.messages);
        Estimate {
            messages: messages.saturating_mul(BYTES_PER_MESSAGE),
            events: spec.limits.events_max.saturating_mul(BYTES_PER_EVENT),
        }
    }

    /// The whole estimate, in bytes.
    pub fn bytes(self) -> u64 {
        BYTES_BASE
            .saturating_add(self.messages)
            .saturating_add(self.events)
    }

    /// The largest `limits.events_max` that fits `budget` with the same
    /// messages, if any does.
    pub fn events_max_within(self, budget: u64) -> Option<u64> {
        let left = budget.checked_sub(BYTES_BASE.saturating_add(self.messages))?;
        Some(left / BYTES_PER_EVENT).filter(|n| *n > 0)
    }
}

/// Parse a size: a number with an optional unit `K`, `M`, `G` or `T`
/// (powers of 1024; `KiB`, `MB`, … spellings too), e.g. `8G`, `512MiB`,
/// `1048576`.
///
/// # Errors
/// A sentence saying what was expected.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 8G, 512M or 1048576"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("unknown unit in `{text}`; use K, M, G or T")),
    };
    let bytes = number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    if bytes < BUDGET_MIN {
        return Err(format!(
            "`{text}` is below the smallest budget, {}",
            crate::numbers::bytes(BUDGET_MIN)
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ScenarioSpec {
        ron::from_str(r#"Scenario(name: "s", model: M2, expect: Pass)"#).expect("a valid spec")
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2 gb"), Ok(2 << 30));
        assert_eq!(parse_size("1073741824"), Ok(1 << 30));
        assert!(parse_size("8X").is_err());
        assert!(parse_size("G").is_err());
        assert!(parse_size("1K").is_err(), "below the smallest budget");
        assert!(parse_size("99999999999T").is_err(), "overflows");
    }

    #[test]
    fn the_estimate_grows_with_events_max_and_messages() {
        let mut spec = spec();
        let small = Estimate::of(&spec).bytes();
        spec.limits.events_max = 1_000_000_000;
        let many_events = Estimate::of(&spec);
        assert!(many_events.bytes() > 100 * small);
        assert!(many_events.bytes() > BUDGET_DEFAULT);
        let fits = many_events
            .events_max_within(BUDGET_DEFAULT)
            .expect("some events fit");
        spec.limits.events_max = fits;
        assert!(Estimate::of(&spec).bytes() <= BUDGET_DEFAULT);
        spec.limits.events_max = fits + 1;
        assert!(Estimate::of(&spec).bytes() > BUDGET_DEFAULT);
    }

    #[test]
    fn messages_alone_can_leave_no_room_for_events() {
        let mut spec = spec();
        spec.workload.producers = 64;
        spec.workload.messages = 1_000_000;
        let e = Estimate::of(&spec);
        assert_eq!(e.events_max_within(BUDGET_MIN), None);
    }
}
