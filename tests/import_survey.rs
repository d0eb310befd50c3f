//! A researcher imports a survey: the columns become questions and typed variables, later waves
//! add respondents, and every kind of bad file is refused with a located message while the
//! project stays exactly as it was.

mod common;
use common::*;
use predicates::prelude::*;

#[test]
fn importing_a_survey_creates_a_private_project_with_questions_and_typed_variables() {
    let s = Scratch::new();
    s.write("survey.csv", SMALL_SURVEY);
    let out = s.stdout(&["import", "survey.csv", "--open", "answer_a,answer_b"]);
    assert!(out.contains("3 respondents added"), "{out}");
    #[cfg(unix)]
    assert_eq!(mode(&s.project()), 0o600);
    let info = s.json(&["info", "--format", "json"]);
    assert_eq!(info["respondents"], 3);
    let q = &info["questions"];
    assert_eq!(q[0]["name"], "answer_a");
    assert_eq!(q[0]["answered"], 2, "N/A is an empty answer");
    assert_eq!(
        q[1]["answered"], 2,
        "'-' is empty, 'Nothing noticeable' is an answer"
    );
    let kinds: Vec<(String, String)> = info["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().into(),
                v["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("age".into(), "numeric".into()),
            ("sex".into(), "categorical".into()),
            ("orientation".into(), "categorical".into())
        ]
    );
    assert_eq!(
        info["variables"][2]["levels"],
        serde_json::json!(["CBT", "psychodynamic"])
    );
    // Answers are stored exactly, with CR LF as LF, empty ones too.
    let text: String = query_one(
        &s.project(),
        "SELECT text FROM responses s JOIN respondents r ON r.id = s.respondent_id
         WHERE r.ext_id = 'R3' AND s.question_id = 1",
    );
    assert_eq!(text, "Client said \"thank you\"\nand cried too 😢");
    let stored: i64 = query_one(&s.project(), "SELECT count(*) FROM responses");
    assert_eq!(stored, 6);
}

#[test]
fn the_import_summary_is_available_as_json() {
    let s = Scratch::new();
    s.write("survey.csv", SMALL_SURVEY);
    let v = s.json(&[
        "import",
        "survey.csv",
        "--open",
        "answer_a,answer_b",
        "--format",
        "json",
    ]);
    assert_eq!(v["respondents_added"], 3);
    assert_eq!(v["questions"][0]["empty"], 1);
    assert_eq!(v["variables"][0]["missing"], 1, "NA is a missing age");
}

#[test]
fn overrides_and_level_orders_are_respected() {
    let s = Scratch::new();
    s.write(
        "s.csv",
        "id,code,tone,when,ans\n1,01,warm,2024-01-01,aaa\n2,02,sad,2024-01-02,bbb\n3,-99,tense,,ccc\n",
    );
    s.import_survey(
        "s.csv",
        &[
            "--open",
            "ans",
            "--categorical",
            "code",
            "--levels",
            "tone=sad,warm,tense",
            "--missing",
            "-99",
        ],
    );
    let info = s.json(&["info", "--format", "json"]);
    let vars = info["variables"].as_array().unwrap();
    assert_eq!(vars[0]["kind"], "categorical");
    assert_eq!(
        vars[0]["levels"],
        serde_json::json!(["01", "02"]),
        "-99 is missing; 01 keeps its zero"
    );
    assert_eq!(
        vars[1]["levels"],
        serde_json::json!(["sad", "warm", "tense"])
    );
    assert_eq!(vars[2]["kind"], "date");
}

#[test]
fn without_open_the_error_suggests_the_open_ended_columns() {
    let s = Scratch::new();
    let mut csv = String::from("id,group,comment\n");
    for i in 0..30 {
        csv.push_str(&format!(
            "{i},g{},\"A long and unique free-text answer number {i}\"\n",
            i % 2
        ));
    }
    s.write("s.csv", csv);
    let err = s.fails(&["import", "s.csv"]);
    assert!(
        err.contains("--open") && err.contains("\"comment\""),
        "{err}"
    );
    assert!(
        !s.project().exists(),
        "a failed first import creates no project"
    );
}

