//! The coding screen when the project misbehaves under it: another program holding the write
//! lock, a full disk, the file moved or deleted. In each case the coder is told in one line what
//! happened and what to do, nothing half-done reaches the project, and no key the coder pressed
//! is silently lost.

mod common;
mod tui_support;

use common::disk::SmallDisk;
use lacrima::tui::{Action, State};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use tui_support::*;

const SURVEY: &str = "id,age,answer\nP1,40,We cried together and grew closer\nP2,52,Nothing changed\nP3,33,She thanked me\n";

fn screen_for(dir: &Path) -> (PathBuf, State) {
    let path = project_from_csv(dir, SURVEY, &["answer"]);
    let mut s = open(&path, "ana", 120, 30);
    s.store.interactive().unwrap();
    (path, s)
}

fn message(s: &State) -> String {
    s.message.as_ref().map(|m| m.0.clone()).unwrap_or_default()
}

/// Another program (a colleague's sqlite3 shell inside BEGIN) holds the write lock.
fn hold_write_lock(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.execute_batch("BEGIN IMMEDIATE").unwrap();
    c
}

#[test]
fn a_key_pressed_while_another_program_writes_is_kept_and_saved_when_it_is_done() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut s) = screen_for(dir.path());
    let first = current(&s);
    let lock = hold_write_lock(&path);

    press(&mut s, "1");
    let m = message(&s);
    assert!(m.contains("waiting") && m.contains("1 key kept"), "{m}");
    assert!(m.contains("Esc drops it"), "{m}");
    assert!(codings_of(&path, "ana").is_empty());
    // Moving on is kept too, in order: the coding goes to the answer it was typed on.
    press(&mut s, "j");
    assert!(message(&s).contains("2 keys kept"), "{}", message(&s));
    assert_eq!(current(&s), first);
    // Still locked: a retry keeps both keys.
    act(&mut s, Action::Tick);
    assert!(message(&s).contains("2 keys kept"), "{}", message(&s));

    lock.execute_batch("COMMIT").unwrap();
    act(&mut s, Action::Tick);
    assert!(s.waiting.is_none());
    assert!(message(&s).contains("free again"), "{}", message(&s));
    assert_eq!(codings_of(&path, "ana").len(), 1);
    assert!(codings_of(&path, "ana")[0].starts_with(&first));
    assert_ne!(
        current(&s),
        first,
        "the movement after the coding was applied"
    );
}

#[test]
fn the_coder_can_drop_the_waiting_keys_and_nothing_of_them_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut s) = screen_for(dir.path());
    let lock = hold_write_lock(&path);
    press(&mut s, "1 2");
    assert!(message(&s).contains("2 keys kept"), "{}", message(&s));
    press(&mut s, "esc");
    assert!(
        message(&s).contains("dropped 2 waiting keys"),
        "{}",
        message(&s)
    );
    drop(lock);
    act(&mut s, Action::Tick);
    assert!(codings_of(&path, "ana").is_empty());
    press(&mut s, "1");
    assert_eq!(codings_of(&path, "ana").len(), 1);
}

#[test]
fn a_project_deleted_under_the_screen_is_rescued_with_everything_saved() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut s) = screen_for(dir.path());
    press(&mut s, "1");
    assert_eq!(codings_of(&path, "ana").len(), 1);
    // Someone cleans up the folder while the coder works.
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    act(&mut s, Action::Tick);
    let m = message(&s);
    assert!(m.contains("moved or deleted while open"), "{m}");
    let rescued = s.rescued.clone().expect("a rescue copy");
    assert!(m.contains(&rescued.display().to_string()), "{m}");
    assert_eq!(codings_of(&rescued, "ana").len(), 1);
    // Further keys say the same and write nothing anywhere.
    press(&mut s, "j 2");
    assert!(message(&s).contains("moved or deleted"), "{}", message(&s));
    assert_eq!(codings_of(&rescued, "ana").len(), 1);
    #[cfg(unix)]
    assert_eq!(common::mode(&rescued), 0o600);
}

#[test]
fn a_project_moved_under_the_screen_is_rescued_too() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut s) = screen_for(dir.path());
    press(&mut s, "1");
    // Moved without its WAL, the file alone would lose the coding just made.
    std::fs::rename(&path, dir.path().join("elsewhere.db")).unwrap();
    press(&mut s, "j 2");
    assert!(message(&s).contains("moved or deleted"), "{}", message(&s));
    let rescued = s.rescued.clone().expect("a rescue copy");
    assert_eq!(codings_of(&rescued, "ana").len(), 1);
}

#[test]
fn coding_on_a_full_disk_says_so_saves_nothing_and_works_again_once_there_is_room() {
    let Some(disk) = SmallDisk::mount(4096) else {
        return;
    };
    {
        let (path, mut s) = screen_for(disk.path());
        let filler = disk.fill();
        press(&mut s, "1");
        let m = message(&s);
        assert!(m.contains("disk holding the project is full"), "{m}");
        assert!(s.waiting.is_none());
        assert!(codings_of(&path, "ana").is_empty());
        assert!(reviews_of(&path, "ana").is_empty());
        std::fs::remove_file(filler).unwrap();
        press(&mut s, "1");
        assert!(message(&s).contains("saved"), "{}", message(&s));
        assert_eq!(codings_of(&path, "ana").len(), 1);
        let ok: String = Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
}
