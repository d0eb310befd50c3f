//! Each code against one survey variable (DESIGN section 7): crosstabs with chi-square, Cramér's V
//! and Fisher's exact test for a categorical variable, Welch's t, Mann-Whitney U and the
//! point-biserial r for a numeric one, and Benjamini-Hochberg q-values across codes. The unit is
//! the respondent: rated when the coder rated any chosen answer, coded when the code was applied
//! to any of them. The store streams respondents; this module counts, `crate::analysis` tests.

use super::scope::Scope;
use super::{codable, coded_answers, finite};
use crate::analysis::{
    MannWhitneyMethod, SMALL_EXPECTED, benjamini_hochberg, categorical_by_code, numeric_by_code,
};
use crate::error::Result;
use crate::store::{DatasetLayout, DatasetValue, DatasetVariable, Store};
use serde::Serialize;

/// One code against a categorical variable.
#[derive(Debug, Clone, Serialize)]
pub struct CategoricalCode {
    pub code: String,
    pub undefined_reason: Option<String>,
    pub levels: Vec<String>,
    pub rated: Vec<u64>,
    pub coded: Vec<u64>,
    pub chi2: Option<f64>,
    pub df: Option<usize>,
    pub p: Option<f64>,
    pub cramers_v: Option<f64>,
    pub fisher_p: Option<f64>,
    pub q_bh: Option<f64>,
    pub missing: u64,
    /// The smallest expected count of the table; below 5 the chi-square p is doubtful.
    pub min_expected: Option<f64>,
}

/// One code against a numeric variable.
#[derive(Debug, Clone, Serialize)]
pub struct NumericCode {
    pub code: String,
    pub undefined_reason: Option<String>,
    pub n_coded: usize,
    pub n_not: usize,
    pub mean_coded: Option<f64>,
    pub sd_coded: Option<f64>,
    pub mean_not: Option<f64>,
    pub sd_not: Option<f64>,
    pub welch_t: Option<f64>,
    pub welch_df: Option<f64>,
    pub welch_p: Option<f64>,
    pub mann_whitney_u: Option<f64>,
    pub mann_whitney_p: Option<f64>,
    /// "exact" or "normal".
    pub mann_whitney_method: Option<MannWhitneyMethod>,
    pub point_biserial_r: Option<f64>,
    pub point_biserial_p: Option<f64>,
    pub q_bh: Option<f64>,
    pub missing: u64,
}

/// The result of `lacrima analyze --by VARIABLE`, as the JSON output shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Report<T> {
    pub by: String,
    /// "categorical" or "numeric".
    pub kind: &'static str,
    pub coder: String,
    pub question: Option<String>,
    /// Respondents who had at least one of the chosen answers rated by the coder.
    pub respondents_rated: u64,
    pub codes: Vec<T>,
    pub warnings: Vec<String>,
}

impl Report<CategoricalCode> {
    /// The levels with rated respondents and how many were rated in each: the same for every
    /// code (a level is dropped only when nobody in it was rated), so tables put them in their
    /// header. Taken from the code with the most levels, which a code left undefined lacks.
    pub fn level_counts(&self) -> (&[String], &[u64]) {
        self.codes
            .iter()
            .max_by_key(|c| c.levels.len())
            .map(|c| (c.levels.as_slice(), c.rated.as_slice()))
            .unwrap_or_default()
    }
}

