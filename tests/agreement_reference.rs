//! The agreement coefficients against the published reference values in
//! `shared/reference/agreement/` (see its README.md): every number in the expected JSON files
//! is checked to 1e-9, and every key is either checked or explicitly listed as metadata.

use lacrima::agreement::{
    AlphaKind, CodingMatrix, RatingMatrix, Tallies, Undefined, bootstrap_alpha_ci,
    distinct_pairable_sets, jaccard_alpha, masi_alpha, overall, per_code, per_code_tallies,
    pooled_alpha, pooled_percent_agreement,
};
use serde_json::Value;

const REFERENCE_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/agreement/"
);

const TOLERANCE: f64 = 1e-9;

fn read_json(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{REFERENCE_DIR}{name}"))
        .unwrap_or_else(|e| panic!("reading {name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {name}: {e}"))
}

/// A `unit,coder,code` file: units and coders in order of first appearance.
struct Long {
    units: Vec<String>,
    coders: Vec<String>,
    /// (unit index, coder index, code; empty = rated, no code).
    rows: Vec<(usize, usize, String)>,
}

fn index_of(list: &mut Vec<String>, name: &str) -> usize {
    match list.iter().position(|x| x == name) {
        Some(i) => i,
        None => {
            list.push(name.to_owned());
            list.len() - 1
        }
    }
}

fn read_long(file: &str) -> Long {
    let path = format!("{REFERENCE_DIR}{file}");
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut long = Long {
        units: Vec::new(),
        coders: Vec::new(),
        rows: Vec::new(),
    };
    for record in reader.records() {
        let record = record.unwrap_or_else(|e| panic!("{path}: {e}"));
        let u = index_of(&mut long.units, &record[0]);
        let g = index_of(&mut long.coders, &record[1]);
        long.rows.push((u, g, record[2].to_owned()));
    }
    long
}

/// Single-label matrix; categories are the sorted distinct labels.
fn rating_matrix(long: &Long, q: usize) -> RatingMatrix {
    let mut labels: Vec<&str> = long.rows.iter().map(|r| r.2.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), q, "q of the reference = labels used");
    let mut cells = vec![vec![None; long.coders.len()]; long.units.len()];
    for (u, g, label) in &long.rows {
        let k = labels.iter().position(|l| l == label).expect("label") as u32;
        assert!(cells[*u][*g].replace(k).is_none(), "two labels in one cell");
    }
    RatingMatrix::from_rows(long.coders.len(), q, &cells).expect("valid matrix")
}

/// Multi-label matrix over the given codebook.
fn coding_matrix(long: &Long, codebook: &[&str]) -> CodingMatrix {
    let mut cells: Vec<Vec<Option<Vec<u32>>>> =
        vec![vec![None; long.coders.len()]; long.units.len()];
    for (u, g, code) in &long.rows {
        let set = cells[*u][*g].get_or_insert_with(Vec::new);
        if !code.is_empty() {
            let c = codebook
                .iter()
                .position(|x| x == code)
                .expect("code in codebook");
            set.push(c as u32);
        }
    }
    let mut m = CodingMatrix::new(long.coders.len(), codebook.len());
    for unit in &cells {
        let entries: Vec<Option<&[u32]>> = unit.iter().map(|c| c.as_deref()).collect();
        m.push_unit(&entries).expect("valid unit");
    }
    m
}

/// `actual` matches `expected` (a number to 1e-9, or null = undefined).
fn check(actual: Result<f64, Undefined>, expected: &Value, what: &str) {
    match expected {
        Value::Null => assert!(
            actual.is_err(),
            "{what}: expected undefined, got {actual:?}"
        ),
        Value::Number(n) => {
            let e = n.as_f64().expect("f64");
            let a = actual.unwrap_or_else(|err| panic!("{what}: expected {e}, undefined: {err}"));
            assert!((a - e).abs() <= TOLERANCE, "{what}: got {a}, expected {e}");
        }
        other => panic!("{what}: unexpected reference value {other}"),
    }
}

fn check_count(actual: u64, expected: &Value, what: &str) {
    assert_eq!(Some(actual), expected.as_u64(), "{what}");
}

fn check_option(actual: Option<f64>, expected: &Value, what: &str) {
    check(actual.ok_or(Undefined::NotFinite), expected, what);
}

