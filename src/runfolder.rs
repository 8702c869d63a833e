//! Run folders: what a failing run leaves behind so that it can be replayed
//! and proved the same run. `runs/<scenario>/<UTC time>-s<seed>/` holds the
//! resolved `scenario.ron`, `repro.txt`, `verdict.json` and the event trace
//! `events.txt`. The folder is written under a temporary name and renamed
//! when complete, so a reader never finds half of one.

use std::path::{Path, PathBuf};

use models::run::RunReport;
use models::scenario::Scenario;

/// The files of a run folder.
pub const SCENARIO: &str = "scenario.ron";
/// The reproduce line and key.
pub const REPRO: &str = "repro.txt";
/// The machine summary.
pub const VERDICT: &str = "verdict.json";
/// One line per event.
pub const EVENTS: &str = "events.txt";

/// Write the run folder of `report` (which must carry its trace) under
/// `out/<scenario>/<UTC time>-s<seed>`; returns its path.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write(
    out: &str,
    scenario: &Scenario,
    report: &RunReport,
    file: &str,
) -> Result<PathBuf, String> {
    let dir =
        Path::new(out)
            .join(scenario.name())
            .join(format!("{}-s{}", utc_stamp(), report.seed));
    let dir = unused(dir);
    write_at(&dir, scenario, report, file)?;
    Ok(dir)
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

/// Write the run folder of `report` at `dir`, through a temporary name.
///
/// # Errors
/// A readable message if a file cannot be written.
pub fn write_at(
    dir: &Path,
    scenario: &Scenario,
    report: &RunReport,
    file: &str,
) -> Result<(), String> {
    let tmp = dir.with_extension("partial");
    let write = |name: &str, text: String| {
        std::fs::write(tmp.join(name), text)
            .map_err(|e| format!("cannot write {}: {e}", tmp.join(name).display()))
    };
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    write(SCENARIO, scenario.resolved_ron())?;
    write(REPRO, repro(scenario, report, file))?;
    let verdict = reports::jsonl::verdict(scenario, report, file);
    write(
        VERDICT,
        serde_json::to_string_pretty(&verdict).map_err(|e| e.to_string())?,
    )?;
    write(EVENTS, events(report))?;
    std::fs::rename(&tmp, dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn repro(scenario: &Scenario, report: &RunReport, file: &str) -> String {
    format!(
        "{}\nreplay {}\nseed {}\nhash {:016x}\nversion {}\ndigest {}\n",
        reports::repro_command(file, report.seed),
        "eosim replay <this folder>",
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
