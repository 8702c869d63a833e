//! `eosim check`: validate scenario files and print their resolved plans.

use models::scenario::Scenario;
use serde_json::json;

use crate::{Format, diagnostics, scenario_files, worst};

/// Validate `path` (a file or a folder); returns the exit code.
pub fn check(path: &str, format: Format) -> u8 {
    let files = match scenario_files(path) {
        Ok(files) => files,
        Err(msg) => {
            errln!("error: {msg}");
            return 4;
        }
    };
    let mut code = 0;
    for file in &files {
        code = worst(code, check_one(file, format));
    }
    code
}

fn check_one(file: &str, format: Format) -> u8 {
    match Scenario::load(file) {
        Err(e) => {
            diagnostics::report(&e, format);
            diagnostics::exit_code(&e)
        }
        Ok(s) => {
            match format {
                Format::Human => crate::out(plan(&s)),
                Format::Json => {
                    let data = json!({ "file": file, "scenario": s.name(), "valid": true, "resolved": s.resolved_ron() });
                    crate::outln(json!({ "type": "check", "data": data }));
                }
            }
            0
        }
    }
}

/// The resolved plan of a valid scenario, wrapped at 80 columns.
fn plan(s: &Scenario) -> String {
    use reports::text::{fault_parts, wrap};
    const INDENT: &str = "           ";
    let info = s.model().info();
    let actors = s.actors().names();
    let mut lines = vec![
        format!("OK  {}", s.file()),
        wrap(
            &format!(
                "  scenario {} · model {}: {}",
                s.name(),
                info.code,
                info.title
            ),
            INDENT,
        ),
        labelled("  actors   ", actors.to_vec(), ", "),
    ];
    if let Some(unit) = s.model().steps() {
        lines.extend(step_lines(unit));
    }
    for (a, name) in actors.iter().enumerate() {
        if let Some(why) = s.actors().why_no_crash_points(a) {
            let line = format!("  crash    {name}: none ({why})");
            lines.push(wrap(&line, INDENT));
            continue;
        }
        let points: Vec<String> = s
            .actors()
            .crash_points(a)
            .iter()
            .map(|p| (*p).to_string())
            .collect();
        let told_with_steps = s
            .model()
            .steps()
            .is_some_and(|u| points.iter().all(|p| u.step_before(p).is_some()));
        if told_with_steps {
            continue;
        }
        lines.push(labelled(&format!("  crash    {name}: "), points, ", "));
    }
    lines.push(labelled("  faults   ", fault_parts(s), " · "));
    lines.push(wrap(&format!("  claims   {}", claims(s)), INDENT));
    let expect: Vec<&str> = s.expected().iter().map(|c| c.code()).collect();
    let expect = if expect.is_empty() {
        "Pass".to_string()
    } else {
        expect.join(", ")
    };
    lines.push(format!("  expect   {expect}"));
    lines.join("\n") + "\n"
}

/// A step program, numbered as stories number it, each crash point under
/// the step it follows.
fn step_lines(unit: &'static models::protocols::steps::StepProtocol) -> Vec<String> {
    use models::protocols::Protocol as _;
    use reports::text::wrap;
    const INDENT: &str = "               ";
    let program = unit.program();
    let mut lines = Vec::new();
    let points = unit.info().consumer_crash_points;
    for (i, step) in program.consumer.iter().enumerate() {
        let label = if i == 0 { "  steps    " } else { "           " };
        lines.push(wrap(&format!("{label}{:>2}. {step}", i + 1), INDENT));
        let after = points.iter().filter(|p| unit.step_before(p) == Some(i + 1));
        lines.extend(after.map(|p| format!("{INDENT}crash point {p}")));
    }
    for (i, step) in program.recovery.iter().enumerate() {
        let label = if i == 0 { "  recovery " } else { "           " };
        lines.push(wrap(&format!("{label}{step}"), INDENT));
    }
    lines
}

/// `label` then `parts` joined by `sep`, wrapped between parts.
fn labelled(label: &str, mut parts: Vec<String>, sep: &str) -> String {
    if let Some(first) = parts.first_mut() {
        *first = format!("{label}{first}");
    }
    reports::text::join_wrapped(&parts, sep, "           ")
}

fn claims(s: &Scenario) -> String {
    let info = s.model().info();
    let codes: Vec<&str> = info.claims.iter().map(|c| c.code()).collect();
    format!("{} ({})", info.guarantee, codes.join(", "))
}
