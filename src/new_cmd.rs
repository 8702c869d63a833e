//! `eosim new <name> --model M --faults loss,dup,…`: write a commented
//! scenario to start from. Its `expect` is what a run at seed 0 shows, so
//! the file passes `eosim check` and `eosim run` as written; the comment
//! says what the model claims, so that the author can state a sharper claim.

use std::path::Path;

use models::check::CheckId;
use models::matrix::{FaultClass, combined_spec};
use models::protocols::Model;
use models::scenario::Scenario;
use models::scenario::spec::Expect;

/// What `eosim new` was given.
pub struct NewArgs {
    /// The scenario's name, or a path ending in `.ron`.
    pub name: String,
    /// The model, by code (`M2`, `M0-naive`).
    pub model: String,
    /// Fault classes, comma-separated.
    pub faults: String,
    /// Overwrite an existing file.
    pub force: bool,
}

/// Write the scenario; returns the exit code (0 written, 2 bad arguments or
/// an existing file).
pub fn new(args: &NewArgs) -> u8 {
    match write(args) {
        Ok(path) => {
            crate::outln(format!("wrote {path}"));
            let command = reports::command();
            crate::outln(format!("  check it  {command} check {path}"));
            crate::outln(format!("  run it    {command} run {path}"));
            0
        }
        Err(msg) => {
            errln!("error: {msg}");
            2
        }
    }
}

fn write(args: &NewArgs) -> Result<String, String> {
    let model = crate::list_models_cmd::find(&args.model)?;
    let faults = parse_faults(&args.faults)?;
    let (path, name) = path_and_name(&args.name)?;
    if Path::new(&path).exists() && !args.force {
        return Err(format!("{path} exists; pass --force to overwrite it"));
    }
    let text = scenario_text(&name, model, &faults)?;
    std::fs::write(&path, text).map_err(|e| format!("cannot write {path}: {e}"))?;
    Ok(path)
}

/// `loss,dup` → the classes, or a message naming the unknown one.
fn parse_faults(list: &str) -> Result<Vec<FaultClass>, String> {
    let mut faults = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let names: Vec<&str> = FaultClass::ALL.iter().map(|f| f.name()).collect();
        let fault = FaultClass::from_name(word).ok_or_else(|| {
            let hint = models::scenario::nearest(word, names.iter().copied())
                .map_or_else(String::new, |n| format!("; did you mean `{n}`?"));
            format!(
                "no fault class `{word}`{hint} (the classes are {})",
                names.join(", ")
            )
        })?;
        if !faults.contains(&fault) {
            faults.push(fault);
        }
    }
    Ok(faults)
}

/// `my-test` → (`my-test.ron`, `my-test`); `dir/x.ron` → (`dir/x.ron`, `x`).
fn path_and_name(given: &str) -> Result<(String, String), String> {
    let path = if given.ends_with(".ron") {
        given.to_string()
    } else {
        format!("{given}.ron")
    };
    let name = Path::new(&path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("`{given}` is not a file name"))?;
    Ok((path, name))
}

/// The commented scenario, its `expect` filled in from a run at seed 0.
fn scenario_text(name: &str, model: Model, faults: &[FaultClass]) -> Result<String, String> {
    if let Some(f) = faults.iter().find(|f| !f.applies_to(model)) {
        return Err(format!(
            "{} has no `{f}` fault: its consumers form no group to rebalance (rebalances apply \
             to M1-M7 and M9-M11)",
            model.info().code
        ));
    }
    let mut spec = combined_spec(name, model, faults);
    let scenario = Scenario::from_spec(name, spec.clone()).map_err(|e| e.to_string())?;
    let report = models::run::run(&scenario, 0, false);
    let mut broken: Vec<CheckId> = report.violations().map(|(v, _)| v.check).collect();
    broken.dedup();
    spec.expect = if broken.is_empty() {
        Expect::Pass
    } else {
        Expect::Violates(broken)
    };
    let mut text = header(name, model, faults, &spec.expect);
    text.push_str(&models::shrink::compact_ron(&spec));
    Scenario::parse(name, &text).map_err(|e| format!("generated an invalid scenario: {e}"))?;
    Ok(text)
}

/// The leading comment: what the model claims, what the faults are, and
/// where `expect` came from.
fn header(name: &str, model: Model, faults: &[FaultClass], expect: &Expect) -> String {
    let info = model.info();
    let knobs: Vec<&str> = faults.iter().map(|f| f.knob()).collect();
    let faults_line = if knobs.is_empty() {
        "no faults".to_string()
    } else {
        knobs.join("; ")
    };
    let claims: Vec<String> = info.claims.iter().map(|c| c.label()).collect();
    let seen = match expect {
        Expect::Pass => "every check held".to_string(),
        Expect::Violates(checks) => {
            let codes: Vec<&str> = checks.iter().map(|c| c.code()).collect();
            format!("it violated {}", codes.join(", "))
        }
    };
    let lines = [
        format!("{name}: {} · {}.", info.code, info.title),
        format!("Faults: {faults_line}."),
        format!(
            "{} claims {}: {}.",
            info.code,
            info.guarantee,
            claims.join(", ")
        ),
        format!("Breakers: {}", info.breakers),
        format!(
            "`expect` is what a run at seed 0 showed ({seen}); state your own claim \
             there, then try other seeds with `eosim sweep`."
        ),
    ];
    let mut out = String::new();
    for line in lines {
        out.push_str(&reports::text::wrap(&format!("// {line}"), "// "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_and_fault_class_gives_a_valid_scenario_that_runs_as_it_says() {
        for model in models::protocols::registry().models().iter().copied() {
            for fault in FaultClass::ALL {
                if !fault.applies_to(model) {
                    let e = scenario_text("t", model, &[fault]).unwrap_err();
                    assert!(e.contains("no group to rebalance"), "{e}");
                    continue;
                }
                let text = scenario_text("t", model, &[fault]).unwrap();
                let s = Scenario::parse("t.ron", &text).unwrap();
                let report = models::run::run(&s, 0, false);
                assert_eq!(report.verdict, models::run::Verdict::Pass, "{text}");
            }
        }
    }

    #[test]
    fn unknown_fault_classes_and_names_are_clear_errors() {
        let e = parse_faults("loss,dupe").unwrap_err();
        assert!(e.contains("did you mean `dup`?"), "{e}");
        assert_eq!(
            parse_faults("loss, dup,loss").unwrap(),
            [FaultClass::Loss, FaultClass::Duplicate]
        );
        assert_eq!(
            path_and_name("dir/x.ron").unwrap(),
            ("dir/x.ron".to_string(), "x".to_string())
        );
        assert_eq!(path_and_name("y").unwrap().0, "y.ron");
    }
}
