//! `eosim run`: one scenario in full, or a folder with one line each.

use models::run;
use models::scenario::Scenario;
use models::scenario::memory::{self, TooLarge};

use crate::shrink_cmd::counted;
use crate::{Format, diagnostics, scenario_files, worst};

/// How to run.
pub struct RunOptions {
    /// The seed, or each scenario's own.
    pub seed: Option<u64>,
    /// Output format.
    pub format: Format,
    /// Run twice and compare.
    pub check_determinism: bool,
    /// Where failing runs leave their run folders (`None`: nowhere).
    pub out: Option<String>,
    /// Shrink an unexpected violation into its run folder.
    pub shrink: bool,
    /// Leave a run folder whatever the verdict.
    pub report_always: bool,
}

/// How long `run` spends shrinking one failure.
const SHRINK_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// Run `path` (a file or a folder); returns the exit code.
pub fn run(path: &str, options: &RunOptions) -> u8 {
    let format = options.format;
    let files = match scenario_files(path) {
        Ok(files) => files,
        Err(msg) => {
            errln!("error: {msg}");
            return 4;
        }
    };
    if files.is_empty() {
        errln!("error: no .ron scenario files under {path}");
        return 4;
    }
    let many = std::path::Path::new(path).is_dir();
    let mut tally = Tally::default();
    for file in &files {
        let (code, unchecked) = run_one(file, options, many);
        tally.add(code);
        tally.unchecked += u32::from(unchecked);
    }
    if many && format == Format::Human {
        crate::outln(tally.line());
    }
    tally.worst
}

/// Run one scenario file; its exit code, and whether a check its model
/// claims went unchecked.
fn run_one(file: &str, options: &RunOptions, brief: bool) -> (u8, bool) {
    let format = options.format;
    let scenario = match Scenario::load(file) {
        Ok(s) => s,
        Err(e) => {
            diagnostics::report(&e, format);
            if brief && format == Format::Human {
                crate::outln(format!("INVALID {file}"));
            }
            return (diagnostics::exit_code(&e), false);
        }
    };
    let seed = options.seed.unwrap_or(scenario.seed());
    let regression_code = if options.seed.is_none() {
        replay_regressions(&scenario, file, format)
    } else {
        0
    };
    let story_expected = told_in_one_run(&scenario, options, brief);
    let (report, recorded) = if story_expected {
        let (report, recording) = models::record::run_for_story(&scenario, seed);
        (report, Some(recording))
    } else {
        (run::run(&scenario, seed, options.check_determinism), None)
    };
    if options.check_determinism {
        let again = run::run(&scenario, seed, true);
        if let Some(divergence) = divergence(&report, &again) {
            errln!("NON-DETERMINISM in {file} at seed {seed}: {divergence}");
            return (5, false);
        }
        errln!(
            "deterministic: {file} seed {seed} ran twice, {} trace events identical, digest {}",
            again.trace.len(),
            again.end.digest
        );
    }
    let explained = !brief && report.violations().next().is_some();
    let wants_folder =
        options.out.is_some() && (report.verdict == run::Verdict::Fail || options.report_always);
    let recording = if wants_folder {
        Some(crate::runfolder::record(&scenario, report.seed))
    } else if explained {
        recorded.or_else(|| Some(record_for_the_story(&scenario, &report)))
    } else {
        None
    };
    let recording = match recording.transpose() {
        Ok(recording) => recording,
        Err(too_large) => {
            let note = format!("note: no run folder and no causal story: {too_large}");
            errln!("{}", reports::text::wrap(&note, "      "));
            None
        }
    };
    let written = recording
        .as_ref()
        .filter(|_| wants_folder)
        .map(|rec| run_folder(&scenario, rec, file, options));
    // A run folder that could not be written is an error (exit 2), after
    // the verdict is printed.
    let write_failed = matches!(written, Some(Err(())));
    let folder = written.and_then(Result::ok).flatten();
    let told = recording
        .as_ref()
        .filter(|_| explained)
        .map(|rec| told(&scenario, rec, format))
        .unwrap_or_default();
    match format {
        Format::Json => reports::jsonl::lines(&scenario, &report, file, folder.as_deref(), &told)
            .iter()
            .for_each(crate::outln),
        Format::Human if brief => crate::outln(reports::text::summary_line(&scenario, &report)),
        Format::Human => {
            let why = told.first().map(first_story);
            crate::out(reports::text::render_with(
                &scenario,
                &report,
                file,
                why.as_deref(),
            ));
        }
    }
    if let (Some(dir), Format::Human) = (&folder, format) {
        let indent = if brief { "        " } else { "  " };
        crate::outln(format!("{indent}run folder {dir}"));
        crate::outln(format!("{indent}report     {dir}/index.html"));
        let command = reports::command();
        crate::outln(format!("{indent}replay     {command} replay {dir}"));
    }
    let unexpected = report.verdict == run::Verdict::Fail;
    if let (Some(dir), true) = (&folder, options.shrink && unexpected) {
        shrink_into_folder(&scenario, seed, file, dir, format, brief);
    }
    let code = crate::worst(report.verdict.exit_code(), regression_code);
    let code = if write_failed {
        crate::worst(code, 2)
    } else {
        code
    };
    (code, !report.unchecked.is_empty())
}

