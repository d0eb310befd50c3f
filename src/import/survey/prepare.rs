//! The reading thread's half of an import: each row checked, its values parsed into the form the
//! project stores, and the counts and value statistics of the summary gathered on the way.

use crate::error::{Error, Result};
use crate::import::infer::{ColumnStats, is_iso_date};
use crate::import::source::Row;
use crate::model::empty::{is_missing_value, normalize_newlines};
use crate::model::number::parse_number;
use crate::store::{RespondentRow, VariableKind};
use rusqlite::types::ValueRef;

/// A value prepared on the reading thread; text as a byte range of the row's buffer.
#[derive(Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(usize, usize),
    /// An answer, with whether it is empty.
    Answer(usize, usize, bool),
}

/// One survey row made ready for the project. Rows are recycled between batches, so their
/// buffers are allocated once.
#[derive(Default)]
pub struct PreparedRow {
    pub(super) line: u64,
    /// How far into the file the row ends (for the progress bar).
    pub(super) offset: u64,
    text: String,
    /// The ID, then one cell per variable, then one per question.
    cells: Vec<Cell>,
}

impl PreparedRow {
    fn push_text(&mut self, s: &str) -> Cell {
        let start = self.text.len();
        self.text.push_str(s);
        Cell::Text(start, self.text.len())
    }

    fn text_of(&self, cell: Cell) -> &str {
        match cell {
            Cell::Text(a, b) | Cell::Answer(a, b, _) => &self.text[a..b],
            _ => "",
        }
    }

    /// Adds (sign 1) or takes back (sign -1) this row's share of the summary counts.
    pub(super) fn count(
        &self,
        nvars: usize,
        var_missing: &mut [u64],
        answered: &mut [u64],
        empty: &mut [u64],
        sign: i64,
    ) {
        let bump = |n: &mut u64| *n = n.wrapping_add_signed(sign);
        for (k, c) in self.cells[1..=nvars].iter().enumerate() {
            if matches!(c, Cell::Null) {
                bump(&mut var_missing[k]);
            }
        }
        for (k, c) in self.cells[nvars + 1..].iter().enumerate() {
            if matches!(c, Cell::Answer(_, _, true)) {
                bump(&mut empty[k]);
            } else {
                bump(&mut answered[k]);
            }
        }
    }
}

pub(super) struct RowView<'a> {
    pub(super) row: &'a PreparedRow,
    pub(super) nvars: usize,
}

impl RespondentRow for RowView<'_> {
    fn ext_id(&self) -> &str {
        self.row.text_of(self.row.cells[0])
    }

    fn value(&self, k: usize) -> ValueRef<'_> {
        match self.row.cells[1 + k] {
            Cell::Null => ValueRef::Null,
            Cell::Int(i) => ValueRef::Integer(i),
            Cell::Real(f) => ValueRef::Real(f),
            c @ (Cell::Text(..) | Cell::Answer(..)) => {
                ValueRef::Text(self.row.text_of(c).as_bytes())
            }
        }
    }

    fn answer(&self, q: usize) -> &str {
        self.row.text_of(self.row.cells[1 + self.nvars + q])
    }

    fn answer_is_empty(&self, q: usize) -> bool {
        matches!(self.row.cells[1 + self.nvars + q], Cell::Answer(_, _, true))
    }
}

/// Runs on the reading thread: checks each row, learns the variables' values and prepares them.
pub(super) struct Preparer<'a> {
    pub(super) file: &'a str,
    pub(super) headers: &'a [String],
    pub(super) id_col: usize,
    pub(super) open_cols: &'a [usize],
    pub(super) missing_codes: &'a [String],
    /// (column, known kind, what its values look like) per variable.
    pub(super) columns: Vec<(usize, Option<VariableKind>, ColumnStats)>,
    /// Missing values per variable, and answered and empty answers per question.
    pub(super) var_missing: Vec<u64>,
    pub(super) answered: Vec<u64>,
    pub(super) empty: Vec<u64>,
    /// Where numbers are rendered to compare with their text.
    pub(super) scratch: String,
}

impl Preparer<'_> {
    pub(super) fn prepare(&mut self, row: Row<'_>, out: &mut PreparedRow) -> Result<()> {
        out.line = row.line;
        out.offset = row.offset;
        out.text.clear();
        out.cells.clear();
        let id = row.fields[self.id_col];
        if id.trim().is_empty() {
            return Err(Error::input(format!(
                "{}:{}: the ID column {:?} is empty; every respondent needs an ID",
                self.file, row.line, self.headers[self.id_col]
            )));
        }
        let cell = out.push_text(id);
        out.cells.push(cell);
        for (c, kind, stats) in &mut self.columns {
            let raw = row.fields[*c];
            let missing = is_missing_value(raw, self.missing_codes);
            let number = if missing { None } else { parse_number(raw) };
            stats.observe_parsed(row.line, raw, missing, number.is_some());
            if missing {
                out.cells.push(Cell::Null);
                continue;
            }
            let cell = match kind {
                Some(VariableKind::Numeric) => match (raw.trim().parse::<i64>(), number) {
                    (Ok(i), _) => Cell::Int(i),
                    (Err(_), Some(f)) => Cell::Real(f),
                    (Err(_), None) => {
                        return Err(wrong_kind(
                            self.file,
                            self.headers,
                            row.line,
                            *c,
                            raw,
                            "numeric",
                        ));
                    }
                },
                Some(VariableKind::Date) => {
                    if !is_iso_date(raw) {
                        return Err(wrong_kind(
                            self.file,
                            self.headers,
                            row.line,
                            *c,
                            raw,
                            "a date (ISO 8601)",
                        ));
                    }
                    out.push_text(raw.trim())
                }
                Some(_) => out.push_text(raw),
                // Most columns of numbers are numeric: store numbers as numbers now, and put the
                // text back in the rare column that turns out to hold words too.
                None => match number {
                    Some(f) => {
                        stats.numbers_as_numbers += 1;
                        let (cell, plain) = as_number(raw, f, &mut self.scratch);
                        if !plain {
                            stats.numbers_not_plain += 1;
                        }
                        cell
                    }
                    None => out.push_text(raw),
                },
            };
            out.cells.push(cell);
        }
        for &c in self.open_cols {
            let text = normalize_newlines(row.fields[c]);
            let empty = crate::model::empty::is_empty_answer(&text);
            if let Cell::Text(a, b) = out.push_text(&text) {
                out.cells.push(Cell::Answer(a, b, empty));
            }
        }
        // Counted here, on the reading thread, which has time to spare; the writer only takes
        // back the rows it skips.
        out.count(
            self.columns.len(),
            &mut self.var_missing,
            &mut self.answered,
            &mut self.empty,
            1,
        );
        Ok(())
    }
}

