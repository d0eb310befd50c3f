//! Merging a coder's copy of the project back into it (`lacrima merge OTHER`).
//!
//! Coders work in copies of one project (made with `cp` or `lacrima backup`, coded on a laptop
//! offline) and merge them back. The copy is attached read-only to this project's connection
//! (`ATTACH 'file:...?mode=ro' AS other`), so that nothing but SQLite opens it, nothing can be
//! written to it, and every comparison is one statement over both files instead of a round trip
//! per row: merging copies of a 100,000-respondent project takes seconds.
//!
//! Rows are matched by what both copies agree on, never by local row ids: codes by GUID,
//! respondents by ID, answers by (respondent ID, question name), coders by name.
//!
//! What changed since the copies parted is a three-way comparison of "here" (this project),
//! "theirs" (the copy) and the base (what both held when they parted), per (coder, answer) unit
//! (that coder's codings, review mark, memo and consensus decisions on the answer), per field of
//! each code, and per memo on a code. Changed on one side only: that side's version is the
//! result; changed on both and now different: a conflict, left as it is unless `--prefer`
//! settles it.
//!
//! The base is rebuilt from an event log. Both copies share their log up to the moment they
//! were copied; after that each went on alone. Every undoable write logs the rows it changed with
//! their state before, so the base state of a row is the `before` of the first event after the
//! parting that touched it, or the row as it is now when no later event touched it. Codings
//! imports log no rows, but stamp what they add with the time in their event (`stamp`), so those
//! rows are known to be new. When a side's log cannot tell (an import by an older lacrima, or a
//! codebook import), that side counts as having changed everything that differs, which turns
//! merges into conflicts rather than ever dropping work silently.
//!
//! A merge logs one event (action `merge`) with every row it changed, in the form the undo
//! machinery replays (`lacrima merge --undo`), and a record of the copy's log as merged: its
//! length and a fingerprint of its last event. A later merge with the same copy (or with this
//! project merged into the copy) starts from that state instead of the original parting, as
//! `git` starts from the last merge, so that a coder who merges every evening and codes on in
//! the same copy never meets their own earlier work as a conflict.

use super::Store;
use super::rows::{Table, read_row, write_row};
use crate::error::{Error, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

mod codebook;
mod history;
mod report;
#[cfg(test)]
mod tests;
mod undo;
mod units;

/// Which version settles a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefer {
    Mine,
    Theirs,
}

/// What to merge and how.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// Only these coders' codings, review marks and memos (empty: every coder). The codebook is
    /// always merged, since codings need their codes.
    pub coders: Vec<String>,
    pub prefer: Option<Prefer>,
    /// Work everything out, report it, and change nothing.
    pub dry_run: bool,
}

/// What a merge did (or, in a dry run, would do).
#[derive(Debug, Serialize)]
pub struct MergeReport {
    pub other: String,
    pub dry_run: bool,
    pub history: MergeHistory,
    pub coders: Vec<CoderMerge>,
    pub codes_added: Vec<String>,
    pub codes_changed: Vec<CodeChanged>,
    pub codes_deleted: Vec<String>,
    pub conflicts: Vec<MergeConflict>,
    pub not_merged: NotMerged,
    /// The `merge` event in this project's log (None in a dry run or when nothing changed).
    pub event_id: Option<i64>,
}

/// How the two copies' histories relate.
#[derive(Debug, Serialize)]
pub struct MergeHistory {
    /// False when the two projects share no history at all (they were never one project).
    pub related: bool,
    /// Events both logs hold, in the same order: the history before they parted.
    pub shared_events: i64,
    /// When the last shared event happened.
    pub parted_after: Option<String>,
    pub events_here: i64,
    pub events_theirs: i64,
    /// The earlier merge between the two that this merge starts from, described.
    pub since_merge: Option<String>,
}

/// One coder's share of the merge.
#[derive(Debug, Default, Serialize)]
pub struct CoderMerge {
    pub coder: String,
    /// The coder was added to this project by the merge.
    pub new_here: bool,
    /// Answers whose coding by this coder was taken from the copy.
    pub answers_taken: i64,
    /// Answers coded differently in the two copies where only this project changed since they
    /// parted: this project's version stays.
    pub answers_kept: i64,
    pub conflicts: i64,
    pub codings_added: i64,
    pub codings_removed: i64,
    /// Codings whose memo changed.
    pub codings_changed: i64,
    pub reviews_added: i64,
    pub reviews_removed: i64,
    pub memos_added: i64,
    pub memos_changed: i64,
    pub memos_removed: i64,
}

