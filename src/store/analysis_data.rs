//! What the analysis and the wide export read: for one coder, per respondent in survey order,
//! which of the chosen answers the coder rated and which codes they applied, with the values of
//! some variables. One ordered pass over the project, merged from two statements that both
//! return rows in survey order; the statistics themselves live in `crate::analysis`.

use super::Store;
use super::dataset::{Ahead, ValueRow, read_snapshot, values_sql};
use crate::error::Result;
use rusqlite::params;

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
