//! Multiple-comparison adjustment across codes.

/// Benjamini-Hochberg (false discovery rate) q-values, R `p.adjust(p, "BH")`.
///
/// `None` entries (tests that could not be computed) stay `None` and are not counted: `m` is the
/// number of `Some` p-values. A `Some` that is not a finite number is treated like `None`.
/// Sorting the m p-values ascending, `q_(i) = min over j >= i of p_(j) * m / j`, capped at 1.
/// The q-values are returned in the input order; ties get equal q-values.
pub fn benjamini_hochberg(p_values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<(usize, f64)> = p_values
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect();
    let mut out = vec![None; p_values.len()];
    let m = present.len();
    // Descending p; running minimum of p * m / rank from the largest down.
    present.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut running = f64::INFINITY;
    for (k, &(idx, p)) in present.iter().enumerate() {
        let rank = m - k; // ascending rank of this p (1-based)
        let q = (m as f64 / rank as f64) * p;
        running = running.min(q);
        out[idx] = Some(running.min(1.0));
    }
    out
}
