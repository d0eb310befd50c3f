//! Code co-occurrence: for every pair of codable codes, the rated answers that carry both.

use super::scope::Scope;
use super::{codable, coded_answers, share};
use crate::error::Result;
use crate::store::{DatasetLayout, Store};
use serde::Serialize;

/// Code-by-code co-occurrence over the answers the coder rated.
#[derive(Debug, Clone, Serialize)]
pub struct Cooccurrence {
    pub coder: String,
    pub question: Option<String>,
    pub answers_rated: u64,
    /// Each codable code with the number of rated answers it was applied to.
    pub codes: Vec<CodeCount>,
    /// Every pair of codable codes (codebook order, first before second).
    pub pairs: Vec<CodePair>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeCount {
    pub code: String,
    pub answers: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodePair {
    pub code_a: String,
    pub code_b: String,
    pub answers_a: u64,
    pub answers_b: u64,
    /// Answers with both codes.
    pub answers_both: u64,
    /// both / (a + b - both): null when neither code was applied.
    pub jaccard: Option<f64>,
}

pub fn cooccurrence(store: &Store, layout: &DatasetLayout, scope: &Scope) -> Result<Cooccurrence> {
    let codes = codable(layout);
    let n = codes.len();
    // Upper triangle with the diagonal: counts[i * n + j], i <= j.
    let mut counts = vec![0u64; n * n];
    let mut answers_rated = 0u64;
    let mut present: Vec<usize> = Vec::new();
    let d = coded_answers(store, scope, &codes)?;
    for rid in 1..=d.respondents() {
        for q in 0..d.questions.len() {
            if !d.answer_rated(rid, q) {
                continue;
            }
            answers_rated += 1;
            present.clear();
            present.extend((0..n).filter(|&k| d.answer_has(rid, q, k)));
            for (x, &i) in present.iter().enumerate() {
                for &j in &present[x..] {
                    counts[i * n + j] += 1;
                }
            }
        }
    }
    let mut pairs = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let (a, b, both) = (counts[i * n + i], counts[j * n + j], counts[i * n + j]);
            let union = a + b - both;
            pairs.push(CodePair {
                code_a: codes[i].name.clone(),
                code_b: codes[j].name.clone(),
                answers_a: a,
                answers_b: b,
                answers_both: both,
                jaccard: share(both, union),
            });
        }
    }
    let mut warnings = Vec::new();
    if answers_rated == 0 {
        warnings.push(format!(
            "coder {} has rated no answer of the chosen questions",
            scope.coder
        ));
    }
    Ok(Cooccurrence {
        coder: scope.coder.clone(),
        question: scope.question.clone(),
        answers_rated,
        codes: codes
            .iter()
            .enumerate()
            .map(|(i, c)| CodeCount {
                code: c.name.clone(),
                answers: counts[i * n + i],
            })
            .collect(),
        pairs,
        warnings,
    })
}
