//! What `eosim replay <run-dir>` vouches for. A run folder states results in
//! several files; replay re-derives each one from the scenario and the seed
//! and compares what the folder says with what the run gives:
//!
//! - `scenario.ron`: its hash is the one recorded;
//! - `verdict.json`: written by this eosim version (another version's folder
//!   is a difference, named as such), then every field, as this eosim writes
//!   it: verdict, exit code, each check, each violation, params, schema, …;
//! - `events.txt`: every trace event, in order, and the digest;
//! - `repro.txt`: every line;
//! - `events.jsonl`, `explain.txt`, `stats.json`, `README.md`: byte for byte;
//! - `index.html` and `diagrams/*`: vouched for when they are the rendering
//!   `eosim report` gives without `--window` (in either theme); otherwise
//!   named as not vouched for;
//! - `min/scenario.ron`: it is a valid scenario whose run violates the check
//!   it names, and the event counts it states are those of both runs.
//!
//! Any other file in the folder is named as not vouched for, and so is an
//! expected file that is absent.

use std::path::Path;

use models::record::Recording;
use models::run::RunReport;
use models::scenario::Scenario;
use reports::bundle;
use reports::svg::Theme;
use serde_json::Value;

use crate::runfolder::{EVENTS, REPRO, SCENARIO, VERDICT, gz, read_capped};
use crate::shrink_cmd::MIN;
use crate::{Format, diagnostics};

/// The largest `verdict.json` replay reads: a bigger one is not a verdict.
const VERDICT_BYTES_MAX: u64 = 256 << 20;

/// Differences named at most, so that a rewritten folder stays readable.
const DIFFERENCES_MAX: usize = 12;

/// Files compared byte for byte with the re-rendered report.
const STATED: [&str; 4] = [
    bundle::EVENTS_JSONL,
    bundle::EXPLAIN,
    bundle::STATS,
    bundle::README,
];

/// Files of a folder listed at most (a hostile folder may hold millions).
const LISTED_MAX: usize = 10_000;

/// What replaying a run folder found.
pub enum Outcome {
    /// Every file compared says what the run gives.
    Same(Proof),
    /// What differs, one line each (file, field, expected and found).
    Differs(Vec<String>),
    /// The folder cannot be replayed: a missing or malformed file.
    Unreadable(String),
}

/// What a replay that found no difference proved, and what it did not.
pub struct Proof {
    /// Seed, digest and the run's counts.
    pub summary: String,
    /// Files compared and found the same.
    pub vouched: Vec<String>,
    /// Files not vouched for, each with why.
    pub not_vouched: Vec<String>,
}

/// Replay the run folder `dir` and compare every file it holds.
pub fn replay(dir: &Path) -> Outcome {
    match vouch(dir) {
        Ok(Ok(proof)) => Outcome::Same(proof),
        Ok(Err(mut differences)) => {
            if differences.len() > DIFFERENCES_MAX {
                let more = differences.len() - DIFFERENCES_MAX;
                differences.truncate(DIFFERENCES_MAX);
                differences.push(format!("… and {more} more"));
            }
            Outcome::Differs(differences)
        }
        Err(msg) => Outcome::Unreadable(msg),
    }
}

/// The folder as read: its verdict and scenario.
struct Folder<'a> {
    dir: &'a Path,
    verdict: Value,
    scenario: Scenario,
    /// The scenario file the run was started from (for reproduce lines).
    file: String,
    seed: u64,
}

