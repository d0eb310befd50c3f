//! How a value held as a number is written as text, the same in a spreadsheet's cells, in the
//! project and on the screen.

/// Whole numbers without a trailing ".0", so that an ID of 1001 stays "1001".
pub fn format_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}
