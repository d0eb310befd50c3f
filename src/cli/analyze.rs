//! `lacrima analyze` and `lacrima cooccur`: codes against the survey's variables, code
//! frequencies and code co-occurrence (DESIGN.md section 7).
//!
//! The unit is the respondent: within the chosen questions a respondent is rated when the coder
//! rated any of those answers, and coded when the code was applied to any of them. The store
//! streams respondents in survey order; this module counts, and `crate::analysis` tests.

use super::table;
use super::{AnalyzeArgs, CooccurArgs, ReportFormat, json, stdout_line, warn};
use crate::analysis::{
    MannWhitneyMethod, SMALL_EXPECTED, benjamini_hochberg, categorical_by_code, numeric_by_code,
};
use crate::error::{Error, Result};
use crate::export::{csv_err, write_err};
use crate::store::{
    CodeRecord, CodedAnswers, DatasetLayout, DatasetQuestion, DatasetValue, DatasetVariable, Store,
    VariableKind,
};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// Whose codings and which questions an analysis or a wide export uses.
#[derive(Debug, Clone)]
pub struct Scope {
    pub coder_id: i64,
    pub coder: String,
    /// The chosen questions, in their order.
    pub questions: Vec<DatasetQuestion>,
    /// The question named with `--question`, if any.
    pub question: Option<String>,
}

impl Scope {
    pub fn question_ids(&self) -> Vec<i64> {
        self.questions.iter().map(|q| q.id).collect()
    }
}

/// The coder to use: the one named, else the consensus coder if there is exactly one, else the
/// only coder who has rated anything; otherwise the researcher must choose.
pub fn choose_coder(store: &Store, given: Option<&str>) -> Result<(i64, String)> {
    if let Some(name) = given {
        return match store.find_coder(name)? {
            Some(id) => Ok((id, name.to_string())),
            None => Err(super::unknown_coder(store, name)?),
        };
    }
    let coders = store.coders_overview()?;
    let consensus: Vec<_> = coders.iter().filter(|c| c.is_consensus).collect();
    if let [only] = consensus[..] {
        return Ok((only.id, only.name.clone()));
    }
    let active: Vec<_> = coders.iter().filter(|c| c.answers_rated > 0).collect();
    if consensus.is_empty()
        && let [only] = active[..]
    {
        return Ok((only.id, only.name.clone()));
    }
    if coders.is_empty() || (consensus.is_empty() && active.is_empty()) {
        return Err(Error::input(
            "nobody has coded an answer in this project yet: import codings with \
             `lacrima codings import FILE` or code with `lacrima code --coder NAME`",
        ));
    }
    let list: Vec<String> = coders
        .iter()
        .map(|c| {
            let mut s = format!("{} ({} answers rated", c.name, c.answers_rated);
            if c.is_consensus {
                s.push_str(", consensus");
            }
            s.push(')');
            s
        })
        .collect();
    Err(Error::input(format!(
        "which coder's codings? {}; choose one with --coder NAME. The coders are: {}",
        if consensus.len() > 1 {
            "there are several consensus coders"
        } else {
            "there is no consensus coder and several coders have coded"
        },
        list.join(", ")
    )))
}

/// The questions to use: the one named, or all of them.
pub fn choose_questions(
    layout: &DatasetLayout,
    given: Option<&str>,
) -> Result<(Vec<DatasetQuestion>, Option<String>)> {
    match given {
        None => Ok((layout.questions.clone(), None)),
        Some(name) => match layout.questions.iter().find(|q| q.name == name) {
            Some(q) => Ok((vec![q.clone()], Some(q.name.clone()))),
            None => Err(Error::input(format!(
                "no question called {name:?}; the questions are: {}",
                list_or_none(layout.questions.iter().map(|q| q.name.as_str()))
            ))),
        },
    }
}

