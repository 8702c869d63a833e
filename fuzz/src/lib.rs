//! What the fuzz targets share: bytes as scenario text (as `eosim` reads a
//! file), a scenario clamped to a fast run, inputs split into several
//! files, and a scratch folder per process.

use std::path::{Path, PathBuf};

use eosim::models::scenario::{SCENARIO_BYTES_MAX, Scenario, ScenarioError};

/// Separates the files of one input (a line of its own), so that corpus
/// files stay readable text.
pub const SEPARATOR: &[u8] = b"\n%%%%\n";

/// `bytes` as the scenario text `eosim` would read from a file: at most
/// [`SCENARIO_BYTES_MAX`] bytes of UTF-8, a leading byte-order mark dropped.
pub fn scenario_text(bytes: &[u8]) -> Option<&str> {
    if bytes.len() as u64 > SCENARIO_BYTES_MAX {
        return None;
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(text).ok()
}

/// Parse and validate `text`; an error must point into the text and
/// render, as `eosim check` prints it, without a panic.
pub fn parse(text: &str) -> Option<Scenario> {
    match Scenario::parse("fuzz.ron", text) {
        Ok(scenario) => Some(scenario),
        Err(e) => {
            check_error(text, &e);
            None
        }
    }
}

/// Every diagnostic of `e` lies inside `text`, on character boundaries, at
/// a line and column from 1; and the error renders.
pub fn check_error(text: &str, e: &ScenarioError) {
    if let Some(wrong) = eosim::fuzzing::misplaced(text, e) {
        panic!("{wrong}");
    }
    let _ = eosim::fuzzing::render_error(e);
}

/// The most messages, events and simulated time a fuzzed run gets.
pub const MESSAGES_MAX: u32 = 8;
/// See [`MESSAGES_MAX`].
pub const EVENTS_MAX: u64 = 20_000;
/// See [`MESSAGES_MAX`].
pub const TIME_MS_MAX: u64 = 20_000;

/// `scenario` with its workload and bounds clamped so that a run takes
/// milliseconds; `None` if the clamped spec is not valid (a fault
/// schedule naming a consumer that is no longer there).
pub fn clamped(scenario: &Scenario) -> Option<Scenario> {
    let mut spec = scenario.spec().clone();
    let w = &mut spec.workload;
    w.producers = w.producers.min(2);
    w.messages = w.messages.min(MESSAGES_MAX);
    w.partitions = w.partitions.min(2);
    w.interval_us = w.interval_us.min(100_000);
    let l = &mut spec.limits;
    l.events_max = l.events_max.min(EVENTS_MAX);
    l.time_ms_max = l.time_ms_max.min(TIME_MS_MAX);
    l.drain_ms_max = l.drain_ms_max.min(TIME_MS_MAX);
    Scenario::from_spec("fuzz.ron", spec).ok()
}

/// `data` cut at each [`SEPARATOR`], at most `n` parts (the last keeps
/// any further separators).
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < n {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

/// A scratch folder of this process, emptied: in memory where the system
/// has a `/dev/shm`.
pub fn scratch(name: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("eosim-fuzz-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder can be made");
    dir
}