/// The outer error is an unreadable folder, the inner one the differences.
fn vouch(dir: &Path) -> Result<Result<Proof, Vec<String>>, String> {
    let folder = match read_folder(dir)? {
        Ok(folder) => folder,
        Err(difference) => return Ok(Err(vec![difference])),
    };
    let rec = crate::runfolder::record(&folder.scenario, folder.seed)
        .map_err(|e| format!("cannot replay {}: {e}", dir.display()))?;
    let report = &rec.report;
    let mut proof = Proof {
        summary: summary(report),
        vouched: vec![SCENARIO.to_string()],
        not_vouched: Vec::new(),
    };
    let recorded = read_like(dir, EVENTS, &crate::runfolder::events(report))?
        .ok_or_else(|| format!("cannot read {}: no such file", dir.join(EVENTS).display()))?;
    let replayed = crate::runfolder::events(report);
    if let Some(difference) = crate::replay_cmd::first_difference(&recorded, &replayed) {
        return Ok(Err(vec![format!(
            "{EVENTS}: {difference}\n  (replayed at seed {}, the seed {VERDICT} records)",
            folder.seed
        )]));
    }
    let digest = folder.verdict["digest"].as_str().unwrap_or_default();
    if report.end.digest.to_string() != digest {
        return Ok(Err(vec![format!(
            "{VERDICT}: digest: expected {} (the replayed run's), found {digest}",
            report.end.digest
        )]));
    }
    proof.vouched.push(EVENTS.to_string());
    let mut differences = verdict_differences(&folder, report);
    proof.vouched.push(VERDICT.to_string());
    let repro = crate::runfolder::repro(&folder.scenario, report, &folder.file);
    compare_text(dir, REPRO, &repro, &mut proof, &mut differences)?;
    let min = min_differences(&folder, report, &mut proof, &mut differences)?;
    let names = report_differences(&folder, &rec, min.as_ref(), &mut proof, &mut differences)?;
    proof.not_vouched.extend(unknown_files(dir, &names));
    Ok(if differences.is_empty() {
        Ok(proof)
    } else {
        Err(differences)
    })
}

/// The counts of a run, each named for what it counts.
pub fn summary(report: &RunReport) -> String {
    format!(
        "seed {} · digest {} · {} events (deliveries, losses, timers, crashes, \
         restarts) · {} trace events (sends and faults too; a line each in {EVENTS})",
        report.seed,
        report.end.digest,
        report.events(),
        report.trace.len()
    )
}

/// Read `verdict.json` and the scenario, and check the recorded version and
/// hash; an unreadable folder is the outer error, a difference the inner.
fn read_folder(dir: &Path) -> Result<Result<Folder<'_>, String>, String> {
    let path = dir.join(VERDICT);
    let bytes = read_capped(&path, VERDICT_BYTES_MAX + 1)?
        .ok_or_else(|| format!("cannot read {}: no such file", path.display()))?;
    if bytes.len() as u64 > VERDICT_BYTES_MAX {
        return Err(format!(
            "{} is larger than {} MiB, too large for a verdict",
            path.display(),
            VERDICT_BYTES_MAX >> 20
        ));
    }
    let verdict: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let (Some(seed), Some(hash), Some(_)) = (
        verdict["seed"].as_u64(),
        verdict["hash"].as_str(),
        verdict["digest"].as_str(),
    ) else {
        return Err(format!("{} lacks seed, hash or digest", path.display()));
    };
    let version = verdict["version"].as_str().unwrap_or("(none)");
    if version != reports::VERSION {
        return Ok(Err(format!(
            "{VERDICT}: version: expected {} (this eosim), found {version}: another \
             eosim wrote this folder or it was edited, and this one cannot vouch for \
             it; replay it with eosim {version}",
            reports::VERSION
        )));
    }
    let scenario_file = dir.join(SCENARIO).to_string_lossy().into_owned();
    let scenario = Scenario::load(&scenario_file).map_err(|e| {
        diagnostics::report(&e, Format::Human);
        format!(
            "{} cannot be replayed: its {SCENARIO} is not a scenario",
            dir.display()
        )
    })?;
    let now = format!("{:016x}", scenario.hash());
    if now != hash {
        return Ok(Err(format!(
            "{SCENARIO} was changed (or {VERDICT}'s hash): its hash is {now}, \
             {VERDICT} records {hash}"
        )));
    }
    let file = verdict["file"]
        .as_str()
        .map_or_else(|| scenario_file.clone(), str::to_string);
    Ok(Ok(Folder {
        dir,
        verdict,
        scenario,
        file,
        seed,
    }))
}