pub fn scope(
    store: &Store,
    layout: &DatasetLayout,
    coder: Option<&str>,
    question: Option<&str>,
) -> Result<Scope> {
    let (questions, question) = choose_questions(layout, question)?;
    let (coder_id, coder) = choose_coder(store, coder)?;
    Ok(Scope {
        coder_id,
        coder,
        questions,
        question,
    })
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

/// The variable to analyse by: it must exist and be numeric or categorical.
pub fn choose_variable<'a>(layout: &'a DatasetLayout, name: &str) -> Result<&'a DatasetVariable> {
    let usable = || {
        list_or_none(
            layout
                .variables
                .iter()
                .filter(|v| matches!(v.kind, VariableKind::Numeric | VariableKind::Categorical))
                .map(|v| v.name.as_str()),
        )
    };
    let Some(v) = layout.variables.iter().find(|v| v.name == name) else {
        let hint = if layout.questions.iter().any(|q| q.name == name) {
            format!("{name:?} is an open-ended question, not a variable")
        } else if let Some(v) = layout
            .variables
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
        {
            format!("no variable called {name:?} (did you mean {:?}?)", v.name)
        } else {
            format!("no variable called {name:?}")
        };
        return Err(Error::input(format!(
            "{hint}; the numeric and categorical variables are: {}",
            usable()
        )));
    };
    match v.kind {
        VariableKind::Numeric | VariableKind::Categorical => Ok(v),
        VariableKind::Text | VariableKind::Date => Err(Error::input(format!(
            "{:?} is a {} variable; codes are analysed against numeric and categorical \
             variables only (re-import it with --categorical if its values are categories). \
             The numeric and categorical variables are: {}",
            v.name,
            v.kind.as_str(),
            usable()
        ))),
    }
}

fn codable(layout: &DatasetLayout) -> Vec<&CodeRecord> {
    layout.codes.iter().filter(|c| c.codable).collect()
}

/// The coder's decisions on the chosen questions for these codes (bit k is `codes[k]`).
fn coded_answers(store: &Store, scope: &Scope, codes: &[&CodeRecord]) -> Result<CodedAnswers> {
    let ids: Vec<i64> = codes.iter().map(|c| c.id).collect();
    store.coded_answers(scope.coder_id, &scope.question_ids(), &ids)
}

/// A statistic for output: never NaN or infinite.
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// One code against a categorical variable.
#[derive(Debug, Clone, Serialize)]
pub struct CategoricalCode {
    pub code: String,
    pub undefined_reason: Option<String>,
    pub levels: Vec<String>,
    pub rated: Vec<u64>,
    pub coded: Vec<u64>,
    pub chi2: Option<f64>,
    pub df: Option<usize>,
    pub p: Option<f64>,
    pub cramers_v: Option<f64>,
    pub fisher_p: Option<f64>,
    pub q_bh: Option<f64>,
    pub missing: u64,
    /// The smallest expected count of the table; below 5 the chi-square p is doubtful.
    pub min_expected: Option<f64>,
}

/// One code against a numeric variable.
#[derive(Debug, Clone, Serialize)]
pub struct NumericCode {
    pub code: String,
    pub undefined_reason: Option<String>,
    pub n_coded: usize,
    pub n_not: usize,
    pub mean_coded: Option<f64>,
    pub sd_coded: Option<f64>,
    pub mean_not: Option<f64>,
    pub sd_not: Option<f64>,
    pub welch_t: Option<f64>,
    pub welch_df: Option<f64>,
    pub welch_p: Option<f64>,
    pub mann_whitney_u: Option<f64>,
    pub mann_whitney_p: Option<f64>,
    /// "exact" or "normal".
    pub mann_whitney_method: Option<MannWhitneyMethod>,
    pub point_biserial_r: Option<f64>,
    pub point_biserial_p: Option<f64>,
    pub q_bh: Option<f64>,
    pub missing: u64,
}

