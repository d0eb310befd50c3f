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

/// The rows an event records, one per line: its place in the event, the key's columns and the
/// row before and after (NULL: absent). Filled from the event's JSON by SQLite.
const EVENT_ROWS: &str = "
    DROP TABLE IF EXISTS temp.m_undo;
    CREATE TEMP TABLE m_undo (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, r INTEGER,
                              c INTEGER, k INTEGER, s INTEGER, e INTEGER, key TEXT NOT NULL,
                              before TEXT, after TEXT);";

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

impl Store {
    /// Takes back the latest merge as a whole: every row it changed, and the coders it added
    /// that nothing refers to any more. Refused, changing nothing, when a row it wrote has
    /// changed since (as the coding screen's undo is). Returns the merge's summary, or None when
    /// no merge is in effect. To do it again, merge again.
    ///
    /// The merge's event is in the form the undo machinery replays, but a merge can hold a few
    /// hundred thousand rows, so it is taken back set by set in SQL (in seconds and a few MB)
    /// rather than row by row through parsed JSON; the `undo` event it logs has the same form.
    pub fn undo_merge(&mut self) -> Result<Option<String>> {
        self.still_in_place()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, after->>'$.summary' FROM events
                 WHERE action = 'merge' AND undone_by IS NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, summary)) = found else {
            return Ok(None);
        };
        tx.execute_batch(EVENT_ROWS)?;
        tx.execute(
            "INSERT INTO temp.m_undo (seq, tbl, r, c, k, s, e, key, after)
             SELECT j.key, j.value->>'$.table', j.value->>'$.key.response_id',
                    coalesce(j.value->>'$.key.coder_id', j.value->>'$.key.consensus_id'),
                    coalesce(j.value->>'$.key.code_id', j.value->>'$.key.id'),
                    j.value->>'$.key.start', j.value->>'$.key.end', j.value->'$.key',
                    nullif(j.value->'$.row', 'null')
             FROM events ev, json_each(ev.after, '$.rows') j WHERE ev.id = ?1",
            [id],
        )?;
        tx.execute(
            "UPDATE temp.m_undo SET before = nullif(b.value->'$.row', 'null')
             FROM (SELECT j.key, j.value FROM events ev, json_each(ev.before, '$.rows') j
                   WHERE ev.id = ?1) b
             WHERE b.key = m_undo.seq",
            [id],
        )?;
        // Still as the merge left it? Codes are few and read as the event has them; the other
        // tables are compared set by set.
        let changed_since = || {
            Error::input(format!(
                "cannot undo \"{summary}\": it was changed since (by a coder or another \
                 merge); nothing was changed"
            ))
        };
        let codes: Vec<(i64, i64, Option<String>, Option<String>)> = {
            let mut st = tx.prepare(
                "SELECT seq, k, before, after FROM temp.m_undo WHERE tbl = 'codes' ORDER BY seq",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let parse = |t: &Option<String>| -> Result<Option<Json>> {
            t.as_deref()
                .map(|t| {
                    serde_json::from_str(t).map_err(|_| {
                        Error::input("the event log holds a merge this version cannot read")
                    })
                })
                .transpose()
        };
        for (_, code, _, after) in &codes {
            if read_row(&tx, Table::Codes, &json!({ "id": code }))? != parse(after)? {
                return Err(changed_since());
            }
        }
        let differs: i64 = one(
            &tx,
            "SELECT count(*) FROM temp.m_undo v WHERE CASE v.tbl
               WHEN 'codings' THEN (SELECT count(*) FROM codings k
                   WHERE k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                   AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)
                   AND v.after IS NOT NULL AND k.memo = v.after->>'$.memo'
                   AND k.created_at = v.after->>'$.created_at')
                 <> (v.after IS NOT NULL) OR (v.after IS NULL AND EXISTS (SELECT 1 FROM codings k
                   WHERE k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                   AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)))
               WHEN 'reviews' THEN (SELECT reviewed_at FROM reviews x
                   WHERE x.response_id = v.r AND x.coder_id = v.c) IS NOT (v.after->>'$.reviewed_at')
               WHEN 'memos' THEN (SELECT json_array(text, updated_at) FROM memos m
                   WHERE m.coder_id = v.c AND ifnull(m.response_id, -1) = ifnull(v.r, -1)
                   AND ifnull(m.code_id, -1) = ifnull(v.k, -1))
                 IS NOT CASE WHEN v.after IS NOT NULL THEN
                   json_array(v.after->>'$.text', v.after->>'$.updated_at') END
               WHEN 'consensus_decisions' THEN (SELECT json_array(decision, adopted_from,
                       from_coders, decided_by, decided_at, event_id)
                   FROM consensus_decisions d
                   WHERE d.consensus_id = v.c AND d.response_id = v.r AND d.code_id = v.k)
                 IS NOT CASE WHEN v.after IS NOT NULL THEN json_array(v.after->>'$.decision',
                   v.after->>'$.adopted_from', v.after->>'$.from_coders',
                   v.after->>'$.decided_by', v.after->>'$.decided_at', v.after->>'$.event_id') END
               ELSE 0 END",
            [],
        )?;
        if differs > 0 {
            return Err(changed_since());
        }
        // Back, in the reverse of the order written: codes the merge deleted come back first
        // (the codings restored below may use them), codes it added or changed go last.
        for (_, code, before, after) in codes.iter().rev() {
            if after.is_none() {
                write_row(
                    &tx,
                    Table::Codes,
                    &json!({ "id": code }),
                    parse(before)?.as_ref(),
                )?;
            }
        }
        tx.execute_batch(
            "DELETE FROM codings WHERE id IN (
                 SELECT k.id FROM temp.m_undo v JOIN codings k
                 ON k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                 AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)
                 WHERE v.tbl = 'codings');
             INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", memo, created_at)
             SELECT r, k, c, s, e, before->>'$.memo', before->>'$.created_at' FROM temp.m_undo
             WHERE tbl = 'codings' AND before IS NOT NULL ORDER BY seq;
             DELETE FROM reviews WHERE (response_id, coder_id) IN (
                 SELECT r, c FROM temp.m_undo WHERE tbl = 'reviews');
             INSERT INTO reviews (response_id, coder_id, reviewed_at)
             SELECT r, c, before->>'$.reviewed_at' FROM temp.m_undo
             WHERE tbl = 'reviews' AND before IS NOT NULL;
             DELETE FROM memos WHERE (coder_id, ifnull(response_id, -1), ifnull(code_id, -1)) IN (
                 SELECT c, ifnull(r, -1), ifnull(k, -1) FROM temp.m_undo WHERE tbl = 'memos');
             INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
             SELECT c, r, k, before->>'$.text', before->>'$.updated_at' FROM temp.m_undo
             WHERE tbl = 'memos' AND before IS NOT NULL ORDER BY seq;
             DELETE FROM consensus_decisions WHERE (consensus_id, response_id, code_id) IN (
                 SELECT c, r, k FROM temp.m_undo WHERE tbl = 'consensus_decisions');
             INSERT INTO consensus_decisions (consensus_id, response_id, code_id, decision,
                 adopted_from, from_coders, decided_by, decided_at, event_id)
             SELECT c, r, k, before->>'$.decision', before->>'$.adopted_from',
                    before->>'$.from_coders', before->>'$.decided_by', before->>'$.decided_at',
                    before->>'$.event_id'
             FROM temp.m_undo WHERE tbl = 'consensus_decisions' AND before IS NOT NULL;",
        )?;
        for (_, code, before, after) in codes.iter().rev() {
            if after.is_some() {
                write_row(
                    &tx,
                    Table::Codes,
                    &json!({ "id": code }),
                    parse(before)?.as_ref(),
                )?;
            }
        }
        // The undo is an event too, in the form `replay` writes: the rows in reverse order,
        // from the state the merge left to the state before it.
        let head = format!(
            "{{\"summary\":{},\"response_id\":null,\"code_id\":null,\"replays\":{id},",
            Json::from(summary.as_str())
        );
        let side = |col: &str| event_side(&tx, "temp.m_undo", col, "DESC", &head, "");
        tx.execute(
            "INSERT INTO events (at, coder_id, action, before) VALUES (?1, NULL, 'undo', ?2)",
            params![crate::timefmt::now(), side("after")?],
        )?;
        let undo_id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE events SET after = ?2 WHERE id = ?1",
            params![undo_id, side("before")?],
        )?;
        tx.execute(
            "UPDATE events SET undone_by = ?1 WHERE id = ?2",
            params![undo_id, id],
        )?;
        // Coders the merge added, if nothing refers to them any more.
        let created: Vec<String> = {
            let mut st = tx.prepare(
                "SELECT j.value FROM events ev,
                     json_each(ev.after, '$.merge.coders_created') j WHERE ev.id = ?1",
            )?;
            st.query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for name in created {
            tx.execute(
                "DELETE FROM coders WHERE name = ?1
                 AND NOT EXISTS (SELECT 1 FROM codings WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM reviews WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM memos WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM consensus_decisions WHERE consensus_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM assignments WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM events WHERE coder_id = coders.id)",
                [name],
            )?;
        }
        tx.execute_batch("DROP TABLE temp.m_undo")?;
        tx.commit()?;
        Ok(Some(summary))
    }
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

    // -----------------------------------------------------------------------------------------
    // History: where the copies parted, and the bases to compare from
    // -----------------------------------------------------------------------------------------

    fn history(&mut self) -> Result<MergeHistory> {
        let c = self.c;
        // The shared prefix: events equal in both logs (time, action, rows and coder by name),
        // in id order. The first that differs, or that one log lacks, ends it.
        let first_different: Option<i64> = c
            .query_row(
                "SELECT m.id FROM main.events m
                 LEFT JOIN other.events o ON o.id = m.id
                 LEFT JOIN main.coders mc ON mc.id = m.coder_id
                 LEFT JOIN other.coders oc ON oc.id = o.coder_id
                 WHERE o.id IS NULL OR m.at IS NOT o.at OR m.action IS NOT o.action
                    OR m.before IS NOT o.before OR m.after IS NOT o.after
                    OR mc.name IS NOT oc.name
                 ORDER BY m.id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let fork = match first_different {
            Some(id) => id - 1,
            None => one(c, "SELECT ifnull(max(id), 0) FROM main.events", [])?,
        };
        let shared_events: i64 = one(c, "SELECT count(*) FROM main.events WHERE id <= ?1", [fork])?;
        let parted_after: Option<String> = c
            .query_row("SELECT at FROM main.events WHERE id = ?1", [fork], |r| {
                r.get(0)
            })
            .optional()?;
        let events_here: i64 = one(c, "SELECT count(*) FROM main.events WHERE id > ?1", [fork])?;
        let events_theirs: i64 = one(c, "SELECT count(*) FROM other.events WHERE id > ?1", [fork])?;
        let related = shared_events > 0;

        // The parting itself, rebuilt from the side whose log can tell (see `Base`).
        let fork_base = |side_units: bool, me: &Self| -> Result<Base> {
            if !related {
                return Ok(Base {
                    from: None,
                    stamps: Vec::new(),
                    opaque_units: false,
                    opaque_codes: false,
                    left_units: Vec::new(),
                    left_codes: Vec::new(),
                });
            }
            let theirs = me.base_at(Side::Theirs, fork)?;
            let mine = me.base_at(Side::Mine, fork)?;
            let theirs_opaque = if side_units {
                theirs.opaque_units
            } else {
                theirs.opaque_codes
            };
            let mine_opaque = if side_units {
                mine.opaque_units
            } else {
                mine.opaque_codes
            };
            Ok(if theirs_opaque && !mine_opaque {
                mine
            } else {
                theirs
            })
        };
        let units_fork = fork_base(true, self)?;
        self.bases.push(units_fork);
        let codes_fork = fork_base(false, self)?;
        self.bases.push(codes_fork);

        // Earlier merges between the two, still in effect, whose merged state is a later common
        // ancestor than the parting.
        let mut found = records(c, Side::Mine)?;
        found.extend(records(c, Side::Theirs)?);
        found.retain(|r| r.point > fork);
        let mut valid = Vec::new();
        for r in found {
            let described = match r.held_by {
                Side::Mine => Side::Theirs,
                Side::Theirs => Side::Mine,
            };
            if r.print.is_some() && fingerprint(c, described, r.point)? == r.print {
                valid.push(r);
            }
        }
        let best = |coder: Option<&str>| -> Option<usize> {
            let mut best: Option<usize> = None;
            for (i, r) in valid.iter().enumerate() {
                let applies = match (&r.coders, coder) {
                    (None, _) | (_, None) => true,
                    (Some(list), Some(c)) => list.iter().any(|n| n == c),
                };
                if !applies {
                    continue;
                }
                best = match best {
                    None => Some(i),
                    Some(b) if beats(r, &valid[b]) => Some(i),
                    keep => keep,
                };
            }
            best
        };
        let mut base_of_record: HashMap<usize, usize> = HashMap::new();
        let mut since_merge = None;
        let mut record_base = |me: &mut Self, i: usize| -> Result<usize> {
            if let Some(&b) = base_of_record.get(&i) {
                return Ok(b);
            }
            let r = &valid[i];
            let x = match r.held_by {
                Side::Mine => Side::Theirs,
                Side::Theirs => Side::Mine,
            };
            let mut base = me.base_at(x, r.point)?;
            base.left_units = r.left_units.clone();
            base.left_codes = r.left_codes.clone();
            me.bases.push(base);
            let b = me.bases.len() - 1;
            base_of_record.insert(i, b);
            Ok(b)
        };
        // Per coder: a merge that merged only some coders is a common state for those only.
        let names: Vec<String> = {
            let mut st = c.prepare("SELECT name FROM temp.m_coder WHERE sel ORDER BY name")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut set = c.prepare("UPDATE temp.m_coder SET base = ?2 WHERE name = ?1")?;
        for name in &names {
            let b = match best(Some(name)) {
                Some(i) => record_base(self, i)?,
                None => 0,
            };
            set.execute(params![name, b as i64])?;
        }
        self.codes_base = match best(None) {
            Some(i) => {
                let r = &valid[i];
                since_merge = Some(match r.held_by {
                    Side::Mine => format!(
                        "this project merged it at event {}, when it had {} events",
                        r.event, r.point
                    ),
                    Side::Theirs => format!(
                        "it merged this project at its event {}, when this project had {} \
                         events",
                        r.event, r.point
                    ),
                });
                record_base(self, i)?
            }
            None => 1,
        };
        // Rebuild the bases in use (the codebook's and each merged coder's).
        let mut used: BTreeSet<usize> = {
            let mut st = c.prepare("SELECT DISTINCT base FROM temp.m_coder WHERE sel")?;
            st.query_map([], |r| r.get::<_, i64>(0))?
                .map(|b| b.map(|b| b as usize))
                .collect::<rusqlite::Result<_>>()?
        };
        used.insert(self.codes_base);
        for b in used {
            self.prepare_base(b)?;
        }
        Ok(MergeHistory {
            related,
            shared_events,
            parted_after,
            events_here,
            events_theirs,
            since_merge,
        })
    }
}

/// The `merge` events of a side's log that are in effect (not undone), with their records.
fn records(c: &Connection, held_by: Side) -> Result<Vec<Record>> {
    let s = held_by.schema();
    let mut st = c.prepare(&format!(
        "SELECT id, after->>'$.merge.other_events', after->'$.merge.coders',
                after->'$.merge.conflicts_left', after->'$.merge.code_conflicts_left',
                after->>'$.merge.other_last'
         FROM {s}.events WHERE action = 'merge' AND undone_by IS NULL AND json_valid(after)"
    ))?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let parse = |t: Option<String>| -> Json {
        t.and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Json::Null)
    };
    let mut out = Vec::new();
    for row in rows {
        let (event, point, coders, left, left_codes, print) = row?;
        let Some(point) = point else { continue };
        let coders = parse(coders).as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        });
        let left_units = parse(left)
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| {
                        let s = |i: usize| u.get(i).and_then(Json::as_str).map(str::to_string);
                        Some((s(0)?, s(1)?, s(2)?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let left_codes = parse(left_codes)
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Record {
            held_by,
            event,
            point,
            coders,
            left_units,
            left_codes,
            print,
        });
    }
    Ok(out)
}

