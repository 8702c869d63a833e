//! `eosim run`: one scenario in full, or a folder with one line each.

use models::run;
use models::scenario::Scenario;

use crate::{Format, diagnostics, scenario_files, worst};

/// Run `path` (a file or a folder); returns the exit code.
pub fn run(path: &str, seed: Option<u64>, format: Format) -> u8 {
    let files = match scenario_files(path) {
        Ok(files) => files,
        Err(msg) => {
            eprintln!("error: {msg}");
            return 4;
        }
    };
    if files.is_empty() {
        eprintln!("error: no .ron scenario files under {path}");
        return 4;
    }
    let many = std::path::Path::new(path).is_dir();
    let mut tally = Tally::default();
    for file in &files {
        let code = run_one(file, seed, format, many);
        tally.add(code);
    }
    if many && format == Format::Human {
        crate::outln(tally.line());
    }
    tally.worst
}

fn run_one(file: &str, seed: Option<u64>, format: Format, brief: bool) -> u8 {
    let scenario = match Scenario::load(file) {
        Ok(s) => s,
        Err(e) => {
            diagnostics::report(&e, format);
            if brief && format == Format::Human {
                crate::outln(format!("INVALID {file}"));
            }
            return 4;
        }
    };
    let seed = seed.unwrap_or(scenario.seed());
    let report = run::run(&scenario, seed, false);
    match format {
        Format::Json => reports::jsonl::lines(&scenario, &report, file)
            .iter()
            .for_each(crate::outln),
        Format::Human if brief => crate::outln(reports::text::summary_line(&scenario, &report)),
        Format::Human => crate::out(reports::text::render(&scenario, &report, file)),
    }
    report.verdict.exit_code()
}

#[derive(Default)]
struct Tally {
    total: u32,
    pass: u32,
    fail: u32,
    inconclusive: u32,
    invalid: u32,
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
        format!(
            "{verdict} {} scenarios · {} as expected · {} failed · {} inconclusive · {} invalid",
            self.total, self.pass, self.fail, self.inconclusive, self.invalid
        )
    }
}
