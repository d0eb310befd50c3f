//! A research team sends its lacrima project to a colleague as a .qdpx, and the colleague brings
//! it back into lacrima: everything must come back as it was. And the import's rules about which
//! project it goes into.

mod common;
mod qdpx_support;

use common::*;
use qdpx_support::*;

/// Exports the scratch project and imports the file into a new project beside it.
fn export_and_import(s: &Scratch) -> std::path::PathBuf {
    s.lacrima(&["export", "qdpx", "--out", "sent.qdpx"])
        .assert()
        .success();
    let back = s.path("back.db");
    lacrima_at(s.dir.path(), &back, &["import", "qdpx", "sent.qdpx"])
        .assert()
        .success();
    back
}

fn add_memos(db: &std::path::Path) {
    // Memos on answers and codes are written on the coding screen; here straight into the file.
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
         SELECT (SELECT id FROM coders WHERE name = 'ana'), (SELECT min(id) FROM responses), NULL,
                'Ana''s thought on this answer,' || char(10) || 'on two lines 😢', '2026-01-01T00:00:00Z';
         INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
         SELECT (SELECT id FROM coders WHERE name = 'ben'), (SELECT min(id) FROM responses), NULL,
                'Ben disagrees', '2026-01-01T00:00:00Z';
         INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
         SELECT (SELECT id FROM coders WHERE name = 'ana'), NULL, (SELECT min(id) FROM codes WHERE codable = 1),
                'Use sparingly & <carefully>', '2026-01-01T00:00:00Z';",
    )
    .unwrap();
}

