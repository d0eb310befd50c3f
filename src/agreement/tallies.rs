//! The sufficient statistics behind every coefficient, and the formulas themselves.
//!
//! With `n_uk` the number of coders who put unit `u` in category `k` and `r_u = sum_k n_uk`
//! the number who rated `u`, every coefficient here depends only on
//!
//! * per number of raters `r`: the count of units, `sum_u sum_k n_uk (n_uk - 1)` (agreeing
//!   ordered pairs), the count of unanimous units and `sum_u n_uk` per category;
//! * per coder: how many of their ratings fall in each category (Conger's kappa);
//! * for two coders: the q x q table of units both rated (Cohen's kappa, Scott's pi).
//!
//! Keeping integers grouped by `r` makes the sums exact and independent of the order of
//! units, and lets a binary code be summarised from a histogram of (raters, appliers).

use super::{Undefined, chance_corrected, finite};

/// Integer tallies of a units x coders rating table, from which every coefficient is computed.
///
/// Build one with [`Tallies::from_ratings`] (single-label) or
/// [`per_code_tallies`](crate::agreement::per_code_tallies) (one per code, q = 2, category 1 =
/// "code applied"). Computing several coefficients from one `Tallies` avoids re-reading the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tallies {
    q: usize,
    n_coders: usize,
    /// Index `r`: units rated by exactly `r` coders.
    units: Vec<u64>,
    /// Index `r`: `sum_u sum_k n_uk (n_uk - 1)`, ordered pairs of coders that agree.
    same_pairs: Vec<u64>,
    /// Index `r`: units on which all `r` ratings are the same category.
    unanimous: Vec<u64>,
    /// Index `r * q + k`: ratings in category `k` on units rated by `r` coders.
    category: Vec<u64>,
    /// Index `g * q + k`: ratings of coder `g` in category `k`.
    coder: Vec<u64>,
    /// Index `k0 * q + k1` (two coders only, else empty): units both rated, coder 0 said `k0`
    /// and coder 1 said `k1`.
    pairs: Vec<u64>,
}

/// Which single category, if any, holds every count (the degenerate chance-agreement-1 case).
enum Spread {
    Empty,
    Single(u32),
    Several,
}

fn spread(totals: impl Iterator<Item = u64>) -> Spread {
    let mut found = Spread::Empty;
    for (k, t) in totals.enumerate() {
        if t == 0 {
            continue;
        }
        found = match found {
            Spread::Empty => Spread::Single(u32::try_from(k).unwrap_or(u32::MAX)),
            _ => return Spread::Several,
        };
    }
    found
}

/// `Err(SingleCategory)` when all counts are in one category, `Err(empty)` when there are none.
fn require_spread(totals: impl Iterator<Item = u64>, empty: Undefined) -> Result<(), Undefined> {
    match spread(totals) {
        Spread::Empty => Err(empty),
        Spread::Single(category) => Err(Undefined::SingleCategory { category }),
        Spread::Several => Ok(()),
    }
}

impl Tallies {
    /// Empty tallies for `q` categories and `n_coders` coders.
    pub(crate) fn new(q: usize, n_coders: usize) -> Self {
        let rows = n_coders + 1;
        Self {
            q,
            n_coders,
            units: vec![0; rows],
            same_pairs: vec![0; rows],
            unanimous: vec![0; rows],
            category: vec![0; rows * q],
            coder: vec![0; n_coders * q],
            pairs: if n_coders == 2 {
                vec![0; q * q]
            } else {
                Vec::new()
            },
        }
    }

    /// Adds `weight` identical units whose per-category rating counts are `counts`
    /// (length `q`, summing to at most `n_coders`). Units nobody rated are ignored.
    pub(crate) fn add_unit(&mut self, counts: &[u64], weight: u64) {
        let r: u64 = counts.iter().sum();
        let r = usize::try_from(r).unwrap_or(usize::MAX);
        if r == 0 || r > self.n_coders || weight == 0 {
            return;
        }
        let same: u64 = counts.iter().map(|&n| n * n.saturating_sub(1)).sum();
        self.units[r] += weight;
        self.same_pairs[r] += weight * same;
        if counts.iter().any(|&n| n as usize == r) {
            self.unanimous[r] += weight;
        }
        for (k, &n) in counts.iter().enumerate() {
            self.category[r * self.q + k] += weight * n;
        }
    }