/// Whether the state merged by `a` is later than that merged by `b`: the same copy's log further
/// on, or a log that already holds `b`'s merge.
fn beats(a: &Record, b: &Record) -> bool {
    if a.held_by == b.held_by {
        a.point > b.point
    } else {
        b.event <= a.point
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

/// A code row as the event log holds it (the shape of `read_row`), by id, from one side.
fn code_rows(c: &Connection, side: Side) -> Result<HashMap<i64, Json>> {
    let s = side.schema();
    let mut st = c.prepare(&format!(
        "SELECT id, json_object('guid', guid, 'parent_id', parent_id, 'name', name,
                'description', description, 'inclusion', inclusion, 'exclusion', exclusion,
                'example', example, 'color', color, 'shortcut', shortcut, 'codable', codable,
                'position', position)
         FROM {s}.codes"
    ))?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, text) = row?;
        let json: Json = serde_json::from_str(&text)
            .map_err(|e| Error::input(format!("a code row could not be read: {e}")))?;
        out.insert(id, json);
    }
    Ok(out)
}

/// Codes by GUID from rows by id, with the parent as a GUID.
fn codes_by_guid(rows: &HashMap<i64, Json>) -> HashMap<String, Code> {
    let guid_of: HashMap<i64, String> = rows
        .iter()
        .filter_map(|(id, r)| Some((*id, r.get("guid")?.as_str()?.to_string())))
        .collect();
    let mut out = HashMap::new();
    for (id, row) in rows {
        let Some(guid) = guid_of.get(id) else {
            continue;
        };
        let mut fields = BTreeMap::new();
        for f in FIELDS {
            let v = if f == "parent" {
                row.get("parent_id")
                    .and_then(Json::as_i64)
                    .and_then(|p| guid_of.get(&p))
                    .map_or(Json::Null, |g| json!(g))
            } else {
                row.get(f).cloned().unwrap_or(Json::Null)
            };
            fields.insert(f, v);
        }
        out.insert(guid.clone(), Code { id: *id, fields });
    }
    out
}

