//! `eosim report <run-dir>`: re-render a run folder's report. The saved
//! scenario is re-run at the saved seed (runs are deterministic) and the
//! digest is checked against `verdict.json` before anything is written.

use std::path::Path;

use clap::ValueEnum;
use models::record::Recording;
use models::scenario::Scenario;
use reports::bundle;
use reports::svg::Theme;

use crate::runfolder::{SCENARIO, VERDICT};
use crate::{Format, diagnostics};

/// Which artifact to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// `index.html`.
    Html,
    /// `README.md`.
    Md,
    /// `diagrams/spacetime.svg`.
    Svg,
    /// `diagrams/counterexample.mmd`.
    Mermaid,
    /// `diagrams/model.dot`.
    Dot,
    /// `events.jsonl`.
    Json,
}

impl ReportFormat {
    fn file(self) -> &'static str {
        match self {
            ReportFormat::Html => bundle::INDEX,
            ReportFormat::Md => bundle::README,
            ReportFormat::Svg => bundle::SPACETIME_SVG,
            ReportFormat::Mermaid => bundle::MERMAID,
            ReportFormat::Dot => bundle::DOT,
            ReportFormat::Json => bundle::EVENTS_JSONL,
        }
    }
}

/// The picture theme, as a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ThemeArg {
    /// The colour-blind-safe palette.
    Color,
    /// Greys only.
    Mono,
}

/// A run folder, loaded and re-run.
pub struct Saved {
    /// The resolved scenario.
    pub scenario: Scenario,
    /// The file the run was started from (for the reproduce line).
    pub file: String,
    /// The run, recorded again.
    pub recording: Recording,
}

/// How to re-render.
pub struct Options {
    /// Print one artifact instead of rewriting the folder.
    pub format: Option<ReportFormat>,
    /// The picture theme.
    pub theme: ThemeArg,
    /// Simulated microseconds to draw, both ends included.
    pub window: Option<(u64, u64)>,
    /// Open index.html afterwards.
    pub open: bool,
}

/// `A..B` in simulated milliseconds, as microseconds.
///
/// # Errors
/// A readable message for anything else, or an end before the start.
pub fn parse_window(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("`{s}` is not a window: expected A..B in milliseconds, e.g. 100..250");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if b < a {
        return Err(format!("`{s}`: the window ends before it starts"));
    }
    Ok((a.saturating_mul(1000), b.saturating_mul(1000)))
}

/// Re-render `dir`; returns the exit code (0 written, 2 no such folder, 4
/// unreadable folder, 5 the re-run differs from the saved run).
pub fn report(dir: &str, options: &Options) -> u8 {
    let Options {
        format,
        theme,
        window,
        open,
    } = *options;
    if !Path::new(dir).is_dir() {
        errln!("error: {dir} is not a run folder (no such directory)");
        return 2;
    }
    let saved = match load(Path::new(dir), window) {
        Ok(Ok(saved)) => saved,
        Ok(Err(difference)) => {
            errln!("error: {dir} no longer reproduces: {difference}");
            return 5;
        }
        Err(msg) => {
            errln!("error: {msg}");
            return 4;
        }
    };
    let theme = match theme {
        ThemeArg::Color => Theme::Color,
        ThemeArg::Mono => Theme::Mono,
    };
    let min = Scenario::load(
        &Path::new(dir)
            .join(crate::shrink_cmd::MIN)
            .to_string_lossy(),
    )
    .ok();
    let min_rec = match min
        .as_ref()
        .map(|m| crate::runfolder::record(m, 0))
        .transpose()
    {
        Ok(rec) => rec,
        Err(too_large) => {
            errln!("error: the shrunk run cannot be drawn: {too_large}");
            return 4;
        }
    };
    let files = match bundle::files_shrunk(
        &saved.scenario,
        &saved.recording,
        &saved.file,
        theme,
        window,
        min.as_ref().zip(min_rec.as_ref()),
    ) {
        Ok(files) => files,
        Err(e) => {
            errln!("error: {e}");
            return 4;
        }
    };
    let written = match format {
        Some(f) => print_one(files, f),
        None => crate::runfolder::write_files(Path::new(dir), files)
            .map(|()| crate::outln(format!("report {dir}/{}", bundle::INDEX))),
    };
    if let Err(msg) = written {
        errln!("error: {msg}");
        return 4;
    }
    if open {
        open_in_browser(&Path::new(dir).join(bundle::INDEX));
    }
    0
}

fn print_one(files: Vec<(&'static str, String)>, format: ReportFormat) -> Result<(), String> {
    let text = files
        .into_iter()
        .find(|(name, _)| *name == format.file())
        .map(|(_, text)| text)
        .ok_or_else(|| format!("no {} in the report", format.file()))?;
    crate::out(text);
    Ok(())
}

/// Load a run folder and re-run it, recording the states of the events in
/// `window` (else of the default window). The outer error is an unreadable
/// folder; the inner one a re-run that differs from the saved run.
pub fn load(dir: &Path, window: Option<(u64, u64)>) -> Result<Result<Saved, String>, String> {
    let path = dir.join(VERDICT);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let verdict: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let (Some(seed), Some(digest)) = (verdict["seed"].as_u64(), verdict["digest"].as_str()) else {
        return Err(format!("{} lacks seed or digest", path.display()));
    };
    let scenario_file = dir.join(SCENARIO).to_string_lossy().into_owned();
    let scenario = Scenario::load(&scenario_file).map_err(|e| {
        diagnostics::report(&e, Format::Human);
        format!("{scenario_file} is not a valid scenario")
    })?;
    let file = verdict["repro"]["argv"][2]
        .as_str()
        .map_or_else(|| scenario_file.clone(), str::to_string);
    let recording =
        crate::runfolder::record_window(&scenario, seed, window).map_err(|e| e.to_string())?;
    let now = recording.report.end.digest.to_string();
    if now != digest {
        return Ok(Err(format!("digest {now} now, {digest} recorded")));
    }
    Ok(Ok(Saved {
        scenario,
        file,
        recording,
    }))
}

/// Hand `page` to the desktop's opener; say so if there is none.
fn open_in_browser(page: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener).arg(page).spawn() {
        Ok(_) => errln!("opened {}", page.display()),
        Err(e) => errln!(
            "cannot open {} with {opener} ({e}); open it in a browser yourself",
            page.display()
        ),
    }
}
