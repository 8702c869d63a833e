//! eosim as a library: the whole `eosim` command line as one function,
//! [`main_with`], for a crate that adds protocols of its own, and the
//! libraries it is built on, re-exported.
//!
//! - [`sim_core`]: the deterministic engine (time, choice source, actors,
//!   network, faults, trace).
//! - [`models`]: the delivery domain: the [`Protocol`](models::protocols::Protocol)
//!   trait and the [`Registry`] of protocols, roles, checkers, the law
//!   probe, scenario files, and the harness ([`models::run`],
//!   [`models::sweep`], [`models::shrink`], [`models::record`]).
//! - [`reports`]: renders a finished run (text, JSON Lines, SVG, HTML).
//! - [`runfolder`]: writes a run folder, as `eosim run` does for a failure.
//!
//! A crate with its own protocol gets `my-eosim run`, `sweep`, `shrink`,
//! `replay`, `report` and the rest with:
//!
//! ```no_run
//! use eosim::models::protocols::Registry;
//!
//! fn main() -> std::process::ExitCode {
//!     // Registry::builtin().with(&my_protocol::UNIT) adds a protocol.
//!     eosim::main_with(Registry::builtin())
//! }
//! ```
//!
//! Each command is a thin module; the logic lives in the libraries.

// The command line prints to the terminal and may use what the libraries
// may not.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

/// `eprintln!` that never panics: a closed or full stderr drops the line
/// (the exit code still says how the command ended).
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod check_cmd;
mod completions_cmd;
mod diagnostics;
mod diff_cmd;
mod explore_cmd;
mod list_models_cmd;
mod matrix_cmd;
mod new_cmd;
mod regressions;
mod replay_cmd;
mod report_cmd;
mod run_cmd;
pub mod runfolder;
mod shard;
mod shrink_cmd;
mod sweep_cmd;
mod sweepfolder;
mod vouch;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use models::protocols::Registry;

pub use models;
pub use reports;
pub use sim_core;

/// Exit codes, as in the design: one table for `--help` and the docs.
const EXIT_CODES: &str = "\
Exit codes:
  0  every result as expected (expected violations count as matches)
  1  unexpected violation: a claimed guarantee was broken
  2  usage error
  3  inconclusive: an expected violation did not occur, or a bound was hit
  4  invalid scenario (parse or validation error)
  5  non-determinism: a replay or --check-determinism found a run that differs
  130  a sweep stopped by Ctrl-C (what finished is summarised)";

