//! Whether the project file is still where it was opened, saving what an open connection holds
//! when it is not, and naming the program that holds the project's write lock.
//!
//! A project moved or deleted while open keeps working for this process (its descriptors still
//! point at the old file), but whatever it writes from then on reaches no one: the next program to
//! open the path finds another file, or none, and a moved database is parted from its WAL. So
//! writes check first, and the coding screen saves a rescue copy through SQLite as soon as it
//! notices. All of this uses `stat` and /proc, never a descriptor of the project's files.

use super::{Store, create_private_file};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// What identifies a file across renames: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
pub(super) fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

#[cfg(not(unix))]
pub(super) fn file_id(_path: &Path) -> Option<FileId> {
    None
}

impl Store {
    /// Fails with `Error::ProjectGone` when the project's path no longer names the file this
    /// store opened (moved, deleted, replaced, or its disk gone).
    pub fn still_in_place(&self) -> Result<()> {
        match self.identity {
            Some(id) if file_id(&self.path) != Some(id) => {
                Err(Error::ProjectGone(self.path.clone()))
            }
            _ => Ok(()),
        }
    }

    /// Writes everything this connection can still read into a new project file beside the old
    /// path (or in the current folder, or the temporary folder, when that folder is gone), and
    /// returns where. `VACUUM INTO` reads through the open connection, so it saves the work even
    /// when the file itself has been deleted.
    pub fn rescue(&self) -> Result<PathBuf> {
        let stamp = crate::timefmt::now()
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(14)
            .collect::<String>();
        let name = format!(
            "{}.rescued-{stamp}.db",
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| "lacrima".into())
        );
        let mut folders: Vec<PathBuf> = Vec::new();
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            folders.push(dir.to_path_buf());
        }
        folders.push(PathBuf::from("."));
        folders.push(std::env::temp_dir());
        let mut last = None;
        for dir in folders {
            let target = dir.join(&name);
            match create_private_file(&target) {
                Ok(f) => drop(f),
                Err(e) => {
                    last = Some(e);
                    continue;
                }
            }
            let into = target.to_string_lossy().to_string();
            match self.conn.execute("VACUUM INTO ?1", [&into]) {
                Ok(_) => return Ok(target),
                Err(e) => {
                    let _ = std::fs::remove_file(&target);
                    last = Some(e.into());
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::input("no folder could take a rescue copy")))
    }

    /// The program holding the project's write lock, as "name (pid N)", when the system says
    /// (Linux, same process namespace); `None` when it cannot be told or nobody holds it.
    pub fn write_lock_holder(&self) -> Option<String> {
        write_lock_holder(&self.path)
    }
}

/// In WAL mode the writer holds a POSIX write lock on byte 120 of the -shm file (SQLite's
/// WAL_WRITE_LOCK); /proc/locks names the process that holds it.
#[cfg(target_os = "linux")]
pub fn write_lock_holder(project: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    const WAL_WRITE_LOCK: u64 = 120;
    let mut shm = project.as_os_str().to_owned();
    shm.push("-shm");
    let meta = std::fs::metadata(PathBuf::from(shm)).ok()?;
    let id = format!(
        "{:02x}:{:02x}:{}",
        libc::major(meta.dev()),
        libc::minor(meta.dev()),
        meta.ino()
    );
    let me = std::process::id();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let pid = locks.lines().find_map(|line| {
        // "1: POSIX  ADVISORY  WRITE 4242 fd:01:1234 120 120"; "1: -> POSIX ..." is a waiter.
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.contains(&"->") || f.len() < 8 || f[1] != "POSIX" || f[3] != "WRITE" || f[5] != id {
            return None;
        }
        let start: u64 = f[6].parse().ok()?;
        let end: u64 = if f[7] == "EOF" {
            u64::MAX
        } else {
            f[7].parse().ok()?
        };
        let pid: u32 = f[4].parse().ok()?;
        (start <= WAL_WRITE_LOCK && WAL_WRITE_LOCK <= end && pid != me && pid != 0).then_some(pid)
    })?;
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "a program".into());
    Some(format!("{name} (pid {pid})"))
}

#[cfg(not(target_os = "linux"))]
pub fn write_lock_holder(_project: &Path) -> Option<String> {
    None
}
