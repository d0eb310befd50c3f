//! Code frequencies: respondents and answers coded, overall and per question.

use super::scope::Scope;
use super::{codable, coded_answers, share};
use crate::error::Result;
use crate::store::{DatasetLayout, Store};
use serde::Serialize;

/// Code frequencies: respondents and answers coded, per question.
#[derive(Debug, Clone, Serialize)]
pub struct Frequencies {
    pub by: Option<String>,
    pub kind: &'static str,
    pub coder: String,
    pub question: Option<String>,
    pub respondents_rated: u64,
    /// Answers rated per chosen question.
    pub questions: Vec<QuestionRated>,
    pub codes: Vec<CodeFrequency>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionRated {
    pub question: String,
    pub answers_rated: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeFrequency {
    pub code: String,
    /// Respondents with the code in any chosen answer.
    pub respondents: u64,
    /// `respondents` / respondents rated (null when nobody was rated).
    pub respondents_share: Option<f64>,
    /// Answers with the code, over the chosen questions.
    pub answers: u64,
    /// Per chosen question, aligned with `questions`.
    pub by_question: Vec<QuestionFrequency>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionFrequency {
    pub question: String,
    pub answers: u64,
    /// `answers` / answers rated in this question.
    pub share: Option<f64>,
}

pub fn frequencies(store: &Store, layout: &DatasetLayout, scope: &Scope) -> Result<Frequencies> {
    let codes = codable(layout);
    let nq = scope.questions.len();
    let mut answers_rated = vec![0u64; nq];
    let mut respondents = vec![0u64; codes.len()];
    let mut answers = vec![vec![0u64; nq]; codes.len()];
    let mut respondents_rated = 0u64;
    let d = coded_answers(store, scope, &codes)?;
    for rid in 1..=d.respondents() {
        if !d.rated(rid) {
            continue;
        }
        respondents_rated += 1;
        for (q, n) in answers_rated.iter_mut().enumerate() {
            *n += d.answer_rated(rid, q) as u64;
        }
        for (k, per_question) in answers.iter_mut().enumerate() {
            let mut any = false;
            for (q, n) in per_question.iter_mut().enumerate() {
                if d.answer_has(rid, q, k) {
                    *n += 1;
                    any = true;
                }
            }
            respondents[k] += any as u64;
        }
    }
    let mut warnings = Vec::new();
    if respondents_rated == 0 {
        warnings.push(format!(
            "coder {} has rated no answer of the chosen questions",
            scope.coder
        ));
    }
    Ok(Frequencies {
        by: None,
        kind: "frequencies",
        coder: scope.coder.clone(),
        question: scope.question.clone(),
        respondents_rated,
        questions: scope
            .questions
            .iter()
            .zip(&answers_rated)
            .map(|(q, &n)| QuestionRated {
                question: q.name.clone(),
                answers_rated: n,
            })
            .collect(),
        codes: codes
            .iter()
            .enumerate()
            .map(|(k, c)| CodeFrequency {
                code: c.name.clone(),
                respondents: respondents[k],
                respondents_share: share(respondents[k], respondents_rated),
                answers: answers[k].iter().sum(),
                by_question: scope
                    .questions
                    .iter()
                    .enumerate()
                    .map(|(q, question)| QuestionFrequency {
                        question: question.name.clone(),
                        answers: answers[k][q],
                        share: share(answers[k][q], answers_rated[q]),
                    })
                    .collect(),
            })
            .collect(),
        warnings,
    })
}
