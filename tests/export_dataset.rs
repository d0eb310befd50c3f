//! A researcher takes the coded TCIT data to R, SPSS, Stata or pandas: `lacrima export dataset`
//! writes one row per respondent with the variables as imported and a 0/1 column per question and
//! code (with a data dictionary), one row per coding with its text, or everything as JSON. Each
//! file is read back here and checked cell by cell against the fixture files it came from.

mod common;
use common::*;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};

const QUESTIONS: [&str; 3] = DEMO_QUESTIONS;

fn slug(name: &str) -> String {
    let lower = name.to_lowercase();
    let parts: Vec<&str> = lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|p| !p.is_empty())
        .collect();
    parts.join("_")
}

/// The same value: equal text, or equal numbers however written (7.0 and 7).
fn same_value(exported: &str, original: &str) -> bool {
    if is_missing(original) {
        return exported.is_empty();
    }
    exported == original
        || matches!(
            (exported.trim().parse::<f64>(), original.trim().parse::<f64>()),
            (Ok(a), Ok(b)) if a == b
        )
}

#[test]
fn the_wide_file_has_every_variable_as_imported_and_every_code_cell_matches_the_codings() {
    let s = demo();
    let out = s.stdout(&[
        "export", "dataset", "--format", "csv-wide", "--coder", "ana",
    ]);
    assert!(!out.starts_with('\u{feff}'), "UTF-8 without BOM");
    let (header, rows) = read_csv(&out);
    let (survey_header, survey_rows) = fixture_csv("tcit_survey.csv");
    let variables: Vec<&String> = survey_header
        .iter()
        .filter(|h| *h != "resp_id" && !QUESTIONS.contains(&h.as_str()))
        .collect();
    let codes = codable_codes();
    let mut expected_header: Vec<String> = vec!["resp_id".into()];
    expected_header.extend(variables.iter().map(|v| v.to_string()));
    for q in QUESTIONS {
        for (c, _) in &codes {
            expected_header.push(format!("{q}_{}", slug(c)));
        }
    }
    assert_eq!(header, expected_header);
    assert_eq!(rows.len(), survey_rows.len(), "one row per respondent");

    let coded = fixture_decisions();
    let mut ones = 0;
    let mut zeros = 0;
    for (row, orig) in rows.iter().zip(&survey_rows) {
        let orig: HashMap<&str, &str> = survey_header
            .iter()
            .map(String::as_str)
            .zip(orig.iter().map(String::as_str))
            .collect();
        assert_eq!(row[0], orig["resp_id"], "survey order");
        for (i, v) in variables.iter().enumerate() {
            assert!(
                same_value(&row[1 + i], orig[v.as_str()]),
                "{} {v}: exported {:?}, file {:?}",
                row[0],
                row[1 + i],
                orig[v.as_str()]
            );
        }
        let mut col = 1 + variables.len();
        for q in QUESTIONS {
            let key = (row[0].clone(), q.to_string(), "ana".to_string());
            for (c, _) in &codes {
                let expect = match coded.get(&key) {
                    None => "",
                    Some(set) if set.contains(c) => "1",
                    Some(_) => "0",
                };
                assert_eq!(row[col], expect, "{} {}", row[0], header[col]);
                ones += (expect == "1") as usize;
                zeros += (expect == "0") as usize;
                col += 1;
            }
        }
    }
    assert!(ones > 100 && zeros > 1000, "{ones} ones, {zeros} zeros");
}

