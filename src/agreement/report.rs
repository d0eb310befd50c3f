//! The agreement report of `lacrima agreement` and the review screen: every coefficient per
//! code, the overall values, optional bootstrap intervals and per-pair values, assembled from
//! a [`CodingMatrix`] with the functions of this module. Pure: names in, numbers out.

use serde::{Serialize, Serializer, ser::SerializeMap};

use super::{
    AlphaKind, CodeAgreement, CodingMatrix, Interval, bootstrap_alpha_ci, overall, per_code,
};

/// What every report says about its unit, so nobody reads it as agreement on segments.
pub const UNIT_NOTE: &str = "agreement is on which codes each coder applied to each answer \
(presence per answer), not on segment boundaries";

/// Krippendorff's guidance on alpha (Content Analysis, 2004, section 11.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reliability {
    /// alpha >= 0.800.
    Reliable,
    /// 0.667 <= alpha < 0.800: tentative conclusions only.
    Tentative,
    /// alpha < 0.667.
    Unreliable,
}

impl Reliability {
    pub const RELIABLE_FROM: f64 = 0.800;
    pub const TENTATIVE_FROM: f64 = 0.667;

    pub fn of(alpha: f64) -> Reliability {
        if alpha >= Self::RELIABLE_FROM {
            Reliability::Reliable
        } else if alpha >= Self::TENTATIVE_FROM {
            Reliability::Tentative
        } else {
            Reliability::Unreliable
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reliability::Reliable => "reliable",
            Reliability::Tentative => "tentative",
            Reliability::Unreliable => "unreliable",
        }
    }
}

/// The data a report is about.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    pub matrix: &'a CodingMatrix,
    /// Coder names, one per matrix column.
    pub coders: &'a [String],
    /// Code names, one per matrix code index (the codebook's codable codes in order).
    pub codes: &'a [String],
    /// Answers each coder rated, one per matrix column.
    pub coder_counts: &'a [u64],
    /// The question the answers belong to (None = all questions).
    pub question: Option<&'a str>,
}

/// What to put in a report besides the coefficients of every code.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Code indices whose rows to report, in this order (None = every code). The overall
    /// values are over the whole codebook either way.
    pub rows: Option<Vec<usize>>,
    /// 95% bootstrap intervals for every alpha.
    pub bootstrap: Option<Bootstrap>,
    /// Cohen's kappa, alpha and the rest for every pair of coders.
    pub pairs: bool,
}

/// Percentile bootstrap over answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
}

/// The report; its JSON form is the interface of `lacrima agreement --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct AgreementReport {
    pub coders: Vec<String>,
    pub question: Option<String>,
    /// Answers rated by at least one of the coders.
    pub units: u64,
    pub codes: Vec<CodeRow>,
    pub overall: OverallRow,
    pub coder_counts: CoderCounts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<Vec<PairRow>>,
    pub note: &'static str,
}

/// How the intervals were made, so that they can be reproduced.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapInfo {
    pub level: f64,
    pub resamples: usize,
    pub seed: u64,
    pub method: &'static str,
}

/// One code's coefficients (DESIGN.md section 6). `Option::None` is `null`: undefined, with
/// `undefined_reason`; the interval fields are absent without `--ci`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeRow {
    pub code: String,
    pub units: u64,
    pub units_pairable: u64,
    pub prevalence: Option<f64>,
    pub percent_agreement: Option<f64>,
    pub cohen_kappa: Option<f64>,
    pub scott_pi: Option<f64>,
    pub fleiss_kappa: Option<f64>,
    pub krippendorff_alpha: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub krippendorff_alpha_ci_low: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub krippendorff_alpha_ci_high: Option<Option<f64>>,
    pub gwet_ac1: Option<f64>,
    pub brennan_prediger: Option<f64>,
    pub undefined_reason: Option<String>,
}

/// The overall values, always over the whole codebook's codable codes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverallRow {
    pub krippendorff_alpha_pooled: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub krippendorff_alpha_pooled_ci_low: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub krippendorff_alpha_pooled_ci_high: Option<Option<f64>>,
    pub krippendorff_alpha_masi: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub krippendorff_alpha_masi_ci_low: Option<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub krippendorff_alpha_masi_ci_high: Option<Option<f64>>,
    pub percent_agreement_pooled: Option<f64>,
    pub undefined_reason: Option<String>,
}

/// Two coders compared on their own.
#[derive(Debug, Clone, Serialize)]
pub struct PairRow {
    pub coders: [String; 2],
    /// Answers both rated.
    pub units_pairable: u64,
    pub codes: Vec<CodeRow>,
    pub overall: OverallRow,
}

/// Answers rated per coder, as a JSON object in the coders' order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoderCounts(pub Vec<(String, u64)>);

impl Serialize for CoderCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, n) in &self.0 {
            map.serialize_entry(name, n)?;
        }
        map.end()
    }
}

