//! The codebook as CSV (re-importable), Markdown (a methods appendix) or JSON.

use super::spreadsheet::Guard;
use super::{csv_err, write_err};
use crate::error::Result;
use crate::store::CodeRecord;
use std::io::Write;

pub fn write_csv(codes: &[CodeRecord], guard: &mut Guard, out: &mut dyn Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(crate::import::codebook::COLUMNS)
        .map_err(csv_err)?;
    for c in codes {
        w.write_record([
            guard.cell(&c.name).as_ref(),
            &guard.cell(c.parent.as_deref().unwrap_or("")),
            &guard.cell(&c.description),
            &guard.cell(&c.inclusion),
            &guard.cell(&c.exclusion),
            &guard.cell(&c.example),
            c.color.as_deref().unwrap_or(""),
            c.shortcut.as_deref().unwrap_or(""),
            if c.codable { "true" } else { "false" },
        ])
        .map_err(csv_err)?;
    }
    w.flush().map_err(write_err)
}

pub fn write_json(codes: &[CodeRecord], out: &mut dyn Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "codes": codes }))
        .map_err(write_err)?;
    writeln!(out).map_err(write_err)
}

pub fn write_markdown(codes: &[CodeRecord], out: &mut dyn Write) -> Result<()> {
    let mut s = String::from("# Codebook\n");
    for c in codes {
        let hashes = "#".repeat((c.level + 2).min(6));
        s.push_str(&format!("\n{hashes} {}", md_escape(&c.name)));
        if let Some(k) = &c.shortcut {
            s.push_str(&format!(" [{k}]"));
        }
        s.push('\n');
        if !c.codable {
            s.push_str("\n*Groups the codes below; not applied itself.*\n");
        }
        for (label, text) in [
            ("Definition", &c.description),
            ("Include", &c.inclusion),
            ("Exclude", &c.exclusion),
            ("Example", &c.example),
        ] {
            if !text.trim().is_empty() {
                s.push_str(&format!("\n**{label}:** {}\n", md_escape(text.trim())));
            }
        }
    }
    out.write_all(s.as_bytes()).map_err(write_err)
}

/// Keeps a code's text from turning into Markdown structure.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '|' | '\\'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out.replace('\n', "  \n")
}
