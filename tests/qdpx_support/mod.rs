//! Building `.qdpx` files in tests, and reading a project back in forms that compare.
#![allow(dead_code)]

use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes a ZIP with these entries (deflated).
pub fn zip_file(path: &Path, entries: &[(&str, &[u8])]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = zip::ZipWriter::new(f);
    for (name, data) in entries {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap();
}

/// A `.qdpx` whose `project.qde` is `qde`, with text entries.
pub fn qdpx(path: &Path, qde: &str, texts: &[(&str, &str)]) {
    let mut entries: Vec<(&str, &[u8])> = vec![("project.qde", qde.as_bytes())];
    for (name, text) in texts {
        entries.push((name, text.as_bytes()));
    }
    zip_file(path, &entries);
}

/// `lacrima -p DB ARGS...` in `dir`.
pub fn lacrima_at(dir: &Path, db: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("lacrima").unwrap();
    cmd.current_dir(dir)
        .env_remove("LACRIMA_PROJECT")
        .env_remove("LACRIMA_CODER")
        .arg("-p")
        .arg(db)
        .args(args);
    cmd
}

pub fn rows(db: &Path, sql: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn.prepare(sql).unwrap();
    let n = st.column_count();
    #[allow(clippy::let_and_return)] // the statement borrows the connection until the end
    let out = st
        .query_map([], |r| {
            Ok((0..n)
                .map(|i| match r.get::<_, rusqlite::types::Value>(i).unwrap() {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(v) => format!("i{v}"),
                    rusqlite::types::Value::Real(v) => format!("r{v}"),
                    rusqlite::types::Value::Text(v) => v,
                    rusqlite::types::Value::Blob(_) => "blob".to_string(),
                })
                .collect())
        })
        .unwrap()
        .collect::<Result<Vec<Vec<String>>, _>>()
        .unwrap();
    out
}

/// Everything a researcher means by "the same project", as comparable rows: ids and import
/// times left out, since a new project numbers and dates its own rows.
pub fn content(db: &Path) -> Vec<(&'static str, Vec<Vec<String>>)> {
    let mut out = vec![
        (
            "codebook",
            rows(
                db,
                // In tree order (siblings by position), as the codebook shows it.
                "WITH RECURSIVE t(id, path) AS (
                     SELECT id, printf('%08d.%08d', position, id) FROM codes WHERE parent_id IS NULL
                     UNION ALL
                     SELECT c.id, t.path || '/' || printf('%08d.%08d', c.position, c.id)
                     FROM codes c JOIN t ON c.parent_id = t.id)
                 SELECT c.guid, c.name, ifnull(p.name, ''), c.description, c.inclusion, c.exclusion,
                        c.example, ifnull(c.color, ''), ifnull(c.shortcut, ''), c.codable
                 FROM t JOIN codes c ON c.id = t.id LEFT JOIN codes p ON p.id = c.parent_id
                 ORDER BY t.path",
            ),
        ),
        (
            "questions",
            rows(
                db,
                "SELECT name, ifnull(label, '') FROM questions ORDER BY position, id",
            ),
        ),
        (
            "respondents",
            rows(db, "SELECT ext_id FROM respondents ORDER BY id"),
        ),
        (
            "answers",
            rows(
                db,
                "SELECT r.ext_id, q.name, s.text, s.is_empty FROM responses s
                 JOIN respondents r ON r.id = s.respondent_id
                 JOIN questions q ON q.id = s.question_id ORDER BY r.id, q.position",
            ),
        ),
        (
            "variables",
            rows(
                db,
                "SELECT name, ifnull(label, ''), kind, ifnull(levels, '') FROM variables
                 ORDER BY position, id",
            ),
        ),
        (
            "coders",
            rows(db, "SELECT name, is_consensus FROM coders ORDER BY name"),
        ),
        (
            "codings",
            rows(
                db,
                "SELECT r.ext_id, q.name, d.name, c.name, ifnull(k.start, 'whole'),
                        ifnull(k.\"end\", 'whole'), k.memo, k.created_at
                 FROM codings k JOIN responses s ON s.id = k.response_id
                 JOIN respondents r ON r.id = s.respondent_id
                 JOIN questions q ON q.id = s.question_id
                 JOIN coders d ON d.id = k.coder_id JOIN codes c ON c.id = k.code_id
                 ORDER BY 1, 2, 3, 4, 5, 6",
            ),
        ),
        (
            "reviews",
            rows(
                db,
                "SELECT r.ext_id, q.name, d.name FROM reviews v
                 JOIN responses s ON s.id = v.response_id
                 JOIN respondents r ON r.id = s.respondent_id
                 JOIN questions q ON q.id = s.question_id
                 JOIN coders d ON d.id = v.coder_id ORDER BY 1, 2, 3",
            ),
        ),
        (
            "memos",
            rows(
                db,
                "SELECT d.name, ifnull(r.ext_id || ' ' || q.name, ''), ifnull(c.name, ''), m.text
                 FROM memos m JOIN coders d ON d.id = m.coder_id
                 LEFT JOIN responses s ON s.id = m.response_id
                 LEFT JOIN respondents r ON r.id = s.respondent_id
                 LEFT JOIN questions q ON q.id = s.question_id
                 LEFT JOIN codes c ON c.id = m.code_id ORDER BY 1, 2, 3",
            ),
        ),
        (
            "meta",
            rows(
                db,
                "SELECT key, value FROM project_meta WHERE key IN ('guid', 'id_column')
                 ORDER BY key",
            ),
        ),
    ];
    // The values, typed as stored, by variable name.
    let vars = rows(
        db,
        "SELECT name, column_name FROM variables ORDER BY position, id",
    );
    for v in vars {
        let sql = format!(
            "SELECT r.ext_id, typeof(vv.\"{0}\"), ifnull(vv.\"{0}\", 'NULL') FROM respondents r
             JOIN variable_values vv ON vv.respondent_id = r.id ORDER BY r.id",
            v[1]
        );
        out.push(("values", vec![vec![v[0].clone()]]));
        out.push(("values", rows(db, &sql)));
    }
    out
}

pub fn assert_same_project(a: &Path, b: &Path) {
    let (ca, cb) = (content(a), content(b));
    assert_eq!(ca.len(), cb.len(), "different numbers of variables");
    for ((name, x), (_, y)) in ca.iter().zip(&cb) {
        if x != y {
            let first = x
                .iter()
                .zip(y)
                .position(|(p, q)| p != q)
                .unwrap_or(x.len().min(y.len()));
            panic!(
                "{name} differ ({} rows vs {}); first difference at row {first}:\n  {:?}\n  {:?}",
                x.len(),
                y.len(),
                x.get(first),
                y.get(first)
            );
        }
    }
}

pub fn path_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// The `<Project>` element around `body`, as most tools open it.
pub fn project(origin: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project xmlns=\"urn:QDA-XML:project:1.0\" \
         name=\"test\" origin=\"{origin}\">\n{body}\n</Project>\n"
    )
}