/// Run the scenario's regression seeds first, one line each (human
/// output); returns the worst exit code.
fn replay_regressions(scenario: &Scenario, file: &str, format: Format) -> u8 {
    let mut code = 0;
    for seed in crate::regressions::read(file) {
        let report = run::run(scenario, seed, false);
        if format == Format::Human {
            crate::outln(format!(
                "regression {}",
                reports::text::summary_line(scenario, &report)
            ));
        }
        code = crate::worst(code, report.verdict.exit_code());
    }
    code
}

/// Whether the run is recorded as it runs, for the causal story of the
/// violation its scenario expects (one run instead of two): not for a
/// one-line summary, nor when determinism is checked (that run records
/// its whole trace) or a run folder is written whatever the verdict (it
/// records actor states too).
fn told_in_one_run(scenario: &Scenario, options: &RunOptions, brief: bool) -> bool {
    let folder_always = options.out.is_some() && options.report_always;
    !brief && !scenario.expected().is_empty() && !options.check_determinism && !folder_always
}

/// Record a run for its causal stories alone: the stories read the trace
/// and the history, not the actor states a report's inspector shows, so
/// none are described.
fn record_for_the_story(
    scenario: &Scenario,
    report: &run::RunReport,
) -> Result<models::record::Recording, TooLarge> {
    memory::report_fits(report.end.trace_events)?;
    Ok(models::record::record_judged(scenario, report.clone()))
}

/// The explanations `format` shows: every one in JSON, the first alone on
/// the terminal.
fn told(
    scenario: &Scenario,
    rec: &models::record::Recording,
    format: Format,
) -> Vec<reports::explain::Explanation> {
    let events = reports::events::build_unclocked(rec);
    match format {
        Format::Json => reports::explain::explain(scenario, rec, &events),
        Format::Human => reports::explain::explain_first(scenario, rec, &events)
            .into_iter()
            .collect(),
    }
}

/// The causal story of the first violation, for the terminal.
fn first_story(first: &reports::explain::Explanation) -> String {
    reports::explain::render(std::slice::from_ref(first))
}

/// Write the run folder of a recorded run (a run with an unexpected
/// violation, or any run with `--report`); returns its path.
/// Write the run folder under `--out`; the folder, or the error said.
fn run_folder(
    scenario: &Scenario,
    recorded: &models::record::Recording,
    file: &str,
    options: &RunOptions,
) -> Result<Option<String>, ()> {
    let Some(out) = options.out.as_deref() else {
        return Ok(None);
    };
    match crate::runfolder::write(out, scenario, recorded, file) {
        Ok(dir) => Ok(Some(dir.to_string_lossy().into_owned())),
        Err(msg) => {
            errln!("error: {msg}");
            Err(())
        }
    }
}

/// Shrink the failure into its run folder and say what it became.
fn shrink_into_folder(
    scenario: &Scenario,
    seed: u64,
    file: &str,
    dir: &str,
    format: Format,
    brief: bool,
) {
    let dir = std::path::Path::new(dir);
    match crate::shrink_cmd::shrink_into(scenario, seed, file, dir, None, SHRINK_BUDGET) {
        Ok((shrunk, min)) if format == Format::Human => {
            let indent = if brief { "        " } else { "  " };
            let (b, a) = (shrunk.before, shrunk.after);
            crate::outln(format!(
                "{indent}shrunk     {} → {} · {} → {} · {} → {}",
                b.events,
                counted(a.events, "event"),
                b.faults,
                counted(a.faults as u64, "fault"),
                b.delays,
                counted(a.delays as u64, "delay"),
            ));
            crate::outln(format!("{indent}min        {}", min.display()));
            if !brief {
                crate::out(shrunk_story(&shrunk));
            }
        }
        Ok((shrunk, min)) => crate::outln(shrunk_line(&shrunk, &min)),
        Err(crate::shrink_cmd::Failure::Shrink(e)) => errln!("error: shrinking: {e}"),
        Err(crate::shrink_cmd::Failure::Write(msg)) => errln!("error: {msg}"),
    }
}

