//! A research team checks its intercoder agreement before reporting it: `lacrima agreement` gives
//! every coefficient per code and overall, in a table, CSV or JSON, with intervals and per-pair
//! values on request. The numbers are checked end to end against the published reference values
//! (`shared/reference/agreement/`) and, for the TCIT demo, against textbook formulas applied to
//! the fixture file itself, without lacrima.

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/reference/agreement/"
);
const TOLERANCE: f64 = 1e-9;

/// A project whose answers are the units of a `unit,coder,code` reference file: one respondent
/// per unit with one open answer, the given codebook, and the file's rows as codings.
fn reference_project(long_csv: &str, codebook: &[&str]) -> Scratch {
    let text = std::fs::read_to_string(format!("{REFERENCE}{long_csv}")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let mut units: Vec<String> = Vec::new();
    let mut codings = String::new();
    for r in rdr.records() {
        let r = r.unwrap();
        if !units.contains(&r[0].to_string()) {
            units.push(r[0].to_string());
        }
        codings.push_str(&format!("{},answer,{},{},,,\n", &r[0], &r[1], &r[2]));
    }
    let survey = answers_csv(
        units
            .iter()
            .map(|u| (u, format!("What the crying led to for respondent {u}"))),
    );
    one_question_project(&survey, &codebook_csv(codebook), Some(&codings))
}

fn close(actual: &Value, expected: &Value, what: &str) {
    match (actual.as_f64(), expected.as_f64()) {
        (Some(a), Some(e)) => assert!((a - e).abs() < TOLERANCE, "{what}: {a} vs {e}"),
        _ => assert!(
            actual.is_null() && expected.is_null(),
            "{what}: {actual} vs {expected}"
        ),
    }
}

/// Compares lacrima's JSON with a reference file, with the key names of DESIGN.md section 6.
fn check_against_reference(reference: &str, codebook: &[&str]) {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{REFERENCE}{reference}")).unwrap())
            .unwrap();
    let s = reference_project("multilabel_toy.long.csv", codebook);
    let got = s.json(&["agreement", "--format", "json"]);
    assert_eq!(got["coders"], serde_json::json!(["A", "B", "C"]));
    assert_eq!(got["question"], Value::Null);
    assert_eq!(got["units"], expected["input"]["units"]);
    assert_eq!(
        got["coder_counts"],
        serde_json::json!({"A": 8, "B": 8, "C": 7}),
        "C did not code u6"
    );
    let codes = got["codes"].as_array().unwrap();
    let names: Vec<&str> = codes.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(names, codebook, "codebook order");
    for row in codes {
        let name = row["code"].as_str().unwrap();
        let e = &expected["per_code"][name];
        assert_eq!(row["units"], e["n_units"], "{name}");
        assert_eq!(row["units_pairable"], e["n_units_pairable"], "{name}");
        let present = e["value_counts"]["present"].as_f64().unwrap();
        let absent = e["value_counts"]["absent"].as_f64().unwrap();
        close(
            &row["prevalence"],
            &Value::from(present / (present + absent)),
            name,
        );
        for (ours, theirs) in [
            ("percent_agreement", "percent_agreement"),
            ("cohen_kappa", "cohen_kappa"),
            ("scott_pi", "scotts_pi"),
            ("fleiss_kappa", "fleiss_kappa_gwet_missing"),
            ("krippendorff_alpha", "krippendorff_alpha_nominal"),
            ("gwet_ac1", "gwet_ac1"),
            ("brennan_prediger", "brennan_prediger"),
        ] {
            close(&row[ours], &e[theirs], &format!("{name} {ours}"));
        }
        // Cohen and Scott are undefined by design with three coders; any other gap is explained.
        let undefined = ["fleiss_kappa", "krippendorff_alpha", "gwet_ac1"]
            .iter()
            .any(|k| row[*k].is_null());
        assert_eq!(row["undefined_reason"].is_string(), undefined, "{name}");
    }
    let o = &got["overall"];
    let e = &expected["overall"];
    close(
        &o["krippendorff_alpha_pooled"],
        &e["pooled_binary_alpha_nominal"],
        "pooled alpha",
    );
    close(
        &o["percent_agreement_pooled"],
        &e["pooled_percent_agreement"],
        "pooled agreement",
    );
    close(
        &o["krippendorff_alpha_masi"],
        &e["masi_alpha"]["alpha"],
        "MASI alpha",
    );
}

#[test]
fn the_multilabel_toy_gives_the_reference_values() {
    check_against_reference("expected_multilabel_toy.json", &["cost", "risk", "trust"]);
}

#[test]
fn a_code_nobody_used_adds_an_undefined_row_and_moves_only_the_pooled_values() {
    check_against_reference(
        "expected_multilabel_toy_with_unused.json",
        &["cost", "risk", "trust", "unused"],
    );
    let s = reference_project(
        "multilabel_toy.long.csv",
        &["cost", "risk", "trust", "unused"],
    );
    let got = s.json(&["agreement", "--format", "json", "--code", "unused"]);
    let row = &got["codes"][0];
    assert_eq!(row["krippendorff_alpha"], Value::Null);
    assert_eq!(row["undefined_reason"], "no coder applied this code");
    assert_eq!(row["gwet_ac1"], 1.0);
    let table = s.stdout(&["agreement"]);
    let line = table.lines().find(|l| l.starts_with("unused")).unwrap();
    assert!(line.ends_with("- no coder applied this code"), "{line}");
    assert!(!table.contains("NaN") && !s.stdout(&["agreement", "--format", "csv"]).contains("NaN"));
}

// ---------------------------------------------------------------------------------------------
// The TCIT demo, checked against the textbook formulas on the fixture file

/// Codes each coder applied to each answer, from the fixture file: (respondent, question) ->
/// coder -> codes.
type Sets = BTreeMap<(String, String), BTreeMap<String, BTreeSet<String>>>;

fn fixture_sets() -> Sets {
    let mut sets = Sets::new();
    for ((respondent, question, coder), codes) in fixture_decisions() {
        sets.entry((respondent, question))
            .or_default()
            .insert(coder, codes);
    }
    sets
}

#[test]
fn the_demo_agreement_matches_cohen_and_krippendorff_by_hand() {
    let s = demo();
    let got = s.json(&["agreement", "--format", "json"]);
    let sets = fixture_sets();
    assert_eq!(got["coders"], serde_json::json!(["ana", "ben"]));
    assert_eq!(got["units"], sets.len() as u64);
    assert_eq!(
        got["coder_counts"],
        serde_json::json!({"ana": 150, "ben": 150})
    );
    for row in got["codes"].as_array().unwrap() {
        let code = row["code"].as_str().unwrap();
        // The 2x2 table of (ana applied, ben applied) over the answers both rated.
        let (mut both, mut ana, mut ben, mut neither) = (0.0, 0.0, 0.0, 0.0);
        for coders in sets.values() {
            let a = coders["ana"].contains(code);
            let b = coders["ben"].contains(code);
            match (a, b) {
                (true, true) => both += 1.0,
                (true, false) => ana += 1.0,
                (false, true) => ben += 1.0,
                (false, false) => neither += 1.0,
            }
        }
        let n = both + ana + ben + neither;
        let po = (both + neither) / n;
        let pe = ((both + ana) * (both + ben) + (neither + ben) * (neither + ana)) / (n * n);
        let kappa = (po - pe) / (1.0 - pe);
        // Krippendorff (2011): alpha = 1 - (v - 1) * o_01 / (v_0 * v_1) over v = 2n values.
        let v1 = 2.0 * both + ana + ben;
        let v0 = 2.0 * n - v1;
        let alpha = 1.0 - (2.0 * n - 1.0) * (ana + ben) / (v0 * v1);
        close(&row["cohen_kappa"], &Value::from(kappa), code);
        close(&row["krippendorff_alpha"], &Value::from(alpha), code);
        close(&row["percent_agreement"], &Value::from(po), code);
        close(&row["prevalence"], &Value::from(v1 / (2.0 * n)), code);
        assert!(
            alpha > 0.5 && alpha < 1.0,
            "{code}: the demo coders agree fairly well, not perfectly ({alpha})"
        );
    }
    let pooled = got["overall"]["krippendorff_alpha_pooled"]
        .as_f64()
        .unwrap();
    let masi = got["overall"]["krippendorff_alpha_masi"].as_f64().unwrap();
    assert!(pooled > 0.6 && pooled < 0.95, "{pooled}");
    assert!(
        masi > 0.3 && masi < pooled,
        "sets agree less than single codes: {masi}"
    );
}

#[test]
fn one_question_and_one_code_can_be_looked_at_alone() {
    let s = demo();
    let whole = s.json(&["agreement", "--format", "json"]);
    let one = s.json(&["agreement", "--format", "json", "--code", "Felt-Cared-For"]);
    let rows = one["codes"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "--code limits the rows");
    let full = whole["codes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "felt-cared-for")
        .unwrap();
    assert_eq!(&rows[0], full, "case-insensitive, same values");
    assert_eq!(one["overall"], whole["overall"], "overall stays whole");

    let q = s.json(&[
        "agreement",
        "--format",
        "json",
        "--question",
        "consequence_client",
    ]);
    assert_eq!(q["question"], "consequence_client");
    let per_question = fixture_sets()
        .keys()
        .filter(|(_, q)| q == "consequence_client")
        .count();
    assert_eq!(q["units"], per_question as u64);
}

#[test]
fn csv_has_a_row_per_code_then_overall_and_the_table_marks_reliability() {
    let s = demo();
    let out = s.stdout(&["agreement", "--format", "csv"]);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "coders",
            "code",
            "units",
            "units_pairable",
            "prevalence",
            "percent_agreement",
            "cohen_kappa",
            "scott_pi",
            "fleiss_kappa",
            "krippendorff_alpha",
            "gwet_ac1",
            "brennan_prediger",
            "krippendorff_alpha_masi",
            "undefined_reason"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 15 + 1, "15 codable codes, then overall");
    assert_eq!(&rows[0][1], "rapport-deepened", "codebook order");
    let overall = rows.last().unwrap();
    assert_eq!(&overall[0], "ana;ben");
    assert_eq!(&overall[1], "(overall)");
    let whole = s.json(&["agreement", "--format", "json"]);
    let pooled: f64 = overall[9].parse().unwrap();
    close(
        &Value::from(pooled),
        &whole["overall"]["krippendorff_alpha_pooled"],
        "csv pooled",
    );
    let masi: f64 = overall[12].parse().unwrap();
    close(
        &Value::from(masi),
        &whole["overall"]["krippendorff_alpha_masi"],
        "csv masi",
    );

    let table = s.stdout(&["agreement"]);
    assert!(table.starts_with("Intercoder agreement of ana and ben on 150 answers"));
    for (row, json_row) in rows.iter().zip(whole["codes"].as_array().unwrap()) {
        let alpha = json_row["krippendorff_alpha"].as_f64().unwrap();
        let expected = if alpha >= 0.8 {
            "reliable"
        } else if alpha >= 0.667 {
            "tentative"
        } else {
            "unreliable"
        };
        let line = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&row[1]))
            .unwrap();
        assert!(line.ends_with(expected), "{line} should say {expected}");
    }
    assert!(table.contains("not on segment boundaries"));
    assert!(table.contains("0.800 or more reliable"));
}