#[cfg(unix)]
#[test]
fn with_out_the_file_and_its_dictionary_are_private_and_describe_every_column() {
    let s = demo();
    s.lacrima(&["export", "dataset", "--coder", "ben", "--out", "wide.csv"])
        .assert()
        .success()
        .stdout("");
    for f in ["wide.csv", "wide.dictionary.csv"] {
        assert_eq!(mode(&s.path(f)), 0o600, "{f}");
    }
    let leftovers = s.files_ending(".tmp");
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (header, _) = read_csv(&std::fs::read_to_string(s.path("wide.csv")).unwrap());
    let (dheader, dict) =
        read_csv(&std::fs::read_to_string(s.path("wide.dictionary.csv")).unwrap());
    assert_eq!(
        dheader,
        [
            "name",
            "kind",
            "label",
            "levels",
            "question",
            "code",
            "definition"
        ]
    );
    assert_eq!(
        dict.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        header,
        "one dictionary row per column, in order"
    );
    assert_eq!(dict[0][1], "id");
    let orientation = dict.iter().find(|r| r[0] == "orientation").unwrap();
    assert_eq!(orientation[1], "categorical");
    let levels: Vec<String> = serde_json::from_str(&orientation[3]).unwrap();
    assert!(levels.contains(&"CBT".to_string()), "{levels:?}");
    assert_eq!(dict.iter().find(|r| r[0] == "age").unwrap()[1], "numeric");
    let codes: HashMap<String, String> = codable_codes().into_iter().collect();
    let code_rows: Vec<&Vec<String>> = dict.iter().filter(|r| r[1] == "code").collect();
    assert_eq!(code_rows.len(), QUESTIONS.len() * codes.len());
    for r in code_rows {
        assert_eq!(r[0], format!("{}_{}", r[4], slug(&r[5])));
        assert_eq!(r[6], codes[&r[5]], "the code's definition travels along");
    }
}

#[test]
fn short_names_fit_stata_and_spss_and_the_dictionary_says_what_each_one_is() {
    let s = demo();
    s.lacrima(&[
        "export",
        "dataset",
        "--coder",
        "ana",
        "--short-names",
        "--out",
        "short.csv",
    ])
    .assert()
    .success();
    let (short_header, short_rows) =
        read_csv(&std::fs::read_to_string(s.path("short.csv")).unwrap());
    let (_, dict) = read_csv(&std::fs::read_to_string(s.path("short.dictionary.csv")).unwrap());
    let ident = regex::Regex::new("^[A-Za-z][A-Za-z0-9_]*$").unwrap();
    let mut seen = HashSet::new();
    for n in &short_header {
        assert!(n.len() <= 32, "{n} is too long for Stata");
        assert!(ident.is_match(n), "{n} is not an identifier");
        assert!(!n.ends_with('_'), "{n}");
        assert!(seen.insert(n.to_lowercase()), "{n} is not unique");
    }
    assert!(
        short_header.iter().any(|n| n.len() > 24),
        "names are shortened, not cut to nothing"
    );
    // Same data as the long names, column by column, matched through the dictionary.
    let long = s.stdout(&["export", "dataset", "--coder", "ana"]);
    let (long_header, long_rows) = read_csv(&long);
    let mut pairs = HashSet::new();
    for (i, d) in dict.iter().enumerate() {
        let j = if d[1] == "code" {
            assert!(pairs.insert((d[4].clone(), d[5].clone())), "{d:?}");
            long_header
                .iter()
                .position(|h| *h == format!("{}_{}", d[4], slug(&d[5])))
                .unwrap()
        } else {
            long_header.iter().position(|h| *h == d[0]).unwrap()
        };
        for (a, b) in short_rows.iter().zip(&long_rows) {
            assert_eq!(a[i], b[j], "{} vs {}", short_header[i], long_header[j]);
        }
    }
    let err = s.fails(&["export", "dataset", "--format", "csv-long", "--short-names"]);
    assert!(err.contains("--short-names"), "{err}");
}