fn object(v: &Value) -> &serde_json::Map<String, Value> {
    v.as_object().expect("JSON object")
}

// ---------------------------------------------------------------- single-label data sets

/// The data sets of `expected_single_label.json` and their files. `kripp2011_irrcac` is
/// Krippendorff's 2011 example as shipped with irrCAC (`raw_4raters`): the one rating of unit
/// 12 is by the third coder (C) rather than B, which changes Conger's kappa only.
fn single_label_matrix(name: &str, q: usize) -> RatingMatrix {
    let file = if name == "kripp2011_irrcac" {
        "kripp2011"
    } else {
        name
    };
    let mut long = read_long(&format!("{file}.long.csv"));
    if name == "kripp2011_irrcac" {
        let c = long.coders.iter().position(|x| x == "C").expect("coder C");
        let unit12 = long.units.iter().position(|x| x == "12").expect("unit 12");
        let row = long.rows.iter_mut().find(|r| r.0 == unit12).expect("row");
        row.1 = c;
    }
    rating_matrix(&long, q)
}

fn check_single_label(name: &str, expected: &Value) {
    let q = expected["q"].as_u64().expect("q") as usize;
    let m = single_label_matrix(name, q);
    let t = Tallies::from_ratings(&m);
    for (key, value) in object(expected) {
        let what = format!("{name}.{key}");
        match key.as_str() {
            "percent_agreement" => check(lacrima::agreement::percent_agreement(&m), value, &what),
            "cohen_kappa" => check(lacrima::agreement::cohen_kappa(&m), value, &what),
            "scotts_pi" => check(lacrima::agreement::scott_pi(&m), value, &what),
            "fleiss_kappa" => check(lacrima::agreement::fleiss_kappa(&m), value, &what),
            "fleiss_kappa_gwet_missing" => {
                check(lacrima::agreement::fleiss_kappa_gwet(&m), value, &what)
            }
            "krippendorff_alpha_nominal" => check(
                lacrima::agreement::krippendorff_alpha_nominal(&m),
                value,
                &what,
            ),
            "brennan_prediger" => check(lacrima::agreement::brennan_prediger(&m), value, &what),
            "gwet_ac1" => check(lacrima::agreement::gwet_ac1(&m), value, &what),
            "conger_kappa" => check(lacrima::agreement::conger_kappa(&m), value, &what),
            "n_units" => check_count(t.units_rated(), value, &what),
            "n_coders" => check_count(m.n_coders() as u64, value, &what),
            "q" => check_count(t.q() as u64, value, &what),
            other => panic!("{name}: unchecked key {other}"),
        }
    }
}

#[test]
fn single_label_reference_values() {
    let expected = read_json("expected_single_label.json");
    assert_eq!(object(&expected).len(), 13, "all data sets present");
    for (name, values) in object(&expected) {
        check_single_label(name, values);
    }
}

#[test]
fn single_label_undefined_cases() {
    let m = RatingMatrix::from_rows(3, 2, &[[Some(1), Some(1), None], [Some(1), None, None]])
        .expect("matrix");
    assert_eq!(
        lacrima::agreement::cohen_kappa(&m),
        Err(Undefined::NotTwoCoders { coders: 3 })
    );
    assert_eq!(
        lacrima::agreement::fleiss_kappa(&m),
        Err(Undefined::NoCompleteUnits)
    );
    assert_eq!(
        lacrima::agreement::krippendorff_alpha_nominal(&m),
        Err(Undefined::SingleCategory { category: 1 })
    );
    assert_eq!(lacrima::agreement::gwet_ac1(&m), Ok(1.0));
    assert_eq!(lacrima::agreement::brennan_prediger(&m), Ok(1.0));
    let lonely = RatingMatrix::from_rows(2, 2, &[[Some(0), None]]).expect("matrix");
    assert_eq!(
        lacrima::agreement::percent_agreement(&lonely),
        Err(Undefined::NoPairableUnits)
    );
    assert!(RatingMatrix::from_rows(2, 2, &[[Some(2), None]]).is_err());
    assert!(RatingMatrix::from_rows(2, 2, &[vec![Some(0)]]).is_err());
}

// ---------------------------------------------------------------- multi-label toy data