/// The result of `lacrima analyze --by VARIABLE`, as the JSON output shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Report<T> {
    pub by: String,
    /// "categorical" or "numeric".
    pub kind: &'static str,
    pub coder: String,
    pub question: Option<String>,
    /// Respondents who had at least one of the chosen answers rated by the coder.
    pub respondents_rated: u64,
    pub codes: Vec<T>,
    pub warnings: Vec<String>,
}

/// Codes against a categorical variable: one pass counts rated and coded respondents per level.
pub fn categorical_report(
    store: &Store,
    layout: &DatasetLayout,
    scope: &Scope,
    var: &DatasetVariable,
) -> Result<Report<CategoricalCode>> {
    let codes = codable(layout);
    let mut levels = var.levels.clone();
    let mut rated = vec![0u64; levels.len()];
    let mut coded: Vec<Vec<u64>> = vec![vec![0; levels.len()]; codes.len()];
    let mut missing = 0u64;
    let mut respondents_rated = 0u64;
    let mut unknown_levels: Vec<String> = Vec::new();
    let coded_answers = coded_answers(store, scope, &codes)?;
    store.for_each_variable_value(&var.column, &mut |rid, value| {
        if !coded_answers.rated(rid) {
            return Ok(());
        }
        respondents_rated += 1;
        let level = match value {
            DatasetValue::Missing => None,
            DatasetValue::Text(t) => Some(t.to_string()),
            DatasetValue::Integer(i) => Some(i.to_string()),
            DatasetValue::Real(x) => Some(x.to_string()),
        };
        let Some(level) = level else {
            missing += 1;
            return Ok(());
        };
        let i = match levels.iter().position(|l| *l == level) {
            Some(i) => i,
            None => {
                // A value outside the catalogue's levels (the catalogue should list every
                // value): counted as one more level, and reported.
                unknown_levels.push(level.clone());
                levels.push(level);
                rated.push(0);
                for c in coded.iter_mut() {
                    c.push(0);
                }
                levels.len() - 1
            }
        };
        rated[i] += 1;
        for (k, c) in coded.iter_mut().enumerate() {
            if coded_answers.has(rid, k) {
                c[i] += 1;
            }
        }
        Ok(())
    })?;
    let mut warnings = common_warnings(scope, var, respondents_rated, missing);
    if !unknown_levels.is_empty() {
        warnings.push(format!(
            "{:?} has values that are not among its levels: {}; they were analysed as extra levels",
            var.name,
            unknown_levels.join(", ")
        ));
    }
    let mut out: Vec<CategoricalCode> = codes
        .iter()
        .zip(&coded)
        .map(|(code, coded)| {
            let r = categorical_by_code(&levels, &rated, coded);
            CategoricalCode {
                code: code.name.clone(),
                undefined_reason: r.undefined_reason,
                levels: r.levels,
                rated: r.rated,
                coded: r.coded,
                chi2: finite(r.chi2),
                df: r.df,
                p: finite(r.p),
                cramers_v: finite(r.cramers_v),
                fisher_p: finite(r.fisher_p),
                q_bh: None,
                missing,
                min_expected: finite(r.min_expected),
            }
        })
        .collect();
    let q = benjamini_hochberg(&out.iter().map(|c| c.p).collect::<Vec<_>>());
    for (c, q) in out.iter_mut().zip(q) {
        c.q_bh = finite(q);
    }
    let small: Vec<&str> = out
        .iter()
        .filter(|c| c.min_expected.is_some_and(|m| m < SMALL_EXPECTED))
        .map(|c| c.code.as_str())
        .collect();
    if !small.is_empty() {
        warnings.push(format!(
            "expected counts below 5 for {} of {} codes ({}): their chi-square p-values are \
             approximate{}",
            small.len(),
            out.len(),
            small.join(", "),
            if levels_with_rated(&out) == 2 {
                "; prefer Fisher's exact p"
            } else {
                ""
            }
        ));
    }
    Ok(Report {
        by: var.name.clone(),
        kind: "categorical",
        coder: scope.coder.clone(),
        question: scope.question.clone(),
        respondents_rated,
        codes: out,
        warnings,
    })
}

