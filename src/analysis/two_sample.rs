//! Comparisons of a numeric variable between two groups: descriptive summaries, Welch's t test,
//! the Mann-Whitney U (Wilcoxon rank-sum) test and the point-biserial correlation.
//!
//! Throughout, `group1` is the group of interest (e.g. respondents with the code) and `group0` the
//! comparison group: differences are group 1 minus group 0, and U is the U of group 1.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

use super::Undefined;

/// Size, mean and standard deviation of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean (`None` without values).
    pub mean: Option<f64>,
    /// Sample standard deviation with the `n - 1` denominator (`None` with fewer than 2 values).
    pub sd: Option<f64>,
}

/// Size, mean and SD (`n - 1` denominator) of `values`. The mean is `None` for no values, the SD
/// for fewer than two; both are `None` if a value is not finite (or the values are so large that
/// the sums overflow).
pub fn summarize(values: &[f64]) -> Summary {
    let n = values.len();
    if !all_finite(values) {
        return Summary {
            n,
            mean: None,
            sd: None,
        };
    }
    Summary {
        n,
        mean: (n >= 1).then(|| mean(values)).filter(|m| m.is_finite()),
        sd: (n >= 2)
            .then(|| variance(values).sqrt())
            .filter(|s| s.is_finite()),
    }
}

/// Result of [`welch_t_test`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WelchTest {
    /// Summary of group 1.
    pub group1: Summary,
    /// Summary of group 0.
    pub group0: Summary,
    /// `(mean1 - mean0) / sqrt(s1²/n1 + s0²/n0)`.
    pub t: f64,
    /// Welch-Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value from Student's t with `df` degrees of freedom.
    pub p: f64,
}

/// Welch's unequal-variance t test of group 1 minus group 0 (R `t.test(group1, group0)`).
///
/// Undefined with fewer than 2 values in a group, a non-finite value, zero variance in both
/// groups (the standard error is then 0), or values whose sums overflow.
pub fn welch_t_test(group1: &[f64], group0: &[f64]) -> Result<WelchTest, Undefined> {
    check_finite(group1, group0)?;
    if group1.len() < 2 {
        return Err(Undefined("fewer than 2 values in group 1"));
    }
    if group0.len() < 2 {
        return Err(Undefined("fewer than 2 values in group 0"));
    }
    let (n1, n0) = (group1.len() as f64, group0.len() as f64);
    let (m1, m0) = (mean(group1), mean(group0));
    let (v1, v0) = (variance(group1), variance(group0));
    let (se1, se0) = (v1 / n1, v0 / n0);
    let se2 = se1 + se0;
    if se2 <= 0.0 {
        return Err(Undefined("zero variance in both groups"));
    }
    let t = (m1 - m0) / se2.sqrt();
    let df = se2 * se2 / (se1 * se1 / (n1 - 1.0) + se0 * se0 / (n0 - 1.0));
    if !(t.is_finite() && df.is_finite() && df > 0.0 && v1.is_finite() && v0.is_finite()) {
        return Err(Undefined(TOO_LARGE));
    }
    let p = t_two_sided(t, df);
    Ok(WelchTest {
        group1: Summary {
            n: group1.len(),
            mean: Some(m1),
            sd: Some(v1.sqrt()),
        },
        group0: Summary {
            n: group0.len(),
            mean: Some(m0),
            sd: Some(v0.sqrt()),
        },
        t,
        df,
        p,
    })
}

/// How the Mann-Whitney p-value was obtained. Serialised as `"exact"` / `"normal"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MannWhitneyMethod {
    /// Exact null distribution of U (both groups under 50 values, no ties).
    Exact,
    /// Normal approximation with tie-corrected variance and 0.5 continuity correction.
    Normal,
}

impl MannWhitneyMethod {
    /// `"exact"` or `"normal"`.
    pub fn as_str(self) -> &'static str {
        match self {
            MannWhitneyMethod::Exact => "exact",
            MannWhitneyMethod::Normal => "normal",
        }
    }
}

/// Result of [`mann_whitney_u`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MannWhitneyTest {
    /// U of group 1: `R1 - n1 (n1 + 1) / 2`, `R1` the sum of group 1's mid-ranks in the pooled
    /// sample (R's `W`). In [0, n1 n0].
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Exact or normal approximation.
    pub method: MannWhitneyMethod,
}

/// Groups with fewer values than this (both) and no ties get the exact Mann-Whitney p-value.
pub const MANN_WHITNEY_EXACT_BELOW: usize = 50;