/// Every field of `verdict.json` that differs from what this eosim writes
/// for the replayed run.
fn verdict_differences(folder: &Folder<'_>, report: &RunReport) -> Vec<String> {
    let expected = reports::jsonl::verdict(&folder.scenario, report, &folder.file);
    let mut out = Vec::new();
    json_differences("", &expected, &folder.verdict, &mut out);
    out.into_iter().map(|d| format!("{VERDICT}: {d}")).collect()
}

/// Where `found` differs from `expected`, as `path: expected …, found …`.
fn json_differences(path: &str, expected: &Value, found: &Value, out: &mut Vec<String>) {
    let at = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (expected, found) {
        (Value::Object(e), Value::Object(f)) => {
            let keys: std::collections::BTreeSet<&String> = e.keys().chain(f.keys()).collect();
            for key in keys {
                match (e.get(key), f.get(key)) {
                    (Some(e), Some(f)) => json_differences(&at(key), e, f, out),
                    (Some(e), None) => out.push(format!(
                        "{}: expected {}, found no such field",
                        at(key),
                        excerpt(&e.to_string())
                    )),
                    (None, Some(f)) => out.push(format!(
                        "{}: expected no such field, found {}",
                        at(key),
                        excerpt(&f.to_string())
                    )),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(e), Value::Array(f)) => {
            if e.len() != f.len() {
                out.push(format!(
                    "{path}: expected {} entries, found {}",
                    e.len(),
                    f.len()
                ));
            }
            for (i, (ei, fi)) in e.iter().zip(f).enumerate() {
                let label = match ei["check"].as_str() {
                    Some(check) => format!("{path}[{i}] ({check})"),
                    None => format!("{path}[{i}]"),
                };
                json_differences(&label, ei, fi, out);
            }
        }
        (Value::String(e), Value::String(f)) if e.contains('\n') || f.contains('\n') => {
            if let Some(d) = line_difference(e, f) {
                out.push(format!("{path} {d}"));
            }
        }
        (e, f) if e != f => out.push(format!(
            "{path}: expected {}, found {}",
            excerpt(&e.to_string()),
            excerpt(&f.to_string())
        )),
        _ => {}
    }
}

/// The first line where `found` differs from `expected`, as `line N:
/// expected …, found …`.
fn line_difference(expected: &str, found: &str) -> Option<String> {
    if expected == found {
        return None;
    }
    let (e, f): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), found.lines().collect());
    let show = |l: Option<&&str>| {
        l.map_or("(no line)".to_string(), |l| {
            format!("`{}`", excerpt(l.trim()))
        })
    };
    Some(
        match (0..e.len().max(f.len())).find(|i| e.get(*i) != f.get(*i)) {
            Some(i) => format!(
                "line {}: expected {}, found {}",
                i + 1,
                show(e.get(i)),
                show(f.get(i))
            ),
            None => "differs in line endings or the final newline".to_string(),
        },
    )
}

/// At most 60 characters of `text`, ending in `…` if cut.
fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX - 1).collect();
    cut.push('…');
    cut
}

/// Compare the folder's `name` with `expected`: vouched for if the same, a
/// difference if not, not vouched for if absent.
fn compare_text(
    dir: &Path,
    name: &str,
    expected: &str,
    proof: &mut Proof,
    differences: &mut Vec<String>,
) -> Result<(), String> {
    match read_like(dir, name, expected)? {
        None => proof.not_vouched.push(format!("{name} (absent)")),
        Some(found) => match line_difference(expected, &found) {
            None => proof.vouched.push(name.to_string()),
            Some(d) => differences.push(format!("{name} {d}")),
        },
    }
    Ok(())
}