/// Codes against a numeric variable: the values of rated respondents, split per code.
pub fn numeric_report(
    store: &Store,
    layout: &DatasetLayout,
    scope: &Scope,
    var: &DatasetVariable,
) -> Result<Report<NumericCode>> {
    let codes = codable(layout);
    let mut values: Vec<f64> = Vec::new();
    // has[k][i]: respondent i (among those with a value) was coded with code k.
    let mut has: Vec<Vec<bool>> = vec![Vec::new(); codes.len()];
    let mut missing = 0u64;
    let mut respondents_rated = 0u64;
    let coded_answers = coded_answers(store, scope, &codes)?;
    store.for_each_variable_value(&var.column, &mut |rid, value| {
        if !coded_answers.rated(rid) {
            return Ok(());
        }
        respondents_rated += 1;
        let x = match value {
            DatasetValue::Integer(i) => i as f64,
            DatasetValue::Real(x) => x,
            // A numeric column holds numbers only; text there is treated as missing.
            DatasetValue::Text(t) => match t.trim().parse::<f64>() {
                Ok(x) => x,
                Err(_) => {
                    missing += 1;
                    return Ok(());
                }
            },
            DatasetValue::Missing => {
                missing += 1;
                return Ok(());
            }
        };
        values.push(x);
        for (k, h) in has.iter_mut().enumerate() {
            h.push(coded_answers.has(rid, k));
        }
        Ok(())
    })?;
    let warnings = common_warnings(scope, var, respondents_rated, missing);
    // Sorted once by value, every code's two groups arrive sorted, and the stable sort inside
    // the Mann-Whitney ranking merges two sorted runs in linear time instead of sorting a
    // million values again for each code.
    let (values, has) = {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let sorted: Vec<f64> = order.iter().map(|&i| values[i]).collect();
        drop(values);
        let has: Vec<Vec<bool>> = has
            .into_iter()
            .map(|h| order.iter().map(|&i| h[i]).collect())
            .collect();
        (sorted, has)
    };
    let mut with: Vec<f64> = Vec::new();
    let mut without: Vec<f64> = Vec::new();
    let mut out: Vec<NumericCode> = codes
        .iter()
        .zip(&has)
        .map(|(code, has)| {
            with.clear();
            without.clear();
            for (x, h) in values.iter().zip(has) {
                if *h {
                    with.push(*x);
                } else {
                    without.push(*x);
                }
            }
            let r = numeric_by_code(&with, &without);
            NumericCode {
                code: code.name.clone(),
                undefined_reason: r.undefined_reason,
                n_coded: r.n_coded,
                n_not: r.n_not,
                mean_coded: finite(r.mean_coded),
                sd_coded: finite(r.sd_coded),
                mean_not: finite(r.mean_not),
                sd_not: finite(r.sd_not),
                welch_t: finite(r.welch_t),
                welch_df: finite(r.welch_df),
                welch_p: finite(r.welch_p),
                mann_whitney_u: finite(r.mann_whitney_u),
                mann_whitney_p: finite(r.mann_whitney_p),
                mann_whitney_method: r.mann_whitney_method,
                point_biserial_r: finite(r.point_biserial_r),
                point_biserial_p: finite(r.point_biserial_p),
                q_bh: None,
                missing,
            }
        })
        .collect();
    let q = benjamini_hochberg(&out.iter().map(|c| c.welch_p).collect::<Vec<_>>());
    for (c, q) in out.iter_mut().zip(q) {
        c.q_bh = finite(q);
    }
    Ok(Report {
        by: var.name.clone(),
        kind: "numeric",
        coder: scope.coder.clone(),
        question: scope.question.clone(),
        respondents_rated,
        codes: out,
        warnings,
    })
}

/// The number of levels that have rated respondents (the same for every code).
fn levels_with_rated(codes: &[CategoricalCode]) -> usize {
    codes.first().map_or(0, |c| c.levels.len())
}

