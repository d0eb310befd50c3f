//! The report as one self-contained HTML5 file: the style sheet is inline, the charts are
//! inline SVG, there is no script, no font and no link to anything outside the file, and a
//! Content-Security-Policy tells the browser to load nothing else, so the file shows the same
//! offline, in an archive, years later. Every text from the project is escaped.

use super::{Block, Cell, Document, Entry, QuoteBlock, Section, Table, escape, svg};
use std::fmt::Write;

const STYLE: &str = "\
:root{color-scheme:light}\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;\
color:#222;max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem;line-height:1.45}\
h1{font-size:1.7rem;margin-bottom:.3rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}\
h3{margin-top:1.8rem}\
nav ol{columns:2;padding-left:1.2rem}\
.scroll{overflow-x:auto;margin:.8rem 0}\
table{border-collapse:collapse;font-size:.9rem}\
caption{text-align:left;font-style:italic;padding:.3rem 0;color:#444}\
th,td{border-bottom:1px solid #ddd;padding:.25rem .6rem;vertical-align:top;text-align:left}\
thead th{border-bottom:2px solid #888}\
th[scope=row]{white-space:nowrap}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
.note{font-size:.85rem;color:#444}\
.charts{display:flex;flex-wrap:wrap;gap:1rem 2rem}\
figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#444}\
svg{max-width:100%;height:auto}\
ul.codebook,ul.codebook ul{list-style:none;padding-left:1.5rem}ul.codebook{padding-left:0}\
ul.codebook li{margin:.5rem 0}\
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em;border:1px solid #888}\
.tag{font-size:.75rem;border:1px solid #aaa;border-radius:.3rem;padding:0 .3rem;margin-left:.4rem}\
dl{margin:.2rem 0 0 1.2rem;font-size:.92rem}dt{font-weight:600;float:left;margin-right:.4em}\
dt::after{content:':'}dd{margin:0 0 .1rem}\
blockquote{margin:.4rem 0 0;padding:.2rem .8rem;border-left:3px solid #bbb}\
blockquote p{white-space:pre-line;margin:0}\
footer{margin-top:3rem;font-size:.85rem;color:#555}\
@media print{nav{display:none}.scroll{overflow:visible}h2{break-before:auto}}";

pub fn render(doc: &Document) -> String {
    let mut out = String::with_capacity(1 << 16);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\">\n\
         <meta name=\"generator\" content=\"lacrima {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<header>\n<h1>{}</h1>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&doc.title),
        escape(&doc.title)
    );
    for p in &doc.lead {
        let _ = writeln!(out, "<p>{}</p>", escape(p));
    }
    out.push_str("</header>\n<nav aria-label=\"Contents\">\n<ol>\n");
    for s in &doc.sections {
        let _ = writeln!(
            out,
            "<li><a href=\"#{}\">{}</a></li>",
            s.id,
            escape(&s.title)
        );
    }
    out.push_str("</ol>\n</nav>\n<main>\n");
    for s in &doc.sections {
        section(&mut out, s);
    }
    let _ = write!(
        out,
        "</main>\n<footer>\n<p>{}</p>\n</footer>\n</body>\n</html>\n",
        escape(&doc.colophon)
    );
    out
}

fn section(out: &mut String, s: &Section) {
    let _ = writeln!(
        out,
        "<section id=\"{id}\" aria-labelledby=\"{id}-title\">\n<h2 id=\"{id}-title\">{}</h2>",
        escape(&s.title),
        id = s.id
    );
    for b in &s.blocks {
        match b {
            Block::Heading(h) => {
                let _ = writeln!(out, "<h3>{}</h3>", escape(h));
            }
            Block::Paragraph(p) => {
                let _ = writeln!(out, "<p>{}</p>", escape(p));
            }
            Block::Note(p) => {
                let _ = writeln!(out, "<p class=\"note\">{}</p>", escape(p));
            }
            Block::Table(t) => table(out, t),
            Block::Charts(charts) => {
                out.push_str("<div class=\"charts\">\n");
                for c in charts {
                    let _ = writeln!(
                        out,
                        "<figure>{}<figcaption>{}</figcaption></figure>",
                        svg::render(c),
                        escape(c.title())
                    );
                }
                out.push_str("</div>\n");
            }
            Block::Codebook(entries) => codebook(out, entries),
            Block::Quotes(q) => quotes(out, q),
        }
    }
    out.push_str("</section>\n");
}

fn table(out: &mut String, t: &Table) {
    let _ = write!(
        out,
        "<div class=\"scroll\"><table>\n<caption>{}</caption>\n<thead><tr>",
        escape(&t.caption)
    );
    // A column is numeric when its cells are; its header is aligned like them.
    let numeric: Vec<bool> = (0..t.header.len())
        .map(|i| !t.rows.is_empty() && t.rows.iter().all(|r| r.get(i).is_some_and(|c| c.numeric)))
        .collect();
    for (h, num) in t.header.iter().zip(&numeric) {
        let _ = write!(
            out,
            "<th scope=\"col\"{}>{}</th>",
            if *num { " class=\"num\"" } else { "" },
            escape(h)
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            cell(out, c, i == 0);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table></div>\n");
}

/// The first cell of a row names it (a code, a question), so it is the row's header.
fn cell(out: &mut String, c: &Cell, row_header: bool) {
    let tag = if row_header { "th" } else { "td" };
    out.push('<');
    out.push_str(tag);
    if row_header {
        out.push_str(" scope=\"row\"");
    }
    if c.numeric {
        out.push_str(" class=\"num\"");
    }
    if let Some(v) = c.value {
        // Rust's shortest round-trip form: parsing it gives back the exact f64.
        let _ = write!(out, " data-value=\"{v}\"");
    }
    let _ = write!(out, ">{}</{tag}>", escape(&c.text));
}

/// The codebook as nested lists, one level per depth of the hierarchy.
fn codebook(out: &mut String, entries: &[Entry]) {
    // Open <ul> elements; each entry's <li> stays open until the next entry shows whether
    // children follow inside it.
    let mut depth = 0usize;
    for e in entries {
        let target = e.level + 1;
        if target > depth {
            while depth < target {
                out.push_str(if depth == 0 {
                    "<ul class=\"codebook\">\n"
                } else {
                    "\n<ul>\n"
                });
                depth += 1;
            }
        } else {
            out.push_str("</li>\n");
            while depth > target {
                out.push_str("</ul></li>\n");
                depth -= 1;
            }
        }
        out.push_str("<li>");
        if let Some(c) = &e.color {
            let _ = write!(
                out,
                "<span class=\"swatch\" style=\"background:{}\"></span>",
                escape(c)
            );
        }
        let _ = write!(out, "<strong>{}</strong>", escape(&e.name));
        if !e.codable {
            out.push_str("<span class=\"tag\">group</span>");
        }
        if !e.fields.is_empty() {
            out.push_str("<dl>");
            for (label, text) in &e.fields {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(text));
            }
            out.push_str("</dl>");
        }
    }
    if depth > 0 {
        out.push_str("</li>\n");
        while depth > 0 {
            out.push_str("</ul>");
            depth -= 1;
            out.push_str(if depth > 0 { "</li>\n" } else { "\n" });
        }
    }
}

fn quotes(out: &mut String, quotes: &[QuoteBlock]) {
    for q in quotes {
        let _ = writeln!(
            out,
            "<figure class=\"quote\"><blockquote><p>{}</p></blockquote>\
             <figcaption>{}</figcaption></figure>",
            escape(&q.text),
            escape(&q.source)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(level: usize, name: &str) -> Entry {
        Entry {
            level,
            name: name.into(),
            color: None,
            codable: true,
            fields: Vec::new(),
        }
    }

    #[test]
    fn the_codebook_nests_by_level() {
        let mut out = String::new();
        codebook(
            &mut out,
            &[
                entry(0, "a"),
                entry(1, "a1"),
                entry(2, "a1x"),
                entry(0, "b"),
                entry(1, "b1"),
            ],
        );
        let compact: String = out.split_whitespace().collect();
        assert_eq!(
            compact,
            "<ulclass=\"codebook\"><li><strong>a</strong><ul><li><strong>a1</strong><ul><li>\
             <strong>a1x</strong></li></ul></li></ul></li><li><strong>b</strong><ul><li>\
             <strong>b1</strong></li></ul></li></ul>"
        );
    }
}
