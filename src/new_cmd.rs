//! `eosim new <name> --model M --faults loss,dup,…`: write a commented
//! scenario to start from. Its `expect` is what a run at seed 0 shows, so
//! the file passes `eosim check` and `eosim run` as written; the comment
//! says what the model claims, so that the author can state a sharper claim.
//! `--steps` writes a step program instead of naming a model: the seeds'
//! naive handler, each step commented, with the vocabulary beside it.

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
    /// The model, by code (`M2`, `M0-naive`); `None` with `steps`.
    pub model: Option<String>,
    /// Write a step program to start from instead of naming a model.
    pub steps: bool,
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
    let model = match (&args.model, args.steps) {
        (Some(code), false) => crate::list_models_cmd::find(code)?,
        (None, true) => steps_template_model()?,
        (Some(_), true) => return Err("give --model or --steps, not both".into()),
        (None, false) => {
            return Err(
                "give --model (see `eosim list-models`) or --steps (write the \
                        handler's steps yourself)"
                    .into(),
            );
        }
    };
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
        let why = if *f == FaultClass::Storage {
            "its broker flushes every write (M7's transaction coordinator, M12's lease storage)"
        } else {
            "its consumers form no group to rebalance (rebalances apply to M1-M7 and M9-M11)"
        };
        return Err(format!("{} has no `{f}` fault: {why}", model.info().code));
    }
    if faults.contains(&FaultClass::Storage) && faults.contains(&FaultClass::Rebalance) {
        return Err(
            "`storage` and `rebalance` do not combine: a broker that rebalances its \
                    group flushes every write"
                .into(),
        );
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
    let body = models::shrink::compact_ron(&spec);
    for line in body.split_inclusive('\n') {
        if model.steps().is_some() && line.starts_with("    model: ") {
            text.push_str(STEPS_TEMPLATE.trim_start_matches('\n'));
        } else {
            text.push_str(line);
        }
    }
    Scenario::parse(name, &text).map_err(|e| format!("generated an invalid scenario: {e}"))?;
    Ok(text)
}

/// The step program `--steps` starts from: the seeds' naive handler, each
/// step said in words, and what else the language has.
const STEPS_TEMPLATE: &str = r#"
    // The consumer's handler, one step after another. A crash can come
    // after any step that writes (`eosim check` lists the points); nothing
    // inside Atomic([...]) can be split by a crash.
    // Steps: InsertRow · IfStatus(is: S, then: Skip | Retry | SetStatus(S)) ·
    // IfStatus(is_not: S, then: ...) · SetStatus(S) · IfSeen(set: Durable |
    // Memory | Window, then: Skip) · MarkSeen(Durable | Memory | Window) ·
    // Effect · ExternalCall · CommitOffset (first or last) · Atomic([...]).
    // Statuses: Absent, Unprocessed, Processing, Processed.
    model: Steps(
        name: "my-handler",                             // what reports call it
        consumer: [
            InsertRow,                                  // save the message as unprocessed
            IfStatus(is_not: Unprocessed, then: Skip),  // done or claimed: skip it
            SetStatus(Processing),                      // claim it
            Effect,                                     // apply it
            SetStatus(Processed),                       // mark it done
            CommitOffset,                               // tell the broker
        ],
        // What the recovery worker does to each row, every period.
        recovery: [IfStatus(is: Processing, then: SetStatus(Unprocessed))],
        // ExactlyOnce, AtLeastOnce, AtMostOnce, or Checks([C1, C3, ...]).
        claims: ExactlyOnce,
    ),
"#;

/// The model of [`STEPS_TEMPLATE`].
fn steps_template_model() -> Result<Model, String> {
    let text = format!(
        "Scenario(name: \"template\", {STEPS_TEMPLATE} workload: (messages: 1), expect: Pass)"
    );
    let scenario = Scenario::parse("the step template", &text).map_err(|e| e.to_string())?;
    Ok(scenario.model())
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
                    assert!(e.contains(&format!("has no `{fault}` fault")), "{e}");
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
    fn the_steps_template_is_a_valid_program_that_runs_as_it_says() {
        for faults in [vec![], vec![FaultClass::Crash], vec![FaultClass::Loss]] {
            let text = scenario_text("t", steps_template_model().unwrap(), &faults).unwrap();
            assert!(
                text.contains("InsertRow,  "),
                "the steps keep their comments:\n{text}"
            );
            let s = Scenario::parse("t.ron", &text).unwrap();
            assert!(s.model().steps().is_some(), "{text}");
            let report = models::run::run(&s, 0, false);
            assert_eq!(report.verdict, models::run::Verdict::Pass, "{text}");
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
