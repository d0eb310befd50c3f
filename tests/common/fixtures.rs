//! The TCIT fixture files read as plain CSV, without lacrima, so that a test can recompute from
//! the files themselves what lacrima reports on the demo project.

use super::projects::fixture_path;
use super::read_csv;
use std::collections::{BTreeMap, BTreeSet};

/// A fixture file's header and rows.
pub fn fixture_csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    read_csv(&std::fs::read_to_string(fixture_path(name)).unwrap())
}

/// A value the survey import reads as missing: empty, `.`, `NA` or `N/A` (any case).
pub fn is_missing(v: &str) -> bool {
    let t = v.trim();
    t.is_empty() || t == "." || t.eq_ignore_ascii_case("na") || t.eq_ignore_ascii_case("n/a")
}

/// Codable codes of the fixture codebook in codebook order (each group followed by its
/// children), with their descriptions.
pub fn codable_codes() -> Vec<(String, String)> {
    let (_, rows) = fixture_csv("tcit_codebook.csv");
    let parents: BTreeSet<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    let mut out = Vec::new();
    for top in rows.iter().filter(|r| r[1].is_empty()) {
        if !parents.contains(top[0].as_str()) {
            out.push((top[0].clone(), top[2].clone()));
        }
        for child in rows.iter().filter(|r| r[1] == top[0]) {
            out.push((child[0].clone(), child[2].clone()));
        }
    }
    out
}

/// The fixture codings as (respondent, question, coder) -> codes applied; every rated answer has
/// an entry, empty where the coder applied nothing.
pub fn fixture_decisions() -> BTreeMap<(String, String, String), BTreeSet<String>> {
    let (_, rows) = fixture_csv("tcit_codings.csv");
    let mut m: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        let e = m
            .entry((r[0].clone(), r[1].clone(), r[2].clone()))
            .or_default();
        if !r[3].is_empty() {
            e.insert(r[3].clone());
        }
    }
    m
}
