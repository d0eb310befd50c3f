//! Everything `lacrima report` publishes, gathered in one pass over the project: the summary,
//! the codebook, the frequencies, the agreement, the codes against the chosen variables and the
//! example quotes. Each number comes from the function that the command of its kind calls
//! (`analyze` for frequencies and variables, `agreement` for agreement), so the published
//! document and the command line cannot disagree. How it is laid out is `crate::publish`'s
//! business; this module only collects.

use super::agreement::{Agreement, AgreementRequest, agreement, default_coders};
use super::crosstab::{
    CategoricalCode, NumericCode, Report, categorical_report, numeric_report_with,
};
use super::frequencies::{Frequencies, frequencies};
use super::scope::{choose_variable, scope};
use crate::agreement::Bootstrap;
use crate::analysis::{FiveNumbers, five_numbers};
use crate::error::{Error, Result};
use crate::store::{
    CodeRecord, DatasetLayout, DatasetQuestion, ProjectSummary, Store, VariableKind,
};

/// What to publish.
#[derive(Debug, Clone, Default)]
pub struct PublicationRequest<'a> {
    /// Whose codings (None: the rule of `analyze`, [`super::choose_coder`]).
    pub coder: Option<&'a str>,
    /// Only this question's answers (None: all questions).
    pub question: Option<&'a str>,
    /// Variables to relate the codes to, in this order.
    pub by: &'a [String],
    /// Example quotes per code; None leaves every answer's text out of the publication.
    pub quotes: Option<usize>,
    /// Bootstrap intervals for the agreement's alphas.
    pub bootstrap: Option<Bootstrap>,
}

/// Why the coder was the one used, as the report explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoderChoice {
    /// Named with `--coder`.
    Named,
    /// The project's only consensus coder.
    Consensus,
    /// The only coder who has rated answers.
    OnlyCoder,
}

/// The agreement section: computed, or why not.
#[derive(Debug, Clone)]
pub enum AgreementSection {
    Computed {
        agreement: Box<Agreement>,
        /// E.g. a coder who rated nothing of the chosen question.
        warnings: Vec<String>,
    },
    /// Fewer than two (non-consensus) coders rated answers: the sentence that says so.
    NotComputed(String),
}

/// One variable's analysis, as `lacrima analyze --by VAR --format json` gives it.
#[derive(Debug, Clone)]
pub enum VariableAnalysis {
    Categorical(Report<CategoricalCode>),
    Numeric {
        report: Report<NumericCode>,
        /// Per code (aligned with `report.codes`): the variable's spread among the coded
        /// respondents and among the others, for the box plots.
        spread: Vec<[Option<FiveNumbers>; 2]>,
    },
}

/// One coded segment quoted as an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The respondent's ID as imported.
    pub respondent: String,
    pub question: String,
    /// The segment's text (the whole answer for a whole-answer coding).
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct CodeQuotes {
    pub code: String,
    /// Coded segments in survey order (then question and segment order): the first N.
    pub quotes: Vec<Quote>,
}

#[derive(Debug)]
pub struct Publication {
    pub summary: ProjectSummary,
    pub coder: String,
    pub coder_choice: CoderChoice,
    /// The question the publication is limited to, if any, and the questions it covers.
    pub question: Option<String>,
    pub questions: Vec<DatasetQuestion>,
    /// Every code in codebook order, groups included (`level` gives the depth).
    pub codebook: Vec<CodeRecord>,
    pub frequencies: Frequencies,
    pub agreement: AgreementSection,
    pub variables: Vec<VariableAnalysis>,
    /// None when quotes were left out; else one entry per codable code, in codebook order.
    pub quotes: Option<Vec<CodeQuotes>>,
    /// The most quotes of one code asked for.
    pub quotes_per_code: usize,
}