fn toy(codebook: &[&str]) -> CodingMatrix {
    coding_matrix(&read_long("multilabel_toy.long.csv"), codebook)
}

fn codebook_of(expected: &Value) -> Vec<&str> {
    expected["input"]["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code name"))
        .collect()
}

/// Keys of a per-code entry that describe rather than measure.
const PER_CODE_METADATA: [&str; 2] = ["fleiss_kappa_units", "crosscheck"];

fn check_counts(t: &Tallies, expected: &Value, pairable: bool, what: &str) {
    for (key, value) in object(expected) {
        let k = match key.as_str() {
            "absent" => 0,
            "present" => 1,
            other => panic!("{what}: unchecked key {other}"),
        };
        let n = if pairable {
            t.pairable_ratings_in(k)
        } else {
            t.ratings_in(k)
        };
        check_count(n, value, &format!("{what}.{key}"));
    }
}

fn check_code(t: &Tallies, expected: &Value, code: &str) {
    for (key, value) in object(expected) {
        let what = format!("{code}.{key}");
        match key.as_str() {
            "n_units" => check_count(t.units_rated(), value, &what),
            "n_units_pairable" => check_count(t.units_pairable(), value, &what),
            "n_units_all_coders" => check_count(t.units_complete(), value, &what),
            "value_counts" => check_counts(t, value, false, &what),
            "value_counts_pairable" => check_counts(t, value, true, &what),
            "percent_agreement" => check(t.percent_agreement(), value, &what),
            "percent_agreement_unanimous" => check(t.percent_agreement_unanimous(), value, &what),
            "cohen_kappa" => check(t.cohen_kappa(), value, &what),
            "scotts_pi" => check(t.scott_pi(), value, &what),
            "fleiss_kappa" => check(t.fleiss_kappa(), value, &what),
            "fleiss_kappa_gwet_missing" => check(t.fleiss_kappa_gwet(), value, &what),
            "krippendorff_alpha_nominal" | "krippendorff_alpha_irrCAC" => {
                check(t.krippendorff_alpha(), value, &what)
            }
            "brennan_prediger" => check(t.brennan_prediger(), value, &what),
            "gwet_ac1" => check(t.gwet_ac1(), value, &what),
            "conger_kappa" => check(t.conger_kappa(), value, &what),
            "q_categories" => check_count(t.q() as u64, value, &what),
            "undefined_or_notes" => check_undefined_notes(t, value, &what),
            k if PER_CODE_METADATA.contains(&k) => {}
            _ => panic!("{what}: unchecked key"),
        }
    }
}

/// Every coefficient the reference calls "undefined: ..." is undefined here too.
fn check_undefined_notes(t: &Tallies, notes: &Value, what: &str) {
    for (key, note) in object(notes) {
        let text = note.as_str().expect("note");
        let ours = match key.as_str() {
            "cohen_kappa" => t.cohen_kappa(),
            "scotts_pi" => t.scott_pi(),
            "fleiss_kappa" => t.fleiss_kappa(),
            "fleiss_kappa_gwet_missing" => t.fleiss_kappa_gwet(),
            "krippendorff_alpha_nominal" | "krippendorff_alpha_irrCAC" => t.krippendorff_alpha(),
            "conger_kappa" => t.conger_kappa(),
            other => panic!("{what}: unchecked note {other}"),
        };
        if text.starts_with("undefined") || text.starts_with("defined for exactly 2") {
            assert!(ours.is_err(), "{what}.{key}: {text}, but got {ours:?}");
        }
    }
}

fn check_set_alpha(m: &CodingMatrix, value: &Value, masi: bool, what: &str) {
    let alpha = if masi {
        masi_alpha(m)
    } else {
        jaccard_alpha(m)
    };
    for (key, v) in object(value) {
        match key.as_str() {
            "alpha" | "alpha_via_krippendorff_pkg" => check(alpha, v, &format!("{what}.{key}")),
            "n_distinct_sets" => check_count(distinct_pairable_sets(m) as u64, v, what),
            other => panic!("{what}: unchecked key {other}"),
        }
    }
}

