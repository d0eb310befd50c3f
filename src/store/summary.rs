//! The project summary shown by `lacrima info`.

use super::Store;
use crate::error::Result;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ProjectSummary {
    pub project: String,
    pub schema_version: i64,
    pub respondents: i64,
    pub waves: i64,
    pub questions: Vec<QuestionSummary>,
    pub variables: Vec<VariableSummary>,
    pub codes: usize,
    pub codable_codes: usize,
    pub coders: Vec<CoderSummary>,
}

#[derive(Debug, Serialize)]
pub struct QuestionSummary {
    pub name: String,
    pub label: Option<String>,
    pub answered: i64,
    pub empty: i64,
}

#[derive(Debug, Serialize)]
pub struct VariableSummary {
    pub name: String,
    pub label: Option<String>,
    pub kind: String,
    pub levels: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct CoderSummary {
    pub name: String,
    pub is_consensus: bool,
    /// Answers this coder reviewed (coded, or marked as having no code).
    pub answers_rated: i64,
    pub codings: i64,
}

impl Store {
    pub fn summary(&self) -> Result<ProjectSummary> {
        let conn = self.conn();
        let respondents = self.respondent_count()?;
        let waves: i64 = conn.query_row("SELECT count(*) FROM imports", [], |r| r.get(0))?;
        let mut st = conn.prepare(
            "SELECT q.name, q.label,
                    (SELECT count(*) FROM responses s WHERE s.question_id = q.id AND s.is_empty = 0),
                    (SELECT count(*) FROM responses s WHERE s.question_id = q.id AND s.is_empty = 1)
             FROM questions q ORDER BY q.position, q.id",
        )?;
        let questions = st
            .query_map([], |r| {
                Ok(QuestionSummary {
                    name: r.get(0)?,
                    label: r.get(1)?,
                    answered: r.get(2)?,
                    empty: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let variables = self
            .variables()?
            .into_iter()
            .map(|v| VariableSummary {
                name: v.name,
                label: None,
                kind: v.kind.as_str().to_string(),
                levels: (v.kind == super::VariableKind::Categorical).then_some(v.levels),
            })
            .collect::<Vec<_>>();
        let labels: Vec<Option<String>> = {
            let mut st = conn.prepare("SELECT label FROM variables ORDER BY position, id")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let variables = variables
            .into_iter()
            .zip(labels)
            .map(|(mut v, l)| {
                v.label = l;
                v
            })
            .collect();
        let codes = self.codes()?;
        let mut st = conn.prepare(
            "SELECT d.name, d.is_consensus,
                    (SELECT count(*) FROM reviews v WHERE v.coder_id = d.id),
                    (SELECT count(*) FROM codings k WHERE k.coder_id = d.id)
             FROM coders d ORDER BY d.name",
        )?;
        let coders = st
            .query_map([], |r| {
                Ok(CoderSummary {
                    name: r.get(0)?,
                    is_consensus: r.get::<_, i64>(1)? != 0,
                    answers_rated: r.get(2)?,
                    codings: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ProjectSummary {
            project: self.path().display().to_string(),
            schema_version: super::SCHEMA_VERSION,
            respondents,
            waves,
            questions,
            variables,
            codable_codes: codes.iter().filter(|c| c.codable).count(),
            codes: codes.len(),
            coders,
        })
    }
}