fn code_points(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

#[test]
fn the_long_file_has_one_row_per_coding_with_the_coded_text() {
    let s = demo();
    let out = s.stdout(&["export", "dataset", "--format", "csv-long"]);
    let (header, rows) = read_csv(&out);
    assert_eq!(
        header,
        [
            "respondent",
            "question",
            "coder",
            "code",
            "start",
            "end",
            "text",
            "memo",
            "created_at"
        ]
    );
    let (survey_header, survey_rows) = fixture_csv("tcit_survey.csv");
    let survey_header = &survey_header;
    let answers: HashMap<(String, String), String> = survey_rows
        .iter()
        .flat_map(|r| {
            QUESTIONS.iter().map(move |q| {
                let i = survey_header.iter().position(|h| h == q).unwrap();
                ((r[0].clone(), q.to_string()), r[i].replace("\r\n", "\n"))
            })
        })
        .collect();
    // The same multiset of codings as the fixture (rows with a code), plus the text.
    let (_, fixture_rows) = fixture_csv("tcit_codings.csv");
    let mut expected: Vec<Vec<String>> = fixture_rows
        .iter()
        .filter(|r| !r[3].is_empty())
        .map(|r| {
            let answer = &answers[&(r[0].clone(), r[1].clone())];
            let text = if r[4].is_empty() {
                answer.clone()
            } else {
                code_points(answer, r[4].parse().unwrap(), r[5].parse().unwrap())
            };
            vec![
                r[0].clone(),
                r[1].clone(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
                r[5].clone(),
                text,
                r[6].clone(),
            ]
        })
        .collect();
    let mut got: Vec<Vec<String>> = rows.iter().map(|r| r[..8].to_vec()).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    assert!(
        rows.iter().any(|r| !r[4].is_empty()),
        "segments are in the demo"
    );
    assert!(rows.iter().any(|r| r[7].contains('\n')), "memos keep lines");
    assert!(rows.iter().all(|r| r[8].ends_with('Z')), "UTC timestamps");
    // Survey order: respondents appear in the order of the survey file.
    let order: HashMap<&str, usize> = survey_rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r[0].as_str(), i))
        .collect();
    assert!(
        rows.windows(2)
            .all(|w| order[w[0][0].as_str()] <= order[w[1][0].as_str()])
    );
    let only_ben = s.stdout(&[
        "export", "dataset", "--format", "csv-long", "--coder", "ben",
    ]);
    let (_, ben_rows) = read_csv(&only_ben);
    assert!(!ben_rows.is_empty() && ben_rows.iter().all(|r| r[2] == "ben"));
    let one_question = s.stdout(&[
        "export",
        "dataset",
        "--format",
        "csv-long",
        "--question",
        "consequence_therapist",
    ]);
    let (_, q_rows) = read_csv(&one_question);
    assert!(!q_rows.is_empty() && q_rows.iter().all(|r| r[1] == "consequence_therapist"));
}

#[test]
fn the_json_file_has_each_respondent_with_answers_codings_by_coder_and_memos() {
    let s = demo();
    let doc = s.json(&["export", "dataset", "--format", "json"]);
    let respondents = doc["respondents"].as_array().unwrap();
    let (_, survey_rows) = fixture_csv("tcit_survey.csv");
    assert_eq!(respondents.len(), survey_rows.len());
    assert_eq!(respondents[0]["respondent"], "T0001");
    assert_eq!(respondents[0]["variables"]["age"], 47);
    assert_eq!(respondents[0]["variables"]["bf_agreeableness"], Value::Null);
    assert_eq!(
        respondents[0]["variables"]["orientation"],
        "eclectic-psychodynamic"
    );
    let decisions = fixture_decisions();
    let mut checked = 0;
    for r in respondents {
        let id = r["respondent"].as_str().unwrap();
        let answers = r["answers"].as_array().unwrap();
        assert_eq!(answers.len(), QUESTIONS.len());
        for (a, q) in answers.iter().zip(QUESTIONS) {
            assert_eq!(a["question"], q);
            for coder in ["ana", "ben"] {
                let key = (id.to_string(), q.to_string(), coder.to_string());
                let got: Option<BTreeSet<String>> = a["codings"].get(coder).map(|list| {
                    list.as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c["code"].as_str().unwrap().to_string())
                        .collect()
                });
                assert_eq!(got.as_ref(), decisions.get(&key), "{id} {q} {coder}");
                checked += got.is_some() as usize;
            }
        }
    }
    assert_eq!(checked, decisions.len());
    // The memo written on a coding travels with it.
    let t6 = respondents
        .iter()
        .find(|r| r["respondent"] == "T0006")
        .unwrap();
    let ben = &t6["answers"][0]["codings"]["ben"];
    assert!(
        ben.as_array()
            .unwrap()
            .iter()
            .any(|c| c["memo"] == "Strong example, use it in the report."),
        "{ben}"
    );
    let codes = doc["codes"].as_array().unwrap();
    assert_eq!(codes.len(), 19);
    // One coder only.
    let ana = s.json(&["export", "dataset", "--format", "json", "--coder", "ana"]);
    assert_eq!(ana["coder"], "ana");
    for r in ana["respondents"].as_array().unwrap() {
        for a in r["answers"].as_array().unwrap() {
            assert!(a["codings"].get("ben").is_none());
        }
    }
}