/// The first story of the shrunk run, under a heading: the counterexample
/// in its fewest events, drawn as a terminal sketch.
fn shrunk_story(shrunk: &models::shrink::Shrunk) -> String {
    let Ok(min) = Scenario::from_spec(crate::shrink_cmd::MIN, shrunk.spec.clone()) else {
        return String::new();
    };
    let rec = match crate::runfolder::record(&min, 0) {
        Ok(rec) => rec,
        Err(too_large) => {
            return format!("\nthe shrunk counterexample is not told: {too_large}\n");
        }
    };
    let told = reports::bundle::Rendered::new(&min, &rec).explanations;
    match told
        .iter()
        .find(|x| x.check == shrunk.check)
        .or(told.first())
    {
        Some(x) => format!(
            "\nthe shrunk counterexample, step by step\n{}",
            first_story(x)
        ),
        None => String::new(),
    }
}

/// The JSON Lines record of a shrink: `{"type":"shrunk","data":{…}}`.
fn shrunk_line(shrunk: &models::shrink::Shrunk, min: &std::path::Path) -> String {
    let size = |s: models::shrink::Size| {
        serde_json::json!({
            "events": s.events, "faults": s.faults, "delays": s.delays, "messages": s.messages,
        })
    };
    serde_json::json!({
        "type": "shrunk",
        "data": {
            "check": shrunk.check.code(),
            "min": min.to_string_lossy(),
            "before": size(shrunk.before),
            "after": size(shrunk.after),
            "complete": shrunk.complete,
        }
    })
    .to_string()
}

#[derive(Default)]
struct Tally {
    total: u32,
    pass: u32,
    fail: u32,
    inconclusive: u32,
    invalid: u32,
    /// Scenarios where a check the model claims went unchecked.
    unchecked: u32,
    worst: u8,
}

impl Tally {
    fn add(&mut self, code: u8) {
        self.total += 1;
        match code {
            0 => self.pass += 1,
            1 => self.fail += 1,
            3 => self.inconclusive += 1,
            _ => self.invalid += 1,
        }
        self.worst = worst(self.worst, code);
    }

    fn line(&self) -> String {
        let verdict = if self.worst == 0 { "PASS" } else { "FAIL" };
        let mut line = format!(
            "{verdict} {} scenarios · {} as expected · {} failed · {} inconclusive · {} invalid",
            self.total, self.pass, self.fail, self.inconclusive, self.invalid
        );
        if self.unchecked > 0 {
            let n = self.unchecked;
            line.push_str(&format!(
                "\n  * {n} with claimed checks unchecked: run one alone for why"
            ));
        }
        line
    }
}

/// Where two runs of the same seed part ways, if they do.
fn divergence(a: &run::RunReport, b: &run::RunReport) -> Option<String> {
    if a.end == b.end && a.trace == b.trace {
        return None;
    }
    let names = &a.names;
    let first = a.trace.iter().zip(&b.trace).position(|(x, y)| x != y);
    Some(match first {
        Some(i) => format!(
            "digests {} and {}; first diverging event #{i}:\n  first:  {}\n  second: {}",
            a.end.digest,
            b.end.digest,
            a.trace[i].line(names),
            b.trace[i].line(names)
        ),
        None => format!(
            "digests {} and {}; one run has {} events, the other {}",
            a.end.digest,
            b.end.digest,
            a.trace.len(),
            b.trace.len()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_names_the_first_event_where_two_runs_differ() {
        let text = r#"Scenario(name: "d", model: M4, network: (default: (loss: Ratio(1, 3))), expect: Pass)"#;
        let s = Scenario::parse("d.ron", text).unwrap();
        let (a, b) = (run::run(&s, 1, true), run::run(&s, 2, true));
        assert_eq!(divergence(&a, &run::run(&s, 1, true)), None);
        let found = divergence(&a, &b).expect("two seeds differ");
        assert!(found.contains("first diverging event #"), "{found}");
    }
}
