//! The commands around a project: creating it, finding it, backing it up, building the demo, and
//! behaving in pipes.

mod common;
use common::*;

#[test]
fn init_creates_an_empty_private_project_once() {
    let s = Scratch::new();
    s.lacrima(&["init"]).assert().success();
    #[cfg(unix)]
    assert_eq!(mode(&s.project()), 0o600);
    let info = s.json(&["info", "--format", "json"]);
    assert_eq!(info["respondents"], 0);
    let err = s.fails(&["init"]);
    assert!(err.contains("exists already"), "{err}");
}

#[test]
fn commands_on_a_missing_project_create_nothing() {
    let s = Scratch::new();
    for args in [
        vec!["info"],
        vec!["codebook", "export"],
        vec!["codings", "export"],
        vec!["backup", "copy.db"],
    ] {
        let err = s.fails(&args);
        assert!(err.contains("no project at"), "{args:?}: {err}");
        assert!(!s.project().exists(), "{args:?} created the project");
    }
}

#[test]
fn the_project_path_comes_from_the_environment_too() {
    let s = small_project();
    let out = s
        .lacrima_here(&[])
        .env("LACRIMA_PROJECT", s.project())
        .args(["info", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["respondents"], 3);
}

#[test]
fn usage_errors_exit_with_2() {
    let s = Scratch::new();
    s.lacrima(&["import"]).assert().code(2);
    s.lacrima(&["info", "--format", "yaml"]).assert().code(2);
}

#[test]
fn a_backup_is_a_complete_private_copy_even_while_the_project_is_open() {
    let s = small_project();
    s.add_codings("c.csv", "R1,answer_b,ana,Deepened,,,\n");
    // Another connection holds the project open in WAL mode with recent work not checkpointed.
    let holder = rusqlite::Connection::open(s.project()).unwrap();
    holder
        .execute_batch("BEGIN; SELECT count(*) FROM codings;")
        .unwrap();
    s.lacrima(&["backup", "copy.db"]).assert().success();
    drop(holder);
    let copy = s.path("copy.db");
    #[cfg(unix)]
    assert_eq!(mode(&copy), 0o600);
    assert_eq!(dump(&copy), dump(&s.project()));
    let err = s.fails(&["backup", "copy.db"]);
    assert!(err.contains("exists already"), "{err}");
}

#[test]
fn the_demo_builds_the_tcit_project_and_replaces_only_an_earlier_demo() {
    let s = Scratch::new();
    let run_demo = || s.lacrima_here(&["demo"]).assert();
    let out = run_demo().success().get_output().stdout.clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("lacrima-demo.db"), "{out}");
    let demo = s.path("lacrima-demo.db");
    assert_eq!(
        query_one::<i64>(&demo, "SELECT count(*) FROM respondents"),
        684
    );
    assert_eq!(query_one::<i64>(&demo, "SELECT count(*) FROM questions"), 3);
    assert_eq!(query_one::<i64>(&demo, "SELECT count(*) FROM coders"), 2);
    assert!(query_one::<i64>(&demo, "SELECT count(*) FROM codings") > 300);
    // Coding done in the demo is replaced by a fresh demo...
    run_demo().success();
    // ...but a real project under that name is never replaced.
    std::fs::remove_file(&demo).unwrap();
    std::fs::write(&demo, "not a demo").unwrap();
    let err = run_demo().code(1).get_output().stderr.clone();
    assert!(
        String::from_utf8_lossy(&err).contains("not a lacrima project")
            || String::from_utf8_lossy(&err).contains("not a demo")
    );
    assert_eq!(std::fs::read_to_string(&demo).unwrap(), "not a demo");
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let s = small_project();
    // Enough codings that the export fills the pipe long before it ends.
    let mut rows = String::new();
    for i in 0..20_000 {
        rows.push_str(&format!(
            "R1,answer_b,coder{i},Deepened,,,\"a memo long enough to fill the pipe quickly {i}\"\n"
        ));
    }
    s.add_codings("many.csv", &rows);
    // The reader is gone after the first line (`| head -1`).
    let (first, out) = s.first_line_then_close(&["codings", "export"]);
    assert!(first.starts_with("respondent,"));
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exports_to_a_file_are_private_and_complete() {
    let s = small_project();
    s.lacrima(&["codebook", "export", "--out", "book.md", "--format", "md"])
        .assert()
        .success()
        .stdout("");
    let md = std::fs::read_to_string(s.path("book.md")).unwrap();
    assert!(md.starts_with("# Codebook"));
    #[cfg(unix)]
    assert_eq!(mode(&s.path("book.md")), 0o600);
    assert!(s.files_ending(".tmp").is_empty());
}