fn check_overall(m: &CodingMatrix, expected: &Value) {
    let units = per_code_tallies(m).first().map_or(0, |t| t.units_rated());
    for (key, value) in object(expected) {
        let what = format!("overall.{key}");
        match key.as_str() {
            "pooled_binary_alpha_nominal" | "pooled_binary_alpha_formula" => {
                check(pooled_alpha(m), value, &what)
            }
            "pooled_n_decisions_units" => check_count(units * m.n_codes() as u64, value, &what),
            "pooled_percent_agreement" => check(pooled_percent_agreement(m), value, &what),
            "masi_alpha" => check_set_alpha(m, value, true, &what),
            "jaccard_alpha" => check_set_alpha(m, value, false, &what),
            other => panic!("unchecked key {other}"),
        }
    }
    // The serialisable summary carries the same numbers.
    let o = overall(m);
    check_option(
        o.krippendorff_alpha_pooled,
        &expected["pooled_binary_alpha_nominal"],
        "o",
    );
    check_option(
        o.percent_agreement_pooled,
        &expected["pooled_percent_agreement"],
        "o",
    );
    check_option(
        o.krippendorff_alpha_masi,
        &expected["masi_alpha"]["alpha"],
        "o",
    );
}

fn check_input(m: &CodingMatrix, input: &Value) {
    let rated: usize = (0..m.n_units()).map(|u| m.raters(u)).sum();
    let empty = (0..m.n_units())
        .flat_map(|u| m.unit(u))
        .filter(|c| c.is_some_and(|s| s.is_empty()))
        .count();
    check_count(m.n_units() as u64, &input["units"], "input.units");
    check_count(rated as u64, &input["coder_unit_pairs_seen"], "input.seen");
    check_count(
        empty as u64,
        &input["coder_unit_pairs_with_no_code"],
        "input.no_code",
    );
}

/// The whole expected file: per code through `Tallies` and through `CodeAgreement`, overall.
fn check_toy_file(name: &str) {
    let expected = read_json(name);
    let codebook = codebook_of(&expected);
    let m = toy(&codebook);
    check_input(&m, &expected["input"]);
    let tallies = per_code_tallies(&m);
    let rows = per_code(&m);
    assert_eq!(rows.len(), codebook.len());
    for (c, code) in codebook.iter().enumerate() {
        let e = &expected["per_code"][code];
        check_code(&tallies[c], e, code);
        let row = &rows[c];
        check_count(row.units, &e["n_units"], code);
        check_count(row.units_pairable, &e["n_units_pairable"], code);
        check_option(row.percent_agreement, &e["percent_agreement"], code);
        check_option(row.cohen_kappa, &e["cohen_kappa"], code);
        check_option(row.scott_pi, &e["scotts_pi"], code);
        check_option(row.fleiss_kappa, &e["fleiss_kappa_gwet_missing"], code);
        check_option(
            row.krippendorff_alpha,
            &e["krippendorff_alpha_nominal"],
            code,
        );
        check_option(row.gwet_ac1, &e["gwet_ac1"], code);
        check_option(row.brennan_prediger, &e["brennan_prediger"], code);
        let present = e["value_counts"]["present"].as_f64().expect("count");
        let absent = e["value_counts"]["absent"].as_f64().expect("count");
        let prevalence = row.prevalence.expect("prevalence");
        assert!((prevalence - present / (present + absent)).abs() <= TOLERANCE);
    }
    check_overall(&m, &expected["overall"]);
}

#[test]
fn multilabel_toy_reference_values() {
    check_toy_file("expected_multilabel_toy.json");
}

#[test]
fn multilabel_toy_with_unused_code_reference_values() {
    check_toy_file("expected_multilabel_toy_with_unused.json");
}

#[test]
fn unused_code_row_says_why() {
    let m = toy(&["cost", "risk", "trust", "unused"]);
    let rows = per_code(&m);
    let unused = &rows[3];
    assert_eq!(unused.krippendorff_alpha, None);
    assert_eq!(unused.fleiss_kappa, None);
    assert_eq!(unused.gwet_ac1, Some(1.0));
    assert_eq!(unused.brennan_prediger, Some(1.0));
    assert_eq!(unused.prevalence, Some(0.0));
    assert_eq!(
        unused.undefined_reason.as_deref(),
        Some("no coder applied this code")
    );
    assert_eq!(
        rows[0].undefined_reason, None,
        "cohen/scott need two coders: no reason"
    );
    let json = serde_json::to_value(unused).expect("serialise");
    assert_eq!(json["krippendorff_alpha"], Value::Null);
    assert_eq!(json["units_pairable"], 8);
    assert!(json.get("scott_pi").is_some() && json.get("undefined_reason").is_some());
}

