//! Codings files big enough for agreement are imported in batches: every row still counts once,
//! a new memo in a second file still replaces the old one, and an empty code beside real codes
//! still warns. (The import behaviour itself is specified in codebook_and_codings.rs.)

mod common;
use common::*;

/// A survey of `n` respondents with one open answer each, and the small codebook's codes.
fn project(n: usize) -> Scratch {
    let survey = answers_csv((0..n).map(|i| {
        (
            format!("R{i}"),
            format!("Answer number {i} about the session"),
        )
    }));
    one_question_project(&survey, SMALL_CODEBOOK, None)
}

#[test]
fn hundreds_of_codings_are_counted_and_stored_once_each() {
    let s = project(300);
    let mut file = String::from(CODINGS_HEADER);
    for i in 0..300 {
        file.push_str(&format!("R{i},answer,ana,Deepened,,,\n"));
        file.push_str(&format!("R{i},answer,ana,Felt cared for,0,6,\n"));
        if i % 3 == 0 {
            file.push_str(&format!("R{i},answer,ben,,,,\n"));
        } else {
            file.push_str(&format!("R{i},answer,ben,deepened,,,note {i}\n"));
        }
    }
    s.write("codings.csv", &file);
    let out = s.stdout(&["codings", "import", "codings.csv"]);
    assert!(
        out.contains("codings: 800 added, 0 already present; 600 answers newly marked reviewed"),
        "{out}"
    );
    let n: i64 = query_one(&s.project(), "SELECT count(*) FROM codings");
    assert_eq!(n, 800);
    let memo: String = query_one(
        &s.project(),
        "SELECT memo FROM codings k JOIN responses s ON s.id = k.response_id
         JOIN respondents r ON r.id = s.respondent_id WHERE r.ext_id = 'R7'
         AND k.coder_id = (SELECT id FROM coders WHERE name = 'ben')",
    );
    assert_eq!(memo, "note 7");
    // The same file again changes nothing.
    let before = dump(&s.project());
    let out = s.stdout(&["codings", "import", "codings.csv"]);
    assert!(
        out.contains("0 added, 800 already present; 0 answers"),
        "{out}"
    );
    assert_eq!(without_events(&dump(&s.project())), without_events(&before));
}

#[test]
fn a_second_file_updates_memos_and_an_empty_code_beside_codes_warns() {
    let s = project(3);
    s.add_codings(
        "first.csv",
        "R0,answer,ana,Deepened,,,old\nR1,answer,ana,Deepened,,,keep\n",
    );
    s.write(
        "second.csv",
        codings_csv("R0,answer,ana,Deepened,,,new\nR1,answer,ana,Deepened,,,\nR1,answer,ana,,,,\n"),
    );
    let (stdout, stderr) = s.outputs(&["codings", "import", "second.csv"]);
    assert!(
        stdout.contains(
            "0 added, 2 already present; 0 answers newly marked reviewed; 1 memos updated"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("second.csv:4: an empty code for an answer this coder also coded"),
        "{stderr}"
    );
    let memos: String = query_one(
        &s.project(),
        "SELECT group_concat(memo, ',') FROM (SELECT memo FROM codings ORDER BY response_id)",
    );
    assert_eq!(memos, "new,keep", "an empty memo keeps the old one");
}
