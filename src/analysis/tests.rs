//! Unit and property tests of the analysis statistics (reference data sets are checked in
//! `tests/analysis_reference.rs`).

use proptest::prelude::*;

use super::*;

/// Every number of the result is finite (serde_json would silently write NaN as null).
fn numeric_all_finite(r: &NumericResult) -> bool {
    [
        r.mean_coded,
        r.sd_coded,
        r.mean_not,
        r.sd_not,
        r.welch_t,
        r.welch_df,
        r.welch_p,
        r.mann_whitney_u,
        r.mann_whitney_p,
        r.point_biserial_r,
        r.point_biserial_p,
    ]
    .into_iter()
    .flatten()
    .all(f64::is_finite)
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn bh_hand_worked_example() {
    // m = 5 present p-values; sorted: 0.01 (1), 0.02 (2), 0.03 (3), 0.04 (4), 0.5 (5).
    // raw p*m/j: 0.05, 0.05, 0.05, 0.05, 0.5; running minimum from the top: the same.
    let p = [
        Some(0.04),
        None,
        Some(0.01),
        Some(0.5),
        Some(0.03),
        Some(0.02),
        None,
    ];
    let q = benjamini_hochberg(&p);
    let want = [
        Some(0.05),
        None,
        Some(0.05),
        Some(0.5),
        Some(0.05),
        Some(0.05),
        None,
    ];
    assert_eq!(q.len(), want.len());
    for (got, want) in q.iter().zip(want) {
        match (got, want) {
            (Some(g), Some(w)) => assert!(close(*g, w, 1e-15), "{g} vs {w}"),
            (None, None) => {}
            _ => panic!("{q:?}"),
        }
    }
}

#[test]
fn bh_running_minimum_and_cap() {
    // Sorted p = [0.001, 0.03, 0.04, 0.9], m = 4:
    // raw: 0.001*4/1 = 0.004, 0.03*4/2 = 0.06, 0.04*4/3 = 0.05333.., 0.9*4/4 = 0.9
    // cummin from top: 0.9, 0.05333.., min(0.06, 0.05333..) = 0.05333.., 0.004.
    let q = benjamini_hochberg(&[Some(0.9), Some(0.04), Some(0.001), Some(0.03)]);
    let q: Vec<f64> = q.into_iter().map(Option::unwrap).collect();
    assert!(close(q[0], 0.9, 1e-15));
    assert!(close(q[1], 0.04 * 4.0 / 3.0, 1e-15));
    assert!(close(q[2], 0.004, 1e-15));
    assert!(close(q[3], 0.04 * 4.0 / 3.0, 1e-15));
    // raw 0.7*3/1 = 2.1, 0.8*3/2 = 1.2, 0.9*3/3 = 0.9: the running minimum gives 0.9 to all.
    let q = benjamini_hochberg(&[Some(0.7), Some(0.8), Some(0.9)]);
    assert_eq!(q, vec![Some(0.9), Some(0.9), Some(0.9)]);
    // m = 3 (None not counted): raw 1.8, 0.9, 1.0 -> 0.9, 0.9, 1.0.
    let q = benjamini_hochberg(&[Some(0.6), Some(0.6), None, Some(1.0)]);
    assert!(close(q[0].unwrap(), 0.9, 1e-15) && q[0] == q[1]);
    assert_eq!((q[2], q[3]), (None, Some(1.0)));
    let q = benjamini_hochberg(&[Some(0.6), Some(f64::NAN)]);
    assert_eq!(q, vec![Some(0.6), None]);
    assert!(benjamini_hochberg(&[]).is_empty());
    assert_eq!(benjamini_hochberg(&[None, None]), vec![None, None]);
}

#[test]
fn chi_square_drops_empty_rows_and_columns() {
    let full = chi_square(&[[10, 0, 20], [0, 0, 0], [30, 0, 5]]).unwrap();
    let reduced = chi_square(&[[10, 20], [30, 5]]).unwrap();
    assert_eq!(full, reduced);
    assert_eq!(full.df, 1);
    assert_eq!((full.rows, full.cols), (2, 2));
    assert!(full.yates_chi2.is_some());
    assert!(chi_square(&[[1, 2], [0, 0]]).is_err());
    assert!(chi_square(&[[1, 0], [2, 0]]).is_err());
    assert!(chi_square::<[u64; 2]>(&[]).is_err());
    assert!(chi_square(&[vec![1, 2], vec![3]]).is_err());
    let small = chi_square(&[[1, 2], [3, 4]]).unwrap();
    assert!(small.has_small_expected());
    assert!(!reduced.has_small_expected());
}

#[test]
fn fisher_degenerate_and_large() {
    let t = fisher_exact([[0, 0], [3, 4]]);
    assert_eq!((t.p_two_sided, t.p_less, t.p_greater), (1.0, 1.0, 1.0));
    assert_eq!(t.odds_ratio, None);
    // Thousands of respondents: no overflow, p in range, strong association -> tiny p.
    let t = fisher_exact([[1500, 500], [500, 1500]]);
    assert!(t.p_two_sided >= 0.0 && t.p_two_sided < 1e-100);
    assert!(t.odds_ratio.unwrap() > 5.0);
    let t = fisher_exact([[1000, 1000], [1000, 1000]]);
    assert!(close(t.p_two_sided, 1.0, 1e-9));
    assert!(close(t.odds_ratio.unwrap(), 1.0, 1e-9));
    // Extremes of the support.
    assert_eq!(fisher_exact([[0, 5], [5, 0]]).odds_ratio, Some(0.0));
    assert_eq!(fisher_exact([[5, 0], [0, 5]]).odds_ratio, None);
}

#[test]
fn mann_whitney_exact_counts_match_known_values() {
    // n1 = n0 = 2: U takes 0,1,2,2,3,4 over the 6 arrangements -> P(U <= 0) = 1/6.
    let t = mann_whitney_u(&[1.0, 2.0], &[3.0, 4.0]).unwrap();
    assert_eq!(t.method, MannWhitneyMethod::Exact);
    assert_eq!(t.u, 0.0);
    assert!(close(t.p, 2.0 / 6.0, 1e-15));
    let t = mann_whitney_u(&[3.0, 4.0], &[1.0, 2.0]).unwrap();
    assert_eq!(t.u, 4.0);
    assert!(close(t.p, 2.0 / 6.0, 1e-15));
    // Middle value: p capped at 1.
    let t = mann_whitney_u(&[1.0, 4.0], &[2.0, 3.0]).unwrap();
    assert_eq!(t.u, 2.0);
    assert_eq!(t.p, 1.0);
    // Complete separation, 10 vs 10: p = 2 / C(20, 10).
    let g1: Vec<f64> = (0..10).map(f64::from).collect();
    let g0: Vec<f64> = (10..20).map(f64::from).collect();
    let t = mann_whitney_u(&g1, &g0).unwrap();
    assert!(close(t.p, 2.0 / 184_756.0, 1e-18));
    // 49 vs 49 is still exact and finite; 50 switches to normal.
    let g1: Vec<f64> = (0..49).map(|i| f64::from(i) * 2.0).collect();
    let g0: Vec<f64> = (0..49).map(|i| f64::from(i) * 2.0 + 1.0).collect();
    let t = mann_whitney_u(&g1, &g0).unwrap();
    assert_eq!(t.method, MannWhitneyMethod::Exact);
    assert!(t.p > 0.5 && t.p <= 1.0);
    let g1: Vec<f64> = (0..50).map(|i| f64::from(i) * 2.0).collect();
    assert_eq!(
        mann_whitney_u(&g1, &g0).unwrap().method,
        MannWhitneyMethod::Normal
    );
}

#[test]
fn undefined_cases_give_reasons_not_nan() {
    assert!(welch_t_test(&[1.0], &[1.0, 2.0]).is_err());
    assert!(welch_t_test(&[1.0, 1.0], &[2.0, 2.0]).is_err());
    assert!(welch_t_test(&[1.0, f64::NAN], &[2.0, 3.0]).is_err());
    assert!(mann_whitney_u(&[], &[2.0, 3.0]).is_err());
    assert!(mann_whitney_u(&[2.0; 60], &[2.0; 3]).is_err());
    assert!(point_biserial(&[1.0], &[1.0]).is_err());
    assert!(point_biserial(&[1.0, 1.0], &[1.0]).is_err());
    // Overflowing sums give a reason, not NaN or infinity.
    assert!(welch_t_test(&[1e308, -1e308, 1e308], &[1.0, 2.0]).is_err());
    assert!(point_biserial(&[1e308, 1e308], &[-1e308]).is_err());
    let r = numeric_by_code(&[1e308, 1e308], &[-1e308, 1.0]);
    assert!(r.mean_coded.is_none() && r.welch_t.is_none() && r.point_biserial_r.is_none());
    assert!(r.mann_whitney_p.is_some());
    assert!(numeric_all_finite(&r));
    // Perfect separation: r = 1, p = 0.
    let pb = point_biserial(&[5.0, 5.0], &[1.0, 1.0]).unwrap();
    assert_eq!((pb.r, pb.p), (1.0, 0.0));

    let r = numeric_by_code(&[1.0], &[2.0, 3.0]);
    assert_eq!(r.welch_t, None);
    assert_eq!(r.sd_coded, None);
    assert_eq!(r.mean_coded, Some(1.0));
    assert!(r.mann_whitney_p.is_some());
    assert_eq!(
        r.undefined_reason.as_deref(),
        Some("fewer than 2 values with the code")
    );
    let r = numeric_by_code(&[], &[2.0, 3.0]);
    assert_eq!(
        r.undefined_reason.as_deref(),
        Some("no value with the code")
    );
    assert_eq!(r.mean_coded, None);
    let r = numeric_by_code(&[4.0, 4.0], &[4.0, 4.0, 4.0]);
    assert!(r.welch_t.is_none() && r.mann_whitney_u.is_none() && r.point_biserial_r.is_none());
    assert!(r.undefined_reason.is_some());
    let r = numeric_by_code(&[1.0, 2.0, 3.0], &[2.0, 5.0]);
    assert_eq!(r.undefined_reason, None);

    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let r = categorical_by_code(&s(&["a", "b"]), &[3, 0], &[1, 0]);
    assert_eq!(
        r.undefined_reason.as_deref(),
        Some("only one level with rated respondents")
    );
    assert_eq!(r.levels, vec!["a".to_string()]);
    assert!(r.chi2.is_none());
    let r = categorical_by_code(&s(&["a", "b"]), &[3, 4], &[0, 0]);
    assert_eq!(r.undefined_reason.as_deref(), Some("no respondent coded"));
    let r = categorical_by_code(&s(&["a", "b"]), &[3, 4], &[3, 4]);
    assert_eq!(
        r.undefined_reason.as_deref(),
        Some("every respondent coded")
    );
    let r = categorical_by_code(&s(&["a", "b"]), &[3, 4], &[4, 1]);
    assert!(r.undefined_reason.is_some() && r.chi2.is_none());
    let r = categorical_by_code(&s(&["a", "b"]), &[3], &[1]);
    assert!(r.undefined_reason.is_some() && r.chi2.is_none());
    // Three levels, one empty: 2x2 after dropping -> Fisher p present.
    let r = categorical_by_code(&s(&["a", "b", "c"]), &[5, 0, 6], &[4, 0, 1]);
    assert_eq!(r.levels, s(&["a", "c"]));
    assert_eq!(r.df, Some(1));
    assert!(r.fisher_p.is_some());
    let r = categorical_by_code(&s(&["a", "b", "c"]), &[5, 2, 6], &[4, 0, 1]);
    assert_eq!(r.df, Some(2));
    assert!(r.fisher_p.is_none());
}

#[test]
fn results_serialize_with_snake_case_fields() {
    let r = numeric_by_code(&[1.0, 2.5, 3.0], &[2.0, 5.0]);
    let v = serde_json::to_value(&r).unwrap();
    assert_eq!(v["mann_whitney_method"], "exact");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "n_coded",
        "n_not",
        "mean_coded",
        "sd_coded",
        "mean_not",
        "sd_not",
        "welch_t",
        "welch_df",
        "welch_p",
        "mann_whitney_u",
        "mann_whitney_p",
        "mann_whitney_method",
        "point_biserial_r",
        "point_biserial_p",
        "undefined_reason",
    ] {
        assert!(keys.contains(&k), "{k}");
    }
    assert_eq!(keys.len(), 15);
    let c = categorical_by_code(&["x".into(), "y".into()], &[4, 5], &[1, 4]);
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 10);
    for k in [
        "levels",
        "rated",
        "coded",
        "chi2",
        "df",
        "p",
        "cramers_v",
        "fisher_p",
        "min_expected",
        "undefined_reason",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
}

