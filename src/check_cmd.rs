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
    for a in (0..actors.len()).filter(|a| !s.actors().crash_points(*a).is_empty()) {
        let points: Vec<String> = s
            .actors()
            .crash_points(a)
            .iter()
            .map(|p| (*p).to_string())
            .collect();
        lines.push(labelled(
            &format!("  crash    {}: ", actors[a]),
            points,
            ", ",
        ));
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
