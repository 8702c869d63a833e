//! `eosim replay <run-dir>`: re-execute a recorded run and prove it is the
//! same run: the scenario's hash, the digest and every event must match.
//! `eosim replay <scenario> --seed N [--digest D]`: run the seed twice, event
//! by event, and against the digest given.

use std::path::Path;

use models::run;
use models::scenario::Scenario;

use crate::{Format, diagnostics, vouch};

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
    crate::outln(format!("REPLAY OK  {file}, {against}"));
    crate::outln(wrap(&vouch::summary(&first)));
    0
}

/// Replay the run folder `dir`: every file it holds is compared with what
/// the run gives, or named as not vouched for (see [`crate::vouch`]).
fn replay_folder(dir: &str) -> u8 {
    match vouch::replay(Path::new(dir)) {
        vouch::Outcome::Same(proof) => {
            let mut out = format!("REPLAY OK  {dir}\n{}\n", wrap(&proof.summary));
            out.push_str(&listed("vouched for", &proof.vouched));
            out.push_str(&listed("not vouched for", &proof.not_vouched));
            crate::out(out);
            0
        }
        vouch::Outcome::Differs(differences) => {
            errln!("REPLAY DIFFERS  {dir}");
            for d in differences {
                errln!("  {d}");
            }
            5
        }
        vouch::Outcome::Unreadable(msg) => {
            errln!("error: {msg}");
            4
        }
    }
}

/// `files` after `label`, wrapped at 80 columns under their first; nothing
/// if there are none.
fn listed(label: &str, files: &[String]) -> String {
    const COLUMN: usize = 19;
    let Some((first, rest)) = files.split_first() else {
        return String::new();
    };
    let parts: Vec<String> = std::iter::once(format!("  {label:<w$}{first}", w = COLUMN - 2))
        .chain(rest.iter().cloned())
        .collect();
    reports::text::join_wrapped(&parts, " · ", &" ".repeat(COLUMN)) + "\n"
}

/// `text` wrapped at 80 columns between words, indented by two.
fn wrap(text: &str) -> String {
    let words: Vec<String> = std::iter::once(String::from(" "))
        .chain(text.split(' ').map(str::to_string))
        .collect();
    reports::text::join_wrapped(&words, " ", "  ")
}

/// The first line where two traces differ, if any.
pub(crate) fn first_difference(recorded: &str, replayed: &str) -> Option<String> {
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
