//! Helpers shared by the end-to-end tests, a module per concern:
//!
//! - here: a scratch folder with the binary run in it ([`Scratch`]), a logical dump of a project
//!   to prove that a failed command left it unchanged, queries of one value or one column, file
//!   modes, and CSV text read back;
//! - [`projects`]: the projects the tests start from (the small survey, the TCIT demo, projects of
//!   one open question built from CSV text), re-exported here;
//! - [`fixtures`]: the TCIT fixture files read as plain CSV, without lacrima, to recompute what
//!   lacrima reports, re-exported here;
//! - [`disk`]: a small disk of its own to fill;
//! - [`sqlite3`]: the sqlite3 shell as another program using the project file;
//! - [`qda`]: REFI-QDA files: their ZIP entries, schema validation with xmllint, attributes.
#![allow(dead_code)]

pub mod disk;
pub mod fixtures;
pub mod projects;
pub mod qda;
pub mod sqlite3;

// Not every test uses both.
#[allow(unused_imports)]
pub use fixtures::*;
#[allow(unused_imports)]
pub use projects::*;

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A researcher's folder of their own, removed when dropped: the project file `project.db` and
/// the files a test writes beside it.
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
        let mut cmd = self.lacrima_here(&["-p"]);
        cmd.arg(self.project()).args(args);
        cmd
    }

    /// `lacrima ARGS...`, run in the scratch folder without naming its project: for `demo`, which
    /// builds its own there, and for a project named otherwise (`-p copy.db`, `LACRIMA_PROJECT`).
    pub fn lacrima_here(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("lacrima").unwrap();
        cmd.current_dir(self.dir.path())
            .env_remove("LACRIMA_PROJECT")
            .env_remove("LACRIMA_CODER")
            .args(args);
        cmd
    }

    /// The stdout of a command that must succeed.
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

    /// The stdout and the stderr of a command that must succeed.
    pub fn outputs(&self, args: &[&str]) -> (String, String) {
        let out = self.lacrima(args).assert().success().get_output().clone();
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// The stdout of a command that must succeed, read as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.stdout(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
    }

    /// Runs a command that must fail with exit code 1; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.lacrima(args).assert().code(1).get_output().clone();
        assert!(out.stdout.is_empty(), "a failing command printed to stdout");
        String::from_utf8(out.stderr).unwrap()
    }

    /// A command that must be refused: it fails with exit code 1, its stderr names each of
    /// `expect`, and the project is left as it was. Returns the stderr.
    pub fn refuses(&self, args: &[&str], expect: &[&str]) -> String {
        let before = dump(&self.project());
        let err = self.fails(args);
        for e in expect {
            assert!(err.contains(e), "expected {e:?} in {err}");
        }
        assert_eq!(
            dump(&self.project()),
            before,
            "{args:?} changed the project"
        );
        err
    }

    /// `lacrima import SURVEY ARGS...` (`--open`, `--id`, ...), which must succeed.
    pub fn import_survey(&self, survey: &str, args: &[&str]) {
        let mut all = vec!["import", survey];
        all.extend_from_slice(args);
        self.lacrima(&all).assert().success();
    }

    /// `lacrima codebook import FILE`, which must succeed.
    pub fn import_codebook(&self, file: &str) {
        self.lacrima(&["codebook", "import", file])
            .assert()
            .success();
    }

    /// `lacrima codings import FILE`, which must succeed.
    pub fn import_codings(&self, file: &str) {
        self.lacrima(&["codings", "import", file])
            .assert()
            .success();
    }

    /// A coder's work arriving as a file: writes `rows` under the codings header (see
    /// [`codings_csv`]) to FILE in the scratch folder and imports it.
    pub fn add_codings(&self, file: &str, rows: &str) {
        self.write(file, codings_csv(rows));
        self.import_codings(file);
    }

    /// Runs `lacrima -p project.db ARGS...` with its stdout in a pipe that is closed after the
    /// first line, as `| head -1` does: that line, and how the process ended.
    pub fn first_line_then_close(&self, args: &[&str]) -> (String, std::process::Output) {
        use std::io::{BufRead, BufReader};
        use std::process::Stdio;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("lacrima"))
            .current_dir(self.dir.path())
            .arg("-p")
            .arg(self.project())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        (first, child.wait_with_output().unwrap())
    }

    /// The names of the files in the scratch folder that end in `suffix` (say `.tmp`, what an
    /// interrupted write leaves).
    pub fn files_ending(&self, suffix: &str) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(suffix))
            .collect()
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

/// A [`dump`] without the `events` table: what the tests of a repeated import compare, as the
/// event log records every import, even one that changed nothing; every other table is compared.
pub fn without_events(dump: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in dump.lines() {
        if let Some(header) = line.strip_prefix("== ") {
            skipping = header.starts_with("events ");
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The one value a query gives.
pub fn query_one<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The first column of every row of a query, in the order the query gives.
pub fn query_all<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> Vec<T> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn.prepare(sql).unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The permission bits of a file (0o600 for the private files lacrima writes).
#[cfg(unix)]
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// CSV text with a header row: the header, and every row after it.
pub fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// The rows of CSV text (after its header) as a multiset: each row and how often it occurs.
pub fn csv_multiset(text: &str) -> BTreeMap<Vec<String>, usize> {
    let mut m = BTreeMap::new();
    for r in csv::Reader::from_reader(text.as_bytes()).records() {
        *m.entry(r.unwrap().iter().map(String::from).collect())
            .or_insert(0) += 1;
    }
    m
}