#[derive(Debug, Serialize)]
pub struct CodeChanged {
    pub code: String,
    pub fields: Vec<String>,
}

/// A difference the merge did not settle on its own.
#[derive(Debug, Serialize)]
pub struct MergeConflict {
    /// `answer` (a coder's coding of an answer changed in both), `answer_text` (the answer's text
    /// differs between the copies), `code_missing` (the copy's version uses a code this codebook
    /// lacks), `code_field` (a field of a code changed differently in both), `code_name` (a
    /// name or shortcut that another code has here), `code_deleted` (deleted in one, changed or
    /// still used in the other), `code_memo` (a memo on a code changed in both).
    pub kind: &'static str,
    pub respondent: Option<String>,
    pub question: Option<String>,
    pub coder: Option<String>,
    pub code: Option<String>,
    pub field: Option<String>,
    /// This project's version, in short.
    pub here: String,
    /// The copy's version, in short.
    pub theirs: String,
    /// The version `--prefer` chose; None: left as it is.
    pub settled: Option<Prefer>,
    pub note: Option<String>,
}

/// What the copy holds that a merge cannot bring in.
#[derive(Debug, Default, Serialize)]
pub struct NotMerged {
    /// Respondents of the copy that are not in this project (a wave imported there only).
    pub respondents: i64,
    /// Questions of the copy that are not in this project.
    pub questions: Vec<String>,
    /// Answers coded in the copy (by the coders merged) that are left out for that reason.
    pub answers_coded: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Mine,
    Theirs,
}

impl Side {
    /// The schema the side is attached as: a constant, never user text.
    fn schema(self) -> &'static str {
        match self {
            Side::Mine => "main",
            Side::Theirs => "other",
        }
    }
}

/// A state both copies have held, from which a merge compares: where it is rebuilt from.
struct Base {
    /// The side whose log rebuilds it and the last event it includes; None: the empty project
    /// (no shared history).
    from: Option<(Side, i64)>,
    /// Stamps of the codings imports on that side after the point: rows carrying them are new.
    stamps: Vec<String>,
    /// That side's log cannot tell what it changed in codings (codebook).
    opaque_units: bool,
    opaque_codes: bool,
    /// Conflicts the merge this base comes from left open: still conflicts.
    left_units: Vec<(String, String, String)>,
    left_codes: Vec<String>,
}

/// A `merge` event's record of the copy it merged.
struct Record {
    /// The log that holds the record.
    held_by: Side,
    event: i64,
    /// The other side's log length when it was merged.
    point: i64,
    coders: Option<Vec<String>>,
    left_units: Vec<(String, String, String)>,
    left_codes: Vec<String>,
    /// The fingerprint of the other side's last event as merged.
    print: Option<String>,
}

/// The fields of a code that a merge compares, in the order reports list them.
const FIELDS: [&str; 10] = [
    "name",
    "description",
    "inclusion",
    "exclusion",
    "example",
    "color",
    "shortcut",
    "codable",
    "parent",
    "position",
];

/// A code as the merge compares it: fields as JSON values, the parent as a GUID.
#[derive(Debug, Clone, PartialEq)]
struct Code {
    id: i64,
    fields: BTreeMap<&'static str, Json>,
}

impl Code {
    fn get(&self, f: &str) -> &Json {
        self.fields.get(f).unwrap_or(&Json::Null)
    }

    fn name(&self) -> String {
        self.get("name").as_str().unwrap_or("").to_string()
    }
}

const TEMP_TABLES: &str = "
    DROP TABLE IF EXISTS temp.m_rmap; DROP TABLE IF EXISTS temp.m_coder;
    DROP TABLE IF EXISTS temp.m_touch; DROP TABLE IF EXISTS temp.m_stamp;
    DROP TABLE IF EXISTS temp.m_bcode; DROP TABLE IF EXISTS temp.m_unit;
    DROP TABLE IF EXISTS temp.m_ur; DROP TABLE IF EXISTS temp.m_take;
    DROP TABLE IF EXISTS temp.m_ev; DROP TABLE IF EXISTS temp.m_mine;
    DROP TABLE IF EXISTS temp.m_theirs; DROP TABLE IF EXISTS temp.m_code;
    DROP TABLE IF EXISTS temp.m_dig;";

