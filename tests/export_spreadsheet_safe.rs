//! Respondents type the answers, so an answer can be a formula. Exports stay exact by default
//! (R, SPSS, Stata and pandas read them as text); `--spreadsheet-safe` makes every CSV export
//! safe to open in a spreadsheet, and says what it changed.

mod common;

use common::Scratch;

const SURVEY: &str = "\
resp_id,score,team,answer
R1,-3.5,=cmd|' /C calc'!A0,\"=HYPERLINK(\"\"http://example.invalid\"\",\"\"see\"\")\"
R2,4,@team,+1+1 was how it felt
R3,2,plain,-
R4,1,plain,\tleading tab
";

const CODEBOOK: &str = "\
name,parent,description,inclusion,exclusion,example,color,shortcut
Deepened,,=1+2 in the definition,,,@example,,1
";

const CODINGS: &str = "\
respondent,question,coder,code,start,end,memo
R1,answer,ana,Deepened,,,-2+3 memo
R2,answer,ana,Deepened,,,fine memo
R3,answer,ana,,,,
R4,answer,ana,,,,
";

fn project() -> Scratch {
    let s = Scratch::new();
    s.write("survey.csv", SURVEY);
    s.write("codebook.csv", CODEBOOK);
    s.write("codings.csv", CODINGS);
    s.import_survey(
        "survey.csv",
        &["--id", "resp_id", "--open", "answer", "--text", "team"],
    );
    s.import_codebook("codebook.csv");
    s.import_codings("codings.csv");
    s
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

fn column(rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = rows[0].iter().position(|h| h == name).unwrap();
    rows[1..].iter().map(|r| r[i].clone()).collect()
}

#[test]
fn exports_are_exact_unless_asked_to_be_spreadsheet_safe() {
    let s = project();
    let exact = csv_rows(&s.stdout(&["export", "dataset", "--coder", "ana"]));
    assert_eq!(column(&exact, "team")[0], "=cmd|' /C calc'!A0");
    assert_eq!(column(&exact, "score")[0], "-3.5");

    let (_, note) = s.outputs(&[
        "export",
        "dataset",
        "--coder",
        "ana",
        "--spreadsheet-safe",
        "--out",
        "coded.csv",
    ]);
    assert!(note.contains("2 cells of the dataset"), "{note}");
    let safe = csv_rows(&std::fs::read_to_string(s.path("coded.csv")).unwrap());
    assert_eq!(
        column(&safe, "team"),
        ["'=cmd|' /C calc'!A0", "'@team", "plain", "plain"]
    );
    // Numbers are values, not formulas.
    assert_eq!(column(&safe, "score")[0], "-3.5");
    let dict = csv_rows(&std::fs::read_to_string(s.path("coded.dictionary.csv")).unwrap());
    assert_eq!(dict[0].last().unwrap(), "spreadsheet_safe");
    let team = dict.iter().find(|r| r[0] == "team").unwrap();
    assert!(team.last().unwrap().starts_with("2 cells"), "{team:?}");
    let score = dict.iter().find(|r| r[0] == "score").unwrap();
    assert_eq!(score.last().unwrap(), "");
}

#[test]
fn the_long_export_the_codings_and_the_codebook_are_guarded_too() {
    let s = project();
    let long = csv_rows(&s.stdout(&["export", "dataset", "--format", "csv-long"]));
    assert!(column(&long, "text")[0].starts_with("=HYPERLINK"));
    let long = csv_rows(&s.stdout(&[
        "export",
        "dataset",
        "--format",
        "csv-long",
        "--spreadsheet-safe",
    ]));
    let texts = column(&long, "text");
    assert!(texts[0].starts_with("'=HYPERLINK"), "{texts:?}");
    assert_eq!(texts[1], "'+1+1 was how it felt");
    assert_eq!(column(&long, "memo")[0], "'-2+3 memo");

    let codings = csv_rows(&s.stdout(&["codings", "export", "--spreadsheet-safe"]));
    assert_eq!(column(&codings, "memo")[0], "'-2+3 memo");
    assert_eq!(column(&codings, "memo")[1], "fine memo");
    let exact = csv_rows(&s.stdout(&["codings", "export"]));
    assert_eq!(column(&exact, "memo")[0], "-2+3 memo");

    let book = csv_rows(&s.stdout(&["codebook", "export", "--spreadsheet-safe"]));
    assert_eq!(column(&book, "description")[0], "'=1+2 in the definition");
    assert_eq!(column(&book, "example")[0], "'@example");
}

#[test]
fn the_option_is_refused_where_there_is_no_spreadsheet() {
    let s = project();
    let err = s.fails(&[
        "export",
        "dataset",
        "--format",
        "json",
        "--spreadsheet-safe",
    ]);
    assert!(err.contains("CSV formats"), "{err}");
    let err = s.fails(&["codebook", "export", "--format", "md", "--spreadsheet-safe"]);
    assert!(err.contains("--format csv"), "{err}");
}
