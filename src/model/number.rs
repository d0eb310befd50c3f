//! How a number is read from text and written as text, the same in a survey file, a filter typed
//! on the screen, the project and a spreadsheet's cells.

/// Whole numbers without a trailing ".0", so that an ID of 1001 stays "1001".
pub fn format_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A number as lacrima reads one: finite, in Rust's (and R's) plain notation.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let first = t.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}
