//! Streaming reads for the coded-dataset export (`lacrima export dataset`) and the analysis.
//!
//! A project may hold a million respondents, so nothing here loads the survey into memory: each
//! reader runs a few statements that all return rows in survey order (respondents by id, answers
//! by the `(respondent_id, question_id)` index) and merges them in step, calling back once per
//! respondent or per coding. Buffers are reused from row to row, so memory stays flat however
//! many respondents there are. The statements run inside one read transaction, so a coder saving
//! work at the same time cannot make the export mix two states of the project.
//!
//! Respondents' ids are their position in survey order: they are assigned 1, 2, ... at import and
//! never deleted (a failed import rolls back without using up ids).

use super::Store;
use super::codebook::codes_in;
use super::quote_ident;
use super::survey::VariableKind;
use crate::error::{Error, Result};
use crate::store::CodeRecord;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Rows, Statement};
use std::collections::HashMap;

/// A variable of the catalogue with its label (the Qualtrics question text, when known).
#[derive(Debug, Clone)]
pub struct DatasetVariable {
    pub id: i64,
    pub name: String,
    pub label: Option<String>,
    pub kind: VariableKind,
    pub levels: Vec<String>,
    /// The generated column of `variable_values` (`v1`, `v2`, ...).
    pub column: String,
}

#[derive(Debug, Clone)]
pub struct DatasetQuestion {
    pub id: i64,
    pub name: String,
    pub label: Option<String>,
}

/// Everything an export needs to name its columns, in the project's orders.
#[derive(Debug, Clone)]
pub struct DatasetLayout {
    /// The ID column's header in the first imported file (`project_meta` 'id_column'); `None` for
    /// projects imported before it was recorded.
    pub id_column: Option<String>,
    /// Variables in their original order.
    pub variables: Vec<DatasetVariable>,
    /// Questions in their original order.
    pub questions: Vec<DatasetQuestion>,
    /// The whole codebook in codebook order (groups included; see `CodeRecord::codable`).
    pub codes: Vec<CodeRecord>,
}

/// One variable's value as stored: numbers as integers or reals, everything else as text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DatasetValue<'a> {
    Missing,
    Integer(i64),
    Real(f64),
    Text(&'a str),
}

/// A value held in a [`ValueRow`] (text as a range of its shared buffer).
#[derive(Debug, Clone, Copy)]
enum Slot {
    Missing,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
}

/// One respondent's ID and variable values; reused from respondent to respondent.
#[derive(Debug, Default)]
pub struct ValueRow {
    /// `respondents.id`: the position in survey order, from 1.
    pub id: i64,
    ext_id: String,
    slots: Vec<Slot>,
    text: String,
}

impl ValueRow {
    pub fn ext_id(&self) -> &str {
        &self.ext_id
    }

    /// The value of the `i`-th variable asked for.
    pub fn value(&self, i: usize) -> DatasetValue<'_> {
        match self.slots[i] {
            Slot::Missing => DatasetValue::Missing,
            Slot::Integer(v) => DatasetValue::Integer(v),
            Slot::Real(v) => DatasetValue::Real(v),
            Slot::Text(a, b) => DatasetValue::Text(&self.text[a..b]),
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(crate) fn load(&mut self, row: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<()> {
        self.id = row.get(0)?;
        self.ext_id.clear();
        self.ext_id.push_str(row.get_ref(1)?.as_str()?);
        self.slots.clear();
        self.text.clear();
        for i in 0..n {
            let slot = match row.get_ref(i + 2)? {
                ValueRef::Null => Slot::Missing,
                ValueRef::Integer(v) => Slot::Integer(v),
                ValueRef::Real(v) => Slot::Real(v),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    let a = self.text.len();
                    match std::str::from_utf8(t) {
                        Ok(s) => self.text.push_str(s),
                        Err(_) => self.text.push_str(&String::from_utf8_lossy(t)),
                    }
                    Slot::Text(a, self.text.len())
                }
            };
            self.slots.push(slot);
        }
        Ok(())
    }
}

/// `SELECT r.id, r.ext_id, <the variables' columns> ... ORDER BY r.id`: respondents in survey
/// order with the values asked for. Column names come from the catalogue, never from the user.
pub(crate) fn values_sql(columns: &[&str]) -> String {
    let mut sql = String::from("SELECT r.id, r.ext_id");
    for c in columns {
        sql.push_str(", v.");
        sql.push_str(&quote_ident(c));
    }
    sql.push_str(
        " FROM respondents r LEFT JOIN variable_values v ON v.respondent_id = r.id ORDER BY r.id",
    );
    sql
}

/// A statement's rows with one row read ahead, for merging several ordered statements.
pub(crate) struct Ahead<'s, T> {
    rows: Rows<'s>,
    read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    pub(crate) current: Option<T>,
}

