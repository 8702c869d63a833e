//! `eosim check`: validate scenario files and print their resolved plans.

use models::scenario::Scenario;
use serde_json::json;

use crate::{Format, diagnostics, scenario_files, worst};

/// Validate `path` (a file or a folder); returns the exit code.
pub fn check(path: &str, format: Format) -> u8 {
    let files = match scenario_files(path) {
        Ok(files) => files,
        Err(msg) => {
            eprintln!("error: {msg}");
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

fn plan(s: &Scenario) -> String {
    let info = s.model().info();
    let actors = s.actors().names();
    let mut out = format!(
        "OK  {} · {} ({}) · {}\n",
        s.file(),
        s.name(),
        info.code,
        info.title
    );
    out.push_str(&format!("  actors   {}\n", actors.join(", ")));
    let points: Vec<String> = (0..actors.len())
        .filter(|a| !s.actors().crash_points(*a).is_empty())
        .map(|a| format!("{}: {}", actors[a], s.actors().crash_points(a).join(", ")))
        .collect();
    if !points.is_empty() {
        out.push_str(&format!("  crash points  {}\n", points.join("; ")));
    }
    out.push_str(&format!("  faults   {}\n", reports::text::fault_summary(s)));
    let expect: Vec<&str> = s.expected().iter().map(|c| c.code()).collect();
    let expect = if expect.is_empty() {
        "Pass".to_string()
    } else {
        expect.join(", ")
    };
    out.push_str(&format!("  claims   {}\n  expect   {expect}\n", claims(s)));
    out
}

fn claims(s: &Scenario) -> String {
    let info = s.model().info();
    let codes: Vec<&str> = info.claims.iter().map(|c| c.code()).collect();
    format!("{} ({})", info.guarantee, codes.join(", "))
}