fn group() -> impl Strategy<Value = Vec<f64>> {
    // Small integer-valued grid so that ties occur often; sizes straddle the exact threshold.
    prop::collection::vec((-20i32..20).prop_map(|x| f64::from(x) / 2.0), 0..60)
}

fn unit(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

proptest! {
    #[test]
    fn prop_chi_square_p_and_v_in_unit_interval(
        table in prop::collection::vec(prop::collection::vec(0u64..40, 3), 1..5)
    ) {
        if let Ok(t) = chi_square(&table) {
            prop_assert!(unit(t.p));
            prop_assert!(unit(t.cramers_v));
            prop_assert!(t.chi2 >= 0.0);
            if let Some(p) = t.yates_p { prop_assert!(unit(p)); }
        }
    }

    #[test]
    fn prop_fisher_p_in_unit_interval(a in 0u64..60, b in 0u64..60, c in 0u64..60, d in 0u64..60) {
        let t = fisher_exact([[a, b], [c, d]]);
        prop_assert!(unit(t.p_two_sided) && unit(t.p_less) && unit(t.p_greater));
        // The observed table's probability is counted in both tails.
        prop_assert!(t.p_less + t.p_greater >= 1.0 - 1e-12);
        // Transposing or swapping both rows and columns leaves the two-sided p unchanged.
        let tt = fisher_exact([[a, c], [b, d]]);
        prop_assert!((tt.p_two_sided - t.p_two_sided).abs() < 1e-12);
        let sw = fisher_exact([[d, c], [b, a]]);
        prop_assert!((sw.p_two_sided - t.p_two_sided).abs() < 1e-12);
        // Swapping rows exchanges the one-sided tails.
        let rows = fisher_exact([[c, d], [a, b]]);
        prop_assert!((rows.p_less - t.p_greater).abs() < 1e-12);
    }

    #[test]
    fn prop_two_sample_symmetry(g1 in group(), g0 in group()) {
        match (welch_t_test(&g1, &g0), welch_t_test(&g0, &g1)) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(a.t, -b.t);
                prop_assert_eq!(a.df, b.df);
                prop_assert_eq!(a.p, b.p);
                prop_assert!(unit(a.p));
            }
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "Welch defined one way only"),
        }
        match (mann_whitney_u(&g1, &g0), mann_whitney_u(&g0, &g1)) {
            (Ok(a), Ok(b)) => {
                let n1n0 = (g1.len() * g0.len()) as f64;
                prop_assert_eq!(a.u, n1n0 - b.u);
                prop_assert!(a.u >= 0.0 && a.u <= n1n0);
                prop_assert!((a.p - b.p).abs() < 1e-12);
                prop_assert_eq!(a.method, b.method);
                prop_assert!(unit(a.p));
            }
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "Mann-Whitney defined one way only"),
        }
        match (point_biserial(&g1, &g0), point_biserial(&g0, &g1)) {
            (Ok(a), Ok(b)) => {
                prop_assert!((a.r + b.r).abs() < 1e-12);
                prop_assert!(a.r.abs() <= 1.0 && unit(a.p));
                prop_assert!((a.p - b.p).abs() < 1e-9);
            }
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "point-biserial defined one way only"),
        }
        let r = numeric_by_code(&g1, &g0);
        prop_assert!(numeric_all_finite(&r));
        prop_assert_eq!(r.welch_t.is_none() || r.mann_whitney_u.is_none()
            || r.point_biserial_r.is_none(), r.undefined_reason.is_some());
    }

    #[test]
    fn prop_bh_properties(p in prop::collection::vec(prop::option::of(0.0f64..=1.0), 0..30)) {
        let q = benjamini_hochberg(&p);
        prop_assert_eq!(q.len(), p.len());
        for (pi, qi) in p.iter().zip(&q) {
            prop_assert_eq!(pi.is_some(), qi.is_some());
            if let (Some(pi), Some(qi)) = (pi, qi) {
                prop_assert!(*qi >= *pi && *qi <= 1.0);
            }
        }
        // Monotone: a smaller p never gets a larger q.
        for (i, (pi, qi)) in p.iter().zip(&q).enumerate() {
            for (pj, qj) in p.iter().zip(&q).skip(i + 1) {
                if let (Some(pi), Some(qi), Some(pj), Some(qj)) = (pi, qi, pj, qj) {
                    if pi < pj { prop_assert!(qi <= qj); }
                    if pi == pj { prop_assert_eq!(qi, qj); }
                }
            }
        }
    }

    #[test]
    fn prop_categorical_by_code_never_nan(
        cells in prop::collection::vec((0u64..30, 0u64..30), 0..5)
    ) {
        let levels: Vec<String> = (0..cells.len()).map(|i| format!("l{i}")).collect();
        let rated: Vec<u64> = cells.iter().map(|&(a, b)| a + b).collect();
        let coded: Vec<u64> = cells.iter().map(|&(a, _)| a).collect();
        let r = categorical_by_code(&levels, &rated, &coded);
        prop_assert_eq!(r.chi2.is_none(), r.undefined_reason.is_some());
        if let Some(p) = r.p { prop_assert!(unit(p)); }
        if let Some(v) = r.cramers_v { prop_assert!(unit(v)); }
        if let Some(p) = r.fisher_p { prop_assert!(unit(p)); }
        prop_assert_eq!(r.fisher_p.is_some(), r.chi2.is_some() && r.levels.len() == 2);
        prop_assert!(r.rated.iter().all(|&x| x > 0));
    }
}