impl<'s, T> Ahead<'s, T> {
    pub(crate) fn new(
        st: &'s mut Statement<'_>,
        params: impl rusqlite::Params,
        read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Self> {
        let rows = st.query(params)?;
        let mut a = Ahead {
            rows,
            read,
            current: None,
        };
        a.advance()?;
        Ok(a)
    }

    pub(crate) fn advance(&mut self) -> Result<()> {
        self.current = match self.rows.next()? {
            Some(r) => Some((self.read)(r)?),
            None => None,
        };
        Ok(())
    }
}

/// A read transaction for the duration of an export, so its statements see one state.
/// A read transaction, so that a long read sees one state of the project; none when the caller
/// already holds one (see `Store::in_snapshot`), whose snapshot then covers this read too.
pub(crate) fn read_snapshot(conn: &Connection) -> Result<Option<rusqlite::Transaction<'_>>> {
    if !conn.is_autocommit() {
        return Ok(None);
    }
    Ok(Some(conn.unchecked_transaction()?))
}

/// One coding with its text, as the long export writes it.
#[derive(Debug, Clone, Default)]
pub struct CodingRecord {
    /// `respondents.id` (position in survey order).
    pub respondent_id: i64,
    pub ext_id: String,
    pub question_id: i64,
    pub question: String,
    pub coder: String,
    pub code_id: i64,
    pub code: String,
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// The coded segment (code-point offsets), or the whole answer.
    pub text: String,
    pub memo: String,
    pub created_at: String,
}

