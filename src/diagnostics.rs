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
    for text in rendered(err, format) {
        match format {
            Format::Human => errln!("{text}"),
            Format::Json => crate::outln(text),
        }
    }
}

/// Every problem of `err` as [`report`] prints it, one text each.
pub(crate) fn rendered(err: &ScenarioError, format: Format) -> Vec<String> {
    let ScenarioError::Invalid {
        file,
        source,
        diagnostics,
    } = err
    else {
        return vec![match format {
            Format::Human => format!("error: {err}"),
            Format::Json => {
                let data = serde_json::json!({ "message": err.to_string(), "severity": "error" });
                reports::jsonl::envelope("diagnostic", &data)
            }
        }];
    };
    let mut texts = Vec::new();
    for d in diagnostics {
        let offset = d.offset.min(source.len());
        // The graphical renderer cannot format columns past 65,535; JSON
        // keeps the true offset.
        let long = (format == Format::Human)
            .then(|| excerpt(source, offset, d.line))
            .flatten();
        let (shown, offset, label) = match long {
            Some((text, at)) => (text, at, format!("{} (column {})", d.label, d.column)),
            None => (source.clone(), offset, d.label.clone()),
        };
        let located = Located {
            code: d.code,
            message: d.message.clone(),
            help: d.help.clone(),
            label,
            offset,
            len: d.len.min(EXCERPT_SIDE),
            source: NamedSource::new(file, shown),
        };
        texts.push(match format {
            Format::Human => render(&located),
            Format::Json => {
                let mut json = String::new();
                let _ = JSONReportHandler::new().render_report(&mut json, &located);
                let data: serde_json::Value =
                    serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
                reports::jsonl::envelope("diagnostic", &data)
            }
        });
    }
    texts
}

/// The longest line a diagnostic shows whole; past it, an excerpt.
const LINE_SHOWN_MAX: usize = 1000;

/// How many bytes an excerpt keeps on each side of the error.
const EXCERPT_SIDE: usize = 120;

/// For an error at `offset` on line `line` (1-based) of a line longer than
/// [`LINE_SHOWN_MAX`]: a source of that many lines whose last one is an
/// excerpt around the error, and the error's offset in it, so that the
/// renderer keeps the line number, shows a bounded excerpt, and never sees
/// a column it cannot format.
fn excerpt(source: &str, offset: usize, line: usize) -> Option<(String, usize)> {
    let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i);
    if end - start <= LINE_SHOWN_MAX {
        return None;
    }
    let floor = |mut i: usize| {
        while !source.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let from = floor(offset.saturating_sub(EXCERPT_SIDE).max(start));
    let to = floor((offset + EXCERPT_SIDE).min(end));
    let mut shown = "\n".repeat(line.saturating_sub(1));
    shown.push('…');
    let at = shown.len() + (offset - from);
    shown.push_str(&source[from..to]);
    shown.push('…');
    Some((shown, at))
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
