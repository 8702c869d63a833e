//! Run folders: what a failing run leaves behind so that it can be replayed,
//! proved the same run, and understood. `runs/<scenario>/<UTC time>-s<seed>/`
//! holds the resolved `scenario.ron`, `repro.txt`, `verdict.json`, the event
//! trace `events.txt`, and the teaching report of [`reports::bundle`]:
//! `index.html`, `README.md`, `events.jsonl`, `explain.txt`, `stats.json`
//! and `diagrams/`. The folder is written under a temporary name and renamed
//! when complete, so a reader never finds half of one; `runs/latest` then
//! points at it.

use std::path::{Path, PathBuf};

use models::record::Recording;
use models::run::RunReport;
use models::scenario::Scenario;
use models::scenario::memory::TooLarge;
use reports::svg::Theme;

/// The files of a run folder.
pub const SCENARIO: &str = "scenario.ron";
/// The reproduce line and key.
pub const REPRO: &str = "repro.txt";
/// The machine summary.
pub const VERDICT: &str = "verdict.json";
/// One line per event.
pub const EVENTS: &str = "events.txt";

/// Record `scenario` at `seed` for its run folder: every actor state of a
/// short run, else those of the window the report's pictures show.
///
/// # Errors
/// [`TooLarge`] if its report would not fit the memory budget.
pub fn record(scenario: &Scenario, seed: u64) -> Result<Recording, TooLarge> {
    models::record::record_for_report(
        scenario,
        seed,
        reports::bundle::FULL_STATES_MAX,
        reports::bundle::shown_window,
    )
}

/// Write the run folder of the recorded run `rec` under
/// `out/<scenario>/<UTC time>-s<seed>` and point `out/latest` at it;
/// returns its path.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write(
    out: &str,
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
) -> Result<PathBuf, String> {
    let name = format!("{}-s{}", utc_stamp(), rec.report.seed);
    let dir = unused(Path::new(out).join(scenario.name()).join(name));
    write_at(&dir, scenario, rec, file)?;
    link_latest(Path::new(out), &dir);
    Ok(dir)
}

/// Point `out/latest` at `dir` (relative, so the folder can be moved);
/// a failure only warns: the run folder itself is complete.
fn link_latest(out: &Path, dir: &Path) {
    let Ok(target) = dir.strip_prefix(out) else {
        return;
    };
    let latest = out.join("latest");
    let tmp = out.join(".latest.partial");
    let _ = std::fs::remove_file(&tmp);
    #[cfg(unix)]
    let linked =
        std::os::unix::fs::symlink(target, &tmp).and_then(|()| std::fs::rename(&tmp, &latest));
    #[cfg(not(unix))]
    let linked: std::io::Result<()> = Ok(());
    if let Err(e) = linked {
        errln!(
            "warning: cannot point {} at {}: {e}",
            latest.display(),
            dir.display()
        );
    }
}

/// `dir`, or `dir-2`, `dir-3`, … if it (or its partial form) is taken: two
/// runs in the same second never share a folder.
pub fn unused(dir: PathBuf) -> PathBuf {
    let taken = |d: &Path| d.exists() || d.with_extension("partial").exists();
    if !taken(&dir) {
        return dir;
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (2..)
        .map(|i| dir.with_file_name(format!("{name}-{i}")))
        .find(|d| !taken(d))
        .expect("some suffix is free")
}

/// The current UTC time as `20261122T210305Z`, for folder names.
pub fn utc_stamp() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(['-', ':'], "")
}

/// Write the run folder of `rec` at `dir`, through a temporary name.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write_at(
    dir: &Path,
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
) -> Result<(), String> {
    let report = &rec.report;
    let tmp = dir.with_extension("partial");
    let write = |name: &str, text: String| write_file(&tmp, name, &text);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    write(SCENARIO, scenario.resolved_ron())?;
    write(REPRO, repro(scenario, report, file))?;
    let verdict = reports::jsonl::verdict(scenario, report, file);
    write(
        VERDICT,
        serde_json::to_string_pretty(&verdict).map_err(|e| e.to_string())?,
    )?;
    write(EVENTS, events(report))?;
    write_report(&tmp, scenario, rec, file, Theme::Color)?;
    std::fs::rename(&tmp, dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Write the teaching report of `rec` (every file of [`reports::bundle`])
/// into `dir`.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write_report(
    dir: &Path,
    scenario: &Scenario,
    rec: &Recording,
    file: &str,
    theme: Theme,
) -> Result<(), String> {
    let files = reports::bundle::files(scenario, rec, file, theme).map_err(|e| e.to_string())?;
    write_files(dir, files)
}

/// Write rendered report files into `dir`.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write_files(dir: &Path, files: Vec<(&'static str, String)>) -> Result<(), String> {
    for (name, text) in files {
        write_file(dir, name, &text)?;
    }
    Ok(())
}

/// Write `dir/name`, creating its parent folder, through a temporary file
/// renamed into place: re-rendering a folder never leaves half a file.
fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{file}.partial"));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The reproduce line and key of `report`, as `repro.txt` holds them.
pub(crate) fn repro(scenario: &Scenario, report: &RunReport, file: &str) -> String {
    format!(
        "{}\nreplay {} replay <this folder>\nseed {}\nhash {:016x}\nversion {}\ndigest {}\n",
        reports::repro_command(file, report.seed),
        reports::command(),
        report.seed,
        scenario.hash(),
        reports::VERSION,
        report.end.digest
    )
}

/// The trace, one canonical line per event.
pub fn events(report: &RunReport) -> String {
    let mut text = String::new();
    for e in &report.trace {
        text.push_str(&e.line(&report.names));
        text.push('\n');
    }
    text
}
