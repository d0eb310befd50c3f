//! Tests on contingency tables of counts: Pearson's chi-square (with the Yates correction for
//! 2x2 tables and Cramér's V) and Fisher's exact test for 2x2 tables.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use statrs::function::factorial::ln_factorial;

use super::Undefined;

/// Expected cell counts below this value make the chi-square approximation doubtful (the usual
/// "expected count < 5" warning); see [`ChiSquareTest::has_small_expected`].
pub const SMALL_EXPECTED: f64 = 5.0;

/// Result of [`chi_square`] on an r x c table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChiSquareTest {
    /// Total count of the table.
    pub n: u64,
    /// Rows kept (rows whose total is not zero).
    pub rows: usize,
    /// Columns kept (columns whose total is not zero).
    pub cols: usize,
    /// Pearson's chi-square statistic, without continuity correction.
    pub chi2: f64,
    /// Degrees of freedom, `(rows - 1) * (cols - 1)` of the kept rows and columns.
    pub df: usize,
    /// Upper-tail p-value of `chi2` under the chi-square distribution with `df` degrees of freedom.
    pub p: f64,
    /// Cramér's V, `sqrt(chi2 / (n * (min(rows, cols) - 1)))`, from the uncorrected `chi2`; in [0, 1].
    pub cramers_v: f64,
    /// Yates-corrected chi-square (R's `chisq.test(correct = TRUE)`); only for 2x2 tables.
    pub yates_chi2: Option<f64>,
    /// p-value of `yates_chi2` (1 degree of freedom); only for 2x2 tables.
    pub yates_p: Option<f64>,
    /// Smallest expected count `row_total * col_total / n` among the kept cells.
    pub min_expected: f64,
}

impl ChiSquareTest {
    /// Whether some expected count is below [`SMALL_EXPECTED`] (5), the usual warning that the
    /// chi-square approximation may be poor (prefer Fisher's exact test for 2x2 tables).
    pub fn has_small_expected(&self) -> bool {
        self.min_expected < SMALL_EXPECTED
    }
}

/// Pearson's chi-square test of independence on an r x c table of counts (`table[row][col]`).
///
/// Rows and columns whose total is zero are dropped first (they carry no information, and would
/// make expected counts zero); the degrees of freedom are `(r - 1) * (c - 1)` of what remains.
/// The statistic is uncorrected (R `chisq.test(correct = FALSE)`); for a table that is 2x2 after
/// dropping, the Yates-corrected statistic is also given, with R's convention
/// `sum((|O - E| - min(0.5, |O - E|))^2 / E)`. Cramér's V uses the uncorrected statistic.
///
/// Undefined (returns the reason) when the rows have different lengths or when fewer than two
/// non-empty rows or columns remain.
pub fn chi_square<R: AsRef<[u64]>>(table: &[R]) -> Result<ChiSquareTest, Undefined> {
    let ncols = table.first().map_or(0, |r| r.as_ref().len());
    if table.iter().any(|r| r.as_ref().len() != ncols) {
        return Err(Undefined("the rows of the table differ in length"));
    }
    let row_tot: Vec<u128> = table
        .iter()
        .map(|r| r.as_ref().iter().map(|&x| u128::from(x)).sum())
        .collect();
    let col_tot: Vec<u128> = (0..ncols)
        .map(|j| table.iter().map(|r| u128::from(r.as_ref()[j])).sum())
        .collect();
    let keep_rows: Vec<usize> = (0..table.len()).filter(|&i| row_tot[i] > 0).collect();
    let keep_cols: Vec<usize> = (0..ncols).filter(|&j| col_tot[j] > 0).collect();
    if keep_rows.len() < 2 {
        return Err(Undefined("fewer than two non-empty rows"));
    }
    if keep_cols.len() < 2 {
        return Err(Undefined("fewer than two non-empty columns"));
    }
    let total: u128 = row_tot.iter().sum();
    let n = total as f64;

    let mut chi2 = 0.0;
    let mut min_expected = f64::INFINITY;
    // (|O - E|, E) per cell, for the Yates correction.
    let mut cells = Vec::with_capacity(keep_rows.len() * keep_cols.len());
    for &i in &keep_rows {
        for &j in &keep_cols {
            let observed = table[i].as_ref()[j] as f64;
            let expected = row_tot[i] as f64 * col_tot[j] as f64 / n;
            let dev = observed - expected;
            chi2 += dev * dev / expected;
            min_expected = min_expected.min(expected);
            cells.push((dev.abs(), expected));
        }
    }
    let (r, c) = (keep_rows.len(), keep_cols.len());
    let df = (r - 1) * (c - 1);
    let p = chi2_sf(chi2, df);
    let denom = n * (r.min(c) - 1) as f64;
    let cramers_v = (chi2 / denom).sqrt().clamp(0.0, 1.0);

    let (yates_chi2, yates_p) = if r == 2 && c == 2 {
        let yates = cells.iter().fold(0.5_f64, |m, &(d, _)| m.min(d));
        let stat: f64 = cells
            .iter()
            .map(|&(d, e)| (d - yates) * (d - yates) / e)
            .sum();
        (Some(stat), Some(chi2_sf(stat, 1)))
    } else {
        (None, None)
    };

    Ok(ChiSquareTest {
        n: u64::try_from(total).unwrap_or(u64::MAX),
        rows: r,
        cols: c,
        chi2,
        df,
        p,
        cramers_v,
        yates_chi2,
        yates_p,
        min_expected,
    })
}