pub fn publication(store: &Store, req: &PublicationRequest<'_>) -> Result<Publication> {
    let layout = store.dataset_layout()?;
    // The variables first, as `analyze` checks them: a mistyped name is the likeliest mistake,
    // and it should not wait for the rest of the report.
    let vars = variable_names(req.by, &layout)?
        .iter()
        .map(|name| choose_variable(&layout, name))
        .collect::<Result<Vec<_>>>()?;
    let scope = scope(store, &layout, req.coder, req.question)?;
    let summary = store.summary()?;
    let coder_choice = if req.coder.is_some() {
        CoderChoice::Named
    } else if summary
        .coders
        .iter()
        .any(|c| c.name == scope.coder && c.is_consensus)
    {
        CoderChoice::Consensus
    } else {
        CoderChoice::OnlyCoder
    };

    let frequencies = frequencies(store, &layout, &scope)?;
    let agreement = agreement_section(store, req)?;
    let mut variables = Vec::new();
    for var in vars {
        variables.push(match var.kind {
            VariableKind::Categorical => {
                VariableAnalysis::Categorical(categorical_report(store, &layout, &scope, var)?)
            }
            // choose_variable lets only numeric and categorical variables through.
            _ => {
                let mut spread = Vec::new();
                let report =
                    numeric_report_with(store, &layout, &scope, var, &mut |_, with, without| {
                        spread.push([five_numbers(with), five_numbers(without)]);
                    })?;
                VariableAnalysis::Numeric { report, spread }
            }
        });
    }
    let quotes = match req.quotes {
        None => None,
        Some(n) => {
            let question = scope.question.as_ref().map(|_| scope.questions[0].id);
            Some(quotes(store, &layout, scope.coder_id, question, n)?)
        }
    };
    Ok(Publication {
        summary,
        coder: scope.coder,
        coder_choice,
        question: scope.question,
        questions: scope.questions,
        codebook: layout.codes,
        frequencies,
        agreement,
        variables,
        quotes,
        quotes_per_code: req.quotes.unwrap_or(0),
    })
}

/// `--by` values as names: comma lists split, except that a value naming a variable exactly is
/// taken whole (DESIGN.md section 5); a variable named twice is analysed once.
fn variable_names(values: &[String], layout: &DatasetLayout) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let parts: Vec<&str> = if layout.variables.iter().any(|x| x.name == *v) {
            vec![v.as_str()]
        } else {
            v.split(',').map(str::trim).collect()
        };
        for p in parts {
            if p.is_empty() {
                return Err(Error::input(format!(
                    "an empty variable name in {v:?}: write --by A,B or repeat --by"
                )));
            }
            if !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
    }
    Ok(out)
}

/// The agreement of every coder who rated answers, as `lacrima agreement` computes it without
/// `--coders`; when fewer than two did, a sentence instead of an error, since a project coded
/// by one person is still worth publishing.
fn agreement_section(store: &Store, req: &PublicationRequest<'_>) -> Result<AgreementSection> {
    let question = super::question_id(store, req.question)?;
    let raters = default_coders(&store.rating_coders(question)?);
    if raters.len() < 2 {
        let in_question = match req.question {
            Some(q) => format!(" of question {q}"),
            None => String::new(),
        };
        let who = match raters.first() {
            Some((_, name)) => format!("only {name} has rated answers{in_question}"),
            None => format!("nobody has rated answers{in_question}"),
        };
        return Ok(AgreementSection::NotComputed(format!(
            "Intercoder agreement needs two or more coders (consensus coders aside) who rated \
             the same answers; {who}, so it is not reported."
        )));
    }
    let mut warnings = Vec::new();
    let agreement = agreement(
        store,
        &AgreementRequest {
            question: req.question,
            bootstrap: req.bootstrap,
            ..AgreementRequest::default()
        },
        &mut |w| warnings.push(w.to_string()),
    )?;
    Ok(AgreementSection::Computed {
        agreement: Box::new(agreement),
        warnings,
    })
}

/// The first `n` segments of each codable code that the coder coded, in survey order (within a
/// respondent: question order, then segment start), so that the same project always quotes the
/// same answers.
fn quotes(
    store: &Store,
    layout: &DatasetLayout,
    coder_id: i64,
    question: Option<i64>,
    n: usize,
) -> Result<Vec<CodeQuotes>> {
    let codable: Vec<&CodeRecord> = layout.codes.iter().filter(|c| c.codable).collect();
    let mut out: Vec<CodeQuotes> = codable
        .iter()
        .map(|c| CodeQuotes {
            code: c.name.clone(),
            quotes: Vec::new(),
        })
        .collect();
    if n == 0 {
        return Ok(out);
    }
    let slot: std::collections::HashMap<i64, usize> =
        codable.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    store.for_each_coding_record(layout, Some(coder_id), question, &mut |rec| {
        if let Some(&i) = slot.get(&rec.code_id)
            && out[i].quotes.len() < n
        {
            out[i].quotes.push(Quote {
                respondent: rec.ext_id.clone(),
                question: rec.question.clone(),
                text: rec.text.clone(),
            });
        }
        Ok(())
    })?;
    Ok(out)
}