#[test]
fn without_id_a_conventional_column_is_used_or_the_candidates_are_listed() {
    let s = Scratch::new();
    s.write("a.csv", "ResponseId,ans\nR_1,hello there\nR_2,more text\n");
    s.import_survey("a.csv", &["--open", "ans"]);
    let s = Scratch::new();
    s.write("b.csv", "person,ans\nP1,hello there\nP2,more text\n");
    let err = s.fails(&["import", "b.csv", "--open", "ans"]);
    assert!(err.contains("--id") && err.contains("\"person\""), "{err}");
}

#[test]
fn a_later_wave_adds_new_respondents_skips_identical_ones_and_adds_new_columns() {
    let s = Scratch::new();
    s.write(
        "w1.csv",
        "id,age,ans\n1,30,first answer\n2,40,second answer\n",
    );
    s.import_survey("w1.csv", &["--open", "ans"]);
    s.write(
        "w2.csv",
        "id,age,ans,ans2,site\n2,40,second answer,,\n3,50,third answer,extra,Berlin\n",
    );
    let out = s.stdout(&["import", "w2.csv", "--open", "ans,ans2"]);
    assert!(out.contains("1 respondents added, 1 skipped"), "{out}");
    assert_eq!(
        query_one::<i64>(&s.project(), "SELECT count(*) FROM respondents"),
        3
    );
    // New question: earlier respondents have an (empty) answer to it.
    assert_eq!(
        query_one::<i64>(
            &s.project(),
            "SELECT count(*) FROM responses s JOIN questions q ON q.id = s.question_id WHERE q.name = 'ans2'"
        ),
        3
    );
    // New variable: missing for earlier respondents.
    let col: String = query_one(
        &s.project(),
        "SELECT column_name FROM variables WHERE name = 'site'",
    );
    let missing: i64 = query_one(
        &s.project(),
        &format!("SELECT count(*) FROM variable_values WHERE \"{col}\" IS NULL"),
    );
    assert_eq!(missing, 2);
}

#[test]
fn a_later_wave_with_changed_values_is_refused_and_lists_them() {
    let s = Scratch::new();
    s.write(
        "w1.csv",
        "id,age,ans\n1,30,first answer\n2,40,second answer\n",
    );
    s.import_survey("w1.csv", &["--open", "ans"]);
    let before = dump(&s.project());
    s.write("w2.csv", "id,age,ans\n2,41,second answer\n9,20,new\n");
    let err = s.fails(&["import", "w2.csv", "--open", "ans"]);
    assert!(
        err.contains("line 2") && err.contains("\"2\"") && err.contains("age"),
        "{err}"
    );
    assert_eq!(
        dump(&s.project()),
        before,
        "nothing existing is overwritten, nothing added"
    );
}

#[test]
fn a_later_wave_must_name_the_existing_questions() {
    let s = Scratch::new();
    s.write("w1.csv", "id,ans\n1,first answer\n");
    s.import_survey("w1.csv", &["--open", "ans"]);
    let before = dump(&s.project());
    s.write("w2.csv", "id,ans,other\n2,second,x\n");
    let err = s.fails(&["import", "w2.csv", "--open", "other"]);
    assert!(
        err.contains("\"ans\" is a question") && err.contains("--open"),
        "{err}"
    );
    assert_eq!(dump(&s.project()), before);
}

