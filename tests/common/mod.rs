//! Helpers shared by the end-to-end tests: a scratch folder, the binary, and a logical dump of a
//! project to prove that a failed command left it unchanged.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn project(&self) -> PathBuf {
        self.path("project.db")
    }

    /// `lacrima -p project.db ARGS...`, run in the scratch folder.
    pub fn lacrima(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("lacrima").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("LACRIMA_PROJECT")
            .env_remove("LACRIMA_CODER")
            .arg("-p")
            .arg(self.project())
            .args(args);
        cmd
    }

    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self
            .lacrima(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    }

    /// Runs a command that must fail with exit code 1; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.lacrima(args).assert().code(1).get_output().clone();
        assert!(out.stdout.is_empty(), "a failing command printed to stdout");
        String::from_utf8(out.stderr).unwrap()
    }
}

/// Every row of every table, in a stable order: equal dumps mean an unchanged project.
pub fn dump(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut out = String::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in tables {
        let sql = format!("SELECT * FROM \"{t}\" ORDER BY 1");
        let mut st = conn.prepare(&sql).unwrap();
        let n = st.column_count();
        out.push_str(&format!(
            "== {t} ({})\n",
            st.column_names().collect::<Vec<_>>().join(",")
        ));
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    out
}

pub fn query_one<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

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
    s.lacrima(&["import", "survey.csv", "--open", "answer_a,answer_b"])
        .assert()
        .success();
    s.lacrima(&["codebook", "import", "codebook.csv"])
        .assert()
        .success();
    s
}

/// The folder of the committed TCIT fixtures, ending in a slash.
pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/");

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
    let f = |name: &str| format!("{FIXTURES}{name}");
    s.lacrima(&[
        "import",
        &f("tcit_survey.csv"),
        "--id",
        "resp_id",
        "--open",
        &DEMO_QUESTIONS.join(","),
    ])
    .assert()
    .success();
    s.lacrima(&["codebook", "import", &f("tcit_codebook.csv")])
        .assert()
        .success();
    s.lacrima(&["codings", "import", &f("tcit_codings.csv")])
        .assert()
        .success();
    s
}

/// Imports what the scratch folder holds, as a researcher would: `survey.csv` (ID column `id`,
/// one open question `answer`), then `codebook.csv`, then `codings.csv` if there is one.
pub fn import_one_question_project(s: &Scratch) {
    s.lacrima(&["import", "survey.csv", "--id", "id", "--open", "answer"])
        .assert()
        .success();
    s.lacrima(&["codebook", "import", "codebook.csv"])
        .assert()
        .success();
    if s.path("codings.csv").exists() {
        s.lacrima(&["codings", "import", "codings.csv"])
            .assert()
            .success();
    }
}
