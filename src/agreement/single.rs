//! Single-label data: one category (or none) per unit and coder.

use super::{MatrixError, Tallies, Undefined};

/// A units x coders matrix of categories `0..q`, stored flat, unit by unit.
/// `None` means the coder did not rate the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingMatrix {
    n_coders: usize,
    q: usize,
    cells: Vec<Option<u32>>,
}

impl RatingMatrix {
    /// An empty matrix for `n_coders` coders and `q` categories (for a binary code, q = 2).
    pub fn new(n_coders: usize, q: usize) -> Self {
        Self {
            n_coders,
            q,
            cells: Vec::new(),
        }
    }

    /// Builds a matrix from rows of one entry per coder.
    pub fn from_rows<R: AsRef<[Option<u32>]>>(
        n_coders: usize,
        q: usize,
        rows: &[R],
    ) -> Result<Self, MatrixError> {
        let mut m = Self::new(n_coders, q);
        for row in rows {
            m.push_unit(row.as_ref())?;
        }
        Ok(m)
    }

    /// Appends one unit: one entry per coder, `None` = not rated. On error nothing is added.
    pub fn push_unit(&mut self, ratings: &[Option<u32>]) -> Result<(), MatrixError> {
        if ratings.len() != self.n_coders {
            return Err(MatrixError::WrongCoderCount {
                expected: self.n_coders,
                got: ratings.len(),
            });
        }
        if let Some(&category) = ratings.iter().flatten().find(|&&c| c as usize >= self.q) {
            return Err(MatrixError::CategoryOutOfRange {
                category,
                q: self.q,
            });
        }
        self.cells.extend_from_slice(ratings);
        Ok(())
    }

    /// Number of coders.
    pub fn n_coders(&self) -> usize {
        self.n_coders
    }

    /// Number of categories.
    pub fn q(&self) -> usize {
        self.q
    }

    /// Number of units pushed (including any nobody rated).
    pub fn n_units(&self) -> usize {
        self.cells.len().checked_div(self.n_coders).unwrap_or(0)
    }

    /// The ratings of unit `u`, one per coder.
    pub fn unit(&self, u: usize) -> Option<&[Option<u32>]> {
        self.cells.chunks_exact(self.n_coders.max(1)).nth(u)
    }
}

impl Tallies {
    /// Tallies of a single-label matrix, in one pass.
    pub fn from_ratings(m: &RatingMatrix) -> Self {
        let mut t = Tallies::new(m.q, m.n_coders);
        let mut counts = vec![0u64; m.q];
        if m.n_coders == 0 {
            return t;
        }
        for unit in m.cells.chunks_exact(m.n_coders) {
            counts.fill(0);
            for (g, rating) in unit.iter().enumerate() {
                if let Some(k) = *rating {
                    counts[k as usize] += 1;
                    t.add_coder_ratings(g, k as usize, 1);
                }
            }
            t.add_unit(&counts, 1);
            if let [Some(a), Some(b)] = unit {
                t.add_pair(*a as usize, *b as usize, 1);
            }
        }
        t
    }
}

/// Pairwise percent agreement over units rated by two or more coders (Gwet 2014, eq. 2.3).
pub fn percent_agreement(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).percent_agreement()
}

/// Cohen's kappa; exactly two coders, over units both rated. See [`Tallies::cohen_kappa`].
pub fn cohen_kappa(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).cohen_kappa()
}

/// Scott's pi; exactly two coders, over units both rated. See [`Tallies::scott_pi`].
pub fn scott_pi(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).scott_pi()
}

/// Classic Fleiss (1971) kappa over the units rated by every coder. See [`Tallies::fleiss_kappa`].
pub fn fleiss_kappa(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).fleiss_kappa()
}

/// Fleiss' kappa in Gwet's form accepting missing ratings. See [`Tallies::fleiss_kappa_gwet`].
pub fn fleiss_kappa_gwet(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).fleiss_kappa_gwet()
}

/// Krippendorff's alpha, nominal. See [`Tallies::krippendorff_alpha`].
pub fn krippendorff_alpha_nominal(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).krippendorff_alpha()
}

/// Gwet's AC1 with the matrix's `q` categories. See [`Tallies::gwet_ac1`].
pub fn gwet_ac1(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).gwet_ac1()
}

/// Brennan-Prediger coefficient with the matrix's `q` categories.
/// See [`Tallies::brennan_prediger`].
pub fn brennan_prediger(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).brennan_prediger()
}

/// Conger's kappa (missing ratings accepted). See [`Tallies::conger_kappa`].
pub fn conger_kappa(m: &RatingMatrix) -> Result<f64, Undefined> {
    Tallies::from_ratings(m).conger_kappa()
}
