//! The coding workspace's reads and writes (`lacrima code`).
//!
//! Reads are paged: the answer list is fetched a window at a time with keyset pagination on
//! `responses.id` (survey order), so a project of a million answers opens as fast as a small one.
//! Counts over the whole project are separate calls that the screen runs on a worker thread.
//!
//! Every write is one `BEGIN IMMEDIATE` transaction that records, row by row, what it changed
//! (the row before and after, keyed by the row's identity) and appends that to `events`. Undo
//! applies an event's rows backwards, redo forwards; both are events themselves, so the history
//! survives a restart and the audit trail says who did, undid and redid what, and when.

use super::Store;
use crate::error::{Error, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// Which answers the list shows (besides the regex search, which combines with any of these).
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerFilter {
    /// Every offered answer.
    All,
    /// Answers this coder has not reviewed yet.
    NotReviewed,
    /// Answers this coder has reviewed (coded, or marked as having no code).
    Reviewed,
    /// Answers to which this coder applied the code (anywhere in the answer).
    WithCode(i64),
    /// Answers to which this coder did not apply the code.
    WithoutCode(i64),
    /// Answers of respondents with this value of a variable.
    Variable { column: String, value: FilterValue },
    /// Answers a plan (`lacrima assign`) gives this coder.
    Assigned,
}

/// A variable's value to filter by: a level's text, or a number for numeric variables.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Text(String),
    Number(f64),
}

/// A full description of the answers the list shows.
#[derive(Debug, Clone)]
pub struct AnswerQuery {
    pub coder_id: i64,
    pub filter: AnswerFilter,
    /// Show empty answers ("", "n/a", ...) too; by default they are not offered for coding.
    pub include_empty: bool,
    /// Only answers whose text matches.
    pub regex: Option<regex::Regex>,
}

impl AnswerQuery {
    pub fn offered(coder_id: i64) -> AnswerQuery {
        AnswerQuery {
            coder_id,
            filter: AnswerFilter::All,
            include_empty: false,
            regex: None,
        }
    }
}

/// One line of the answer list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListRow {
    pub id: i64,
    pub ext_id: String,
    pub question_id: i64,
    /// The first characters of the answer (enough for one line on a wide screen).
    pub snippet: String,
    pub is_empty: bool,
    /// This coder reviewed the answer.
    pub reviewed: bool,
    /// Codes this coder applied, each once, by id.
    pub code_ids: Vec<i64>,
}

/// One coding on an answer; `start`/`end` are code-point offsets, None for the whole answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CodingSpan {
    pub code_id: i64,
    pub start: Option<usize>,
    pub end: Option<usize>,
    pub memo: String,
}

/// Another coder's coding, shown read-only when the coder asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherCoding {
    pub coder: String,
    pub coding: CodingSpan,
}

/// Everything the screen shows about the current answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerDetail {
    pub id: i64,
    pub respondent_id: i64,
    pub ext_id: String,
    pub question_id: i64,
    pub question: String,
    pub question_label: Option<String>,
    pub text: String,
    pub is_empty: bool,
    pub reviewed: bool,
    /// This coder's codings, whole-answer ones first, then segments by start.
    pub codings: Vec<CodingSpan>,
    /// Other coders' codings (only when asked for: coding is blind by default).
    pub others: Vec<OtherCoding>,
    /// This coder's memo on the answer ("" when none).
    pub memo: String,
}

/// A question of the survey.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionRow {
    pub id: i64,
    pub name: String,
    pub label: Option<String>,
}

/// A new code from the coding screen.
#[derive(Debug, Clone, Default)]
pub struct NewCode {
    pub name: String,
    pub parent_id: Option<i64>,
    pub description: String,
    pub color: Option<String>,
    pub shortcut: Option<String>,
}

/// The editable fields of a code (name and parent are changed by their own actions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeFields {
    pub name: String,
    pub description: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: Option<String>,
    pub shortcut: Option<String>,
}

/// What a toggle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggled {
    Applied,
    Removed,
}

/// What undo or redo did, so the screen can show it and go to the answer or code it touched.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    pub summary: String,
    pub response_id: Option<i64>,
    pub code_id: Option<i64>,
}

/// How many codings a code has, for the question before deleting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeUse {
    pub mine: i64,
    pub others: i64,
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
];

fn in_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/// Joins that a filter needs (after `responses s`): the "assigned to me" filter is a join on
/// the assignments' primary key, so SQLite can walk `assignments_by_coder` in survey order
/// instead of probing every answer when a coder's share is a small part of a large project.
fn joins(q: &AnswerQuery) -> &'static str {
    match q.filter {
        AnswerFilter::Assigned => "JOIN assignments a ON a.response_id = s.id AND a.coder_id = ?1",
        _ => "",
    }
}

/// The SQL condition and parameters of a query (without the regex, which SQLite cannot run).
/// Parameter 1 is always the coder.
fn condition(q: &AnswerQuery) -> Result<(String, Vec<Value>)> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Value> = vec![Value::Integer(q.coder_id)];
    if !q.include_empty {
        clauses.push("s.is_empty = 0".into());
    }
    let reviewed =
        "EXISTS (SELECT 1 FROM reviews v WHERE v.response_id = s.id AND v.coder_id = ?1)";
    match &q.filter {
        // The join (see `joins`) does the filtering.
        AnswerFilter::All | AnswerFilter::Assigned => {}
        AnswerFilter::NotReviewed => clauses.push(format!("NOT {reviewed}")),
        AnswerFilter::Reviewed => clauses.push(reviewed.into()),
        AnswerFilter::WithCode(c) | AnswerFilter::WithoutCode(c) => {
            params.push(Value::Integer(*c));
            let exists = format!(
                "EXISTS (SELECT 1 FROM codings k WHERE k.response_id = s.id AND k.coder_id = ?1 \
                 AND k.code_id = ?{})",
                params.len()
            );
            if matches!(q.filter, AnswerFilter::WithCode(_)) {
                clauses.push(exists);
            } else {
                clauses.push(format!("NOT {exists}"));
            }
        }
        AnswerFilter::Variable { column, value } => {
            // The column name comes from the variables catalogue, where lacrima generates it
            // (v1, v2, ...); check its shape anyway so no other text can reach the SQL.
            let ok = column.len() > 1
                && column.starts_with('v')
                && column[1..].bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(Error::input(format!(
                    "{column:?} is not a variable column of this project"
                )));
            }
            params.push(match value {
                FilterValue::Text(t) => Value::Text(t.clone()),
                FilterValue::Number(n) => Value::Real(*n),
            });
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM variable_values w WHERE w.respondent_id = s.respondent_id \
                 AND w.\"{column}\" = ?{})",
                params.len()
            ));
        }
    }
    if clauses.is_empty() {
        clauses.push("1".into());
    }
    Ok((clauses.join(" AND "), params))
}

