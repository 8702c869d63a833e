//! Integration tests of the reports crate: golden explanations of the
//! bundled breaking scenarios, and the pictures and page parsed with real
//! XML and HTML parsers.

// Tests unwrap freely: a failure should stop the test with its message.
#![allow(clippy::unwrap_used)]

mod golden;
mod pictures;

use models::record::{self, Recording};
use models::scenario::Scenario;

/// The workspace root.
fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Load a scenario by its path from the workspace root and record it at
/// its own seed.
fn recorded(rel: &str) -> (Scenario, Recording) {
    let path = root().join(rel);
    let scenario = Scenario::load(&path.to_string_lossy()).unwrap();
    let rec = record::record(&scenario, scenario.seed());
    (scenario, rec)
}

/// A scenario from inline RON, recorded at `seed`.
fn inline(text: &str, seed: u64) -> (Scenario, Recording) {
    let scenario = Scenario::parse("inline.ron", text).unwrap();
    let rec = record::record(&scenario, seed);
    (scenario, rec)
}