/// A deterministic simulator of message delivery: is your protocol really
/// exactly-once?
#[derive(Parser, Debug)]
#[command(name = "eosim", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The most memory one run may take, e.g. 8G or 512M: a scenario that
    /// may need more is refused, a run that outgrows it stops as
    /// inconclusive, and a report that would need more is not drawn.
    #[arg(
        long,
        global = true,
        env = "EOSIM_MEMORY_BUDGET",
        value_name = "SIZE",
        default_value = "8G",
        value_parser = models::scenario::memory::parse_size
    )]
    memory_budget: u64,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people, 80 columns.
    Human,
    /// JSON Lines, `schema: 1`.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario file, or every scenario in a folder, and check it.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// A `.ron` scenario file, or a folder of them (searched recursively).
        path: String,
        /// The seed, decimal or `0x…` hex (default: the scenario's own
        /// `seed`, or 0).
        #[arg(long, env = "EOSIM_SEED", value_parser = parse_seed)]
        seed: Option<u64>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Run each scenario twice and compare the runs event by event
        /// (exit 5 and the first diverging event if they differ).
        #[arg(long)]
        check_determinism: bool,
        /// Where a run with an unexpected violation writes its run folder.
        #[arg(long, default_value = "runs")]
        out: String,
        /// Write no run folder.
        #[arg(long, conflicts_with = "report")]
        no_report: bool,
        /// Do not shrink an unexpected violation to `min/scenario.ron`.
        #[arg(long)]
        no_shrink: bool,
        /// Write a run folder (with index.html and diagrams) even when the
        /// run is as expected; by default only unexpected violations do.
        #[arg(long)]
        report: bool,
    },
    /// Re-render the report of a run folder
    ///
    /// The saved scenario and seed are run again and checked against the
    /// saved digest.
    #[command(after_help = EXIT_CODES)]
    Report {
        /// A run folder (`runs/<scenario>/<time>-s<seed>`, or `runs/latest`).
        dir: String,
        /// Print one artifact to stdout instead of rewriting the folder:
        /// html (index.html), md (README.md), svg (space-time), mermaid,
        /// dot, json (events.jsonl).
        #[arg(long, value_enum)]
        format: Option<report_cmd::ReportFormat>,
        /// Colours, or greys only.
        #[arg(long, value_enum, default_value_t = report_cmd::ThemeArg::Color)]
        theme: report_cmd::ThemeArg,
        /// Draw the space-time picture, the timeline and the page for the
        /// simulated milliseconds `A..B` only (default: around the first
        /// violation).
        #[arg(long, value_parser = report_cmd::parse_window)]
        window: Option<(u64, u64)>,
        /// Open index.html in the desktop's browser afterwards.
        #[arg(long)]
        open: bool,
    },
    /// Show where two runs differ, aligned by message; or a run beside its fix
    ///
    /// `eosim diff A B` compares two run folders: the first message whose
    /// outcome differs, its steps in both runs aligned. `eosim diff --fix
    /// SCENARIO` runs the scenario and the same scenario under the
    /// catalogue's remedy for its model (M3 → M4, M0-naive → M0-atomic,
    /// M7-unfenced → M7, M12-lease → M12, …), leaves both run folders and
    /// shows them aligned; it exits 0 when the fix holds what it claims.
    #[command(after_help = EXIT_CODES)]
    Diff {
        /// The first run folder; with --fix, the scenario file.
        a: String,
        /// The second run folder.
        #[arg(required_unless_present = "fix", conflicts_with = "fix")]
        b: Option<String>,
        /// Run the scenario A and the same scenario under its model's remedy.
        #[arg(long)]
        fix: bool,
        /// With --fix: the seed (default: the scenario's own).
        #[arg(long, requires = "fix", value_parser = parse_seed)]
        seed: Option<u64>,
        /// With --fix: where the two run folders go.
        #[arg(long, requires = "fix", default_value = "runs")]
        out: String,
        /// Also write a page with the aligned steps and both runs' pictures.
        #[arg(long, value_name = "FILE")]
        html: Option<String>,
    },
    /// Write a commented scenario to start from
    ///
    /// A model under some fault classes, its `expect` filled in from a run
    /// at seed 0.
    #[command(after_help = EXIT_CODES)]
    New {
        /// The scenario's name (`my-test` writes `my-test.ron`), or a path
        /// ending in `.ron`.
        name: String,
        /// The model, e.g. `M2` or `M0-naive` (see `eosim list-models`).
        #[arg(long, required_unless_present = "steps", conflicts_with = "steps")]
        model: Option<String>,
        /// Write the handler as steps instead (the seeds' naive handler,
        /// commented, to change one step at a time).
        #[arg(long)]
        steps: bool,
        /// Fault classes, comma-separated: loss, dup, reorder, crash,
        /// partition, pause, clock (none: a fault-free run).
        #[arg(long, default_value = "")]
        faults: String,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Shrink a failing run to a seedless min/scenario.ron
    ///
    /// The minimal scenario has an explicit fault schedule and no
    /// randomness: any seed gives the same run.
    #[command(after_help = EXIT_CODES)]
    Shrink {
        /// A run folder, or a scenario file (then `--seed` picks the run and
        /// a run folder is written first).
        target: String,
        /// The seed, for a scenario file (default: its own `seed`).
        #[arg(long, value_parser = parse_seed)]
        seed: Option<u64>,
        /// The check that must keep failing, e.g. `C3` (default: the first
        /// unexpected violation, else the first violation).
        #[arg(long, value_parser = parse_check)]
        check: Option<models::check::CheckId>,
        /// Stop searching after this many seconds and keep the smallest so
        /// far.
        #[arg(long, default_value_t = 60)]
        budget: u64,
        /// Where a scenario file's run folder goes.
        #[arg(long, default_value = "runs")]
        out: String,
    },
    /// Re-run a run folder (or scenario and seed): is it the same run?
    ///
    /// Every file of a run folder is compared with what the run gives, or
    /// named as not vouched for. A difference names the file and the field,
    /// expected and found, and exits 5.
    #[command(after_help = EXIT_CODES)]
    Replay {
        /// A run folder (`runs/<scenario>/<time>-s<seed>`), or a scenario
        /// file (then `--seed` picks the run).
        target: String,
        /// The seed, for a scenario file (default: its own `seed`).
        #[arg(long, value_parser = parse_seed)]
        seed: Option<u64>,
        /// The digest the run must have (as printed by `run`), for a
        /// scenario file.
        #[arg(long)]
        digest: Option<String>,
    },
    /// Run many seeds of a scenario in parallel and summarise them.
    #[command(after_help = EXIT_CODES)]
    Sweep {
        /// A `.ron` scenario file.
        path: String,
        /// Seeds: `A..B` (end exclusive), `1,5,9`, or `random:K`.
        #[arg(long, default_value = "0..1000", value_parser = models::sweep::SeedSpec::parse)]
        seeds: models::sweep::SeedSpec,
        /// Worker threads (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Stop starting new seeds after the first unexpected violation.
        #[arg(long)]
        stop_on_first: bool,
        /// Output format (JSON: one `seed_result` per seed, then `sweep_end`).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Progress on stderr.
        #[arg(long, value_enum, default_value_t = sweep_cmd::Progress::Auto)]
        progress: sweep_cmd::Progress,
        /// Run only the seeds ≡ i (mod n) and write a shard result file;
        /// `env` reads i and n from Kubernetes or Slurm variables.
        #[arg(long, value_parser = shard::ShardArg::parse)]
        shard: Option<shard::ShardArg>,
        /// Where the sweep folder (or a shard's result file) goes.
        #[arg(long, default_value = "runs")]
        out: String,
        /// Failure folders to keep per unexpected cluster (at most 8).
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=8))]
        keep: u64,
    },
    /// Check every execution of a small scenario within bounds
    ///
    /// Every order of events the links' delays and the timers allow,
    /// every loss, duplicate and crash within the fault bounds, breadth-
    /// first: the first counterexample found is a shortest one. Each is
    /// written as a seedless scenario that `run` fails the same way. Exit 3
    /// when a bound cut the search before it covered everything.
    #[command(after_help = EXIT_CODES)]
    Explore {
        /// A `.ron` scenario file.
        path: String,
        /// Crash points that may fire per execution [default: the
        /// scenario's `explore` section, else 1]
        #[arg(long)]
        crashes: Option<u32>,
        /// Datagrams that may be lost per execution [default: the
        /// scenario's `explore` section, else 2]
        #[arg(long)]
        drops: Option<u32>,
        /// Datagrams that may be duplicated per execution [default: the
        /// scenario's `explore` section, else 1]
        #[arg(long)]
        duplicates: Option<u32>,
        /// Events per execution (default: as the scenario's limits allow).
        #[arg(long)]
        depth: Option<u32>,
        /// Distinct states to store at most.
        #[arg(long, default_value_t = 10_000_000)]
        states: u64,
        /// Messages per producer, instead of the scenario's `explore`
        /// section's or workload's (exploring grows fast with them: start
        /// with 1 or 2).
        #[arg(long)]
        messages: Option<u32>,
        /// Let any waiting event come next, as a model checker without a
        /// clock does (counterexamples are not written: the scenario's
        /// timing may forbid them).
        #[arg(long)]
        untimed: bool,
        /// Copies of one datagram waiting at once: a state with more is
        /// outside the bounds (untimed, periodic timers can fill the
        /// network without end).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        copies: Option<u32>,
        /// Depth-first: less memory, but counterexamples need not be
        /// shortest.
        #[arg(long)]
        dfs: bool,
        /// Threads expanding states, breadth-first (the result does not
        /// depend on it; depth-first uses one).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
        threads: u16,
        /// Output format (JSON: a `counterexample` line per check broken,
        /// then `explore_end`).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Progress on stderr.
        #[arg(long, value_enum, default_value_t = sweep_cmd::Progress::Auto)]
        progress: sweep_cmd::Progress,
        /// Where counterexamples' run folders go.
        #[arg(long, default_value = "runs")]
        out: String,
        /// Write no run folder.
        #[arg(long)]
        no_report: bool,
    },
    /// Join the result files of a sharded sweep into one summary.
    #[command(after_help = EXIT_CODES)]
    Merge {
        /// The shard result files (`runs/<scenario>/shard-<i>-of-<n>.json`).
        #[arg(required = true)]
        files: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the protocol catalogue
    ///
    /// Mechanism, guarantee, the checks each model claims, the faults it
    /// survives, its breakers and its anchor.
    #[command(alias = "models", after_help = EXIT_CODES)]
    ListModels {
        /// Only this model (`M4`, `M0-naive`, or its scenario name `M0Naive`).
        #[arg(long)]
        model: Option<String>,
        /// Output format (JSON: one `model` line per model).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Run every model against every fault class: the semantics matrix
    ///
    /// Each cell lists the checks that broke. Exit 1 if a model broke a
    /// check it claims under a fault class it claims to survive. Scenario
    /// files with step programs add a row each.
    #[command(after_help = EXIT_CODES)]
    Matrix {
        /// Scenario files whose step programs get a row each, below the
        /// catalogue (a step program claims to survive every fault class).
        steps: Vec<String>,
        /// Seeds per cell (0..N).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        seeds: u64,
        /// Worker threads (default: every core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = matrix_cmd::MatrixFormat::Human)]
        format: matrix_cmd::MatrixFormat,
    },
    /// Validate a scenario file (or folder) and print its resolved plan.
    #[command(alias = "validate", after_help = EXIT_CODES)]
    Check {
        /// A `.ron` scenario file, or a folder of them.
        path: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print a shell completion script to stdout.
    #[command(after_help = completions_cmd::COMPLETIONS_HELP)]
    Completions(completions_cmd::CompletionsArgs),
    /// Print the man page to stdout, or write one page per command.
    #[command(after_help = completions_cmd::MAN_HELP)]
    Man(completions_cmd::ManArgs),
}

/// The command line's inner steps, without printing, for the fuzz targets
/// (`fuzz/`) and the property tests: not a stable interface.
#[doc(hidden)]
pub mod fuzzing {
    use models::scenario::ScenarioError;
    use models::sweep::Summary;

    /// Every text `eosim check` prints for `err`, graphical and JSON.
    pub fn render_error(err: &ScenarioError) -> Vec<String> {
        let mut texts = crate::diagnostics::rendered(err, crate::Format::Human);
        texts.extend(crate::diagnostics::rendered(err, crate::Format::Json));
        texts
    }

    /// The first way `err` fails to point into `text`, if any: an invalid
    /// scenario must name a problem, and each diagnostic must lie inside
    /// the text, start on a character boundary and have a line and column
    /// from 1. (Errors of other kinds carry no location.)
    pub fn misplaced(text: &str, err: &ScenarioError) -> Option<String> {
        let ScenarioError::Invalid { diagnostics, .. } = err else {
            return None;
        };
        if diagnostics.is_empty() {
            return Some("an invalid scenario names no problem".into());
        }
        diagnostics.iter().find_map(|d| {
            let inside = d
                .offset
                .checked_add(d.len)
                .is_some_and(|end| end <= text.len());
            if !inside {
                Some(format!("{d:?} lies outside a text of {} bytes", text.len()))
            } else if !text.is_char_boundary(d.offset) {
                Some(format!("{d:?} cuts a character"))
            } else if d.line == 0 || d.column == 0 {
                Some(format!("{d:?} has no line or column"))
            } else {
                None
            }
        })
    }

    /// `eosim merge` up to its summary: read the shard result `files`,
    /// check that they are the complete set of one sweep, and join them.
    ///
    /// # Errors
    /// What `eosim merge` prints before it exits 2.
    pub fn merge(files: &[String]) -> Result<Summary, String> {
        crate::shard::read_shards(files).map(|(_, summary)| summary)
    }

    /// `eosim replay <dir>`; returns its exit code.
    pub fn replay(dir: &str) -> u8 {
        crate::replay_cmd::replay(dir, None, None)
    }
}

/// The `eosim` command line over the built-in catalogue.
#[must_use]
pub fn main() -> ExitCode {
    main_with(Registry::builtin())
}

/// The `eosim` command line over the protocols of `registry`: parse the
/// process's arguments and run the command they name, with every scenario
/// read against `registry`. The returned code follows the design's exit
/// codes (2 if a registry was already installed in this process).
#[must_use]
pub fn main_with(registry: Registry) -> ExitCode {
    if registry.install().is_err() {
        errln!("error: a protocol registry is already installed in this process");
        return ExitCode::from(2);
    }
    if let Some(name) = program_name() {
        reports::set_command(&name);
    }
    let matches = cli_command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    models::scenario::memory::set_budget(cli.memory_budget);
    let code = match cli.command {
        Command::Run {
            path,
            seed,
            format,
            check_determinism,
            out,
            no_report,
            no_shrink,
            report,
        } => {
            let out = (!no_report).then_some(out);
            run_cmd::run(
                &path,
                &run_cmd::RunOptions {
                    seed,
                    format,
                    check_determinism,
                    out,
                    shrink: !no_shrink,
                    report_always: report,
                },
            )
        }
        Command::New {
            name,
            model,
            steps,
            faults,
            force,
        } => new_cmd::new(&new_cmd::NewArgs {
            name,
            model,
            steps,
            faults,
            force,
        }),
        Command::Shrink {
            target,
            seed,
            check,
            budget,
            out,
        } => shrink_cmd::shrink(&shrink_cmd::ShrinkArgs {
            target,
            seed,
            check,
            budget: std::time::Duration::from_secs(budget),
            out,
        }),
        Command::Replay {
            target,
            seed,
            digest,
        } => replay_cmd::replay(&target, seed, digest.as_deref()),
        Command::Report {
            dir,
            format,
            theme,
            window,
            open,
        } => report_cmd::report(
            &dir,
            &report_cmd::Options {
                format,
                theme,
                window,
                open,
            },
        ),
        Command::Diff {
            a,
            b,
            fix,
            seed,
            out,
            html,
        } => match (fix, b) {
            (true, _) => diff_cmd::diff_fix(&a, seed, &out, html.as_deref()),
            (false, Some(b)) => diff_cmd::diff(&a, &b, html.as_deref()),
            (false, None) => 2,
        },
        Command::Check { path, format } => check_cmd::check(&path, format),
        Command::Sweep {
            path,
            seeds,
            jobs,
            stop_on_first,
            format,
            progress,
            shard,
            out,
            keep,
        } => {
            let args = sweep_cmd::SweepArgs {
                file: path,
                seeds,
                shard,
                out,
                jobs,
                stop_on_first,
                format,
                progress,
                keep: usize::try_from(keep).unwrap_or(8),
            };
            sweep_cmd::sweep(&args)
        }
        Command::Explore {
            path,
            crashes,
            drops,
            duplicates,
            depth,
            states,
            messages,
            untimed,
            copies,
            dfs,
            threads,
            format,
            progress,
            out,
            no_report,
        } => explore_cmd::explore(&explore_cmd::ExploreArgs {
            file: path,
            asked: models::scenario::spec::ExploreSpec {
                crashes,
                drops,
                duplicates,
                messages,
            },
            depth,
            states,
            untimed,
            copies,
            dfs,
            threads: usize::from(threads),
            format,
            progress,
            out: (!no_report).then_some(out),
        }),
        Command::Merge { files, format } => shard::merge(&files, format),
        Command::Matrix {
            steps,
            seeds,
            jobs,
            format,
        } => matrix_cmd::matrix(&steps, seeds, jobs, format),
        Command::ListModels { model, format } => {
            list_models_cmd::list_models(model.as_deref(), format)
        }
        Command::Completions(args) => completions_cmd::completions(&args),
        Command::Man(args) => completions_cmd::man(&args),
    };
    ExitCode::from(code)
}

/// The command line, named after the binary that runs it (`kv-eosim
/// --version`, its completions and its man pages name `kv-eosim`).
fn cli_command() -> clap::Command {
    let name = reports::command();
    Cli::command().name(name).bin_name(name)
}

/// The name the process was started by (`kv-eosim` for a binary built with
/// [`main_with`]), for the commands it prints.
fn program_name() -> Option<String> {
    let arg0 = std::env::args_os().next()?;
    let stem = std::path::Path::new(&arg0).file_stem()?;
    Some(stem.to_string_lossy().into_owned())
}

/// A seed in decimal or `0x` hexadecimal.
fn parse_seed(s: &str) -> Result<u64, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| format!("`{s}` is not a seed: expected a decimal or 0x-hex u64"))
}