#[test]
fn excluded_variables_and_the_id_column_are_left_out_of_every_format() {
    let s = demo();
    let wide = s.stdout(&[
        "export",
        "dataset",
        "--coder",
        "ana",
        "--exclude-vars",
        "age,sex",
        "--exclude-vars",
        "resp_id",
    ]);
    let (header, rows) = read_csv(&wide);
    assert_eq!(header[0], "respondent_number");
    assert!(!header.contains(&"age".to_string()) && !header.contains(&"sex".to_string()));
    assert!(header.contains(&"orientation".to_string()));
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (i + 1).to_string(), "numbers in survey order");
    }
    assert!(!wide.contains("T0001"), "no ID left in the wide file");
    let long = s.stdout(&[
        "export",
        "dataset",
        "--format",
        "csv-long",
        "--exclude-vars",
        "resp_id",
    ]);
    assert!(!long.contains("T00"), "no ID left in the long file");
    let (_, long_rows) = read_csv(&long);
    assert_eq!(long_rows[0][0], "1");
    let json = s.stdout(&[
        "export",
        "dataset",
        "--format",
        "json",
        "--exclude-vars",
        "resp_id,age",
    ]);
    assert!(!json.contains("T00"), "no ID left in the JSON");
    let doc: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["respondents"][0]["respondent"], 1);
    assert!(doc["respondents"][0]["variables"].get("age").is_none());
    assert!(doc["respondents"][0]["variables"].get("sex").is_some());

    // A misspelt name must not let an identifying column slip out: nothing is written.
    let err = s.fails(&[
        "export",
        "dataset",
        "--coder",
        "ana",
        "--exclude-vars",
        "Age",
        "--out",
        "x.csv",
    ]);
    assert!(err.contains("no variable called \"Age\""), "{err}");
    assert!(
        err.contains("\"resp_id\"") && err.contains("\"age\""),
        "{err}"
    );
    assert!(!s.path("x.csv").exists());
    let err = s.fails(&["export", "dataset", "--exclude-vars", "consequence_client"]);
    assert!(err.contains("open-ended question"), "{err}");
}

#[test]
fn the_wide_file_needs_one_coder_and_unknown_coders_or_questions_are_refused() {
    let s = demo();
    let err = s.fails(&["export", "dataset", "--out", "w.csv"]);
    assert!(
        err.contains("ana") && err.contains("ben") && err.contains("--coder"),
        "{err}"
    );
    assert!(!s.path("w.csv").exists());
    let err = s.fails(&["export", "dataset", "--coder", "zoe"]);
    assert!(err.contains("the coders are: ana, ben"), "{err}");
    let err = s.fails(&["export", "dataset", "--format", "json", "--coder", "zoe"]);
    assert!(err.contains("no coder called \"zoe\""), "{err}");
    let err = s.fails(&["export", "dataset", "--coder", "ana", "--question", "q9"]);
    assert!(err.contains("no question called \"q9\""), "{err}");
    // One question: only its code columns.
    let (header, _) = read_csv(&s.stdout(&[
        "export",
        "dataset",
        "--coder",
        "ana",
        "--question",
        "consequence_client",
    ]));
    assert!(
        header
            .iter()
            .any(|h| h == "consequence_client_felt_cared_for")
    );
    assert!(
        !header
            .iter()
            .any(|h| h.starts_with("consequence_therapist_"))
    );
}

