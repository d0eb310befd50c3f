//! Intercoder agreement as `lacrima agreement` prints it and `lacrima report` publishes it
//! (DESIGN.md section 6): which coders are compared, their ratings read from the store, the
//! coefficients of `crate::agreement::agreement_report` and the bootstrap intervals. Both
//! commands call [`agreement`], so a published number is the number the command line prints.

use super::coders::{coder_list, named_coders, question_id};
use crate::agreement::{AgreementReport, Bootstrap, ReportInput, ReportOptions, agreement_report};
use crate::error::{Error, Result};
use crate::store::{CodeRecord, RatingCoder, Store};

/// What to compare; every field has the meaning of the `lacrima agreement` option of its name.
#[derive(Debug, Clone, Default)]
pub struct AgreementRequest<'a> {
    /// Coders as given (comma lists or repeated); empty: [`default_coders`].
    pub coders: &'a [String],
    /// Only the answers to this question (None: all questions).
    pub question: Option<&'a str>,
    /// Report only these codes' rows, matched case-insensitively (empty: every codable code).
    pub codes: &'a [String],
    /// 95% bootstrap intervals for every alpha.
    pub bootstrap: Option<Bootstrap>,
    /// Coefficients for every pair of coders as well.
    pub pairs: bool,
}

/// The report with what a reader needs to interpret it.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub report: AgreementReport,
    /// The codable codes of the codebook: the overall values are over all of them, even when
    /// `codes` limited the rows.
    pub codable_codes: usize,
}

/// The coders compared when none are named: every coder who rated an answer (of the question,
/// when the list is of one question's raters), consensus coders excluded, since a consensus is
/// built from the others and agrees with them by construction.
pub fn default_coders(all: &[RatingCoder]) -> Vec<(i64, String)> {
    all.iter()
        .filter(|c| c.has_ratings && !c.is_consensus)
        .map(|c| (c.id, c.name.clone()))
        .collect()
}

/// Resolves the request and computes the report. Warnings (a named coder who rated nothing)
/// go to `warn` as they arise, before any later error, so the command line prints them in the
/// order it always has.
pub fn agreement(
    store: &Store,
    req: &AgreementRequest<'_>,
    warn: &mut dyn FnMut(&str),
) -> Result<Agreement> {
    let question = question_id(store, req.question)?;
    let all = store.rating_coders(question)?;
    let in_question = match req.question {
        Some(q) => format!(" of question {q:?}"),
        None => String::new(),
    };
    let coders: Vec<(i64, String)> = if req.coders.is_empty() {
        default_coders(&all)
    } else {
        named_coders(req.coders, &all)?
    };
    if coders.len() < 2 {
        let which = if req.coders.is_empty() {
            match coders.first() {
                Some((_, n)) => format!("only {n} has rated answers{in_question}"),
                None => format!("nobody has rated answers{in_question}"),
            }
        } else {
            format!("only {} was named", coders[0].1)
        };
        return Err(Error::input(format!(
            "agreement needs at least two coders, but {which}; the coders are: {}{}",
            coder_list(&all),
            if req.coders.is_empty() {
                ". Name them with --coders A,B"
            } else {
                ""
            }
        )));
    }
    for (id, name) in &coders {
        if all.iter().any(|c| c.id == *id && !c.has_ratings) {
            warn(&format!("{name} has not rated any answer{in_question}"));
        }
    }

    let codes = store.codes()?;
    let codable: Vec<&CodeRecord> = codes.iter().filter(|c| c.codable).collect();
    if codable.is_empty() {
        return Err(Error::input(
            "the codebook has no codable codes: import one with `lacrima codebook import FILE`",
        ));
    }
    let rows = chosen_rows(req.codes, &codes, &codable)?;

    let coder_ids: Vec<i64> = coders.iter().map(|c| c.0).collect();
    let code_ids: Vec<i64> = codable.iter().map(|c| c.id).collect();
    let ratings = store.agreement_ratings(&coder_ids, question, &code_ids)?;
    let names: Vec<String> = coders.iter().map(|c| c.1.clone()).collect();
    if ratings.matrix.n_units() == 0 {
        let mut msg = format!("no answer{in_question} was rated by {}", names.join(" or "));
        if question.is_some() {
            msg.push_str(&format!(
                "; questions with answers they rated: {}",
                questions_rated_by(store, &coder_ids)?
            ));
        }
        return Err(Error::input(msg));
    }

    let code_names: Vec<String> = codable.iter().map(|c| c.name.clone()).collect();
    let report = agreement_report(
        ReportInput {
            matrix: &ratings.matrix,
            coders: &names,
            codes: &code_names,
            coder_counts: &ratings.coder_counts,
            question: req.question,
        },
        &ReportOptions {
            rows,
            bootstrap: req.bootstrap,
            pairs: req.pairs,
        },
    );
    Ok(Agreement {
        report,
        codable_codes: codable.len(),
    })
}

/// The rows `--code` asks for, as indices into the codable codes, in the order named and
/// without repeats; None for every code.
fn chosen_rows(
    named: &[String],
    codes: &[CodeRecord],
    codable: &[&CodeRecord],
) -> Result<Option<Vec<usize>>> {
    if named.is_empty() {
        return Ok(None);
    }
    let codable_names = || {
        codable
            .iter()
            .map(|k| k.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut rows = Vec::new();
    for name in named {
        let lower = name.to_lowercase();
        match codes.iter().find(|c| c.name.to_lowercase() == lower) {
            Some(c) if c.codable => {
                let i = codable.iter().position(|k| k.id == c.id).unwrap_or(0);
                if !rows.contains(&i) {
                    rows.push(i);
                }
            }
            Some(c) => {
                return Err(Error::input(format!(
                    "{:?} only groups other codes, which is not coded itself; the codable \
                     codes are: {}",
                    c.name,
                    codable_names()
                )));
            }
            None => {
                return Err(Error::input(format!(
                    "no code called {name:?}; the codable codes are: {}",
                    codable_names()
                )));
            }
        }
    }
    Ok(Some(rows))
}

/// The questions in which any of these coders rated an answer, for an error that says where
/// to look instead.
fn questions_rated_by(store: &Store, coder_ids: &[i64]) -> Result<String> {
    let mut with = Vec::new();
    for q in store.question_names()? {
        if let Some(id) = store.question_id_by_name(&q)? {
            let r = store.rating_coders(Some(id))?;
            if r.iter().any(|c| c.has_ratings && coder_ids.contains(&c.id)) {
                with.push(q);
            }
        }
    }
    Ok(if with.is_empty() {
        "(none)".into()
    } else {
        with.join(", ")
    })
}
