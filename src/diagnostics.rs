//! Scenario errors rendered with miette: graphical (80 columns, no colour
//! needed to read it), narratable with `NO_GRAPHICS=1`, or JSON.

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, JSONReportHandler, LabeledSpan,
    NamedSource, NarratableReportHandler, SourceCode,
};
use models::scenario::ScenarioError;

use crate::Format;

/// One located problem, as miette wants it.
#[derive(Debug)]
struct Located {
    code: &'static str,
    message: String,
    help: Option<String>,
    label: String,
    offset: usize,
    len: usize,
    source: NamedSource<String>,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Located {}

impl Diagnostic for Located {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = LabeledSpan::new(Some(self.label.clone()), self.offset, self.len.max(1));
        Some(Box::new(std::iter::once(span)))
    }
}

/// The exit code of a scenario that could not be loaded: a path that
/// cannot be read is a usage error (2), an invalid file is 4.
pub fn exit_code(err: &ScenarioError) -> u8 {
    match err {
        ScenarioError::Unreadable { .. } => 2,
        _ => 4,
    }
}

/// Print every problem of `err` to stderr (human) or stdout (JSON).
pub fn report(err: &ScenarioError, format: Format) {
    let ScenarioError::Invalid {
        file,
        source,
        diagnostics,
    } = err
    else {
        match format {
            Format::Human => eprintln!("error: {err}"),
            Format::Json => {
                let data = serde_json::json!({ "message": err.to_string(), "severity": "error" });
                crate::outln(reports::jsonl::envelope("diagnostic", &data));
            }
        }
        return;
    };
    for d in diagnostics {
        let located = Located {
            code: d.code,
            message: d.message.clone(),
            help: d.help.clone(),
            label: d.label.clone(),
            offset: d.offset.min(source.len()),
            len: d.len,
            source: NamedSource::new(file, source.clone()),
        };
        match format {
            Format::Human => eprintln!("{}", render(&located)),
            Format::Json => {
                let mut json = String::new();
                let _ = JSONReportHandler::new().render_report(&mut json, &located);
                let data: serde_json::Value =
                    serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
                crate::outln(reports::jsonl::envelope("diagnostic", &data));
            }
        }
    }
}

fn render(d: &Located) -> String {
    let mut out = String::new();
    if std::env::var_os("NO_GRAPHICS").is_some_and(|v| !v.is_empty()) {
        let _ = NarratableReportHandler::new().render_report(&mut out, d);
    } else {
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(80)
            .with_break_words(false);
        let _ = handler.render_report(&mut out, d);
    }
    out
}
