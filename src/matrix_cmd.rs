//! `eosim matrix`: every protocol model against every fault class, computed
//! from runs (see `models::matrix`), printed as an 80-column table, as
//! Markdown or as JSON Lines.

use models::matrix::{Cell, FaultClass, Matrix};
use models::protocols::{Model, registry};
use models::scenario::Scenario;
use rayon::prelude::*;
use serde_json::json;

/// How the matrix is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixFormat {
    /// A table for the terminal, 80 columns.
    Human,
    /// A Markdown table, with the number of seeds each check broke on.
    Md,
    /// JSON Lines: one `matrix_cell` per cell, then `matrix_end`.
    Json,
}

/// Terminal width.
const WIDTH: usize = 80;

/// Width of the model column: the longest model code and a space.
fn model_width() -> usize {
    let longest = registry()
        .models()
        .iter()
        .map(|m| m.info().code.len())
        .max();
    longest.unwrap_or(0) + 1
}

/// Width of each fault column: what is left, shared out.
fn cell_width() -> usize {
    (WIDTH - model_width()) / FaultClass::ALL.len()
}

/// Compute and print the matrix of the catalogue and the step programs of
/// `step_files`; returns the exit code (1 when a model's claimed check
/// broke under a fault class it claims to survive, 4 when a file is not a
/// valid scenario with a step program).
pub fn matrix(step_files: &[String], seeds: u64, jobs: Option<usize>, format: MatrixFormat) -> u8 {
    let mut models = registry().models().to_vec();
    match step_models(step_files) {
        Ok(steps) => models.extend(steps),
        Err(msg) => {
            errln!("{msg}");
            return 4;
        }
    }
    let (pool, jobs) = match crate::worker_pool(jobs) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let pairs = Matrix::pairs_for(&models);
    errln!(
        "running {} cells × {seeds} seeds on {jobs} threads",
        pairs.len()
    );
    let cells = pool.install(|| {
        pairs
            .par_iter()
            .map(|(m, f)| Cell::run(*m, *f, 0..seeds))
            .collect()
    });
    let matrix = Matrix::assemble_for(&models, seeds, cells);
    match format {
        MatrixFormat::Human => crate::out(human(&matrix)),
        MatrixFormat::Md => crate::out(markdown(&matrix)),
        MatrixFormat::Json => json_lines(&matrix),
    }
    u8::from(!matrix.contradictions().is_empty())
}

/// The step programs of `files`, once each, in order.
fn step_models(files: &[String]) -> Result<Vec<Model>, String> {
    let mut models: Vec<Model> = Vec::new();
    for file in files {
        let scenario = Scenario::load(file).map_err(|e| format!("{e}"))?;
        let model = scenario.model();
        if model.steps().is_none() {
            return Err(format!(
                "error: {file} names the catalogue's {}, which is already a row; give \
                 scenario files with a step program (`model: Steps(...)`)",
                model.info().code
            ));
        }
        if !models.contains(&model) {
            models.push(model);
        }
    }
    Ok(models)
}

/// What a cell says: the checks that broke (`!` marks a claimed check under
/// a survived fault), or `holds`.
fn cell_words(cell: &Cell, counts: bool) -> Vec<String> {
    if !cell.applies() {
        return vec!["n/a".into()];
    }
    if cell.broken.is_empty() {
        return vec!["holds".into()];
    }
    let contradicted = cell.claims_broken();
    cell.broken
        .iter()
        .map(|(check, n)| {
            let mark = if contradicted.contains(check) {
                "!"
            } else {
                ""
            };
            if counts {
                format!("{check}{mark} ({n})")
            } else {
                format!("{check}{mark}")
            }
        })
        .collect()
}

/// Words packed into lines of at most `width` characters.
fn pack(words: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for w in words {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + w.chars().count() <= width => {
                line.push(' ');
                line.push_str(w);
            }
            _ => lines.push(w.clone()),
        }
    }
    lines
}

fn human(matrix: &Matrix) -> String {
    let mut out = vec![
        format!(
            "fault matrix · {} seeds per cell · 15 messages, faults until 2 s",
            matrix.seeds
        ),
        "a cell lists the checks that broke on some seed; holds: none did".into(),
        "n/a: the model has no such fault (no consumer group to rebalance, or".into(),
        "     a broker that flushes every write: M7, M12)".into(),
        "C14, C15 are listed only where claimed: the others break them unfaulted".into(),
        String::new(),
        row_line("model", FaultClass::ALL.iter().map(|f| header(*f))),
        row_line(
            &"─".repeat(model_width() - 1),
            FaultClass::ALL.iter().map(|_| "─".repeat(cell_width() - 1)),
        ),
    ];
    for row in &matrix.rows {
        let packed: Vec<Vec<String>> = row
            .iter()
            .map(|c| pack(&cell_words(c, false), cell_width() - 1))
            .collect();
        let height = packed.iter().map(Vec::len).max().unwrap_or(1);
        for i in 0..height {
            let label = if i == 0 { row[0].model.info().code } else { "" };
            let cells = packed.iter().map(|p| p.get(i).cloned().unwrap_or_default());
            out.push(row_line(label, cells));
        }
    }
    out.push(String::new());
    out.extend(legend(matrix));
    out.join("\n") + "\n"
}

