//! Renders finished eosim runs for people and machines.
//!
//! # Module map
//! - [`text`]: the terminal report of one run (header, stats, checks,
//!   violations with what happened, digest and the reproduce command), and
//!   the one-line summary used when a folder of scenarios runs.
//! - [`jsonl`]: JSON Lines (`schema: 1`): `run_start`, `violation`, `run_end`.
//!
//! Reports read a [`models::run::RunReport`] and the
//! [`models::scenario::Scenario`] it ran; they never reach into a model's
//! internals.
//!
//! # Example
//! ```
//! use models::{run, scenario::Scenario};
//!
//! let scenario = Scenario::parse("doc.ron", r#"Scenario(name: "doc", model: M4, expect: Pass)"#).unwrap();
//! let report = run::run(&scenario, 0, false);
//! let text = reports::text::render(&scenario, &report, "doc.ron");
//! assert!(text.contains("PASS"));
//! ```
//!
//! # Determinism contract
//! Rendering is a pure function of the scenario and the report: no clock, no
//! hash-container iteration, so the same run always renders to the same bytes.

pub mod jsonl;
pub mod text;

/// The version printed in headers and reproduce keys.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The command that reproduces a run exactly.
pub fn repro_command(file: &str, seed: u64) -> String {
    format!("eosim run {file} --seed {seed}")
}
