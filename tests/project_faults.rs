//! Faults a researcher meets with a shared project file, from the command line: a full disk, a
//! read-only file or folder, another program holding the write lock, a project from a newer
//! lacrima. Each gets one clear line that says what to do, and the project is left exactly as
//! it was.

mod common;

use common::disk::SmallDisk;
use common::sqlite3::Sqlite3Shell;
use common::{SMALL_SURVEY, Scratch, dump, small_project};
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_lacrima");

/// The one line of the error, checked to be one line.
fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stderr}");
    lines[0]
}

const WAVE_TWO: &str = "\
resp_id,age,sex,orientation,answer_a,answer_b
R4,45,male,CBT,It helped us both,We grew closer
R5,29,female,humanistic,I was embarrassed,Nothing
";

fn lacrima_in(dir: &Path, project: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .env_remove("LACRIMA_PROJECT")
        .arg("-p")
        .arg(project)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_survey_wave_imported_onto_a_full_disk_is_refused_and_the_project_is_as_before() {
    let Some(disk) = SmallDisk::mount(4096) else {
        return;
    };
    let dir = disk.path();
    let project = dir.join("p.db");
    std::fs::write(dir.join("survey.csv"), SMALL_SURVEY).unwrap();
    std::fs::write(dir.join("wave2.csv"), WAVE_TWO).unwrap();
    let out = lacrima_in(
        dir,
        &project,
        &[
            "import",
            "survey.csv",
            "--id",
            "resp_id",
            "--open",
            "answer_a,answer_b",
        ],
    );
    assert!(out.status.success());
    let before = dump(&project);
    let wave = [
        "import",
        "wave2.csv",
        "--id",
        "resp_id",
        "--open",
        "answer_a,answer_b",
    ];

    // A coder has the project open, so its -wal and -shm exist: the import runs out of room
    // while it writes, and its transaction is rolled back.
    let coder = rusqlite::Connection::open(&project).unwrap();
    coder
        .query_row("SELECT count(*) FROM respondents", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap();
    let filler = disk.fill();
    let out = lacrima_in(dir, &project, &wave);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = one_line(&err);
    assert!(line.contains("disk holding the project is full"), "{line}");
    assert!(line.contains("free some space"), "{line}");
    drop(coder);

    // Nobody has it open: SQLite cannot even make its -shm file, and says so.
    let out = lacrima_in(dir, &project, &wave);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = one_line(&err);
    assert!(
        line.contains("is full") && line.contains("free some space"),
        "{line}"
    );
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(dump(&project), before);
    let out = lacrima_in(dir, &project, &wave);
    assert!(out.status.success(), "{out:?}");

    // A first import onto a full disk leaves no half-made project behind.
    let filler = disk.fill();
    let fresh = dir.join("fresh.db");
    let out = lacrima_in(
        dir,
        &fresh,
        &[
            "import",
            "survey.csv",
            "--id",
            "resp_id",
            "--open",
            "answer_a,answer_b",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(one_line(&err).contains("full"), "{err}");
    assert!(!fresh.exists());
    std::fs::remove_file(&filler).unwrap();
}

/// Runs the binary as an unprivileged user when the tests run as root (root may write anywhere,
/// so read-only would mean nothing to it).
fn as_unprivileged(dir: &Path, project: &Path, args: &[&str]) -> std::process::Output {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN]);
        c
    } else {
        Command::new(BIN)
    };
    cmd.current_dir(dir)
        .env_remove("LACRIMA_PROJECT")
        .arg("-p")
        .arg(project)
        .args(args)
        .output()
        .unwrap()
}

#[cfg(unix)]
fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn give_to_nobody(p: &Path) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, 65534) }, 0);
    }
}

#[cfg(unix)]
#[test]
fn a_read_only_project_file_or_folder_is_refused_with_what_to_do() {
    let s = small_project();
    let folder = s.path("shared");
    std::fs::create_dir(&folder).unwrap();
    let project = folder.join("p.db");
    std::fs::rename(s.project(), &project).unwrap();
    let before = dump(&project);
    chmod(s.dir.path(), 0o755);
    give_to_nobody(&folder);
    give_to_nobody(&project);

    let companions_left = || {
        ["-wal", "-shm", "-journal"]
            .iter()
            .any(|sfx| folder.join(format!("p.db{sfx}")).exists())
    };

    // The file is writable but its folder is not: SQLite cannot make its -wal and -shm files.
    chmod(&folder, 0o555);
    for args in [&["info"][..], &["codings", "import", "/dev/null"]] {
        let out = as_unprivileged(&folder, &project, args);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let line = one_line(&err);
        assert!(
            line.contains("its folder") && line.contains("read-only"),
            "{line}"
        );
    }
    chmod(&folder, 0o755);

    // The file is read-only (an archived copy) in a writable folder.
    chmod(&project, 0o444);
    for args in [&["info"][..], &["codings", "import", "/dev/null"]] {
        let out = as_unprivileged(&folder, &project, args);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let line = one_line(&err);
        assert!(line.contains("the file is read-only"), "{line}");
        assert!(line.contains("chmod u+w"), "{line}");
        assert!(!companions_left(), "a refused open left files behind");
    }
    chmod(&project, 0o600);
    assert_eq!(dump(&project), before);
}

#[test]
fn another_program_holding_the_write_lock_is_named_and_nothing_changes() {
    let s = small_project();
    let project = s.project();
    s.write("wave2.csv", WAVE_TWO);
    let before = dump(&project);
    // A colleague's sqlite3 shell in the middle of a transaction.
    let shell = Sqlite3Shell::holding_write_lock(&project);

    let out = s
        .lacrima(&["import", "wave2.csv", "--open", "answer_a,answer_b"])
        .env("LACRIMA_BUSY_TIMEOUT", "0.2")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = one_line(&err);
    assert!(line.contains("another program is writing"), "{line}");
    #[cfg(target_os = "linux")]
    assert!(
        line.contains(&format!("sqlite3 (pid {})", shell.id())),
        "{line}"
    );

    shell.end("ROLLBACK");
    assert_eq!(dump(&project), before);
    // Once the shell is done, the same command goes through.
    s.lacrima(&["import", "wave2.csv", "--open", "answer_a,answer_b"])
        .assert()
        .success();
}

#[test]
fn a_project_from_a_newer_lacrima_is_refused_by_every_command_and_left_byte_for_byte() {
    let s = small_project();
    let project = s.project();
    {
        let c = rusqlite::Connection::open(&project).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    let bytes = std::fs::read(&project).unwrap();
    s.write("wave2.csv", WAVE_TWO);
    s.write(
        "codings.csv",
        "respondent,question,coder,code,start,end,memo\n",
    );
    for args in [
        vec!["info"],
        vec!["import", "wave2.csv", "--open", "answer_a,answer_b"],
        vec!["codings", "import", "codings.csv"],
        vec!["agreement"],
        vec!["code", "--coder", "ana"],
    ] {
        let err = s.fails(&args);
        let line = one_line(&err);
        assert!(
            line.contains("newer lacrima") && line.contains("upgrade lacrima"),
            "{args:?}: {line}"
        );
    }
    assert_eq!(std::fs::read(&project).unwrap(), bytes);
}

#[test]
fn a_folder_given_as_the_project_is_refused() {
    let s = Scratch::new();
    let folder = s.path("study");
    std::fs::create_dir(&folder).unwrap();
    let out = lacrima_in(s.dir.path(), &folder, &["info"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(one_line(&err).contains("is a folder"), "{err}");
}
