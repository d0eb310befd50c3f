//! Intercoder agreement: pure functions, no I/O.
//!
//! Two entry points share one set of formulas:
//!
//! * **Single-label** data, a units x coders matrix with one category per cell
//!   ([`RatingMatrix`]), and the free functions [`percent_agreement`], [`cohen_kappa`],
//!   [`scott_pi`], [`fleiss_kappa`], [`fleiss_kappa_gwet`], [`krippendorff_alpha_nominal`],
//!   [`gwet_ac1`], [`brennan_prediger`] and [`conger_kappa`].
//! * **Multi-label** data, the project's own case: each coder applies a set of codes to each
//!   answer ([`CodingMatrix`]). Each code is then a binary present/absent variable
//!   ([`per_code`], DESIGN.md section 6), and the whole codebook gives pooled and set-valued
//!   coefficients ([`pooled_alpha`], [`pooled_percent_agreement`], [`masi_alpha`],
//!   [`jaccard_alpha`], [`overall`]) with bootstrap intervals ([`bootstrap_alpha_ci`]).
//!
//! Every coefficient is a function of a few integer counts grouped by the number of coders
//! who rated a unit ([`Tallies`]), so both cases are computed in one pass over the data and
//! the results do not depend on the order of units or coders.
//!
//! An undefined coefficient (0/0, e.g. a code nobody used) is an `Err(Undefined)` with the
//! reason, never NaN.
//!
//! References used throughout:
//! * K. L. Gwet (2014), *Handbook of Inter-Rater Reliability*, 4th ed. (chapters 2-5: percent
//!   agreement, Fleiss' kappa, AC1, Brennan-Prediger and Conger's kappa with missing ratings).
//! * J. L. Fleiss (1971), "Measuring nominal scale agreement among many raters",
//!   *Psychological Bulletin* 76(5).
//! * J. Cohen (1960), "A coefficient of agreement for nominal scales"; W. A. Scott (1955),
//!   "Reliability of content analysis: the case of nominal scale coding".
//! * K. Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability".
//! * R. Passonneau (2006), "Measuring agreement on set-valued items (MASI)".

mod bootstrap;
mod coding;
mod per_code;
mod report;
mod set_alpha;
mod single;
mod tallies;

#[cfg(test)]
mod tests;

use std::fmt;

pub use bootstrap::{AlphaKind, Interval, bootstrap_alpha_ci};
pub use coding::CodingMatrix;
pub use per_code::{
    CodeAgreement, OverallAgreement, overall, per_code, per_code_tallies, pooled_alpha,
    pooled_percent_agreement, pooled_tallies,
};
pub use report::{
    AgreementReport, Bootstrap, BootstrapInfo, CodeRow, CoderCounts, OverallRow, PairRow,
    Reliability, ReportInput, ReportOptions, UNIT_NOTE, agreement_report, pair_matrix,
};
pub use set_alpha::{SetDistance, distinct_pairable_sets, jaccard_alpha, masi_alpha, set_alpha};
pub use single::{
    RatingMatrix, brennan_prediger, cohen_kappa, conger_kappa, fleiss_kappa, fleiss_kappa_gwet,
    gwet_ac1, krippendorff_alpha_nominal, percent_agreement, scott_pi,
};
pub use tallies::Tallies;

/// Why a coefficient has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undefined {
    /// No unit was rated by two or more coders, so there is no pair to compare.
    NoPairableUnits,
    /// No unit was rated by every coder (classic Fleiss' kappa uses complete units only).
    NoCompleteUnits,
    /// The coefficient is defined for exactly two coders (Cohen's kappa, Scott's pi).
    NotTwoCoders {
        /// Number of coders in the data.
        coders: usize,
    },
    /// Every rating considered is the same category, so chance agreement is 1 (0/0).
    SingleCategory {
        /// The only category used.
        category: u32,
    },
    /// Every pairable value is the same set of codes, so expected disagreement is 0 (0/0).
    SingleSet,
    /// Fewer than two categories: chance agreement 1/q is 1 (AC1, Brennan-Prediger).
    TooFewCategories {
        /// The number of categories given.
        q: usize,
    },
    /// Every bootstrap resample was undefined, or no resample was asked for.
    NoResamples,
    /// The code index is not in the codebook.
    NoSuchCode {
        /// The index asked for.
        code: usize,
    },
    /// A guard: the arithmetic produced a non-finite number (not expected to happen).
    NotFinite,
}

impl fmt::Display for Undefined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPairableUnits => write!(f, "fewer than two coders rated any answer"),
            Self::NoCompleteUnits => write!(f, "no answer was rated by every coder"),
            Self::NotTwoCoders { coders } => {
                write!(f, "defined for exactly two coders (have {coders})")
            }
            Self::SingleCategory { category } => write!(
                f,
                "every rating is category {category}: chance agreement is 1"
            ),
            Self::SingleSet => write!(f, "every coder applied the same set of codes everywhere"),
            Self::TooFewCategories { q } => {
                write!(f, "needs at least two categories (have {q})")
            }
            Self::NoResamples => write!(f, "no bootstrap resample gave a defined value"),
            Self::NoSuchCode { code } => write!(f, "no code with index {code}"),
            Self::NotFinite => write!(f, "the computation did not give a finite number"),
        }
    }
}

impl std::error::Error for Undefined {}

/// Why a unit could not be added to a [`RatingMatrix`] or [`CodingMatrix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixError {
    /// The unit does not have one entry per coder.
    WrongCoderCount {
        /// Coders in the matrix.
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// A category is not below `q`.
    CategoryOutOfRange {
        /// The category given.
        category: u32,
        /// The number of categories.
        q: usize,
    },
    /// A code index is not below the number of codes.
    CodeOutOfRange {
        /// The code given.
        code: u32,
        /// The number of codes.
        n_codes: usize,
    },
    /// More code applications than the compact storage can index (over 4 billion).
    TooLarge,
}

impl fmt::Display for MatrixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongCoderCount { expected, got } => {
                write!(f, "expected {expected} coder entries per unit, got {got}")
            }
            Self::CategoryOutOfRange { category, q } => {
                write!(f, "category {category} is out of range (q = {q})")
            }
            Self::CodeOutOfRange { code, n_codes } => {
                write!(f, "code {code} is out of range ({n_codes} codes)")
            }
            Self::TooLarge => write!(f, "too many code applications for one matrix"),
        }
    }
}

impl std::error::Error for MatrixError {}

/// Turns a computed value into a result, refusing NaN and infinities.
fn finite(x: f64) -> Result<f64, Undefined> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Undefined::NotFinite)
    }
}

/// Chance-corrected coefficient `(pa - pe) / (1 - pe)`; callers have ruled out `pe == 1`.
fn chance_corrected(pa: f64, pe: f64) -> Result<f64, Undefined> {
    finite((pa - pe) / (1.0 - pe))
}
