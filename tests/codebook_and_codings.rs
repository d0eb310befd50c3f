//! A team keeps its codebook and codings as files: import updates by name and never deletes,
//! exports give back what was imported, and every bad line is refused with nothing imported.

mod common;
use common::*;

#[test]
fn a_codebook_round_trips_through_csv_and_keeps_the_tree() {
    let s = small_project();
    let csv = s.stdout(&["codebook", "export"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "name,parent,description,inclusion,exclusion,example,color,shortcut,codable"
    );
    assert_eq!(
        lines[1], "Client,,Consequences for the client,,,,,,false",
        "a parent only groups"
    );
    assert!(
        lines[2].starts_with("Felt cared for,Client,"),
        "children follow their parent"
    );
    // Re-importing the export changes nothing.
    s.write("again.csv", &csv);
    let before = dump(&s.project());
    let out = s.stdout(&["codebook", "import", "again.csv"]);
    assert!(
        out.contains("0 codes added, 0 updated, 5 unchanged"),
        "{out}"
    );
    let after = dump(&s.project());
    assert_eq!(without_events(&after), without_events(&before));
    assert_eq!(
        s.stdout(&["export", "codebook"]),
        csv,
        "export codebook is codebook export"
    );
}

#[test]
fn a_codebook_update_changes_codes_by_name_and_a_parent_may_come_later() {
    let s = small_project();
    s.write(
        "update.csv",
        "name,parent,description\nfelt cared for,Client,Felt cared for (revised)\nBurdened,Client B,Client took care of the therapist\nClient B,,Second group\n",
    );
    let out = s.stdout(&["codebook", "import", "update.csv"]);
    assert!(out.contains("2 codes added, 1 updated"), "{out}");
    let json = s.json(&["codebook", "export", "--format", "json"]);
    let codes = json["codes"].as_array().unwrap();
    let cared = codes
        .iter()
        .find(|c| c["name"] == "Felt cared for")
        .unwrap();
    assert_eq!(cared["description"], "Felt cared for (revised)");
    assert_eq!(
        cared["shortcut"], "1",
        "columns absent from the file are kept"
    );
    let burdened = codes.iter().find(|c| c["name"] == "Burdened").unwrap();
    assert_eq!(burdened["parent"], "Client B");
    assert_eq!(burdened["level"], 1);
    assert_eq!(codes.len(), 7, "nothing deleted");
}

#[test]
fn the_codebook_exports_as_a_markdown_appendix() {
    let s = small_project();
    let md = s.stdout(&["codebook", "export", "--format", "md"]);
    assert!(md.starts_with("# Codebook\n"));
    assert!(md.contains("\n## Client\n"));
    assert!(md.contains("\n### Felt cared for [1]\n"));
    assert!(md.contains("**Definition:** The client felt cared for or understood"));
    assert!(md.contains("**Example:** I felt understood"));
}

fn codebook_refused(content: &str, expect: &[&str]) {
    let s = small_project();
    s.write("bad.csv", content);
    s.refuses(&["codebook", "import", "bad.csv"], expect);
}

#[test]
fn a_codebook_with_a_cycle_is_refused() {
    codebook_refused(
        "name,parent\nA,B\nB,A\n",
        &["bad.csv:2", "own ancestor", "A > B > A"],
    );
}

#[test]
fn a_codebook_with_a_duplicate_shortcut_is_refused() {
    codebook_refused(
        "name,shortcut\nNew one,1\n",
        &["bad.csv:2", "shortcut 1", "Felt cared for"],
    );
    codebook_refused("name,shortcut\nX,5\nY,5\n", &["bad.csv:3", "shortcut 5"]);
}

#[test]
fn a_codebook_with_a_bad_colour_or_unknown_parent_is_refused() {
    codebook_refused("name,color\nX,red\n", &["bad.csv:2", "#RRGGBB"]);
    codebook_refused("name,parent\nX,Nowhere\n", &["bad.csv:2", "\"Nowhere\""]);
    codebook_refused(
        "name,colour\nX,#000000\n",
        &["bad.csv:1", "unknown column \"colour\""],
    );
}

const CODINGS: &str = "\
respondent,question,coder,code,start,end,memo
R1,answer_a,ana,Felt cared for,4,20,\"memo, with \"\"quotes\"\"
and a line break\"
R1,answer_b,ana,Deepened,,,
R2,answer_b,ana,,,,
R1,answer_a,ben,felt cared for,,,
R3,answer_a,ben,Nothing noticeable,0,11,
";

#[test]
fn codings_round_trip_and_a_second_import_changes_nothing() {
    let s = small_project();
    s.write("codings.csv", CODINGS);
    let out = s.stdout(&["codings", "import", "codings.csv"]);
    assert!(
        out.contains("4 added") && out.contains("new coders: ana, ben"),
        "{out}"
    );
    let exported = s.stdout(&["codings", "export"]);
    let mut expected = csv_multiset(CODINGS);
    // Codes come back in the codebook's spelling.
    let lower: Vec<String> = ["R1", "answer_a", "ben", "felt cared for", "", "", ""]
        .map(String::from)
        .to_vec();
    expected.remove(&lower);
    expected.insert(
        ["R1", "answer_a", "ben", "Felt cared for", "", "", ""]
            .map(String::from)
            .to_vec(),
        1,
    );
    assert_eq!(csv_multiset(&exported), expected);
    let before = dump(&s.project());
    let out = s.stdout(&["codings", "import", "codings.csv"]);
    assert!(out.contains("0 added, 4 already present"), "{out}");
    assert_eq!(without_events(&dump(&s.project())), without_events(&before));
    // The reviewed-with-nothing mark is what tells "no code applies" from "not coded yet".
    let reviewed: i64 = query_one(&s.project(), "SELECT count(*) FROM reviews");
    assert_eq!(reviewed, 5, "five (answer, coder) pairs were coded");
    let only_ana = s.stdout(&["codings", "export", "--coder", "ana"]);
    assert_eq!(
        only_ana.lines().count(),
        1 + 3 + 1,
        "header, 3 rows, the memo's second line"
    );
}

#[test]
fn exact_duplicate_codings_collapse_with_a_warning() {
    let s = small_project();
    s.write(
        "dup.csv",
        codings_csv("R1,answer_b,ana,Deepened,,,\nR1,answer_b,ana,Deepened,,,\n"),
    );
    let (out, err) = s.outputs(&["codings", "import", "dup.csv"]);
    assert!(out.contains("1 added"));
    assert!(err.contains("dup.csv:3: duplicate of line 2"));
}

fn codings_refused(rows: &str, expect: &[&str]) {
    let s = small_project();
    s.write(
        "bad.csv",
        codings_csv(&format!("R1,answer_b,ana,Deepened,,,\n{rows}")),
    );
    let err = s.refuses(&["codings", "import", "bad.csv"], expect);
    assert!(
        err.contains("nothing was imported") || err.contains("bad.csv"),
        "{err}"
    );
}

#[test]
fn unknown_respondents_questions_and_codes_are_refused_with_the_line() {
    codings_refused(
        "R9,answer_a,ana,Deepened,,,\n",
        &["bad.csv:3", "unknown respondent \"R9\""],
    );
    codings_refused(
        "R1,answer_z,ana,Deepened,,,\n",
        &["bad.csv:3", "unknown question \"answer_z\"", "\"answer_a\""],
    );
    codings_refused(
        "R1,answer_a,ana,Joy,,,\n",
        &["bad.csv:3", "unknown code \"Joy\""],
    );
    codings_refused("R1,answer_a,ana,Client,,,\n", &["bad.csv:3", "only groups"]);
}

#[test]
fn offsets_outside_the_answer_or_reversed_are_refused() {
    codings_refused(
        "R1,answer_a,ana,Deepened,5,500,\n",
        &["bad.csv:3", "past the end", "29 characters"],
    );
    codings_refused(
        "R1,answer_a,ana,Deepened,7,7,\n",
        &["bad.csv:3", "less than end"],
    );
    codings_refused(
        "R1,answer_a,ana,Deepened,7,,\n",
        &["bad.csv:3", "both start and end"],
    );
    codings_refused(
        "R1,answer_a,ana,Deepened,-1,3,\n",
        &["bad.csv:3", "whole number"],
    );
}

#[test]
fn offsets_count_code_points_not_bytes() {
    let s = small_project();
    // R3's answer ends with an emoji: 39 code points, 42 bytes.
    s.add_codings("emoji.csv", "R3,answer_a,ana,Deepened,38,39,\n");
    s.write("past.csv", codings_csv("R3,answer_a,ana,Deepened,39,40,\n"));
    s.fails(&["codings", "import", "past.csv"]);
}
