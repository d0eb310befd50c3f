//! A coder's open project must stay locked while other programs come and go.
//!
//! The coding screen holds two connections to the project (its own and its worker's). When any
//! other program (the sqlite3 shell, R, pandas, a second coder) closes its connection, SQLite in
//! that program checks whether it was the last user of the file, and if so checkpoints and
//! deletes the WAL. It can only tell because the coder's process holds a SHARED lock on the file;
//! POSIX drops every lock of a process on a file when the process closes any descriptor of it, so
//! one stray `File::open` in lacrima was enough to have the WAL deleted under the coder.

mod common;

use common::sqlite3::sqlite3;
use common::{Scratch, dump, small_project};
use lacrima::store::Store;
use std::path::Path;

fn companion(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(suffix);
    p.into()
}

/// The POSIX locks this process holds on the file, read from /proc/locks (Linux).
#[cfg(target_os = "linux")]
fn locks_held_on(db: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(db).unwrap();
    let dev = meta.dev();
    let id = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let pid = std::process::id().to_string();
    std::fs::read_to_string("/proc/locks")
        .unwrap()
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() >= 6 && f[1] == "POSIX" && f[4] == pid && f[5] == id
        })
        .count()
}

fn first_answer_and_code(store: &Store) -> (i64, i64) {
    let answer: i64 = sqlite3(
        store.path(),
        "SELECT min(id) FROM responses WHERE text = 'We grew closer'",
    )
    .parse()
    .unwrap();
    let code: i64 = sqlite3(store.path(), "SELECT id FROM codes WHERE name = 'Deepened'")
        .parse()
        .unwrap();
    (answer, code)
}

#[test]
fn a_coder_keeps_the_project_locked_while_a_sqlite_shell_comes_and_goes() {
    let s = small_project();
    let db = s.project();
    // The coding screen: its own connection, then its worker's.
    let mut screen = Store::open(&db).unwrap();
    let worker = Store::open(&db).unwrap();
    let coder = screen.coder_id("ana").unwrap();
    let (answer, code) = first_answer_and_code(&screen);
    screen.toggle_coding(coder, answer, code, None).unwrap();
    #[cfg(target_os = "linux")]
    assert!(
        locks_held_on(&db) > 0,
        "the coder's process holds no lock on its open project"
    );

    // A researcher peeks at the project from the sqlite3 shell, which then closes it.
    assert_eq!(sqlite3(&db, "SELECT count(*) FROM codings"), "1");
    assert!(
        companion(&db, "-wal").exists() && companion(&db, "-shm").exists(),
        "the shell deleted the WAL of a project that lacrima still has open"
    );
    #[cfg(target_os = "linux")]
    assert!(locks_held_on(&db) > 0, "the coder's locks were dropped");

    // The coder goes on, and the next program to look sees the new work at once.
    screen.undo(coder).unwrap();
    assert_eq!(sqlite3(&db, "SELECT count(*) FROM codings"), "0");
    screen.redo(coder).unwrap();
    assert_eq!(sqlite3(&db, "SELECT count(*) FROM codings"), "1");
    worker.data_version().unwrap();
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check"), "ok");
}

#[test]
fn opening_a_second_project_connection_keeps_the_first_ones_locks() {
    let s = small_project();
    let db = s.project();
    let first = Store::open(&db).unwrap();
    first.data_version().unwrap();
    #[cfg(target_os = "linux")]
    let before = locks_held_on(&db);
    // Each new connection (a sub-screen, a report) must not disturb the others.
    for _ in 0..3 {
        drop(Store::open(&db).unwrap());
    }
    #[cfg(target_os = "linux")]
    assert_eq!(locks_held_on(&db), before);
    sqlite3(&db, "SELECT count(*) FROM respondents");
    assert!(companion(&db, "-wal").exists());
}

#[test]
fn a_survey_or_export_on_the_projects_own_files_is_refused() {
    let s = small_project();
    let db = s.project();
    // A coder is working in it, so its WAL and shared-memory files exist.
    let coder = Store::open(&db).unwrap();
    coder.data_version().unwrap();
    let before = dump(&db);
    let wal = companion(&db, "-wal");
    assert!(wal.exists());
    for target in [db.clone(), wal.clone()] {
        let t = target.to_str().unwrap();
        let err = s.fails(&["codings", "export", "--out", t]);
        assert!(err.contains("of the project"), "{err}");
        let err = s.fails(&["import", t, "--open", "answer_a"]);
        assert!(err.contains("of the project"), "{err}");
        let err = s.fails(&["codings", "import", t]);
        assert!(err.contains("of the project"), "{err}");
        let err = s.fails(&["codebook", "import", t]);
        assert!(err.contains("of the project"), "{err}");
    }
    assert_eq!(dump(&db), before);
    assert_eq!(sqlite3(&db, "PRAGMA integrity_check"), "ok");
}

#[test]
fn rebuilding_the_demo_while_it_is_open_leaves_the_open_connection_whole() {
    let s = Scratch::new();
    let build = || {
        s.lacrima_here(&["demo"]).assert().success();
    };
    build();
    let demo = s.path("lacrima-demo.db");
    let mut open = Store::open(&demo).unwrap();
    let coder = open.coder_id("demo").unwrap();
    let answer: i64 = sqlite3(&demo, "SELECT min(id) FROM responses")
        .parse()
        .unwrap();
    let code: i64 = sqlite3(&demo, "SELECT min(id) FROM codes WHERE codable = 1")
        .parse()
        .unwrap();
    open.toggle_coding(coder, answer, code, None).unwrap();
    // The demo is rebuilt from another process while this one has it open: the demo's coding is
    // replaced, and the open connection sees the new demo rather than a deleted file.
    build();
    assert_eq!(
        sqlite3(
            &demo,
            "SELECT count(*) FROM codings JOIN coders c ON c.id = coder_id WHERE c.name = 'demo'"
        ),
        "0"
    );
    let coder = open.coder_id("demo").unwrap();
    open.toggle_coding(coder, answer, code, None).unwrap();
    assert_eq!(
        sqlite3(
            &demo,
            "SELECT count(*) FROM codings JOIN coders c ON c.id = coder_id WHERE c.name = 'demo'"
        ),
        "1"
    );
    assert_eq!(sqlite3(&demo, "PRAGMA integrity_check"), "ok");
}