/// Upper tail of the chi-square distribution (`df >= 1`, `x >= 0`), in [0, 1].
fn chi2_sf(x: f64, df: usize) -> f64 {
    match ChiSquared::new(df as f64) {
        Ok(dist) => dist.sf(x).clamp(0.0, 1.0),
        // Unreachable for df >= 1; never return NaN.
        Err(_) => 1.0,
    }
}

/// Result of [`fisher_exact`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FisherTest {
    /// Two-sided p: sum of the probabilities of all tables (with the observed margins) that are no
    /// more likely than the observed one, compared with a relative tolerance of 1e-7 (as R).
    pub p_two_sided: f64,
    /// One-sided p for "odds ratio < 1": P(X <= a), X the top-left cell given the margins.
    pub p_less: f64,
    /// One-sided p for "odds ratio > 1": P(X >= a).
    pub p_greater: f64,
    /// Conditional maximum-likelihood estimate of the odds ratio (R `fisher.test`'s `estimate`):
    /// `Some(0.0)` when `a` is the smallest value the margins allow, `None` when it is the largest
    /// (infinite estimate) or when the margins allow a single table.
    pub odds_ratio: Option<f64>,
}

/// Fisher's exact test on the 2x2 table `[[a, b], [c, d]]` (rows x columns).
///
/// Conditional on the margins, the top-left cell follows a hypergeometric distribution; its
/// probabilities are computed from log-factorials and normalised, so the test works for totals in
/// the thousands. Tables with a zero margin have a single possible table: all p-values are 1.
pub fn fisher_exact(table: [[u64; 2]; 2]) -> FisherTest {
    let [[a, b], [c, d]] = table;
    let m = a + b; // first row total
    let n = c + d; // second row total
    let k = a + c; // first column total
    let lo = k.saturating_sub(n);
    let hi = k.min(m);
    let obs = (a - lo) as usize;

    // log P(X = x) up to a constant, x = lo..=hi.
    let logd: Vec<f64> = (lo..=hi)
        .map(|x| {
            -(ln_factorial(x) + ln_factorial(m - x) + ln_factorial(k - x) + ln_factorial(n + x - k))
        })
        .collect();
    let max = logd.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logd.iter().map(|&l| (l - max).exp()).collect();
    let sum: f64 = w.iter().sum();
    let dens: Vec<f64> = w.iter().map(|&x| x / sum).collect();

    let threshold = dens[obs] * (1.0 + 1e-7);
    let p_two_sided = dens.iter().filter(|&&p| p <= threshold).sum::<f64>();
    let p_less = dens[..=obs].iter().sum::<f64>();
    let p_greater = dens[obs..].iter().sum::<f64>();

    let odds_ratio = if lo == hi || a == hi {
        None
    } else if a == lo {
        Some(0.0)
    } else {
        Some(conditional_mle(&logd, lo, a).exp())
    };

    FisherTest {
        p_two_sided: p_two_sided.min(1.0),
        p_less: p_less.min(1.0),
        p_greater: p_greater.min(1.0),
        odds_ratio,
    }
}

/// Log of the conditional MLE of the odds ratio: the `t` for which the mean of the noncentral
/// hypergeometric distribution `P(x) ∝ exp(logd[x - lo] + t x)` equals the observed `a`
/// (which lies strictly inside the support). The mean increases with `t`; solved by bisection.
fn conditional_mle(logd: &[f64], lo: u64, a: u64) -> f64 {
    let target = (a - lo) as f64;
    let mean = |t: f64| {
        let lw: Vec<f64> = logd
            .iter()
            .enumerate()
            .map(|(i, &l)| l + t * i as f64)
            .collect();
        let max = lw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (mut s, mut sx) = (0.0, 0.0);
        for (i, &l) in lw.iter().enumerate() {
            let w = (l - max).exp();
            s += w;
            sx += w * i as f64;
        }
        sx / s
    };
    let mut bound = 1.0_f64;
    while (mean(bound) < target || mean(-bound) > target) && bound < 1e6 {
        bound *= 2.0;
    }
    let (mut low, mut high) = (-bound, bound);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if mid <= low || mid >= high {
            break;
        }
        if mean(mid) < target {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}