fn common_warnings(
    scope: &Scope,
    var: &DatasetVariable,
    respondents_rated: u64,
    missing: u64,
) -> Vec<String> {
    let mut w = Vec::new();
    if respondents_rated == 0 {
        w.push(format!(
            "coder {} has rated no answer {}: every statistic is undefined",
            scope.coder,
            match &scope.question {
                Some(q) => format!("of question {q}"),
                None => "in this project".into(),
            }
        ));
    }
    if missing > 0 {
        w.push(format!(
            "{missing} rated respondent(s) have no value of {:?} and were left out",
            var.name
        ));
    }
    w
}

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

fn share(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
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

// ---------------------------------------------------------------------------------------------
// Commands and output.

pub(super) fn analyze(project: &Path, a: &AnalyzeArgs) -> Result<()> {
    let store = Store::open(project)?;
    let layout = store.dataset_layout()?;
    // Check the variable first: a typo there is the likeliest mistake.
    let var =
        a.by.as_deref()
            .map(|name| choose_variable(&layout, name))
            .transpose()?;
    let scope = scope(&store, &layout, a.coder.as_deref(), a.question.as_deref())?;
    if a.screen {
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() {
            return Err(Error::input(
                "--screen needs a terminal; for files use --format csv or --format json",
            ));
        }
        drop(store);
        return crate::tui::analysis_app::run(
            project,
            crate::tui::analysis::AnalysisSetup {
                scope,
                by: a.by.clone(),
            },
        );
    }
    match var {
        None => {
            let f = frequencies(&store, &layout, &scope)?;
            emit(a.format, &f, &f.warnings, |format, out| {
                write_frequencies(&f, format, out)
            })
        }
        Some(v) if v.kind == VariableKind::Categorical => {
            let r = categorical_report(&store, &layout, &scope, v)?;
            emit(a.format, &r, &r.warnings, |format, out| {
                write_categorical(&r, format, out)
            })
        }
        Some(v) => {
            let r = numeric_report(&store, &layout, &scope, v)?;
            emit(a.format, &r, &r.warnings, |format, out| {
                write_numeric(&r, format, out)
            })
        }
    }
}

pub(super) fn cooccur(project: &Path, a: &CooccurArgs) -> Result<()> {
    let store = Store::open(project)?;
    let layout = store.dataset_layout()?;
    let scope = scope(&store, &layout, a.coder.as_deref(), a.question.as_deref())?;
    let c = cooccurrence(&store, &layout, &scope)?;
    emit(a.format, &c, &c.warnings, |format, out| {
        write_cooccurrence(&c, format, out)
    })
}

/// JSON carries its warnings inside; tables and CSV send them to standard error.
fn emit<T: Serialize>(
    format: ReportFormat,
    value: &T,
    warnings: &[String],
    write: impl FnOnce(ReportFormat, &mut Vec<u8>) -> Result<()>,
) -> Result<()> {
    if format == ReportFormat::Json {
        return stdout_line(&json(value)?);
    }
    for w in warnings {
        warn(w);
    }
    let mut buf = Vec::new();
    write(format, &mut buf)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&buf).map_err(write_err)?;
    out.flush().map_err(write_err)
}

/// A number for a table: fixed decimals, "-" when undefined.
fn fx(x: Option<f64>, decimals: usize) -> String {
    match finite(x) {
        Some(v) => format!("{v:.decimals$}"),
        None => "-".into(),
    }
}

/// A p-value for a table: four decimals, or scientific notation below 0.0001.
fn fp(p: Option<f64>) -> String {
    match finite(p) {
        Some(v) if v != 0.0 && v < 1e-4 => format!("{v:.1e}"),
        Some(v) => format!("{v:.4}"),
        None => "-".into(),
    }
}

/// A number for CSV: full precision, empty when undefined.
fn cx(x: Option<f64>) -> String {
    finite(x).map(|v| v.to_string()).unwrap_or_default()
}

