//! Property tests: ranges, perfect agreement, coder order, unused codes, and the histogram
//! path against the direct single-label path.

use proptest::prelude::*;

use super::*;

/// A unit: per coder, not rated or a list of codes (duplicates allowed).
type Unit = Vec<Option<Vec<u32>>>;

fn build(n_coders: usize, n_codes: usize, units: &[Unit]) -> CodingMatrix {
    let mut m = CodingMatrix::new(n_coders, n_codes);
    for unit in units {
        let entries: Vec<Option<&[u32]>> = unit.iter().map(|c| c.as_deref()).collect();
        m.push_unit(&entries).expect("valid unit");
    }
    m
}

/// (coders, codes, units); each cell rated with probability 3/4, or always if `complete`.
fn coding_data(complete: bool) -> impl Strategy<Value = (usize, usize, Vec<Unit>)> {
    (2usize..=4, 1usize..=4).prop_flat_map(move |(coders, codes)| {
        let set = prop::collection::vec(0..codes as u32, 0..=codes + 1);
        let cell = if complete {
            set.prop_map(Some).boxed()
        } else {
            prop::option::weighted(0.75, set).boxed()
        };
        let unit = prop::collection::vec(cell, coders);
        (
            Just(coders),
            Just(codes),
            prop::collection::vec(unit, 1..=14),
        )
    })
}

/// Data where every coder who rates a unit applies the same set.
fn identical_coders() -> impl Strategy<Value = (usize, usize, Vec<Unit>)> {
    (2usize..=4, 1usize..=4).prop_flat_map(|(coders, codes)| {
        let unit = (
            prop::collection::vec(0..codes as u32, 0..=codes),
            prop::collection::vec(any::<bool>(), coders),
        )
            .prop_map(|(set, rated)| {
                rated
                    .into_iter()
                    .map(|r| r.then(|| set.clone()))
                    .collect::<Unit>()
            });
        (
            Just(coders),
            Just(codes),
            prop::collection::vec(unit, 1..=14),
        )
    })
}

fn in_range(v: Result<f64, Undefined>, low: f64, high: f64) -> bool {
    const EPS: f64 = 1e-12;
    v.is_err_and(|e| e != Undefined::NotFinite)
        || v.is_ok_and(|x| x.is_finite() && x >= low - EPS && x <= high + EPS)
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-12,
        (None, None) => true,
        _ => false,
    }
}

fn same_row(a: &CodeAgreement, b: &CodeAgreement) -> bool {
    a.units == b.units
        && a.units_pairable == b.units_pairable
        && a.undefined_reason == b.undefined_reason
        && [
            (a.prevalence, b.prevalence),
            (a.percent_agreement, b.percent_agreement),
            (a.cohen_kappa, b.cohen_kappa),
            (a.scott_pi, b.scott_pi),
            (a.fleiss_kappa, b.fleiss_kappa),
            (a.krippendorff_alpha, b.krippendorff_alpha),
            (a.gwet_ac1, b.gwet_ac1),
            (a.brennan_prediger, b.brennan_prediger),
        ]
        .iter()
        .all(|&(x, y)| close(x, y))
}

/// Code `c` of a coding matrix as a single-label 0/1 matrix.
fn binary_ratings(m: &CodingMatrix, c: u32) -> RatingMatrix {
    let mut r = RatingMatrix::new(m.n_coders(), 2);
    for u in 0..m.n_units() {
        let row: Vec<Option<u32>> = m
            .unit(u)
            .map(|cell| cell.map(|set| u32::from(set.contains(&c))))
            .collect();
        r.push_unit(&row).expect("valid");
    }
    r
}

/// Set-valued alpha by its definition, over all pairs of values: O(n^2), for checking.
fn naive_set_alpha(m: &CodingMatrix, kind: SetDistance) -> Option<f64> {
    let mut values: Vec<&[u32]> = Vec::new();
    let mut observed = 0.0;
    for u in 0..m.n_units() {
        let sets: Vec<&[u32]> = m.unit(u).flatten().collect();
        if sets.len() < 2 {
            continue;
        }
        let mut within = 0.0;
        for a in &sets {
            for b in &sets {
                within += kind.distance(a, b);
            }
        }
        observed += within / (sets.len() - 1) as f64;
        values.extend(sets);
    }
    let n = values.len() as f64;
    let expected: f64 = values
        .iter()
        .flat_map(|a| values.iter().map(move |b| kind.distance(a, b)))
        .sum();
    (expected > 0.0).then(|| 1.0 - (n - 1.0) * observed / expected)
}