/// A rayon pool of `jobs` workers (default: every core; at most
/// [`JOBS_PER_CORE`] per core, more only wait on each other), and its
/// size; a pool that cannot start is reported and gives exit code 2.
/// The most workers per core a sweep or matrix starts.
const JOBS_PER_CORE: usize = 4;

fn worker_pool(jobs: Option<usize>) -> Result<(rayon::ThreadPool, usize), u8> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let most = cores.saturating_mul(JOBS_PER_CORE);
    let jobs = jobs.unwrap_or(cores).max(1);
    let jobs = if jobs > most {
        errln!("note: --jobs {jobs} capped to {most} ({JOBS_PER_CORE} per core)");
        most
    } else {
        jobs
    };
    match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => Ok((pool, jobs)),
        Err(e) => {
            errln!("error: cannot start {jobs} worker threads: {e}");
            Err(2)
        }
    }
}

/// A check by code (`C3`) or name (`no-duplicate-effect`), or a property
/// of a registered protocol by its name.
fn parse_check(s: &str) -> Result<models::check::CheckId, String> {
    let all = models::check::CheckId::ALL;
    let builtin = all
        .into_iter()
        .find(|c| c.code().eq_ignore_ascii_case(s) || c.name() == s);
    let property = || {
        let p = models::protocols::registry().property(s)?;
        Some(models::check::CheckId::Property(p.name))
    };
    builtin.or_else(property).ok_or_else(|| {
        let codes: Vec<&str> = all.iter().map(|c| c.code()).collect();
        format!(
            "`{s}` is not a check; expected one of {}, or a protocol's property",
            codes.join(", ")
        )
    })
}