fn scope_line(coder: &str, question: &Option<String>) -> String {
    format!(
        "coder {coder}, {}",
        match question {
            Some(q) => format!("question {q}"),
            None => "all questions".into(),
        }
    )
}

fn write_categorical(
    r: &Report<CategoricalCode>,
    format: ReportFormat,
    out: &mut Vec<u8>,
) -> Result<()> {
    if format == ReportFormat::Csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "code",
            "level",
            "rated",
            "coded",
            "percent_coded",
            "chi2",
            "df",
            "p",
            "cramers_v",
            "fisher_p",
            "q_bh",
            "missing",
            "undefined_reason",
        ])
        .map_err(csv_err)?;
        for c in &r.codes {
            let stats = [
                cx(c.chi2),
                c.df.map(|d| d.to_string()).unwrap_or_default(),
                cx(c.p),
                cx(c.cramers_v),
                cx(c.fisher_p),
                cx(c.q_bh),
                c.missing.to_string(),
                c.undefined_reason.clone().unwrap_or_default(),
            ];
            if c.levels.is_empty() {
                let mut row = vec![c.code.clone(), String::new(), "0".into(), "0".into()];
                row.push(String::new());
                row.extend(stats.iter().cloned());
                w.write_record(&row).map_err(csv_err)?;
            }
            for ((level, rated), coded) in c.levels.iter().zip(&c.rated).zip(&c.coded) {
                let mut row = vec![
                    c.code.clone(),
                    level.clone(),
                    rated.to_string(),
                    coded.to_string(),
                    cx(share(*coded, *rated).map(|s| 100.0 * s)),
                ];
                row.extend(stats.iter().cloned());
                w.write_record(&row).map_err(csv_err)?;
            }
        }
        return w.flush().map_err(write_err);
    }
    // The rated counts per level are the same for every code: they go in the header.
    let (levels, rated) = r
        .codes
        .iter()
        .max_by_key(|c| c.levels.len())
        .map(|c| (c.levels.clone(), c.rated.clone()))
        .unwrap_or_default();
    let mut header: Vec<String> = vec!["code".into()];
    header.extend(
        levels
            .iter()
            .zip(&rated)
            .map(|(l, n)| format!("{l} (n={n})")),
    );
    header.extend(
        ["chi2", "df", "p", "V", "Fisher p", "q (BH)"]
            .iter()
            .map(|s| s.to_string()),
    );
    let mut small = false;
    let rows: Vec<Vec<String>> = r
        .codes
        .iter()
        .map(|c| {
            let mut row = vec![c.code.clone()];
            for l in &levels {
                row.push(match c.levels.iter().position(|x| x == l) {
                    Some(i) => format!(
                        "{}% ({})",
                        fx(share(c.coded[i], c.rated[i]).map(|s| 100.0 * s), 1),
                        c.coded[i]
                    ),
                    None => "-".into(),
                });
            }
            let flag = c.min_expected.is_some_and(|m| m < SMALL_EXPECTED);
            small |= flag;
            row.push(fx(c.chi2, 2));
            row.push(c.df.map(|d| d.to_string()).unwrap_or("-".into()));
            row.push(format!("{}{}", fp(c.p), if flag { "*" } else { "" }));
            row.push(fx(c.cramers_v, 3));
            row.push(fp(c.fisher_p));
            row.push(fp(c.q_bh));
            row
        })
        .collect();
    let header_refs: Vec<&str> = header.iter().map(|s| s.as_str()).collect();
    let mut s = format!(
        "Codes by {} (categorical): percent of rated respondents coded, (count); {}; {} \
         respondents rated{}\n\n",
        r.by,
        scope_line(&r.coder, &r.question),
        r.respondents_rated,
        match r.codes.first().map(|c| c.missing) {
            Some(m) if m > 0 => format!(", {m} of them without a value"),
            _ => String::new(),
        }
    );
    s.push_str(&table::render(&header_refs, &rows));
    if small {
        s.push_str("\n* expected counts below 5: the chi-square p-value is approximate\n");
    }
    undefined_notes(
        &mut s,
        r.codes.iter().map(|c| (&c.code, &c.undefined_reason)),
    );
    out.write_all(s.as_bytes()).map_err(write_err)
}