#[test]
fn code_columns_that_clash_get_numbered_and_codes_without_letters_get_their_id() {
    let s = Scratch::new();
    s.write(
        "survey.csv",
        "id,q_a_b,q,tone\nR1,x,We grew closer,warm\nR2,y,Nothing,sad\n",
    );
    s.import_survey("survey.csv", &["--open", "q"]);
    // "A B" and "a-b" have the same slug; "q_a_b" is already a variable; "泣く" has no slug.
    s.write("codebook.csv", "name\nA B\na-b!\n泣く\n");
    s.import_codebook("codebook.csv");
    s.add_codings("codings.csv", "R1,q,ana,泣く,,,\n");
    let (header, rows) = read_csv(&s.stdout(&["export", "dataset"]));
    assert_eq!(
        header,
        ["id", "q_a_b", "tone", "q_a_b_2", "q_a_b_3", "q_code3"]
    );
    assert_eq!(rows[0], ["R1", "x", "warm", "0", "0", "1"]);
    assert_eq!(rows[1], ["R2", "y", "sad", "", "", ""]);
}

#[test]
fn a_closed_pipe_ends_the_export_quietly() {
    let s = demo();
    for format in ["csv-wide", "json"] {
        // The reader is gone (like `| head -1`); the output is far larger than a pipe's buffer.
        let (first, out) =
            s.first_line_then_close(&["export", "dataset", "--coder", "ana", "--format", format]);
        assert!(!first.is_empty());
        assert!(out.status.success(), "{format}: {:?}", out.status);
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{format}");
    }
}

