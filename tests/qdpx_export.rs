//! A research team hands its project to a colleague who works in MAXQDA, ATLAS.ti, NVivo or
//! QualCoder: `lacrima export qdpx` writes a REFI-QDA project that validates against the
//! standard's schema, with every answer a text source, every respondent a case with typed
//! variables, every coding a selection on the right characters, and the codebook with its
//! hierarchy, colours and definitions. `codebook export --format qdc` writes the codebook alone.

mod common;

use common::qda::{attrs, entry, entry_names, validate};
use common::{Scratch, demo, dump, import_one_question_project};

#[test]
fn the_demo_project_exports_as_a_valid_refi_qda_project() {
    let s = demo();
    let out = s.stdout(&["export", "qdpx", "--out", "demo.qdpx"]);
    assert!(
        out.contains("684 respondents, 2052 answers, 416 codings by 2 coders, 19 codes"),
        "{out}"
    );
    let qdpx = s.path("demo.qdpx");
    #[cfg(unix)]
    assert_eq!(common::mode(&qdpx), 0o600);
    let qde = entry(&qdpx, "project.qde");
    validate(&s, &qde);
    let xml = String::from_utf8(qde).unwrap();
    assert_eq!(attrs(&xml, "User", "name"), ["ana", "ben"]);
    assert_eq!(attrs(&xml, "Case", "name").len(), 684);
    assert_eq!(attrs(&xml, "TextSource", "name").len(), 2052);
    assert_eq!(attrs(&xml, "PlainTextSelection", "guid").len(), 416);
    // Every source's text is in the ZIP, under the name its plainTextPath gives.
    let names = entry_names(&qdpx);
    for path in attrs(&xml, "TextSource", "plainTextPath") {
        let file = path.strip_prefix("internal://").unwrap();
        assert!(names.contains(&format!("sources/{file}")), "{file}");
    }
    // Grouping codes are not codable; their children nest inside them.
    let codes = attrs(&xml, "Code", "name");
    let codable = attrs(&xml, "Code", "isCodable");
    let i = codes.iter().position(|c| c == "relationship").unwrap();
    assert_eq!(codable[i], "false");
    assert_eq!(codes[i + 1], "rapport-deepened");
    // The sets that carry lacrima's questions and review marks.
    let sets = attrs(&xml, "Set", "name");
    assert!(sets.contains(&"question: consequence_client".to_string()));
    assert!(sets.contains(&"reviewed by ana".to_string()));
    let extras: serde_json::Value = serde_json::from_slice(&entry(&qdpx, "lacrima.json")).unwrap();
    assert_eq!(extras["questions"].as_array().unwrap().len(), 3);
}

#[test]
fn selections_count_code_points_and_whole_answers_span_the_text() {
    let s = Scratch::new();
    s.write(
        "survey.csv",
        "id,age,answer\nP1,40,😢 we cried — e\u{301}motion 我们 שלום\nP2,51,Nothing\n",
    );
    s.write(
        "codebook.csv",
        "name,parent,description,inclusion,exclusion,example,color,shortcut\nTears,,,,,,#1f77b4,1\n",
    );
    // "cried" is code points 5..10 ("😢" is one code point, two UTF-16 units, four bytes).
    s.write(
        "codings.csv",
        "respondent,question,coder,code,start,end,memo\n\
         P1,answer,ana,Tears,5,10,a memo with \u{b} a control character\n\
         P2,answer,ana,Tears,,,\n",
    );
    import_one_question_project(&s);
    let (_, warning) = s.outputs(&["export", "qdpx", "--out", "p.qdpx"]);
    assert!(
        warning.contains("1 characters that XML cannot hold"),
        "{warning}"
    );
    let qdpx = s.path("p.qdpx");
    let qde = entry(&qdpx, "project.qde");
    validate(&s, &qde);
    let xml = String::from_utf8(qde).unwrap();
    assert_eq!(
        attrs(&xml, "PlainTextSelection", "startPosition"),
        ["5", "0"]
    );
    assert_eq!(
        attrs(&xml, "PlainTextSelection", "endPosition"),
        ["10", "7"]
    );
    assert_eq!(
        attrs(&xml, "PlainTextSelection", "name"),
        ["cried", "Nothing"]
    );
    // The text file holds the answer exactly.
    let src = attrs(&xml, "TextSource", "plainTextPath")[0]
        .strip_prefix("internal://")
        .unwrap()
        .to_string();
    let text = String::from_utf8(entry(&qdpx, &format!("sources/{src}"))).unwrap();
    assert_eq!(text, "😢 we cried — e\u{301}motion 我们 שלום");
    let cried: String = text.chars().skip(5).take(5).collect();
    assert_eq!(cried, "cried");
    // Numbers keep their type.
    assert!(xml.contains("<IntegerValue>40</IntegerValue>"), "{xml}");
}

#[test]
fn two_exports_of_a_project_name_everything_with_the_same_guids() {
    let s = demo();
    s.stdout(&["export", "qdpx", "--out", "a.qdpx"]);
    s.stdout(&["export", "qdpx", "--out", "b.qdpx"]);
    let a = entry(&s.path("a.qdpx"), "project.qde");
    let b = entry(&s.path("b.qdpx"), "project.qde");
    assert!(a == b, "two exports of one project differ");
    // A copy of the project (a coder's laptop) names the same respondents the same way.
    s.stdout(&["backup", "copy.db"]);
    s.lacrima_here(&["-p", "copy.db", "export", "qdpx", "--out", "c.qdpx"])
        .assert()
        .success();
    let c = String::from_utf8(entry(&s.path("c.qdpx"), "project.qde")).unwrap();
    let a = String::from_utf8(a).unwrap();
    assert_eq!(attrs(&a, "Case", "guid"), attrs(&c, "Case", "guid"));
}

#[test]
fn the_codebook_exports_as_qdc_with_hierarchy_colours_and_definitions() {
    let s = demo();
    let qdc = s.stdout(&["codebook", "export", "--format", "qdc"]);
    assert!(
        qdc.contains("<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\""),
        "{qdc}"
    );
    let names = attrs(&qdc, "Code", "name");
    assert_eq!(names.len(), 19);
    assert!(
        attrs(&qdc, "Code", "color")
            .iter()
            .all(|c| c.starts_with('#'))
    );
    assert!(qdc.contains("Include: Closeness, trust"), "{qdc}");
    // The same codebook inside a project validates with the project schema.
    let project = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"x\">{}</Project>",
        &qdc[qdc.find("<CodeBook").unwrap()..]
            .replace(" xmlns=\"urn:QDA-XML:codebook:1.0\"", "")
            .replace(
                &format!(" origin=\"lacrima {}\"", env!("CARGO_PKG_VERSION")),
                ""
            )
            .trim()
    );
    validate(&s, project.as_bytes());
}

#[test]
fn an_export_onto_the_project_itself_is_refused() {
    let s = demo();
    let before = dump(&s.project());
    let err = s.fails(&["export", "qdpx", "--out", s.project().to_str().unwrap()]);
    assert!(err.contains("of the project"), "{err}");
    assert_eq!(dump(&s.project()), before);
}
