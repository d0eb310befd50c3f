//! The analysis statistics against the reference data sets in `shared/reference/statistics/`.
//!
//! Every entry of `expected.json` is recomputed from the CSVs and checked with the tolerance it
//! gives (`rel` = relative), and also against the full-precision `got` value (SciPy/R) to 1e-9
//! relative; `every_expected_entry_is_checked` fails if an entry has no recomputed value.

use std::collections::BTreeMap;

use lacrima::analysis::{
    CategoricalResult, MannWhitneyMethod, NumericResult, categorical_by_code, chi_square,
    fisher_exact, mann_whitney_u, numeric_by_code, point_biserial, welch_t_test,
};
use serde::Deserialize;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/statistics/"
);

#[derive(Debug, Deserialize)]
struct Entry {
    dataset: String,
    quantity: String,
    got: f64,
    expected: f64,
    tol: f64,
    rel: bool,
}

fn expected_entries() -> Vec<Entry> {
    let text = std::fs::read_to_string(format!("{DIR}expected.json")).expect("read expected.json");
    serde_json::from_str(&text).expect("parse expected.json")
}

/// Rows of a reference CSV (header skipped), as strings.
fn rows(file: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(format!("{DIR}{file}")).expect("open reference CSV");
    reader
        .records()
        .map(|r| r.expect("CSV record").iter().map(str::to_string).collect())
        .collect()
}

/// Values split by a 0/1 column: (group 1, group 0).
fn split_by_flag(file: &str, flag_col: usize, value_col: usize) -> (Vec<f64>, Vec<f64>) {
    let mut g1 = Vec::new();
    let mut g0 = Vec::new();
    for row in rows(file) {
        let v: f64 = row[value_col].parse().expect("numeric value");
        match row[flag_col].as_str() {
            "1" => g1.push(v),
            "0" => g0.push(v),
            other => panic!("unexpected flag {other}"),
        }
    }
    (g1, g0)
}

/// Levels (sorted, as R's `table`) with the number of rows and of rows whose 0/1 column is 1.
fn level_counts(
    file: &str,
    level_col: usize,
    flag_col: usize,
) -> (Vec<String>, Vec<u64>, Vec<u64>) {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in rows(file) {
        let e = counts.entry(row[level_col].clone()).or_default();
        e.0 += 1;
        match row[flag_col].as_str() {
            "1" => e.1 += 1,
            "0" => {}
            other => panic!("unexpected flag {other}"),
        }
    }
    let levels = counts.keys().cloned().collect();
    let rated = counts.values().map(|c| c.0).collect();
    let coded = counts.values().map(|c| c.1).collect();
    (levels, rated, coded)
}

/// 2x2 table as R's `table(group, flag)`: rows = the two levels sorted, columns = flag 0, 1.
fn table_2x2(file: &str) -> [[u64; 2]; 2] {
    let (levels, rated, coded) = level_counts(file, 0, 1);
    assert_eq!(levels.len(), 2);
    [
        [rated[0] - coded[0], coded[0]],
        [rated[1] - coded[1], coded[1]],
    ]
}

type Computed = Vec<(&'static str, &'static str, f64)>;

fn categorical_checks(file: &'static str, out: &mut Computed) -> CategoricalResult {
    // (level column, 0/1 column)
    let (level_col, flag_col) = match file {
        "stats_synthetic.csv" => (1, 2),
        "stats_agresti_party.csv" => (1, 0),
        _ => (0, 1),
    };
    let (levels, rated, coded) = level_counts(file, level_col, flag_col);
    let table: Vec<[u64; 2]> = rated
        .iter()
        .zip(&coded)
        .map(|(&r, &c)| [r - c, c])
        .collect();
    let test = chi_square(&table).expect("chi-square defined");
    let high = categorical_by_code(&levels, &rated, &coded);
    // The high-level table has the columns in the other order ([coded, not coded]): the same
    // statistics up to rounding.
    assert_eq!(high.undefined_reason, None);
    assert_eq!(high.df, Some(test.df));
    let same = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() <= 1e-12 * b.abs();
    assert!(same(high.chi2, test.chi2));
    assert!(same(high.p, test.p));
    assert!(same(high.cramers_v, test.cramers_v));
    assert!(same(high.min_expected, test.min_expected));
    out.push((file, "chi2 Pearson vs R", test.chi2));
    out.push((file, "chi2 Pearson p vs R", test.p));
    // R applies the Yates correction to 2x2 tables only; otherwise its value is Pearson's.
    assert_eq!(test.yates_chi2.is_some(), table.len() == 2);
    out.push((
        file,
        "chi2 Yates vs R",
        test.yates_chi2.unwrap_or(test.chi2),
    ));
    out.push((file, "chi2 Yates p vs R", test.yates_p.unwrap_or(test.p)));
    if let [r0, r1] = table[..] {
        let f = fisher_exact([r0, r1]);
        assert!(same(high.fisher_p, f.p_two_sided));
        out.push((file, "Fisher p vs R", f.p_two_sided));
        out.push((file, "Fisher p less vs R", f.p_less));
        out.push((file, "Fisher p greater vs R", f.p_greater));
        out.push((
            file,
            "conditional MLE OR vs R",
            f.odds_ratio.expect("finite odds ratio"),
        ));
    } else {
        assert_eq!(high.fisher_p, None);
    }
    high
}

