//! Where each value of a RON file is: a small scanner that maps value paths
//! (`faults.schedule[2].actor`) to byte spans, so that errors found after
//! deserialising (ron keeps no spans) can still point at the right place.
//!
//! The scanner only runs on text ron already parsed, but it never panics on
//! any input: on something it does not understand it stops and keeps what it
//! found so far.

/// Byte spans of the values of a RON document, by path.
#[derive(Debug, Default)]
pub struct Locations {
    spans: Vec<(String, usize, usize)>,
}

impl Locations {
    /// Scan `src`.
    pub fn scan(src: &str) -> Locations {
        let mut s = Scanner {
            s: src.as_bytes(),
            i: 0,
            out: Vec::new(),
            depth: 0,
        };
        s.value(String::new());
        Locations { spans: s.out }
    }

    /// The span `(start, end)` of the value at `path`, or of its nearest
    /// enclosing value that was found.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some((_, a, b)) = self.spans.iter().find(|(q, ..)| q == p) {
                return Some((*a, *b));
            }
            p = parent(p)?;
        }
    }
}

fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    out: Vec<(String, usize, usize)>,
    depth: u32,
}

fn join_field(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'+' | b'-')
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        loop {
            match (self.peek(), self.s.get(self.i + 1).copied()) {
                (Some(b), _) if b.is_ascii_whitespace() => self.i += 1,
                (Some(b'/'), Some(b'/')) => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.i += 1;
                    }
                }
                (Some(b'/'), Some(b'*')) => self.block_comment(),
                _ => return,
            }
        }
    }

    fn block_comment(&mut self) {
        self.i += 2;
        let mut depth = 1;
        while depth > 0 && self.i < self.s.len() {
            if self.s[self.i..].starts_with(b"/*") {
                depth += 1;
                self.i += 2;
            } else if self.s[self.i..].starts_with(b"*/") {
                depth -= 1;
                self.i += 2;
            } else {
                self.i += 1;
            }
        }
    }

    /// Scan one value at `path`; `None` when the input makes no sense.
    fn value(&mut self, path: String) -> Option<()> {
        self.depth += 1;
        if self.depth > 128 {
            return None;
        }
        self.skip_ws();
        let start = self.i;
        match self.peek()? {
            b'"' => self.string()?,
            b'\'' => self.char_literal()?,
            b'[' => self.seq(&path, b']')?,
            b'{' => self.seq(&path, b'}')?,
            b'(' => self.body(&path)?,
            b if is_word(b) => {
                self.word();
                self.skip_ws();
                if self.peek() == Some(b'(') {
                    self.body(&path)?;
                }
            }
            _ => return None,
        }
        self.depth -= 1;
        self.out.push((path, start, self.i));
        Some(())
    }

    fn word(&mut self) -> &str {
        let start = self.i;
        while self.peek().is_some_and(is_word) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }

    fn string(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }

    fn char_literal(&mut self) -> Option<()> {
        self.i += 1;
        if self.peek()? == b'\\' {
            self.i += 1;
        }
        self.i += 1;
        while self.peek()? != b'\'' {
            self.i += 1;
        }
        self.i += 1;
        Some(())
    }

    /// `[a, b]` (items `path[0]` …) or `{k: v}` (skipped as one value).
    fn seq(&mut self, path: &str, close: u8) -> Option<()> {
        self.i += 1;
        let mut index = 0;
        loop {
            self.skip_ws();
            if self.peek()? == close {
                self.i += 1;
                return Some(());
            }
            let before = self.i;
            self.value(format!("{path}[{index}]"))?;
            index += 1;
            self.skip_ws();
            if close == b'}' && self.peek() == Some(b':') {
                self.i += 1;
                self.value(format!("{path}[{index}]"))?;
            }
            self.skip_ws();
            if self.peek() == Some(b',') {
                self.i += 1;
            }
            if self.i == before {
                return None;
            }
        }
    }

    /// `(field: v, …)` (fields `path.field`) or `(a, b)` (items `path[0]` …).
    fn body(&mut self, path: &str) -> Option<()> {
        self.i += 1;
        let mut index = 0;
        loop {
            self.skip_ws();
            if self.peek()? == b')' {
                self.i += 1;
                return Some(());
            }
            let before = self.i;
            let item = match self.field_name() {
                Some(name) => join_field(path, &name),
                None => format!("{path}[{index}]"),
            };
            index += 1;
            self.value(item)?;
            self.skip_ws();
            if self.peek() == Some(b',') {
                self.i += 1;
            }
            if self.i == before {
                return None;
            }
        }
    }

    /// If the next tokens are `name :`, consume them and return the name.
    fn field_name(&mut self) -> Option<String> {
        let save = self.i;
        let name = self.word().to_string();
        self.skip_ws();
        if !name.is_empty() && self.peek() == Some(b':') {
            self.i += 1;
            return Some(name);
        }
        self.i = save;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"// a comment with "quotes" and (parens
Scenario(
    name: "x", /* block (comment) */
    network: (default: (loss: Ratio(1, 10))),
    faults: (schedule: [
        Crash(actor: "consumer-3", at_point: "p", nth: 1),
        Drop(link: "a->b", nth: 2),
    ]),
)"#;

    fn text(path: &str) -> &'static str {
        let (a, b) = Locations::scan(SRC).find(path).unwrap();
        &SRC[a..b]
    }

    #[test]
    fn fields_and_list_items_are_found_by_path() {
        assert_eq!(text("name"), "\"x\"");
        assert_eq!(text("faults.schedule[0].actor"), "\"consumer-3\"");
        assert_eq!(text("faults.schedule[1].nth"), "2");
        assert_eq!(text("network.default.loss"), "Ratio(1, 10)");
        assert_eq!(text("network.default.loss[1]"), "10");
    }

    #[test]
    fn a_missing_path_falls_back_to_its_nearest_parent() {
        assert_eq!(
            text("faults.schedule[1].absent"),
            "Drop(link: \"a->b\", nth: 2)"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for src in [
            "",
            "(",
            "[[[",
            "\"unterminated",
            "(a: ",
            "'",
            "/*",
            "a(b(c(",
            ")))",
            "(x: 1 2 3)",
        ] {
            let _ = Locations::scan(src).find("a.b[3]");
        }
    }
}