fn row_line(label: &str, cells: impl Iterator<Item = String>) -> String {
    let (mw, cw) = (model_width(), cell_width());
    let mut line = format!("{label:<mw$}");
    for c in cells {
        line.push_str(&format!("{c:<cw$}"));
    }
    line.trim_end().to_string()
}

/// The knobs behind the columns and the verdict on the claims.
/// A column's header, shortened to fit its cell (the legend gives the
/// full name).
fn header(f: FaultClass) -> String {
    let name = f.name();
    if name.chars().count() < cell_width() {
        return name.to_string();
    }
    let short: String = name.chars().take(cell_width() - 2).collect();
    short + "."
}

fn legend(matrix: &Matrix) -> Vec<String> {
    let knobs: Vec<String> = FaultClass::ALL
        .iter()
        .map(|f| match header(*f) {
            h if h == f.name() => format!("{h}: {}", f.knob()),
            h => format!("{h} ({}): {}", f.name(), f.knob()),
        })
        .collect();
    let mut lines = vec![reports::text::join_wrapped(
        &prefixed("columns  ", &knobs),
        " · ",
        "         ",
    )];
    let contradictions = matrix.contradictions();
    if contradictions.is_empty() {
        lines.push(reports::text::wrap(
            "claims   every claimed check held under the fault classes its model \
             survives (eosim list-models)",
            "         ",
        ));
    }
    let unprobed: Vec<&str> = matrix
        .rows
        .iter()
        .filter_map(|row| row.first())
        .map(|cell| cell.model)
        .filter(|m| m.info().claims.iter().any(|c| c.is_law()) && !m.probed())
        .map(|m| m.info().code)
        .collect();
    if !unprobed.is_empty() {
        let line = format!(
            "unchecked  the laws (C14, C15) that {} claim: the law probe cannot replay \
             their handlers (eosim run on one of their lessons says why)",
            unprobed.join(", ")
        );
        lines.push(reports::text::wrap(&line, "           "));
    }
    for cell in contradictions {
        let checks: Vec<String> = cell
            .claims_broken()
            .iter()
            .map(|c| format!("{} on {} seeds", c.label(), cell.broken[c]))
            .collect();
        let line = format!(
            "CONTRADICTED  {} claims to survive {} yet broke {} of {}",
            cell.model.info().code,
            cell.fault,
            checks.join(", "),
            cell.seeds
        );
        lines.push(reports::text::wrap(&line, "              "));
    }
    let inconclusive: u64 = matrix.rows.iter().flatten().map(|c| c.inconclusive).sum();
    if inconclusive > 0 {
        lines.push(format!(
            "note     {inconclusive} runs hit a time, event or memory bound"
        ));
    }
    lines
}

fn prefixed(prefix: &str, parts: &[String]) -> Vec<String> {
    let mut parts = parts.to_vec();
    if let Some(first) = parts.first_mut() {
        *first = format!("{prefix}{first}");
    }
    parts
}

fn markdown(matrix: &Matrix) -> String {
    let header: Vec<&str> = FaultClass::ALL.iter().map(|f| f.name()).collect();
    let mut out = vec![
        format!(
            "Fault matrix: {} seeds per cell, 15 messages, faults until 2 s. \
             A cell lists the checks that broke, with the number of seeds they \
             broke on; `!` marks a claimed check under a fault the model claims \
             to survive; n/a: the model has no such fault (no consumer group to \
             rebalance, or a broker that flushes every write: M7, M12). The laws C14 and C15 are listed only for the models that \
             claim them: the others break them with no fault at all.",
            matrix.seeds
        ),
        String::new(),
        format!("| model | {} |", header.join(" | ")),
        format!("|---|{}", "---|".repeat(header.len())),
    ];
    for row in &matrix.rows {
        let cells: Vec<String> = row.iter().map(|c| cell_words(c, true).join(", ")).collect();
        out.push(format!(
            "| {} | {} |",
            row[0].model.info().code,
            cells.join(" | ")
        ));
    }
    out.push(String::new());
    for f in FaultClass::ALL {
        out.push(format!("- `{}`: {}", f.name(), f.knob()));
    }
    out.join("\n") + "\n"
}

fn json_lines(matrix: &Matrix) {
    for cell in matrix.rows.iter().flatten() {
        let broken: serde_json::Map<String, serde_json::Value> = cell
            .broken
            .iter()
            .map(|(c, n)| (c.code().to_string(), json!(n)))
            .collect();
        let claims: Vec<&str> = cell.claims_broken().iter().map(|c| c.code()).collect();
        let data = json!({
            "model": cell.model.info().code,
            "fault": cell.fault.name(),
            "seeds": cell.seeds,
            "broken": broken,
            "applies": cell.applies(),
            "survived_by_claim": cell.survived_by_claim(),
            "claims_broken": claims,
            "inconclusive": cell.inconclusive,
        });
        crate::outln(json!({ "type": "matrix_cell", "data": data }));
    }
    let data = json!({ "seeds": matrix.seeds, "contradictions": matrix.contradictions().len() });
    crate::outln(json!({ "type": "matrix_end", "data": data }));
}