/// Mann-Whitney U test (Wilcoxon rank-sum, R `wilcox.test(group1, group0)` defaults).
///
/// U is group 1's. When both groups have fewer than 50 values and there are no ties, the p-value
/// is exact: the null distribution of U is counted exactly and
/// `p = min(1, 2 min(P(U <= u), P(U >= u)))`. Otherwise the normal approximation is used, with the
/// tie-corrected variance `n1 n0 / 12 * ((N + 1) - Σ(t³ - t) / (N (N - 1)))` and a continuity
/// correction of 0.5 towards the mean.
///
/// Undefined when a group is empty, a value is not finite, or (normal approximation) all values
/// are equal.
pub fn mann_whitney_u(group1: &[f64], group0: &[f64]) -> Result<MannWhitneyTest, Undefined> {
    check_finite(group1, group0)?;
    if group1.is_empty() {
        return Err(Undefined("no value in group 1"));
    }
    if group0.is_empty() {
        return Err(Undefined("no value in group 0"));
    }
    let (n1, n0) = (group1.len(), group0.len());
    let pooled: Vec<f64> = group1.iter().chain(group0).copied().collect();
    let (ranks, tie_sizes) = mid_ranks(&pooled);
    let r1: f64 = ranks[..n1].iter().sum();
    let (n1f, n0f) = (n1 as f64, n0 as f64);
    let u = r1 - n1f * (n1f + 1.0) / 2.0;

    let has_ties = tie_sizes.iter().any(|&t| t > 1);
    if n1 < MANN_WHITNEY_EXACT_BELOW && n0 < MANN_WHITNEY_EXACT_BELOW && !has_ties {
        // Without ties U is an integer.
        let counts = mann_whitney_counts(n1, n0);
        let q = u.round() as usize;
        let total: f64 = counts.iter().sum();
        let p_half = if u > n1f * n0f / 2.0 {
            counts[q..].iter().sum::<f64>() / total
        } else {
            counts[..=q].iter().sum::<f64>() / total
        };
        return Ok(MannWhitneyTest {
            u,
            p: (2.0 * p_half).min(1.0),
            method: MannWhitneyMethod::Exact,
        });
    }

    let nf = n1f + n0f;
    let ties: f64 = tie_sizes
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum();
    let sigma = ((n1f * n0f / 12.0) * ((nf + 1.0) - ties / (nf * (nf - 1.0)))).sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return Err(Undefined("all values are equal"));
    }
    let z = u - n1f * n0f / 2.0;
    let correction = if z > 0.0 {
        0.5
    } else if z < 0.0 {
        -0.5
    } else {
        0.0
    };
    let z = (z - correction) / sigma;
    // 2 min(Φ(z), 1 - Φ(z)) = P(|Z| >= |z|) = P(χ²₁ >= z²): statrs' regularised incomplete gamma
    // is accurate to ~1e-15 here, its normal tail (erfc) only to ~1e-10.
    let p = chi2_1_sf(z * z);
    Ok(MannWhitneyTest {
        u,
        p: p.clamp(0.0, 1.0),
        method: MannWhitneyMethod::Normal,
    })
}

/// Number of arrangements giving each value of U (index u = 0..=n1 n0) under the null hypothesis,
/// for groups of sizes `n1` and `n0` (symmetric in the two). Counted by adding the pooled
/// observations in increasing order: choosing the i-th smallest (0-based) as the (j+1)-th
/// observation of the smaller group adds `i - j` (the larger-group values below it) to U.
/// Purely additive, so the counts are accurate in floating point.
fn mann_whitney_counts(n1: usize, n0: usize) -> Vec<f64> {
    let (m, n) = (n1.min(n0), n1.max(n0));
    let width = m * n + 1;
    // dp[j * width + u]: ways to place j smaller-group values with partial U = u.
    let mut dp = vec![0.0_f64; (m + 1) * width];
    dp[0] = 1.0;
    for i in 0..(m + n) {
        for j in (0..=m.saturating_sub(1).min(i)).rev() {
            let before = i - j; // larger-group values below the new one
            if before > n {
                continue;
            }
            let (src, dst) = dp.split_at_mut((j + 1) * width);
            let src = &src[j * width..];
            for u in 0..(width - before) {
                let w = src[u];
                if w != 0.0 {
                    dst[u + before] += w;
                }
            }
        }
    }
    dp[m * width..].to_vec()
}