fn undefined_notes<'a>(
    s: &mut String,
    codes: impl Iterator<Item = (&'a String, &'a Option<String>)>,
) {
    let notes: Vec<String> = codes
        .filter_map(|(c, r)| r.as_ref().map(|r| format!("  {c}: {r}")))
        .collect();
    if !notes.is_empty() {
        s.push_str("\nNot computed (-):\n");
        s.push_str(&notes.join("\n"));
        s.push('\n');
    }
}

fn write_numeric(r: &Report<NumericCode>, format: ReportFormat, out: &mut Vec<u8>) -> Result<()> {
    if format == ReportFormat::Csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "code",
            "n_coded",
            "n_not",
            "mean_coded",
            "sd_coded",
            "mean_not",
            "sd_not",
            "welch_t",
            "welch_df",
            "welch_p",
            "mann_whitney_u",
            "mann_whitney_p",
            "mann_whitney_method",
            "point_biserial_r",
            "point_biserial_p",
            "q_bh",
            "missing",
            "undefined_reason",
        ])
        .map_err(csv_err)?;
        for c in &r.codes {
            w.write_record([
                c.code.clone(),
                c.n_coded.to_string(),
                c.n_not.to_string(),
                cx(c.mean_coded),
                cx(c.sd_coded),
                cx(c.mean_not),
                cx(c.sd_not),
                cx(c.welch_t),
                cx(c.welch_df),
                cx(c.welch_p),
                cx(c.mann_whitney_u),
                cx(c.mann_whitney_p),
                c.mann_whitney_method
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
                cx(c.point_biserial_r),
                cx(c.point_biserial_p),
                cx(c.q_bh),
                c.missing.to_string(),
                c.undefined_reason.clone().unwrap_or_default(),
            ])
            .map_err(csv_err)?;
        }
        return w.flush().map_err(write_err);
    }
    let rows: Vec<Vec<String>> = r
        .codes
        .iter()
        .map(|c| {
            vec![
                c.code.clone(),
                c.n_coded.to_string(),
                format!("{} ({})", fx(c.mean_coded, 2), fx(c.sd_coded, 2)),
                c.n_not.to_string(),
                format!("{} ({})", fx(c.mean_not, 2), fx(c.sd_not, 2)),
                fx(c.welch_t, 2),
                fx(c.welch_df, 1),
                fp(c.welch_p),
                fx(c.mann_whitney_u, 1),
                fp(c.mann_whitney_p),
                fx(c.point_biserial_r, 3),
                fp(c.q_bh),
            ]
        })
        .collect();
    let mut s = format!(
        "{} by code (numeric): coded vs not coded respondents; {}; {} respondents rated{}\n\n",
        r.by,
        scope_line(&r.coder, &r.question),
        r.respondents_rated,
        match r.codes.first().map(|c| c.missing) {
            Some(m) if m > 0 => format!(", {m} of them without a value"),
            _ => String::new(),
        }
    );
    s.push_str(&table::render(
        &[
            "code",
            "n coded",
            "mean (SD) coded",
            "n not",
            "mean (SD) not",
            "Welch t",
            "df",
            "p",
            "U",
            "p (U)",
            "r pb",
            "q (BH)",
        ],
        &rows,
    ));
    undefined_notes(
        &mut s,
        r.codes.iter().map(|c| (&c.code, &c.undefined_reason)),
    );
    out.write_all(s.as_bytes()).map_err(write_err)
}