/// Builds the report. The bootstrap, when asked for, resamples the answers rated by two or
/// more coders `resamples` times per alpha (reproducible from the seed).
pub fn agreement_report(input: ReportInput<'_>, options: &ReportOptions) -> AgreementReport {
    let m = input.matrix;
    let rows: Vec<usize> = options
        .rows
        .clone()
        .unwrap_or_else(|| (0..m.n_codes()).collect());
    let ci = |kind: AlphaKind| {
        options
            .bootstrap
            .map(|b| interval_bounds(bootstrap_alpha_ci(m, kind, b.resamples, b.seed).ok()))
    };
    // The per-code and the overall values are independent passes over the matrix: on two
    // cores they run side by side.
    let (codes, mut overall_row) = std::thread::scope(|scope| {
        let overall = scope.spawn(|| overall_row(m));
        let codes = code_rows(m, input.codes, &rows, Some(&ci));
        // A panic in the other thread is a bug; carry it over rather than hide it.
        let overall = overall
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (codes, overall)
    });
    if let Some((low, high)) = ci(AlphaKind::Pooled) {
        overall_row.krippendorff_alpha_pooled_ci_low = Some(low);
        overall_row.krippendorff_alpha_pooled_ci_high = Some(high);
    }
    if let Some((low, high)) = ci(AlphaKind::Masi) {
        overall_row.krippendorff_alpha_masi_ci_low = Some(low);
        overall_row.krippendorff_alpha_masi_ci_high = Some(high);
    }
    let pairs = options.pairs.then(|| pair_rows(input, &rows));
    AgreementReport {
        coders: input.coders.to_vec(),
        question: input.question.map(str::to_owned),
        units: (0..m.n_units()).filter(|&u| m.raters(u) > 0).count() as u64,
        codes,
        overall: overall_row,
        coder_counts: CoderCounts(
            input
                .coders
                .iter()
                .cloned()
                .zip(input.coder_counts.iter().copied())
                .collect(),
        ),
        bootstrap: options.bootstrap.map(|b| BootstrapInfo {
            level: 0.95,
            resamples: b.resamples,
            seed: b.seed,
            method: "percentile bootstrap over the answers rated by two or more coders",
        }),
        pairs,
        note: UNIT_NOTE,
    }
}

type Bounds = (Option<f64>, Option<f64>);

fn interval_bounds(i: Option<Interval>) -> Bounds {
    (i.map(|i| i.low), i.map(|i| i.high))
}

fn code_rows(
    m: &CodingMatrix,
    names: &[String],
    rows: &[usize],
    ci: Option<&dyn Fn(AlphaKind) -> Option<Bounds>>,
) -> Vec<CodeRow> {
    let all = per_code(m);
    rows.iter()
        .filter_map(|&c| {
            let a = all.get(c)?;
            let bounds = ci.and_then(|f| f(AlphaKind::Code(c)));
            Some(code_row(
                names.get(c).cloned().unwrap_or_default(),
                a,
                bounds,
            ))
        })
        .collect()
}

fn code_row(code: String, a: &CodeAgreement, ci: Option<Bounds>) -> CodeRow {
    CodeRow {
        code,
        units: a.units,
        units_pairable: a.units_pairable,
        prevalence: a.prevalence,
        percent_agreement: a.percent_agreement,
        cohen_kappa: a.cohen_kappa,
        scott_pi: a.scott_pi,
        fleiss_kappa: a.fleiss_kappa,
        krippendorff_alpha: a.krippendorff_alpha,
        krippendorff_alpha_ci_low: ci.map(|b| b.0),
        krippendorff_alpha_ci_high: ci.map(|b| b.1),
        gwet_ac1: a.gwet_ac1,
        brennan_prediger: a.brennan_prediger,
        undefined_reason: a.undefined_reason.clone(),
    }
}

fn overall_row(m: &CodingMatrix) -> OverallRow {
    let o = overall(m);
    OverallRow {
        krippendorff_alpha_pooled: o.krippendorff_alpha_pooled,
        krippendorff_alpha_pooled_ci_low: None,
        krippendorff_alpha_pooled_ci_high: None,
        krippendorff_alpha_masi: o.krippendorff_alpha_masi,
        krippendorff_alpha_masi_ci_low: None,
        krippendorff_alpha_masi_ci_high: None,
        percent_agreement_pooled: o.percent_agreement_pooled,
        undefined_reason: o.undefined_reason,
    }
}

fn pair_rows(input: ReportInput<'_>, rows: &[usize]) -> Vec<PairRow> {
    let m = input.matrix;
    let mut out = Vec::new();
    for a in 0..m.n_coders() {
        for b in a + 1..m.n_coders() {
            let pair = pair_matrix(m, a, b);
            let both = (0..pair.n_units()).filter(|&u| pair.raters(u) == 2).count();
            out.push(PairRow {
                coders: [
                    input.coders.get(a).cloned().unwrap_or_default(),
                    input.coders.get(b).cloned().unwrap_or_default(),
                ],
                units_pairable: both as u64,
                codes: code_rows(&pair, input.codes, rows, None),
                overall: overall_row(&pair),
            });
        }
    }
    out
}

