//! Multi-label coding data: each coder applies a set of codes to each answer.

use super::MatrixError;

/// Answers x coders x codes, compact and flat.
///
/// Each (unit, coder) cell is either not rated or the set of code indices the coder applied
/// (possibly empty: rated, nothing applies). Storage is compressed-sparse: one flag and one
/// `u32` end offset per cell plus one `u32` per applied code, so 1,000,000 units x 3 coders
/// with a few codes each take tens of megabytes whatever the codebook size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodingMatrix {
    n_coders: usize,
    n_codes: usize,
    /// One flag per (unit, coder) cell, unit-major.
    rated: Vec<bool>,
    /// End offset into `codes` of each cell; a cell starts where the previous one ends.
    ends: Vec<u32>,
    /// The sorted, distinct code indices of every cell, back to back.
    codes: Vec<u32>,
}

impl CodingMatrix {
    /// An empty matrix for `n_coders` coders and a codebook of `n_codes` codes.
    pub fn new(n_coders: usize, n_codes: usize) -> Self {
        Self {
            n_coders,
            n_codes,
            rated: Vec::new(),
            ends: Vec::new(),
            codes: Vec::new(),
        }
    }

    /// Like [`CodingMatrix::new`], reserving room for `units` units with about
    /// `codes_per_unit` applications each (all coders together).
    pub fn with_capacity(
        n_coders: usize,
        n_codes: usize,
        units: usize,
        codes_per_unit: usize,
    ) -> Self {
        let cells = units.saturating_mul(n_coders);
        Self {
            n_coders,
            n_codes,
            rated: Vec::with_capacity(cells),
            ends: Vec::with_capacity(cells),
            codes: Vec::with_capacity(units.saturating_mul(codes_per_unit)),
        }
    }

    /// Appends one unit: one entry per coder, `None` = the coder did not rate it, `Some(codes)`
    /// = the codes applied (empty = rated, none applies; duplicates count once).
    /// On error nothing is added.
    pub fn push_unit(&mut self, coders: &[Option<&[u32]>]) -> Result<(), MatrixError> {
        self.validate(coders)?;
        for entry in coders {
            self.rated.push(entry.is_some());
            let start = self.codes.len();
            self.codes.extend_from_slice(entry.unwrap_or(&[]));
            let kept = sort_dedup(&mut self.codes[start..]);
            self.codes.truncate(start + kept);
            // Fits: validate() checked the total against u32::MAX.
            self.ends
                .push(u32::try_from(self.codes.len()).unwrap_or(u32::MAX));
        }
        Ok(())
    }

    fn validate(&self, coders: &[Option<&[u32]>]) -> Result<(), MatrixError> {
        if coders.len() != self.n_coders {
            return Err(MatrixError::WrongCoderCount {
                expected: self.n_coders,
                got: coders.len(),
            });
        }
        let mut added = 0usize;
        for &code in coders.iter().flatten().flat_map(|set| set.iter()) {
            if code as usize >= self.n_codes {
                return Err(MatrixError::CodeOutOfRange {
                    code,
                    n_codes: self.n_codes,
                });
            }
            added += 1;
        }
        if self.codes.len().saturating_add(added) > u32::MAX as usize {
            return Err(MatrixError::TooLarge);
        }
        Ok(())
    }

    /// Number of coders.
    pub fn n_coders(&self) -> usize {
        self.n_coders
    }

    /// Number of codes in the codebook.
    pub fn n_codes(&self) -> usize {
        self.n_codes
    }

    /// Number of units pushed (including any nobody rated).
    pub fn n_units(&self) -> usize {
        self.rated.len().checked_div(self.n_coders).unwrap_or(0)
    }

    /// The codes coder `g` applied to unit `u`: `None` if not rated (or out of range).
    pub fn cell(&self, u: usize, g: usize) -> Option<&[u32]> {
        if g >= self.n_coders {
            return None;
        }
        self.cell_at(u.checked_mul(self.n_coders)?.checked_add(g)?)
    }

    fn cell_at(&self, i: usize) -> Option<&[u32]> {
        if !*self.rated.get(i)? {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.codes.get(start..self.ends[i] as usize)
    }

    /// The cells of unit `u`, one per coder (`None` = not rated).
    pub fn unit(&self, u: usize) -> impl Iterator<Item = Option<&[u32]>> + '_ {
        let first = u.saturating_mul(self.n_coders);
        (first..first.saturating_add(self.n_coders)).map(|i| self.cell_at(i))
    }

    /// Number of coders who rated unit `u`.
    pub fn raters(&self, u: usize) -> usize {
        let first = u.saturating_mul(self.n_coders);
        self.rated
            .get(first..first.saturating_add(self.n_coders))
            .map_or(0, |cells| cells.iter().filter(|&&r| r).count())
    }

    /// Bytes held on the heap (capacity, not just length).
    pub fn heap_bytes(&self) -> usize {
        self.rated.capacity()
            + self.ends.capacity() * std::mem::size_of::<u32>()
            + self.codes.capacity() * std::mem::size_of::<u32>()
    }
}

/// Sorts `codes` and moves the distinct values to the front; returns how many there are.
fn sort_dedup(codes: &mut [u32]) -> usize {
    codes.sort_unstable();
    let mut kept = 0;
    for i in 0..codes.len() {
        if kept == 0 || codes[i] != codes[kept - 1] {
            codes[kept] = codes[i];
            kept += 1;
        }
    }
    kept
}
