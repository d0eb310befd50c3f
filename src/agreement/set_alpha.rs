//! Krippendorff's alpha for set-valued data: each coder's set of codes per answer is one
//! value, compared with a set distance (MASI or Jaccard).
//!
//! `alpha = 1 - D_o / D_e` (Krippendorff 2011, general form) over the values of answers
//! rated by two or more coders, with
//! `D_o = (1/n) sum_u sum_{i != j in u} d(s_i, s_j) / (r_u - 1)` and
//! `D_e = (1/(n(n-1))) sum_{i != j} d(s_i, s_j)` over all pairs of the `n` pairable values.
//! `D_e` is computed over distinct sets (`sum_{A != B} c_A c_B d(A, B)`) instead of over all
//! pairs of values, so its cost is the square of the number of distinct sets, not of `n`.

use std::collections::HashMap;

use super::{CodingMatrix, Undefined, finite};

/// Distance between two sets of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetDistance {
    /// MASI (Passonneau 2006): `1 - J * M`, `J` the Jaccard index, `M` = 1 for equal sets,
    /// 2/3 when one contains the other, 1/3 for other overlapping sets, 0 for disjoint ones.
    Masi,
    /// Jaccard distance `1 - |A & B| / |A | B|`.
    Jaccard,
}

impl SetDistance {
    /// Distance between two sorted sets of distinct codes; two empty sets are at distance 0.
    pub fn distance(self, a: &[u32], b: &[u32]) -> f64 {
        if a == b {
            return 0.0;
        }
        // Not both empty, so the union is not empty.
        let common = intersection_len(a, b);
        let jaccard = common as f64 / (a.len() + b.len() - common) as f64;
        match self {
            Self::Jaccard => 1.0 - jaccard,
            Self::Masi => {
                let monotonicity = if common == a.len().min(b.len()) {
                    2.0 / 3.0
                } else if common > 0 {
                    1.0 / 3.0
                } else {
                    0.0
                };
                1.0 - jaccard * monotonicity
            }
        }
    }
}

/// Size of the intersection of two sorted slices of distinct values.
fn intersection_len(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Distances between distinct sets: a triangular table when small enough, else on demand.
pub(crate) struct PairDistances<'a> {
    sets: Vec<&'a [u32]>,
    kind: SetDistance,
    table: Option<Vec<f64>>,
}

/// Above this many distinct sets the table (n^2 / 2 floats) is not stored.
const MAX_TABLE_SETS: usize = 2048;

impl<'a> PairDistances<'a> {
    fn new(sets: Vec<&'a [u32]>, kind: SetDistance, with_table: bool) -> Self {
        let mut d = Self {
            sets,
            kind,
            table: None,
        };
        let n = d.sets.len();
        if with_table && n <= MAX_TABLE_SETS {
            let mut table = Vec::with_capacity(n * n.saturating_sub(1) / 2);
            for j in 1..n {
                for i in 0..j {
                    table.push(kind.distance(d.sets[i], d.sets[j]));
                }
            }
            d.table = Some(table);
        }
        d
    }

    pub(crate) fn len(&self) -> usize {
        self.sets.len()
    }

    pub(crate) fn get(&self, i: usize, j: usize) -> f64 {
        let (lo, hi) = if i < j { (i, j) } else { (j, i) };
        if lo == hi {
            return 0.0;
        }
        match &self.table {
            Some(t) => t[hi * (hi - 1) / 2 + lo],
            None => self.kind.distance(self.sets[lo], self.sets[hi]),
        }
    }

    /// `sum_{A != B} c_A c_B d(A, B)` over the sets with a nonzero count.
    pub(crate) fn expected_sum(&self, counts: &[u64]) -> f64 {
        let used: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
        let mut sum = 0.0;
        for (x, &j) in used.iter().enumerate() {
            for &i in &used[..x] {
                sum += (counts[i] * counts[j]) as f64 * self.get(i, j);
            }
        }
        2.0 * sum
    }
}