fn numeric_checks(file: &'static str, exact: bool, out: &mut Computed) -> NumericResult {
    let (g1, g0) = if file == "stats_synthetic.csv" {
        split_by_flag(file, 2, 3)
    } else {
        split_by_flag(file, 0, 1)
    };
    let r = numeric_by_code(&g1, &g0);
    assert_eq!(r.undefined_reason, None);
    assert_eq!((r.n_coded, r.n_not), (g1.len(), g0.len()));
    let method = if exact {
        MannWhitneyMethod::Exact
    } else {
        MannWhitneyMethod::Normal
    };
    assert_eq!(r.mann_whitney_method, Some(method));
    // The high-level result is exactly the low-level tests'.
    let w = welch_t_test(&g1, &g0).unwrap();
    assert_eq!(
        (r.welch_t, r.welch_df, r.welch_p),
        (Some(w.t), Some(w.df), Some(w.p))
    );
    assert_eq!((r.mean_coded, r.sd_coded), (w.group1.mean, w.group1.sd));
    assert_eq!((r.mean_not, r.sd_not), (w.group0.mean, w.group0.sd));
    let mw = mann_whitney_u(&g1, &g0).unwrap();
    assert_eq!(
        (r.mann_whitney_u, r.mann_whitney_p),
        (Some(mw.u), Some(mw.p))
    );
    let pb = point_biserial(&g1, &g0).unwrap();
    assert_eq!(
        (r.point_biserial_r, r.point_biserial_p),
        (Some(pb.r), Some(pb.p))
    );

    out.push((file, "Welch t vs R", w.t));
    out.push((file, "Welch df vs R", w.df));
    out.push((file, "Welch p vs R", w.p));
    out.push((file, "MW U vs R W", mw.u));
    let mw_quantity = if exact {
        "MW p vs R (Wilcoxon rank sum exact test)"
    } else {
        "MW p vs R (Wilcoxon rank sum test with continuity correction)"
    };
    out.push((file, mw_quantity, mw.p));
    out.push((file, "point-biserial r vs R cor.test", pb.r));
    out.push((file, "point-biserial p vs R", pb.p));
    r
}

/// Every quantity of `expected.json`, recomputed: (dataset, quantity, value).
fn computed() -> Computed {
    let mut out = Computed::new();

    // Agresti's party identification by gender, 2x3, through both entry points.
    let file = "stats_agresti_party.csv";
    let party = categorical_checks(file, &mut out);
    assert_eq!(party.df, Some(2));
    out.push(("agresti_party", "chi2 Pearson", party.chi2.unwrap()));
    out.push(("agresti_party", "chi2 p", party.p.unwrap()));

    let tea = categorical_checks("stats_tea.csv", &mut out);
    assert_eq!(tea.df, Some(1));
    let f = fisher_exact(table_2x2("stats_tea.csv"));
    out.push(("tea", "Fisher two-sided p", f.p_two_sided));
    out.push((
        "tea",
        "Fisher one-sided p (published 'greater' = our 'less': table transposed/flipped)",
        f.p_less,
    ));
    out.push(("tea", "1 / conditional MLE OR", 1.0 / f.odds_ratio.unwrap()));

    categorical_checks("stats_2x2_small.csv", &mut out);

    let synthetic = categorical_checks("stats_synthetic.csv", &mut out);
    assert_eq!(synthetic.df, Some(2));

    let sleep = numeric_checks("stats_sleep.csv", false, &mut out);
    out.push(("sleep", "Welch |t|", sleep.welch_t.unwrap().abs()));
    out.push(("sleep", "Welch df", sleep.welch_df.unwrap()));
    out.push(("sleep", "Welch p", sleep.welch_p.unwrap()));

    let wilcox = numeric_checks("stats_wilcox.csv", true, &mut out);
    out.push((
        "wilcox",
        "U for x (= R's W)",
        wilcox.mann_whitney_u.unwrap(),
    ));
    out.push((
        "wilcox",
        "exact two-sided p (= 2 x published one-sided 0.1272)",
        wilcox.mann_whitney_p.unwrap(),
    ));

    numeric_checks("stats_synthetic.csv", false, &mut out);
    out
}