/// Codings in survey order, each answer's grouped as (question, coder, codebook order, start).
const CODINGS_SQL: &str = "
    SELECT s.respondent_id, r.ext_id, s.question_id, q.name, d.name, k.code_id, c.name,
           k.start, k.\"end\",
           CASE WHEN k.start IS NULL THEN s.text
                ELSE substr(s.text, k.start + 1, k.\"end\" - k.start) END,
           k.memo, k.created_at
    FROM responses s
    CROSS JOIN codings k ON k.response_id = s.id
    JOIN respondents r ON r.id = s.respondent_id
    JOIN questions q ON q.id = s.question_id
    JOIN coders d ON d.id = k.coder_id
    JOIN codes c ON c.id = k.code_id
    WHERE (?1 IS NULL OR k.coder_id = ?1) AND (?2 IS NULL OR s.question_id = ?2)
    ORDER BY s.respondent_id, s.question_id";

fn read_coding(r: &rusqlite::Row<'_>) -> rusqlite::Result<CodingRecord> {
    Ok(CodingRecord {
        respondent_id: r.get(0)?,
        ext_id: r.get(1)?,
        question_id: r.get(2)?,
        question: r.get(3)?,
        coder: r.get(4)?,
        code_id: r.get(5)?,
        code: r.get(6)?,
        start: r.get(7)?,
        end: r.get(8)?,
        text: r.get(9)?,
        memo: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// The order codings of one respondent are written in.
struct CodingOrder {
    question_rank: HashMap<i64, usize>,
    code_rank: HashMap<i64, usize>,
}

impl CodingOrder {
    fn new(layout: &DatasetLayout) -> CodingOrder {
        CodingOrder {
            question_rank: layout
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| (q.id, i))
                .collect(),
            code_rank: layout
                .codes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id, i))
                .collect(),
        }
    }

    fn sort(&self, group: &mut [CodingRecord]) {
        group.sort_by(|a, b| {
            let key = |c: &CodingRecord| {
                (
                    self.question_rank.get(&c.question_id).copied(),
                    self.code_rank.get(&c.code_id).copied(),
                    c.start,
                    c.end,
                )
            };
            let (qa, ca, sa, ea) = key(a);
            let (qb, cb, sb, eb) = key(b);
            qa.cmp(&qb)
                .then_with(|| a.coder.cmp(&b.coder))
                .then(ca.cmp(&cb))
                .then(sa.cmp(&sb))
                .then(ea.cmp(&eb))
        });
    }
}

/// One answer of a respondent with everything coders did on it, for the JSON export.
#[derive(Debug, Clone, Default)]
pub struct AnswerRecord {
    pub question_id: i64,
    pub question: String,
    pub text: String,
    pub is_empty: bool,
    /// Coders who rated (reviewed) the answer, by name.
    pub rated_by: Vec<String>,
    /// Codings in (coder, codebook, start) order.
    pub codings: Vec<CodingRecord>,
    /// (coder, memo text) of the memos written on this answer.
    pub memos: Vec<(String, String)>,
}

/// A memo written on a code.
#[derive(Debug, Clone)]
pub struct CodeMemo {
    pub code_id: i64,
    pub coder: String,
    pub text: String,
}

fn question_filter_error(layout: &DatasetLayout, question: Option<i64>) -> Result<()> {
    if let Some(q) = question
        && !layout.questions.iter().any(|x| x.id == q)
    {
        return Err(Error::input(format!("no question with id {q}")));
    }
    Ok(())
}

impl Store {
    /// Names, kinds and orders of everything an export writes.
    pub fn dataset_layout(&self) -> Result<DatasetLayout> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, name, label, kind, levels, column_name FROM variables
             ORDER BY position, id",
        )?;
        let mut variables = Vec::new();
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let name: String = r.get(1)?;
            let kind: String = r.get(3)?;
            let kind = VariableKind::parse(&kind).ok_or_else(|| {
                Error::input(format!("variable {name} has an unknown kind {kind}"))
            })?;
            let levels: Option<String> = r.get(4)?;
            let levels = match levels {
                Some(json) => serde_json::from_str(&json).map_err(|e| {
                    Error::input(format!("variable {name} has unreadable levels: {e}"))
                })?,
                None => Vec::new(),
            };
            variables.push(DatasetVariable {
                id: r.get(0)?,
                name,
                label: r.get(2)?,
                kind,
                levels,
                column: r.get(5)?,
            });
        }
        let mut st = conn.prepare("SELECT id, name, label FROM questions ORDER BY position, id")?;
        let questions = st
            .query_map([], |r| {
                Ok(DatasetQuestion {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    label: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(DatasetLayout {
            id_column: self.meta("id_column")?,
            variables,
            questions,
            codes: codes_in(conn)?,
        })
    }

    /// The id of the coder with this exact name, without creating one.
    pub fn find_coder(&self, name: &str) -> Result<Option<i64>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row("SELECT id FROM coders WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Every coding (of one coder, or all) with its text, in survey order; within a respondent
    /// by question, coder name, codebook order and start. `question` limits it to one question.
    pub fn for_each_coding_record(
        &self,
        layout: &DatasetLayout,
        coder: Option<i64>,
        question: Option<i64>,
        f: &mut dyn FnMut(&CodingRecord) -> Result<()>,
    ) -> Result<()> {
        question_filter_error(layout, question)?;
        let order = CodingOrder::new(layout);
        let _snapshot = read_snapshot(self.conn())?;
        let mut st = self.conn().prepare(CODINGS_SQL)?;
        let mut rows = st.query(rusqlite::params![coder, question])?;
        // Rows arrive grouped by respondent; each group is sorted before it is passed on.
        let mut group: Vec<CodingRecord> = Vec::new();
        while let Some(r) = rows.next()? {
            let rec = read_coding(r)?;
            if group
                .first()
                .is_some_and(|g| g.respondent_id != rec.respondent_id)
            {
                order.sort(&mut group);
                for g in group.drain(..) {
                    f(&g)?;
                }
            }
            group.push(rec);
        }
        order.sort(&mut group);
        for g in &group {
            f(g)?;
        }
        Ok(())
    }

    /// Memos written on codes, in codebook order then coder name.
    pub fn code_memos(&self) -> Result<Vec<CodeMemo>> {
        let mut st = self.conn().prepare(
            "SELECT m.code_id, d.name, m.text FROM memos m JOIN coders d ON d.id = m.coder_id
             WHERE m.code_id IS NOT NULL ORDER BY m.code_id, d.name",
        )?;
        let memos = st
            .query_map([], |r| {
                Ok(CodeMemo {
                    code_id: r.get(0)?,
                    coder: r.get(1)?,
                    text: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(memos)
    }

    /// Every respondent in survey order with the values of `variables` and each answer (of
    /// `question`, or all) with its codings (of `coder`, or all), review marks and memos.
    pub fn for_each_respondent_record(
        &self,
        layout: &DatasetLayout,
        variables: &[&DatasetVariable],
        coder: Option<i64>,
        question: Option<i64>,
        f: &mut dyn FnMut(&ValueRow, &[AnswerRecord]) -> Result<()>,
    ) -> Result<()> {
        question_filter_error(layout, question)?;
        let order = CodingOrder::new(layout);
        let names: HashMap<i64, &str> = layout
            .questions
            .iter()
            .map(|q| (q.id, q.name.as_str()))
            .collect();
        let conn = self.conn();
        let _snapshot = read_snapshot(conn)?;
        // Memos on answers are written by hand, so there are few of them: read them up front.
        let mut memos: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        {
            let mut st = conn.prepare(
                "SELECT m.response_id, d.name, m.text FROM memos m
                 JOIN coders d ON d.id = m.coder_id
                 WHERE m.response_id IS NOT NULL AND (?1 IS NULL OR m.coder_id = ?1)
                 ORDER BY m.response_id, d.name",
            )?;
            let mut rows = st.query([coder])?;
            while let Some(r) = rows.next()? {
                memos
                    .entry(r.get(0)?)
                    .or_default()
                    .push((r.get(1)?, r.get(2)?));
            }
        }
        let columns: Vec<&str> = variables.iter().map(|v| v.column.as_str()).collect();
        let mut values_st = conn.prepare(&values_sql(&columns))?;
        let mut answers_st = conn.prepare(
            "SELECT s.respondent_id, s.question_id, s.id, s.text, s.is_empty FROM responses s
             WHERE ?1 IS NULL OR s.question_id = ?1
             ORDER BY s.respondent_id, s.question_id",
        )?;
        let mut reviews_st = conn.prepare(
            "SELECT s.respondent_id, s.question_id, d.name
             FROM responses s
             CROSS JOIN reviews w ON w.response_id = s.id
             JOIN coders d ON d.id = w.coder_id
             WHERE (?1 IS NULL OR w.coder_id = ?1) AND (?2 IS NULL OR s.question_id = ?2)
             ORDER BY s.respondent_id, s.question_id",
        )?;
        let mut codings_st = conn.prepare(CODINGS_SQL)?;
        let mut answers = Ahead::new(&mut answers_st, [question], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        let mut reviews = Ahead::new(&mut reviews_st, rusqlite::params![coder, question], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut codings = Ahead::new(
            &mut codings_st,
            rusqlite::params![coder, question],
            read_coding,
        )?;
        let mut row = ValueRow::default();
        let mut out: Vec<AnswerRecord> = Vec::new();
        let mut rows = values_st.query([])?;
        while let Some(r) = rows.next()? {
            row.load(r, columns.len())?;
            out.clear();
            while let Some((rid, qid, sid, text, is_empty)) = answers.current.take() {
                if rid != row.id {
                    answers.current = Some((rid, qid, sid, text, is_empty));
                    break;
                }
                out.push(AnswerRecord {
                    question_id: qid,
                    question: names.get(&qid).copied().unwrap_or_default().to_string(),
                    text,
                    is_empty,
                    rated_by: Vec::new(),
                    codings: Vec::new(),
                    memos: memos.remove(&sid).unwrap_or_default(),
                });
                answers.advance()?;
            }
            while let Some((rid, qid, _)) = &reviews.current {
                if *rid != row.id {
                    break;
                }
                let qid = *qid;
                if let Some((_, _, coder)) = reviews.current.take()
                    && let Some(a) = out.iter_mut().find(|a| a.question_id == qid)
                {
                    a.rated_by.push(coder);
                }
                reviews.advance()?;
            }
            while codings
                .current
                .as_ref()
                .is_some_and(|c| c.respondent_id == row.id)
            {
                if let Some(c) = codings.current.take()
                    && let Some(a) = out.iter_mut().find(|a| a.question_id == c.question_id)
                {
                    a.codings.push(c);
                }
                codings.advance()?;
            }
            out.sort_by_key(|a| order.question_rank.get(&a.question_id).copied());
            for a in out.iter_mut() {
                a.rated_by.sort();
                order.sort(&mut a.codings);
            }
            f(&row, &out)?;
        }
        Ok(())
    }
}