#[test]
fn multilabel_toy_headline_values_from_readme() {
    let m = toy(&["cost", "risk", "trust"]);
    let rows = per_code(&m);
    let near = |a: Option<f64>, e: f64| (a.expect("defined") - e).abs() < 5e-7;
    assert!(near(rows[0].krippendorff_alpha, 0.607143));
    assert!(near(rows[0].gwet_ac1, 0.7));
    assert!(near(rows[0].fleiss_kappa, 0.625));
    assert!(near(rows[1].krippendorff_alpha, 0.45));
    assert!(near(rows[2].gwet_ac1, 0.675676));
    assert!(near(masi_alpha(&m).ok(), 0.514177));
    assert!(near(jaccard_alpha(&m).ok(), 0.544828));
    assert!(near(pooled_alpha(&m).ok(), 0.559259));
    assert!(near(
        pooled_alpha(&toy(&["cost", "risk", "trust", "unused"])).ok(),
        0.609681
    ));
}

// ---------------------------------------------------------------- binary codes

/// cohen_wiki as one binary code ("yes" applied or not) gives cohen_wiki's values.
#[test]
fn cohen_wiki_as_a_binary_code() {
    let m = coding_matrix(&read_long("cohen_wiki.percode.long.csv"), &["yes"]);
    let expected = read_json("expected_single_label.json");
    let e = &expected["cohen_wiki"];
    let t = &per_code_tallies(&m)[0];
    check(t.percent_agreement(), &e["percent_agreement"], "pa");
    check(t.cohen_kappa(), &e["cohen_kappa"], "cohen");
    check(t.scott_pi(), &e["scotts_pi"], "scott");
    check(t.fleiss_kappa(), &e["fleiss_kappa"], "fleiss");
    check(
        t.fleiss_kappa_gwet(),
        &e["fleiss_kappa_gwet_missing"],
        "fleiss gwet",
    );
    check(
        t.krippendorff_alpha(),
        &e["krippendorff_alpha_nominal"],
        "alpha",
    );
    check(t.brennan_prediger(), &e["brennan_prediger"], "bp");
    check(t.gwet_ac1(), &e["gwet_ac1"], "ac1");
    check(t.conger_kappa(), &e["conger_kappa"], "conger");
    check_count(t.units_rated(), &e["n_units"], "units");
    let row = &per_code(&m)[0];
    check_option(row.cohen_kappa, &e["cohen_kappa"], "row cohen");
    check_option(row.scott_pi, &e["scotts_pi"], "row scott");
    assert!((row.cohen_kappa.expect("kappa") - 0.4).abs() <= TOLERANCE);
}

/// Fleiss (1971): each diagnosis of `irr_diagnoses` as a binary code has the per-category
/// kappas printed in the README (3 decimals).
#[test]
fn irr_diagnoses_per_category_kappas() {
    let long = read_long("irr_diagnoses.long.csv");
    let codebook = ["1", "2", "3", "4", "5"];
    let m = coding_matrix(&long, &codebook);
    let published = [0.245, 0.245, 0.520, 0.471, 0.566];
    for (row, p) in per_code(&m).iter().zip(published) {
        let kappa = row.fleiss_kappa.expect("defined");
        assert!((kappa - p).abs() < 5e-4, "{kappa} vs {p}");
    }
}

/// The two-coder 2x2 table: coder identity matters for Cohen's kappa (not for Scott's pi).
#[test]
fn two_coder_table_from_multilabel_matches_single_label() {
    let long = read_long("kripp2011_A_binary.long.csv");
    // "1" as the code applied, "0" as rated without it.
    let mut binary = Long {
        units: long.units.clone(),
        coders: long.coders.clone(),
        rows: Vec::new(),
    };
    for (u, g, label) in &long.rows {
        let code = if label == "1" { "x" } else { "" };
        binary.rows.push((*u, *g, code.to_owned()));
    }
    let m = coding_matrix(&binary, &["x"]);
    let single = Tallies::from_ratings(&rating_matrix(&long, 2));
    let t = &per_code_tallies(&m)[0];
    assert_eq!(t.cohen_kappa(), single.cohen_kappa());
    assert_eq!(t.scott_pi(), single.scott_pi());
    assert_eq!(t.conger_kappa(), single.conger_kappa());
    assert_eq!(t.krippendorff_alpha(), single.krippendorff_alpha());
}

