//! Resolving the column names a user passes to options that take several names.

use crate::error::{Error, Result};

/// Expands `--open a,b --open c` into names. A value that matches a column exactly wins over
/// splitting it at commas, so a column called "a,b" can still be named.
pub fn expand(values: &[String], columns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if columns.iter().any(|c| c == v) {
            out.push(v.clone());
        } else {
            out.extend(
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|n| seen.insert(n.clone()));
    out
}

/// The index of each named column, or an error that lists the file's columns.
pub fn indices(
    option: &str,
    names: &[String],
    columns: &[String],
    file: &str,
) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|n| {
            columns.iter().position(|c| c == n).ok_or_else(|| {
                let hint = columns
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(n))
                    .map(|c| format!(" (did you mean {c:?}?)"))
                    .unwrap_or_default();
                Error::input(format!(
                    "{option}: {file} has no column {n:?}{hint}; its columns are: {}",
                    list(columns)
                ))
            })
        })
        .collect()
}

pub fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
