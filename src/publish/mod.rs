//! The publishable report of `lacrima report` (issue 12): one self-contained HTML file, or
//! Markdown that renders on GitHub, for a study's supplementary materials.
//!
//! [`document`] lays out a [`crate::report::Publication`] (the numbers, gathered by `report`)
//! as a [`Document`]: sections of headings, paragraphs, tables, charts, the codebook and quotes.
//! [`html::render`] and [`markdown::render`] both render that one model, so the two versions
//! say the same thing; only the charts differ (SVG in HTML, text bars or a note in Markdown).
//! Nothing here reads the project or writes a file.

mod build;
pub mod html;
pub mod markdown;
pub mod svg;

pub use build::{DocumentOptions, document};
pub use svg::Chart;

/// A report, ready to render.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    /// Paragraphs under the title: what the report is of and whose codings it uses.
    pub lead: Vec<String>,
    pub sections: Vec<Section>,
    /// The last line: what made the report.
    pub colophon: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// A stable anchor (`#agreement`), the same in every report, for links and tests.
    pub id: &'static str,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading inside a section (one level below the section's).
    Heading(String),
    Paragraph(String),
    /// Small print: definitions, methods, warnings.
    Note(String),
    Table(Table),
    /// Charts shown side by side where there is room.
    Charts(Vec<Chart>),
    /// The codebook, in hierarchy.
    Codebook(Vec<Entry>),
    Quotes(Vec<QuoteBlock>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A table cell: the text shown, and for a number the exact value it rounds (HTML keeps it in
/// `data-value`, so a reader can check or reuse a published number without retyping it).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub value: Option<f64>,
    /// Right-aligned, as numbers are.
    pub numeric: bool,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            value: None,
            numeric: false,
        }
    }

    /// A number shown as `text`; an undefined value (None) keeps its text, e.g. "-".
    pub fn num(text: impl Into<String>, value: Option<f64>) -> Cell {
        Cell {
            text: text.into(),
            value: value.filter(|v| v.is_finite()),
            numeric: true,
        }
    }
}

/// A code of the codebook.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Depth in the hierarchy (0 for a top-level code).
    pub level: usize,
    pub name: String,
    pub color: Option<String>,
    /// False for a code that only groups others.
    pub codable: bool,
    /// (label, text) pairs in order: definition, inclusion, exclusion, example; empty ones are
    /// left out.
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuoteBlock {
    pub text: String,
    /// Where it comes from, e.g. "T0001, consequence_client".
    pub source: String,
}

/// A code's colour when it is `#RRGGBB`, the only form the codebook accepts: it goes into style
/// and fill attributes, where anything else has no business.
pub fn safe_color(color: Option<&str>) -> Option<String> {
    color
        .filter(|c| {
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit())
        })
        .map(str::to_string)
}

/// Escapes text for HTML and SVG, in content and in quoted attributes alike.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jo'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jo&#39;&lt;/b&gt;"
        );
    }
}
