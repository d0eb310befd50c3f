//! The project file: the only module that speaks SQL.
//!
//! A project is one SQLite file in WAL mode with foreign keys on and a busy timeout, so that two
//! coders can work in it at once. Its schema is applied by numbered, append-only migrations keyed by
//! `PRAGMA user_version`; `PRAGMA application_id` marks the file as lacrima's so that any other file
//! is refused before SQLite writes a byte to it.

mod agreement_data;
mod analysis_data;
mod answers;
mod assign;
mod autocode;
mod bulk;
mod codebook;
mod codebook_edit;
mod coding_edit;
mod codings;
mod consensus;
mod dataset;
mod events;
mod exchange_in;
mod exchange_out;
mod file_guard;
mod merge;
mod presence;
mod rows;
mod summary;
mod survey;

pub use agreement_data::{AgreementRatings, RatingCoder};
pub use analysis_data::{
    AnswerState, BehindAnswer, BehindAnswers, BehindQuery, CodedAnswers, CodedRespondent,
    CoderOverview, ValueFilter,
};
pub use answers::{
    AnswerDetail, AnswerFilter, AnswerQuery, CodingSpan, FilterValue, ListRow, OtherCoding,
    QuestionRow,
};
pub use assign::{CoderProgress, MAX_PLAN_CODERS, Plan, PlanRequest, PlanSummary, plan_answers};
pub use autocode::{AutocodeApplied, FoundCoding};
pub use codebook::{CodeRecord, CodebookUpdate};
pub use codebook_edit::{CodeFields, CodeUse, NewCode};
pub use coding_edit::Toggled;
pub use codings::{CodingRow, ImportedCodings};
pub use consensus::{
    Adopt, AgreedSummary, Decision, DisagreementIndex, QueueItem, Span, Version, merge_segments,
};
pub use dataset::{
    AnswerRecord, CodeMemo, CodingRecord, DatasetLayout, DatasetQuestion, DatasetValue,
    DatasetVariable, ValueRow,
};
pub use events::Replayed;
pub use exchange_in::{ExchangeWriter, Finish, Imported, NoteTarget, SetRole};
pub use exchange_out::ValueShape;
pub use file_guard::{refuse_project_path, register as guard_project};
pub use merge::{
    CodeChanged, CoderMerge, MergeConflict, MergeHistory, MergeOptions, MergeReport, NotMerged,
    Prefer,
};
pub use presence::write_lock_holder;
pub use summary::{CoderSummary, ProjectSummary, QuestionSummary, VariableSummary};
pub use survey::{ExistingVariable, RespondentOutcome, RespondentRow, SurveyWriter, VariableKind};

use crate::error::{Error, Result};
use rusqlite::{Connection, MAIN_DB, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// "LCRM": written once at creation; a file without it is not ours.
pub const APPLICATION_ID: i32 = 0x4C43_524D;

/// Migration N (1-based) brings a project from user_version N-1 to N. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_coding_workspace.sql"),
    include_str!("migrations/003_assignments_consensus.sql"),
    include_str!("migrations/004_project_guid.sql"),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The file opened, to notice when the path comes to name another file or none.
    identity: Option<presence::FileId>,
    /// Whether a write waits out a busy project (commands) or gives up at once for the caller
    /// to try again later (the coding screen, which must not freeze).
    patient: bool,
}

fn not_a_project(path: &Path, why: &str) -> Error {
    Error::input(format!(
        "{} is not a lacrima project: {why}; it was left unchanged",
        path.display()
    ))
}

