//! Reports: what the command line prints and the screens show, computed once for both.
//!
//! A report reads the project through the store and hands plain numbers to the pure math in
//! `crate::agreement` and `crate::analysis`. It knows nothing of arguments, terminals or output
//! formats: `cli` parses, calls a report and prints it; `tui` calls the same function and draws
//! it. So the flow reads one way: entry -> front ends (cli, tui) -> report -> store and the math.

pub mod agreement;
pub mod coders;
pub mod cooccurrence;
pub mod crosstab;
pub mod frequencies;
pub mod publication;
pub mod scope;

pub use agreement::{Agreement, AgreementRequest, agreement, default_coders};
pub use coders::{coder_list, coder_names, named_coders, question_id};
pub use cooccurrence::{CodeCount, CodePair, Cooccurrence, cooccurrence};
pub use crosstab::{
    CategoricalCode, NumericCode, Report, categorical_report, numeric_report, numeric_report_with,
};
pub use frequencies::{CodeFrequency, Frequencies, QuestionFrequency, QuestionRated, frequencies};
pub use publication::{
    AgreementSection, CodeQuotes, CoderChoice, Publication, PublicationRequest, Quote,
    VariableAnalysis, publication,
};
pub use scope::{Scope, choose_coder, choose_questions, choose_variable, scope, unknown_coder};

use crate::error::Result;
use crate::store::{CodeRecord, CodedAnswers, DatasetLayout, Store};

fn codable(layout: &DatasetLayout) -> Vec<&CodeRecord> {
    layout.codes.iter().filter(|c| c.codable).collect()
}

/// The coder's decisions on the chosen questions for these codes (bit k is `codes[k]`).
fn coded_answers(store: &Store, scope: &Scope, codes: &[&CodeRecord]) -> Result<CodedAnswers> {
    let ids: Vec<i64> = codes.iter().map(|c| c.id).collect();
    store.coded_answers(scope.coder_id, &scope.question_ids(), &ids)
}

/// A statistic for output: never NaN or infinite.
pub fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// `n` of `of` as a proportion; none of none is undefined, not zero.
pub fn share(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}
