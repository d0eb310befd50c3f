//! The library's error type. Every message a user sees says what went wrong, where, and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem with the user's input or request; the message is complete and located.
    #[error("{0}")]
    Input(String),
    #[error("no project at {0} (create one with `lacrima init` or `lacrima import`)")]
    NoProject(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the project file {} was moved or deleted while lacrima had it open: nothing more can \
         be saved to it",
        .0.display()
    )]
    ProjectGone(PathBuf),
    #[error("{}", sqlite_message(.0))]
    Sqlite(#[from] rusqlite::Error),
}

impl Error {
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// SQLite's primary result code, when SQLite refused.
    pub fn sqlite_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => Some(f.code),
            _ => None,
        }
    }

    /// Another program held the write lock longer than this connection waits.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.sqlite_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

pub const DISK_FULL: &str = "the disk holding the project is full: nothing of this action was \
                             saved; free some space and do it again";

/// SQLite's refusals that a user meets (a full disk, a lock held elsewhere, a read-only or
/// vanished file) in words that say what happened and what to do; every write is a transaction,
/// so each of them means the action was not saved and the project is as it was.
fn sqlite_message(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode::*;
    let rusqlite::Error::SqliteFailure(f, detail) = e else {
        return format!("database error: {e}");
    };
    let detail = detail.as_deref().unwrap_or("");
    match f.code {
        DiskFull => DISK_FULL.into(),
        TooBig => {
            format!("a value is too large for the project file ({detail}); nothing was saved")
        }
        DatabaseBusy | DatabaseLocked => "another program is writing to the project and has held \
             its write lock longer than lacrima waits: nothing was changed; try again when it \
             has finished (a sqlite3 shell inside BEGIN holds the lock until COMMIT)"
            .into(),
        ReadOnly => "the project cannot be written (its file or folder is read-only, or it was \
                     opened read-only): nothing was saved"
            .into(),
        SystemIoFailure | CannotOpen => format!(
            "the project file could not be read or written ({detail}; it may have been moved, \
             deleted or its disk removed): nothing more was saved"
        ),
        DatabaseCorrupt => format!(
            "the project file is damaged ({detail}): stop working in it, keep a copy, and \
             restore the latest backup or try `sqlite3 PROJECT .recover`"
        ),
        _ => format!("database error: {e}"),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