    /// Adds `units` units rated by `r` coders with `same_pairs` agreeing ordered pairs and
    /// `counts` ratings per category, all together. Unanimity is not tracked: for resampling
    /// alpha, which does not use it.
    pub(crate) fn add_grouped(&mut self, r: usize, units: u64, same_pairs: u64, counts: &[u64]) {
        if r == 0 || r > self.n_coders {
            return;
        }
        self.units[r] += units;
        self.same_pairs[r] += same_pairs;
        for (k, &n) in counts.iter().enumerate().take(self.q) {
            self.category[r * self.q + k] += n;
        }
    }

    /// Adds `weight` ratings by coder `g` in category `k`.
    pub(crate) fn add_coder_ratings(&mut self, g: usize, k: usize, weight: u64) {
        self.coder[g * self.q + k] += weight;
    }

    /// Adds `weight` units rated by both of two coders: coder 0 said `k0`, coder 1 `k1`.
    pub(crate) fn add_pair(&mut self, k0: usize, k1: usize, weight: u64) {
        if let Some(cell) = self.pairs.get_mut(k0 * self.q + k1) {
            *cell += weight;
        }
    }

    /// Adds another table of the same shape (used to pool codes: each (unit, code) decision
    /// becomes a unit of its own).
    pub(crate) fn merge(&mut self, other: &Tallies) {
        fn add(a: &mut [u64], b: &[u64]) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += *y;
            }
        }
        add(&mut self.units, &other.units);
        add(&mut self.same_pairs, &other.same_pairs);
        add(&mut self.unanimous, &other.unanimous);
        add(&mut self.category, &other.category);
        add(&mut self.coder, &other.coder);
        add(&mut self.pairs, &other.pairs);
    }

    /// Number of categories.
    pub fn q(&self) -> usize {
        self.q
    }

    /// Number of coders in the design (including any who rated nothing).
    pub fn n_coders(&self) -> usize {
        self.n_coders
    }

    fn units_from(&self, min_raters: usize) -> u64 {
        self.units.iter().skip(min_raters).sum()
    }

    /// Units rated by at least one coder.
    pub fn units_rated(&self) -> u64 {
        self.units_from(1)
    }

    /// Units rated by at least two coders (the only ones that carry agreement information).
    pub fn units_pairable(&self) -> u64 {
        self.units_from(2)
    }

    /// Units rated by every coder.
    pub fn units_complete(&self) -> u64 {
        self.units[self.n_coders]
    }

    /// Ratings in category `k` over all rated units.
    pub fn ratings_in(&self, k: usize) -> u64 {
        self.category_totals(1).nth(k).unwrap_or(0)
    }

    /// Ratings in category `k` over units rated by at least two coders.
    pub fn pairable_ratings_in(&self, k: usize) -> u64 {
        self.category_totals(2).nth(k).unwrap_or(0)
    }

    /// Per category, the ratings on units rated by at least `min_raters` coders.
    fn category_totals(&self, min_raters: usize) -> impl Iterator<Item = u64> + '_ {
        (0..self.q).map(move |k| {
            (min_raters..=self.n_coders)
                .map(|r| self.category[r * self.q + k])
                .sum()
        })
    }

    /// Share of the ratings that are category `k` (for a code: its prevalence).
    pub fn share_of_ratings(&self, k: usize) -> Result<f64, Undefined> {
        let total: u64 = self.category_totals(1).sum();
        if total == 0 {
            return Err(Undefined::NoPairableUnits);
        }
        finite(self.ratings_in(k) as f64 / total as f64)
    }

    /// Pairwise percent agreement (Gwet 2014, eq. 2.3 with missing ratings): over units rated
    /// by two or more coders, the mean share of agreeing coder pairs.
    pub fn percent_agreement(&self) -> Result<f64, Undefined> {
        let n2 = self.units_pairable();
        if n2 == 0 {
            return Err(Undefined::NoPairableUnits);
        }
        let sum: f64 = (2..=self.n_coders)
            .map(|r| self.same_pairs[r] as f64 / (r * (r - 1)) as f64)
            .sum();
        finite(sum / n2 as f64)
    }

    /// Share of the units rated by two or more coders on which they all agree.
    pub fn percent_agreement_unanimous(&self) -> Result<f64, Undefined> {
        let n2 = self.units_pairable();
        if n2 == 0 {
            return Err(Undefined::NoPairableUnits);
        }
        let unanimous: u64 = self.unanimous.iter().skip(2).sum();
        finite(unanimous as f64 / n2 as f64)
    }

    /// Gwet's classification probabilities `pi_k = (1/n) sum_u n_uk / r_u` over the `n` units
    /// rated by at least one coder (Gwet 2014, eq. 2.8): single-rated units count here too.
    fn gwet_pi(&self) -> Result<Vec<f64>, Undefined> {
        let n1 = self.units_rated();
        if n1 == 0 {
            return Err(Undefined::NoPairableUnits);
        }
        let pi = (0..self.q)
            .map(|k| {
                let s: f64 = (1..=self.n_coders)
                    .map(|r| self.category[r * self.q + k] as f64 / r as f64)
                    .sum();
                s / n1 as f64
            })
            .collect();
        Ok(pi)
    }

    /// Fleiss' kappa in Gwet's form for missing ratings (Gwet 2014, section 2.5; irrCAC
    /// `fleiss.kappa.raw`): `pa` over units with two or more ratings, `pe = sum_k pi_k^2` with
    /// Gwet's `pi_k` over all rated units. Equal to Fleiss (1971) on complete data.
    ///
    /// With missing ratings it can fall below -1 (single-rated units shape `pe` only).
    pub fn fleiss_kappa_gwet(&self) -> Result<f64, Undefined> {
        let pa = self.percent_agreement()?;
        require_spread(self.category_totals(1), Undefined::NoPairableUnits)?;
        let pe: f64 = self.gwet_pi()?.iter().map(|p| p * p).sum();
        chance_corrected(pa, pe)
    }

    /// Classic Fleiss (1971) kappa over the units rated by every coder only.
    pub fn fleiss_kappa(&self) -> Result<f64, Undefined> {
        let r = self.n_coders;
        let n = self.units_complete();
        if r < 2 || n == 0 {
            return Err(Undefined::NoCompleteUnits);
        }
        let row = &self.category[r * self.q..(r + 1) * self.q];
        require_spread(row.iter().copied(), Undefined::NoCompleteUnits)?;
        let ratings = (n * r as u64) as f64;
        let p_bar = self.same_pairs[r] as f64 / (n as f64 * (r * (r - 1)) as f64);
        let pe: f64 = row.iter().map(|&t| (t as f64 / ratings).powi(2)).sum();
        chance_corrected(p_bar, pe)
    }

    /// Krippendorff's alpha, nominal (Krippendorff 2011, section B): from the coincidence
    /// matrix of pairable values, `alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k`.
    /// Units rated by one coder are ignored.
    pub fn krippendorff_alpha(&self) -> Result<f64, Undefined> {
        let totals: Vec<u64> = self.category_totals(2).collect();
        require_spread(totals.iter().copied(), Undefined::NoPairableUnits)?;
        // sum_{c != k} o_ck = sum_u (r_u^2 - sum_k n_uk^2) / (r_u - 1), grouped by r.
        let observed: f64 = (2..=self.n_coders)
            .map(|r| {
                let disagreeing = self.units[r] * (r * (r - 1)) as u64 - self.same_pairs[r];
                disagreeing as f64 / (r - 1) as f64
            })
            .sum();
        let n: u128 = totals.iter().map(|&t| u128::from(t)).sum();
        let squares: u128 = totals.iter().map(|&t| u128::from(t) * u128::from(t)).sum();
        let expected = (n * n - squares) as f64;
        finite(1.0 - (n as f64 - 1.0) * observed / expected)
    }

    /// Gwet's AC1 (Gwet 2008; 2014 eq. 4.5) for `q` categories:
    /// `pe = sum_k pi_k (1 - pi_k) / (q - 1)`, at most `1/q`, so AC1 is defined whenever
    /// percent agreement is and `q >= 2`.
    pub fn gwet_ac1(&self) -> Result<f64, Undefined> {
        if self.q < 2 {
            return Err(Undefined::TooFewCategories { q: self.q });
        }
        let pa = self.percent_agreement()?;
        let spread: f64 = self.gwet_pi()?.iter().map(|p| p * (1.0 - p)).sum();
        chance_corrected(pa, spread / (self.q - 1) as f64)
    }

    /// Brennan & Prediger (1981) coefficient: chance agreement `1/q`.
    pub fn brennan_prediger(&self) -> Result<f64, Undefined> {
        if self.q < 2 {
            return Err(Undefined::TooFewCategories { q: self.q });
        }
        let pa = self.percent_agreement()?;
        chance_corrected(pa, 1.0 / self.q as f64)
    }

    /// Conger's (1980) kappa in Gwet's form for missing ratings (Gwet 2014, section 2.4;
    /// irrCAC `conger.kappa.raw`): Fleiss' `pa`, and as `pe` the mean over pairs of coders of
    /// Cohen's chance agreement `sum_k p_gk p_hk`, with `p_gk` coder g's share of their own
    /// ratings in category k. Coders who rated nothing are left out. Can fall below -1 with
    /// missing ratings.
    pub fn conger_kappa(&self) -> Result<f64, Undefined> {
        let pa = self.percent_agreement()?;
        require_spread(self.category_totals(1), Undefined::NoPairableUnits)?;
        let rows: Vec<&[u64]> = self
            .coder
            .chunks_exact(self.q.max(1))
            .filter(|row| row.iter().any(|&t| t > 0))
            .collect();
        let r = rows.len();
        if r < 2 {
            return Err(Undefined::NoPairableUnits);
        }
        // sum_{g != h} p_gk p_hk = (sum_g p_gk)^2 - sum_g p_gk^2, the pairwise form of
        // Gwet's pbar_k^2 - s_k^2 / r.
        let mut sum = vec![0.0; self.q];
        let mut squares = vec![0.0; self.q];
        for row in &rows {
            let n_g: u64 = row.iter().sum();
            for (k, &t) in row.iter().enumerate() {
                let p = t as f64 / n_g as f64;
                sum[k] += p;
                squares[k] += p * p;
            }
        }
        let cross: f64 = sum.iter().zip(&squares).map(|(s, s2)| s * s - s2).sum();
        let pe = cross / (r * (r - 1)) as f64;
        chance_corrected(pa, pe)
    }

    /// Row (coder 0) and column (coder 1) margins of the two-coder table, and its total.
    fn pair_margins(&self) -> Result<(Vec<u64>, Vec<u64>, u64), Undefined> {
        if self.n_coders != 2 {
            return Err(Undefined::NotTwoCoders {
                coders: self.n_coders,
            });
        }
        let q = self.q;
        let rows: Vec<u64> = (0..q)
            .map(|a| self.pairs[a * q..(a + 1) * q].iter().sum())
            .collect();
        let cols: Vec<u64> = (0..q)
            .map(|b| (0..q).map(|a| self.pairs[a * q + b]).sum())
            .collect();
        let n: u64 = rows.iter().sum();
        if n == 0 {
            return Err(Undefined::NoPairableUnits);
        }
        // Chance agreement is 1 exactly when both coders used one and the same category.
        if let Some(k) = (0..q).find(|&k| rows[k] == n && cols[k] == n) {
            let category = u32::try_from(k).unwrap_or(u32::MAX);
            return Err(Undefined::SingleCategory { category });
        }
        Ok((rows, cols, n))
    }

    fn pair_observed(&self, n: u64) -> f64 {
        let diagonal: u64 = (0..self.q).map(|k| self.pairs[k * self.q + k]).sum();
        diagonal as f64 / n as f64
    }

    /// Cohen's (1960) kappa: exactly two coders, over the units both rated;
    /// `pe = sum_k p_0k p_1k` from each coder's own margins.
    pub fn cohen_kappa(&self) -> Result<f64, Undefined> {
        let (rows, cols, n) = self.pair_margins()?;
        let nf = n as f64;
        let pe: f64 = rows
            .iter()
            .zip(&cols)
            .map(|(&a, &b)| (a as f64 / nf) * (b as f64 / nf))
            .sum();
        chance_corrected(self.pair_observed(n), pe)
    }

    /// Scott's (1955) pi: exactly two coders, over the units both rated;
    /// `pe = sum_k ((p_0k + p_1k) / 2)^2` from the pooled margins.
    pub fn scott_pi(&self) -> Result<f64, Undefined> {
        let (rows, cols, n) = self.pair_margins()?;
        let both = 2.0 * n as f64;
        let pe: f64 = rows
            .iter()
            .zip(&cols)
            .map(|(&a, &b)| ((a + b) as f64 / both).powi(2))
            .sum();
        chance_corrected(self.pair_observed(n), pe)
    }
}
