//! What the analysis and the wide export read: for one coder, per respondent in survey order,
//! which of the chosen answers the coder rated and which codes they applied, with the values of
//! some variables. One ordered pass over the project, merged from two statements that both
//! return rows in survey order; the statistics themselves live in `crate::analysis`.

use super::Store;
use super::dataset::{Ahead, DatasetValue, ValueRow, read_snapshot, values_sql};
use super::quote_ident;
use crate::error::Result;
use rusqlite::params;
use rusqlite::types::ValueRef;

/// What one coder did on one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerState {
    /// The coder rated the answer: reviewed it, with or without applying a code.
    pub rated: bool,
    /// Codes the coder applied anywhere in the answer, each once, in the order first seen.
    pub codes: Vec<i64>,
}

impl AnswerState {
    pub fn has(&self, code_id: i64) -> bool {
        self.codes.contains(&code_id)
    }
}

/// One respondent as the analysis sees it; reused from respondent to respondent.
#[derive(Debug, Default)]
pub struct CodedRespondent {
    pub values: ValueRow,
    /// Aligned with the questions asked for.
    pub answers: Vec<AnswerState>,
}

impl CodedRespondent {
    /// The coder rated at least one of the chosen answers.
    pub fn rated(&self) -> bool {
        self.answers.iter().any(|a| a.rated)
    }

    /// The coder applied the code to at least one of the chosen answers.
    pub fn has(&self, code_id: i64) -> bool {
        self.answers.iter().any(|a| a.has(code_id))
    }
}

impl Store {
    /// Calls `f` for every respondent in survey order with the values of the variables in
    /// `columns` (catalogue column names, `variables.column_name`) and, for each question in
    /// `questions` (ids), what `coder` did on that respondent's answer.
    ///
    /// A coding implies a review mark (applying a code sets it), but an answer with a coding and
    /// no mark is still counted as rated, so that "coded" never exceeds "rated".
    pub fn for_each_coded_respondent(
        &self,
        coder: i64,
        questions: &[i64],
        columns: &[&str],
        f: &mut dyn FnMut(&CodedRespondent) -> Result<()>,
    ) -> Result<()> {
        let conn = self.conn();
        let _snapshot = read_snapshot(conn)?;
        let mut values_st = conn.prepare(&values_sql(columns))?;
        // Answers in survey order through the (respondent_id, question_id) index; each probes the
        // review mark and the codings of this coder. Answers nobody rated give one row with
        // rated = 0 and no code, and are skipped here.
        let mut codings_st = conn.prepare(
            "SELECT s.respondent_id, s.question_id, w.response_id IS NOT NULL, k.code_id
             FROM responses s
             LEFT JOIN reviews w ON w.response_id = s.id AND w.coder_id = ?1
             LEFT JOIN codings k ON k.response_id = s.id AND k.coder_id = ?1
             WHERE w.response_id IS NOT NULL OR k.code_id IS NOT NULL
             ORDER BY s.respondent_id, s.question_id",
        )?;
        let mut codings = Ahead::new(&mut codings_st, params![coder], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })?;
        let mut resp = CodedRespondent {
            values: ValueRow::default(),
            answers: vec![AnswerState::default(); questions.len()],
        };
        let mut rows = values_st.query([])?;
        while let Some(r) = rows.next()? {
            resp.values.load(r, columns.len())?;
            for a in resp.answers.iter_mut() {
                a.rated = false;
                a.codes.clear();
            }
            while let Some((rid, qid, reviewed, code)) = codings.current {
                if rid != resp.values.id {
                    break;
                }
                if let Some(k) = questions.iter().position(|&q| q == qid) {
                    let a = &mut resp.answers[k];
                    a.rated |= reviewed || code.is_some();
                    if let Some(c) = code
                        && !a.codes.contains(&c)
                    {
                        a.codes.push(c);
                    }
                }
                codings.advance()?;
            }
            f(&resp)?;
        }
        Ok(())
    }
}