#[test]
fn intervals_are_reproducible_and_bracket_the_estimates() {
    let s = demo();
    let args = [
        "agreement",
        "--format",
        "json",
        "--ci",
        "--bootstrap",
        "300",
        "--seed",
        "11",
    ];
    let a = s.json(&args);
    assert_eq!(a, s.json(&args), "same seed, same intervals");
    assert_eq!(a["bootstrap"]["resamples"], 300);
    let mut other = args.to_vec();
    other[7] = "12";
    assert_ne!(a["overall"], s.json(&other)["overall"], "another seed");
    for row in a["codes"].as_array().unwrap() {
        let (lo, hi) = (
            row["krippendorff_alpha_ci_low"].as_f64().unwrap(),
            row["krippendorff_alpha_ci_high"].as_f64().unwrap(),
        );
        let alpha = row["krippendorff_alpha"].as_f64().unwrap();
        assert!(
            lo <= hi && lo - 0.05 <= alpha && alpha <= hi + 0.05,
            "{row}"
        );
    }
    let o = &a["overall"];
    for kind in ["pooled", "masi"] {
        let lo = o[format!("krippendorff_alpha_{kind}_ci_low")]
            .as_f64()
            .unwrap();
        let hi = o[format!("krippendorff_alpha_{kind}_ci_high")]
            .as_f64()
            .unwrap();
        let v = o[format!("krippendorff_alpha_{kind}")].as_f64().unwrap();
        assert!(lo < v && v < hi, "{kind}: {lo} {v} {hi}");
    }
    let csv = s.stdout(&["agreement", "--format", "csv", "--ci", "--bootstrap", "50"]);
    assert!(csv.lines().next().unwrap().contains(
        "krippendorff_alpha,krippendorff_alpha_ci_low,krippendorff_alpha_ci_high,gwet_ac1"
    ));
    // --bootstrap and --seed belong to --ci.
    s.lacrima(&["agreement", "--bootstrap", "10"])
        .assert()
        .code(2);
}

