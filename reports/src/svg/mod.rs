//! Pictures as SVG text, written in Rust so that a report needs no browser,
//! Graphviz or JVM to be drawn (see `UX.md` §7).
//!
//! - [`ledger`]: messages × lifecycle stages, one count per cell.
//! - [`spacetime`]: lifelines, slanted arrows, crashes and effects.
//! - [`timeline`]: per-actor lanes with fault windows and crash bars.
//!
//! Meaning is carried by words and shapes as well as colour; the palette is
//! Okabe–Ito (safe for the common colour-vision deficiencies) and
//! [`Theme::Mono`] draws everything in greys.

pub mod ledger;
pub mod spacetime;
pub mod timeline;

/// Colours, or greys only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// The Okabe–Ito palette.
    #[default]
    Color,
    /// Greys, for printing and for readers who prefer no colour.
    Mono,
}

/// The colours a picture uses, by meaning.
pub(crate) struct Palette {
    /// As expected (a count of 1).
    pub good: &'static str,
    /// Missing (a count of 0).
    pub missing: &'static str,
    /// Too many (2 or more), violations.
    pub bad: &'static str,
    /// Datagrams.
    pub ink: &'static str,
    /// Effects.
    pub effect: &'static str,
    /// Lifelines and grid.
    pub faint: &'static str,
}

impl Theme {
    pub(crate) fn palette(self) -> Palette {
        match self {
            // Okabe–Ito bluish green, orange and vermillion, as light fills
            // where text sits on them.
            Theme::Color => Palette {
                good: "#b3e3d3",
                missing: "#f5d9a0",
                bad: "#f2b59a",
                ink: "#0072B2",
                effect: "#009E73",
                faint: "#999999",
            },
            Theme::Mono => Palette {
                good: "#ffffff",
                missing: "#e6e6e6",
                bad: "#9a9a9a",
                ink: "#333333",
                effect: "#000000",
                faint: "#aaaaaa",
            },
        }
    }
}

/// Red (vermillion) strokes for violations, black in mono.
pub(crate) fn alarm(theme: Theme) -> &'static str {
    match theme {
        Theme::Color => "#D55E00",
        Theme::Mono => "#000000",
    }
}

/// `text` escaped for SVG and HTML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The opening `<svg>` tag with a font and a white background.
pub(crate) fn open(width: u32, height: u32, label: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\" \
         font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
        esc(label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
