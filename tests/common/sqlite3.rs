//! The sqlite3 shell as another program using the project file: a researcher's one query, or a
//! colleague's session sitting inside a transaction.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// A plain SQLite client in another process: opens the file, runs `sql`, closes it; its output.
pub fn sqlite3(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 shell is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A colleague's sqlite3 shell in the middle of a transaction (`BEGIN IMMEDIATE`): it holds the
/// project's write lock from [`Sqlite3Shell::holding_write_lock`] until [`Sqlite3Shell::end`].
pub struct Sqlite3Shell {
    child: Child,
    stdin: ChildStdin,
}

impl Sqlite3Shell {
    /// Starts the shell on `db` and returns once it holds the write lock.
    pub fn holding_write_lock(db: &Path) -> Sqlite3Shell {
        let mut child = Command::new("sqlite3")
            .arg(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"BEGIN IMMEDIATE;\nSELECT 'locked';\n")
            .unwrap();
        stdin.flush().unwrap();
        // Wait until the shell has the lock.
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
        Sqlite3Shell { child, stdin }
    }

    /// The shell's process id (what lacrima names as the holder of the lock).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Ends the transaction with `how` (`COMMIT` or `ROLLBACK`), quits, and waits for the shell.
    pub fn end(mut self, how: &str) {
        self.stdin
            .write_all(format!("{how};\n.quit\n").as_bytes())
            .unwrap();
        drop(self.stdin);
        self.child.wait().unwrap();
    }
}
