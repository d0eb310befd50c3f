//! Each code as a binary present/absent variable (DESIGN.md section 6), and pooled values.
//!
//! Coder g's value for code c on unit u is 1 if g applied c, 0 if g rated u without applying
//! c, missing if g did not rate u. Every binary coefficient except Cohen's kappa depends only
//! on each unit's number of raters `r` and of appliers `a`, so one pass builds a histogram of
//! (r, a) per code. Units where nobody applied the code are not visited per code: their
//! count is the number of units with `r` raters minus those where someone did.

use serde::Serialize;

use super::{CodingMatrix, Tallies, Undefined, set_alpha};

/// Agreement on one code, in codebook order (DESIGN.md section 6). `None` = undefined; see
/// `undefined_reason`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeAgreement {
    /// Answers rated by at least one coder (the same for every code).
    pub units: u64,
    /// Answers rated by two or more coders.
    pub units_pairable: u64,
    /// Share of the ratings that apply the code.
    pub prevalence: Option<f64>,
    /// Pairwise percent agreement over pairable answers.
    pub percent_agreement: Option<f64>,
    /// Cohen's kappa (exactly two coders, answers both rated).
    pub cohen_kappa: Option<f64>,
    /// Scott's pi (exactly two coders, answers both rated).
    pub scott_pi: Option<f64>,
    /// Fleiss' kappa in Gwet's form accepting missing ratings.
    pub fleiss_kappa: Option<f64>,
    /// Krippendorff's alpha, nominal.
    pub krippendorff_alpha: Option<f64>,
    /// Gwet's AC1, q = 2.
    pub gwet_ac1: Option<f64>,
    /// Brennan-Prediger, q = 2.
    pub brennan_prediger: Option<f64>,
    /// Why a coefficient above is undefined (the first one, alpha first), if any is.
    pub undefined_reason: Option<String>,
}

/// Agreement over the whole codebook (DESIGN.md section 6, "Overall").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverallAgreement {
    /// Binary nominal alpha over all (answer, code) decisions.
    pub krippendorff_alpha_pooled: Option<f64>,
    /// Pairwise percent agreement over the same decisions.
    pub percent_agreement_pooled: Option<f64>,
    /// Set-valued alpha with MASI distance over each coder's set of codes per answer.
    pub krippendorff_alpha_masi: Option<f64>,
    /// Why a value above is undefined (the first one), if any is.
    pub undefined_reason: Option<String>,
}

/// Per-code counts gathered in one pass over the matrix.
struct Pass {
    side: usize,
    /// Index `c * side^2 + r * side + a` (a >= 1): units with r raters, a of whom applied c.
    applied_hist: Vec<u64>,
    /// Index `r`: units rated by exactly r coders.
    units_by_raters: Vec<u64>,
    /// Index `g`: units coder g rated.
    coder_rated: Vec<u64>,
    /// Index `c * n_coders + g`: units where coder g applied c.
    coder_applied: Vec<u64>,
    /// Index `c` (two coders only): units both rated where coder 0 applied c.
    first_applied_both: Vec<u64>,
}

fn gather(m: &CodingMatrix) -> Pass {
    let (n_coders, n_codes) = (m.n_coders(), m.n_codes());
    let side = n_coders + 1;
    let mut pass = Pass {
        side,
        applied_hist: vec![0; n_codes * side * side],
        units_by_raters: vec![0; side],
        coder_rated: vec![0; n_coders],
        coder_applied: vec![0; n_codes * n_coders],
        first_applied_both: vec![0; n_codes],
    };
    let mut appliers = vec![0usize; n_codes];
    let mut touched: Vec<usize> = Vec::new();
    for u in 0..m.n_units() {
        let r = m.raters(u);
        if r == 0 {
            continue;
        }
        pass.units_by_raters[r] += 1;
        for (g, cell) in m.unit(u).enumerate() {
            let Some(codes) = cell else { continue };
            pass.coder_rated[g] += 1;
            for &c in codes {
                let c = c as usize;
                if appliers[c] == 0 {
                    touched.push(c);
                }
                appliers[c] += 1;
                pass.coder_applied[c * n_coders + g] += 1;
                if n_coders == 2 && r == 2 && g == 0 {
                    pass.first_applied_both[c] += 1;
                }
            }
        }
        for c in touched.drain(..) {
            pass.applied_hist[c * side * side + r * side + appliers[c]] += 1;
            appliers[c] = 0;
        }
    }
    pass
}

impl Pass {
    /// Units with `r` raters of whom `a` applied code `c` (including `a = 0`).
    fn hist(&self, c: usize, r: usize, a: usize) -> u64 {
        let row = &self.applied_hist[c * self.side * self.side + r * self.side..][..self.side];
        if a > 0 {
            row[a]
        } else {
            let some: u64 = row.iter().skip(1).sum();
            self.units_by_raters[r] - some
        }
    }

