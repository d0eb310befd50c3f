//! The projects the end-to-end tests start from, built with the binary as a researcher builds
//! them: the small survey with its codebook, the TCIT demo from the committed fixtures, and
//! projects of one open question made from CSV text written in the test.

use super::Scratch;
use std::fmt::Display;

pub const SMALL_SURVEY: &str = "\
resp_id,age,sex,orientation,answer_a,answer_b
R1,34,female,CBT,\"She felt understood, I think.\",We grew closer
R2,51,male,psychodynamic,N/A,Nothing noticeable
R3,NA,female,CBT,\"Client said \"\"thank you\"\"
and cried too 😢\",-
";

pub const SMALL_CODEBOOK: &str = "\
name,parent,description,inclusion,exclusion,example,color,shortcut
Client,,Consequences for the client,,,,,
Felt cared for,Client,The client felt cared for or understood,Says understood,,\"I felt understood\",#1f77b4,1
Relationship,,Consequences for the relationship,,,,,
Deepened,Relationship,Rapport improved,,,,#ff7f0e,2
Nothing noticeable,,No consequence seen,,,,#7f7f7f,3
";

/// A project with the small survey, codebook and nothing coded.
pub fn small_project() -> Scratch {
    let s = Scratch::new();
    s.write("survey.csv", SMALL_SURVEY);
    s.write("codebook.csv", SMALL_CODEBOOK);
    s.import_survey("survey.csv", &["--open", "answer_a,answer_b"]);
    s.import_codebook("codebook.csv");
    s
}

/// The folder of the committed TCIT fixtures, ending in a slash.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/");

/// The path of a committed TCIT fixture file (`tcit_survey.csv`, `tcit_codebook.csv`,
/// `tcit_codings.csv`).
pub fn fixture_path(name: &str) -> String {
    format!("{FIXTURES}{name}")
}

/// The TCIT demo survey's open-ended questions, in file order.
pub const DEMO_QUESTIONS: [&str; 3] = [
    "consequence_client",
    "consequence_relationship",
    "consequence_therapist",
];

/// The demo project as a researcher builds it from the fixtures: the TCIT survey, its codebook,
/// and ana's and ben's codings of the first 150 answers.
pub fn demo() -> Scratch {
    let s = Scratch::new();
    s.import_survey(
        &fixture_path("tcit_survey.csv"),
        &["--id", "resp_id", "--open", &DEMO_QUESTIONS.join(",")],
    );
    s.import_codebook(&fixture_path("tcit_codebook.csv"));
    s.import_codings(&fixture_path("tcit_codings.csv"));
    s
}

/// Imports what the scratch folder holds, as a researcher would: `survey.csv` (ID column `id`,
/// one open question `answer`), then `codebook.csv`, then `codings.csv` if there is one.
pub fn import_one_question_project(s: &Scratch) {
    s.import_survey("survey.csv", &["--id", "id", "--open", "answer"]);
    s.import_codebook("codebook.csv");
    if s.path("codings.csv").exists() {
        s.import_codings("codings.csv");
    }
}

/// A project of one open question from the texts of its files: `survey` (ID column `id`, the
/// open question `answer`), `codebook`, and the codings rows (under the header that
/// [`codings_csv`] adds), if any; see [`import_one_question_project`].
pub fn one_question_project(survey: &str, codebook: &str, codings: Option<&str>) -> Scratch {
    let s = Scratch::new();
    s.write("survey.csv", survey);
    s.write("codebook.csv", codebook);
    if let Some(rows) = codings {
        s.write("codings.csv", codings_csv(rows));
    }
    import_one_question_project(&s);
    s
}

/// A survey of one open question: the header `id,answer`, then one respondent a row, written as
/// given (so no commas or quotes in the answers).
pub fn answers_csv<I: Display, A: Display>(rows: impl IntoIterator<Item = (I, A)>) -> String {
    let mut csv = String::from("id,answer\n");
    for (id, answer) in rows {
        csv.push_str(&format!("{id},{answer}\n"));
    }
    csv
}

/// A codebook file of bare code names, in order.
pub fn codebook_csv<N: Display>(names: impl IntoIterator<Item = N>) -> String {
    let mut csv = String::from("name\n");
    for n in names {
        csv.push_str(&format!("{n}\n"));
    }
    csv
}

/// The header line of a codings file.
pub const CODINGS_HEADER: &str = "respondent,question,coder,code,start,end,memo\n";

/// A codings file: the header, then `rows` (`respondent,question,coder,code,start,end,memo`
/// lines, each ending in a newline).
pub fn codings_csv(rows: &str) -> String {
    format!("{CODINGS_HEADER}{rows}")
}
