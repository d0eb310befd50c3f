//! A prepared statement for bulk inserts that binds text without copying it.
//!
//! rusqlite binds every text as `SQLITE_TRANSIENT`, so SQLite allocates and copies each one before
//! the statement runs. A survey import binds about ten texts per respondent, a million
//! respondents at a time, and those copies were a tenth of the writing thread's time. Here texts
//! are bound `SQLITE_STATIC`: SQLite reads them in place. That is sound only while the bound
//! bytes outlive the statement's use of them, which [`BulkStatement::run`] guarantees by binding,
//! running and unbinding within one call whose borrowed data outlives it.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ffi};
use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

pub(crate) struct BulkStatement<'c> {
    db: *mut ffi::sqlite3,
    stmt: NonNull<ffi::sqlite3_stmt>,
    _conn: PhantomData<&'c Connection>,
}

impl<'c> BulkStatement<'c> {
    pub fn prepare(conn: &'c Connection, sql: &str) -> rusqlite::Result<Self> {
        // SAFETY: the handle is the connection's own and lives as long as 'c; the statement is
        // finalized in Drop, before the connection can close.
        unsafe {
            let db = conn.handle();
            let mut stmt = ptr::null_mut();
            let rc = ffi::sqlite3_prepare_v3(
                db,
                sql.as_ptr().cast(),
                c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::InvalidQuery)?,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut stmt,
                ptr::null_mut(),
            );
            if rc != ffi::SQLITE_OK {
                return Err(error_from(db, rc));
            }
            let stmt = NonNull::new(stmt).ok_or(rusqlite::Error::InvalidQuery)?;
            Ok(BulkStatement {
                db,
                stmt,
                _conn: PhantomData,
            })
        }
    }

    /// Binds the parameters with `bind`, runs the statement once and unbinds them again. Returns
    /// the number of rows changed. Everything bound lives for 'd, which outlasts this call.
    pub fn run<'d>(&mut self, bind: impl FnOnce(&mut Binder<'_, 'd>)) -> rusqlite::Result<usize> {
        let mut binder = Binder {
            stmt: self.stmt.as_ptr(),
            rc: ffi::SQLITE_OK,
            _data: PhantomData,
            _stmt: PhantomData,
        };
        bind(&mut binder);
        // SAFETY: the statement is live; the bound texts are borrowed for 'd, which outlives
        // this call, and are unbound before it returns.
        unsafe {
            let stmt = self.stmt.as_ptr();
            let result = if binder.rc != ffi::SQLITE_OK {
                Err(error_from(self.db, binder.rc))
            } else {
                match ffi::sqlite3_step(stmt) {
                    ffi::SQLITE_DONE | ffi::SQLITE_ROW => {
                        Ok(ffi::sqlite3_changes64(self.db) as usize)
                    }
                    rc => Err(error_from(self.db, rc)),
                }
            };
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
            result
        }
    }
}

impl Drop for BulkStatement<'_> {
    fn drop(&mut self) {
        // SAFETY: prepared by this value and finalized exactly once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt.as_ptr());
        }
    }
}

/// Binds one run's parameters (1-based, as in SQL). The first failure is kept and returned by
/// [`BulkStatement::run`] without running the statement.
pub(crate) struct Binder<'s, 'd> {
    stmt: *mut ffi::sqlite3_stmt,
    rc: c_int,
    _data: PhantomData<&'d [u8]>,
    _stmt: PhantomData<&'s mut ()>,
}

impl<'d> Binder<'_, 'd> {
    fn check(&mut self, rc: c_int) {
        if self.rc == ffi::SQLITE_OK {
            self.rc = rc;
        }
    }

    fn index(i: usize) -> c_int {
        // An index past c_int is out of range; SQLite reports it as SQLITE_RANGE.
        c_int::try_from(i).unwrap_or(c_int::MAX)
    }

    pub fn int(&mut self, i: usize, v: i64) {
        // SAFETY: binding a plain value to a live statement.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt, Self::index(i), v) };
        self.check(rc);
    }

    pub fn text(&mut self, i: usize, v: &'d str) {
        self.bytes(i, v.as_bytes());
    }

    /// Binds UTF-8 bytes as text, in place.
    fn bytes(&mut self, i: usize, v: &'d [u8]) {
        // SAFETY: SQLITE_STATIC: the bytes live for 'd, which outlasts the run that unbinds
        // them; a slice's pointer is never null, so even an empty text binds as text.
        let rc = unsafe {
            ffi::sqlite3_bind_text64(
                self.stmt,
                Self::index(i),
                v.as_ptr().cast(),
                v.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            )
        };
        self.check(rc);
    }

    pub fn value(&mut self, i: usize, v: ValueRef<'d>) {
        // SAFETY (each arm): binding to a live statement; text as in `bytes`.
        let rc = match v {
            ValueRef::Null => unsafe { ffi::sqlite3_bind_null(self.stmt, Self::index(i)) },
            ValueRef::Integer(n) => unsafe {
                ffi::sqlite3_bind_int64(self.stmt, Self::index(i), n)
            },
            ValueRef::Real(f) => unsafe { ffi::sqlite3_bind_double(self.stmt, Self::index(i), f) },
            ValueRef::Text(t) => {
                self.bytes(i, t);
                return;
            }
            ValueRef::Blob(b) => unsafe {
                ffi::sqlite3_bind_blob64(
                    self.stmt,
                    Self::index(i),
                    b.as_ptr().cast(),
                    b.len() as u64,
                    ffi::SQLITE_STATIC(),
                )
            },
        };
        self.check(rc);
    }
}