/// A coder with how much they have done, for choosing whose codings to use.
#[derive(Debug, Clone)]
pub struct CoderOverview {
    pub id: i64,
    pub name: String,
    pub is_consensus: bool,
    /// Answers this coder reviewed.
    pub answers_rated: i64,
}

impl Store {
    /// Every coder by name, with the number of answers each rated.
    pub fn coders_overview(&self) -> Result<Vec<CoderOverview>> {
        let mut st = self.conn().prepare(
            "SELECT d.id, d.name, d.is_consensus,
                    (SELECT count(*) FROM reviews v WHERE v.coder_id = d.id)
             FROM coders d ORDER BY d.name",
        )?;
        let rows = st.query_map([], |r| {
            Ok(CoderOverview {
                id: r.get(0)?,
                name: r.get(1)?,
                is_consensus: r.get::<_, i64>(2)? != 0,
                answers_rated: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// One coder's decisions on every answer of the chosen questions, held densely by respondent:
/// per (respondent, question) one bit "rated" and one bit per code. The analysis needs every
/// rated respondent at once anyway (Mann-Whitney ranks all values), and reading the decisions in
/// index order without sorting them by respondent is what keeps `lacrima analyze` fast on a
/// million respondents: 2 bytes per answer for 12 codes.
#[derive(Debug, Clone)]
pub struct CodedAnswers {
    /// Question ids, in the order asked for.
    pub questions: Vec<i64>,
    /// Code ids: bit k + 1 of a slot is `codes[k]`.
    pub codes: Vec<i64>,
    words: usize,
    /// Respondent ids run from 1 to `respondents`.
    respondents: usize,
    bits: Vec<u64>,
}

impl CodedAnswers {
    fn slot(&self, respondent: i64, question: usize) -> Option<&[u64]> {
        let r = usize::try_from(respondent).ok()?.checked_sub(1)?;
        if r >= self.respondents {
            return None;
        }
        let at = (r * self.questions.len() + question) * self.words;
        Some(&self.bits[at..at + self.words])
    }

    fn bit(slot: &[u64], bit: usize) -> bool {
        slot[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// Respondent ids are 1..=this.
    pub fn respondents(&self) -> i64 {
        self.respondents as i64
    }

    /// The coder rated this respondent's answer to the `question`-th chosen question.
    pub fn answer_rated(&self, respondent: i64, question: usize) -> bool {
        self.slot(respondent, question)
            .is_some_and(|s| Self::bit(s, 0))
    }

    /// The coder applied the `code`-th code to that answer.
    pub fn answer_has(&self, respondent: i64, question: usize, code: usize) -> bool {
        self.slot(respondent, question)
            .is_some_and(|s| Self::bit(s, code + 1))
    }

    /// The coder rated any of the respondent's chosen answers.
    pub fn rated(&self, respondent: i64) -> bool {
        (0..self.questions.len()).any(|q| self.answer_rated(respondent, q))
    }

    /// The coder applied the `code`-th code to any of the respondent's chosen answers.
    pub fn has(&self, respondent: i64, code: usize) -> bool {
        (0..self.questions.len()).any(|q| self.answer_has(respondent, q, code))
    }
}

impl Store {
    /// Reads what `coder` did on the answers to `questions`, for the codes in `codes`.
    pub fn coded_answers(
        &self,
        coder: i64,
        questions: &[i64],
        codes: &[i64],
    ) -> Result<CodedAnswers> {
        let conn = self.conn();
        let _snapshot = read_snapshot(conn)?;
        let respondents: i64 =
            conn.query_row("SELECT ifnull(max(id), 0) FROM respondents", [], |r| {
                r.get(0)
            })?;
        let words = (codes.len() + 1).div_ceil(64);
        let mut out = CodedAnswers {
            questions: questions.to_vec(),
            codes: codes.to_vec(),
            words,
            respondents: respondents.max(0) as usize,
            bits: vec![0; respondents.max(0) as usize * questions.len() * words],
        };
        // Code ids and question ids are small: direct lookup tables instead of hashing per row.
        let table = |ids: &[i64]| -> Vec<Option<usize>> {
            let max = ids.iter().copied().max().unwrap_or(0).max(0) as usize;
            let mut t = vec![None; max + 1];
            for (i, &id) in ids.iter().enumerate() {
                if id >= 0 {
                    t[id as usize] = Some(i);
                }
            }
            t
        };
        let question_at = table(questions);
        let code_at = table(codes);
        let lookup = |t: &[Option<usize>], id: i64| -> Option<usize> {
            usize::try_from(id)
                .ok()
                .and_then(|i| t.get(i).copied().flatten())
        };
        // Every review mark of the coder with the codes applied to that answer (a coding always
        // comes with its mark: applying a code sets it).
        let mut st = conn.prepare(
            "SELECT s.respondent_id, s.question_id, k.code_id
             FROM reviews w
             JOIN responses s ON s.id = w.response_id
             LEFT JOIN codings k ON k.response_id = w.response_id AND k.coder_id = w.coder_id
             WHERE w.coder_id = ?1",
        )?;
        let mut rows = st.query(params![coder])?;
        let nq = questions.len();
        while let Some(r) = rows.next()? {
            let rid: i64 = r.get(0)?;
            let Some(q) = lookup(&question_at, r.get(1)?) else {
                continue;
            };
            let Some(ri) = usize::try_from(rid).ok().and_then(|v| v.checked_sub(1)) else {
                continue;
            };
            if ri >= out.respondents {
                continue;
            }
            let at = (ri * nq + q) * words;
            out.bits[at] |= 1;
            if let Some(c) = r.get::<_, Option<i64>>(2)?
                && let Some(k) = lookup(&code_at, c)
            {
                out.bits[at + (k + 1) / 64] |= 1 << ((k + 1) % 64);
            }
        }
        Ok(out)
    }

    /// Calls `f` with every respondent's id and value of one variable (catalogue column name),
    /// in survey order.
    pub fn for_each_variable_value(
        &self,
        column: &str,
        f: &mut dyn FnMut(i64, DatasetValue<'_>) -> Result<()>,
    ) -> Result<()> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT respondent_id, {} FROM variable_values ORDER BY respondent_id",
            quote_ident(column)
        ))?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let value = match r.get_ref(1)? {
                ValueRef::Null => DatasetValue::Missing,
                ValueRef::Integer(v) => DatasetValue::Integer(v),
                ValueRef::Real(v) => DatasetValue::Real(v),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    DatasetValue::Text(std::str::from_utf8(t).unwrap_or(""))
                }
            };
            f(r.get(0)?, value)?;
        }
        Ok(())
    }
}

/// Which respondents' value a cell of the analysis screen stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueFilter {
    /// A categorical variable's level.
    Level(String),
    /// Any value that is not missing (a numeric variable's group).
    Present,
}

/// The answers behind one cell of the analysis: for one coder and code, over the chosen
/// questions, the answers the code was applied to (`coded`), or the rated answers of respondents
/// without the code anywhere in those questions (`!coded`), of respondents whose value matches.
#[derive(Debug, Clone)]
pub struct BehindQuery<'a> {
    pub coder: i64,
    /// One question, or all (`None`).
    pub question: Option<i64>,
    pub code: i64,
    pub coded: bool,
    /// The variable's catalogue column (`variables.column_name`).
    pub column: &'a str,
    pub value: ValueFilter,
}

/// One answer behind a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct BehindAnswer {
    pub ext_id: String,
    pub question: String,
    pub text: String,
    /// The respondent's value of the variable, as text.
    pub value: String,
    /// The coded segments as code-point ranges; empty when the code covers the whole answer
    /// (or for answers without the code).
    pub segments: Vec<(usize, usize)>,
}

/// Answers behind a cell: the first `limit` in survey order, with how many there are in all.
#[derive(Debug, Clone, Default)]
pub struct BehindAnswers {
    pub answers: Vec<BehindAnswer>,
    pub total_answers: u64,
    pub respondents: u64,
}

impl Store {
    pub fn answers_behind(&self, q: &BehindQuery<'_>, limit: usize) -> Result<BehindAnswers> {
        let col = format!("v.{}", quote_ident(q.column));
        let level = match &q.value {
            ValueFilter::Level(l) => Some(l.as_str()),
            ValueFilter::Present => None,
        };
        // ?1 coder, ?2 code, ?3 question or NULL, ?4 level or NULL.
        let body = if q.coded {
            format!(
                "FROM codings k
                 JOIN responses s ON s.id = k.response_id
                 JOIN variable_values v ON v.respondent_id = s.respondent_id
                 WHERE k.coder_id = ?1 AND k.code_id = ?2 AND (?3 IS NULL OR s.question_id = ?3)
                   AND ((?4 IS NULL AND {col} IS NOT NULL) OR {col} = ?4)"
            )
        } else {
            format!(
                "FROM reviews k
                 JOIN responses s ON s.id = k.response_id
                 JOIN variable_values v ON v.respondent_id = s.respondent_id
                 WHERE k.coder_id = ?1 AND (?3 IS NULL OR s.question_id = ?3)
                   AND ((?4 IS NULL AND {col} IS NOT NULL) OR {col} = ?4)
                   AND NOT EXISTS (
                       SELECT 1 FROM responses s2 JOIN codings c ON c.response_id = s2.id
                       WHERE s2.respondent_id = s.respondent_id AND c.coder_id = ?1
                         AND c.code_id = ?2 AND (?3 IS NULL OR s2.question_id = ?3))"
            )
        };
        let conn = self.conn();
        let _snapshot = read_snapshot(conn)?;
        let p = params![q.coder, q.code, q.question, level];
        let (total_answers, respondents): (i64, i64) = conn.query_row(
            &format!("SELECT count(DISTINCT s.id), count(DISTINCT s.respondent_id) {body}"),
            p,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let segments = if q.coded {
            // A whole-answer coding covers every segment: then no segments are listed.
            "CASE WHEN max(k.start IS NULL) THEN NULL \
             ELSE group_concat(k.start || '-' || k.\"end\", ',') END"
        } else {
            "NULL"
        };
        let mut st = conn.prepare(&format!(
            "SELECT r.ext_id, qq.name, s.text, {col}, {segments}
             {body_joined}
             GROUP BY s.id
             ORDER BY s.respondent_id, qq.position
             LIMIT ?5",
            body_joined = body.replacen(
                "JOIN variable_values v",
                "JOIN respondents r ON r.id = s.respondent_id
                 JOIN questions qq ON qq.id = s.question_id
                 JOIN variable_values v",
                1
            ),
        ))?;
        let mut rows = st.query(params![q.coder, q.code, q.question, level, limit as i64])?;
        let mut answers = Vec::new();
        while let Some(r) = rows.next()? {
            let value = match r.get_ref(3)? {
                ValueRef::Null => String::new(),
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(x) => x.to_string(),
                ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
            };
            let segs: Option<String> = r.get(4)?;
            let mut segments: Vec<(usize, usize)> = segs
                .unwrap_or_default()
                .split(',')
                .filter_map(|s| {
                    let (a, b) = s.split_once('-')?;
                    Some((a.parse().ok()?, b.parse().ok()?))
                })
                .collect();
            segments.sort_unstable();
            answers.push(BehindAnswer {
                ext_id: r.get(0)?,
                question: r.get(1)?,
                text: r.get(2)?,
                value,
                segments,
            });
        }
        Ok(BehindAnswers {
            answers,
            total_answers: total_answers as u64,
            respondents: respondents as u64,
        })
    }
}