/// Write to stdout; when the reader has gone (`eosim … | head`), drop
/// this and later output quietly instead of panicking (see
/// [`STDOUT_CLOSED`]).
fn out(text: impl std::fmt::Display) {
    use std::io::Write as _;
    use std::sync::atomic::Ordering::Relaxed;
    if STDOUT_CLOSED.load(Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let written = write!(stdout, "{text}").and_then(|()| stdout.flush());
    if written.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
        STDOUT_CLOSED.store(true, Relaxed);
    }
}

/// Set when the reader of stdout went away (`eosim sweep … | head -1`):
/// later output is dropped, and the command still finishes its files and
/// exits with the code its outcome gives.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// [`out`] and a newline.
fn outln(text: impl std::fmt::Display) {
    out(format_args!("{text}\n"));
}

/// The `.ron` files under `path` (sorted), or `path` itself if it is a file.
///
/// # Errors
/// A readable message if the folder cannot be listed.
fn scenario_files(path: &str) -> Result<Vec<String>, String> {
    let p = std::path::Path::new(path);
    if !p.is_dir() {
        return Ok(vec![path.to_string()]);
    }
    let mut files = Vec::new();
    collect_ron(p, &mut files).map_err(|e| format!("cannot list {path}: {e}"))?;
    files.sort();
    Ok(files)
}

fn collect_ron(dir: &std::path::Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_ron(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "ron") {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Exit-code severity when several scenarios run: an unexpected violation
/// outranks an invalid file, which outranks an inconclusive run.
fn worst(a: u8, b: u8) -> u8 {
    let rank = |c: u8| match c {
        5 => 5,
        1 => 4,
        4 => 3,
        3 => 2,
        0 => 0,
        _ => 1,
    };
    if rank(b) > rank(a) { b } else { a }
}