    fn code_tallies(&self, c: usize) -> Tallies {
        let n_coders = self.side - 1;
        let mut t = Tallies::new(2, n_coders);
        for r in 1..=n_coders {
            for a in 0..=r {
                t.add_unit(&[(r - a) as u64, a as u64], self.hist(c, r, a));
            }
        }
        for g in 0..n_coders {
            let applied = self.coder_applied[c * n_coders + g];
            t.add_coder_ratings(g, 0, self.coder_rated[g] - applied);
            t.add_coder_ratings(g, 1, applied);
        }
        if n_coders == 2 {
            // 2x2 table of units both rated, from the histogram and coder 0's applications.
            let both = self.hist(c, 2, 2);
            let first_only = self.first_applied_both[c] - both;
            t.add_pair(1, 1, both);
            t.add_pair(1, 0, first_only);
            t.add_pair(0, 1, self.hist(c, 2, 1) - first_only);
            t.add_pair(0, 0, self.hist(c, 2, 0));
        }
        t
    }
}

/// Binary tallies of every code (q = 2, category 1 = applied), in codebook order, computed in
/// one pass. Use these for coefficients [`CodeAgreement`] leaves out (classic Fleiss' kappa,
/// Conger's kappa, unanimous agreement, rating counts).
pub fn per_code_tallies(m: &CodingMatrix) -> Vec<Tallies> {
    let pass = gather(m);
    (0..m.n_codes()).map(|c| pass.code_tallies(c)).collect()
}

/// All (answer, code) decisions as one binary variable: the sum of the per-code tallies.
pub fn pooled_tallies(m: &CodingMatrix) -> Tallies {
    pool(&per_code_tallies(m), m.n_coders())
}

fn pool(codes: &[Tallies], n_coders: usize) -> Tallies {
    let mut pooled = Tallies::new(2, n_coders);
    for t in codes {
        pooled.merge(t);
    }
    pooled
}

/// Agreement on each code, in codebook order (DESIGN.md section 6).
pub fn per_code(m: &CodingMatrix) -> Vec<CodeAgreement> {
    per_code_tallies(m).iter().map(code_agreement).collect()
}

/// Binary nominal Krippendorff's alpha over all (answer, code) decisions. Depends on the
/// codebook: a code nobody used adds agreeing "absent" decisions.
pub fn pooled_alpha(m: &CodingMatrix) -> Result<f64, Undefined> {
    pooled_tallies(m).krippendorff_alpha()
}

/// Pairwise percent agreement over all (answer, code) decisions.
pub fn pooled_percent_agreement(m: &CodingMatrix) -> Result<f64, Undefined> {
    pooled_tallies(m).percent_agreement()
}

/// The overall values of DESIGN.md section 6 in one call.
pub fn overall(m: &CodingMatrix) -> OverallAgreement {
    let pooled = pooled_tallies(m);
    let alpha = pooled.krippendorff_alpha();
    let pa = pooled.percent_agreement();
    let masi = set_alpha::masi_alpha(m);
    let undefined_reason = [alpha, pa, masi]
        .iter()
        .find_map(|v| v.err())
        .map(|e| binary_reason(e, &pooled));
    OverallAgreement {
        krippendorff_alpha_pooled: alpha.ok(),
        percent_agreement_pooled: pa.ok(),
        krippendorff_alpha_masi: masi.ok(),
        undefined_reason,
    }
}

fn code_agreement(t: &Tallies) -> CodeAgreement {
    let alpha = t.krippendorff_alpha();
    let fleiss = t.fleiss_kappa_gwet();
    let cohen = t.cohen_kappa();
    let scott = t.scott_pi();
    let pa = t.percent_agreement();
    let ac1 = t.gwet_ac1();
    let bp = t.brennan_prediger();
    let undefined_reason = [alpha, fleiss, cohen, scott, pa, ac1, bp]
        .iter()
        .filter_map(|v| v.err())
        // Cohen and Scott are undefined by design unless there are two coders.
        .find(|e| !matches!(e, Undefined::NotTwoCoders { .. }))
        .map(|e| binary_reason(e, t));
    CodeAgreement {
        units: t.units_rated(),
        units_pairable: t.units_pairable(),
        prevalence: t.share_of_ratings(1).ok(),
        percent_agreement: pa.ok(),
        cohen_kappa: cohen.ok(),
        scott_pi: scott.ok(),
        fleiss_kappa: fleiss.ok(),
        krippendorff_alpha: alpha.ok(),
        gwet_ac1: ac1.ok(),
        brennan_prediger: bp.ok(),
        undefined_reason,
    }
}

/// Words for a binary code's undefined coefficient. A single category may hold every rating
/// (the code was never / always applied) or only those on answers rated by two or more coders.
fn binary_reason(e: Undefined, t: &Tallies) -> String {
    let never_applied = t.ratings_in(1) == 0;
    let always_applied = t.ratings_in(0) == 0;
    match e {
        Undefined::SingleCategory { category: 0 } if never_applied => {
            "no coder applied this code".to_owned()
        }
        Undefined::SingleCategory { category: 1 } if always_applied => {
            "every rating applied this code".to_owned()
        }
        Undefined::SingleCategory { category: 0 } => {
            "no coder applied this code on an answer rated by two or more coders".to_owned()
        }
        Undefined::SingleCategory { .. } => {
            "every rating applied this code on answers rated by two or more coders".to_owned()
        }
        other => other.to_string(),
    }
}
