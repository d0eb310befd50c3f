//! Percentile bootstrap intervals for alpha, resampling answers with replacement.
//!
//! Only answers rated by two or more coders carry information about alpha, so those are the
//! units resampled (each resample has as many as the data). Each unit is first reduced to a
//! small summary (binary: raters, agreeing pairs, applications; sets: within-unit
//! disagreement and set ids), identical summaries share a type, and a resample only counts
//! how often it drew each type, drawn as a multinomial (see [`resample_types`]).

use std::collections::HashMap;
use std::hash::Hash;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution};
use serde::Serialize;

use super::set_alpha::{SetDistance, SetValues};
use super::{CodingMatrix, Tallies, Undefined};

/// Which alpha to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaKind {
    /// Binary nominal alpha of one code (codebook index).
    Code(usize),
    /// Binary nominal alpha over all (answer, code) decisions.
    Pooled,
    /// Set-valued alpha with MASI distance.
    Masi,
    /// Set-valued alpha with Jaccard distance.
    Jaccard,
}

/// A bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// 2.5th percentile of the resampled values.
    pub low: f64,
    /// 97.5th percentile of the resampled values.
    pub high: f64,
    /// Resamples that gave a defined value (the others, e.g. with no variation, are dropped).
    pub resamples_used: usize,
}

/// 95% percentile bootstrap interval for an alpha, resampling the answers rated by two or
/// more coders with replacement, `n_resamples` times. Reproducible: the generator is
/// `ChaCha8Rng::seed_from_u64(seed)`. Percentiles interpolate linearly between order
/// statistics (Hyndman & Fan type 7, the numpy and R default).
pub fn bootstrap_alpha_ci(
    m: &CodingMatrix,
    which: AlphaKind,
    n_resamples: usize,
    seed: u64,
) -> Result<Interval, Undefined> {
    let mut estimates = match which {
        AlphaKind::Code(c) if c >= m.n_codes() => return Err(Undefined::NoSuchCode { code: c }),
        AlphaKind::Code(c) => resample_binary(m, Some(c), n_resamples, seed)?,
        AlphaKind::Pooled => resample_binary(m, None, n_resamples, seed)?,
        AlphaKind::Masi => resample_sets(m, SetDistance::Masi, n_resamples, seed)?,
        AlphaKind::Jaccard => resample_sets(m, SetDistance::Jaccard, n_resamples, seed)?,
    };
    if estimates.is_empty() {
        return Err(Undefined::NoResamples);
    }
    estimates.sort_by(f64::total_cmp);
    Ok(Interval {
        low: quantile(&estimates, 0.025),
        high: quantile(&estimates, 0.975),
        resamples_used: estimates.len(),
    })
}