#[test]
fn xlsx_sheets_are_read_with_typed_cells() {
    let s = Scratch::new();
    let xlsx = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/survey.xlsx");
    s.import_survey(xlsx, &["--open", "answer"]);
    let info = s.json(&["info", "--format", "json"]);
    assert_eq!(info["respondents"], 3);
    let ext: String = query_one(
        &s.project(),
        "SELECT ext_id FROM respondents ORDER BY id LIMIT 1",
    );
    assert_eq!(ext, "1001", "a numeric ID cell keeps no .0");
    let kinds: Vec<&str> = info["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["numeric", "date", "categorical"]);
    let err = Scratch::new().fails(&["import", xlsx, "--sheet", "Answers", "--open", "answer"]);
    assert!(
        err.contains("no sheet \"Answers\"") && err.contains("Responses, Notes"),
        "{err}"
    );
}

#[test]
fn a_qualtrics_utf16_export_is_recognised_and_keeps_question_texts() {
    let s = Scratch::new();
    let text = "ResponseId\tQ1\tQ2\r\n\
                Response ID\tHow old are you?\tWhat did your crying lead to?\r\n\
                {\"ImportId\":\"_recordId\"}\t{\"ImportId\":\"QID1\"}\t{\"ImportId\":\"QID2_TEXT\"}\r\n\
                R_1\t34\tWe became closer.\r\n\
                R_2\t45\tShe comforted me, which felt odd.\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    s.write("qualtrics.tsv", bytes);
    let v = s.json(&[
        "import",
        "qualtrics.tsv",
        "--open",
        "Q2",
        "--format",
        "json",
    ]);
    assert_eq!(v["qualtrics"], true);
    assert_eq!(v["respondents_added"], 2);
    assert_eq!(v["questions"][0]["label"], "What did your crying lead to?");
    let label: String = query_one(
        &s.project(),
        "SELECT label FROM variables WHERE name = 'Q1'",
    );
    assert_eq!(label, "How old are you?");
}

#[test]
fn windows_1252_files_need_and_accept_an_encoding() {
    let s = Scratch::new();
    // "José" and "Müller" in Windows-1252.
    let mut bytes = b"id,ans\n1,Jos".to_vec();
    bytes.push(0xE9);
    bytes.extend_from_slice(b" felt better\n2,M");
    bytes.push(0xFC);
    bytes.extend_from_slice(b"ller was fine\n");
    s.write("latin.csv", &bytes);
    let err = s.fails(&["import", "latin.csv", "--open", "ans"]);
    assert!(
        err.contains("latin.csv:2")
            && err.contains("column 2")
            && err.contains("--encoding windows-1252"),
        "{err}"
    );
    assert!(!s.project().exists());
    s.import_survey(
        "latin.csv",
        &["--open", "ans", "--encoding", "windows-1252"],
    );
    let text: String = query_one(
        &s.project(),
        "SELECT text FROM responses ORDER BY id LIMIT 1",
    );
    assert_eq!(text, "José felt better");
}

#[test]
fn hostile_column_names_are_data() {
    let s = Scratch::new();
    s.write(
        "h.csv",
        "id,\"Robert\"\"); DROP TABLE respondents;--\",select,\"a;b\",answer\n1,x,1,2,some text\n2,y,3,4,more text\n",
    );
    s.import_survey("h.csv", &["--open", "answer"]);
    let info = s.stdout(&["info"]);
    assert!(
        info.contains("Robert\"); DROP TABLE respondents;--"),
        "{info}"
    );
    assert!(info.contains("select") && info.contains("a;b"));
    assert_eq!(
        query_one::<i64>(&s.project(), "SELECT count(*) FROM respondents"),
        2
    );
}

#[test]
fn an_answer_of_a_megabyte_is_stored_whole() {
    let s = Scratch::new();
    let long = "tears ".repeat(180_000);
    s.write("big.csv", format!("id,ans\n1,\"{long}\"\n2,short\n"));
    s.import_survey("big.csv", &["--open", "ans"]);
    let n: i64 = query_one(&s.project(), "SELECT max(length(text)) FROM responses");
    assert_eq!(n as usize, long.len());
}

/// Each bad file: the error names the place, and an existing project is unchanged.
fn refused(file: &str, content: &[u8], args: &[&str], expect: &[&str]) {
    let s = small_project();
    s.write(file, content);
    let mut all = vec!["import", file];
    all.extend_from_slice(args);
    s.refuses(&all, expect);
}

#[test]
fn an_unclosed_quote_is_refused() {
    refused(
        "q.csv",
        b"resp_id,answer_a\nR7,\"never closed\nR8,fine\n",
        &["--open", "answer_a"],
        &["q.csv:2", "never closed"],
    );
}

#[test]
fn a_ragged_row_is_refused() {
    refused(
        "r.csv",
        b"resp_id,age,answer_a\nR7,30,ok\nR8,31\n",
        &["--open", "answer_a"],
        &["r.csv:3", "2 fields", "header has 3"],
    );
}

#[test]
fn duplicate_ids_in_the_file_are_refused() {
    refused(
        "d.csv",
        b"resp_id,answer_a\nR7,one\nR8,two\nR7,three\n",
        &["--open", "answer_a"],
        &["d.csv:4", "\"R7\"", "first at line 2"],
    );
}

#[test]
fn an_empty_id_is_refused() {
    refused(
        "e.csv",
        b"resp_id,answer_a\nR7,one\n ,two\n",
        &["--open", "answer_a"],
        &["e.csv:3", "empty"],
    );
}

#[test]
fn unknown_id_and_open_columns_are_refused_with_the_columns_listed() {
    refused(
        "u.csv",
        b"resp_id,answer_a\nR7,one\n",
        &["--id", "ID", "--open", "answer_a"],
        &["no column \"ID\"", "\"resp_id\""],
    );
    refused(
        "u.csv",
        b"resp_id,answer_a\nR7,one\n",
        &["--open", "answer_c"],
        &["no column \"answer_c\"", "\"answer_a\""],
    );
}

#[test]
fn headers_differing_only_in_case_are_refused() {
    refused(
        "c.csv",
        b"resp_id,Age,age,answer_a\nR7,1,2,one\n",
        &["--open", "answer_a"],
        &["c.csv:1", "\"Age\"", "\"age\""],
    );
}

#[test]
fn empty_files_and_header_only_files_are_refused() {
    refused(
        "empty.csv",
        b"",
        &["--open", "answer_a"],
        &["empty.csv is empty"],
    );
    refused(
        "header.csv",
        b"resp_id,answer_a\n",
        &["--open", "answer_a"],
        &["no data rows"],
    );
}

#[test]
fn a_file_that_is_not_a_spreadsheet_is_refused() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    refused(
        "picture.csv",
        png,
        &["--open", "answer_a"],
        &["binary data"],
    );
    refused(
        "fake.xlsx",
        b"PK\x03\x04 this is not really a zip",
        &["--open", "answer_a"],
        &["cannot be read as a spreadsheet"],
    );
}