/// How long a command waits for another program's write to finish before it gives up: 10 s, or
/// `LACRIMA_BUSY_TIMEOUT` seconds (a script that would rather fail fast, or wait out a long job).
pub fn busy_timeout() -> Duration {
    std::env::var("LACRIMA_BUSY_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(10))
}
/// The coding screen's wait: short enough that a key never feels stuck.
const INTERACTIVE_BUSY_TIMEOUT: Duration = Duration::from_millis(100);

/// Asks SQLite whether the file is a lacrima project and returns its schema version. Reading the
/// header this way writes nothing, so any other file is refused exactly as it was.
fn identify(conn: &Connection, path: &Path) -> Result<i64> {
    let header = conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id()),
                (SELECT user_version FROM pragma_user_version()),
                (SELECT page_count FROM pragma_page_count())",
        [],
        |r| {
            Ok((
                r.get::<_, i32>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        },
    );
    let (app, version, pages) = match header {
        Ok(h) => h,
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::NotADatabase =>
        {
            return Err(not_a_project(path, "it is not an SQLite database"));
        }
        Err(e) => return Err(opening_failed(path, e.into())),
    };
    if pages == 0 {
        return Err(not_a_project(path, "the file is empty"));
    }
    if app != APPLICATION_ID {
        return Err(not_a_project(
            path,
            "it is an SQLite database of another program",
        ));
    }
    Ok(version)
}

/// Says why a project could not be opened when SQLite's own words would not tell a user what to
/// do: a read-only file or folder, or a file that vanished.
fn opening_failed(path: &Path, e: Error) -> Error {
    use rusqlite::ErrorCode::*;
    match e.sqlite_code() {
        Some(DiskFull | SystemIoFailure | CannotOpen) if disk_full(path) => Error::input(format!(
            "the disk holding {} is full, so SQLite cannot even open the project (it needs room \
             for its -shm and -wal files): nothing was changed; free some space and try again",
            path.display()
        )),
        Some(ReadOnly) => read_only(path),
        Some(CannotOpen) if !path.exists() => Error::NoProject(path.to_path_buf()),
        Some(CannotOpen) if folder_read_only(path) => read_only(path),
        _ => e,
    }
}

/// The folder a project's -wal and -shm go in ("." for a bare file name).
fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
}

fn folder_read_only(path: &Path) -> bool {
    !writable(folder_of(path))
}

fn read_only(path: &Path) -> Error {
    let dir = folder_of(path);
    let what = if !writable(path) {
        format!(
            "the file is read-only (make it writable: chmod u+w {})",
            path.display()
        )
    } else {
        format!(
            "its folder {} is read-only, and SQLite must create {}-wal and {}-shm beside it \
             (make the folder writable, or copy the project to a writable folder)",
            dir.display(),
            path.display(),
            path.display()
        )
    };
    Error::input(format!(
        "cannot open {} for writing: {what}; nothing was changed",
        path.display()
    ))
}

/// Whether the file system holding the project has no room left for this process (statvfs,
/// which opens nothing).
#[cfg(unix)]
pub fn disk_full(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let dir = folder_of(path);
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statvfs is plain data; the path is a valid NUL-terminated string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    // Less than one of the project's pages left is as good as none.
    (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) < 8192
}

#[cfg(not(unix))]
pub fn disk_full(_path: &Path) -> bool {
    false
}

/// Whether this process may write to the path (access(2), which opens nothing and knows about
/// root, ACLs and read-only mounts, as mode bits alone do not).
#[cfg(unix)]
pub(crate) fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

#[cfg(not(unix))]
pub(crate) fn writable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.permissions().readonly())
}

