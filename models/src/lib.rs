//! The delivery domain of eosim: message vocabulary, the run's history, the
//! roles as actors, the protocols, the checkers and the law probe, scenario
//! files, and the harness that runs them.
//!
//! # Module map, by layer
//! A module imports only from its own layer or the ones before it (a test,
//! `tests/it/layers.rs`, reads the imports and holds this true).
//! 1. [`vocab`]: message keys, send outcomes, id sets, check ids
//!    ([`vocab::CheckId`]), fault classes, transaction tags; [`numbers`]:
//!    numbers and sizes as people read them.
//! 2. [`history`]: observations ([`history::Obs`]) and the per-message
//!    [`history::Ledger`].
//! 3. [`roles`] and [`protocols`]: producer, broker, consumer and recovery
//!    worker as one [`roles::Node`] actor type, with the law probe the
//!    consumer runs before each record; and the protocols, each one unit
//!    implementing [`protocols::Protocol`] in its own file (M0-naive,
//!    M0-atomic, M1, M2, M2-set, M3, M3-memory, M4, M4-external, M5, M6,
//!    M7 and its four variants, M8, M8-alo, M9, M9-rev, M10, M10-plain,
//!    M11, M12, M12-lease), gathered in a [`protocols::Registry`].
//! 4. [`check`]: one [`check::Checker`] unit per check, C1–C16 (C9 and C10
//!    on transactions; C14 and C15 from the law probe's reports).
//! 5. [`scenario`]: RON files → validated [`scenario::Scenario`].
//! 6. The harness: [`run`] (a scenario at a seed, judged), [`record`]
//!    (re-run with trace, history and actor states, for reports),
//!    [`sweep`] (seed sets, per-seed results, an order-independent
//!    summary), [`shrink`] (a failing run → a seedless minimal scenario),
//!    [`explore`] (every execution within bounds, checked) and [`matrix`]
//!    (every model against every fault class).
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

pub use vocab::{command, set_command};

pub mod check;
pub mod explore;
pub mod history;
pub mod matrix;
pub mod numbers;
pub mod protocols;
pub mod record;
pub mod roles;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod sweep;
pub mod vocab;
