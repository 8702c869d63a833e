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

/// Re-render `dir`; returns the exit code (0 written, 2 no such folder, 4
/// unreadable folder, 5 the re-run differs from the saved run).
pub fn report(dir: &str, format: Option<ReportFormat>, theme: ThemeArg, open: bool) -> u8 {
    if !Path::new(dir).is_dir() {
        eprintln!("error: {dir} is not a run folder (no such directory)");
        return 2;
    }
    let saved = match load(Path::new(dir)) {
        Ok(Ok(saved)) => saved,
        Ok(Err(difference)) => {
            eprintln!("error: {dir} no longer reproduces: {difference}");
            return 5;
        }
        Err(msg) => {
            eprintln!("error: {msg}");
            return 4;
        }
    };
    let theme = match theme {
        ThemeArg::Color => Theme::Color,
        ThemeArg::Mono => Theme::Mono,
    };
    let written = match format {
        Some(f) => print_one(&saved, f, theme),
        None => crate::runfolder::write_report(
            Path::new(dir),
            &saved.scenario,
            &saved.recording,
            &saved.file,
            theme,
        )
        .map(|()| crate::outln(format!("report {dir}/{}", bundle::INDEX))),
    };
    if let Err(msg) = written {
        eprintln!("error: {msg}");
        return 4;
    }
    if open {
        open_in_browser(&Path::new(dir).join(bundle::INDEX));
    }
    0
}

fn print_one(saved: &Saved, format: ReportFormat, theme: Theme) -> Result<(), String> {
    let files = bundle::files(&saved.scenario, &saved.recording, &saved.file, theme)
        .map_err(|e| e.to_string())?;
    let text = files
        .into_iter()
        .find(|(name, _)| *name == format.file())
        .map(|(_, text)| text)
        .ok_or_else(|| format!("no {} in the report", format.file()))?;
    crate::out(text);
    Ok(())
}

/// Load a run folder and re-run it. The outer error is an unreadable
/// folder; the inner one a re-run that differs from the saved run.
pub fn load(dir: &Path) -> Result<Result<Saved, String>, String> {
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
    let recording = bundle::record(&scenario, seed);
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
        Ok(_) => eprintln!("opened {}", page.display()),
        Err(e) => eprintln!(
            "cannot open {} with {opener} ({e}); open it in a browser yourself",
            page.display()
        ),
    }
}