const CREATE_TEMP: &str = "
    -- The copy's answers that this project has too: their ids here, and whether the texts agree.
    CREATE TEMP TABLE m_rmap (t_id INTEGER PRIMARY KEY, m_id INTEGER NOT NULL,
                              same INTEGER NOT NULL);
    -- Every coder of either side by name; sel: merged (--coders); base: the base it merges from.
    CREATE TEMP TABLE m_coder (name TEXT PRIMARY KEY, m_id INTEGER, t_id INTEGER,
                               t_consensus INTEGER NOT NULL DEFAULT 0,
                               sel INTEGER NOT NULL DEFAULT 1, base INTEGER);
    -- Per base: the first state after its point of every row a later event touched.
    CREATE TEMP TABLE m_touch (b INTEGER NOT NULL, tbl TEXT, r INTEGER, c INTEGER, k INTEGER,
                               s INTEGER, e INTEGER, ev INTEGER, row TEXT);
    CREATE TEMP TABLE m_stamp (b INTEGER NOT NULL, stamp TEXT NOT NULL);
    -- Per base: the GUID of each code id as it was at the base.
    CREATE TEMP TABLE m_bcode (b INTEGER NOT NULL, id INTEGER NOT NULL, guid TEXT NOT NULL,
                               PRIMARY KEY (b, id));
    -- The (answer, coder) units that differ between the sides, and what becomes of each.
    CREATE TEMP TABLE m_unit (r INTEGER NOT NULL, coder TEXT NOT NULL, base INTEGER,
                              same INTEGER, dm TEXT, dt TEXT, db TEXT, verdict TEXT,
                              settled INTEGER NOT NULL DEFAULT 0, left_open INTEGER NOT NULL DEFAULT 0,
                              PRIMARY KEY (r, coder)) WITHOUT ROWID;
    -- The rows of those units in each version (0 here, 1 theirs, 2 + b base b), with codes as
    -- GUIDs: kind 1 coding (v memo), 2 review, 3 memo (v text), 4 consensus decision.
    CREATE TEMP TABLE m_ur (ver INTEGER NOT NULL, r INTEGER NOT NULL, coder TEXT NOT NULL,
                            kind INTEGER NOT NULL, g TEXT NOT NULL, s INTEGER, e INTEGER,
                            v TEXT NOT NULL, stamp TEXT);
    CREATE INDEX temp.m_ur_unit ON m_ur (ver, r, coder);
    CREATE TABLE temp.m_take (r INTEGER NOT NULL, c INTEGER NOT NULL, PRIMARY KEY (r, c))
        WITHOUT ROWID;
    -- The rows the merge changes, in the order written: the event's rows.
    CREATE TEMP TABLE m_ev (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, r INTEGER, c INTEGER,
                            k INTEGER, s INTEGER, e INTEGER, key TEXT NOT NULL, before TEXT,
                            after TEXT);";

fn one<T: rusqlite::types::FromSql>(
    c: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
) -> Result<T> {
    Ok(c.query_row(sql, p, |r| r.get(0))?)
}

/// A stable 64-bit FNV-1a hash (std's hasher may change between Rust releases, and the
/// fingerprint is stored in the project).
fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h ^= 0x1f;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The fingerprint of a side's event: same when the event is the same in another copy.
fn fingerprint(c: &Connection, side: Side, id: i64) -> Result<Option<String>> {
    let s = side.schema();
    Ok(c.query_row(
        &format!(
            "SELECT e.at, e.action, d.name, e.before, e.after FROM {s}.events e
                 LEFT JOIN {s}.coders d ON d.id = e.coder_id WHERE e.id = ?1"
        ),
        [id],
        |r| {
            let text = |i: usize| -> rusqlite::Result<String> {
                Ok(r.get::<_, Option<String>>(i)?
                    .unwrap_or_else(|| "\u{0}".into()))
            };
            Ok(fnv(&[
                &text(0)?,
                &text(1)?,
                &text(2)?,
                &text(3)?,
                &text(4)?,
            ]))
        },
    )
    .optional()?)
}

/// `file:` URI of a path for a read-only ATTACH (characters other than unreserved ones
/// percent-encoded, so that `?`, `#` and `%` in a file name stay part of it).
fn read_only_uri(path: &Path) -> Result<String> {
    let abs = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
    let mut out = String::from("file:");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str("?mode=ro");
    Ok(out)
}

