//! Pure statistics of the analysis (DESIGN.md section 7): no I/O, no SQL.
//!
//! The unit is the respondent. For a categorical variable and a code, [`categorical_by_code`]
//! tests whether the share of coded respondents differs between levels (Pearson chi-square,
//! Cramér's V, Fisher's exact test for two levels). For a numeric variable and a code,
//! [`numeric_by_code`] compares the values of respondents with and without the code (Welch's t,
//! Mann-Whitney U, point-biserial r). [`benjamini_hochberg`] adjusts p-values across codes.
//!
//! Conventions follow R's `stats` package (see `shared/reference/statistics/README.md`):
//! chi-square uncorrected (Yates for 2x2 tables only, reported separately), Fisher's two-sided p
//! sums all tables no more likely than the observed one (relative tolerance 1e-7), Mann-Whitney is
//! exact for two groups under 50 values without ties and otherwise normal with tie and continuity
//! corrections, and the point-biserial p is that of the pooled-variance t test.
//!
//! Nothing here returns NaN: a statistic that cannot be computed is `None` (in the result
//! structs) or an [`Undefined`] reason (from the lower-level tests).

use std::fmt;

use serde::{Deserialize, Serialize};

mod contingency;
mod multiple;
mod spread;
mod two_sample;

#[cfg(test)]
mod tests;

pub use contingency::{ChiSquareTest, FisherTest, SMALL_EXPECTED, chi_square, fisher_exact};
pub use multiple::benjamini_hochberg;
pub use spread::{FiveNumbers, five_numbers};
pub use two_sample::{
    MANN_WHITNEY_EXACT_BELOW, MannWhitneyMethod, MannWhitneyTest, PointBiserial, Summary,
    WelchTest, mann_whitney_u, point_biserial, summarize, welch_t_test,
};

/// Why a statistic cannot be computed (e.g. "zero variance in both groups").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undefined(pub &'static str);

impl Undefined {
    /// The human-readable reason.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Undefined {}

/// A categorical variable against one code: see [`categorical_by_code`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoricalResult {
    /// Levels with at least one rated respondent, in input order.
    pub levels: Vec<String>,
    /// Rated respondents per kept level.
    pub rated: Vec<u64>,
    /// Coded respondents per kept level.
    pub coded: Vec<u64>,
    /// Pearson chi-square (uncorrected) of the levels x {coded, not coded} table.
    pub chi2: Option<f64>,
    /// Degrees of freedom, number of kept levels - 1.
    pub df: Option<usize>,
    /// p-value of `chi2`.
    pub p: Option<f64>,
    /// Cramér's V (from the uncorrected chi-square).
    pub cramers_v: Option<f64>,
    /// Fisher's exact two-sided p, only when exactly two levels are kept (a 2x2 table).
    pub fisher_p: Option<f64>,
    /// Smallest expected count of the table (warn when below 5).
    pub min_expected: Option<f64>,
    /// Why `chi2` and the other statistics are `None`, if they are.
    pub undefined_reason: Option<String>,
}

/// Chi-square (and, for two levels, Fisher) test of a code against a categorical variable.
///
/// `rated[i]` and `coded[i]` are the numbers of rated and coded respondents at `levels[i]` (the
/// three slices are aligned). Levels without rated respondents are dropped (also from the
/// returned `levels`, `rated`, `coded`). The table has one row `[coded, rated - coded]` per kept
/// level. The statistics are `None`, with `undefined_reason`, when fewer than two levels remain,
/// when no respondent or every respondent was coded, or when the input is inconsistent (slices of
/// different lengths, more coded than rated respondents at a level).
pub fn categorical_by_code(levels: &[String], rated: &[u64], coded: &[u64]) -> CategoricalResult {
    let mut result = CategoricalResult {
        levels: Vec::new(),
        rated: Vec::new(),
        coded: Vec::new(),
        chi2: None,
        df: None,
        p: None,
        cramers_v: None,
        fisher_p: None,
        min_expected: None,
        undefined_reason: None,
    };
    if levels.len() != rated.len() || levels.len() != coded.len() {
        result.undefined_reason = Some("levels, rated and coded counts differ in length".into());
        return result;
    }
    for ((level, &r), &c) in levels.iter().zip(rated).zip(coded) {
        if r > 0 {
            result.levels.push(level.clone());
            result.rated.push(r);
            result.coded.push(c);
        }
    }
    let reason = if rated.iter().zip(coded).any(|(&r, &c)| c > r) {
        Some("a level has more coded than rated respondents")
    } else if result.levels.is_empty() {
        Some("no level with rated respondents")
    } else if result.levels.len() == 1 {
        Some("only one level with rated respondents")
    } else if result.coded.iter().all(|&c| c == 0) {
        Some("no respondent coded")
    } else if result.coded.iter().zip(&result.rated).all(|(c, r)| c == r) {
        Some("every respondent coded")
    } else {
        None
    };
    if let Some(reason) = reason {
        result.undefined_reason = Some(reason.into());
        return result;
    }

    let table: Vec<[u64; 2]> = result
        .coded
        .iter()
        .zip(&result.rated)
        .map(|(&c, &r)| [c, r - c])
        .collect();
    match chi_square(&table) {
        Ok(test) => {
            result.chi2 = Some(test.chi2);
            result.df = Some(test.df);
            result.p = Some(test.p);
            result.cramers_v = Some(test.cramers_v);
            result.min_expected = Some(test.min_expected);
            if let [first, second] = table[..] {
                result.fisher_p = Some(fisher_exact([first, second]).p_two_sided);
            }
        }
        // Unreachable after the checks above; kept so that no panic is possible.
        Err(e) => result.undefined_reason = Some(e.reason().into()),
    }
    result
}