/// Mid-ranks (1-based, ties get the mean of their ranks) and the sizes of the groups of equal
/// values. Values must be finite.
fn mid_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].partial_cmp(&values[b]).unwrap_or(Ordering::Equal));
    let mut ranks = vec![0.0; values.len()];
    let mut tie_sizes = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 2) as f64 / 2.0;
        for &idx in &order[start..=end] {
            ranks[idx] = rank;
        }
        tie_sizes.push(end - start + 1);
        start = end + 1;
    }
    (ranks, tie_sizes)
}

/// Result of [`point_biserial`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointBiserial {
    /// Pearson's r between membership of group 1 (1) / group 0 (0) and the value; in [-1, 1],
    /// positive when group 1 has the higher values.
    pub r: f64,
    /// Degrees of freedom of the pooled-variance t test, `n1 + n0 - 2`.
    pub df: usize,
    /// Two-sided p-value of `t = r sqrt(df / (1 - r²))` (the pooled-variance two-sample t test,
    /// R `cor.test`); 0 when |r| = 1.
    pub p: f64,
}

/// Point-biserial correlation between group membership (1 = group 1) and the value, with the
/// p-value of the pooled-variance (Student) t test, not Welch's.
///
/// Undefined when a group is empty, there are fewer than 3 values in all, a value is not finite,
/// or all values are equal.
pub fn point_biserial(group1: &[f64], group0: &[f64]) -> Result<PointBiserial, Undefined> {
    check_finite(group1, group0)?;
    if group1.is_empty() {
        return Err(Undefined("no value in group 1"));
    }
    if group0.is_empty() {
        return Err(Undefined("no value in group 0"));
    }
    let (n1, n0) = (group1.len(), group0.len());
    let total = n1 + n0;
    if total < 3 {
        return Err(Undefined("fewer than 3 values"));
    }
    let pooled: Vec<f64> = group1.iter().chain(group0).copied().collect();
    let xbar = mean(&pooled);
    let nf = total as f64;
    let gbar = n1 as f64 / nf;
    let mut sxx = 0.0;
    let mut sxg = 0.0;
    for (i, &x) in pooled.iter().enumerate() {
        let dx = x - xbar;
        let dg = if i < n1 { 1.0 - gbar } else { -gbar };
        sxx += dx * dx;
        sxg += dx * dg;
    }
    if sxx <= 0.0 {
        return Err(Undefined("all values are equal"));
    }
    if !sxx.is_finite() || !sxg.is_finite() {
        return Err(Undefined(TOO_LARGE));
    }
    let sgg = n1 as f64 * n0 as f64 / nf;
    let r = (sxg / (sxx * sgg).sqrt()).clamp(-1.0, 1.0);
    let df = total - 2;
    let one_minus_r2 = 1.0 - r * r;
    let p = if one_minus_r2 <= 0.0 {
        0.0
    } else {
        let t = r * (df as f64 / one_minus_r2).sqrt();
        t_two_sided(t, df as f64)
    };
    Ok(PointBiserial { r, df, p })
}

/// Two-sided p-value of Student's t with `df > 0` degrees of freedom, in [0, 1].
fn t_two_sided(t: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(dist) => (2.0 * dist.sf(t.abs())).clamp(0.0, 1.0),
        // Unreachable for df > 0; never return NaN.
        Err(_) => 1.0,
    }
}

/// Upper tail of the chi-square distribution with one degree of freedom, in [0, 1]; falls back to
/// the normal tail should the distribution not be constructible (it always is).
fn chi2_1_sf(x: f64) -> f64 {
    match ChiSquared::new(1.0) {
        Ok(dist) => dist.sf(x).clamp(0.0, 1.0),
        Err(_) => (2.0 * Normal::standard().sf(x.sqrt())).clamp(0.0, 1.0),
    }
}

/// Reason given when values are so large (or spreads so small) that the arithmetic overflows.
const TOO_LARGE: &str = "values outside the computable range";

fn all_finite(values: &[f64]) -> bool {
    values.iter().all(|v| v.is_finite())
}

fn check_finite(group1: &[f64], group0: &[f64]) -> Result<(), Undefined> {
    if all_finite(group1) && all_finite(group0) {
        Ok(())
    } else {
        Err(Undefined("a value is not a finite number"))
    }
}

/// Mean with one refinement pass (as R's `mean`). `values` non-empty.
fn mean(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let m = values.iter().sum::<f64>() / n;
    m + values.iter().map(|&x| x - m).sum::<f64>() / n
}

/// Sample variance (`n - 1` denominator), two-pass. `values.len() >= 2`.
fn variance(values: &[f64]) -> f64 {
    let m = mean(values);
    values.iter().map(|&x| (x - m) * (x - m)).sum::<f64>() / (values.len() as f64 - 1.0)
}