#[test]
fn the_demo_project_comes_back_equal_after_a_trip_through_qdpx() {
    let s = demo();
    // A consensus coder with agreed codings, and memos on answers and codes.
    s.lacrima(&["consensus", "--from", "ana,ben", "--agreed"])
        .assert()
        .success();
    add_memos(&s.project());
    let back = export_and_import(&s);
    assert_same_project(&s.project(), &back);
    // The reports read the same numbers from both.
    let agreement = |db: &std::path::Path| {
        lacrima_at(s.dir.path(), db, &["agreement", "--format", "csv"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    assert_eq!(agreement(&s.project()), agreement(&back));
    for args in [
        &["codings", "export"][..],
        &["codebook", "export", "--format", "csv"][..],
        &[
            "export", "dataset", "--format", "csv-wide", "--coder", "ana",
        ][..],
    ] {
        let out = |db: &std::path::Path| {
            lacrima_at(s.dir.path(), db, args)
                .assert()
                .success()
                .get_output()
                .stdout
                .clone()
        };
        assert_eq!(out(&s.project()), out(&back), "{args:?}");
    }
}

#[test]
fn answers_in_any_script_keep_their_text_and_their_coded_segments() {
    let s = Scratch::new();
    let answers = [
        "Wir weinten beide 😢😢 und lachten dann.",
        "Cafe\u{301} au lait, re\u{301}sume\u{301}: the e\u{301} is two code points.",
        "我们都哭了，然后关系更近了。",
        "בכיתי עם המטופלת, וזה קירב בינינו.",
        "مريضي بكى أيضًا 🤝 ثم ضحكنا",
        "",
        "line one\nline two\n\n👩‍👩‍👧 family emoji (ZWJ)",
    ];
    let mut csv = String::from("id,group,score,answer\n");
    for (i, a) in answers.iter().enumerate() {
        csv.push_str(&format!(
            "R{i},{},{}.5,\"{}\"\n",
            ["א", "b", "ç"][i % 3],
            i,
            a.replace('"', "\"\"")
        ));
    }
    s.write("survey.csv", &csv);
    s.write(
        "codebook.csv",
        "name,parent,description,inclusion,exclusion,example,color,shortcut\n\
         关系,,Relationship (关系),,,,#1f77b4,\n\
         تقارب,关系,Closeness,Says closer,Not politeness,\"«we grew closer»\",#FF7F0E,1\n\
         Émotion,,Feelings,,,,,2\n",
    );
    // Segments on the emoji, the combining marks, the CJK and the Hebrew, by code points.
    let seg = |text: &str, part: &str| -> (usize, usize) {
        let b = text.find(part).unwrap();
        let s = text[..b].chars().count();
        (s, s + part.chars().count())
    };
    let mut codings = String::from("respondent,question,coder,code,start,end,memo\n");
    for (i, part, code, coder) in [
        (0, "😢😢", "Émotion", "ana"),
        (1, "re\u{301}sume\u{301}", "تقارب", "ana"),
        (2, "关系更近", "تقارب", "ben"),
        (3, "וזה קירב בינינו", "تقارب", "ana"),
        (6, "👩‍👩‍👧", "Émotion", "ben"),
    ] {
        let (a, b) = seg(answers[i], part);
        codings.push_str(&format!("R{i},answer,{coder},{code},{a},{b},memo ✓ {i}\n"));
    }
    codings.push_str("R4,answer,ana,Émotion,,,whole answer\nR5,answer,ben,,,,\n");
    s.write("codings.csv", &codings);
    import_one_question_project(&s);
    add_memos(&s.project());
    let back = export_and_import(&s);
    assert_same_project(&s.project(), &back);
    // The coded text itself is the same characters.
    let coded = |db: &std::path::Path| {
        rows(
            db,
            "SELECT substr(s.text, k.start + 1, k.\"end\" - k.start) FROM codings k
             JOIN responses s ON s.id = k.response_id WHERE k.start IS NOT NULL ORDER BY 1",
        )
    };
    assert_eq!(coded(&s.project()), coded(&back));
    assert!(coded(&back).iter().any(|r| r[0] == "👩‍👩‍👧"));
}

#[test]
fn an_import_goes_into_a_new_project_and_says_what_it_brought() {
    let s = small_project();
    s.write(
        "codings.csv",
        "respondent,question,coder,code,start,end,memo\nR1,answer_a,ana,Felt cared for,,,\n",
    );
    s.lacrima(&["codings", "import", "codings.csv"])
        .assert()
        .success();
    s.lacrima(&["export", "qdpx", "--out", "p.qdpx"])
        .assert()
        .success();
    let new = s.path("new.db");
    let out = lacrima_at(s.dir.path(), &new, &["import", "qdpx", "p.qdpx"])
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("(a lacrima export): 3 respondents, 6 answers to 2 questions"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Nothing in the file was left out."),
        "{stdout}"
    );
    // The import builds some indexes once at the end and checks no foreign key row by row:
    // the project is whole and has the schema of any other.
    let schema = "SELECT type, name, ifnull(sql, '') FROM sqlite_schema
                  WHERE name <> 'variable_values' ORDER BY name";
    let fresh = s.path("fresh.db");
    lacrima_at(s.dir.path(), &fresh, &["init"])
        .assert()
        .success();
    assert_eq!(rows(&new, schema), rows(&fresh, schema));
    assert_eq!(rows(&new, "PRAGMA integrity_check"), [["ok"]]);
    assert!(rows(&new, "PRAGMA foreign_key_check").is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&new).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a new project is readable by its owner only");
    }
    // JSON for scripts, with the same counts and an empty loss list.
    let json = lacrima_at(
        s.dir.path(),
        &s.path("json.db"),
        &["import", "qdpx", "p.qdpx", "--format", "json"],
    )
    .assert()
    .success()
    .get_output()
    .stdout
    .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["respondents"], 3);
    assert_eq!(v["codings"], 1);
    assert_eq!(v["from_lacrima"], true);
    assert_eq!(v["lost"], serde_json::json!([]));
}

#[test]
fn a_project_that_has_respondents_is_refused_and_left_as_it_was() {
    let s = small_project();
    s.lacrima(&["export", "qdpx", "--out", "p.qdpx"])
        .assert()
        .success();
    let before = dump(&s.project());
    let err = s.fails(&["import", "qdpx", "p.qdpx"]);
    assert!(err.contains("has 3 respondents already"), "{err}");
    assert!(err.contains("new project"), "{err}");
    assert!(err.contains("lacrima merge"), "{err}");
    assert_eq!(dump(&s.project()), before);
}

#[test]
fn a_project_with_only_a_codebook_takes_the_import_and_keeps_its_codes() {
    let s = small_project();
    s.lacrima(&["export", "qdpx", "--out", "p.qdpx"])
        .assert()
        .success();
    // A colleague starts a project with the same codebook, one code renamed, and one more.
    let other = s.path("other.db");
    let dir = s.dir.path();
    lacrima_at(dir, &other, &["init"]).assert().success();
    lacrima_at(dir, &other, &["codebook", "import", "codebook.csv"])
        .assert()
        .success();
    s.write("extra.csv", "name,description\nTheir own code,Only here\n");
    lacrima_at(dir, &other, &["codebook", "import", "extra.csv"])
        .assert()
        .success();
    lacrima_at(dir, &other, &["import", "qdpx", "p.qdpx"])
        .assert()
        .success();
    let names = rows(&other, "SELECT name FROM codes ORDER BY name");
    assert_eq!(names.len(), 6, "{names:?}");
    assert!(names.iter().any(|n| n[0] == "Their own code"));
    assert_eq!(
        query_one::<i64>(&other, "SELECT count(*) FROM respondents"),
        3
    );
}

#[test]
fn the_survey_import_is_unchanged_and_import_needs_a_file() {
    let s = Scratch::new();
    s.write("survey.csv", SMALL_SURVEY);
    s.lacrima(&["import", "survey.csv", "--open", "answer_a,answer_b"])
        .assert()
        .success();
    assert_eq!(
        query_one::<i64>(&s.project(), "SELECT count(*) FROM respondents"),
        3
    );
    // Neither a file nor a subcommand: a usage error.
    s.lacrima(&["import"]).assert().code(2);
    // Options of the survey import do not go with qdpx.
    s.lacrima(&["import", "--open", "x", "qdpx", "a.qdpx"])
        .assert()
        .code(2);
}

#[test]
fn a_failed_import_removes_the_project_it_made() {
    let s = Scratch::new();
    s.write("bad.qdpx", "not a zip at all");
    let new = s.path("new.db");
    let out = lacrima_at(s.dir.path(), &new, &["import", "qdpx", "bad.qdpx"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("not a ZIP file"), "{err}");
    assert!(!new.exists(), "no project is left behind");
    for suffix in ["-wal", "-shm", "-journal"] {
        assert!(!s.path(&format!("new.db{suffix}")).exists());
    }
}