fn not_a_project(other: &Path, why: &str) -> Error {
    Error::input(format!(
        "{} is not a lacrima project: {why}; nothing was merged",
        other.display()
    ))
}

impl Store {
    /// Merges the copy at `other` into this project (see the module's documentation). The whole
    /// merge is one transaction and one event; a dry run reports the same and rolls back.
    pub fn merge_from(&mut self, other: &Path, opts: &MergeOptions) -> Result<MergeReport> {
        self.still_in_place()?;
        match std::fs::metadata(other) {
            Err(_) => {
                return Err(Error::input(format!(
                    "{}: no such file; give the copy of the project to merge from",
                    other.display()
                )));
            }
            Ok(m) if m.is_dir() => {
                return Err(Error::input(format!(
                    "{} is a folder; give the copy's .db file to merge from",
                    other.display()
                )));
            }
            Ok(_) => {}
        }
        let same_file = match (
            super::presence::file_id(other),
            super::presence::file_id(&self.path),
        ) {
            (Some(a), Some(b)) => a == b,
            _ => std::path::absolute(other).ok() == std::path::absolute(&self.path).ok(),
        };
        if same_file {
            return Err(Error::input(format!(
                "{} is this project itself: give the copy (made with cp or lacrima backup) \
                 to merge from",
                other.display()
            )));
        }
        // The copy may be a project this process has open (SQLite reads it through the same
        // descriptor), but never a companion file, whose locks a second descriptor would drop.
        super::file_guard::refuse_companion_path(other, "the copy to merge")?;
        let uri = read_only_uri(other)?;
        // ATTACH cannot run inside a transaction: attach first, detach whatever happens.
        self.conn
            .execute("ATTACH DATABASE ?1 AS other", [&uri])
            .map_err(|e| attach_failed(other, e))?;
        let result = check_other(&self.conn, other).and_then(|_| self.merge_attached(other, opts));
        let detached = self.conn.execute_batch("DETACH DATABASE other");
        let report = result?;
        detached?;
        Ok(report)
    }

    fn merge_attached(&mut self, other: &Path, opts: &MergeOptions) -> Result<MergeReport> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(TEMP_TABLES)?;
        tx.execute_batch(CREATE_TEMP)?;
        let mut m = Merge {
            c: &tx,
            opts,
            other: other.display().to_string(),
            bases: Vec::new(),
            conflicts: Vec::new(),
            codes_added: Vec::new(),
            codes_changed: Vec::new(),
            codes_deleted: Vec::new(),
            coders_created: Vec::new(),
            codes_base: 1,
            deletions: Vec::new(),
            code_conflicts_left: BTreeSet::new(),
        };
        let report = m.run()?;
        tx.execute_batch(TEMP_TABLES)?;
        if opts.dry_run {
            tx.rollback()?;
        } else {
            tx.commit()?;
        }
        Ok(report)
    }
}

/// One side of an event (`before` or `after`) as JSON text: `head`, the rows of `table` in the
/// order given, then `tail`. Built row by row into one string, since a merge can hold a few
/// hundred thousand rows and parsing or concatenating them in SQL would hold several copies.
fn event_side(
    c: &Connection,
    table: &str,
    col: &str,
    order: &str,
    head: &str,
    tail: &str,
) -> Result<String> {
    let mut st = c.prepare(&format!(
        "SELECT json_object('table', tbl, 'key', json(key), 'row', json({col}))
         FROM {table} ORDER BY seq {order}"
    ))?;
    let mut rows = st.query([])?;
    let mut out = String::from(head);
    out.push_str("\"rows\":[");
    let mut first = true;
    while let Some(r) = rows.next()? {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?);
    }
    out.push(']');
    out.push_str(tail);
    out.push('}');
    Ok(out)
}

fn attach_failed(other: &Path, e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            not_a_project(other, "it is not an SQLite database")
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::CannotOpen => {
            Error::input(format!(
                "cannot open {} for reading (check its permissions); nothing was merged",
                other.display()
            ))
        }
        _ => e.into(),
    }
}

