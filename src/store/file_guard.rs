//! Keeps every descriptor of an open project file inside SQLite.
//!
//! SQLite locks the project with POSIX advisory locks, and POSIX drops *every* lock a process
//! holds on a file when the process closes *any* descriptor of that file. A survey read from,
//! or an export written to, the project's own path (or its -wal/-shm/-journal) would therefore
//! silently unlock the coding screen's connections: the next program to close its connection
//! would believe it was the last one, checkpoint and delete the WAL under them. Each project this
//! process opens is registered here, and the importers and exporters ask before they open a path.
//! Only `stat` is used on project paths, which opens no descriptor.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The companions SQLite keeps beside a database file.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

static OPEN_PROJECTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Records that this process has, or may soon have, a connection to the project at `path`.
pub fn register(path: &Path) {
    let full = absolute(path);
    let mut open = OPEN_PROJECTS.lock().unwrap_or_else(|e| e.into_inner());
    if !open.contains(&full) {
        open.push(full);
    }
}

/// Refuses a path that is an open project's file or one of its companions, so that no code but
/// SQLite opens, writes or closes it. `what` says what the path was given for ("the survey",
/// "the export"), for the message.
pub fn refuse_project_path(path: &Path, what: &str) -> Result<()> {
    let open = OPEN_PROJECTS.lock().unwrap_or_else(|e| e.into_inner());
    for project in open.iter() {
        if let Some(name) = names_project_file(path, project) {
            return Err(Error::input(format!(
                "{} is {name} of the project {}: give another file for {what} (lacrima never \
                 reads or writes a project's files except through SQLite)",
                path.display(),
                project.display()
            )));
        }
    }
    Ok(())
}

/// Refuses a path that is one of an open project's companions (-wal, -shm, -journal), which
/// SQLite alone may open, but lets through a project's database file itself: for reading
/// another project through SQLite (`ATTACH`), as `lacrima merge` does. That cannot disturb the
/// locks: SQLite knows every file it has open in this process by inode and keeps a descriptor
/// it closes open while the process holds locks on that file.
pub fn refuse_companion_path(path: &Path, what: &str) -> Result<()> {
    let open = OPEN_PROJECTS.lock().unwrap_or_else(|e| e.into_inner());
    for project in open.iter() {
        if let Some(name) = names_project_file(path, project).filter(|n| *n != "the database file")
        {
            return Err(Error::input(format!(
                "{} is {name} of the project {}: give the project's .db file for {what}",
                path.display(),
                project.display()
            )));
        }
    }
    Ok(())
}

/// Whether `path` is the project's database or one of its companions, by file identity where the
/// file exists and by name where it does not yet (a -wal that SQLite will create).
fn names_project_file(path: &Path, project: &Path) -> Option<&'static str> {
    let candidate = absolute(path);
    let mut names = vec![(project.to_path_buf(), "the database file")];
    for suffix in COMPANIONS {
        let mut p = project.as_os_str().to_owned();
        p.push(suffix);
        names.push((PathBuf::from(p), companion_name(suffix)));
    }
    for (file, name) in &names {
        if *file == candidate || same_file(file, &candidate) {
            return Some(name);
        }
    }
    None
}

fn companion_name(suffix: &str) -> &'static str {
    match suffix {
        "-wal" => "the write-ahead log",
        "-shm" => "the shared-memory index",
        _ => "the rollback journal",
    }
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The path made absolute with its folder resolved, without touching the file itself (which
/// may not exist yet).
fn absolute(path: &Path) -> PathBuf {
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (joined.parent(), joined.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(joined),
        _ => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_and_its_companions_are_refused_under_any_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("guarded.db");
        std::fs::write(&project, b"").unwrap();
        register(&project);
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let roundabout = sub.join("..").join("guarded.db");
        for p in [
            project.clone(),
            roundabout,
            dir.path().join("guarded.db-wal"),
            dir.path().join("guarded.db-shm"),
        ] {
            let err = refuse_project_path(&p, "the export")
                .unwrap_err()
                .to_string();
            assert!(err.contains("guarded.db"), "{err}");
        }
        #[cfg(unix)]
        {
            let link = dir.path().join("alias.db");
            std::os::unix::fs::symlink(&project, &link).unwrap();
            assert!(refuse_project_path(&link, "the survey").is_err());
        }
        assert!(refuse_project_path(&dir.path().join("other.csv"), "the export").is_ok());
    }
}
