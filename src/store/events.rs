//! The event log of the coding screen's writes, and undo and redo.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction that records, row by row, what it changed
//! (the row before and after, keyed by the row's identity) and appends that to `events`. Undo
//! applies an event's rows backwards, redo forwards; both are events themselves, so the history
//! survives a restart and the audit trail says who did, undid and redid what, and when.

use super::Store;
use super::rows::{Table, j_str, read_row, write_row};
use crate::error::{Error, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::{Value as Json, json};

/// What undo or redo did, so the screen can show it and go to the answer or code it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub summary: String,
    pub response_id: Option<i64>,
    pub code_id: Option<i64>,
}

/// The actions of the coding screen that undo may take back (besides "redo").
const ACTIONS: &[&str] = &[
    "code.apply",
    "code.remove",
    "answer.no_code",
    "answer.memo",
    "codebook.add",
    "codebook.edit",
    "codebook.move",
    "codebook.nest",
    "codebook.merge",
    "codebook.delete",
    "codebook.memo",
    "consensus.decide",
    "autocode",
];

fn in_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row's change: its identity, and the row (non-key columns) before and after; None = absent.
#[derive(Debug, Clone)]
struct Change {
    table: Table,
    key: Json,
    before: Option<Json>,
    after: Option<Json>,
}

/// A write in progress: one immediate transaction and the rows it changed.
pub(super) struct Writer<'a> {
    tx: rusqlite::Transaction<'a>,
    changes: Vec<Change>,
}

impl Writer<'_> {
    pub(super) fn conn(&self) -> &Connection {
        &self.tx
    }

    pub(super) fn get(&self, table: Table, key: &Json) -> Result<Option<Json>> {
        read_row(&self.tx, table, key)
    }

    /// Sets a row (None deletes it) and records the change; a no-op records nothing.
    pub(super) fn set(&mut self, table: Table, key: Json, after: Option<Json>) -> Result<()> {
        let before = read_row(&self.tx, table, &key)?;
        if before == after {
            return Ok(());
        }
        write_row(&self.tx, table, &key, after.as_ref())?;
        self.changes.push(Change {
            table,
            key,
            before,
            after,
        });
        Ok(())
    }

    /// Commits the changes with their event; nothing changed means no event and no commit.
    fn finish(self, coder_id: i64, ev: &Logged) -> Result<bool> {
        if self.changes.is_empty() {
            return Ok(false);
        }
        let (before, after) = event_bodies(&self.changes, &ev.focus, &ev.summary);
        super::log_event(
            &self.tx,
            Some(coder_id),
            ev.action,
            Some(&before),
            Some(&after),
        )?;
        self.tx.commit()?;
        Ok(true)
    }
}

/// How a write is recorded in the event log.
pub(super) struct Logged {
    pub(super) action: &'static str,
    pub(super) focus: Focus,
    pub(super) summary: String,
}

/// What an event is about, so undo can show it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Focus {
    pub(super) response_id: Option<i64>,
    pub(super) code_id: Option<i64>,
}

/// The `before` and `after` JSON of an event: the changed rows in the order they were written.
fn event_bodies(changes: &[Change], focus: &Focus, summary: &str) -> (Json, Json) {
    let side = |f: &dyn Fn(&Change) -> Option<Json>| {
        json!({
            "summary": summary,
            "response_id": focus.response_id,
            "code_id": focus.code_id,
            "rows": changes.iter().map(|c| json!({
                "table": c.table.name(), "key": c.key, "row": f(c)
            })).collect::<Vec<_>>()
        })
    };
    (side(&|c| c.before.clone()), side(&|c| c.after.clone()))
}

/// The rows of an event side, as (table, key, row).
fn event_rows(side: &Json) -> Result<Vec<(Table, Json, Option<Json>)>> {
    let bad = || Error::input("the event log holds an entry this version cannot replay");
    side.get("rows")
        .and_then(Json::as_array)
        .ok_or_else(bad)?
        .iter()
        .map(|r| {
            let table = r
                .get("table")
                .and_then(Json::as_str)
                .and_then(Table::parse)
                .ok_or_else(bad)?;
            let key = r.get("key").cloned().ok_or_else(bad)?;
            let row = r.get("row").cloned().filter(|v| !v.is_null());
            Ok((table, key, row))
        })
        .collect()
}

type EventText = (i64, String, String);

