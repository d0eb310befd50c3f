//! The five-number summary a box plot draws: minimum, quartiles and maximum, with the quartiles
//! of R's default `quantile(type = 7)`, so that a reader who checks a published box plot in R
//! gets the same numbers.

use serde::Serialize;

/// Minimum, first quartile, median, third quartile and maximum of a group of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FiveNumbers {
    pub n: usize,
    pub min: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub max: f64,
}

/// The five numbers of `sorted` (ascending); None for no values or a value that is not finite.
pub fn five_numbers(sorted: &[f64]) -> Option<FiveNumbers> {
    let (&min, &max) = (sorted.first()?, sorted.last()?);
    if !sorted.iter().all(|x| x.is_finite()) {
        return None;
    }
    debug_assert!(sorted.is_sorted(), "five_numbers needs sorted values");
    Some(FiveNumbers {
        n: sorted.len(),
        min,
        q1: quantile_sorted(sorted, 0.25),
        median: quantile_sorted(sorted, 0.5),
        q3: quantile_sorted(sorted, 0.75),
        max,
    })
}

/// Hyndman and Fan's type 7: linear interpolation between the order statistics around
/// `(n - 1) p` (zero-based). `sorted` must not be empty.
fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_are_those_of_r() {
        // R: quantile(1:10) gives 1, 3.25, 5.5, 7.75, 10.
        let one_to_ten: Vec<f64> = (1..=10).map(f64::from).collect();
        let f = five_numbers(&one_to_ten).unwrap();
        assert_eq!(
            (f.n, f.min, f.q1, f.median, f.q3, f.max),
            (10, 1.0, 3.25, 5.5, 7.75, 10.0)
        );
        // R: summary(sleep$extra) gives -1.600, -0.025, 0.950, 3.400, 5.500.
        let mut extra = [
            0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0, 1.9, 0.8, 1.1, 0.1, -0.1, 4.4,
            5.5, 1.6, 4.6, 3.4,
        ];
        extra.sort_by(f64::total_cmp);
        let f = five_numbers(&extra).unwrap();
        for (got, want) in [
            (f.min, -1.6),
            (f.q1, -0.025),
            (f.median, 0.95),
            (f.q3, 3.4),
            (f.max, 5.5),
        ] {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn one_value_is_every_quartile_and_none_is_nothing() {
        let f = five_numbers(&[4.0]).unwrap();
        assert_eq!(
            (f.min, f.q1, f.median, f.q3, f.max),
            (4.0, 4.0, 4.0, 4.0, 4.0)
        );
        assert_eq!(five_numbers(&[]), None);
        assert_eq!(five_numbers(&[1.0, f64::NAN]), None);
    }
}