/// The pairable values of a coding matrix as ids of distinct sets, unit by unit.
pub(crate) struct SetValues<'a> {
    pub(crate) distances: PairDistances<'a>,
    /// Set id of every pairable value, unit after unit.
    pub(crate) values: Vec<u32>,
    /// Index `u`: end of pairable unit u's values in `values`.
    pub(crate) unit_ends: Vec<usize>,
    /// Index `u`: `sum_{i != j} d(s_i, s_j) / (r_u - 1)` within pairable unit u.
    pub(crate) within: Vec<f64>,
}

impl<'a> SetValues<'a> {
    /// Collects the pairable values; `with_table` precomputes distances for repeated use.
    pub(crate) fn new(m: &'a CodingMatrix, kind: SetDistance, with_table: bool) -> Self {
        let mut ids: HashMap<&'a [u32], u32> = HashMap::new();
        let mut sets: Vec<&'a [u32]> = Vec::new();
        let mut values = Vec::new();
        let mut unit_ends = Vec::new();
        for u in 0..m.n_units() {
            if m.raters(u) < 2 {
                continue;
            }
            for set in m.unit(u).flatten() {
                let id = *ids.entry(set).or_insert_with(|| {
                    sets.push(set);
                    u32::try_from(sets.len() - 1).unwrap_or(u32::MAX)
                });
                values.push(id);
            }
            unit_ends.push(values.len());
        }
        let distances = PairDistances::new(sets, kind, with_table);
        let mut start = 0;
        let within = unit_ends
            .iter()
            .map(|&end| {
                let w = within_unit(&distances, &values[start..end]);
                start = end;
                w
            })
            .collect();
        Self {
            distances,
            values,
            unit_ends,
            within,
        }
    }

    /// Alpha from the observed sum, per-set counts and number of values of some selection
    /// of pairable units (all of them, or a bootstrap resample).
    pub(crate) fn alpha(&self, observed: f64, counts: &[u64], n: u64) -> Result<f64, Undefined> {
        match counts.iter().filter(|&&c| c > 0).count() {
            0 => return Err(Undefined::NoPairableUnits),
            1 => return Err(Undefined::SingleSet),
            _ => {}
        }
        let expected = self.distances.expected_sum(counts);
        finite(1.0 - (n as f64 - 1.0) * observed / expected)
    }
}

/// `sum_{i != j} d(s_i, s_j) / (r - 1)` over the `r` values of one unit.
fn within_unit(d: &PairDistances<'_>, ids: &[u32]) -> f64 {
    let mut sum = 0.0;
    for (x, &j) in ids.iter().enumerate() {
        for &i in &ids[..x] {
            sum += d.get(i as usize, j as usize);
        }
    }
    2.0 * sum / (ids.len() - 1) as f64
}

/// Set-valued Krippendorff's alpha with the given distance (see the module docs).
pub fn set_alpha(m: &CodingMatrix, kind: SetDistance) -> Result<f64, Undefined> {
    let v = SetValues::new(m, kind, false);
    let mut counts = vec![0u64; v.distances.len()];
    for &id in &v.values {
        counts[id as usize] += 1;
    }
    v.alpha(v.within.iter().sum(), &counts, v.values.len() as u64)
}

/// Set-valued alpha with MASI distance (DESIGN.md: `krippendorff_alpha_masi`).
pub fn masi_alpha(m: &CodingMatrix) -> Result<f64, Undefined> {
    set_alpha(m, SetDistance::Masi)
}

/// Set-valued alpha with Jaccard distance.
pub fn jaccard_alpha(m: &CodingMatrix) -> Result<f64, Undefined> {
    set_alpha(m, SetDistance::Jaccard)
}

/// Number of distinct code sets among the values of answers rated by two or more coders.
pub fn distinct_pairable_sets(m: &CodingMatrix) -> usize {
    SetValues::new(m, SetDistance::Jaccard, false)
        .distances
        .len()
}