fn undo_candidate(conn: &Connection, coder_id: i64) -> Result<Option<EventText>> {
    let sql = format!(
        "SELECT id, before, after FROM events WHERE coder_id = ?1 AND undone_by IS NULL
         AND action IN ({}, 'redo') ORDER BY id DESC LIMIT 1",
        in_list(ACTIONS)
    );
    Ok(conn
        .query_row(&sql, [coder_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// The latest undo not yet redone, unless the coder did something new since (which, as in any
/// editor, ends the chance to redo).
fn redo_candidate(conn: &Connection, coder_id: i64) -> Result<Option<EventText>> {
    let sql = format!(
        "SELECT id, before, after FROM events WHERE coder_id = ?1 AND action = 'undo'
         AND undone_by IS NULL
         AND id > (SELECT ifnull(max(id), 0) FROM events WHERE coder_id = ?1 AND action IN ({}))
         ORDER BY id DESC LIMIT 1",
        in_list(ACTIONS)
    );
    Ok(conn
        .query_row(&sql, [coder_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

impl Store {
    /// Whether this coder has something to undo / to redo.
    pub fn can_undo(&self, coder_id: i64) -> Result<bool> {
        Ok(undo_candidate(self.conn(), coder_id)?.is_some())
    }

    pub fn can_redo(&self, coder_id: i64) -> Result<bool> {
        Ok(redo_candidate(self.conn(), coder_id)?.is_some())
    }

    /// Runs one write as an immediate transaction (so two coders queue up instead of failing
    /// half-way), retrying when another coder holds the lock past the busy timeout. Nothing
    /// changed means no event and no commit.
    pub(super) fn write<T>(
        &mut self,
        coder_id: i64,
        mut f: impl FnMut(&mut Writer<'_>) -> Result<(T, Logged)>,
    ) -> Result<T> {
        // A write to a file no longer at the project's path would reach no one.
        self.still_in_place()?;
        let mut attempt = 0;
        loop {
            let result: Result<T> = (|| {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut w = Writer {
                    tx,
                    changes: Vec::new(),
                };
                let (value, logged) = f(&mut w)?;
                w.finish(coder_id, &logged)?;
                Ok(value)
            })();
            match result {
                Err(e) if e.is_busy() && attempt + 1 < self.write_attempts() => attempt += 1,
                other => return other,
            }
        }
    }

    /// Takes back this coder's latest action that is not undone yet (also one from an earlier
    /// session). None when there is nothing to undo.
    pub fn undo(&mut self, coder_id: i64) -> Result<Option<Replayed>> {
        self.replay(coder_id, "undo")
    }

    /// Does again what this coder's latest undo took back, unless they did something new since.
    pub fn redo(&mut self, coder_id: i64) -> Result<Option<Replayed>> {
        self.replay(coder_id, "redo")
    }

    /// Undo applies an event's rows backwards; redo applies the latest undo backwards. Either is
    /// refused, changing nothing, when a row is no longer as the event left it (another coder
    /// changed it in between): taking it back would lose their work.
    fn replay(&mut self, coder_id: i64, action: &'static str) -> Result<Option<Replayed>> {
        self.still_in_place()?;
        let mut attempt = 0;
        loop {
            let result = (|| {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)?;
                let found = if action == "undo" {
                    undo_candidate(&tx, coder_id)?
                } else {
                    redo_candidate(&tx, coder_id)?
                };
                let Some((id, before, after)) = found else {
                    return Ok(None);
                };
                let parse = |s: &str| {
                    serde_json::from_str::<Json>(s)
                        .map_err(|_| Error::input("the event log holds an entry that is not JSON"))
                };
                let (before, after) = (parse(&before)?, parse(&after)?);
                let (to, from) = (event_rows(&before)?, event_rows(&after)?);
                let summary = j_str(&before, "summary");
                if to.len() != from.len() {
                    return Err(Error::input(format!("event {id} in the log is damaged")));
                }
                // A review decision logged before decisions were part of their events: taking
                // back its codings alone would leave the decision standing.
                if before.get("decision").is_some()
                    && !from.iter().any(|(t, _, _)| matches!(t, Table::Decisions))
                {
                    return Err(Error::input(format!(
                        "cannot {action} \"{summary}\": an earlier version of lacrima logged \
                         this decision without what undo needs; decide again instead"
                    )));
                }
                for i in (0..from.len()).rev() {
                    let (table, key, expected) = &from[i];
                    if read_row(&tx, *table, key)? != *expected {
                        return Err(Error::input(format!(
                            "cannot {action} \"{summary}\": it was changed since (by another coder \
                             or another window); nothing was changed"
                        )));
                    }
                    write_row(&tx, *table, key, to[i].2.as_ref())?;
                }
                let side = |rows: &[(Table, Json, Option<Json>)]| {
                    json!({
                        "summary": summary,
                        "response_id": before.get("response_id"),
                        "code_id": before.get("code_id"),
                        "replays": id,
                        "rows": rows.iter().rev().map(|(t, k, r)| json!({
                            "table": t.name(), "key": k, "row": r
                        })).collect::<Vec<_>>()
                    })
                };
                let new_id = super::log_event(
                    &tx,
                    Some(coder_id),
                    action,
                    Some(&side(&from)),
                    Some(&side(&to)),
                )?;
                tx.execute(
                    "UPDATE events SET undone_by = ?1 WHERE id = ?2",
                    params![new_id, id],
                )?;
                tx.commit()?;
                Ok(Some(Replayed {
                    summary,
                    response_id: before.get("response_id").and_then(Json::as_i64),
                    code_id: before.get("code_id").and_then(Json::as_i64),
                }))
            })();
            match result {
                Err(e) if e.is_busy() && attempt + 1 < self.write_attempts() => attempt += 1,
                other => return other,
            }
        }
    }
}