fn wrong_kind(
    file: &str,
    headers: &[String],
    line: u64,
    col: usize,
    value: &str,
    kind: &str,
) -> Error {
    Error::input(format!(
        "{file}:{line}: column {:?} is {kind} but has the value {value:?}; fix the value, add it \
         to --missing, or import the column with --categorical or --text",
        headers[col]
    ))
}

/// The number as a cell, and whether it was written in the form Rust writes it ("34", "83.25";
/// not "007", "4.50" or " 12"), in which case its text can be recovered from the number.
/// `scratch` holds a rendering for the rare text the digits alone do not settle.
fn as_number(raw: &str, f: f64, scratch: &mut String) -> (Cell, bool) {
    use std::fmt::Write as _;
    match raw.trim().parse::<i64>() {
        Ok(i) => (Cell::Int(i), canonical_integer(raw)),
        Err(_) if canonical_decimal(raw) => (Cell::Real(f), true),
        Err(_) => {
            scratch.clear();
            let _ = write!(scratch, "{f}");
            (Cell::Real(f), scratch == raw)
        }
    }
}

/// An integer as Rust writes it: digits without leading zeros, a minus sign but not on zero.
fn canonical_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && raw == "0" || !digits.starts_with('0'))
}

/// A decimal that Rust writes back exactly as it is: no exponent, no leading zeros, no trailing
/// zeros after the point, and at most 15 significant digits. Any decimal of 15 digits or fewer
/// is the only one of that length for its f64, so the shortest rendering of the number is these
/// digits (checking by rendering each value took a twentieth of an import's CPU).
fn canonical_decimal(raw: &str) -> bool {
    let body = raw.strip_prefix('-').unwrap_or(raw);
    let Some((int, frac)) = body.split_once('.') else {
        return false;
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) || frac.ends_with('0') {
        return false;
    }
    if int.len() > 1 && int.starts_with('0') {
        return false;
    }
    let significant = if int == "0" {
        frac.trim_start_matches('0').len()
    } else {
        int.len() + frac.len()
    };
    significant <= 15
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain_by_rendering(raw: &str) -> bool {
        match raw.trim().parse::<i64>() {
            Ok(i) => i.to_string() == raw,
            Err(_) => raw
                .trim()
                .parse::<f64>()
                .is_ok_and(|f| format!("{f}") == raw),
        }
    }

    #[test]
    fn plain_numbers_are_told_from_the_others_without_rendering_them() {
        // The last has 17 digits: too many to settle by the digits, so it is rendered (and is
        // what Rust writes).
        for raw in [
            "34",
            "-7",
            "0",
            "83.25",
            "-0.5",
            "0.001",
            "123456789.12345",
            "1.2345678901234567",
        ] {
            assert!(plain_by_rendering(raw), "{raw}");
            let f = raw.parse::<f64>().unwrap();
            assert!(as_number(raw, f, &mut String::new()).1, "{raw}");
        }
        for raw in [
            "007",
            "-0",
            "+5",
            " 12",
            "4.50",
            "5.0",
            "00.5",
            ".5",
            "1e5",
            "0.30000000000000000",
        ] {
            let f = raw.trim().parse::<f64>().unwrap();
            assert!(!as_number(raw, f, &mut String::new()).1, "{raw}");
        }
    }

    proptest! {
        #[test]
        fn the_shortcut_agrees_with_rendering_the_number(
            int in 0u64..10_000_000_000,
            frac in "[0-9]{0,9}",
            negative in any::<bool>(),
            leading_zero in any::<bool>(),
        ) {
            let raw = format!(
                "{}{}{int}{}{frac}",
                if negative { "-" } else { "" },
                if leading_zero { "0" } else { "" },
                if frac.is_empty() { "" } else { "." },
            );
            let f = raw.trim().parse::<f64>().unwrap();
            let plain = as_number(&raw, f, &mut String::new()).1;
            prop_assert_eq!(plain, plain_by_rendering(&raw), "{}", raw);
        }

        #[test]
        fn any_number_rust_writes_is_plain(
            f in proptest::num::f64::NORMAL | proptest::num::f64::ZERO,
        ) {
            let raw = format!("{f}");
            prop_assert!(as_number(&raw, f, &mut String::new()).1, "{}", raw);
        }
    }
}
