//! Spreadsheet safety of exported cells (`--spreadsheet-safe`).
//!
//! Survey answers are typed by respondents. A spreadsheet that opens a CSV runs a cell beginning
//! with `=`, `+`, `-` or `@` as a formula (and one beginning with a tab or carriage return can
//! smuggle one past a trim), so an answer such as `=HYPERLINK(...)` becomes live code on a
//! coder's machine. Exports stay exact by default, which is what R, SPSS, Stata and pandas
//! need; with the option, such cells get a leading `'`, which spreadsheets show as text and do
//! not display. Numbers are left alone: `-3.5` is a value, not a formula.

use std::borrow::Cow;

/// Whether a spreadsheet could take the cell for a formula.
pub fn is_formula_like(cell: &str) -> bool {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => !is_plain_number(cell),
        _ => false,
    }
}

/// A number as a spreadsheet reads it (sign, digits, one decimal point, an exponent).
fn is_plain_number(cell: &str) -> bool {
    let body = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    !body.is_empty()
        && body
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && body.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Prefixes cells when enabled, counting how many it changed.
#[derive(Debug, Default)]
pub struct Guard {
    enabled: bool,
    pub prefixed: u64,
}

impl Guard {
    pub fn new(enabled: bool) -> Guard {
        Guard {
            enabled,
            prefixed: 0,
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn cell<'a>(&mut self, cell: &'a str) -> Cow<'a, str> {
        if self.enabled && is_formula_like(cell) {
            self.prefixed += 1;
            Cow::Owned(format!("'{cell}"))
        } else {
            Cow::Borrowed(cell)
        }
    }

    /// Tells the user, on stderr, what was changed, so the data's exactness is never in doubt.
    pub fn report(&self, what: &str) {
        if self.enabled && self.prefixed > 0 {
            eprintln!(
                "--spreadsheet-safe: {} cell{} of {what} began with =, +, -, @, a tab or a \
                 carriage return and {} prefixed with '",
                self.prefixed,
                if self.prefixed == 1 { "" } else { "s" },
                if self.prefixed == 1 { "was" } else { "were" }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_caught_and_numbers_and_words_are_not() {
        for f in [
            "=1+1",
            "+SUM(A1)",
            "-2+3",
            "@cmd",
            "\t=1",
            "\r=1",
            "-",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert!(is_formula_like(f), "{f:?}");
        }
        for v in [
            "",
            "-3.5",
            "+7",
            "-0.25e3",
            "12",
            "a = b",
            "it helped",
            " =1",
            "'=1",
        ] {
            assert!(!is_formula_like(v), "{v:?}");
        }
        for weird in ["-inf", "-NaN", "+infinity"] {
            assert!(is_formula_like(weird), "{weird:?}");
        }
    }

    #[test]
    fn a_guard_prefixes_only_when_enabled_and_counts() {
        let mut off = Guard::new(false);
        assert_eq!(off.cell("=1"), "=1");
        let mut on = Guard::new(true);
        assert_eq!(on.cell("=1"), "'=1");
        assert_eq!(on.cell("fine"), "fine");
        assert_eq!(on.prefixed, 1);
    }
}
