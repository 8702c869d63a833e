//! `eosim shrink <run-dir | scenario>`: shrink a failing run to a seedless
//! `min/scenario.ron` in its run folder. `run` calls [`shrink_into`] itself
//! when it finds an unexpected violation.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use models::check::CheckId;
use models::scenario::Scenario;
use models::shrink::{self, ShrinkError, Shrunk};

use crate::runfolder::{SCENARIO, VERDICT};
use crate::{Format, diagnostics};

/// The minimal scenario's place in a run folder.
pub const MIN: &str = "min/scenario.ron";

/// What `eosim shrink` was given.
pub struct ShrinkArgs {
    /// A run folder or a scenario file.
    pub target: String,
    /// The seed (scenario files only; default: the scenario's own).
    pub seed: Option<u64>,
    /// The check to keep failing (default: the first unexpected violation).
    pub check: Option<CheckId>,
    /// Wall-clock budget for the search.
    pub budget: Duration,
    /// Where a scenario file's run folder goes.
    pub out: String,
}

/// Shrink and print; returns the exit code (0 shrunk, 2 nothing to shrink
/// or no such target, 4 invalid scenario or folder, 5 not reproduced).
pub fn shrink(args: &ShrinkArgs) -> u8 {
    let (scenario, seed, source, dir) = match resolve(args) {
        Ok(found) => found,
        Err(code) => return code,
    };
    match shrink_into(&scenario, seed, &source, &dir, args.check, args.budget) {
        Ok((shrunk, min)) => {
            crate::out(describe(&source, seed, &shrunk, &min));
            0
        }
        Err(Failure::Shrink(e)) => {
            errln!("error: {source} at seed {seed}: {e}");
            match e {
                ShrinkError::NothingToShrink { .. } => 2,
                ShrinkError::NotReproduced(_) => 5,
                // A bound was hit: inconclusive, as for a run.
                ShrinkError::TooManyFaults(_) => 3,
            }
        }
        Err(Failure::Write(msg)) => {
            errln!("error: {msg}");
            2
        }
    }
}

/// The scenario, seed, source name and run folder to shrink into.
fn resolve(args: &ShrinkArgs) -> Result<(Scenario, u64, String, PathBuf), u8> {
    let target = Path::new(&args.target);
    if target.is_dir() {
        if args.seed.is_some() {
            errln!("error: --seed is for a scenario file; a run folder has its own seed");
            return Err(2);
        }
        return from_run_folder(target);
    }
    let scenario = Scenario::load(&args.target).map_err(|e| {
        diagnostics::report(&e, Format::Human);
        diagnostics::exit_code(&e)
    })?;
    let seed = args.seed.unwrap_or(scenario.seed());
    let report = models::run::run(&scenario, seed, false);
    if report.violations().next().is_none() {
        let e = ShrinkError::NothingToShrink { check: None };
        errln!("error: {} at seed {seed}: {e}", args.target);
        return Err(2);
    }
    let recording = crate::runfolder::record(&scenario, seed).map_err(|too_large| {
        errln!(
            "error: no run folder for {} at seed {seed}: {too_large}",
            args.target
        );
        2
    })?;
    let dir =
        crate::runfolder::write(&args.out, &scenario, &recording, &args.target).map_err(|m| {
            errln!("error: {m}");
            2
        })?;
    Ok((scenario, seed, args.target.clone(), dir))
}

fn from_run_folder(dir: &Path) -> Result<(Scenario, u64, String, PathBuf), u8> {
    let verdict_file = dir.join(VERDICT);
    let verdict: serde_json::Value = std::fs::read_to_string(&verdict_file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| {
            errln!("error: {} is missing or not JSON", verdict_file.display());
            4
        })?;
    let Some(seed) = verdict["seed"].as_u64() else {
        errln!("error: {} has no seed", verdict_file.display());
        return Err(4);
    };
    let file = dir.join(SCENARIO).to_string_lossy().into_owned();
    let scenario = Scenario::load(&file).map_err(|e| {
        diagnostics::report(&e, Format::Human);
        4
    })?;
    let source = verdict["file"].as_str().map_or(file, str::to_string);
    Ok((scenario, seed, source, dir.to_path_buf()))
}

/// Why shrinking into a folder failed.
pub enum Failure {
    /// The search could not start.
    Shrink(ShrinkError),
    /// The result could not be written.
    Write(String),
}

/// Shrink the run of `scenario` at `seed` within `budget` and write
/// `dir/min/scenario.ron` (through a temporary file); returns the result
/// and the file's path.
///
/// # Errors
/// [`Failure`] if there is nothing to shrink or the file cannot be written.
pub fn shrink_into(
    scenario: &Scenario,
    seed: u64,
    source: &str,
    dir: &Path,
    check: Option<CheckId>,
    budget: Duration,
) -> Result<(Shrunk, PathBuf), Failure> {
    let start = Instant::now();
    let shrunk = shrink::shrink(scenario, seed, check, &mut || start.elapsed() < budget)
        .map_err(Failure::Shrink)?;
    let text = shrink::min_file(&shrunk, source, seed, reports::VERSION);
    let path = dir.join(MIN);
    let tmp = path.with_extension("ron.partial");
    let parent = path.parent().expect("min/ has a parent");
    std::fs::create_dir_all(parent)
        .and_then(|()| std::fs::write(&tmp, text))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| Failure::Write(format!("cannot write {}: {e}", path.display())))?;
    if dir.join(reports::bundle::INDEX).is_file() {
        redraw_with_min(scenario, seed, source, dir, &shrunk).map_err(Failure::Write)?;
    }
    Ok((shrunk, path))
}