fn check_ranges(m: &CodingMatrix, complete: bool) -> Result<(), TestCaseError> {
    for t in per_code_tallies(m) {
        prop_assert!(in_range(t.percent_agreement(), 0.0, 1.0));
        prop_assert!(in_range(t.percent_agreement_unanimous(), 0.0, 1.0));
        prop_assert!(in_range(t.share_of_ratings(1), 0.0, 1.0));
        for v in [
            t.cohen_kappa(),
            t.scott_pi(),
            t.fleiss_kappa(),
            t.krippendorff_alpha(),
            t.gwet_ac1(),
            t.brennan_prediger(),
        ] {
            prop_assert!(in_range(v, -1.0, 1.0), "{v:?}");
        }
        // With missing ratings these two can fall below -1: single-rated units shape the
        // chance term only (see Tallies docs).
        let low = if complete { -1.0 } else { f64::NEG_INFINITY };
        prop_assert!(in_range(t.fleiss_kappa_gwet(), low, 1.0));
        prop_assert!(in_range(t.conger_kappa(), low, 1.0));
    }
    prop_assert!(in_range(pooled_alpha(m), -1.0, 1.0));
    prop_assert!(in_range(pooled_percent_agreement(m), 0.0, 1.0));
    prop_assert!(in_range(masi_alpha(m), f64::NEG_INFINITY, 1.0));
    prop_assert!(in_range(jaccard_alpha(m), f64::NEG_INFINITY, 1.0));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn coefficients_stay_in_range((coders, codes, units) in coding_data(false)) {
        check_ranges(&build(coders, codes, &units), false)?;
    }

    #[test]
    fn coefficients_stay_in_range_on_complete_data((coders, codes, units) in coding_data(true)) {
        check_ranges(&build(coders, codes, &units), true)?;
    }

    #[test]
    fn identical_coders_agree_perfectly((coders, codes, units) in identical_coders()) {
        let m = build(coders, codes, &units);
        let one = |v: Result<f64, Undefined>| v.is_err() || v == Ok(1.0);
        for t in per_code_tallies(&m) {
            for v in [
                t.percent_agreement(), t.cohen_kappa(), t.scott_pi(), t.fleiss_kappa(),
                t.fleiss_kappa_gwet(), t.krippendorff_alpha(), t.gwet_ac1(),
                t.brennan_prediger(), t.conger_kappa(),
            ] {
                prop_assert!(one(v), "{v:?}");
            }
        }
        prop_assert!(one(pooled_alpha(&m)) && one(pooled_percent_agreement(&m)));
        prop_assert!(one(masi_alpha(&m)) && one(jaccard_alpha(&m)));
    }

    #[test]
    fn coder_order_does_not_matter(
        (coders, codes, units, order) in coding_data(false).prop_flat_map(|(c, k, u)| {
            let order = Just((0..c).collect::<Vec<usize>>()).prop_shuffle();
            (Just(c), Just(k), Just(u), order)
        }),
    ) {
        let permuted: Vec<Unit> = units
            .iter()
            .map(|u| order.iter().map(|&g| u[g].clone()).collect())
            .collect();
        let (a, b) = (build(coders, codes, &units), build(coders, codes, &permuted));
        for (x, y) in per_code(&a).iter().zip(&per_code(&b)) {
            prop_assert!(same_row(x, y), "{x:?} vs {y:?}");
        }
        for (x, y) in per_code_tallies(&a).iter().zip(&per_code_tallies(&b)) {
            prop_assert!(close(x.conger_kappa().ok(), y.conger_kappa().ok()));
        }
        prop_assert!(close(pooled_alpha(&a).ok(), pooled_alpha(&b).ok()));
        prop_assert!(close(masi_alpha(&a).ok(), masi_alpha(&b).ok()));
    }

    #[test]
    fn an_unused_code_changes_pooled_values_only((coders, codes, units) in coding_data(false)) {
        let (m, wider) = (build(coders, codes, &units), build(coders, codes + 1, &units));
        let (rows, wider_rows) = (per_code(&m), per_code(&wider));
        prop_assert_eq!(&rows[..], &wider_rows[..codes]);
        let extra = &wider_rows[codes];
        prop_assert!(extra.krippendorff_alpha.is_none() && extra.fleiss_kappa.is_none());
        prop_assert!(extra.cohen_kappa.is_none() && extra.scott_pi.is_none());
        if extra.units_pairable > 0 {
            prop_assert_eq!(extra.gwet_ac1, Some(1.0));
            prop_assert_eq!(extra.brennan_prediger, Some(1.0));
            // The new decisions all agree: pooled PA becomes (PA * C + 1) / (C + 1).
            let old = pooled_percent_agreement(&m).expect("defined");
            let new = pooled_percent_agreement(&wider).expect("defined");
            let c = codes as f64;
            prop_assert!((new - (old * c + 1.0) / (c + 1.0)).abs() < 1e-12);
        }
        prop_assert_eq!(masi_alpha(&m), masi_alpha(&wider));
        prop_assert_eq!(jaccard_alpha(&m), jaccard_alpha(&wider));
    }

    #[test]
    fn per_code_tallies_match_the_single_label_path((coders, codes, units) in coding_data(false)) {
        let m = build(coders, codes, &units);
        for (c, t) in per_code_tallies(&m).iter().enumerate() {
            prop_assert_eq!(t, &Tallies::from_ratings(&binary_ratings(&m, c as u32)));
        }
    }

    #[test]
    fn set_alpha_matches_its_definition((coders, codes, units) in coding_data(false)) {
        let m = build(coders, codes, &units);
        for kind in [SetDistance::Masi, SetDistance::Jaccard] {
            prop_assert!(close(set_alpha(&m, kind).ok(), naive_set_alpha(&m, kind)));
        }
    }

    #[test]
    fn single_label_ranges_and_symmetry(
        (coders, q, units) in (2usize..=4, 2usize..=4).prop_flat_map(|(coders, q)| {
            let cell = prop::option::weighted(0.8, 0..q as u32);
            (Just(coders), Just(q), prop::collection::vec(prop::collection::vec(cell, coders), 1..=14))
        })
    ) {
        let m = RatingMatrix::from_rows(coders, q, &units).expect("valid");
        let reversed: Vec<Vec<Option<u32>>> =
            units.iter().map(|u| u.iter().rev().copied().collect()).collect();
        let r = RatingMatrix::from_rows(coders, q, &reversed).expect("valid");
        let all = |m: &RatingMatrix| [
            percent_agreement(m), cohen_kappa(m), scott_pi(m), fleiss_kappa(m),
            fleiss_kappa_gwet(m), krippendorff_alpha_nominal(m), gwet_ac1(m),
            brennan_prediger(m), conger_kappa(m),
        ];
        for (i, (x, y)) in all(&m).iter().zip(all(&r)).enumerate() {
            prop_assert!(close(x.ok(), y.ok()), "coefficient {i}: {x:?} vs {y:?}");
            let low = match i { 0 => 0.0, 4 | 8 => f64::NEG_INFINITY, _ => -1.0 };
            prop_assert!(in_range(*x, low, 1.0), "coefficient {i}: {x:?}");
        }
    }
}

