//! Scenario errors: every problem in a file, each with its file, line and
//! column, what was expected, and the nearest valid name.

use std::fmt;

/// One problem at one place in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// A stable code (`scenario::unknown-actor`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// A short label for the underlined text.
    pub label: String,
    /// What to do instead ("did you mean `consumer-2`?").
    pub help: Option<String>,
    /// Byte offset of the offending text.
    pub offset: usize,
    /// Byte length of the offending text.
    pub len: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Diagnostic {
    /// A diagnostic for the text `text[start..end]`.
    pub(crate) fn at(
        text: &str,
        (start, end): (usize, usize),
        code: &'static str,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> Diagnostic {
        let (line, column) = line_col(text, start);
        let len = end.saturating_sub(start);
        Diagnostic {
            code,
            message: bounded(message),
            label: label.to_string(),
            help: help.map(bounded),
            offset: start,
            len,
            line,
            column,
        }
    }
}

/// Why a scenario could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    Unreadable {
        /// The path.
        file: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The file was read but is not scenario text: too large, or not
    /// UTF-8 (the reason names the byte).
    NotText {
        /// The path.
        file: String,
        /// What is wrong, with the byte offset where it applies.
        reason: String,
    },
    /// The file was read but is not a valid scenario.
    Invalid {
        /// The path.
        file: String,
        /// The file's text.
        source: String,
        /// Every problem found, in file order.
        diagnostics: Vec<Diagnostic>,
    },
}

impl fmt::Display for ScenarioError {
    /// One line per problem, `file:line:col: message`, with its help.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Unreadable { file, reason } => write!(f, "cannot read {file}: {reason}"),
            ScenarioError::NotText { file, reason } => write!(f, "{file} is {reason}"),
            ScenarioError::Invalid {
                file, diagnostics, ..
            } => {
                for (i, d) in diagnostics.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(
                        f,
                        "{file}:{}:{}: {} ({})",
                        d.line, d.column, d.message, d.label
                    )?;
                    if let Some(help) = &d.help {
                        write!(f, "\n  help: {help}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

/// The most characters of one name a diagnostic quotes.
pub const QUOTED_CHARS_MAX: usize = 60;

/// `name` as a diagnostic may quote it: whole if short, else its first
/// characters and how long it is, so that a hostile file cannot make the
/// error as large as itself.
pub fn excerpt(name: &str) -> String {
    let chars = name.chars().count();
    if chars <= QUOTED_CHARS_MAX {
        return name.to_string();
    }
    let head: String = name.chars().take(QUOTED_CHARS_MAX - 20).collect();
    format!("{head}… ({chars} characters)")
}

/// `text` with every `` `quoted` `` part cut to an [`excerpt`]: diagnostics
/// quote the user's names in backticks, and only those can be long.
fn bounded(text: String) -> String {
    let long_quote = text
        .split('`')
        .skip(1)
        .step_by(2)
        .any(|q| q.chars().count() > QUOTED_CHARS_MAX);
    if !long_quote && text.len() <= MESSAGE_BYTES_MAX {
        return text;
    }
    let mut out = String::with_capacity(text.len().min(1024));
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        if i % 2 == 1 {
            out.push_str(&excerpt(part));
        } else {
            out.push_str(part);
        }
    }
    if out.len() > MESSAGE_BYTES_MAX {
        let mut cut = MESSAGE_BYTES_MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("… (cut)");
    }
    out
}

/// The longest message or help a diagnostic keeps, in bytes.
const MESSAGE_BYTES_MAX: usize = 2048;

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Byte offset of a 1-based line and column (in characters).
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[line_start.min(text.len())..];
    let within: usize = rest
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (line_start + within).min(text.len())
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The valid name closest to `found`, if it is close enough to be a typo.
pub fn nearest<'a>(found: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (found.chars().count() / 3).max(2);
    valid
        .into_iter()
        .map(|v| (strsim::levenshtein(found, v), v))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_name_is_quoted_as_an_excerpt_with_its_length() {
        let long = "a".repeat(1_000_000);
        let d = super::Diagnostic::at(
            "x",
            (0, 1),
            "scenario::test",
            format!("unknown actor `{long}`; this scenario has `broker`"),
            "here",
            Some(format!("did you mean `{long}`?")),
        );
        assert!(d.message.len() < 200, "{}", d.message);
        assert!(d.message.contains("(1000000 characters)"), "{}", d.message);
        assert!(
            d.message.ends_with("this scenario has `broker`"),
            "{}",
            d.message
        );
        assert!(d.help.as_deref().is_some_and(|h| h.len() < 200));
        let unquoted = "b".repeat(100_000);
        let d = super::Diagnostic::at("x", (0, 1), "scenario::test", unquoted, "here", None);
        assert!(d.message.len() < 2100, "a whole message is bounded too");
    }

    use super::*;

    #[test]
    fn nearest_suggests_only_plausible_typos() {
        let actors = ["consumer-1", "consumer-2", "broker"];
        assert_eq!(nearest("consumer-3", actors), Some("consumer-1"));
        assert_eq!(nearest("borker", actors), Some("broker"));
        assert_eq!(nearest("database", actors), None);
    }

    #[test]
    fn line_and_column_round_trip_through_offsets() {
        let text = "ab\ncdé\nfg";
        for (line, col) in [(1, 1), (2, 3), (2, 4), (3, 2)] {
            assert_eq!(line_col(text, offset_of(text, line, col)), (line, col));
        }
    }
}