/// The shrunk scenario, if the folder has one: it must load, and its run
/// must violate the check it names, in the event counts it states. Returns
/// it with its recording, for the report's counterexample pictures.
fn min_differences(
    folder: &Folder<'_>,
    report: &RunReport,
    proof: &mut Proof,
    differences: &mut Vec<String>,
) -> Result<Option<(Scenario, Recording)>, String> {
    let path = folder.dir.join(MIN);
    if !path.exists() {
        return Ok(None);
    }
    let min = match Scenario::load(&path.to_string_lossy()) {
        Ok(min) => min,
        Err(e) => {
            differences.push(format!("{MIN}: not a valid scenario: {e}"));
            return Ok(None);
        }
    };
    let text = read_capped(&path, models::scenario::SCENARIO_BYTES_MAX)?.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let rec = crate::runfolder::record(&min, 0)
        .map_err(|e| format!("cannot replay {}: {e}", path.display()))?;
    let wrong = min_claims(&min_header(&text), report, &rec.report);
    if wrong.is_empty() {
        proof.vouched.push(MIN.to_string());
    }
    differences.extend(wrong.into_iter().map(|d| format!("{MIN}: {d}")));
    Ok(Some((min, rec)))
}

/// What `min/scenario.ron`'s comment states: the check, and the events of
/// the original and of the shrunk run.
struct MinHeader {
    check: Option<String>,
    events: Option<(u64, u64)>,
}

fn min_header(text: &str) -> MinHeader {
    let comments: Vec<&str> = text.lines().map_while(|l| l.strip_prefix("// ")).collect();
    let check = comments.iter().find_map(|l| {
        let rest = l.strip_prefix("It violates ")?;
        // `C3 no-duplicate-effect.`, or a property's name alone: `Name.`
        let check = rest.split_whitespace().next()?.trim_end_matches('.');
        Some(check.to_string())
    });
    let number = |s: &str| s.split_whitespace().next()?.parse::<u64>().ok();
    let events = comments.iter().find_map(|l| {
        let (before, after) = l.split_once(" became ")?;
        Some((number(before)?, number(after)?))
    });
    MinHeader { check, events }
}

/// Where the shrunk run disagrees with what `header` states.
fn min_claims(header: &MinHeader, original: &RunReport, min: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    match &header.check {
        None => out.push("names no check it violates (`// It violates C…`)".to_string()),
        Some(check) => {
            let violated: Vec<String> =
                min.violations().map(|(v, _)| v.check.to_string()).collect();
            if !violated.contains(check) {
                let found = if violated.is_empty() {
                    "none".to_string()
                } else {
                    violated.join(", ")
                };
                out.push(format!(
                    "the check it violates: expected {check} (as stated), found {found} in its run"
                ));
            }
        }
    }
    let now = (original.events(), min.events());
    match header.events {
        None => out.push("states no event counts (`// N events, … became M events`)".into()),
        Some(stated) if stated != now => out.push(format!(
            "events: expected {} became {} (the original run's and its own), found {} became {}",
            now.0, now.1, stated.0, stated.1
        )),
        Some(_) => {}
    }
    out
}

/// Compare the report files with a fresh rendering: the stated results byte
/// for byte, the pictures against both themes. Returns the report's file
/// names.
fn report_differences(
    folder: &Folder<'_>,
    rec: &Recording,
    min: Option<&(Scenario, Recording)>,
    proof: &mut Proof,
    differences: &mut Vec<String>,
) -> Result<Vec<&'static str>, String> {
    let render = |theme| {
        let min = min.map(|(s, r)| (s, r));
        bundle::files_shrunk(&folder.scenario, rec, &folder.file, theme, None, min)
            .map_err(|e| format!("cannot render the report again: {e}"))
    };
    let color = render(Theme::Color)?;
    let mut mono = None;
    for (name, expected) in &color {
        if STATED.contains(name) {
            compare_text(folder.dir, name, expected, proof, differences)?;
            continue;
        }
        let Some(found) = read_like(folder.dir, name, expected)? else {
            proof.not_vouched.push(format!("{name} (absent)"));
            continue;
        };
        if found == *expected {
            proof.vouched.push((*name).to_string());
            continue;
        }
        if mono.is_none() {
            mono = Some(render(Theme::Mono)?);
        }
        let in_mono = mono.iter().flatten().find(|(n, _)| n == name);
        if in_mono.is_some_and(|(_, text)| *text == found) {
            proof.vouched.push((*name).to_string());
        } else {
            proof.not_vouched.push(format!(
                "{name} (not the default rendering: drawn with --window, or edited; \
                 `eosim report` draws it again)"
            ));
        }
    }
    Ok(color.iter().map(|(name, _)| *name).collect())
}

