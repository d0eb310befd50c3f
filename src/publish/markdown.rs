//! The report as Markdown that renders on GitHub (CommonMark with GitHub's tables): the same
//! document as the HTML, with bar charts drawn in text (block characters in a code block),
//! box plots left out with a note (their medians and quartiles are in the table above them),
//! and no raw HTML. Every text from the project is escaped, so an answer that contains `*`,
//! `|` or `<script>` is shown as written, never interpreted.

use super::svg::{BarChart, Chart, StackedChart, share_axis_max};
use super::{Block, Document, Entry, QuoteBlock, Section, Table};
use std::fmt::Write;

/// Characters in a text bar at full scale.
const BAR_WIDTH: usize = 30;

pub fn render(doc: &Document) -> String {
    let mut out = String::with_capacity(1 << 15);
    let _ = writeln!(out, "# {}\n", inline(&doc.title));
    for p in &doc.lead {
        let _ = writeln!(out, "{}\n", paragraph(p));
    }
    out.push_str("Contents:\n\n");
    for (i, s) in doc.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. [{}](#{})",
            i + 1,
            inline(&s.title),
            slug(&s.title)
        );
    }
    out.push('\n');
    for s in &doc.sections {
        section(&mut out, s);
    }
    let _ = writeln!(out, "---\n\n{}", paragraph(&doc.colophon));
    out
}

