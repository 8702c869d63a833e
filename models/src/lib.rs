//! The delivery domain of eosim: message vocabulary, the run's history, the
//! roles as actors, protocol models, checkers, the law probe, and scenario
//! files.
//!
//! # Module map
//! - [`vocab`]: message keys, send outcomes, id sets.
//! - [`history`]: observations ([`history::Obs`]) and the per-message
//!   [`history::Ledger`].
//! - [`roles`]: producer, broker, consumer and recovery worker as one
//!   [`roles::Node`] actor type.
//! - [`protocols`]: one file per model (M0 naive and atomic, M1, M2, M3, M4,
//!   M5, M6, M9, M10, M11, M12), each opening with its guarantee, breakers and
//!   anchor.
//! - [`check`]: C1–C8, C11–C13 and C16 on the ledger; C14 and C15 from the
//!   law probe.
//! - [`scenario`]: RON files → validated [`scenario::Scenario`].
//! - [`run`]: run a scenario at a seed and judge it.
//! - [`shrink`]: a failing run → a seedless minimal scenario.
//! - [`matrix`]: every model against every fault class, from runs.
//! - [`record`]: re-run with the trace, history and per-step actor states
//!   recorded, for reports.
//! - [`sweep`]: seed sets, per-seed results and an order-independent summary.
//!
//! # Example
//! ```
//! use models::{run, scenario::Scenario};
//!
//! let text = r#"Scenario(name: "doc", model: M0Naive, expect: Violates([C15]))"#;
//! let scenario = Scenario::parse("doc.ron", text).unwrap();
//! let report = run::run(&scenario, 0, false);
//! assert_eq!(report.verdict, run::Verdict::Pass);
//! ```
//!
//! # Determinism contract
//! Models add no randomness of their own: every decision is the engine's,
//! drawn from its choice source. State that is iterated is a `Vec` by index or
//! a `BTreeMap`, never a hash container, so the history of a run, the ledger
//! and every checker's output depend only on the scenario and the seed.

pub mod check;
pub mod history;
pub mod matrix;
pub mod protocols;
pub mod record;
pub mod roles;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod sweep;
pub mod vocab;