/// Quantile of sorted, non-empty data, linear interpolation (type 7).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Runs `n_resamples` resamples of the units through `estimate`, keeping the defined values.
///
/// Each unit is given as the id of its type (units of one type contribute identically), so a
/// resample is just a count per type, and `estimate` sees `counts[type]`. Drawing n units with
/// replacement gives counts that are multinomial over the types, with each type's share of the
/// units as its probability; the counts are drawn as that multinomial directly (one binomial
/// per type, conditional on the types before it), which is the same distribution at a cost
/// that grows with the types, not the units: a million answers have a few hundred types.
fn resample_types(
    types: &[u32],
    n_types: usize,
    n_resamples: usize,
    seed: u64,
    mut estimate: impl FnMut(&[u64]) -> Result<f64, Undefined>,
) -> Result<Vec<f64>, Undefined> {
    if types.is_empty() {
        return Err(Undefined::NoPairableUnits);
    }
    let mut units_of = vec![0u64; n_types];
    for &t in types {
        units_of[t as usize] += 1;
    }
    let n = types.len() as u64;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut counts = vec![0u64; n_types];
    let mut out = Vec::with_capacity(n_resamples);
    for _ in 0..n_resamples {
        let (mut draws_left, mut units_left) = (n, n);
        for (count, &units) in counts.iter_mut().zip(&units_of) {
            *count = if draws_left == 0 || units == 0 {
                0
            } else if units == units_left {
                draws_left
            } else {
                let p = units as f64 / units_left as f64;
                // p is in (0, 1): units < units_left.
                Binomial::new(draws_left, p)
                    .map(|b| b.sample(&mut rng))
                    .unwrap_or(0)
            };
            draws_left -= *count;
            units_left -= units;
        }
        if let Ok(v) = estimate(&counts) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Assigns each distinct key an id in order of first appearance.
struct Interner<K> {
    ids: HashMap<K, u32>,
    keys: Vec<K>,
}

impl<K: Clone + Eq + Hash> Interner<K> {
    fn new() -> Self {
        Self {
            ids: HashMap::new(),
            keys: Vec::new(),
        }
    }

    fn id(&mut self, key: K) -> u32 {
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.push(key.clone());
        self.ids.insert(key, id);
        id
    }
}

/// A pairable answer reduced to what binary alpha needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct BinaryUnit {
    raters: usize,
    /// (answer, code) decisions this answer contributes: 1 for one code, the codebook size
    /// when pooled.
    decisions: u64,
    /// Agreeing ordered coder pairs, summed over its decisions.
    same_pairs: u64,
    /// Ratings that apply a code, summed over its decisions.
    applied: u64,
}

/// Summary of pairable answer `u` for one code, or for all codes pooled (`None`).
fn binary_unit(
    m: &CodingMatrix,
    u: usize,
    code: Option<usize>,
    appliers: &mut [u64],
) -> BinaryUnit {
    appliers.fill(0);
    for &c in m.unit(u).flatten().flatten() {
        appliers[c as usize] += 1;
    }
    let counts = match code {
        Some(c) => &appliers[c..=c],
        None => &appliers[..],
    };
    let raters = m.raters(u);
    let r = raters as u64;
    BinaryUnit {
        raters,
        decisions: counts.len() as u64,
        same_pairs: counts
            .iter()
            .map(|&a| a * a.saturating_sub(1) + (r - a) * (r - a).saturating_sub(1))
            .sum(),
        applied: counts.iter().sum(),
    }
}

fn resample_binary(
    m: &CodingMatrix,
    code: Option<usize>,
    n_resamples: usize,
    seed: u64,
) -> Result<Vec<f64>, Undefined> {
    let mut appliers = vec![0u64; m.n_codes()];
    let mut kinds = Interner::new();
    let types: Vec<u32> = (0..m.n_units())
        .filter(|&u| m.raters(u) >= 2)
        .map(|u| kinds.id(binary_unit(m, u, code, &mut appliers)))
        .collect();
    let side = m.n_coders() + 1;
    resample_types(&types, kinds.keys.len(), n_resamples, seed, |counts| {
        let (mut units, mut same, mut applied) =
            (vec![0u64; side], vec![0u64; side], vec![0u64; side]);
        for (k, &n) in kinds.keys.iter().zip(counts) {
            units[k.raters] += n * k.decisions;
            same[k.raters] += n * k.same_pairs;
            applied[k.raters] += n * k.applied;
        }
        let mut t = Tallies::new(2, m.n_coders());
        for r in 2..side {
            let ratings = units[r] * r as u64;
            t.add_grouped(r, units[r], same[r], &[ratings - applied[r], applied[r]]);
        }
        t.krippendorff_alpha()
    })
}

fn resample_sets(
    m: &CodingMatrix,
    kind: SetDistance,
    n_resamples: usize,
    seed: u64,
) -> Result<Vec<f64>, Undefined> {
    let v = SetValues::new(m, kind, true);
    // A unit's type is the multiset of its values' set ids.
    let mut patterns: Interner<Vec<u32>> = Interner::new();
    let mut within = Vec::new();
    let mut start = 0;
    let mut types = Vec::with_capacity(v.unit_ends.len());
    for (u, &end) in v.unit_ends.iter().enumerate() {
        let mut ids = v.values[start..end].to_vec();
        ids.sort_unstable();
        start = end;
        let id = patterns.id(ids);
        if id as usize == within.len() {
            within.push(v.within[u]);
        }
        types.push(id);
    }
    let mut set_counts = vec![0u64; v.distances.len()];
    resample_types(&types, within.len(), n_resamples, seed, |counts| {
        set_counts.fill(0);
        let (mut observed, mut n) = (0.0, 0u64);
        for ((ids, w), &c) in patterns.keys.iter().zip(&within).zip(counts) {
            if c == 0 {
                continue;
            }
            observed += c as f64 * w;
            n += c * ids.len() as u64;
            for &id in ids {
                set_counts[id as usize] += c;
            }
        }
        v.alpha(observed, &set_counts, n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Type counts of `n_resamples` resamples of 100 units of three types (50, 30, 20 units),
    /// with one type that no unit has in between.
    fn draws(n_resamples: usize, seed: u64) -> Vec<[f64; 4]> {
        let mut types = Vec::new();
        for (t, units) in [(0u32, 50), (2, 30), (3, 20)] {
            types.extend(std::iter::repeat_n(t, units));
        }
        let mut seen = Vec::new();
        resample_types(&types, 4, n_resamples, seed, |c| {
            seen.push([c[0] as f64, c[1] as f64, c[2] as f64, c[3] as f64]);
            Ok(0.0)
        })
        .unwrap();
        seen
    }

    #[test]
    fn every_resample_draws_as_many_units_as_there_are_and_none_of_an_absent_type() {
        for c in draws(2000, 3) {
            assert_eq!(c.iter().sum::<f64>(), 100.0);
            assert_eq!(c[1], 0.0);
        }
    }

    #[test]
    fn counts_follow_drawing_units_with_replacement() {
        // Drawing 100 units with replacement: each type's count is binomial(100, share), two
        // types' counts covary by -100 * share_a * share_b.
        let runs = 40_000;
        let seen = draws(runs, 11);
        let n = runs as f64;
        let mean = |i: usize| seen.iter().map(|c| c[i]).sum::<f64>() / n;
        let cov = |i: usize, j: usize| {
            let (mi, mj) = (mean(i), mean(j));
            seen.iter().map(|c| (c[i] - mi) * (c[j] - mj)).sum::<f64>() / (n - 1.0)
        };
        for (i, share) in [(0, 0.5), (2, 0.3), (3, 0.2)] {
            let var = 100.0 * share * (1.0 - share);
            let se = (var / n).sqrt();
            assert!(
                (mean(i) - 100.0 * share).abs() < 5.0 * se,
                "mean of type {i}: {}",
                mean(i)
            );
            assert!(
                (cov(i, i) / var - 1.0).abs() < 0.05,
                "variance of type {i}: {}",
                cov(i, i)
            );
        }
        let expected = -100.0 * 0.5 * 0.3;
        assert!(
            (cov(0, 2) / expected - 1.0).abs() < 0.05,
            "covariance: {}",
            cov(0, 2)
        );
    }

    #[test]
    fn the_same_seed_draws_the_same_resamples() {
        assert_eq!(draws(50, 9), draws(50, 9));
        assert_ne!(draws(50, 9), draws(50, 10));
    }
}