/// A survey column for the property test: a header and one value per respondent.
fn column() -> impl Strategy<Value = Vec<String>> {
    let value = prop_oneof![
        (-100_000i64..100_000).prop_map(|i| i.to_string()),
        (-10_000i32..10_000).prop_map(|i| format!("{}.{:02}", i / 100, (i % 100).abs())),
        prop::sample::select(vec!["CBT", "psychodynamic", "humanistic", "Ja", "nein"])
            .prop_map(String::from),
        "[a-zA-Z0-9 ,;\"'éü😢\n]{1,12}",
        prop::sample::select(vec!["2024-03-01", "2023-12-31", "1999-01-15"]).prop_map(String::from),
    ];
    prop::collection::vec(value, 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Import then csv-wide gives back the survey's variable columns: same names, same order,
    /// same values (numbers compared as numbers).
    #[test]
    fn a_survey_comes_back_from_import_and_the_wide_export(
        names in prop::collection::btree_set("[a-z][a-z0-9_ ]{0,8}[a-z0-9]", 1..6),
        columns in prop::collection::vec(column(), 6),
        rows in 1usize..6,
    ) {
        let names: Vec<String> = names
            .into_iter()
            .filter(|n| n != "id" && n != "answer")
            .collect();
        prop_assume!(!names.is_empty());
        let values: Vec<Vec<String>> = names
            .iter()
            .zip(&columns)
            .map(|(_, col)| (0..rows).map(|r| col[r % col.len()].clone()).collect())
            .filter(|col: &Vec<String>| col.iter().all(|v| !is_missing(v)))
            .collect();
        prop_assume!(values.len() == names.len());
        let s = Scratch::new();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["id".to_string()];
        header.extend(names.iter().cloned());
        header.push("answer".into());
        w.write_record(&header).unwrap();
        for r in 0..rows {
            let mut rec = vec![format!("R{r}")];
            rec.extend(values.iter().map(|col| col[r].clone()));
            rec.push(format!("answer {r}"));
            w.write_record(&rec).unwrap();
        }
        s.write("survey.csv", w.into_inner().unwrap());
        s.import_survey("survey.csv", &["--open", "answer"]);
        s.add_codings("codings.csv", "R0,answer,ana,,,,\n");
        let (got_header, got_rows) = read_csv(&s.stdout(&["export", "dataset"]));
        prop_assert_eq!(&got_header, &header[..header.len() - 1].to_vec());
        prop_assert_eq!(got_rows.len(), rows);
        for (r, row) in got_rows.iter().enumerate() {
            prop_assert_eq!(&row[0], &format!("R{r}"));
            for (k, col) in values.iter().enumerate() {
                prop_assert!(
                    same_value(&row[1 + k], &col[r]),
                    "{}: exported {:?}, file {:?}", names[k], row[1 + k], col[r]
                );
            }
        }
    }
}

#[test]
fn a_later_wave_that_adds_a_question_keeps_every_respondent_in_survey_order() {
    let s = Scratch::new();
    s.write("w1.csv", "id,age,q1\nR1,30,We grew closer\nR2,40,Nothing\n");
    s.write("w2.csv", "id,age,q1,q2\nR3,50,She cried too,I felt human\n");
    s.import_survey("w1.csv", &["--open", "q1"]);
    s.import_survey("w2.csv", &["--open", "q1,q2"]);
    s.write("codebook.csv", "name\nCloser\nHuman\n");
    s.import_codebook("codebook.csv");
    // R1's answer to q2 was stored (empty) after R2's answers, when wave 2 added the question.
    s.add_codings(
        "codings.csv",
        "R1,q1,ana,Closer,,,\nR1,q2,ana,Human,,,\nR3,q2,ana,Human,,,\nR3,q1,ana,,,,\n",
    );
    let (header, rows) = read_csv(&s.stdout(&["export", "dataset"]));
    assert_eq!(
        header,
        [
            "id",
            "age",
            "q1_closer",
            "q1_human",
            "q2_closer",
            "q2_human"
        ]
    );
    assert_eq!(rows[0], ["R1", "30", "1", "0", "0", "1"]);
    assert_eq!(rows[1], ["R2", "40", "", "", "", ""]);
    assert_eq!(rows[2], ["R3", "50", "0", "0", "0", "1"]);
    let f = s.json(&["analyze", "--format", "json"]);
    assert_eq!(f["respondents_rated"], 2);
    assert_eq!(f["codes"][1]["code"], "Human");
    assert_eq!(f["codes"][1]["respondents"], 2);
    assert_eq!(f["codes"][1]["by_question"][1]["answers"], 2);
    let (_, long) = read_csv(&s.stdout(&["export", "dataset", "--format", "csv-long"]));
    let order: Vec<(&str, &str)> = long
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(order, [("R1", "q1"), ("R1", "q2"), ("R3", "q2")]);
}

#[test]
fn before_anyone_codes_the_wide_file_has_the_survey_and_empty_code_columns() {
    let s = Scratch::new();
    s.write(
        "survey.csv",
        "id,age,q\nR1,30,We grew closer\nR2,40,Nothing\n",
    );
    s.import_survey("survey.csv", &["--open", "q"]);
    s.write("codebook.csv", "name\nCloser\n");
    s.import_codebook("codebook.csv");
    let (out, err) = s.outputs(&["export", "dataset"]);
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["id", "age", "q_closer"]);
    assert_eq!(rows, [["R1", "30", ""], ["R2", "40", ""]]);
    assert!(err.contains("nobody has coded an answer yet"), "{err}");
}