const SNIPPET_CHARS: i64 = 160;

fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ListRow, Option<String>)> {
    let codes: Option<String> = r.get(6)?;
    let full: Option<String> = r.get(7)?;
    Ok((
        ListRow {
            id: r.get(0)?,
            ext_id: r.get(1)?,
            question_id: r.get(2)?,
            snippet: r.get(3)?,
            is_empty: r.get::<_, i64>(4)? != 0,
            reviewed: r.get::<_, i64>(5)? != 0,
            code_ids: codes
                .map(|c| c.split(',').filter_map(|x| x.parse().ok()).collect())
                .unwrap_or_default(),
        },
        full,
    ))
}

impl Store {
    /// Survey questions in their order.
    pub fn question_rows(&self) -> Result<Vec<QuestionRow>> {
        let mut st = self
            .conn()
            .prepare("SELECT id, name, label FROM questions ORDER BY position, id")?;
        let rows = st.query_map([], |r| {
            Ok(QuestionRow {
                id: r.get(0)?,
                name: r.get(1)?,
                label: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Up to `limit` answers in survey order: after `after` (or from the start) going forward, or
    /// before `before` (or from the end) going backward. Rows always come back in survey order.
    fn page(
        &self,
        q: &AnswerQuery,
        bound: Bound,
        limit: usize,
        extra: Option<&str>,
    ) -> Result<Vec<ListRow>> {
        let (cond, mut params) = condition(q)?;
        let cond = match extra {
            Some(e) => format!("{cond} AND {e}"),
            None => cond,
        };
        let (cmp, order, id) = match bound {
            Bound::After(id) => (">", "ASC", id.unwrap_or(i64::MIN)),
            Bound::From(id) => (">=", "ASC", id),
            Bound::Before(id) => ("<", "DESC", id.unwrap_or(i64::MAX)),
        };
        params.push(Value::Integer(id));
        let id_param = params.len();
        // With a regex the text is filtered here, so rows are read in chunks until enough match.
        let chunk = if q.regex.is_some() { 512 } else { limit.max(1) };
        params.push(Value::Integer(chunk as i64));
        let limit_param = params.len();
        let full_text = if q.regex.is_some() { "s.text" } else { "NULL" };
        let join = joins(q);
        let sql = format!(
            "SELECT s.id, r.ext_id, s.question_id, substr(s.text, 1, {SNIPPET_CHARS}), s.is_empty,
                    EXISTS (SELECT 1 FROM reviews v WHERE v.response_id = s.id AND v.coder_id = ?1),
                    (SELECT group_concat(code_id) FROM
                        (SELECT DISTINCT k.code_id FROM codings k
                         WHERE k.response_id = s.id AND k.coder_id = ?1)),
                    {full_text}
             FROM responses s JOIN respondents r ON r.id = s.respondent_id {join}
             WHERE s.id {cmp} ?{id_param} AND {cond}
             ORDER BY s.id {order} LIMIT ?{limit_param}"
        );
        let mut st = self.conn().prepare_cached(&sql)?;
        let mut out = Vec::new();
        loop {
            let rows: Vec<(ListRow, Option<String>)> = st
                .query_map(params_from_iter(params.iter()), list_row)?
                .collect::<rusqlite::Result<_>>()?;
            let n = rows.len();
            let last = rows.last().map(|(r, _)| r.id);
            for (row, full) in rows {
                let keep = match (&q.regex, full) {
                    (Some(re), Some(text)) => re.is_match(&text),
                    _ => true,
                };
                if keep {
                    out.push(row);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            if out.len() >= limit || n < chunk || q.regex.is_none() {
                break;
            }
            // Continue after the last row read (strictly past it in either direction).
            let next = last.expect("a full chunk has a last row");
            params[id_param - 1] = Value::Integer(next);
            if matches!(bound, Bound::From(_)) {
                // ">=" would read the last row again; the next chunks are strictly after it.
                return self.continue_page(q, next, limit, out, extra);
            }
        }
        if matches!(bound, Bound::Before(_)) {
            out.reverse();
        }
        Ok(out)
    }

    fn continue_page(
        &self,
        q: &AnswerQuery,
        after: i64,
        limit: usize,
        mut out: Vec<ListRow>,
        extra: Option<&str>,
    ) -> Result<Vec<ListRow>> {
        let more = self.page(q, Bound::After(Some(after)), limit - out.len(), extra)?;
        out.extend(more);
        Ok(out)
    }

    /// Up to `limit` answers after the answer `after` (None: from the first), in survey order.
    pub fn answers_after(
        &self,
        q: &AnswerQuery,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ListRow>> {
        self.page(q, Bound::After(after), limit, None)
    }

    /// Up to `limit` answers from the answer `from` on (itself included when it matches).
    pub fn answers_from(&self, q: &AnswerQuery, from: i64, limit: usize) -> Result<Vec<ListRow>> {
        self.page(q, Bound::From(from), limit, None)
    }

    /// Up to `limit` answers before the answer `before` (None: up to the last), in survey order.
    pub fn answers_before(
        &self,
        q: &AnswerQuery,
        before: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ListRow>> {
        self.page(q, Bound::Before(before), limit, None)
    }

    /// The next answer of the query after `after` that this coder has not reviewed.
    pub fn next_unreviewed(&self, q: &AnswerQuery, after: Option<i64>) -> Result<Option<ListRow>> {
        let not_reviewed =
            "NOT EXISTS (SELECT 1 FROM reviews v WHERE v.response_id = s.id AND v.coder_id = ?1)";
        Ok(self
            .page(q, Bound::After(after), 1, Some(not_reviewed))?
            .into_iter()
            .next())
    }

    /// The previous answer of the query before `before` that this coder has not reviewed.
    pub fn prev_unreviewed(&self, q: &AnswerQuery, before: Option<i64>) -> Result<Option<ListRow>> {
        let not_reviewed =
            "NOT EXISTS (SELECT 1 FROM reviews v WHERE v.response_id = s.id AND v.coder_id = ?1)";
        Ok(self
            .page(q, Bound::Before(before), 1, Some(not_reviewed))?
            .into_iter()
            .next())
    }

    /// How many answers the query shows. Reads the whole index (and with a regex every text): for
    /// a worker thread, not for a key press.
    pub fn count_answers(&self, q: &AnswerQuery) -> Result<i64> {
        let (cond, params) = condition(q)?;
        // The coder (?1) is bound whether or not the filter uses it.
        let cond = format!("?1 IS NOT NULL AND {cond}");
        let join = joins(q);
        match &q.regex {
            None => {
                let sql = format!("SELECT count(*) FROM responses s {join} WHERE {cond}");
                Ok(self
                    .conn()
                    .query_row(&sql, params_from_iter(params.iter()), |r| r.get(0))?)
            }
            Some(re) => {
                let sql = format!("SELECT s.text FROM responses s {join} WHERE {cond}");
                let mut st = self.conn().prepare(&sql)?;
                let mut rows = st.query(params_from_iter(params.iter()))?;
                let mut n = 0;
                while let Some(r) = rows.next()? {
                    let text = r.get_ref(0)?.as_str().unwrap_or("");
                    if re.is_match(text) {
                        n += 1;
                    }
                }
                Ok(n)
            }
        }
    }

    /// How many answers there are to code (offered ones, or all with `include_empty`).
    pub fn answers_total(&self, include_empty: bool) -> Result<i64> {
        let sql = if include_empty {
            "SELECT count(*) FROM responses"
        } else {
            "SELECT count(*) FROM responses WHERE is_empty = 0"
        };
        Ok(self.conn().query_row(sql, [], |r| r.get(0))?)
    }

    /// How many of those answers this coder has reviewed.
    pub fn reviewed_total(&self, coder_id: i64, include_empty: bool) -> Result<i64> {
        let all: i64 = self.conn().query_row(
            "SELECT count(*) FROM reviews WHERE coder_id = ?1",
            [coder_id],
            |r| r.get(0),
        )?;
        if include_empty {
            return Ok(all);
        }
        // Empty answers are few: subtract the reviews on them rather than join every review.
        let on_empty: i64 = self.conn().query_row(
            "SELECT count(*) FROM responses s JOIN reviews v ON v.response_id = s.id
             WHERE s.is_empty = 1 AND v.coder_id = ?1",
            [coder_id],
            |r| r.get(0),
        )?;
        Ok(all - on_empty)
    }

    /// For each code, on how many answers this coder applied it.
    pub fn code_usage(&self, coder_id: i64) -> Result<HashMap<i64, i64>> {
        let mut st = self.conn().prepare_cached(
            "SELECT code_id, count(DISTINCT response_id) FROM codings WHERE coder_id = ?1
             GROUP BY code_id",
        )?;
        let rows = st.query_map([coder_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Codings of a code by this coder and by everyone else.
    pub fn code_use(&self, coder_id: i64, code_id: i64) -> Result<CodeUse> {
        let (mine, others) = self.conn().query_row(
            "SELECT count(CASE WHEN coder_id = ?1 THEN 1 END), count(CASE WHEN coder_id <> ?1 THEN 1 END)
             FROM codings WHERE code_id = ?2",
            params![coder_id, code_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(CodeUse { mine, others })
    }

    /// One answer with this coder's codings, review mark and memo (and, when `others`, the other
    /// coders' codings).
    pub fn answer(
        &self,
        coder_id: i64,
        response_id: i64,
        others: bool,
    ) -> Result<Option<AnswerDetail>> {
        let conn = self.conn();
        let head = conn
            .query_row(
                "SELECT s.id, s.respondent_id, r.ext_id, s.question_id, q.name, q.label, s.text,
                        s.is_empty,
                        EXISTS (SELECT 1 FROM reviews v WHERE v.response_id = s.id AND v.coder_id = ?2)
                 FROM responses s JOIN respondents r ON r.id = s.respondent_id
                 JOIN questions q ON q.id = s.question_id WHERE s.id = ?1",
                params![response_id, coder_id],
                |r| {
                    Ok(AnswerDetail {
                        id: r.get(0)?,
                        respondent_id: r.get(1)?,
                        ext_id: r.get(2)?,
                        question_id: r.get(3)?,
                        question: r.get(4)?,
                        question_label: r.get(5)?,
                        text: r.get(6)?,
                        is_empty: r.get::<_, i64>(7)? != 0,
                        reviewed: r.get::<_, i64>(8)? != 0,
                        codings: Vec::new(),
                        others: Vec::new(),
                        memo: String::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut a) = head else { return Ok(None) };
        let mut st = conn.prepare_cached(
            "SELECT k.code_id, k.start, k.\"end\", k.memo, d.name, k.coder_id = ?2
             FROM codings k JOIN coders d ON d.id = k.coder_id
             WHERE k.response_id = ?1 AND (k.coder_id = ?2 OR ?3)
             ORDER BY d.name, k.start IS NOT NULL, k.start, k.\"end\", k.code_id",
        )?;
        let rows = st.query_map(params![response_id, coder_id, others], |r| {
            Ok((
                CodingSpan {
                    code_id: r.get(0)?,
                    start: r.get::<_, Option<i64>>(1)?.map(|v| v as usize),
                    end: r.get::<_, Option<i64>>(2)?.map(|v| v as usize),
                    memo: r.get(3)?,
                },
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        for row in rows {
            let (coding, coder, mine) = row?;
            if mine {
                a.codings.push(coding);
            } else {
                a.others.push(OtherCoding { coder, coding });
            }
        }
        a.memo = conn
            .query_row(
                "SELECT text FROM memos WHERE coder_id = ?1 AND response_id = ?2",
                params![coder_id, response_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default();
        Ok(Some(a))
    }

    /// A respondent's variable values, formatted for display, aligned with `variables()`.
    pub fn respondent_values(
        &self,
        respondent_id: i64,
        columns: &[String],
    ) -> Result<Vec<Option<String>>> {
        if columns.is_empty() {
            return Ok(Vec::new());
        }
        let cols: Vec<String> = columns
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect();
        let sql = format!(
            "SELECT {} FROM variable_values WHERE respondent_id = ?1",
            cols.join(", ")
        );
        let mut st = self.conn().prepare_cached(&sql)?;
        let values = st
            .query_row([respondent_id], |r| {
                (0..columns.len())
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<rusqlite::Result<Vec<Value>>>()
            })
            .optional()?
            .unwrap_or_else(|| vec![Value::Null; columns.len()]);
        Ok(values
            .into_iter()
            .map(|v| match v {
                Value::Null => None,
                Value::Integer(i) => Some(i.to_string()),
                Value::Real(f) => Some(crate::import::source::format_number(f)),
                Value::Text(t) => Some(t),
                Value::Blob(_) => Some("(binary)".into()),
            })
            .collect())
    }

    /// The coder's memo on a code ("" when none).
    pub fn code_memo(&self, coder_id: i64, code_id: i64) -> Result<String> {
        Ok(self
            .conn()
            .query_row(
                "SELECT text FROM memos WHERE coder_id = ?1 AND code_id = ?2",
                params![coder_id, code_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default())
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

    /// Whether this coder has something to undo / to redo.
    pub fn can_undo(&self, coder_id: i64) -> Result<bool> {
        Ok(undo_candidate(self.conn(), coder_id)?.is_some())
    }

    pub fn can_redo(&self, coder_id: i64) -> Result<bool> {
        Ok(redo_candidate(self.conn(), coder_id)?.is_some())
    }
}

#[derive(Clone, Copy)]
enum Bound {
    After(Option<i64>),
    From(i64),
    Before(Option<i64>),
}

// ---------------------------------------------------------------------------------------------
// Writes: row changes recorded for the event log
// ---------------------------------------------------------------------------------------------

/// The tables whose rows the coding screen changes. Each row is identified by a key that does
/// not depend on rowids (except codes, whose id other tables point at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    Codes,
    Codings,
    Reviews,
    Memos,
    /// A consensus decision (schema 3), written by the review screen's decisions.
    Decisions,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Codes => "codes",
            Table::Codings => "codings",
            Table::Reviews => "reviews",
            Table::Memos => "memos",
            Table::Decisions => "consensus_decisions",
        }
    }

    fn parse(s: &str) -> Option<Table> {
        Some(match s {
            "codes" => Table::Codes,
            "codings" => Table::Codings,
            "reviews" => Table::Reviews,
            "memos" => Table::Memos,
            "consensus_decisions" => Table::Decisions,
            _ => return None,
        })
    }
}

/// One row's change: its identity, and the row (non-key columns) before and after; None = absent.
#[derive(Debug, Clone)]
struct Change {
    table: Table,
    key: Json,
    before: Option<Json>,
    after: Option<Json>,
}

fn k_i64(key: &Json, f: &str) -> Option<i64> {
    key.get(f).and_then(Json::as_i64)
}

fn j_str(row: &Json, f: &str) -> String {
    row.get(f).and_then(Json::as_str).unwrap_or("").to_string()
}

fn j_opt_str(row: &Json, f: &str) -> Option<String> {
    row.get(f).and_then(Json::as_str).map(str::to_string)
}

fn coding_key(response: i64, coder: i64, code: i64, span: Option<(usize, usize)>) -> Json {
    json!({
        "response_id": response, "coder_id": coder, "code_id": code,
        "start": span.map(|s| s.0), "end": span.map(|s| s.1)
    })
}

fn review_key(response: i64, coder: i64) -> Json {
    json!({"response_id": response, "coder_id": coder})
}

fn memo_key(coder: i64, response: Option<i64>, code: Option<i64>) -> Json {
    json!({"coder_id": coder, "response_id": response, "code_id": code})
}

fn code_key(id: i64) -> Json {
    json!({ "id": id })
}

pub(super) fn read_row(conn: &Connection, table: Table, key: &Json) -> Result<Option<Json>> {
    let row = match table {
        Table::Codings => conn
            .query_row(
                "SELECT memo, created_at FROM codings WHERE response_id = ?1 AND coder_id = ?2
                 AND code_id = ?3 AND ifnull(start, -1) = ifnull(?4, -1)
                 AND ifnull(\"end\", -1) = ifnull(?5, -1)",
                params![
                    k_i64(key, "response_id"),
                    k_i64(key, "coder_id"),
                    k_i64(key, "code_id"),
                    k_i64(key, "start"),
                    k_i64(key, "end")
                ],
                |r| Ok(json!({"memo": r.get::<_, String>(0)?, "created_at": r.get::<_, String>(1)?})),
            )
            .optional()?,
        Table::Reviews => conn
            .query_row(
                "SELECT reviewed_at FROM reviews WHERE response_id = ?1 AND coder_id = ?2",
                params![k_i64(key, "response_id"), k_i64(key, "coder_id")],
                |r| Ok(json!({"reviewed_at": r.get::<_, String>(0)?})),
            )
            .optional()?,
        Table::Memos => conn
            .query_row(
                "SELECT text, updated_at FROM memos WHERE coder_id = ?1
                 AND ifnull(response_id, -1) = ifnull(?2, -1) AND ifnull(code_id, -1) = ifnull(?3, -1)",
                params![
                    k_i64(key, "coder_id"),
                    k_i64(key, "response_id"),
                    k_i64(key, "code_id")
                ],
                |r| Ok(json!({"text": r.get::<_, String>(0)?, "updated_at": r.get::<_, String>(1)?})),
            )
            .optional()?,
        Table::Decisions => conn
            .query_row(
                "SELECT decision, adopted_from, from_coders, decided_by, decided_at, event_id
                 FROM consensus_decisions
                 WHERE consensus_id = ?1 AND response_id = ?2 AND code_id = ?3",
                params![
                    k_i64(key, "consensus_id"),
                    k_i64(key, "response_id"),
                    k_i64(key, "code_id")
                ],
                |r| {
                    Ok(json!({
                        "decision": r.get::<_, String>(0)?,
                        "adopted_from": r.get::<_, Option<String>>(1)?,
                        "from_coders": r.get::<_, String>(2)?,
                        "decided_by": r.get::<_, Option<String>>(3)?,
                        "decided_at": r.get::<_, String>(4)?,
                        "event_id": r.get::<_, Option<i64>>(5)?,
                    }))
                },
            )
            .optional()?,
        Table::Codes => conn
            .query_row(
                "SELECT guid, parent_id, name, description, inclusion, exclusion, example, color,
                        shortcut, codable, position FROM codes WHERE id = ?1",
                [k_i64(key, "id")],
                |r| {
                    Ok(json!({
                        "guid": r.get::<_, String>(0)?,
                        "parent_id": r.get::<_, Option<i64>>(1)?,
                        "name": r.get::<_, String>(2)?,
                        "description": r.get::<_, String>(3)?,
                        "inclusion": r.get::<_, String>(4)?,
                        "exclusion": r.get::<_, String>(5)?,
                        "example": r.get::<_, String>(6)?,
                        "color": r.get::<_, Option<String>>(7)?,
                        "shortcut": r.get::<_, Option<String>>(8)?,
                        "codable": r.get::<_, i64>(9)?,
                        "position": r.get::<_, i64>(10)?,
                    }))
                },
            )
            .optional()?,
    };
    Ok(row)
}

pub(super) fn write_row(
    conn: &Connection,
    table: Table,
    key: &Json,
    row: Option<&Json>,
) -> Result<()> {
    match table {
        Table::Codings => {
            let k = params![
                k_i64(key, "response_id"),
                k_i64(key, "coder_id"),
                k_i64(key, "code_id"),
                k_i64(key, "start"),
                k_i64(key, "end")
            ];
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM codings WHERE response_id = ?1 AND coder_id = ?2 AND code_id = ?3
                         AND ifnull(start, -1) = ifnull(?4, -1) AND ifnull(\"end\", -1) = ifnull(?5, -1)",
                        k,
                    )?;
                }
                Some(r) => {
                    let n = conn.execute(
                        "UPDATE codings SET memo = ?6, created_at = ?7 WHERE response_id = ?1
                         AND coder_id = ?2 AND code_id = ?3 AND ifnull(start, -1) = ifnull(?4, -1)
                         AND ifnull(\"end\", -1) = ifnull(?5, -1)",
                        params![
                            k_i64(key, "response_id"),
                            k_i64(key, "coder_id"),
                            k_i64(key, "code_id"),
                            k_i64(key, "start"),
                            k_i64(key, "end"),
                            j_str(r, "memo"),
                            j_str(r, "created_at")
                        ],
                    )?;
                    if n == 0 {
                        conn.execute(
                            "INSERT INTO codings (response_id, coder_id, code_id, start, \"end\", memo,
                                                  created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            params![
                                k_i64(key, "response_id"),
                                k_i64(key, "coder_id"),
                                k_i64(key, "code_id"),
                                k_i64(key, "start"),
                                k_i64(key, "end"),
                                j_str(r, "memo"),
                                j_str(r, "created_at")
                            ],
                        )?;
                    }
                }
            }
        }
        Table::Reviews => {
            let (resp, coder) = (k_i64(key, "response_id"), k_i64(key, "coder_id"));
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM reviews WHERE response_id = ?1 AND coder_id = ?2",
                        params![resp, coder],
                    )?;
                }
                Some(r) => {
                    conn.execute(
                        "INSERT INTO reviews (response_id, coder_id, reviewed_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (response_id, coder_id) DO UPDATE SET reviewed_at = excluded.reviewed_at",
                        params![resp, coder, j_str(r, "reviewed_at")],
                    )?;
                }
            }
        }
        Table::Memos => {
            let (coder, resp, code) = (
                k_i64(key, "coder_id"),
                k_i64(key, "response_id"),
                k_i64(key, "code_id"),
            );
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM memos WHERE coder_id = ?1 AND ifnull(response_id, -1) = ifnull(?2, -1)
                         AND ifnull(code_id, -1) = ifnull(?3, -1)",
                        params![coder, resp, code],
                    )?;
                }
                Some(r) => {
                    let n = conn.execute(
                        "UPDATE memos SET text = ?4, updated_at = ?5 WHERE coder_id = ?1
                         AND ifnull(response_id, -1) = ifnull(?2, -1) AND ifnull(code_id, -1) = ifnull(?3, -1)",
                        params![coder, resp, code, j_str(r, "text"), j_str(r, "updated_at")],
                    )?;
                    if n == 0 {
                        conn.execute(
                            "INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![coder, resp, code, j_str(r, "text"), j_str(r, "updated_at")],
                        )?;
                    }
                }
            }
        }
        Table::Decisions => {
            let k = (
                k_i64(key, "consensus_id"),
                k_i64(key, "response_id"),
                k_i64(key, "code_id"),
            );
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM consensus_decisions
                         WHERE consensus_id = ?1 AND response_id = ?2 AND code_id = ?3",
                        params![k.0, k.1, k.2],
                    )?;
                }
                Some(r) => {
                    conn.execute(
                        "INSERT INTO consensus_decisions (consensus_id, response_id, code_id,
                             decision, adopted_from, from_coders, decided_by, decided_at, event_id)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                         ON CONFLICT (consensus_id, response_id, code_id) DO UPDATE SET
                             decision = excluded.decision, adopted_from = excluded.adopted_from,
                             from_coders = excluded.from_coders, decided_by = excluded.decided_by,
                             decided_at = excluded.decided_at, event_id = excluded.event_id",
                        params![
                            k.0,
                            k.1,
                            k.2,
                            j_str(r, "decision"),
                            j_opt_str(r, "adopted_from"),
                            j_str(r, "from_coders"),
                            j_opt_str(r, "decided_by"),
                            j_str(r, "decided_at"),
                            r.get("event_id").and_then(Json::as_i64)
                        ],
                    )?;
                }
            }
        }
        Table::Codes => {
            let id = k_i64(key, "id");
            match row {
                None => {
                    conn.execute("DELETE FROM codes WHERE id = ?1", [id])?;
                }
                Some(r) => {
                    let values = params![
                        id,
                        j_str(r, "guid"),
                        r.get("parent_id").and_then(Json::as_i64),
                        j_str(r, "name"),
                        j_str(r, "description"),
                        j_str(r, "inclusion"),
                        j_str(r, "exclusion"),
                        j_str(r, "example"),
                        j_opt_str(r, "color"),
                        j_opt_str(r, "shortcut"),
                        r.get("codable").and_then(Json::as_i64).unwrap_or(1),
                        r.get("position").and_then(Json::as_i64).unwrap_or(0)
                    ];
                    let n = conn.execute(
                        "UPDATE codes SET guid = ?2, parent_id = ?3, name = ?4, description = ?5,
                             inclusion = ?6, exclusion = ?7, example = ?8, color = ?9, shortcut = ?10,
                             codable = ?11, position = ?12 WHERE id = ?1",
                        values,
                    )?;
                    if n == 0 {
                        conn.execute(
                            "INSERT INTO codes (id, guid, parent_id, name, description, inclusion,
                                 exclusion, example, color, shortcut, codable, position)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                            values,
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// A write in progress: one immediate transaction and the rows it changed.
struct Writer<'a> {
    tx: rusqlite::Transaction<'a>,
    changes: Vec<Change>,
}

impl Writer<'_> {
    fn conn(&self) -> &Connection {
        &self.tx
    }

    fn get(&self, table: Table, key: &Json) -> Result<Option<Json>> {
        read_row(&self.tx, table, key)
    }

    /// Sets a row (None deletes it) and records the change; a no-op records nothing.
    fn set(&mut self, table: Table, key: Json, after: Option<Json>) -> Result<()> {
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
struct Logged {
    action: &'static str,
    focus: Focus,
    summary: String,
}

/// What an event is about, so undo can show it.
#[derive(Debug, Clone, Copy, Default)]
struct Focus {
    response_id: Option<i64>,
    code_id: Option<i64>,
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

/// Reads (id, parent, position) of every code, for the tree operations.
fn code_tree(conn: &Connection) -> Result<Vec<(i64, Option<i64>, i64)>> {
    let mut st = conn.prepare("SELECT id, parent_id, position FROM codes ORDER BY position, id")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn siblings(tree: &[(i64, Option<i64>, i64)], parent: Option<i64>) -> Vec<(i64, i64)> {
    tree.iter()
        .filter(|(_, p, _)| *p == parent)
        .map(|(id, _, pos)| (*id, *pos))
        .collect()
}

fn parent_of(tree: &[(i64, Option<i64>, i64)], id: i64) -> Option<i64> {
    tree.iter()
        .find(|(i, _, _)| *i == id)
        .and_then(|(_, p, _)| *p)
}

/// Whether `a` is an ancestor of `b`.
fn is_ancestor(tree: &[(i64, Option<i64>, i64)], a: i64, b: i64) -> bool {
    let mut cur = parent_of(tree, b);
    let mut steps = 0;
    while let Some(p) = cur {
        if p == a {
            return true;
        }
        steps += 1;
        if steps > tree.len() {
            return false;
        }
        cur = parent_of(tree, p);
    }
    false
}

fn check_name(conn: &Connection, name: &str, except: Option<i64>) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::input("a code needs a name"));
    }
    let clash: Option<String> = conn
        .query_row(
            "SELECT name FROM codes WHERE name = ?1 AND id IS NOT ?2",
            params![name, except],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = clash {
        return Err(Error::input(format!(
            "there is already a code called {other:?} (names are unique, ignoring case)"
        )));
    }
    Ok(name.to_string())
}

fn check_color(color: Option<&str>) -> Result<Option<String>> {
    match color.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if crate::import::codebook::is_hex_colour(c) => Ok(Some(c.to_lowercase())),
        Some(c) => Err(Error::input(format!(
            "colour {c:?} is not of the form #RRGGBB (for example #1f77b4)"
        ))),
    }
}

fn check_shortcut(
    conn: &Connection,
    shortcut: Option<&str>,
    except: Option<i64>,
) -> Result<Option<String>> {
    let Some(s) = shortcut.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !(s.len() == 1 && ('1'..='9').contains(&s.chars().next().unwrap_or('0'))) {
        return Err(Error::input(format!(
            "shortcut {s:?} must be one digit from 1 to 9"
        )));
    }
    let holder: Option<String> = conn
        .query_row(
            "SELECT name FROM codes WHERE shortcut = ?1 AND id IS NOT ?2",
            params![s, except],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(h) = holder {
        return Err(Error::input(format!(
            "shortcut {s} is already the shortcut of {h:?}; clear it there first"
        )));
    }
    Ok(Some(s.to_string()))
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
    /// Runs one write as an immediate transaction (so two coders queue up instead of failing
    /// half-way), retrying when another coder holds the lock past the busy timeout. Nothing
    /// changed means no event and no commit.
    fn write<T>(
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

    fn answer_label(&self, response_id: i64) -> Result<String> {
        let (ext, q): (String, String) = self
            .conn()
            .query_row(
                "SELECT r.ext_id, q.name FROM responses s JOIN respondents r ON r.id = s.respondent_id
                 JOIN questions q ON q.id = s.question_id WHERE s.id = ?1",
                [response_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| Error::input(format!("there is no answer {response_id} in this project")))?;
        Ok(format!("{ext} {q}"))
    }

    fn code_row(&self, code_id: i64) -> Result<Json> {
        read_row(self.conn(), Table::Codes, &code_key(code_id))?.ok_or_else(|| {
            Error::input(
                "that code is no longer in the codebook (another coder may have deleted it)",
            )
        })
    }

    /// Applies the code to the answer (a segment when `span` is given, in code points, half-open),
    /// or removes it when this coder already applied exactly that. Applying marks the answer
    /// reviewed; removing keeps the mark.
    pub fn toggle_coding(
        &mut self,
        coder_id: i64,
        response_id: i64,
        code_id: i64,
        span: Option<(usize, usize)>,
    ) -> Result<Toggled> {
        let label = self.answer_label(response_id)?;
        let code = self.code_row(code_id)?;
        let name = j_str(&code, "name");
        if code.get("codable").and_then(Json::as_i64) == Some(0) {
            return Err(Error::input(format!(
                "{name:?} only groups other codes; apply one of its sub-codes"
            )));
        }
        if let Some((s, e)) = span {
            let len: i64 = self.conn().query_row(
                "SELECT length(text) FROM responses WHERE id = ?1",
                [response_id],
                |r| r.get(0),
            )?;
            if s >= e || e as i64 > len {
                return Err(Error::input(format!(
                    "the segment {s}..{e} is not inside the answer, which has {len} characters"
                )));
            }
        }
        let now = crate::timefmt::now();
        let what = match span {
            Some((s, e)) => format!("characters {s}..{e} of {label}"),
            None => label,
        };
        self.write(coder_id, |w| {
            let key = coding_key(response_id, coder_id, code_id, span);
            let toggled = if w.get(Table::Codings, &key)?.is_some() {
                w.set(Table::Codings, key, None)?;
                Toggled::Removed
            } else {
                w.set(
                    Table::Codings,
                    key,
                    Some(json!({"memo": "", "created_at": now})),
                )?;
                let rk = review_key(response_id, coder_id);
                if w.get(Table::Reviews, &rk)?.is_none() {
                    w.set(Table::Reviews, rk, Some(json!({"reviewed_at": now})))?;
                }
                Toggled::Applied
            };
            let (action, summary) = match toggled {
                Toggled::Applied => ("code.apply", format!("apply {name:?} to {what}")),
                Toggled::Removed => ("code.remove", format!("remove {name:?} from {what}")),
            };
            let focus = Focus {
                response_id: Some(response_id),
                code_id: Some(code_id),
            };
            Ok((
                toggled,
                Logged {
                    action,
                    focus,
                    summary,
                },
            ))
        })
    }

    /// Marks the answer as reviewed with no code applying, removing this coder's codings on it.
    /// Returns how many codings were removed.
    pub fn mark_no_code(&mut self, coder_id: i64, response_id: i64) -> Result<usize> {
        let label = self.answer_label(response_id)?;
        let now = crate::timefmt::now();
        self.write(coder_id, |w| {
            let mine: Vec<(i64, Option<i64>, Option<i64>)> = {
                let mut st = w.conn().prepare(
                    "SELECT code_id, start, \"end\" FROM codings WHERE response_id = ?1 AND coder_id = ?2",
                )?;
                st.query_map(params![response_id, coder_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            for (code, s, e) in &mine {
                let span = s.zip(*e).map(|(s, e)| (s as usize, e as usize));
                w.set(Table::Codings, coding_key(response_id, coder_id, *code, span), None)?;
            }
            let rk = review_key(response_id, coder_id);
            if w.get(Table::Reviews, &rk)?.is_none() {
                w.set(Table::Reviews, rk, Some(json!({"reviewed_at": now})))?;
            }
            Ok((
                mine.len(),
                Logged {
                    action: "answer.no_code",
                    focus: Focus {
                        response_id: Some(response_id),
                        code_id: None,
                    },
                    summary: format!("mark {label} as coded with no code"),
                },
            ))
        })
    }

    /// Sets this coder's memo on an answer ("" removes it).
    pub fn set_answer_memo(&mut self, coder_id: i64, response_id: i64, text: &str) -> Result<()> {
        let label = self.answer_label(response_id)?;
        let now = crate::timefmt::now();
        self.write(coder_id, |w| {
            let row = (!text.trim().is_empty()).then(|| json!({"text": text, "updated_at": now}));
            w.set(
                Table::Memos,
                memo_key(coder_id, Some(response_id), None),
                row,
            )?;
            Ok((
                (),
                Logged {
                    action: "answer.memo",
                    focus: Focus {
                        response_id: Some(response_id),
                        code_id: None,
                    },
                    summary: format!("write the memo on {label}"),
                },
            ))
        })
    }

    /// Adds a code at the end of its parent's codes. Returns its id.
    pub fn add_code(&mut self, coder_id: i64, new: &NewCode) -> Result<i64> {
        self.write(coder_id, |w| {
            let name = check_name(w.conn(), &new.name, None)?;
            let color = check_color(new.color.as_deref())?;
            let shortcut = check_shortcut(w.conn(), new.shortcut.as_deref(), None)?;
            if let Some(p) = new.parent_id
                && w.get(Table::Codes, &code_key(p))?.is_none()
            {
                return Err(Error::input("the parent code is no longer in the codebook"));
            }
            let (id, pos): (i64, i64) = w.conn().query_row(
                "SELECT ifnull(max(id), 0) + 1, ifnull(max(position), 0) + 1 FROM codes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let row = json!({
                "guid": uuid::Uuid::new_v4().to_string(), "parent_id": new.parent_id, "name": name,
                "description": new.description.trim(), "inclusion": "", "exclusion": "", "example": "",
                "color": color, "shortcut": shortcut, "codable": 1, "position": pos
            });
            w.set(Table::Codes, code_key(id), Some(row))?;
            Ok((
                id,
                Logged {
                    action: "codebook.add",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(id),
                    },
                    summary: format!("add the code {name:?}"),
                },
            ))
        })
    }

    /// Changes a code's name, texts, colour and shortcut, and this coder's memo on it.
    pub fn edit_code(
        &mut self,
        coder_id: i64,
        code_id: i64,
        f: &CodeFields,
        memo: Option<&str>,
    ) -> Result<()> {
        let now = crate::timefmt::now();
        self.write(coder_id, |w| {
            let mut row = w
                .get(Table::Codes, &code_key(code_id))?
                .ok_or_else(|| Error::input("that code is no longer in the codebook"))?;
            let old_name = j_str(&row, "name");
            let name = check_name(w.conn(), &f.name, Some(code_id))?;
            row["name"] = json!(name);
            row["description"] = json!(f.description.trim());
            row["inclusion"] = json!(f.inclusion.trim());
            row["exclusion"] = json!(f.exclusion.trim());
            row["example"] = json!(f.example.trim());
            row["color"] = json!(check_color(f.color.as_deref())?);
            row["shortcut"] = json!(check_shortcut(
                w.conn(),
                f.shortcut.as_deref(),
                Some(code_id)
            )?);
            w.set(Table::Codes, code_key(code_id), Some(row))?;
            if let Some(m) = memo {
                let key = memo_key(coder_id, None, Some(code_id));
                let unchanged = w
                    .get(Table::Memos, &key)?
                    .map(|r| j_str(&r, "text"))
                    .unwrap_or_default()
                    == m;
                if !unchanged {
                    let row = (!m.trim().is_empty()).then(|| json!({"text": m, "updated_at": now}));
                    w.set(Table::Memos, key, row)?;
                }
            }
            let summary = if old_name != name {
                format!("rename the code {old_name:?} to {name:?}")
            } else {
                format!("edit the code {name:?}")
            };
            Ok((
                (),
                Logged {
                    action: "codebook.edit",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary,
                },
            ))
        })
    }

    /// Moves a code before its previous sibling (`up`) or after its next one. False when it is
    /// already first or last.
    pub fn move_code(&mut self, coder_id: i64, code_id: i64, up: bool) -> Result<bool> {
        let name = j_str(&self.code_row(code_id)?, "name");
        self.write(coder_id, |w| {
            let tree = code_tree(w.conn())?;
            let mut sibs = siblings(&tree, parent_of(&tree, code_id));
            let i = sibs.iter().position(|(id, _)| *id == code_id).unwrap_or(0);
            let j = if up {
                i.checked_sub(1)
            } else {
                Some(i + 1).filter(|j| *j < sibs.len())
            };
            let moved = if let Some(j) = j {
                let positions: Vec<i64> = sibs.iter().map(|(_, p)| *p).collect();
                sibs.swap(i, j);
                renumber(w, &sibs, &positions)?;
                true
            } else {
                false
            };
            Ok((
                moved,
                Logged {
                    action: "codebook.move",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary: format!("move the code {name:?} {}", if up { "up" } else { "down" }),
                },
            ))
        })
    }

    /// Makes a code the last child of the code above it (`nest`), or a sibling of its parent
    /// placed right after it (un-nest). False when there is nothing to nest under or out of.
    pub fn nest_code(&mut self, coder_id: i64, code_id: i64, nest: bool) -> Result<bool> {
        let name = j_str(&self.code_row(code_id)?, "name");
        self.write(coder_id, |w| {
            let tree = code_tree(w.conn())?;
            let parent = parent_of(&tree, code_id);
            let mut row = w
                .get(Table::Codes, &code_key(code_id))?
                .ok_or_else(|| Error::input("that code is no longer in the codebook"))?;
            let mut summary = String::new();
            let changed = if nest {
                let sibs = siblings(&tree, parent);
                let i = sibs.iter().position(|(id, _)| *id == code_id).unwrap_or(0);
                if i == 0 {
                    false
                } else {
                    let new_parent = sibs[i - 1].0;
                    let last = siblings(&tree, Some(new_parent))
                        .iter()
                        .map(|(_, p)| *p)
                        .max();
                    row["parent_id"] = json!(new_parent);
                    row["position"] = json!(last.unwrap_or(0) + 1);
                    w.set(Table::Codes, code_key(code_id), Some(row))?;
                    let pname = w
                        .get(Table::Codes, &code_key(new_parent))?
                        .map(|r| j_str(&r, "name"));
                    summary = format!(
                        "nest the code {name:?} under {:?}",
                        pname.unwrap_or_default()
                    );
                    true
                }
            } else if let Some(p) = parent {
                let grand = parent_of(&tree, p);
                let mut sibs = siblings(&tree, grand);
                let positions: Vec<i64> = sibs.iter().map(|(_, p)| *p).collect();
                let at = sibs
                    .iter()
                    .position(|(id, _)| *id == p)
                    .map_or(sibs.len(), |k| k + 1);
                sibs.insert(at, (code_id, 0));
                row["parent_id"] = json!(grand);
                w.set(Table::Codes, code_key(code_id), Some(row))?;
                // One more sibling than positions: continue the sequence after the last.
                let mut positions = positions;
                positions.push(positions.last().copied().unwrap_or(0) + 1);
                renumber(w, &sibs, &positions)?;
                summary = format!("move the code {name:?} out of its parent");
                true
            } else {
                false
            };
            Ok((
                changed,
                Logged {
                    action: "codebook.nest",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary,
                },
            ))
        })
    }

    /// Merges code `from` into code `into`: every coder's codings of `from` become codings of
    /// `into` (one that `into` already has is dropped), memos are carried over, sub-codes move
    /// under `into`, and `from` leaves the codebook. Returns how many codings moved.
    pub fn merge_code(&mut self, coder_id: i64, from: i64, into: i64) -> Result<usize> {
        if from == into {
            return Err(Error::input("a code cannot be merged into itself"));
        }
        let from_name = j_str(&self.code_row(from)?, "name");
        let into_row = self.code_row(into)?;
        let into_name = j_str(&into_row, "name");
        if into_row.get("codable").and_then(Json::as_i64) == Some(0) {
            return Err(Error::input(format!(
                "{into_name:?} only groups other codes; merge into a code that can be applied"
            )));
        }
        self.write(coder_id, |w| {
            let codings: Vec<(i64, i64, Option<i64>, Option<i64>)> = {
                let mut st = w.conn().prepare(
                    "SELECT response_id, coder_id, start, \"end\" FROM codings WHERE code_id = ?1 ORDER BY id",
                )?;
                st.query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            let mut moved = 0;
            for (resp, coder, s, e) in &codings {
                let span = s.zip(*e).map(|(s, e)| (s as usize, e as usize));
                let old = coding_key(*resp, *coder, from, span);
                let new = coding_key(*resp, *coder, into, span);
                let row = w.get(Table::Codings, &old)?;
                if w.get(Table::Codings, &new)?.is_none() {
                    w.set(Table::Codings, new, row)?;
                    moved += 1;
                }
                w.set(Table::Codings, old, None)?;
            }
            let memo_coders: Vec<i64> = {
                let mut st = w.conn().prepare("SELECT coder_id FROM memos WHERE code_id = ?1")?;
                st.query_map([from], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            for c in memo_coders {
                let old_key = memo_key(c, None, Some(from));
                let new_key = memo_key(c, None, Some(into));
                let old = w.get(Table::Memos, &old_key)?;
                let merged = match (w.get(Table::Memos, &new_key)?, old) {
                    (Some(mut kept), Some(old)) => {
                        kept["text"] = json!(format!(
                            "{}\n\nFrom the merged code {from_name:?}: {}",
                            j_str(&kept, "text"),
                            j_str(&old, "text")
                        ));
                        Some(kept)
                    }
                    (kept, old) => old.or(kept),
                };
                w.set(Table::Memos, new_key, merged)?;
                w.set(Table::Memos, old_key, None)?;
            }
            let tree = code_tree(w.conn())?;
            let from_parent = parent_of(&tree, from);
            for (child, _) in siblings(&tree, Some(from)) {
                // A sub-code on the way down to `into` goes up a level instead, so no cycle forms.
                let new_parent = if child == into || is_ancestor(&tree, child, into) {
                    from_parent
                } else {
                    Some(into)
                };
                let mut row = w.get(Table::Codes, &code_key(child))?.unwrap_or(Json::Null);
                row["parent_id"] = json!(new_parent);
                w.set(Table::Codes, code_key(child), Some(row))?;
            }
            w.set(Table::Codes, code_key(from), None)?;
            Ok((
                moved,
                Logged {
                    action: "codebook.merge",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(into),
                    },
                    summary: format!("merge the code {from_name:?} into {into_name:?}"),
                },
            ))
        })
    }

    /// Deletes a code with every coder's codings of it and the memos on it; its sub-codes move up
    /// to its parent. Returns how many codings were deleted. Undo brings all of it back.
    pub fn delete_code(&mut self, coder_id: i64, code_id: i64) -> Result<usize> {
        let name = j_str(&self.code_row(code_id)?, "name");
        self.write(coder_id, |w| {
            let codings: Vec<(i64, i64, Option<i64>, Option<i64>)> = {
                let mut st = w.conn().prepare(
                    "SELECT response_id, coder_id, start, \"end\" FROM codings WHERE code_id = ?1 ORDER BY id",
                )?;
                st.query_map([code_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            for (resp, coder, s, e) in &codings {
                let span = s.zip(*e).map(|(s, e)| (s as usize, e as usize));
                w.set(Table::Codings, coding_key(*resp, *coder, code_id, span), None)?;
            }
            let memo_coders: Vec<i64> = {
                let mut st = w.conn().prepare("SELECT coder_id FROM memos WHERE code_id = ?1")?;
                st.query_map([code_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            for c in memo_coders {
                w.set(Table::Memos, memo_key(c, None, Some(code_id)), None)?;
            }
            let tree = code_tree(w.conn())?;
            let parent = parent_of(&tree, code_id);
            for (child, _) in siblings(&tree, Some(code_id)) {
                let mut row = w.get(Table::Codes, &code_key(child))?.unwrap_or(Json::Null);
                row["parent_id"] = json!(parent);
                w.set(Table::Codes, code_key(child), Some(row))?;
            }
            w.set(Table::Codes, code_key(code_id), None)?;
            Ok((
                codings.len(),
                Logged {
                    action: "codebook.delete",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary: format!("delete the code {name:?}"),
                },
            ))
        })
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

/// Gives `order` (siblings in their new order) the positions `positions` in turn when those are
/// distinct and increasing, else 1, 2, 3, ...; writes only the rows whose position changes.
fn renumber(w: &mut Writer<'_>, order: &[(i64, i64)], positions: &[i64]) -> Result<()> {
    let mut pos: Vec<i64> = positions.to_vec();
    pos.sort_unstable();
    let distinct = pos.windows(2).all(|p| p[0] < p[1]) && pos.len() == order.len();
    for (i, (id, _)) in order.iter().enumerate() {
        let p = if distinct { pos[i] } else { i as i64 + 1 };
        let key = code_key(*id);
        if let Some(mut row) = w.get(Table::Codes, &key)?
            && row.get("position").and_then(Json::as_i64) != Some(p)
        {
            row["position"] = json!(p);
            w.set(Table::Codes, key, Some(row))?;
        }
    }
    Ok(())
}