fn write_frequencies(f: &Frequencies, format: ReportFormat, out: &mut Vec<u8>) -> Result<()> {
    if format == ReportFormat::Csv {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "code".to_string(),
            "respondents".into(),
            "respondents_share".into(),
            "answers".into(),
        ];
        for q in &f.questions {
            header.push(format!("{}_answers", q.question));
            header.push(format!("{}_share", q.question));
        }
        w.write_record(&header).map_err(csv_err)?;
        for c in &f.codes {
            let mut row = vec![
                c.code.clone(),
                c.respondents.to_string(),
                cx(c.respondents_share),
                c.answers.to_string(),
            ];
            for q in &c.by_question {
                row.push(q.answers.to_string());
                row.push(cx(q.share));
            }
            w.write_record(&row).map_err(csv_err)?;
        }
        return w.flush().map_err(write_err);
    }
    let pct = |x: Option<f64>| match finite(x) {
        Some(v) => format!("{:.1}%", 100.0 * v),
        None => "-".into(),
    };
    let mut header: Vec<String> = vec!["code".into(), "respondents".into(), "answers".into()];
    header.extend(
        f.questions
            .iter()
            .map(|q| format!("{} (n={})", q.question, q.answers_rated)),
    );
    let rows: Vec<Vec<String>> = f
        .codes
        .iter()
        .map(|c| {
            let mut row = vec![
                c.code.clone(),
                format!("{} ({})", c.respondents, pct(c.respondents_share)),
                c.answers.to_string(),
            ];
            row.extend(
                c.by_question
                    .iter()
                    .map(|q| format!("{} ({})", q.answers, pct(q.share))),
            );
            row
        })
        .collect();
    let header_refs: Vec<&str> = header.iter().map(|s| s.as_str()).collect();
    let mut s = format!(
        "Code frequencies: respondents coded (percent of the {} rated) and answers coded per \
         question (percent of the answers rated); {}\n\n",
        f.respondents_rated,
        scope_line(&f.coder, &f.question)
    );
    s.push_str(&table::render(&header_refs, &rows));
    out.write_all(s.as_bytes()).map_err(write_err)
}

fn write_cooccurrence(c: &Cooccurrence, format: ReportFormat, out: &mut Vec<u8>) -> Result<()> {
    if format == ReportFormat::Csv {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "code_a",
            "code_b",
            "answers_a",
            "answers_b",
            "answers_both",
            "jaccard",
        ])
        .map_err(csv_err)?;
        for p in &c.pairs {
            w.write_record([
                p.code_a.clone(),
                p.code_b.clone(),
                p.answers_a.to_string(),
                p.answers_b.to_string(),
                p.answers_both.to_string(),
                cx(p.jaccard),
            ])
            .map_err(csv_err)?;
        }
        return w.flush().map_err(write_err);
    }
    // On screen, the pairs that occur together, most frequent first.
    let mut pairs: Vec<&CodePair> = c.pairs.iter().filter(|p| p.answers_both > 0).collect();
    pairs.sort_by(|a, b| {
        b.answers_both.cmp(&a.answers_both).then(
            b.jaccard
                .unwrap_or(0.0)
                .total_cmp(&a.jaccard.unwrap_or(0.0)),
        )
    });
    let rows: Vec<Vec<String>> = pairs
        .iter()
        .map(|p| {
            vec![
                p.code_a.clone(),
                p.code_b.clone(),
                p.answers_both.to_string(),
                p.answers_a.to_string(),
                p.answers_b.to_string(),
                fx(p.jaccard, 3),
            ]
        })
        .collect();
    let mut s = format!(
        "Codes applied to the same answer: {} answers rated; {}\n\n",
        c.answers_rated,
        scope_line(&c.coder, &c.question)
    );
    s.push_str(&table::render(
        &[
            "code",
            "with code",
            "both",
            "answers 1st",
            "answers 2nd",
            "Jaccard",
        ],
        &rows,
    ));
    let never = c.pairs.len() - pairs.len();
    if never > 0 {
        s.push_str(&format!(
            "\n{never} other pair(s) of codes never occur in the same answer (all pairs: --format csv)\n"
        ));
    }
    out.write_all(s.as_bytes()).map_err(write_err)
}
