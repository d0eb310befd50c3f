//! The coding screen's reads: the answer list with its filters, one answer in full, and the
//! counts over the whole project.
//!
//! Reads are paged: the answer list is fetched a window at a time with keyset pagination on
//! `responses.id` (survey order), so a project of a million answers opens as fast as a small one.
//! Counts over the whole project are separate calls that the screen runs on a worker thread.

use super::Store;
use crate::error::{Error, Result};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

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
                Value::Real(f) => Some(crate::model::number::format_number(f)),
                Value::Text(t) => Some(t),
                Value::Blob(_) => Some("(binary)".into()),
            })
            .collect())
    }
}

#[derive(Clone, Copy)]
enum Bound {
    After(Option<i64>),
    From(i64),
    Before(Option<i64>),
}