/// Codes against a categorical variable: one pass counts rated and coded respondents per level.
pub fn categorical_report(
    store: &Store,
    layout: &DatasetLayout,
    scope: &Scope,
    var: &DatasetVariable,
) -> Result<Report<CategoricalCode>> {
    let codes = codable(layout);
    let mut levels = var.levels.clone();
    let mut rated = vec![0u64; levels.len()];
    let mut coded: Vec<Vec<u64>> = vec![vec![0; levels.len()]; codes.len()];
    let mut missing = 0u64;
    let mut respondents_rated = 0u64;
    let mut unknown_levels: Vec<String> = Vec::new();
    let coded_answers = coded_answers(store, scope, &codes)?;
    store.for_each_variable_value(&var.column, &mut |rid, value| {
        if !coded_answers.rated(rid) {
            return Ok(());
        }
        respondents_rated += 1;
        let level = match value {
            DatasetValue::Missing => None,
            DatasetValue::Text(t) => Some(t.to_string()),
            DatasetValue::Integer(i) => Some(i.to_string()),
            DatasetValue::Real(x) => Some(x.to_string()),
        };
        let Some(level) = level else {
            missing += 1;
            return Ok(());
        };
        let i = match levels.iter().position(|l| *l == level) {
            Some(i) => i,
            None => {
                // A value outside the catalogue's levels (the catalogue should list every
                // value): counted as one more level, and reported.
                unknown_levels.push(level.clone());
                levels.push(level);
                rated.push(0);
                for c in coded.iter_mut() {
                    c.push(0);
                }
                levels.len() - 1
            }
        };
        rated[i] += 1;
        for (k, c) in coded.iter_mut().enumerate() {
            if coded_answers.has(rid, k) {
                c[i] += 1;
            }
        }
        Ok(())
    })?;
    let mut warnings = common_warnings(scope, var, respondents_rated, missing);
    if !unknown_levels.is_empty() {
        warnings.push(format!(
            "{:?} has values that are not among its levels: {}; they were analysed as extra levels",
            var.name,
            unknown_levels.join(", ")
        ));
    }
    let mut out: Vec<CategoricalCode> = codes
        .iter()
        .zip(&coded)
        .map(|(code, coded)| {
            let r = categorical_by_code(&levels, &rated, coded);
            CategoricalCode {
                code: code.name.clone(),
                undefined_reason: r.undefined_reason,
                levels: r.levels,
                rated: r.rated,
                coded: r.coded,
                chi2: finite(r.chi2),
                df: r.df,
                p: finite(r.p),
                cramers_v: finite(r.cramers_v),
                fisher_p: finite(r.fisher_p),
                q_bh: None,
                missing,
                min_expected: finite(r.min_expected),
            }
        })
        .collect();
    let q = benjamini_hochberg(&out.iter().map(|c| c.p).collect::<Vec<_>>());
    for (c, q) in out.iter_mut().zip(q) {
        c.q_bh = finite(q);
    }
    let small: Vec<&str> = out
        .iter()
        .filter(|c| c.min_expected.is_some_and(|m| m < SMALL_EXPECTED))
        .map(|c| c.code.as_str())
        .collect();
    if !small.is_empty() {
        warnings.push(format!(
            "expected counts below 5 for {} of {} codes ({}): their chi-square p-values are \
             approximate{}",
            small.len(),
            out.len(),
            small.join(", "),
            if levels_with_rated(&out) == 2 {
                "; prefer Fisher's exact p"
            } else {
                ""
            }
        ));
    }
    Ok(Report {
        by: var.name.clone(),
        kind: "categorical",
        coder: scope.coder.clone(),
        question: scope.question.clone(),
        respondents_rated,
        codes: out,
        warnings,
    })
}

/// Codes against a numeric variable: the values of rated respondents, split per code.
pub fn numeric_report(
    store: &Store,
    layout: &DatasetLayout,
    scope: &Scope,
    var: &DatasetVariable,
) -> Result<Report<NumericCode>> {
    numeric_report_with(store, layout, scope, var, &mut |_, _, _| {})
}

/// Receives each code's index and its two groups of values: see [`numeric_report_with`].
pub type GroupsOf<'a> = dyn FnMut(usize, &[f64], &[f64]) + 'a;