/// Redraw a run folder's report so that its counterexample pictures show
/// the shrunk run.
fn redraw_with_min(
    scenario: &Scenario,
    seed: u64,
    source: &str,
    dir: &Path,
    shrunk: &Shrunk,
) -> Result<(), String> {
    let min = Scenario::from_spec(MIN, shrunk.spec.clone()).map_err(|e| e.to_string())?;
    let recording = crate::runfolder::record(scenario, seed).map_err(|e| e.to_string())?;
    let min_recording = crate::runfolder::record(&min, 0).map_err(|e| e.to_string())?;
    let theme = reports::svg::Theme::Color;
    let shrunk_run = Some((&min, &min_recording));
    let files =
        reports::bundle::files_shrunk(scenario, &recording, source, theme, None, shrunk_run)
            .map_err(|e| e.to_string())?;
    crate::runfolder::write_files(dir, files)
}

/// What `eosim shrink` prints: the check, the sizes before and after, the
/// schedule left, and how to run it.
pub fn describe(source: &str, seed: u64, shrunk: &Shrunk, min: &Path) -> String {
    let (b, a) = (shrunk.before, shrunk.after);
    let size = |s: shrink::Size| {
        format!(
            "{:>10} · {} · {} · {}",
            counted(s.events, "event"),
            counted(s.faults as u64, "fault"),
            counted(s.delays as u64, "delay"),
            counted(s.messages, "message")
        )
    };
    let mut out = format!(
        "SHRUNK {source} seed {seed}: {} still fails\n  before   {}\n  after    {}   ({} runs{})\n",
        shrunk.check.heading(),
        size(b),
        size(a),
        shrunk.attempts,
        if shrunk.complete {
            ""
        } else {
            ", budget spent"
        },
    );
    let schedule = schedule_parts(shrunk);
    let schedule = if schedule.is_empty() {
        "no faults: it fails on every run".to_string()
    } else {
        reports::text::join_wrapped(&schedule, " · ", "           ")
    };
    out.push_str(&format!("  faults   {schedule}\n"));
    out.push_str(&format!("  min      {}\n", min.display()));
    let command = reports::command();
    out.push_str(&format!("  run it   {command} run {}\n", min.display()));
    out
}

/// One phrase per scheduled fault of the minimal scenario.
fn schedule_parts(shrunk: &Shrunk) -> Vec<String> {
    let scenario =
        Scenario::from_spec(MIN, shrunk.spec.clone()).expect("every accepted candidate validated");
    reports::text::fault_parts(&scenario)
        .into_iter()
        .skip(1)
        .filter(|p| p != "no crashes")
        .collect()
}

/// `1 event`, `2 events`.
pub fn counted(n: u64, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The minimal run in one phrase: `9 events · drop broker->producer-1 #1`.
pub fn one_line(shrunk: &Shrunk) -> String {
    let mut parts = vec![counted(shrunk.after.events, "event")];
    parts.extend(schedule_parts(shrunk));
    if parts.len() == 1 {
        parts.push("no faults".into());
    }
    if !shrunk.complete {
        parts.push(format!("search cut short after {} runs", shrunk.attempts));
    }
    parts.join(" · ")
}

/// The simulated events a sweep may spend shrinking one cluster: a large
/// run gets fewer candidate runs, so that shrinking takes seconds, not
/// hours, after a sweep of long runs.
const CLUSTER_SHRINK_EVENTS: u64 = 20_000_000;

/// The fewest candidate runs a cluster gets, however long its runs.
const CLUSTER_SHRINK_ATTEMPTS_MIN: u32 = 2;

/// The candidate runs for a cluster whose smallest example has `events`
/// events: at most `attempts`, and within [`CLUSTER_SHRINK_EVENTS`].
fn attempts_for(events: u64, attempts: u32) -> u32 {
    let by_work = u32::try_from(CLUSTER_SHRINK_EVENTS / events.max(1)).unwrap_or(u32::MAX);
    attempts.min(by_work.max(CLUSTER_SHRINK_ATTEMPTS_MIN))
}

/// Shrink the smallest example of each unexpected cluster of a sweep for
/// its check, each within `attempts` candidate runs (fewer for long runs,
/// see [`CLUSTER_SHRINK_EVENTS`]) (a count, so that a
/// sweep and the merge of its shards save the same results on any
/// machine): `(check, cause, seed, shrunk)`, in cluster order. Clusters
/// that cannot be shrunk are left out (and reported on stderr).
pub fn shrink_clusters(
    scenario: &Scenario,
    summary: &models::sweep::Summary,
    attempts: u32,
) -> Vec<(CheckId, String, u64, Shrunk)> {
    let mut out = Vec::new();
    for ((check, cause), cluster) in &summary.clusters {
        if cluster.expected || cause == models::sweep::MISSING {
            continue;
        }
        let (events, seed) = cluster.smallest();
        let attempts = attempts_for(events, attempts);
        let mut tried = 0;
        let mut keep_going = || {
            tried += 1;
            tried <= attempts && !crate::sweep_cmd::interrupted()
        };
        match shrink::shrink(scenario, seed, Some(*check), &mut keep_going) {
            Ok(shrunk) => out.push((*check, cause.clone(), seed, shrunk)),
            Err(e) => errln!("error: shrinking seed {seed}: {e}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_run_gets_fewer_shrinking_runs_but_never_none() {
        assert_eq!(attempts_for(100, 2_000), 2_000, "a short run: all of them");
        assert_eq!(attempts_for(100_000, 2_000), 200, "20 M events of work");
        assert_eq!(attempts_for(50_000_000, 2_000), 2, "at least a couple");
        assert_eq!(attempts_for(0, 2_000), 2_000, "an empty run");
        assert_eq!(attempts_for(100_000, 5), 5, "never more than asked");
    }
}
