//! Starting the coding screen from the command line, where no terminal is involved: the errors a
//! researcher meets before the screen opens, and `lacrima demo` in a script.

mod tui_support;

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn code_on_a_missing_project_says_so_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("lacrima")
        .unwrap()
        .current_dir(dir.path())
        .args(["-p", "nowhere.db", "code", "--coder", "ana"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no project at nowhere.db"));
    assert!(!dir.path().join("nowhere.db").exists());
}

#[test]
fn code_without_a_coder_and_without_a_terminal_says_how_to_name_one() {
    let (_dir, path) = tui_support::demo();
    tui_support::lacrima_on(&path, &["code"])
        .write_stdin("")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "say who is coding: lacrima code --coder NAME (or set LACRIMA_CODER)",
        ));
}

#[test]
fn a_bad_key_file_is_reported_before_the_screen_opens() {
    let (dir, path) = tui_support::demo();
    let keys = dir.path().join("keys.toml");
    std::fs::write(&keys, "[list]\nj = \"jump\"\n").unwrap();
    tui_support::lacrima_on(&path, &["code", "--coder", "ana"])
        .env("LACRIMA_KEYS", &keys)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "keys.toml:2: unknown action \"jump\"",
        ));
}

#[test]
fn demo_in_a_script_builds_the_project_and_prints_how_to_code_in_it() {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("lacrima")
        .unwrap()
        .current_dir(dir.path())
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("built lacrima-demo.db"))
        .stdout(predicate::str::contains(
            "lacrima -p lacrima-demo.db code --coder demo",
        ));
    assert!(dir.path().join("lacrima-demo.db").exists());
}