fn section(out: &mut String, s: &Section) {
    let _ = writeln!(out, "## {}\n", inline(&s.title));
    for b in &s.blocks {
        match b {
            Block::Heading(h) => {
                let _ = writeln!(out, "### {}\n", inline(h));
            }
            Block::Paragraph(p) => {
                let _ = writeln!(out, "{}\n", paragraph(p));
            }
            Block::Note(p) => {
                let _ = writeln!(out, "*{}*\n", paragraph(p));
            }
            Block::Table(t) => table(out, t),
            Block::Charts(charts) => {
                let mut left_out = 0;
                for c in charts {
                    match c {
                        Chart::Bars(b) => text_bars(out, b),
                        Chart::Stacked(st) => text_stacked(out, st),
                        Chart::Boxes(_) => left_out += 1,
                    }
                }
                if left_out > 0 {
                    let _ = writeln!(
                        out,
                        "*{left_out} box plot(s) are drawn in the HTML version of this report \
                         (`lacrima report --out report.html`); their medians and quartiles are \
                         in the table above.*\n"
                    );
                }
            }
            Block::Codebook(entries) => codebook(out, entries),
            Block::Quotes(q) => quotes(out, q),
        }
    }
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(out, "**{}**\n", paragraph(&t.caption));
    let numeric: Vec<bool> = (0..t.header.len())
        .map(|i| !t.rows.is_empty() && t.rows.iter().all(|r| r.get(i).is_some_and(|c| c.numeric)))
        .collect();
    let header: Vec<String> = t.header.iter().map(|h| cell(h)).collect();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let rule: Vec<&str> = numeric
        .iter()
        .map(|&n| if n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    for row in &t.rows {
        let cells: Vec<String> = row.iter().map(|c| cell(&c.text)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let s = inline(one_line.trim());
    // An empty cell is fine in GitHub's tables, but a lone space keeps the row's shape obvious.
    if s.is_empty() { " ".into() } else { s }
}

/// Eighths of a block, for bars finer than a character.
fn blocks(width: f64) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (width * 8.0).round().max(0.0) as usize;
    let mut s = "█".repeat(eighths / 8);
    let rest = eighths % 8;
    if rest > 0 {
        s.push(EIGHTHS[rest]);
    }
    s
}

/// A code block fence longer than any run of backticks in the text, so no label can end it.
fn fence(lines: &[String]) -> String {
    let longest = lines
        .iter()
        .flat_map(|l| l.split(|c| c != '`'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

fn code_block(out: &mut String, title: &str, lines: Vec<String>) {
    let f = fence(&lines);
    let _ = writeln!(out, "*{}*\n\n{f}text", paragraph(title));
    for l in &lines {
        let _ = writeln!(out, "{}", l.trim_end());
    }
    let _ = writeln!(out, "{f}\n");
}

fn padded(labels: &[String]) -> Vec<String> {
    let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    labels
        .iter()
        .map(|l| format!("{l}{}", " ".repeat(width - l.chars().count())))
        .collect()
}

fn text_bars(out: &mut String, c: &BarChart) {
    let max = share_axis_max(c.bars.iter().filter_map(|b| b.share).fold(0.0, f64::max));
    let labels = padded(
        &c.bars
            .iter()
            .map(|b| one_line(&b.label))
            .collect::<Vec<_>>(),
    );
    let mut lines: Vec<String> = c
        .bars
        .iter()
        .zip(labels)
        .map(|(b, label)| {
            let bar = blocks(b.share.unwrap_or(0.0) / max * BAR_WIDTH as f64);
            let pad = BAR_WIDTH + 1 - bar.chars().count().min(BAR_WIDTH + 1);
            format!("{label}  {bar}{} {}", " ".repeat(pad), b.value)
        })
        .collect();
    lines.push(format!(
        "(a full bar is {}%)",
        (100.0 * max * 10.0).round() / 10.0
    ));
    code_block(out, &c.title, lines);
}

fn text_stacked(out: &mut String, c: &StackedChart) {
    let labels = padded(
        &c.rows
            .iter()
            .map(|r| format!("{} (n={})", one_line(&r.label), r.total))
            .collect::<Vec<_>>(),
    );
    let mut lines: Vec<String> = c
        .rows
        .iter()
        .zip(labels)
        .map(|(r, label)| {
            let (coded, value) = if r.total > 0 {
                let s = r.coded as f64 / r.total as f64;
                (
                    ((s * BAR_WIDTH as f64).round() as usize).min(BAR_WIDTH),
                    format!("{:.1}% ({})", 100.0 * s, r.coded),
                )
            } else {
                (0, "-".into())
            };
            format!(
                "{label}  {}{} {value}",
                "█".repeat(coded),
                "░".repeat(BAR_WIDTH - coded)
            )
        })
        .collect();
    lines.push("(█ coded, ░ not coded)".into());
    code_block(out, &c.title, lines);
}

fn codebook(out: &mut String, entries: &[Entry]) {
    for e in entries {
        let indent = "  ".repeat(e.level);
        let _ = write!(out, "{indent}- **{}**", inline(&e.name));
        if !e.codable {
            out.push_str(" (group)");
        }
        for (label, text) in &e.fields {
            // A backslash at the end of a line is CommonMark's hard line break: each field on
            // its own line inside the list item.
            let _ = write!(
                out,
                "\\\n{indent}  {}: {}",
                inline(label),
                inline(&one_line(text))
            );
        }
        out.push('\n');
    }
    out.push('\n');
}

fn quotes(out: &mut String, quotes: &[QuoteBlock]) {
    for q in quotes {
        for line in q.text.lines() {
            if line.trim().is_empty() {
                out.push_str(">\n");
            } else {
                let _ = writeln!(out, "> {}", paragraph(line.trim()));
            }
        }
        let _ = writeln!(out, ">\n> — {}\n", inline(&q.source));
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text in a paragraph or at the start of a line: [`inline`], and what Markdown reads at the
/// start of a line (a heading, a list item, a quote, a rule) escaped too.
fn paragraph(s: &str) -> String {
    let s = inline(s);
    let starts_block = s.starts_with(['#', '+', '-', '=', '>'])
        || s.find(['.', ')'])
            .is_some_and(|i| i > 0 && s[..i].chars().all(|c| c.is_ascii_digit()));
    if !starts_block {
        return s;
    }
    match s.find(['.', ')']) {
        Some(i) if s[..i].chars().all(|c| c.is_ascii_digit()) && i > 0 => {
            format!("{}\\{}", &s[..i], &s[i..])
        }
        _ => format!("\\{s}"),
    }
}

/// Text inside a line: every character that Markdown or GitHub give a meaning to is
/// backslash-escaped (CommonMark lets any ASCII punctuation be escaped so).
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_texts_is_shown_not_interpreted() {
        assert_eq!(inline("a *b* | <script>"), "a \\*b\\* \\| \\<script\\>");
        assert_eq!(paragraph("# not a heading"), "\\# not a heading");
        assert_eq!(paragraph("1. not a list"), "1\\. not a list");
        assert_eq!(paragraph("- not an item"), "\\- not an item");
        assert_eq!(paragraph("2024 was fine."), "2024 was fine.");
        assert_eq!(cell("two\nlines"), "two lines");
    }

    #[test]
    fn fences_outrun_backticks_in_labels() {
        assert_eq!(fence(&["plain".into()]), "```");
        assert_eq!(fence(&["a ````` b".into()]), "``````");
    }

    #[test]
    fn bars_use_eighths() {
        assert_eq!(blocks(2.5), "██▌");
        assert_eq!(blocks(0.0), "");
        assert_eq!(slug("Code frequencies"), "code-frequencies");
    }
}