impl Merge<'_> {
    /// A side's state after its first `point` events, and what its log after that cannot tell.
    fn base_at(&self, side: Side, point: i64) -> Result<Base> {
        let s = side.schema();
        // Events that log no rows: imports, plans, and whatever a later lacrima may add. Those
        // that cannot touch codings or codes are harmless; a codings import stamps what it adds;
        // anything else makes the log unable to tell.
        let mut st = self.c.prepare(&format!(
            "SELECT action,
                    CASE WHEN json_valid(after) THEN after->>'$.stamp' END,
                    CASE WHEN json_valid(after) THEN ifnull(after->>'$.memos_updated', 0) END
             FROM {s}.events
             WHERE id > ?1 AND action NOT IN ('import_survey', 'assign.plan')
               AND (CASE WHEN json_valid(before) THEN json_type(before, '$.rows') END)
                   IS NOT 'array'"
        ))?;
        let rows = st.query_map([point], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut base = Base {
            from: Some((side, point)),
            stamps: Vec::new(),
            opaque_units: false,
            opaque_codes: false,
            left_units: Vec::new(),
            left_codes: Vec::new(),
        };
        for row in rows {
            match row? {
                (a, _, _) if a == "import_codebook" => base.opaque_codes = true,
                // Rows a codings import added carry its stamp; memos it changed on codings
                // that were there already do not, nor does anything an older lacrima imported.
                (a, Some(stamp), Some(0)) if a == "import_codings" => base.stamps.push(stamp),
                (a, _, _) if a == "import_codings" => base.opaque_units = true,
                _ => {
                    base.opaque_units = true;
                    base.opaque_codes = true;
                }
            }
        }
        Ok(base)
    }

    /// Rebuilds base `b` from its side's log: the first state after the point of every row a
    /// later event touched, the codes' GUIDs as they were, and the stamps of later imports.
    fn prepare_base(&self, b: usize) -> Result<()> {
        let Some((side, point)) = self.bases[b].from else {
            return Ok(());
        };
        let s = side.schema();
        let b = b as i64;
        self.c.execute(
            &format!(
                "INSERT INTO temp.m_touch (b, tbl, r, c, k, s, e, ev, row)
                 SELECT ?1, tbl, r, c, k, s, e, min(ev), row FROM (
                     SELECT j.value->>'$.table' AS tbl,
                            j.value->>'$.key.response_id' AS r,
                            coalesce(j.value->>'$.key.coder_id',
                                     j.value->>'$.key.consensus_id') AS c,
                            coalesce(j.value->>'$.key.code_id', j.value->>'$.key.id') AS k,
                            j.value->>'$.key.start' AS s, j.value->>'$.key.end' AS e,
                            ev.id AS ev, j.value->'$.row' AS row
                     FROM {s}.events ev, json_each(ev.before, '$.rows') j
                     WHERE ev.id > ?2 AND ev.before IS NOT NULL AND json_valid(ev.before))
                 GROUP BY tbl, r, c, k, s, e"
            ),
            params![b, point],
        )?;
        self.c.execute_batch(
            "CREATE INDEX IF NOT EXISTS temp.m_touch_key ON m_touch (b, tbl, r, c, k)",
        )?;
        self.c.execute(
            "INSERT INTO temp.m_bcode (b, id, guid)
             SELECT ?1, k, row->>'$.guid' FROM temp.m_touch
             WHERE b = ?1 AND tbl = 'codes' AND row <> 'null' AND row->>'$.guid' IS NOT NULL",
            [b],
        )?;
        self.c.execute(
            &format!(
                "INSERT OR IGNORE INTO temp.m_bcode (b, id, guid)
                 SELECT ?1, id, guid FROM {s}.codes
                 WHERE id NOT IN (SELECT k FROM temp.m_touch WHERE b = ?1 AND tbl = 'codes')"
            ),
            [b],
        )?;
        let mut st = self
            .c
            .prepare("INSERT INTO temp.m_stamp (b, stamp) VALUES (?1, ?2)")?;
        for stamp in &self.bases[b as usize].stamps {
            st.execute(params![b, stamp])?;
        }
        Ok(())
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

    // -----------------------------------------------------------------------------------------
    // The codebook
    // -----------------------------------------------------------------------------------------

    /// Codes by GUID as they were at base `b` (none without shared history).
    fn base_codes(&self, b: usize) -> Result<HashMap<String, Code>> {
        let Some((side, _)) = self.bases[b].from else {
            return Ok(HashMap::new());
        };
        let mut rows = code_rows(self.c, side)?;
        let mut st = self
            .c
            .prepare("SELECT k, row FROM temp.m_touch WHERE b = ?1 AND tbl = 'codes'")?;
        let touched = st.query_map([b as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        for t in touched {
            let (id, row) = t?;
            let row: Json = row
                .and_then(|r| serde_json::from_str(&r).ok())
                .unwrap_or(Json::Null);
            if row.is_null() {
                rows.remove(&id);
            } else {
                rows.insert(id, row);
            }
        }
        Ok(codes_by_guid(&rows))
    }

    /// Three-way merge of the codebook by GUID, field by field. Adds and changes are written
    /// now (answers need their codes); deletions wait until the answers are merged.
    fn merge_codebook(&mut self) -> Result<()> {
        let mine_rows = code_rows(self.c, Side::Mine)?;
        let theirs_rows = code_rows(self.c, Side::Theirs)?;
        let mine = codes_by_guid(&mine_rows);
        let theirs = codes_by_guid(&theirs_rows);
        let base = self.base_codes(self.codes_base)?;
        let (opaque_t, opaque_m) = self.opaque(self.codes_base, false);
        let left: HashSet<String> = self.bases[self.codes_base]
            .left_codes
            .iter()
            .cloned()
            .collect();
        let prefer = self.opts.prefer;

        // The codebook as it will be, by GUID, and what was taken from the copy.
        let mut fin: BTreeMap<String, Code> =
            mine.iter().map(|(g, c)| (g.clone(), c.clone())).collect();
        let mut taken: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        let mut adds: Vec<String> = Vec::new();
        let mut guids: Vec<&String> = mine.keys().chain(theirs.keys()).collect();
        guids.sort();
        guids.dedup();
        // Adds in the copy's codebook order, so that positions and parents come out the same
        // whatever the order of merges.
        let mut their_order: Vec<(&String, i64)> = theirs
            .iter()
            .map(|(g, c)| (g, c.get("position").as_i64().unwrap_or(0)))
            .collect();
        their_order.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
        for guid in guids {
            let (m, t, b) = (mine.get(guid), theirs.get(guid), base.get(guid));
            match (m, t) {
                (None, Some(t)) => match b {
                    None => adds.push(guid.clone()),
                    Some(b) => {
                        // Deleted here: a change there to a code no longer here is a conflict.
                        if t.fields != b.fields || opaque_t {
                            let changed: Vec<&str> = FIELDS
                                .into_iter()
                                .filter(|f| t.get(f) != b.get(f))
                                .collect();
                            if !changed.is_empty() {
                                self.code_conflict(
                                    guid,
                                    code_k(
                                        "code_deleted",
                                        &t.name(),
                                        None,
                                        "deleted".into(),
                                        format!("changed: {}", changed.join(", ")),
                                        Some("deleted here, changed in the copy".into()),
                                    ),
                                );
                            }
                        }
                    }
                },
                (Some(m), None) => {
                    if let Some(b) = b {
                        if m.fields != b.fields || opaque_m {
                            let changed: Vec<&str> = FIELDS
                                .into_iter()
                                .filter(|f| m.get(f) != b.get(f))
                                .collect();
                            self.code_conflict(
                                guid,
                                code_k(
                                    "code_deleted",
                                    &m.name(),
                                    None,
                                    format!("changed: {}", changed.join(", ")),
                                    "deleted".into(),
                                    Some("changed here, deleted in the copy: kept".into()),
                                ),
                            );
                        } else {
                            self.deletions.push(guid.clone());
                        }
                    }
                }
                (Some(m), Some(t)) => {
                    for f in FIELDS {
                        let (mv, tv) = (m.get(f), t.get(f));
                        if mv == tv {
                            continue;
                        }
                        let bv = b.map(|b| b.get(f));
                        let still_open = left.contains(guid);
                        let changed_t = bv != Some(tv) || opaque_t || still_open;
                        let changed_m = bv != Some(mv) || opaque_m || still_open;
                        let take = if !changed_t {
                            false
                        } else if !changed_m {
                            true
                        } else {
                            let describe = |v: &Json| {
                                if f == "parent" {
                                    v.as_str()
                                        .and_then(|g| mine.get(g).or(theirs.get(g)))
                                        .map_or("(top level)".into(), |c| c.name())
                                } else {
                                    shown(v)
                                }
                            };
                            self.code_conflicts_left.insert(guid.clone());
                            self.conflict(MergeConflict {
                                kind: "code_field",
                                respondent: None,
                                question: None,
                                coder: None,
                                code: Some(m.name()),
                                field: Some(f.to_string()),
                                here: describe(mv),
                                theirs: describe(tv),
                                settled: prefer,
                                note: still_open
                                    .then(|| "left open by an earlier merge".to_string()),
                            });
                            if prefer.is_some() {
                                self.code_conflicts_left.remove(guid);
                            }
                            prefer == Some(Prefer::Theirs)
                        };
                        if take {
                            fin.get_mut(guid)
                                .expect("in both")
                                .fields
                                .insert(f, tv.clone());
                            taken.entry(guid.clone()).or_default().push(f);
                        }
                    }
                }
                (None, None) => {}
            }
        }
        adds.sort_by_key(|g| their_order.iter().position(|(x, _)| *x == g));
        for g in &adds {
            let mut code = theirs[g].clone();
            code.id = 0;
            fin.insert(g.clone(), code);
        }
        let added: HashSet<String> = adds.iter().cloned().collect();
        self.settle_codebook(&mine, &mut fin, &mut taken, &added)?;
        self.write_codebook(&mine, &fin, &taken, &adds)
    }

    /// Undoes taken fields and adds that would break the codebook's rules (a unique name or
    /// shortcut, a parent that exists, no cycle): each becomes a conflict.
    fn settle_codebook(
        &mut self,
        mine: &HashMap<String, Code>,
        fin: &mut BTreeMap<String, Code>,
        taken: &mut BTreeMap<String, Vec<&'static str>>,
        added: &HashSet<String>,
    ) -> Result<()> {
        for _round in 0..=fin.len() {
            let mut problem: Option<(String, &'static str, String)> = None;
            // Names and shortcuts: unique (names ignoring ASCII case, as SQLite's NOCASE).
            for f in ["name", "shortcut"] {
                let mut seen: HashMap<String, String> = HashMap::new();
                for (g, c) in fin.iter() {
                    let Some(v) = c.get(f).as_str() else { continue };
                    let v = v.to_ascii_lowercase();
                    if let Some(first) = seen.get(&v) {
                        // Blame the one that came from the copy.
                        let culprit = if added.contains(g) || is_taken(taken, g, f) {
                            g.clone()
                        } else {
                            first.clone()
                        };
                        let other = if culprit == *g {
                            first.clone()
                        } else {
                            g.clone()
                        };
                        problem = Some((
                            culprit,
                            f,
                            format!("the {f} is the {f} of {:?} here", fin[&other].name()),
                        ));
                        break;
                    }
                    seen.insert(v, g.clone());
                }
                if problem.is_some() {
                    break;
                }
            }
            if problem.is_none() {
                for (g, c) in fin.iter() {
                    if let Some(p) = c.get("parent").as_str() {
                        let mut cur = Some(p.to_string());
                        let mut steps = 0;
                        let mut why = None;
                        while let Some(x) = cur {
                            if !fin.contains_key(&x) {
                                why = Some("its parent is not in this codebook".to_string());
                                break;
                            }
                            if x == *g || steps > fin.len() {
                                why = Some("the parent would make a cycle".to_string());
                                break;
                            }
                            steps += 1;
                            cur = fin[&x].get("parent").as_str().map(str::to_string);
                        }
                        if let Some(why) = why {
                            problem = Some((g.clone(), "parent", why));
                            break;
                        }
                    }
                }
            }
            let Some((g, f, why)) = problem else {
                return Ok(());
            };
            let code = fin[&g].clone();
            if added.contains(&g) {
                if f == "name" {
                    // A new code whose name another code has here: not added.
                    fin.remove(&g);
                    self.code_conflict(
                        &g,
                        code_k(
                            "code_name",
                            &code.name(),
                            Some("name"),
                            why.clone(),
                            format!("a new code {:?}", code.name()),
                            Some("a different code of the same name: not added; rename one".into()),
                        ),
                    );
                } else {
                    // Added without the shortcut or the parent it cannot have here.
                    let v = code.get(f).clone();
                    fin.get_mut(&g)
                        .expect("present")
                        .fields
                        .insert(f, Json::Null);
                    self.code_conflict(
                        &g,
                        code_k(
                            "code_name",
                            &code.name(),
                            Some(f),
                            "(none)".into(),
                            shown(&v),
                            Some(format!("added without it: {why}")),
                        ),
                    );
                }
            } else {
                let kept = mine.get(&g).map(|m| m.get(f).clone()).unwrap_or(Json::Null);
                let theirs_v = code.get(f).clone();
                fin.get_mut(&g)
                    .expect("present")
                    .fields
                    .insert(f, kept.clone());
                if let Some(t) = taken.get_mut(&g) {
                    t.retain(|x| *x != f);
                }
                self.code_conflict(
                    &g,
                    code_k(
                        if f == "parent" {
                            "code_field"
                        } else {
                            "code_name"
                        },
                        &code.name(),
                        Some(f),
                        shown(&kept),
                        shown(&theirs_v),
                        Some(format!("not taken: {why}")),
                    ),
                );
            }
        }
        Ok(())
    }

    /// Writes the codebook's adds and changes, recording each row for the event. Names and
    /// shortcuts are unique at every step, so codes that swap names wait for each other; a
    /// cycle of such swaps (rare) keeps this project's names and reports it.
    fn write_codebook(
        &mut self,
        mine: &HashMap<String, Code>,
        fin: &BTreeMap<String, Code>,
        taken: &BTreeMap<String, Vec<&'static str>>,
        adds: &[String],
    ) -> Result<()> {
        let mut ids: HashMap<String, i64> = mine.iter().map(|(g, c)| (g.clone(), c.id)).collect();
        let mut holders: HashMap<(&'static str, String), String> = HashMap::new();
        for (g, c) in mine {
            for f in ["name", "shortcut"] {
                if let Some(v) = c.get(f).as_str() {
                    holders.insert((f, v.to_ascii_lowercase()), g.clone());
                }
            }
        }
        let mut pending: Vec<String> = adds
            .iter()
            .filter(|g| fin.contains_key(*g))
            .cloned()
            .collect();
        pending.extend(
            taken
                .iter()
                .filter(|(_, f)| !f.is_empty())
                .map(|(g, _)| g.clone()),
        );
        while !pending.is_empty() {
            let ready = pending.iter().position(|g| {
                let c = &fin[g];
                let free = ["name", "shortcut"].iter().all(|f| {
                    c.get(f).as_str().is_none_or(|v| {
                        holders
                            .get(&(*f, v.to_ascii_lowercase()))
                            .is_none_or(|h| h == g)
                    })
                });
                let parent = c.get("parent").as_str().is_none_or(|p| ids.contains_key(p));
                free && parent
            });
            let Some(i) = ready else {
                // Only a cycle of swapped names or shortcuts is left: keep this project's.
                let g = pending.remove(0);
                let code = &fin[&g];
                self.code_conflict(
                    &g,
                    code_k(
                        "code_name",
                        &code.name(),
                        Some("name"),
                        mine.get(&g)
                            .map_or("(none)".into(), |m| shown(m.get("name"))),
                        shown(code.get("name")),
                        Some("codes that swap names or shortcuts: rename them in two steps".into()),
                    ),
                );
                continue;
            };
            let g = pending.remove(i);
            let code = &fin[&g];
            let parent_id = code
                .get("parent")
                .as_str()
                .and_then(|p| ids.get(p))
                .copied();
            let (id, before) = match ids.get(&g) {
                Some(&id) => (id, read_row(self.c, Table::Codes, &json!({"id": id}))?),
                None => (
                    one(self.c, "SELECT ifnull(max(id), 0) + 1 FROM main.codes", [])?,
                    None,
                ),
            };
            let mut row = before.clone().unwrap_or_else(|| json!({"guid": g}));
            for f in FIELDS {
                if f == "parent" {
                    row["parent_id"] = json!(parent_id);
                } else {
                    row[f] = code.get(f).clone();
                }
            }
            let key = json!({ "id": id });
            write_row(self.c, Table::Codes, &key, Some(&row))?;
            self.record("codes", None, &key, before.as_ref(), Some(&row))?;
            if let Some(m) = mine.get(&g) {
                for f in ["name", "shortcut"] {
                    if let Some(v) = m.get(f).as_str() {
                        holders.remove(&(f, v.to_ascii_lowercase()));
                    }
                }
                self.codes_changed.push(CodeChanged {
                    code: code.name(),
                    fields: taken
                        .get(&g)
                        .map(|f| f.iter().map(|s| s.to_string()).collect())
                        .unwrap_or_default(),
                });
            } else {
                self.codes_added.push(code.name());
            }
            for f in ["name", "shortcut"] {
                if let Some(v) = code.get(f).as_str() {
                    holders.insert((f, v.to_ascii_lowercase()), g.clone());
                }
            }
            ids.insert(g, id);
        }
        Ok(())
    }
}

/// A conflict on a code, left open.
fn code_k(
    kind: &'static str,
    code: &str,
    field: Option<&str>,
    here: String,
    theirs: String,
    note: Option<String>,
) -> MergeConflict {
    MergeConflict {
        kind,
        respondent: None,
        question: None,
        coder: None,
        code: Some(code.to_string()),
        field: field.map(str::to_string),
        here,
        theirs,
        settled: None,
        note,
    }
}

fn is_taken(taken: &BTreeMap<String, Vec<&'static str>>, guid: &str, field: &str) -> bool {
    taken.get(guid).is_some_and(|f| f.contains(&field))
}

/// The rows of (answer, coder) units in one side, as `m_ur` holds them, for the units in
/// `m_unit` (all of them, or those of base `b`). With `untouched` (base `b`'s point), only rows
/// that no event after that point touched, that no later import stamped, and no consensus
/// decision that a later event made (`consensus --agreed|--single` do not list the decisions
/// they add among their rows, but name their event in them, and never overwrite one): the rest
/// of the base comes from the events (see `touched_rows`).
fn unit_rows(ver: i64, side: Side, b: Option<i64>, untouched: Option<i64>) -> Vec<String> {
    let s = side.schema();
    let (rj, r) = match side {
        Side::Theirs => ("JOIN temp.m_rmap rm ON rm.t_id = t.response_id", "rm.m_id"),
        Side::Mine => ("", "t.response_id"),
    };
    let unit = match b {
        Some(b) => format!("JOIN temp.m_unit u ON u.r = {r} AND u.coder = d.name AND u.base = {b}"),
        None => format!("JOIN temp.m_unit u ON u.r = {r} AND u.coder = d.name"),
    };
    let b = b.unwrap_or(-1);
    let (untouched, point) = (untouched.is_some(), untouched.unwrap_or(0));
    let not_touched = |tbl: &str, key: &str| {
        if untouched {
            format!(
                "AND NOT EXISTS (SELECT 1 FROM temp.m_touch x WHERE x.b = {b} AND x.tbl = '{tbl}' \
                 AND {key})"
            )
        } else {
            String::new()
        }
    };
    let not_stamped = |col: &str| {
        if untouched {
            format!("AND {col} NOT IN (SELECT stamp FROM temp.m_stamp WHERE b = {b})")
        } else {
            String::new()
        }
    };
    let insert = "INSERT INTO temp.m_ur (ver, r, coder, kind, g, s, e, v, stamp)";
    vec![
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 1, kc.guid, t.start, t.\"end\", t.memo, t.created_at
             FROM {s}.codings t {rj} JOIN {s}.coders d ON d.id = t.coder_id {unit}
             JOIN {s}.codes kc ON kc.id = t.code_id
             WHERE 1 {} {}",
            not_touched(
                "codings",
                "x.r = t.response_id AND x.c = t.coder_id AND x.k = t.code_id \
                 AND x.s IS t.start AND x.e IS t.\"end\""
            ),
            not_stamped("t.created_at")
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 2, '', NULL, NULL, '', t.reviewed_at
             FROM {s}.reviews t {rj} JOIN {s}.coders d ON d.id = t.coder_id {unit}
             WHERE 1 {} {}",
            not_touched("reviews", "x.r = t.response_id AND x.c = t.coder_id"),
            not_stamped("t.reviewed_at")
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 3, '', NULL, NULL, t.text, t.updated_at
             FROM {s}.memos t {rj} JOIN {s}.coders d ON d.id = t.coder_id {unit}
             WHERE t.response_id IS NOT NULL {}",
            not_touched(
                "memos",
                "x.r = t.response_id AND x.c = t.coder_id AND x.k IS NULL"
            )
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 4, kc.guid, NULL, NULL,
                    json_array(t.decision, t.adopted_from, t.from_coders, t.decided_by),
                    t.decided_at
             FROM {s}.consensus_decisions t {rj} JOIN {s}.coders d ON d.id = t.consensus_id
             {unit} JOIN {s}.codes kc ON kc.id = t.code_id
             WHERE 1 {}",
            not_touched(
                "consensus_decisions",
                "x.r = t.response_id AND x.c = t.consensus_id AND x.k = t.code_id"
            ) + &if untouched {
                format!(" AND ifnull(t.event_id, 0) <= {point}")
            } else {
                String::new()
            }
        ),
    ]
}

/// The base rows that events after base `b`'s point touched: each row's state before the first
/// of them (absent rows and rows a later import stamped are not in the base).
fn touched_rows(ver: i64, side: Side, b: i64) -> Vec<String> {
    let s = side.schema();
    let (rj, r) = match side {
        Side::Theirs => ("JOIN temp.m_rmap rm ON rm.t_id = x.r", "rm.m_id"),
        Side::Mine => ("", "x.r"),
    };
    let from = format!(
        "FROM temp.m_touch x {rj} JOIN {s}.coders d ON d.id = x.c
         JOIN temp.m_unit u ON u.r = {r} AND u.coder = d.name AND u.base = {b}"
    );
    let stamps = format!("(SELECT stamp FROM temp.m_stamp WHERE b = {b})");
    let insert = "INSERT INTO temp.m_ur (ver, r, coder, kind, g, s, e, v, stamp)";
    vec![
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 1, bc.guid, x.s, x.e, x.row->>'$.memo',
                    x.row->>'$.created_at'
             {from} JOIN temp.m_bcode bc ON bc.b = {b} AND bc.id = x.k
             WHERE x.b = {b} AND x.tbl = 'codings' AND x.row <> 'null'
               AND (x.row->>'$.created_at') NOT IN {stamps}"
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 2, '', NULL, NULL, '', x.row->>'$.reviewed_at'
             {from}
             WHERE x.b = {b} AND x.tbl = 'reviews' AND x.row <> 'null'
               AND (x.row->>'$.reviewed_at') NOT IN {stamps}"
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 3, '', NULL, NULL, x.row->>'$.text',
                    x.row->>'$.updated_at'
             {from}
             WHERE x.b = {b} AND x.tbl = 'memos' AND x.r IS NOT NULL AND x.row <> 'null'"
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 4, bc.guid, NULL, NULL,
                    json_array(x.row->>'$.decision', x.row->>'$.adopted_from',
                               x.row->>'$.from_coders', x.row->>'$.decided_by'),
                    x.row->>'$.decided_at'
             {from} JOIN temp.m_bcode bc ON bc.b = {b} AND bc.id = x.k
             WHERE x.b = {b} AND x.tbl = 'consensus_decisions' AND x.row <> 'null'"
        ),
    ]
}

/// One side's rows of every unit, for finding the units that differ: answers by their id here,
/// coders and codes by numbers both sides share (`m_coder`'s rowid, `m_code.n`), so that the
/// comparison sorts integers rather than names and GUIDs.
fn all_rows(side: Side) -> String {
    let s = side.schema();
    let (rj, r, cid, kid) = match side {
        Side::Theirs => (
            "JOIN temp.m_rmap rm ON rm.t_id = t.response_id",
            "rm.m_id",
            "t_id",
            "t_id",
        ),
        Side::Mine => (
            "JOIN temp.m_rmap rm ON rm.m_id = t.response_id",
            "t.response_id",
            "m_id",
            "m_id",
        ),
    };
    let coder = |col: &str| format!("JOIN temp.m_coder sc ON sc.{cid} = t.{col} AND sc.sel");
    let code = format!("JOIN temp.m_code kc ON kc.{kid} = t.code_id");
    format!(
        "SELECT {r} AS r, sc.rowid AS cn, 1 AS kind, kc.n AS g, t.start AS s, t.\"end\" AS e,
                t.memo AS v
         FROM {s}.codings t {rj} {} {code}
         UNION ALL
         SELECT {r}, sc.rowid, 2, 0, NULL, NULL, '' FROM {s}.reviews t {rj} {}
         UNION ALL
         SELECT {r}, sc.rowid, 3, 0, NULL, NULL, t.text FROM {s}.memos t {rj} {}
         WHERE t.response_id IS NOT NULL
         UNION ALL
         SELECT {r}, sc.rowid, 4, kc.n, NULL, NULL,
                json_array(t.decision, t.adopted_from, t.from_coders, t.decided_by)
         FROM {s}.consensus_decisions t {rj} {} {code}",
        coder("coder_id"),
        coder("coder_id"),
        coder("coder_id"),
        coder("consensus_id"),
    )
}

impl Merge<'_> {
    /// The units coded differently in the two copies: rows one side has and the other lacks
    /// (timestamps aside). Everything else is the same in both and needs nothing.
    fn find_units(&self) -> Result<()> {
        let c = self.c;
        c.execute_batch(&format!(
            "CREATE INDEX temp.m_coder_m ON m_coder (m_id);
             CREATE INDEX temp.m_coder_t ON m_coder (t_id);
             CREATE TEMP TABLE m_code (n INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE,
                                       m_id INTEGER UNIQUE, t_id INTEGER UNIQUE);
             INSERT INTO temp.m_code (guid, m_id) SELECT guid, id FROM main.codes;
             INSERT INTO temp.m_code (guid, t_id) SELECT guid, id FROM other.codes WHERE true
             ON CONFLICT (guid) DO UPDATE SET t_id = excluded.t_id;
             INSERT OR IGNORE INTO temp.m_unit (r, coder)
             SELECT DISTINCT x.r, sc.name FROM (
                 SELECT r, cn FROM ({} UNION ALL {})
                 GROUP BY r, cn, kind, g, s, e, v HAVING count(*) = 1) x
             JOIN temp.m_coder sc ON sc.rowid = x.cn;
             UPDATE temp.m_unit SET
                 base = (SELECT base FROM temp.m_coder WHERE name = m_unit.coder),
                 same = (SELECT same FROM temp.m_rmap WHERE m_id = m_unit.r);",
            all_rows(Side::Theirs),
            all_rows(Side::Mine)
        ))?;
        for sql in unit_rows(0, Side::Mine, None, None) {
            c.execute_batch(&sql)?;
        }
        for sql in unit_rows(1, Side::Theirs, None, None) {
            c.execute_batch(&sql)?;
        }
        let bases: Vec<i64> = {
            let mut st = c.prepare("SELECT DISTINCT base FROM temp.m_unit")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for b in bases {
            let Some((side, point)) = self.bases[b as usize].from else {
                continue;
            };
            for sql in unit_rows(2 + b, side, Some(b), Some(point)) {
                c.execute_batch(&sql)?;
            }
            for sql in touched_rows(2 + b, side, b) {
                c.execute_batch(&sql)?;
            }
        }
        Ok(())
    }

    /// Compares each unit's three versions: changed only in the copy, take it; only here (or
    /// in neither), keep this one; in both, a conflict (settled by `--prefer` when given).
    fn decide_units(&mut self) -> Result<()> {
        let c = self.c;
        // Each version of a unit as one string: its rows in a fixed order, each field
        // separated and the free text length-prefixed, so that equal strings mean equal rows.
        c.execute_batch(
            "CREATE TEMP TABLE m_dig AS
             SELECT ver, r, coder,
                    group_concat(kind || '|' || g || '|' || ifnull(s, '') || '|' || ifnull(e, '')
                                 || '|' || length(v) || ':' || v, char(30)
                                 ORDER BY kind, g, s, e, v) AS d
             FROM temp.m_ur GROUP BY ver, r, coder;
             CREATE INDEX temp.m_dig_k ON m_dig (r, coder, ver);
             UPDATE temp.m_unit SET
                 dm = ifnull((SELECT d FROM temp.m_dig x
                              WHERE x.r = m_unit.r AND x.coder = m_unit.coder AND x.ver = 0), ''),
                 dt = ifnull((SELECT d FROM temp.m_dig x
                              WHERE x.r = m_unit.r AND x.coder = m_unit.coder AND x.ver = 1), ''),
                 db = ifnull((SELECT d FROM temp.m_dig x WHERE x.r = m_unit.r
                              AND x.coder = m_unit.coder AND x.ver = 2 + m_unit.base), '');",
        )?;
        for b in 0..self.bases.len() {
            let (opaque_t, opaque_m) = self.opaque(b, true);
            c.execute(
                "UPDATE temp.m_unit SET verdict = CASE
                     WHEN same = 0 THEN 'answer_text'
                     WHEN NOT (dt <> db OR ?2) THEN 'keep'
                     WHEN NOT (dm <> db OR ?3) THEN 'take'
                     ELSE 'answer' END
                 WHERE base = ?1",
                params![b as i64, opaque_t, opaque_m],
            )?;
            // Conflicts an earlier merge left open stay conflicts until settled.
            let mut st = c.prepare(
                "UPDATE temp.m_unit SET verdict = 'answer', left_open = 1
                 WHERE base = ?4 AND coder = ?3 AND verdict IN ('keep', 'take')
                   AND r = (SELECT s.id FROM main.responses s
                            JOIN main.respondents p ON p.id = s.respondent_id
                            JOIN main.questions q ON q.id = s.question_id
                            WHERE p.ext_id = ?1 AND q.name = ?2)",
            )?;
            for (ext, question, coder) in &self.bases[b].left_units {
                st.execute(params![ext, question, coder, b as i64])?;
            }
        }
        if let Some(p) = self.opts.prefer {
            c.execute(
                "UPDATE temp.m_unit SET settled = 1, verdict = ?1 WHERE verdict = 'answer'",
                [match p {
                    Prefer::Mine => "keep",
                    Prefer::Theirs => "take",
                }],
            )?;
        }
        // The copy's version needs codes this codebook has (after the codebook's merge); when
        // it has all of the copy's codes, nothing needs checking.
        let lacking: i64 = one(
            c,
            "SELECT count(*) FROM other.codes t
             WHERE NOT EXISTS (SELECT 1 FROM main.codes k WHERE k.guid = t.guid)",
            [],
        )?;
        if lacking > 0 {
            c.execute_batch(
                "UPDATE temp.m_unit SET verdict = 'code_missing'
             WHERE verdict = 'take' AND EXISTS (
                 SELECT 1 FROM temp.m_ur x WHERE x.ver = 1 AND x.r = m_unit.r
                 AND x.coder = m_unit.coder AND x.kind IN (1, 4)
                 AND NOT EXISTS (SELECT 1 FROM main.codes k WHERE k.guid = x.g))",
            )?;
        }
        Ok(())
    }

    /// Adds the copy's coders whose work is taken and who are not in this project yet.
    fn create_coders(&mut self) -> Result<()> {
        let new: Vec<(String, bool)> = {
            let mut st = self.c.prepare(
                "SELECT DISTINCT mc.name, mc.t_consensus FROM temp.m_unit u
                 JOIN temp.m_coder mc ON mc.name = u.coder
                 WHERE u.verdict = 'take' AND mc.m_id IS NULL ORDER BY mc.name",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (name, consensus) in new {
            self.create_coder(&name, consensus)?;
        }
        Ok(())
    }

    fn create_coder(&mut self, name: &str, consensus: bool) -> Result<i64> {
        let id = super::coder_id_in(self.c, name)?;
        if consensus {
            self.c.execute(
                "UPDATE main.coders SET is_consensus = 1 WHERE id = ?1",
                [id],
            )?;
        }
        self.c.execute(
            "UPDATE temp.m_coder SET m_id = ?2 WHERE name = ?1",
            params![name, id],
        )?;
        self.coders_created.push(name.to_string());
        Ok(id)
    }

    /// Replaces this project's version of every taken unit by the copy's, set by set, and
    /// records each row that changes (before and after, as the undo machinery reads them).
    fn take_units(&self) -> Result<()> {
        let c = self.c;
        c.execute_batch(
            "INSERT INTO temp.m_take (r, c)
             SELECT u.r, mc.m_id FROM temp.m_unit u JOIN temp.m_coder mc ON mc.name = u.coder
             WHERE u.verdict = 'take';",
        )?;
        let theirs_from = "FROM other.{T} t
             JOIN temp.m_rmap rm ON rm.t_id = t.response_id
             JOIN other.coders oc ON oc.id = t.{C}
             JOIN temp.m_coder mc ON mc.name = oc.name
             JOIN temp.m_take tk ON tk.r = rm.m_id AND tk.c = mc.m_id";
        let theirs = |t: &str, col: &str| theirs_from.replace("{T}", t).replace("{C}", col);
        // Codings: key (answer, coder, code, start, end); a changed memo is a changed row.
        c.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.m_mine; DROP TABLE IF EXISTS temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT k.response_id AS r, k.coder_id AS c, k.code_id AS k, k.start AS s,
                    k.\"end\" AS e, k.memo AS v, k.created_at AS at
             FROM main.codings k JOIN temp.m_take t ON t.r = k.response_id AND t.c = k.coder_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, mk.id AS k, t.start AS s, t.\"end\" AS e,
                    t.memo AS v, t.created_at AS at
             {}
             JOIN other.codes ok ON ok.id = t.code_id JOIN main.codes mk ON mk.guid = ok.guid;
             CREATE INDEX temp.m_mine_k ON m_mine (r, c, k);
             CREATE INDEX temp.m_theirs_k ON m_theirs (r, c, k);
             INSERT INTO temp.m_ev (tbl, r, c, k, s, e, key, before, after)
             SELECT 'codings', m.r, m.c, m.k, m.s, m.e,
                    json_object('response_id', m.r, 'coder_id', m.c, 'code_id', m.k,
                                'start', m.s, 'end', m.e),
                    json_object('memo', m.v, 'created_at', m.at),
                    CASE WHEN t.r IS NOT NULL THEN json_object('memo', t.v, 'created_at', t.at) END
             FROM temp.m_mine m LEFT JOIN temp.m_theirs t
                  ON t.r = m.r AND t.c = m.c AND t.k = m.k AND t.s IS m.s AND t.e IS m.e
             WHERE t.r IS NULL OR t.v <> m.v
             ORDER BY m.r, m.c, m.k, m.s, m.e;
             INSERT INTO temp.m_ev (tbl, r, c, k, s, e, key, before, after)
             SELECT 'codings', t.r, t.c, t.k, t.s, t.e,
                    json_object('response_id', t.r, 'coder_id', t.c, 'code_id', t.k,
                                'start', t.s, 'end', t.e),
                    NULL, json_object('memo', t.v, 'created_at', t.at)
             FROM temp.m_theirs t
             WHERE NOT EXISTS (SELECT 1 FROM temp.m_mine m WHERE m.r = t.r AND m.c = t.c
                               AND m.k = t.k AND m.s IS t.s AND m.e IS t.e)
             ORDER BY t.r, t.c, t.k, t.s, t.e;",
            theirs("codings", "coder_id")
        ))?;
        // Review marks: present or not.
        c.execute_batch(&format!(
            "DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT v.response_id AS r, v.coder_id AS c, v.reviewed_at AS at
             FROM main.reviews v JOIN temp.m_take t ON t.r = v.response_id AND t.c = v.coder_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, t.reviewed_at AS at {};
             INSERT INTO temp.m_ev (tbl, r, c, key, before, after)
             SELECT 'reviews', m.r, m.c, json_object('response_id', m.r, 'coder_id', m.c),
                    json_object('reviewed_at', m.at), NULL
             FROM temp.m_mine m
             WHERE NOT EXISTS (SELECT 1 FROM temp.m_theirs t WHERE t.r = m.r AND t.c = m.c)
             ORDER BY m.r, m.c;
             INSERT INTO temp.m_ev (tbl, r, c, key, before, after)
             SELECT 'reviews', t.r, t.c, json_object('response_id', t.r, 'coder_id', t.c),
                    NULL, json_object('reviewed_at', t.at)
             FROM temp.m_theirs t
             WHERE NOT EXISTS (SELECT 1 FROM temp.m_mine m WHERE m.r = t.r AND m.c = t.c)
             ORDER BY t.r, t.c;",
            theirs("reviews", "coder_id")
        ))?;
        // Memos on answers.
        c.execute_batch(&format!(
            "DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT m.response_id AS r, m.coder_id AS c, m.text AS v, m.updated_at AS at
             FROM main.memos m JOIN temp.m_take t ON t.r = m.response_id AND t.c = m.coder_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, t.text AS v, t.updated_at AS at {};
             INSERT INTO temp.m_ev (tbl, r, c, key, before, after)
             SELECT 'memos', coalesce(m.r, t.r), coalesce(m.c, t.c),
                    json_object('coder_id', coalesce(m.c, t.c),
                                'response_id', coalesce(m.r, t.r), 'code_id', NULL),
                    CASE WHEN m.r IS NOT NULL THEN json_object('text', m.v, 'updated_at', m.at) END,
                    CASE WHEN t.r IS NOT NULL THEN json_object('text', t.v, 'updated_at', t.at) END
             FROM temp.m_mine m FULL JOIN temp.m_theirs t ON t.r = m.r AND t.c = m.c
             WHERE m.v IS NOT t.v
             ORDER BY 2, 3;",
            theirs("memos", "coder_id")
        ))?;
        // Consensus decisions of consensus coders (their `event_id` points into the copy's
        // log, so it is not carried over).
        c.execute_batch(&format!(
            "DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT d.response_id AS r, d.consensus_id AS c, d.code_id AS k,
                    json_object('decision', d.decision, 'adopted_from', d.adopted_from,
                                'from_coders', d.from_coders, 'decided_by', d.decided_by,
                                'decided_at', d.decided_at, 'event_id', d.event_id) AS row,
                    json_array(d.decision, d.adopted_from, d.from_coders, d.decided_by) AS v
             FROM main.consensus_decisions d
             JOIN temp.m_take t ON t.r = d.response_id AND t.c = d.consensus_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, mk.id AS k,
                    json_object('decision', t.decision, 'adopted_from', t.adopted_from,
                                'from_coders', t.from_coders, 'decided_by', t.decided_by,
                                'decided_at', t.decided_at, 'event_id', NULL) AS row,
                    json_array(t.decision, t.adopted_from, t.from_coders, t.decided_by) AS v
             {}
             JOIN other.codes ok ON ok.id = t.code_id JOIN main.codes mk ON mk.guid = ok.guid;
             INSERT INTO temp.m_ev (tbl, r, c, k, key, before, after)
             SELECT 'consensus_decisions', coalesce(m.r, t.r), coalesce(m.c, t.c),
                    coalesce(m.k, t.k),
                    json_object('consensus_id', coalesce(m.c, t.c),
                                'response_id', coalesce(m.r, t.r), 'code_id', coalesce(m.k, t.k)),
                    m.row, t.row
             FROM temp.m_mine m FULL JOIN temp.m_theirs t
                  ON t.r = m.r AND t.c = m.c AND t.k = m.k
             WHERE m.v IS NOT t.v
             ORDER BY 2, 3, 4;
             DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;",
            theirs("consensus_decisions", "consensus_id")
        ))?;
        // Apply: every recorded key is deleted, then the copy's rows are inserted.
        c.execute_batch(
            "DELETE FROM main.codings WHERE id IN (
                 SELECT k.id FROM temp.m_ev v JOIN main.codings k
                 ON k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                 AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)
                 WHERE v.tbl = 'codings');
             INSERT INTO main.codings (response_id, code_id, coder_id, start, \"end\", memo,
                                       created_at)
             SELECT r, k, c, s, e, after->>'$.memo', after->>'$.created_at' FROM temp.m_ev
             WHERE tbl = 'codings' AND after IS NOT NULL ORDER BY seq;
             DELETE FROM main.reviews WHERE (response_id, coder_id) IN (
                 SELECT r, c FROM temp.m_ev WHERE tbl = 'reviews');
             INSERT INTO main.reviews (response_id, coder_id, reviewed_at)
             SELECT r, c, after->>'$.reviewed_at' FROM temp.m_ev
             WHERE tbl = 'reviews' AND after IS NOT NULL ORDER BY seq;
             DELETE FROM main.memos WHERE code_id IS NULL AND (coder_id, response_id) IN (
                 SELECT c, r FROM temp.m_ev WHERE tbl = 'memos' AND r IS NOT NULL);
             INSERT INTO main.memos (coder_id, response_id, code_id, text, updated_at)
             SELECT c, r, NULL, after->>'$.text', after->>'$.updated_at' FROM temp.m_ev
             WHERE tbl = 'memos' AND r IS NOT NULL AND after IS NOT NULL ORDER BY seq;
             DELETE FROM main.consensus_decisions
             WHERE (consensus_id, response_id, code_id) IN (
                 SELECT c, r, k FROM temp.m_ev WHERE tbl = 'consensus_decisions');
             INSERT INTO main.consensus_decisions (consensus_id, response_id, code_id, decision,
                 adopted_from, from_coders, decided_by, decided_at, event_id)
             SELECT c, r, k, after->>'$.decision', after->>'$.adopted_from',
                    after->>'$.from_coders', after->>'$.decided_by', after->>'$.decided_at', NULL
             FROM temp.m_ev WHERE tbl = 'consensus_decisions' AND after IS NOT NULL ORDER BY seq;",
        )?;
        Ok(())
    }

    /// Memos on codes, per (coder, code): three-way like the answers' units.
    fn merge_code_memos(&mut self) -> Result<()> {
        type Memos = HashMap<(String, String), (String, String)>;
        let read = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Memos> {
            let mut st = self.c.prepare(sql)?;
            let rows = st.query_map(p, |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    (r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let side_sql = |s: &str| {
            format!(
                "SELECT d.name, k.guid, m.text, m.updated_at FROM {s}.memos m
                 JOIN {s}.coders d ON d.id = m.coder_id
                 JOIN temp.m_coder sc ON sc.name = d.name AND sc.sel
                 JOIN {s}.codes k ON k.id = m.code_id WHERE m.code_id IS NOT NULL"
            )
        };
        let mine = read(&side_sql("main"), &[])?;
        let theirs = read(&side_sql("other"), &[])?;
        let coder_base: HashMap<String, usize> = {
            let mut st = self
                .c
                .prepare("SELECT name, base FROM temp.m_coder WHERE sel")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut base: HashMap<usize, Memos> = HashMap::new();
        let used: BTreeSet<usize> = coder_base.values().copied().collect();
        for b in used {
            let Some((side, _)) = self.bases[b].from else {
                base.insert(b, Memos::new());
                continue;
            };
            let s = side.schema();
            let bi = b as i64;
            let mut m = read(
                &format!(
                    "SELECT d.name, k.guid, m.text, m.updated_at FROM {s}.memos m
                     JOIN {s}.coders d ON d.id = m.coder_id JOIN {s}.codes k ON k.id = m.code_id
                     WHERE m.code_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM temp.m_touch x
                         WHERE x.b = ?1 AND x.tbl = 'memos' AND x.r IS NULL
                         AND x.c = m.coder_id AND x.k = m.code_id)"
                ),
                &[&bi],
            )?;
            m.extend(read(
                &format!(
                    "SELECT d.name, bc.guid, x.row->>'$.text', x.row->>'$.updated_at'
                     FROM temp.m_touch x JOIN {s}.coders d ON d.id = x.c
                     JOIN temp.m_bcode bc ON bc.b = x.b AND bc.id = x.k
                     WHERE x.b = ?1 AND x.tbl = 'memos' AND x.r IS NULL AND x.row <> 'null'"
                ),
                &[&bi],
            )?);
            base.insert(b, m);
        }
        let mut keys: Vec<&(String, String)> = mine.keys().chain(theirs.keys()).collect();
        keys.sort();
        keys.dedup();
        for unit in keys {
            let (coder, guid) = unit;
            let m = mine.get(unit).map(|v| v.0.as_str());
            let t = theirs.get(unit).map(|v| v.0.as_str());
            if m == t {
                continue;
            }
            let b = coder_base.get(coder).copied().unwrap_or(0);
            let bv = base.get(&b).and_then(|x| x.get(unit)).map(|v| v.0.as_str());
            let take = if bv == t {
                false
            } else if bv == m {
                true
            } else {
                let name: Option<String> = self
                    .c
                    .query_row(
                        "SELECT coalesce((SELECT name FROM main.codes WHERE guid = ?1),
                                         (SELECT name FROM other.codes WHERE guid = ?1))",
                        [guid],
                        |r| r.get(0),
                    )
                    .optional()?
                    .flatten();
                self.conflict(MergeConflict {
                    kind: "code_memo",
                    respondent: None,
                    question: None,
                    coder: Some(coder.clone()),
                    code: name,
                    field: None,
                    here: m.map_or("(no memo)".into(), |x| format!("{:?}", short(x, 60))),
                    theirs: t.map_or("(no memo)".into(), |x| format!("{:?}", short(x, 60))),
                    settled: self.opts.prefer,
                    note: None,
                });
                self.opts.prefer == Some(Prefer::Theirs)
            };
            if !take {
                continue;
            }
            let code_id: Option<i64> = self
                .c
                .query_row("SELECT id FROM main.codes WHERE guid = ?1", [guid], |r| {
                    r.get(0)
                })
                .optional()?;
            let Some(code_id) = code_id else {
                // The code was not merged (a conflict says why): its memo cannot come either.
                continue;
            };
            let coder_id: Option<i64> = one(
                self.c,
                "SELECT m_id FROM temp.m_coder WHERE name = ?1",
                [coder],
            )?;
            let coder_id = match coder_id {
                Some(id) => id,
                None => {
                    let consensus: i64 = one(
                        self.c,
                        "SELECT t_consensus FROM temp.m_coder WHERE name = ?1",
                        [coder],
                    )?;
                    self.create_coder(coder, consensus != 0)?
                }
            };
            let key = json!({"coder_id": coder_id, "response_id": null, "code_id": code_id});
            let before = read_row(self.c, Table::Memos, &key)?;
            let after = theirs
                .get(unit)
                .map(|(text, at)| json!({"text": text, "updated_at": at}));
            write_row(self.c, Table::Memos, &key, after.as_ref())?;
            self.record(
                "memos",
                Some(coder_id),
                &key,
                before.as_ref(),
                after.as_ref(),
            )?;
        }
        Ok(())
    }

    /// Deletes the codes deleted in the copy and unchanged here, once nothing here uses them.
    fn delete_codes(&mut self) -> Result<()> {
        for guid in std::mem::take(&mut self.deletions) {
            let Some((id, name)) = self
                .c
                .query_row(
                    "SELECT id, name FROM main.codes WHERE guid = ?1",
                    [&guid],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
            else {
                continue;
            };
            let (codings, memos, children, decisions): (i64, i64, i64, i64) = self.c.query_row(
                "SELECT (SELECT count(*) FROM main.codings WHERE code_id = ?1),
                        (SELECT count(*) FROM main.memos WHERE code_id = ?1),
                        (SELECT count(*) FROM main.codes WHERE parent_id = ?1),
                        (SELECT count(*) FROM main.consensus_decisions WHERE code_id = ?1)",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            if codings + memos + children + decisions > 0 {
                let mut uses = Vec::new();
                for (n, what) in [
                    (codings, "codings"),
                    (memos, "memos"),
                    (children, "sub-codes"),
                    (decisions, "consensus decisions"),
                ] {
                    if n > 0 {
                        uses.push(format!("{n} {what}"));
                    }
                }
                self.code_conflict(
                    &guid,
                    code_k(
                        "code_deleted",
                        &name,
                        None,
                        format!("in use: {}", uses.join(", ")),
                        "deleted".into(),
                        Some("deleted in the copy but still used here: kept".into()),
                    ),
                );
                continue;
            }
            let key = json!({ "id": id });
            let before = read_row(self.c, Table::Codes, &key)?;
            write_row(self.c, Table::Codes, &key, None)?;
            self.record("codes", None, &key, before.as_ref(), None)?;
            self.codes_deleted.push(name);
        }
        Ok(())
    }
}

/// A unit's version in short: its codes (with segments), "reviewed, no code" or "not coded",
/// and its memo.
/// A unit's row as a conflict shows it: kind, code name, start, end, memo or text.
type ShownRow = (i64, String, Option<i64>, Option<i64>, String);

fn describe(rows: &[ShownRow]) -> String {
    let mut codes = Vec::new();
    let mut reviewed = false;
    let mut memo = None;
    for (kind, name, s, e, v) in rows {
        match kind {
            1 => codes.push(match (s, e) {
                (Some(s), Some(e)) => format!("{name} [{s}..{e}]"),
                _ => name.clone(),
            }),
            2 => reviewed = true,
            3 => memo = Some(format!("memo {:?}", short(v, 40))),
            _ => {}
        }
    }
    let mut out = if !codes.is_empty() {
        codes.join(", ")
    } else if reviewed {
        "reviewed, no code".to_string()
    } else {
        "not coded".to_string()
    };
    if let Some(m) = memo {
        out.push_str("; ");
        out.push_str(&m);
    }
    out
}

impl Merge<'_> {
    fn coder_counts(&self) -> Result<Vec<CoderMerge>> {
        let mut by: BTreeMap<String, CoderMerge> = BTreeMap::new();
        {
            let mut st = self.c.prepare(
                "SELECT coder, sum(verdict = 'take'), sum(verdict = 'keep' AND NOT settled),
                        sum(verdict IN ('answer', 'answer_text', 'code_missing') OR settled)
                 FROM temp.m_unit GROUP BY coder",
            )?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            for row in rows {
                let (coder, taken, kept, conflicts) = row?;
                let e = by.entry(coder.clone()).or_default();
                e.answers_taken = taken;
                e.answers_kept = kept;
                e.conflicts = conflicts;
            }
        }
        {
            let mut st = self.c.prepare(
                "SELECT d.name, v.tbl, sum(v.before IS NULL), sum(v.after IS NULL),
                        sum(v.before IS NOT NULL AND v.after IS NOT NULL)
                 FROM temp.m_ev v JOIN main.coders d ON d.id = v.c
                 WHERE v.tbl IN ('codings', 'reviews', 'memos') GROUP BY d.name, v.tbl",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            for row in rows {
                let (coder, tbl, added, removed, changed) = row?;
                let e = by.entry(coder).or_default();
                match tbl.as_str() {
                    "codings" => {
                        e.codings_added = added;
                        e.codings_removed = removed;
                        e.codings_changed = changed;
                    }
                    "reviews" => {
                        e.reviews_added = added;
                        e.reviews_removed = removed;
                    }
                    _ => {
                        e.memos_added = added;
                        e.memos_removed = removed;
                        e.memos_changed = changed;
                    }
                }
            }
        }
        for k in &self.conflicts {
            if k.kind == "code_memo"
                && let Some(c) = &k.coder
            {
                by.entry(c.clone()).or_default().conflicts += 1;
            }
        }
        Ok(by
            .into_iter()
            .map(|(coder, mut m)| {
                m.new_here = self.coders_created.contains(&coder);
                m.coder = coder;
                m
            })
            .collect())
    }

    /// Lists the units left in conflict (and those `--prefer` settled) with both versions.
    fn list_unit_conflicts(&mut self) -> Result<()> {
        let units: Vec<(i64, String, String, bool, bool, String, String)> = {
            let mut st = self.c.prepare(
                "SELECT u.r, u.coder, u.verdict, u.settled, u.left_open, p.ext_id, q.name
                 FROM temp.m_unit u JOIN main.responses s ON s.id = u.r
                 JOIN main.respondents p ON p.id = s.respondent_id
                 JOIN main.questions q ON q.id = s.question_id
                 WHERE u.verdict IN ('answer', 'answer_text', 'code_missing') OR u.settled
                 ORDER BY s.respondent_id, q.position, q.id, u.coder",
            )?;
            st.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut st = self.c.prepare(
            "SELECT x.kind, coalesce(CASE WHEN x.ver = 0 THEN mk.name ELSE ok.name END,
                                     mk.name, ok.name, x.g),
                    x.s, x.e, x.v
             FROM temp.m_ur x LEFT JOIN main.codes mk ON mk.guid = x.g
             LEFT JOIN other.codes ok ON ok.guid = x.g
             WHERE x.ver = ?1 AND x.r = ?2 AND x.coder = ?3
             ORDER BY x.kind, x.s IS NOT NULL, x.s, x.e, 2",
        )?;
        let mut missing = self.c.prepare(
            "SELECT DISTINCT ok.name FROM temp.m_ur x JOIN other.codes ok ON ok.guid = x.g
             WHERE x.ver = 1 AND x.r = ?1 AND x.coder = ?2 AND x.kind IN (1, 4)
               AND NOT EXISTS (SELECT 1 FROM main.codes k WHERE k.guid = x.g)
             ORDER BY 1",
        )?;
        for (r, coder, verdict, settled, left_open, ext, question) in units {
            let mut version = |ver: i64| -> Result<String> {
                let rows = st
                    .query_map(params![ver, r, coder], |x| {
                        Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?, x.get(4)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(describe(&rows))
            };
            let (here, theirs) = (version(0)?, version(1)?);
            let (kind, note) = match verdict.as_str() {
                "answer_text" => (
                    "answer_text",
                    Some("the answer's text differs between the copies: never merged".to_string()),
                ),
                "code_missing" => {
                    let names: Vec<String> = missing
                        .query_map(params![r, coder], |x| x.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    (
                        "code_missing",
                        Some(format!(
                            "the copy's version uses codes this codebook lacks: {}",
                            names.join(", ")
                        )),
                    )
                }
                _ => (
                    "answer",
                    left_open.then(|| "left open by an earlier merge".to_string()),
                ),
            };
            let settled = settled.then_some(match verdict.as_str() {
                "take" => Prefer::Theirs,
                _ => Prefer::Mine,
            });
            self.conflicts.push(MergeConflict {
                kind,
                respondent: Some(ext),
                question: Some(question),
                coder: Some(coder),
                code: None,
                field: None,
                here,
                theirs,
                settled,
                note,
            });
        }
        Ok(())
    }

    /// Logs the merge as one event that the undo machinery can take back, with the record of
    /// the copy's log as merged. Nothing changed: no event.
    fn log(&self) -> Result<Option<i64>> {
        let c = self.c;
        let changed: i64 = one(c, "SELECT count(*) FROM temp.m_ev", [])?;
        if changed == 0 {
            return Ok(None);
        }
        let their_last: i64 = one(c, "SELECT ifnull(max(id), 0) FROM other.events", [])?;
        let left_units: Vec<Json> = {
            let mut st = c.prepare(
                "SELECT p.ext_id, q.name, u.coder FROM temp.m_unit u
                 JOIN main.responses s ON s.id = u.r
                 JOIN main.respondents p ON p.id = s.respondent_id
                 JOIN main.questions q ON q.id = s.question_id
                 WHERE u.verdict IN ('answer', 'answer_text', 'code_missing') AND NOT u.settled
                 ORDER BY u.r, u.coder",
            )?;
            st.query_map([], |r| {
                Ok(json!([
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?
                ]))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let record = json!({
            "other": self.other,
            "other_events": their_last,
            "other_last": fingerprint(c, Side::Theirs, their_last)?,
            "coders": if self.opts.coders.is_empty() { Json::Null } else { json!(self.opts.coders) },
            "conflicts_left": left_units,
            "code_conflicts_left": self.code_conflicts_left,
            "coders_created": self.coders_created,
        });
        let taken: i64 = one(
            c,
            "SELECT count(*) FROM temp.m_unit WHERE verdict = 'take'",
            [],
        )?;
        let file = Path::new(&self.other)
            .file_name()
            .map_or(self.other.clone(), |f| f.to_string_lossy().to_string());
        let n =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        let summary = format!(
            "merge {file}: {} taken; codes: {} added, {} changed, {} deleted",
            n(taken as usize, "answer", "answers"),
            self.codes_added.len(),
            self.codes_changed.len(),
            self.codes_deleted.len()
        );
        let head = format!(
            "{{\"summary\":{},\"response_id\":null,\"code_id\":null,",
            Json::from(summary)
        );
        c.execute(
            "INSERT INTO main.events (at, coder_id, action, before) VALUES (?1, NULL, 'merge', ?2)",
            params![
                crate::timefmt::now(),
                event_side(c, "temp.m_ev", "before", "ASC", &head, "")?
            ],
        )?;
        let id = c.last_insert_rowid();
        let tail = format!(",\"merge\":{record}");
        c.execute(
            "UPDATE main.events SET after = ?2 WHERE id = ?1",
            params![
                id,
                event_side(c, "temp.m_ev", "after", "ASC", &head, &tail)?
            ],
        )?;
        Ok(Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CodeFields, NewCode};

    fn snapshot(store: &Store) -> String {
        let mut out = String::new();
        for sql in [
            "SELECT response_id, coder_id, code_id, start, \"end\", memo, created_at FROM codings",
            "SELECT response_id, coder_id, reviewed_at FROM reviews",
            "SELECT coder_id, response_id, code_id, text, updated_at FROM memos",
            "SELECT id, guid, parent_id, name, description, shortcut, position FROM codes",
        ] {
            let mut st = store
                .conn()
                .prepare(&format!("{sql} ORDER BY 1, 2, 3"))
                .unwrap();
            let n = st.column_count();
            let mut rows = st.query([]).unwrap();
            while let Some(r) = rows.next().unwrap() {
                for i in 0..n {
                    out.push_str(&format!(
                        "{:?}|",
                        r.get::<_, rusqlite::types::Value>(i).unwrap()
                    ));
                }
                out.push('\n');
            }
            out.push_str("--\n");
        }
        out
    }

    /// The merge writes its rows set by set, but its event must be one that the undo machinery
    /// replays like any other: every row reads back as the event's `after` says, and writing
    /// each `before` in reverse order (as `replay` does) gives back the project as it was.
    #[test]
    fn a_merge_event_replays_like_any_other_event() {
        let dir = tempfile::tempdir().unwrap();
        let lead = dir.path().join("lead.db");
        let mut store = Store::create(&lead).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO imports VALUES (1, 'f', 't', 2, 0);
                 INSERT INTO respondents VALUES (1, 'r1', 1), (2, 'r2', 1);
                 INSERT INTO questions VALUES (1, 'q1', NULL, 0);
                 INSERT INTO responses VALUES (1, 1, 1, 'one answer', 0), (2, 2, 1, 'two', 0);
                 INSERT INTO codes (id, guid, name, position)
                 VALUES (1, 'g1', 'x', 1), (2, 'g2', 'y', 2), (3, 'g3', 'gone', 3);
                 INSERT INTO events (at, action, after) VALUES ('t', 'import_survey', '{}');",
            )
            .unwrap();
        let ana = store.coder_id("ana").unwrap();
        store.toggle_coding(ana, 1, 2, None).unwrap();
        let copy = dir.path().join("copy.db");
        store.backup_to(&copy).unwrap();
        {
            let mut ben = Store::open(&copy).unwrap();
            let b = ben.coder_id("ben").unwrap();
            let z = ben
                .add_code(
                    b,
                    &NewCode {
                        name: "z".into(),
                        parent_id: Some(1),
                        ..NewCode::default()
                    },
                )
                .unwrap();
            ben.toggle_coding(b, 1, z, Some((0, 3))).unwrap();
            ben.toggle_coding(b, 2, 1, None).unwrap();
            ben.set_answer_memo(b, 2, "short").unwrap();
            let fields = CodeFields {
                name: "why".into(),
                ..CodeFields::default()
            };
            ben.edit_code(b, 2, &fields, Some("a memo on the code"))
                .unwrap();
            // Ana's coding elsewhere changed in the copy too: the copy's version comes.
            let a = ben.coder_id("ana").unwrap();
            ben.toggle_coding(a, 1, 2, None).unwrap();
            ben.delete_code(b, 3).unwrap();
        }
        let before = snapshot(&store);
        let report = store.merge_from(&copy, &MergeOptions::default()).unwrap();
        assert!(report.conflicts.is_empty(), "{:?}", report.conflicts);
        assert_eq!(report.codes_deleted, ["gone"]);
        let id = report.event_id.expect("the merge changed something");
        assert_ne!(snapshot(&store), before);

        let (b, a): (String, String) = store
            .conn()
            .query_row(
                "SELECT before, after FROM events WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let rows = |text: &str| -> Vec<(Table, Json, Option<Json>)> {
            let side: Json = serde_json::from_str(text).unwrap();
            side["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        Table::parse(r["table"].as_str().unwrap()).unwrap(),
                        r["key"].clone(),
                        Some(r["row"].clone()).filter(|v| !v.is_null()),
                    )
                })
                .collect()
        };
        let (to, from) = (rows(&b), rows(&a));
        assert_eq!(to.len(), from.len());
        for i in (0..from.len()).rev() {
            let (table, key, expected) = &from[i];
            assert_eq!(
                &read_row(store.conn(), *table, key).unwrap(),
                expected,
                "row {i}"
            );
            write_row(store.conn(), *table, key, to[i].2.as_ref()).unwrap();
        }
        assert_eq!(snapshot(&store), before);
    }
}