#[test]
fn pairs_show_which_coder_diverges() {
    let s = reference_project("multilabel_toy.long.csv", &["cost", "risk", "trust"]);
    let got = s.json(&["agreement", "--format", "json", "--pairs"]);
    let pairs = got["pairs"].as_array().unwrap();
    let names: Vec<String> = pairs
        .iter()
        .map(|p| {
            p["coders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    assert_eq!(names, ["A-B", "A-C", "B-C"]);
    for p in pairs {
        for row in p["codes"].as_array().unwrap() {
            assert!(
                row["cohen_kappa"].is_number(),
                "two coders: Cohen is defined"
            );
        }
    }
    assert_eq!(pairs[0]["units_pairable"], 8);
    assert_eq!(pairs[1]["units_pairable"], 7, "C did not code u6");
    // A and B agree on cost everywhere except u4 and u5.
    let ab_cost = &pairs[0]["codes"][0];
    assert_eq!(ab_cost["code"], "cost");
    close(
        &ab_cost["percent_agreement"],
        &Value::from(6.0 / 8.0),
        "A-B cost",
    );
    let table = s.stdout(&["agreement", "--pairs"]);
    assert!(table.contains("A and C alone (7 answers both rated)"));
    let csv = s.stdout(&["agreement", "--format", "csv", "--pairs"]);
    assert_eq!(csv.lines().filter(|l| l.starts_with("B;C,")).count(), 4);
}

// ---------------------------------------------------------------------------------------------
// Bad input

#[test]
fn bad_requests_say_what_exists() {
    let s = demo();
    s.refuses(
        &["agreement", "--coders", "ana"],
        &["at least two coders", "only ana was named", "ana, ben"],
    );
    s.refuses(
        &["agreement", "--coders", "ana,zoe"],
        &["no coder called \"zoe\"", "the coders are: ana, ben"],
    );
    s.refuses(
        &["agreement", "--question", "nope"],
        &[
            "no question called \"nope\"",
            "consequence_client, consequence_relationship, consequence_therapist",
        ],
    );
    s.refuses(
        &["agreement", "--code", "Rupture"],
        &["no code called \"Rupture\"", "rupture-worry"],
    );
    s.refuses(
        &["agreement", "--code", "client"],
        &["\"client\" only groups other codes", "felt-cared-for"],
    );
    s.lacrima(&["agreement", "--coders", "ana", "--coders", "ana,ben"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("\"ana\" is named twice"));
}

#[test]
fn a_question_nobody_rated_and_a_lone_coder_are_refused() {
    let s = small_project();
    s.add_codings(
        "codings.csv",
        "R1,answer_a,ana,Deepened,,,\nR1,answer_a,ben,,,,\n",
    );
    s.refuses(
        &["agreement", "--question", "answer_b"],
        &[
            "nobody has rated answers of question \"answer_b\"",
            "ana (rated nothing)",
        ],
    );
    s.refuses(
        &["agreement", "--question", "answer_b", "--coders", "ana,ben"],
        &[
            "no answer of question \"answer_b\" was rated by ana or ben",
            "questions with answers they rated: answer_a",
        ],
    );
    let one = small_project();
    one.add_codings("codings.csv", "R1,answer_a,ana,Deepened,,,\n");
    one.refuses(
        &["agreement"],
        &[
            "at least two coders",
            "only ana has rated answers",
            "--coders A,B",
        ],
    );
    small_project().refuses(&["agreement"], &["nobody has rated answers"]);
    let none = Scratch::new();
    let err = none.fails(&["agreement"]);
    assert!(err.contains("no project at"), "{err}");
    assert!(!none.project().exists());
}

// ---------------------------------------------------------------------------------------------
// Invariants through the binary (few cases: each starts the binary several times)

/// A project with `units` answers coded by coders c1..ck from a table of code sets
/// (None = not rated).
fn generated_project(table: &[Vec<Option<Vec<usize>>>], codes: usize) -> Scratch {
    let survey =
        answers_csv((0..table.len()).map(|u| (format!("R{u}"), format!("answer number {u}"))));
    let mut codings = String::new();
    for (u, row) in table.iter().enumerate() {
        for (g, cell) in row.iter().enumerate() {
            match cell {
                None => {}
                Some(set) if set.is_empty() => {
                    codings.push_str(&format!("R{u},answer,c{g},,,,\n"));
                }
                Some(set) => {
                    for c in set {
                        codings.push_str(&format!("R{u},answer,c{g},k{c},,,\n"));
                    }
                }
            }
        }
    }
    let book = codebook_csv((0..codes).map(|c| format!("k{c}")));
    one_question_project(&survey, &book, Some(&codings))
}

fn cell() -> impl Strategy<Value = Option<Vec<usize>>> {
    prop_oneof![
        1 => Just(None),
        6 => proptest::collection::btree_set(0usize..3, 0..3)
            .prop_map(|s| Some(s.into_iter().collect())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn coefficients_stay_in_range_and_coder_order_does_not_matter(
        table in proptest::collection::vec(proptest::collection::vec(cell(), 3), 6..20)
    ) {
        let s = generated_project(&table, 3);
        let coders: Vec<String> = (0..3)
            .filter(|g| table.iter().any(|row| row[*g].is_some()))
            .map(|g| format!("c{g}"))
            .collect();
        prop_assume!(coders.len() >= 2);
        let forward = coders.join(",");
        let backward: Vec<String> = coders.iter().rev().cloned().collect();
        let a = s.json(&["agreement", "--format", "json", "--coders", &forward]);
        let b = s.json(&["agreement", "--format", "json", "--coders", &backward.join(",")]);
        for (x, y) in a["codes"].as_array().unwrap().iter().zip(b["codes"].as_array().unwrap()) {
            for key in ["percent_agreement", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1",
                        "brennan_prediger", "cohen_kappa", "scott_pi"] {
                match (x[key].as_f64(), y[key].as_f64()) {
                    (Some(p), Some(q)) => prop_assert!((p - q).abs() < 1e-12, "{key}"),
                    (p, q) => prop_assert_eq!(p, q),
                }
            }
            for key in ["percent_agreement", "prevalence"] {
                if let Some(v) = x[key].as_f64() {
                    prop_assert!((0.0..=1.0).contains(&v), "{key} {v}");
                }
            }
            for key in ["cohen_kappa", "scott_pi", "fleiss_kappa", "krippendorff_alpha",
                        "gwet_ac1", "brennan_prediger"] {
                if let Some(v) = x[key].as_f64() {
                    prop_assert!((-1.0..=1.0 + 1e-12).contains(&v), "{key} {v}");
                }
            }
        }
        for key in ["krippendorff_alpha_pooled", "percent_agreement_pooled",
                    "krippendorff_alpha_masi"] {
            match (a["overall"][key].as_f64(), b["overall"][key].as_f64()) {
                // MASI sums distances in coder order: equal up to rounding.
                (Some(p), Some(q)) => prop_assert!((p - q).abs() < 1e-12, "{key}"),
                (p, q) => prop_assert_eq!(p, q),
            }
        }
    }

    #[test]
    fn identical_coders_agree_perfectly(
        sets in proptest::collection::vec(proptest::collection::btree_set(0usize..3, 0..3), 4..15)
    ) {
        let table: Vec<Vec<Option<Vec<usize>>>> = sets
            .iter()
            .map(|s| vec![Some(s.iter().copied().collect()); 2])
            .collect();
        let s = generated_project(&table, 3);
        let got = s.json(&["agreement", "--format", "json"]);
        for row in got["codes"].as_array().unwrap() {
            prop_assert_eq!(row["percent_agreement"].as_f64(), Some(1.0));
            for key in ["cohen_kappa", "krippendorff_alpha", "gwet_ac1", "brennan_prediger"] {
                if let Some(v) = row[key].as_f64() {
                    prop_assert!((v - 1.0).abs() < 1e-12, "{key} {v}");
                } else {
                    prop_assert!(row["undefined_reason"].is_string());
                }
            }
        }
    }
}