/// Refuses a copy that is not a lacrima project, or one this version cannot read, before
/// anything is compared. Asked of SQLite, which reads the header through the read-only attach.
fn check_other(c: &Connection, other: &Path) -> Result<()> {
    let header = (|| -> rusqlite::Result<(i64, i64, i64)> {
        Ok((
            c.query_row("PRAGMA other.application_id", [], |r| r.get(0))?,
            c.query_row("PRAGMA other.user_version", [], |r| r.get(0))?,
            c.query_row("PRAGMA other.page_count", [], |r| r.get(0))?,
        ))
    })();
    let (app, version, pages) = match header {
        Ok(h) => h,
        Err(e) => return Err(attach_failed(other, e)),
    };
    if pages == 0 {
        return Err(not_a_project(other, "the file is empty"));
    }
    if app != i64::from(super::APPLICATION_ID) {
        return Err(not_a_project(
            other,
            "it is an SQLite database of another program",
        ));
    }
    if version > super::SCHEMA_VERSION {
        return Err(Error::input(format!(
            "{} was written by a newer lacrima (schema {version}); this version reads up to \
             schema {}: upgrade lacrima to merge it (nothing was merged)",
            other.display(),
            super::SCHEMA_VERSION
        )));
    }
    // Schema 3 brought the consensus tables that a merge reads.
    if version < 3 {
        return Err(Error::input(format!(
            "{} was written by an older lacrima (schema {version}): open it once with this \
             version (for example `lacrima -p {} info`) so that it is upgraded, then merge it",
            other.display(),
            other.display()
        )));
    }
    let incomplete: i64 = one(
        c,
        "SELECT count(*) FROM other.project_meta WHERE key = 'import_incomplete'",
        [],
    )?;
    if incomplete > 0 {
        return Err(Error::input(format!(
            "the first import into {} was interrupted before it finished: it holds no project \
             to merge",
            other.display()
        )));
    }
    Ok(())
}

/// One merge in progress, inside its transaction.
struct Merge<'a> {
    c: &'a Connection,
    opts: &'a MergeOptions,
    other: String,
    bases: Vec<Base>,
    conflicts: Vec<MergeConflict>,
    codes_added: Vec<String>,
    codes_changed: Vec<CodeChanged>,
    codes_deleted: Vec<String>,
    coders_created: Vec<String>,
    /// The base the codebook merges from (an index into `bases`).
    codes_base: usize,
    /// Codes deleted in the copy and unchanged here: deleted once the answers are merged, if
    /// nothing here uses them any more.
    deletions: Vec<String>,
    /// GUIDs of codes with a conflict left open.
    code_conflicts_left: BTreeSet<String>,
}