#[test]
fn a_number_column_forced_numeric_with_words_is_refused_at_its_line() {
    refused(
        "n.csv",
        b"resp_id,score,answer_a\nR7,1,a\nR8,many,b\n",
        &["--open", "answer_a", "--numeric", "score"],
        &["n.csv:3", "\"many\"", "--missing"],
    );
}

#[test]
fn importing_into_something_that_is_not_a_project_leaves_it_alone() {
    let s = Scratch::new();
    std::fs::write(s.project(), "my thesis notes").unwrap();
    s.write("survey.csv", SMALL_SURVEY);
    let err = s.fails(&["import", "survey.csv", "--open", "answer_a"]);
    assert!(err.contains("not a lacrima project"), "{err}");
    assert_eq!(
        std::fs::read_to_string(s.project()).unwrap(),
        "my thesis notes"
    );
    // Another program's SQLite database is refused before SQLite writes to it.
    let other = s.path("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    let bytes = std::fs::read(&other).unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("lacrima").unwrap();
    cmd.args(["-p", other.to_str().unwrap(), "info"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("another program"));
    assert_eq!(std::fs::read(&other).unwrap(), bytes);
    assert!(!s.path("other.db-wal").exists());
}

#[test]
fn a_duplicate_id_deep_in_a_large_file_is_found_with_both_lines() {
    // Large imports into an empty project write respondents in chunks; a repeated ID inside a
    // chunk must still be reported with both of its lines.
    let mut csv = String::from("resp_id,answer_a\n");
    for i in 0..200 {
        let id = if i == 150 { 77 } else { i };
        csv.push_str(&format!("P{id},answer number {i}\n"));
    }
    let s = Scratch::new();
    s.write("big.csv", csv);
    let err = s.fails(&["import", "big.csv", "--open", "answer_a"]);
    assert!(
        err.contains("big.csv:152") && err.contains("\"P77\"") && err.contains("first at line 79"),
        "{err}"
    );
    assert!(!s.project().exists());
}

#[test]
fn a_large_import_keeps_every_row_in_survey_order() {
    let mut csv = String::from("resp_id,score,answer_a\n");
    for i in 0..1000 {
        csv.push_str(&format!("P{i},{},\"answer {i}\r\nsecond line\"\n", i % 7));
    }
    let s = Scratch::new();
    s.write("big.csv", csv);
    s.import_survey("big.csv", &["--open", "answer_a"]);
    let conn = rusqlite::Connection::open(s.project()).unwrap();
    let mut st = conn
        .prepare("SELECT r.id, r.ext_id, s.text, v.v1 FROM respondents r JOIN responses s ON s.respondent_id = r.id JOIN variable_values v ON v.respondent_id = r.id ORDER BY r.id")
        .unwrap();
    let rows: Vec<(i64, String, String, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 1000);
    for (i, (id, ext, text, score)) in rows.iter().enumerate() {
        assert_eq!(*id, i as i64 + 1);
        assert_eq!(ext, &format!("P{i}"));
        assert_eq!(text, &format!("answer {i}\nsecond line"));
        assert_eq!(*score, (i % 7) as i64);
    }
}

#[test]
fn values_are_stored_as_numbers_or_exactly_as_written() {
    // score is numeric however it is written; mixed holds words too, so it is categorical and
    // every value, including the numbers, comes back exactly as written.
    let s = Scratch::new();
    s.write(
        "v.csv",
        "id,score,mixed,ans\n1,4.50,1,a\n2,007,3.25,b\n3, 12 ,don't know,c\n4,83.25,007,d\n",
    );
    s.import_survey("v.csv", &["--open", "ans"]);
    let conn = rusqlite::Connection::open(s.project()).unwrap();
    let typed = |col: &str| -> Vec<(String, String)> {
        let sql = format!(
            "SELECT typeof({col}), CAST({col} AS TEXT) FROM variable_values ORDER BY respondent_id"
        );
        conn.prepare(&sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let score = typed("v1");
    assert_eq!(
        score,
        vec![
            ("real".into(), "4.5".into()),
            ("integer".into(), "7".into()),
            ("integer".into(), "12".into()),
            ("real".into(), "83.25".into())
        ]
    );
    let mixed: Vec<(String, String)> = typed("v2");
    assert!(mixed.iter().all(|(t, _)| t == "text"), "{mixed:?}");
    let values: Vec<&str> = mixed.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, vec!["1", "3.25", "don't know", "007"]);
    let info = s.json(&["info", "--format", "json"]);
    assert_eq!(info["variables"][0]["kind"], "numeric");
    assert_eq!(info["variables"][1]["kind"], "categorical");
    assert_eq!(
        info["variables"][1]["levels"],
        serde_json::json!(["1", "3.25", "007", "don't know"])
    );
}

#[test]
fn a_later_wave_reads_an_existing_numeric_column_as_numbers() {
    let s = Scratch::new();
    s.write("w1.csv", "id,score,ans\n1,3,a\n");
    s.import_survey("w1.csv", &["--open", "ans"]);
    s.write("w2.csv", "id,score,ans\n2,4.50,b\n");
    s.import_survey("w2.csv", &["--open", "ans"]);
    let t: String = query_one(
        &s.project(),
        "SELECT typeof(v1) FROM variable_values WHERE respondent_id = 2",
    );
    assert_eq!(t, "real");
    s.write("w3.csv", "id,score,ans\n3,many,c\n");
    let err = s.fails(&["import", "w3.csv", "--open", "ans"]);
    assert!(
        err.contains("w3.csv:2")
            && err.contains("\"score\" is numeric")
            && err.contains("\"many\""),
        "{err}"
    );
}

#[test]
fn a_column_of_plain_numbers_and_words_keeps_its_numbers_as_text() {
    // Likert answers with a "don't know": categorical, with the digits exactly as written.
    let s = Scratch::new();
    let mut csv = String::from("id,likert,ans\n");
    for i in 0..100 {
        let v = if i % 10 == 9 {
            "don't know".to_string()
        } else {
            (i % 5 + 1).to_string()
        };
        csv.push_str(&format!("{i},{v},answer\n"));
    }
    s.write("l.csv", csv);
    s.import_survey("l.csv", &["--open", "ans"]);
    let kinds: i64 = query_one(
        &s.project(),
        "SELECT count(*) FROM variable_values WHERE typeof(v1) <> 'text'",
    );
    assert_eq!(kinds, 0);
    let info = s.json(&["info", "--format", "json"]);
    assert_eq!(
        info["variables"][0]["levels"],
        serde_json::json!(["1", "2", "3", "4", "5", "don't know"])
    );
}