/// A numeric variable against one code: see [`numeric_by_code`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumericResult {
    /// Number of values of coded respondents.
    pub n_coded: usize,
    /// Number of values of rated respondents without the code.
    pub n_not: usize,
    /// Mean with the code.
    pub mean_coded: Option<f64>,
    /// SD (n - 1) with the code.
    pub sd_coded: Option<f64>,
    /// Mean without the code.
    pub mean_not: Option<f64>,
    /// SD (n - 1) without the code.
    pub sd_not: Option<f64>,
    /// Welch's t, coded minus not coded.
    pub welch_t: Option<f64>,
    /// Welch-Satterthwaite degrees of freedom.
    pub welch_df: Option<f64>,
    /// Two-sided p of Welch's t.
    pub welch_p: Option<f64>,
    /// Mann-Whitney U of the coded group.
    pub mann_whitney_u: Option<f64>,
    /// Two-sided p of U.
    pub mann_whitney_p: Option<f64>,
    /// `"exact"` or `"normal"`.
    pub mann_whitney_method: Option<MannWhitneyMethod>,
    /// Point-biserial r between the code (1/0) and the value.
    pub point_biserial_r: Option<f64>,
    /// p of the point-biserial r (pooled-variance t test).
    pub point_biserial_p: Option<f64>,
    /// Why some statistics are `None` (distinct reasons joined by "; "), if any are.
    pub undefined_reason: Option<String>,
}

/// Compares the values of respondents with the code (`coded_values`) and without it
/// (`not_values`): means and SDs, Welch's t (coded minus not coded), Mann-Whitney U of the coded
/// group, point-biserial r. Each statistic that cannot be computed is `None` and its reason is
/// given in `undefined_reason` (e.g. fewer than 2 values in a group, zero variance, all values
/// equal, a value that is not a finite number).
pub fn numeric_by_code(coded_values: &[f64], not_values: &[f64]) -> NumericResult {
    let coded = summarize(coded_values);
    let not = summarize(not_values);
    let mut result = NumericResult {
        n_coded: coded.n,
        n_not: not.n,
        mean_coded: coded.mean,
        sd_coded: coded.sd,
        mean_not: not.mean,
        sd_not: not.sd,
        welch_t: None,
        welch_df: None,
        welch_p: None,
        mann_whitney_u: None,
        mann_whitney_p: None,
        mann_whitney_method: None,
        point_biserial_r: None,
        point_biserial_p: None,
        undefined_reason: None,
    };
    let mut reasons: Vec<&'static str> = Vec::new();
    let mut note = |reason: &'static str| {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    };

    let finite = coded_values.iter().chain(not_values).all(|v| v.is_finite());
    if !finite {
        note("a value is not a finite number");
    } else if coded.n == 0 {
        note("no value with the code");
    } else if not.n == 0 {
        note("no value without the code");
    } else {
        if coded.n < 2 {
            note("fewer than 2 values with the code");
        } else if not.n < 2 {
            note("fewer than 2 values without the code");
        } else {
            match welch_t_test(coded_values, not_values) {
                Ok(w) => {
                    result.welch_t = Some(w.t);
                    result.welch_df = Some(w.df);
                    result.welch_p = Some(w.p);
                }
                Err(e) => note(e.reason()),
            }
        }
        match mann_whitney_u(coded_values, not_values) {
            Ok(mw) => {
                result.mann_whitney_u = Some(mw.u);
                result.mann_whitney_p = Some(mw.p);
                result.mann_whitney_method = Some(mw.method);
            }
            Err(e) => note(e.reason()),
        }
        match point_biserial(coded_values, not_values) {
            Ok(pb) => {
                result.point_biserial_r = Some(pb.r);
                result.point_biserial_p = Some(pb.p);
            }
            Err(e) => note(e.reason()),
        }
    }
    if !reasons.is_empty() {
        result.undefined_reason = Some(reasons.join("; "));
    }
    result
}