/// [`numeric_report`], handing each code's two groups of values to `groups` as well (code index,
/// values of the coded respondents, of the others; both sorted ascending), so that a chart can
/// draw the very values the tests compared without reading the project twice.
pub fn numeric_report_with(
    store: &Store,
    layout: &DatasetLayout,
    scope: &Scope,
    var: &DatasetVariable,
    groups: &mut GroupsOf<'_>,
) -> Result<Report<NumericCode>> {
    let codes = codable(layout);
    let mut values: Vec<f64> = Vec::new();
    // has[k][i]: respondent i (among those with a value) was coded with code k.
    let mut has: Vec<Vec<bool>> = vec![Vec::new(); codes.len()];
    let mut missing = 0u64;
    let mut respondents_rated = 0u64;
    let coded_answers = coded_answers(store, scope, &codes)?;
    store.for_each_variable_value(&var.column, &mut |rid, value| {
        if !coded_answers.rated(rid) {
            return Ok(());
        }
        respondents_rated += 1;
        let x = match value {
            DatasetValue::Integer(i) => i as f64,
            DatasetValue::Real(x) => x,
            // A numeric column holds numbers only; text there is treated as missing.
            DatasetValue::Text(t) => match t.trim().parse::<f64>() {
                Ok(x) => x,
                Err(_) => {
                    missing += 1;
                    return Ok(());
                }
            },
            DatasetValue::Missing => {
                missing += 1;
                return Ok(());
            }
        };
        values.push(x);
        for (k, h) in has.iter_mut().enumerate() {
            h.push(coded_answers.has(rid, k));
        }
        Ok(())
    })?;
    let warnings = common_warnings(scope, var, respondents_rated, missing);
    // Sorted once by value, every code's two groups arrive sorted, and the stable sort inside
    // the Mann-Whitney ranking merges two sorted runs in linear time instead of sorting a
    // million values again for each code.
    let (values, has) = {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let sorted: Vec<f64> = order.iter().map(|&i| values[i]).collect();
        drop(values);
        let has: Vec<Vec<bool>> = has
            .into_iter()
            .map(|h| order.iter().map(|&i| h[i]).collect())
            .collect();
        (sorted, has)
    };
    let mut with: Vec<f64> = Vec::new();
    let mut without: Vec<f64> = Vec::new();
    let mut out: Vec<NumericCode> = codes
        .iter()
        .zip(&has)
        .enumerate()
        .map(|(k, (code, has))| {
            with.clear();
            without.clear();
            for (x, h) in values.iter().zip(has) {
                if *h {
                    with.push(*x);
                } else {
                    without.push(*x);
                }
            }
            let r = numeric_by_code(&with, &without);
            groups(k, &with, &without);
            NumericCode {
                code: code.name.clone(),
                undefined_reason: r.undefined_reason,
                n_coded: r.n_coded,
                n_not: r.n_not,
                mean_coded: finite(r.mean_coded),
                sd_coded: finite(r.sd_coded),
                mean_not: finite(r.mean_not),
                sd_not: finite(r.sd_not),
                welch_t: finite(r.welch_t),
                welch_df: finite(r.welch_df),
                welch_p: finite(r.welch_p),
                mann_whitney_u: finite(r.mann_whitney_u),
                mann_whitney_p: finite(r.mann_whitney_p),
                mann_whitney_method: r.mann_whitney_method,
                point_biserial_r: finite(r.point_biserial_r),
                point_biserial_p: finite(r.point_biserial_p),
                q_bh: None,
                missing,
            }
        })
        .collect();
    let q = benjamini_hochberg(&out.iter().map(|c| c.welch_p).collect::<Vec<_>>());
    for (c, q) in out.iter_mut().zip(q) {
        c.q_bh = finite(q);
    }
    Ok(Report {
        by: var.name.clone(),
        kind: "numeric",
        coder: scope.coder.clone(),
        question: scope.question.clone(),
        respondents_rated,
        codes: out,
        warnings,
    })
}

/// The number of levels that have rated respondents (the same for every code).
fn levels_with_rated(codes: &[CategoricalCode]) -> usize {
    codes.first().map_or(0, |c| c.levels.len())
}

fn common_warnings(
    scope: &Scope,
    var: &DatasetVariable,
    respondents_rated: u64,
    missing: u64,
) -> Vec<String> {
    let mut w = Vec::new();
    if respondents_rated == 0 {
        w.push(format!(
            "coder {} has rated no answer {}: every statistic is undefined",
            scope.coder,
            match &scope.question {
                Some(q) => format!("of question {q}"),
                None => "in this project".into(),
            }
        ));
    }
    if missing > 0 {
        w.push(format!(
            "{missing} rated respondent(s) have no value of {:?} and were left out",
            var.name
        ));
    }
    w
}
