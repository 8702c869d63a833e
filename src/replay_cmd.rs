//! `eosim replay <run-dir>`: re-execute a recorded run and prove it is the
//! same run: the scenario's hash, the digest and every event must match.
//! `eosim replay <scenario> --seed N [--digest D]`: run the seed twice, event
//! by event, and against the digest given.

use std::path::Path;

use models::run;
use models::scenario::Scenario;

use crate::runfolder::{EVENTS, SCENARIO, VERDICT};
use crate::{Format, diagnostics};

/// Replay the run folder or scenario file `target`; returns the exit code
/// (0 identical, 2 no such target, 4 unreadable folder or invalid scenario,
/// 5 a difference).
pub fn replay(target: &str, seed: Option<u64>, digest: Option<&str>) -> u8 {
    let path = Path::new(target);
    if path.is_file() {
        return replay_scenario(target, seed, digest);
    }
    if !path.is_dir() {
        errln!("error: {target} is neither a run folder nor a scenario file");
        return 2;
    }
    if seed.is_some() || digest.is_some() {
        errln!("error: --seed and --digest are for a scenario file; a run folder has its own");
        return 2;
    }
    replay_folder(target)
}

/// Run `file` at `seed` twice (once recording every event) and compare the
/// runs with each other and with `digest`.
fn replay_scenario(file: &str, seed: Option<u64>, digest: Option<&str>) -> u8 {
    let scenario = match Scenario::load(file) {
        Ok(s) => s,
        Err(e) => {
            diagnostics::report(&e, Format::Human);
            return diagnostics::exit_code(&e);
        }
    };
    let seed = seed.unwrap_or(scenario.seed());
    let first = run::run(&scenario, seed, true);
    let second = run::run(&scenario, seed, true);
    let (a, b) = (
        crate::runfolder::events(&first),
        crate::runfolder::events(&second),
    );
    if let Some(difference) = first_difference(&a, &b) {
        errln!("REPLAY DIFFERS  {file} seed {seed}: two runs part ways: {difference}");
        return 5;
    }
    let now = first.end.digest.to_string();
    if let Some(wanted) = digest.filter(|d| !d.eq_ignore_ascii_case(&now)) {
        errln!(
            "REPLAY DIFFERS  {file} seed {seed}: digest {now} now, {wanted} given \
             (a different scenario, version or platform)"
        );
        return 5;
    }
    let against = if digest.is_some() {
        "matches the digest given"
    } else {
        "ran twice identically"
    };
    crate::outln(format!(
        "REPLAY OK  {file} seed {seed}: digest {now}, {} events, {against}",
        first.events()
    ));
    0
}

/// Replay the run folder `dir`.
fn replay_folder(dir: &str) -> u8 {
    match check(Path::new(dir)) {
        Ok(Ok(summary)) => {
            crate::outln(format!("REPLAY OK  {dir}: {summary}"));
            0
        }
        Ok(Err(difference)) => {
            errln!("REPLAY DIFFERS  {dir}: {difference}");
            5
        }
        Err(Unreadable(msg)) => {
            errln!("error: {msg}");
            4
        }
    }
}

/// The folder could not be read at all.
struct Unreadable(String);

/// Replay and compare: the outer error is an unreadable folder, the inner
/// one a difference.
fn check(dir: &Path) -> Result<Result<String, String>, Unreadable> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| Unreadable(format!("cannot read {}: {e}", dir.join(name).display())))
    };
    let verdict: serde_json::Value = serde_json::from_str(&read(VERDICT)?)
        .map_err(|e| Unreadable(format!("{} is not JSON: {e}", dir.join(VERDICT).display())))?;
    let field = |name: &str| verdict[name].as_str().map(str::to_string);
    let (Some(seed), Some(hash), Some(digest)) =
        (verdict["seed"].as_u64(), field("hash"), field("digest"))
    else {
        return Err(Unreadable(format!(
            "{} lacks seed, hash or digest",
            dir.join(VERDICT).display()
        )));
    };
    let scenario_file = dir.join(SCENARIO).to_string_lossy().into_owned();
    let scenario = Scenario::load(&scenario_file).map_err(|e| {
        diagnostics::report(&e, Format::Human);
        Unreadable(format!("{scenario_file} is not a valid scenario"))
    })?;
    let now = format!("{:016x}", scenario.hash());
    if now != hash {
        return Ok(Err(format!(
            "{SCENARIO} was changed: its hash is {now}, the recorded run's {hash}"
        )));
    }
    let report = run::run(&scenario, seed, true);
    let recorded = read(EVENTS)?;
    let replayed = crate::runfolder::events(&report);
    if let Some(difference) = first_difference(&recorded, &replayed) {
        return Ok(Err(difference));
    }
    if report.end.digest.to_string() != digest {
        return Ok(Err(format!(
            "digest {} now, {digest} recorded",
            report.end.digest
        )));
    }
    Ok(Ok(format!(
        "seed {seed}, digest {digest}, {} events identical",
        report.events()
    )))
}

/// The first line where two traces differ, if any.
fn first_difference(recorded: &str, replayed: &str) -> Option<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (recorded.lines().collect(), replayed.lines().collect());
    let at = (0..a.len().max(b.len())).find(|i| a.get(*i) != b.get(*i))?;
    let show = |l: Option<&&str>| l.map_or("(no event)".to_string(), |l| l.trim().to_string());
    Some(format!(
        "first diverging event #{at}\n  recorded: {}\n  replayed: {}",
        show(a.get(at)),
        show(b.get(at))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_named_with_both_sides() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        let d = first_difference("a\nb\nc", "a\nx\nc").unwrap();
        assert!(
            d.contains("#1") && d.contains("recorded: b") && d.contains("replayed: x"),
            "{d}"
        );
        assert!(
            first_difference("a\n", "a\nb\n")
                .unwrap()
                .contains("(no event)")
        );
    }
}