// ---------------------------------------------------------------- bootstrap

#[test]
fn bootstrap_is_reproducible_and_covers_the_estimate() {
    let m = toy(&["cost", "risk", "trust"]);
    let kinds = [
        AlphaKind::Code(0),
        AlphaKind::Code(1),
        AlphaKind::Code(2),
        AlphaKind::Pooled,
        AlphaKind::Masi,
        AlphaKind::Jaccard,
    ];
    let rows = per_code(&m);
    for kind in kinds {
        let point = match kind {
            AlphaKind::Code(c) => rows[c].krippendorff_alpha.expect("alpha"),
            AlphaKind::Pooled => pooled_alpha(&m).expect("alpha"),
            AlphaKind::Masi => masi_alpha(&m).expect("alpha"),
            AlphaKind::Jaccard => jaccard_alpha(&m).expect("alpha"),
        };
        let a = bootstrap_alpha_ci(&m, kind, 2000, 42).expect("interval");
        let b = bootstrap_alpha_ci(&m, kind, 2000, 42).expect("interval");
        assert_eq!(a, b, "{kind:?}: same seed, same interval");
        assert!(
            a.low <= point && point <= a.high,
            "{kind:?}: {point} not in {a:?}"
        );
        assert!(a.low < a.high && a.high <= 1.0, "{kind:?}: {a:?}");
        assert!(a.resamples_used > 1900, "{kind:?}: {a:?}");
        let c = bootstrap_alpha_ci(&m, kind, 2000, 7).expect("interval");
        assert_ne!(a, c, "{kind:?}: another seed, another draw");
    }
}

#[test]
fn bootstrap_of_undefined_alpha_is_undefined() {
    let m = toy(&["cost", "risk", "trust", "unused"]);
    assert_eq!(
        bootstrap_alpha_ci(&m, AlphaKind::Code(3), 200, 1),
        Err(Undefined::NoResamples)
    );
    assert_eq!(
        bootstrap_alpha_ci(&m, AlphaKind::Code(9), 200, 1),
        Err(Undefined::NoSuchCode { code: 9 })
    );
    let empty = CodingMatrix::new(2, 3);
    assert_eq!(
        bootstrap_alpha_ci(&empty, AlphaKind::Masi, 200, 1),
        Err(Undefined::NoPairableUnits)
    );
}

// ---------------------------------------------------------------- scale

/// 1,000,000 answers x 3 coders x 10 codes fit in well under 500 MB.
#[test]
fn a_million_answers_fit() {
    let units = 1_000_000;
    let mut m = CodingMatrix::with_capacity(3, 10, units, 6);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut sets = [[0u32; 2]; 3];
    let mut lens = [None; 3];
    for _ in 0..units {
        for g in 0..3 {
            // One coder in 16 skips the answer; the others apply 0, 1 or 2 random codes.
            let x = next();
            sets[g] = [(x % 10) as u32, ((x >> 8) % 10) as u32];
            lens[g] = ((x >> 16) % 16 != 0).then_some(((x >> 24) % 3) as usize);
        }
        let entries: Vec<Option<&[u32]>> =
            (0..3).map(|g| lens[g].map(|len| &sets[g][..len])).collect();
        m.push_unit(&entries).expect("push");
    }
    assert!(m.heap_bytes() < 100_000_000, "{} bytes", m.heap_bytes());
    let rows = per_code(&m);
    assert_eq!(rows.len(), 10);
    let rated = (0..units).filter(|&u| m.raters(u) > 0).count() as u64;
    assert!(rated > 999_000, "{rated}");
    assert!(rows.iter().all(|r| r.units == rated));
    let pooled = pooled_alpha(&m).expect("defined");
    // Independent random sets: no agreement beyond chance.
    assert!(pooled.abs() < 0.01, "{pooled}");
    assert!(masi_alpha(&m).expect("defined").abs() < 0.01);
}