/// The connection's message for a failed call, as rusqlite reports its own errors.
fn error_from(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: errmsg returns a NUL-terminated string owned by the connection, copied at once.
    let (code, message) = unsafe {
        let code = ffi::sqlite3_extended_errcode(db);
        let code = if code == ffi::SQLITE_OK { rc } else { code };
        let msg = ffi::sqlite3_errmsg(db);
        let message = (!msg.is_null()).then(|| CStr::from_ptr(msg).to_string_lossy().into_owned());
        (code, message)
    };
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b TEXT UNIQUE)")
            .unwrap();
        conn
    }

    fn two_texts(conn: &Connection, sql: &str) -> Vec<(String, String)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn texts_bound_in_place_are_stored_whole_and_the_buffer_can_be_reused() {
        let conn = table();
        let mut st = BulkStatement::prepare(&conn, "INSERT INTO t (a, b) VALUES (?1, ?2)").unwrap();
        let mut buf = String::new();
        for (a, b) in [
            ("Zoë 😢", "first"),
            ("", "second"),
            ("line\nbreak", "third"),
        ] {
            buf.clear();
            buf.push_str(a);
            buf.push_str(b);
            let changed = st
                .run(|p| {
                    p.text(1, &buf[..a.len()]);
                    p.value(2, ValueRef::Text(&buf.as_bytes()[a.len()..]));
                })
                .unwrap();
            assert_eq!(changed, 1);
        }
        drop(st);
        assert_eq!(
            two_texts(&conn, "SELECT a, b FROM t ORDER BY id"),
            [
                ("Zoë 😢".to_string(), "first".to_string()),
                (String::new(), "second".to_string()),
                ("line\nbreak".to_string(), "third".to_string())
            ]
        );
        let kinds = two_texts(&conn, "SELECT typeof(a), typeof(b) FROM t ORDER BY id");
        assert!(
            kinds.iter().all(|(a, b)| a == "text" && b == "text"),
            "an empty text is text, not NULL: {kinds:?}"
        );
    }

    #[test]
    fn numbers_and_nulls_keep_their_types() {
        let conn = table();
        let mut st = BulkStatement::prepare(&conn, "INSERT INTO t (a, b) VALUES (?1, ?2)").unwrap();
        st.run(|p| {
            p.value(1, ValueRef::Integer(7));
            p.value(2, ValueRef::Null);
        })
        .unwrap();
        st.run(|p| {
            p.value(1, ValueRef::Real(2.5));
            p.int(2, 3);
        })
        .unwrap();
        drop(st);
        assert_eq!(
            two_texts(&conn, "SELECT typeof(a), typeof(b) FROM t ORDER BY id"),
            [
                ("integer".to_string(), "null".to_string()),
                ("real".to_string(), "text".to_string())
            ]
        );
    }

    #[test]
    fn a_constraint_failure_is_reported_and_the_statement_runs_again_afterwards() {
        let conn = table();
        let mut st = BulkStatement::prepare(&conn, "INSERT INTO t (a, b) VALUES (?1, ?2)").unwrap();
        st.run(|p| {
            p.int(1, 1);
            p.text(2, "same");
        })
        .unwrap();
        let err = st
            .run(|p| {
                p.int(1, 2);
                p.text(2, "same");
            })
            .unwrap_err();
        match err {
            rusqlite::Error::SqliteFailure(e, Some(msg)) => {
                assert_eq!(e.code, rusqlite::ErrorCode::ConstraintViolation);
                assert!(msg.contains("UNIQUE"), "{msg}");
            }
            other => panic!("unexpected {other:?}"),
        }
        st.run(|p| {
            p.int(1, 3);
            p.text(2, "other");
        })
        .unwrap();
    }

    #[test]
    fn binding_past_the_last_parameter_is_an_error_and_nothing_is_written() {
        let conn = table();
        let mut st = BulkStatement::prepare(&conn, "INSERT INTO t (a, b) VALUES (?1, ?2)").unwrap();
        let err = st
            .run(|p| {
                p.int(1, 1);
                p.int(2, 2);
                p.int(3, 3);
            })
            .unwrap_err();
        assert!(matches!(err, rusqlite::Error::SqliteFailure(..)), "{err:?}");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn the_bundled_sqlite_keeps_no_allocation_statistics() {
        // Set in .cargo/config.toml; without it every SQLite malloc takes a global mutex.
        let conn = Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("SELECT compile_options FROM pragma_compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    #[test]
    fn bad_sql_is_an_error_not_a_crash() {
        let conn = table();
        assert!(BulkStatement::prepare(&conn, "INSERT INTO nowhere VALUES (?1)").is_err());
    }
}
