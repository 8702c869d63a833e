//! Renders finished eosim runs for people and machines.
//!
//! # Module map
//! - [`text`]: the terminal report of one run (header, stats, checks,
//!   violations with what happened, digest and the reproduce command), and
//!   the one-line summary used when a folder of scenarios runs.
//! - [`jsonl`]: JSON Lines (`schema: 1`): `run_start`, `violation`, `run_end`.
//! - [`events`]: the run as one ordered list of events (`events.jsonl`), the
//!   input of every picture.
//! - [`causality`]: the happens-before graph of the events (petgraph):
//!   program order, send → delivery, handler → what it did.
//! - [`explain`]: the causal story of each violation (`explain.txt`), read
//!   from that graph, with a [`minidiagram`] of it for the terminal.
//! - [`svg`]: the ledger, space-time and timeline pictures.
//! - [`html`]: the single-file interactive report (`index.html`).
//! - [`mermaid`], [`dot`], [`stats`]: the sequence diagram, the topology
//!   and the counters.
//! - [`bundle`]: every artifact of a recorded run, by file name.
//!
//! Reports read a [`models::run::RunReport`] (or, for the teaching report,
//! a [`models::record::Recording`] with actor states described in words)
//! and the [`models::scenario::Scenario`] it ran; they never run a
//! simulation and never reach into a model's internals.
//!
//! # Example
//! ```
//! use models::{run, scenario::Scenario};
//!
//! let scenario = Scenario::parse("doc.ron", r#"Scenario(name: "doc", model: M4, expect: Pass)"#).unwrap();
//! let report = run::run(&scenario, 0, false);
//! let text = reports::text::render(&scenario, &report, "doc.ron");
//! assert!(text.contains("PASS"));
//!
//! // The teaching report: every file of a run folder, by name.
//! let rec = models::record::record(&scenario, 0);
//! let files = reports::bundle::files(&scenario, &rec, "doc.ron", reports::svg::Theme::Color).unwrap();
//! assert!(files.iter().any(|(name, _)| *name == "diagrams/spacetime.svg"));
//! ```
//!
//! # Determinism contract
//! Rendering is a pure function of the scenario and the report: no clock, no
//! hash-container iteration, so the same run always renders to the same bytes.

pub mod bundle;
pub mod causality;
pub mod dot;
pub mod events;
pub mod explain;
pub mod html;
pub mod jsonl;
pub mod mermaid;
pub mod minidiagram;
pub mod stats;
pub mod svg;
pub mod sweep_page;
pub mod text;

/// The version printed in headers and reproduce keys.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use models::{command, set_command};

/// The command that reproduces a run exactly, ready to paste into a shell.
pub fn repro_command(file: &str, seed: u64) -> String {
    format!("{} run {} --seed {seed}", command(), shell_word(file))
}

/// `word` quoted for a POSIX shell if it needs to be.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./+:@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduce_commands_quote_paths_that_need_it() {
        assert_eq!(
            repro_command("scenarios/a.ron", 7),
            "eosim run scenarios/a.ron --seed 7"
        );
        assert_eq!(
            repro_command("my lessons/it's.ron", 1),
            r"eosim run 'my lessons/it'\''s.ron' --seed 1"
        );
    }
}