/// Coders `a` and `b` alone, over the answers either of them rated.
pub fn pair_matrix(m: &CodingMatrix, a: usize, b: usize) -> CodingMatrix {
    let mut pair = CodingMatrix::new(2, m.n_codes());
    for u in 0..m.n_units() {
        let cells = [m.cell(u, a), m.cell(u, b)];
        if cells.iter().all(Option::is_none) {
            continue;
        }
        // Cells of a valid matrix, over the same codebook, with fewer applications in all:
        // every check push_unit makes has already passed once.
        pair.push_unit(&cells)
            .expect("a cell of a valid matrix is a valid cell");
    }
    pair
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Three coders, two codes; coder c agrees with a, b disagrees on code 0.
    fn matrix() -> CodingMatrix {
        let mut m = CodingMatrix::new(3, 2);
        let units: [[Option<&[u32]>; 3]; 5] = [
            [Some(&[0]), Some(&[]), Some(&[0])],
            [Some(&[0, 1]), Some(&[1]), Some(&[0, 1])],
            [Some(&[]), Some(&[0]), Some(&[])],
            [Some(&[1]), Some(&[1]), None],
            [None, None, Some(&[1])],
        ];
        for u in units {
            m.push_unit(&u).unwrap();
        }
        m
    }

    #[test]
    fn reliability_follows_krippendorffs_thresholds() {
        assert_eq!(Reliability::of(0.8), Reliability::Reliable);
        assert_eq!(Reliability::of(0.7999), Reliability::Tentative);
        assert_eq!(Reliability::of(0.667), Reliability::Tentative);
        assert_eq!(Reliability::of(0.6669), Reliability::Unreliable);
        assert_eq!(Reliability::of(-0.2), Reliability::Unreliable);
    }

    #[test]
    fn pairs_show_which_coder_diverges() {
        let m = matrix();
        let (coders, codes) = (names(&["a", "b", "c"]), names(&["x", "y"]));
        let input = ReportInput {
            matrix: &m,
            coders: &coders,
            codes: &codes,
            coder_counts: &[4, 4, 4],
            question: None,
        };
        let r = agreement_report(
            input,
            &ReportOptions {
                pairs: true,
                ..Default::default()
            },
        );
        let pairs = r.pairs.unwrap();
        let names: Vec<String> = pairs.iter().map(|p| p.coders.join("-")).collect();
        assert_eq!(names, ["a-b", "a-c", "b-c"]);
        assert_eq!(pairs[1].codes[0].krippendorff_alpha, Some(1.0), "a = c");
        assert_eq!(pairs[1].codes[0].cohen_kappa, Some(1.0));
        assert!(
            pairs[0].codes[0].krippendorff_alpha.unwrap() < 0.0,
            "b differs"
        );
        assert_eq!(pairs[0].units_pairable, 4);
        assert_eq!(pairs[1].units_pairable, 3);
        assert_eq!(r.units, 5);
    }

    #[test]
    fn rows_can_be_limited_but_overall_stays_whole() {
        let m = matrix();
        let (coders, codes) = (names(&["a", "b", "c"]), names(&["x", "y"]));
        let input = ReportInput {
            matrix: &m,
            coders: &coders,
            codes: &codes,
            coder_counts: &[4, 4, 4],
            question: None,
        };
        let all = agreement_report(input, &ReportOptions::default());
        let one = agreement_report(
            input,
            &ReportOptions {
                rows: Some(vec![1]),
                ..Default::default()
            },
        );
        assert_eq!(one.codes.len(), 1);
        assert_eq!(one.codes[0], all.codes[1]);
        assert_eq!(one.overall, all.overall);
    }

    #[test]
    fn intervals_appear_only_when_asked_for_and_bracket_alpha() {
        let m = matrix();
        let (coders, codes) = (names(&["a", "b", "c"]), names(&["x", "y"]));
        let input = ReportInput {
            matrix: &m,
            coders: &coders,
            codes: &codes,
            coder_counts: &[4, 4, 4],
            question: None,
        };
        let plain =
            serde_json::to_value(agreement_report(input, &ReportOptions::default())).unwrap();
        assert!(plain["codes"][0].get("krippendorff_alpha_ci_low").is_none());
        assert!(plain.get("bootstrap").is_none());
        let opts = ReportOptions {
            bootstrap: Some(Bootstrap {
                resamples: 200,
                seed: 7,
            }),
            ..Default::default()
        };
        let r = agreement_report(input, &opts);
        let low = r.overall.krippendorff_alpha_pooled_ci_low.unwrap().unwrap();
        let high = r
            .overall
            .krippendorff_alpha_pooled_ci_high
            .unwrap()
            .unwrap();
        assert!(low <= high);
        let again = agreement_report(input, &opts);
        assert_eq!(
            again.overall.krippendorff_alpha_pooled_ci_low,
            r.overall.krippendorff_alpha_pooled_ci_low,
            "same seed, same interval"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert!(json["codes"][1]["krippendorff_alpha_ci_high"].is_number());
        assert_eq!(json["bootstrap"]["resamples"], 200);
        assert_eq!(json["coder_counts"]["b"], 4);
    }
}