fn within(value: f64, target: f64, tol: f64, rel: bool) -> bool {
    let bound = if rel { tol * target.abs() } else { tol };
    (value - target).abs() <= bound
}

#[test]
fn every_expected_entry_is_checked() {
    let computed = computed();
    let entries = expected_entries();
    assert!(!entries.is_empty());
    let mut failures = Vec::new();
    for e in &entries {
        let hits: Vec<f64> = computed
            .iter()
            .filter(|(d, q, _)| *d == e.dataset && *q == e.quantity)
            .map(|&(_, _, v)| v)
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "no (or duplicate) computed value for {} / {}",
            e.dataset,
            e.quantity
        );
        let v = hits[0];
        if !within(v, e.expected, e.tol, e.rel) {
            failures.push(format!(
                "{} / {}: {v} vs expected {} (tol {}, rel {})",
                e.dataset, e.quantity, e.expected, e.tol, e.rel
            ));
        }
        // Full-precision reference value. The conditional MLE of the odds ratio is a root whose
        // R value carries uniroot's ~1e-4 tolerance; SciPy's `got` is solved precisely.
        if !within(v, e.got, 1e-9, true) {
            failures.push(format!(
                "{} / {}: {v} vs full-precision {}",
                e.dataset, e.quantity, e.got
            ));
        }
    }
    // Nothing computed that the reference does not list (catches typos in quantity names).
    for (d, q, _) in &computed {
        assert!(
            entries.iter().any(|e| e.dataset == *d && e.quantity == *q),
            "computed {d} / {q} is not in expected.json"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The headline values of the README table (published rounding), through the CLI entry points.
#[test]
fn readme_values() {
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol;

    let (levels, rated, coded) = level_counts("stats_agresti_party.csv", 1, 0);
    let party = categorical_by_code(&levels, &rated, &coded);
    assert!(close(party.chi2.unwrap(), 30.070149, 5e-7));
    assert!(close(party.p.unwrap(), 2.9535892e-07, 5e-14));
    assert!(close(party.cramers_v.unwrap(), 0.104436, 5e-7));
    assert_eq!(party.fisher_p, None);

    let t = chi_square(&table_2x2("stats_2x2_small.csv")).unwrap();
    assert!(close(t.chi2, 6.238187, 5e-7));
    assert!(close(t.p, 0.01250244, 5e-9));
    assert!(close(t.yates_chi2.unwrap(), 4.452404, 5e-7));
    assert!(close(t.yates_p.unwrap(), 0.03485215, 5e-9));
    assert!(close(t.cramers_v, 0.480670, 5e-7));
    assert!(close(t.min_expected, 12.0 * 13.0 / 27.0, 1e-12));
    assert!(!t.has_small_expected());
    assert!(close(
        fisher_exact(table_2x2("stats_2x2_small.csv")).p_two_sided,
        0.02130091,
        5e-9
    ));

    let tea = chi_square(&table_2x2("stats_tea.csv")).unwrap();
    assert_eq!(tea.chi2, 2.0);
    assert!(close(tea.yates_chi2.unwrap(), 0.5, 1e-12));
    assert_eq!(tea.min_expected, 2.0);
    assert!(tea.has_small_expected());
    let f = fisher_exact(table_2x2("stats_tea.csv"));
    assert!(close(f.p_two_sided, 0.4857143, 5e-8));
    assert!(close(f.p_less, 0.2428571, 5e-8));
    assert!(close(f.p_greater, 0.9857143, 5e-8));

    let (g1, g0) = split_by_flag("stats_sleep.csv", 0, 1);
    let sleep = numeric_by_code(&g1, &g0);
    assert!(close(sleep.welch_t.unwrap(), 1.8608135, 5e-8));
    assert!(close(sleep.welch_df.unwrap(), 17.776474, 5e-7));
    assert!(close(sleep.welch_p.unwrap(), 0.0793941, 5e-8));
    assert_eq!(sleep.mann_whitney_u, Some(74.5));
    assert!(close(sleep.mann_whitney_p.unwrap(), 0.0693276, 5e-8));
    assert!(close(sleep.point_biserial_r.unwrap(), 0.4016626, 5e-8));
    assert!(close(sleep.point_biserial_p.unwrap(), 0.0791867, 5e-8));
    let json = serde_json::to_value(&sleep).unwrap();
    assert_eq!(json["mann_whitney_method"], "normal");

    let (g1, g0) = split_by_flag("stats_wilcox.csv", 0, 1);
    let wilcox = numeric_by_code(&g1, &g0);
    assert_eq!(wilcox.mann_whitney_u, Some(35.0));
    assert!(close(wilcox.mann_whitney_p.unwrap(), 0.2544123, 5e-8));
    assert_eq!(wilcox.mann_whitney_method, Some(MannWhitneyMethod::Exact));
    assert!(close(wilcox.welch_t.unwrap(), 2.041383, 5e-7));
    assert!(close(wilcox.welch_df.unwrap(), 12.970538, 5e-7));
    assert!(close(wilcox.welch_p.unwrap(), 0.0621013, 5e-8));

    let (levels, rated, coded) = level_counts("stats_synthetic.csv", 1, 2);
    let site = categorical_by_code(&levels, &rated, &coded);
    assert!(close(site.chi2.unwrap(), 5.046216, 5e-7));
    assert_eq!(site.df, Some(2));
    assert!(close(site.p.unwrap(), 0.0802099, 5e-8));
    let (g1, g0) = split_by_flag("stats_synthetic.csv", 2, 3);
    let age = numeric_by_code(&g1, &g0);
    assert!(close(age.welch_t.unwrap(), 3.277278, 5e-7));
    assert!(close(age.welch_df.unwrap(), 84.409741, 5e-7));
    assert!(close(age.welch_p.unwrap(), 0.00152261, 5e-9));
    assert_eq!(age.mann_whitney_u, Some(1392.5));
    assert!(close(age.mann_whitney_p.unwrap(), 0.00144191, 5e-9));
    assert_eq!(age.mann_whitney_method, Some(MannWhitneyMethod::Normal));
    assert!(close(age.point_biserial_r.unwrap(), 0.329150, 5e-7));
    assert!(close(age.point_biserial_p.unwrap(), 0.00153651, 5e-9));

    // Swapping the groups: t changes sign, U becomes n1 n0 - U.
    let swapped = numeric_by_code(&g0, &g1);
    assert_eq!(swapped.welch_t, age.welch_t.map(|t| -t));
    assert_eq!(
        swapped.mann_whitney_u,
        Some((g1.len() * g0.len()) as f64 - 1392.5)
    );
}

/// Benjamini-Hochberg over the reference p-values of the four chi-square / Welch tests, checked by
/// hand: sorted p = 2.95e-7, 0.00152, 0.0794, 0.0802 (m = 4, one test undefined).
#[test]
fn bh_over_reference_p_values() {
    let p = [
        Some(0.0793941401873582),
        None,
        Some(2.95358918321176e-07),
        Some(0.0802099137109718),
        Some(0.00152260776341658),
    ];
    let q = lacrima::analysis::benjamini_hochberg(&p);
    let want = [
        Some(0.0802099137109718), // min(0.0794 * 4/3, 0.0802 * 4/4)
        None,
        Some(2.95358918321176e-07 * 4.0),
        Some(0.0802099137109718),
        Some(0.00152260776341658 * 2.0),
    ];
    for (g, w) in q.iter().zip(want) {
        match (g, w) {
            (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-15, "{g} vs {w}"),
            (None, None) => {}
            _ => panic!("{q:?}"),
        }
    }
}