impl Store {
    /// Opens an existing project, upgrading its schema if it is older than this version.
    ///
    /// Whether the file is a lacrima project is asked of SQLite itself, never by reading the file
    /// directly: this process may hold other connections to it (the coding screen's worker), and
    /// closing any other descriptor of the file would drop their locks (see `file_guard`).
    pub fn open(path: &Path) -> Result<Store> {
        // `metadata` is a stat, not an open: it cannot disturb locks.
        match std::fs::metadata(path) {
            Err(_) => return Err(Error::NoProject(path.to_path_buf())),
            Ok(m) if m.is_dir() => {
                return Err(Error::input(format!(
                    "{} is a folder, not a project file: give the project's .db file with -p",
                    path.display()
                )));
            }
            Ok(_) => {}
        }
        file_guard::register(path);
        // Without CREATE: a file removed since the check above is an error, not a new project.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| opening_failed(path, e.into()))?;
        // Before anything is read: a read-only connection to a WAL project would leave -wal and
        // -shm files behind that it cannot remove.
        if conn.is_readonly(MAIN_DB)? {
            return Err(read_only(path));
        }
        conn.busy_timeout(busy_timeout())?;
        let version = identify(&conn, path)?;
        if version > SCHEMA_VERSION {
            return Err(Error::input(format!(
                "{} was written by a newer lacrima (schema {version}); this version reads up to \
                 schema {SCHEMA_VERSION}: upgrade lacrima to open it (the file was left unchanged)",
                path.display()
            )));
        }
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            identity: presence::file_id(path),
            patient: true,
        };
        store
            .configure()
            .and_then(|_| store.migrate())
            .map_err(|e| opening_failed(path, e))?;
        if store.meta("import_incomplete")?.is_some() {
            return Err(Error::input(format!(
                "the first import into {} was interrupted before it finished; delete the file \
                 and import again",
                path.display()
            )));
        }
        Ok(store)
    }

    /// Creates a new project readable by its owner only. The file is created with mode 0600 before
    /// SQLite opens it, so the journal files SQLite makes beside it inherit that mode.
    pub fn create(path: &Path) -> Result<Store> {
        // The descriptor is closed before SQLite's first connection to this new file exists, so
        // closing it cannot drop a lock (create_new refuses a file that existed already).
        drop(create_private_file(path)?);
        file_guard::register(path);
        let result = (|| {
            let conn = Connection::open(path)?;
            let mut store = Store {
                conn,
                path: path.to_path_buf(),
                identity: presence::file_id(path),
                patient: true,
            };
            // Larger pages make bulk imports of large surveys markedly faster; set before the
            // first write, after which SQLite keeps the file's page size.
            store.conn.pragma_update(None, "page_size", 8192)?;
            store
                .conn
                .pragma_update(None, "application_id", APPLICATION_ID)?;
            store.configure()?;
            store.migrate()?;
            store.set_meta("created_at", &crate::timefmt::now())?;
            store.set_meta("created_by", concat!("lacrima ", env!("CARGO_PKG_VERSION")))?;
            Ok(store)
        })();
        if result.is_err() {
            remove_project_files(path);
        }
        result
    }

    /// Opens the project, creating it first when the path does not exist. The flag says whether it
    /// was created (so a failed first import can remove it again).
    pub fn open_or_create(path: &Path) -> Result<(Store, bool)> {
        if path.exists() {
            Ok((Store::open(path)?, false))
        } else {
            Ok((Store::create(path)?, true))
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For the coding screen: a write that finds the project locked by another program gives up
    /// after a moment (the screen keeps the key and tries again) instead of freezing the screen
    /// for the whole busy timeout.
    pub fn interactive(&mut self) -> Result<()> {
        self.conn.busy_timeout(INTERACTIVE_BUSY_TIMEOUT)?;
        self.patient = false;
        Ok(())
    }

    /// How many times a write tries before it reports the project busy.
    pub(crate) fn write_attempts(&self) -> u32 {
        if self.patient { 6 } else { 1 }
    }

    fn configure(&mut self) -> Result<()> {
        self.conn.busy_timeout(busy_timeout())?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Error::input(format!(
                "{} was written by a newer lacrima (schema {version}); this version reads up to \
                 schema {SCHEMA_VERSION}: upgrade lacrima to open it",
                self.path.display()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM project_meta WHERE key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO project_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Writes a consistent copy of the project (also while others have it open) with mode 0600.
    pub fn backup_to(&self, target: &Path) -> Result<()> {
        refuse_project_path(target, "the backup")?;
        if target.exists() {
            return Err(Error::input(format!(
                "{} exists already: choose a new file name for the backup",
                target.display()
            )));
        }
        let tmp = sibling_temp(target);
        create_private_file(&tmp)?;
        let tmp_str = tmp.to_string_lossy().to_string();
        // VACUUM INTO accepts an existing empty file, so the 0600 mode set above is kept.
        let res = self.conn.execute("VACUUM INTO ?1", [&tmp_str]);
        if let Err(e) = res {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
        std::fs::rename(&tmp, target).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(target, e)
        })
    }

    /// Replaces the whole project with a copy of another project file, through SQLite's backup
    /// API: other programs that have this project open keep valid connections and see the new
    /// content, as they would after any other write. Used to rebuild the demo in place.
    pub fn replace_with(&mut self, source: &Path) -> Result<()> {
        self.conn
            .restore(MAIN_DB, source, None::<fn(rusqlite::backup::Progress)>)?;
        Ok(())
    }

    /// Checkpoints the WAL into the main file so a plain copy of the .db is complete.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Stops this connection from checkpointing the WAL on commit. SQLite otherwise copies the
    /// WAL into the database inside whichever commit crosses 1,000 pages, and that key takes
    /// ten times longer than the others; the coding screen checkpoints on its worker instead.
    pub fn defer_checkpoints(&self) -> Result<()> {
        self.conn().pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Copies what it can of the WAL into the database without waiting for anyone (another
    /// coder's open transaction simply leaves the rest for next time).
    pub fn checkpoint_passive(&self) -> Result<()> {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// A number that changes whenever another connection commits to the project, so the screen
    /// can pick up a second coder's new codes without re-reading everything all the time.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Returns the coder's id, creating the coder on first use.
    pub fn coder_id(&self, name: &str) -> Result<i64> {
        coder_id_in(&self.conn, name)
    }

    pub fn coder_names(&self) -> Result<Vec<(String, bool)>> {
        let mut st = self
            .conn
            .prepare("SELECT name, is_consensus FROM coders ORDER BY name")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

pub(crate) fn coder_id_in(conn: &Connection, name: &str) -> Result<i64> {
    if let Some(id) = conn
        .query_row("SELECT id FROM coders WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()?
    {
        return Ok(id);
    }
    if name.trim().is_empty() {
        return Err(Error::input("a coder's name cannot be empty"));
    }
    conn.execute(
        "INSERT INTO coders (name, created_at) VALUES (?1, ?2)",
        params![name, crate::timefmt::now()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// An SQL identifier in double quotes (inner quotes doubled), for the variables' columns and the
/// tables the importers make: names that come from files are never spliced into SQL bare.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Appends one event to the audit trail.
pub(crate) fn log_event(
    conn: &Connection,
    coder_id: Option<i64>,
    action: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO events (at, coder_id, action, before, after) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            crate::timefmt::now(),
            coder_id,
            action,
            before.map(|v| v.to_string()),
            after.map(|v| v.to_string())
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Creates a new, empty file with mode 0600 (an existing file is an error), open for writing and
/// for reading back (a spool file is read once it is written).
pub fn create_private_file(path: &Path) -> Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|e| Error::io(path, e))
}

/// A temporary name beside `target`, so that a rename into place stays on one file system.
pub fn sibling_temp(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "lacrima".into());
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty());
    let tmp = format!(".{name}.{}.tmp", std::process::id());
    match dir {
        Some(d) => d.join(tmp),
        None => PathBuf::from(tmp),
    }
}

/// Removes a project file with its WAL and shared-memory companions.
pub fn remove_project_files(path: &Path) {
    let _ = std::fs::remove_file(path);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(conn: &Connection) -> Vec<(String, String)> {
        let mut st = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_freshly_migrated_project_matches_schema_sql() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("p.db")).unwrap();
        let documented = Connection::open_in_memory().unwrap();
        documented
            .execute_batch(include_str!("../../schema.sql"))
            .unwrap();
        assert_eq!(schema_of(store.conn()), schema_of(&documented));
    }

    #[test]
    fn a_project_from_a_newer_lacrima_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        drop(Store::create(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(c);
        let err = Store::open(&path).err().unwrap().to_string();
        assert!(err.contains("newer lacrima"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn new_projects_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = Store::create(&path).unwrap();
        store.set_meta("x", "y").unwrap();
        for p in [path.clone(), dir.path().join("p.db-wal")] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
}