#[test]
fn masi_distances() {
    let d = |a: &[u32], b: &[u32]| SetDistance::Masi.distance(a, b);
    assert_eq!(d(&[], &[]), 0.0);
    assert_eq!(d(&[1, 2], &[1, 2]), 0.0);
    assert_eq!(d(&[], &[1]), 1.0);
    assert_eq!(d(&[1], &[2]), 1.0);
    assert!((d(&[1], &[1, 2]) - (1.0 - 0.5 * 2.0 / 3.0)).abs() < 1e-15);
    assert!((d(&[1, 2], &[2, 3]) - (1.0 - 1.0 / 3.0 / 3.0)).abs() < 1e-15);
    let j = |a: &[u32], b: &[u32]| SetDistance::Jaccard.distance(a, b);
    assert_eq!(j(&[], &[]), 0.0);
    assert!((j(&[1, 2], &[2, 3]) - 2.0 / 3.0).abs() < 1e-15);
}

#[test]
fn duplicates_collapse_and_bad_units_are_refused() {
    let mut m = CodingMatrix::new(2, 3);
    m.push_unit(&[Some(&[2, 0, 2][..]), None]).expect("valid");
    assert_eq!(m.cell(0, 0), Some(&[0, 2][..]));
    assert_eq!(m.cell(0, 1), None);
    assert_eq!(
        m.push_unit(&[Some(&[3][..]), None]),
        Err(MatrixError::CodeOutOfRange {
            code: 3,
            n_codes: 3
        })
    );
    assert_eq!(
        m.push_unit(&[None]),
        Err(MatrixError::WrongCoderCount {
            expected: 2,
            got: 1
        })
    );
    assert_eq!(m.n_units(), 1, "refused units add nothing");
    m.push_unit(&[Some(&[][..]), Some(&[1][..])])
        .expect("valid");
    assert_eq!(m.cell(1, 0), Some(&[][..]));
    assert_eq!(m.cell(1, 1), Some(&[1][..]));
    assert_eq!(m.raters(1), 2);
}

/// With missing ratings, Gwet's Fleiss kappa and Conger's kappa are not bounded by -1: the
/// single-rated units shape the chance term only.
#[test]
fn fleiss_gwet_can_fall_below_minus_one_with_missing_ratings() {
    let mut rows = vec![[Some(0), Some(1)]];
    rows.extend(std::iter::repeat_n([Some(0), None], 20));
    let m = RatingMatrix::from_rows(2, 2, &rows).expect("valid");
    assert!(fleiss_kappa_gwet(&m).expect("defined") < -1.0);
    assert_eq!(
        cohen_kappa(&m),
        Ok(0.0),
        "Cohen uses the unit both rated only"
    );
}