/// Files under `dir` that no eosim command writes there (`report` names
/// the report's files).
fn unknown_files(dir: &Path, report: &[&str]) -> Vec<String> {
    let packed = [gz(EVENTS), gz(bundle::EVENTS_JSONL)];
    let known: Vec<&str> = [SCENARIO, VERDICT, REPRO, EVENTS, MIN]
        .into_iter()
        .chain(report.iter().copied())
        .chain(packed.iter().map(String::as_str))
        .collect();
    let mut found = Vec::new();
    list(dir, "", &mut found);
    let mut unknown: Vec<String> = found
        .into_iter()
        .filter(|f| !known.contains(&f.as_str()))
        .map(|f| format!("{f} (not written by eosim)"))
        .collect();
    if unknown.len() >= LISTED_MAX {
        unknown.truncate(LISTED_MAX);
        unknown.push("… and maybe more".to_string());
    }
    unknown
}

/// Every file under `dir/prefix`, by relative path, in name order; symbolic
/// links are not followed.
fn list(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir.join(prefix)) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        if out.len() >= LISTED_MAX {
            return;
        }
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        match entry.file_type() {
            Ok(t) if t.is_dir() => list(dir, &format!("{name}/"), out),
            _ => out.push(name),
        }
    }
}

/// Read `dir/name` to compare it with `expected`: at most one byte more
/// than `expected` is read, so a huge file costs no more than the right one.
/// `None` if there is no such file.
fn read_like(dir: &Path, name: &str, expected: &str) -> Result<Option<String>, String> {
    let max = expected.len() as u64 + 1;
    let bytes = crate::runfolder::read_stored(dir, name, max)?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_differing_field_is_named_with_expected_and_found() {
        let expected = json!({"verdict": "fail", "checks": [{"check": "C3", "result": "fail"}]});
        let found =
            json!({"verdict": "pass", "checks": [{"check": "C3", "result": "pass"}], "x": 1});
        let mut out = Vec::new();
        json_differences("", &expected, &found, &mut out);
        assert!(
            out.contains(&"verdict: expected \"fail\", found \"pass\"".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"checks[0] (C3).result: expected \"fail\", found \"pass\"".to_string()),
            "{out:?}"
        );
        assert!(
            out.contains(&"x: expected no such field, found 1".to_string()),
            "{out:?}"
        );
    }

    #[test]
    fn a_multi_line_string_differs_at_its_first_differing_line() {
        let d = line_difference("a\nmessages: 5,\nc", "a\nmessages: 4,\nc").unwrap();
        assert_eq!(d, "line 2: expected `messages: 5,`, found `messages: 4,`");
        assert_eq!(line_difference("a\n", "a\n"), None);
        assert!(
            line_difference("a\n", "a")
                .unwrap()
                .contains("final newline")
        );
    }

    #[test]
    fn the_min_header_states_its_check_and_event_counts() {
        let h = min_header(
            "// Shrunk by eosim 0.1.0 from f.ron at seed 4.\n\
             // 36 events, 1 fault and 31 delays became 11 events, 1 fault and 0 delays.\n\
             // Every stochastic knob is off: any seed gives this very run.\n\
             // It violates C3 no-duplicate-effect.\nScenario(\n",
        );
        assert_eq!(h.check.as_deref(), Some("C3"));
        assert_eq!(h.events, Some((36, 11)));
    }

    #[test]
    fn a_property_is_named_once_and_its_header_still_reads() {
        let h = min_header("// It violates DeliveredTakesEffect.\nScenario(\n");
        assert_eq!(h.check.as_deref(), Some("DeliveredTakesEffect"));
    }
}