impl Merge<'_> {
    fn run(&mut self) -> Result<MergeReport> {
        let c = self.c;
        // The copy's answers that this project has, matched by respondent ID and question name.
        c.execute_batch(
            "INSERT INTO temp.m_rmap (t_id, m_id, same)
             SELECT ts.id, ms.id, ts.text = ms.text
             FROM other.responses ts
             JOIN other.respondents tr ON tr.id = ts.respondent_id
             JOIN other.questions tq ON tq.id = ts.question_id
             JOIN main.respondents mr ON mr.ext_id = tr.ext_id
             JOIN main.questions mq ON mq.name = tq.name
             JOIN main.responses ms ON ms.respondent_id = mr.id AND ms.question_id = mq.id;
             CREATE INDEX temp.m_rmap_m ON m_rmap (m_id);
             INSERT INTO temp.m_coder (name, m_id) SELECT name, id FROM main.coders;
             INSERT INTO temp.m_coder (name, t_id, t_consensus)
             SELECT name, id, is_consensus FROM other.coders WHERE true
             ON CONFLICT (name) DO UPDATE SET t_id = excluded.t_id,
                 t_consensus = excluded.t_consensus;",
        )?;
        self.select_coders()?;
        let not_merged = self.not_merged()?;
        let history = self.history()?;

        self.merge_codebook()?;
        self.find_units()?;
        self.decide_units()?;
        self.create_coders()?;
        self.take_units()?;
        self.merge_code_memos()?;
        self.delete_codes()?;
        let coders = self.coder_counts()?;
        self.list_unit_conflicts()?;

        let event_id = if self.opts.dry_run { None } else { self.log()? };
        Ok(MergeReport {
            other: self.other.clone(),
            dry_run: self.opts.dry_run,
            history,
            coders,
            codes_added: std::mem::take(&mut self.codes_added),
            codes_changed: std::mem::take(&mut self.codes_changed),
            codes_deleted: std::mem::take(&mut self.codes_deleted),
            conflicts: std::mem::take(&mut self.conflicts),
            not_merged,
            event_id,
        })
    }

    fn select_coders(&self) -> Result<()> {
        if self.opts.coders.is_empty() {
            return Ok(());
        }
        let known: Vec<String> = {
            let mut st = self
                .c
                .prepare("SELECT name FROM temp.m_coder ORDER BY name")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for name in &self.opts.coders {
            if !known.contains(name) {
                return Err(Error::input(format!(
                    "--coders: there is no coder {name:?} in this project or in {}; the coders \
                     are: {}",
                    self.other,
                    known.join(", ")
                )));
            }
        }
        self.c.execute("UPDATE temp.m_coder SET sel = 0", [])?;
        let mut st = self
            .c
            .prepare("UPDATE temp.m_coder SET sel = 1 WHERE name = ?1")?;
        for name in &self.opts.coders {
            st.execute([name])?;
        }
        Ok(())
    }

    /// Respondents and questions of the copy that this project lacks: a merge brings codings,
    /// not survey data, so their codings stay out and the report says to import that wave.
    fn not_merged(&self) -> Result<NotMerged> {
        let c = self.c;
        let respondents: i64 = one(
            c,
            "SELECT count(*) FROM other.respondents tr
             WHERE NOT EXISTS (SELECT 1 FROM main.respondents mr WHERE mr.ext_id = tr.ext_id)",
            [],
        )?;
        let questions: Vec<String> = {
            let mut st = c.prepare(
                "SELECT name FROM other.questions tq
                 WHERE NOT EXISTS (SELECT 1 FROM main.questions mq WHERE mq.name = tq.name)
                 ORDER BY position, id",
            )?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let unmatched: i64 = one(
            c,
            "SELECT (SELECT count(*) FROM other.responses) - (SELECT count(*) FROM temp.m_rmap)",
            [],
        )?;
        let answers_coded = if unmatched == 0 {
            0
        } else {
            one(
                c,
                "SELECT count(*) FROM (
                     SELECT response_id, coder_id FROM other.reviews
                     UNION SELECT response_id, coder_id FROM other.codings
                     UNION SELECT response_id, coder_id FROM other.memos
                           WHERE response_id IS NOT NULL) x
                 JOIN other.coders d ON d.id = x.coder_id
                 JOIN temp.m_coder sc ON sc.name = d.name AND sc.sel
                 WHERE x.response_id NOT IN (SELECT t_id FROM temp.m_rmap)",
                [],
            )?
        };
        Ok(NotMerged {
            respondents,
            questions,
            answers_coded,
        })
    }

    /// Which side changed since base `b` whatever differs, because its log cannot tell.
    fn opaque(&self, b: usize, units: bool) -> (bool, bool) {
        let base = &self.bases[b];
        let flag = if units {
            base.opaque_units
        } else {
            base.opaque_codes
        };
        match base.from {
            Some((Side::Theirs, _)) => (flag, false),
            Some((Side::Mine, _)) => (false, flag),
            None => (false, false),
        }
    }

    fn record(
        &self,
        tbl: &str,
        c: Option<i64>,
        key: &Json,
        before: Option<&Json>,
        after: Option<&Json>,
    ) -> Result<()> {
        self.c.execute(
            "INSERT INTO temp.m_ev (tbl, c, key, before, after) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                tbl,
                c,
                key.to_string(),
                before.map(Json::to_string),
                after.map(Json::to_string)
            ],
        )?;
        Ok(())
    }

    fn conflict(&mut self, k: MergeConflict) {
        self.conflicts.push(k);
    }

    /// Records a conflict on a code, left open (its GUID goes into the merge's record).
    fn code_conflict(&mut self, guid: &str, k: MergeConflict) {
        self.code_conflicts_left.insert(guid.to_string());
        self.conflict(k);
    }
}

fn short(text: &str, n: usize) -> String {
    let t: String = text.chars().take(n).collect();
    let t = t.replace('\n', " ");
    if text.chars().count() > n {
        format!("{t}…")
    } else {
        t
    }
}

fn shown(v: &Json) -> String {
    match v {
        Json::Null => "(none)".into(),
        Json::String(s) if s.is_empty() => "(empty)".into(),
        Json::String(s) => format!("{:?}", short(s, 60)),
        other => other.to_string(),
    }
}
