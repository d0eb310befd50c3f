//! `lacrima agreement`: intercoder agreement per code and overall (DESIGN.md sections 5 and 6),
//! computed by `crate::report::agreement` (which `lacrima report` publishes too) and printed
//! here as a table, CSV or JSON.

use super::table;
use super::{ReportFormat, json, stdout_line, warn};
use crate::agreement::{AgreementReport, Bootstrap, CodeRow, OverallRow, Reliability};
use crate::error::Result;
use crate::export::{Output, csv_err};
use crate::report::{Agreement, AgreementRequest};
use crate::store::Store;
use clap::Args;
use std::path::Path;

#[derive(Args, Debug)]
pub struct AgreementArgs {
    /// Coders to compare (comma list, or repeat the option). Default: every coder who rated an
    /// answer, consensus coders excluded.
    #[arg(long)]
    pub coders: Vec<String>,
    /// Only the answers to this question (default: all questions).
    #[arg(long)]
    pub question: Option<String>,
    /// Report only this code's row (repeat for several); the overall values stay over the
    /// whole codebook.
    #[arg(long)]
    pub code: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Add 95% bootstrap intervals for every alpha (resampling answers).
    #[arg(long)]
    pub ci: bool,
    /// Bootstrap resamples for --ci.
    #[arg(long, default_value_t = 1000, requires = "ci",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub bootstrap: u32,
    /// Seed of the bootstrap's random numbers (the same seed gives the same intervals).
    #[arg(long, default_value_t = 1, requires = "ci")]
    pub seed: u64,
    /// Add Cohen's kappa, alpha and the rest for every pair of coders, to see who diverges.
    #[arg(long)]
    pub pairs: bool,
}

pub fn agreement(project: &Path, a: &AgreementArgs) -> Result<()> {
    let store = Store::open(project)?;
    let Agreement {
        report,
        codable_codes,
    } = crate::report::agreement(
        &store,
        &AgreementRequest {
            coders: &a.coders,
            question: a.question.as_deref(),
            codes: &a.code,
            bootstrap: a.ci.then_some(Bootstrap {
                resamples: a.bootstrap as usize,
                seed: a.seed,
            }),
            pairs: a.pairs,
        },
        &mut |w| warn(w),
    )?;
    match a.format {
        ReportFormat::Json => stdout_line(&json(&report)?),
        ReportFormat::Csv => write_csv(&report, a.ci),
        ReportFormat::Table => stdout_line(&render_table(&report, codable_codes)),
    }
}

// ---------------------------------------------------------------------------------------------
// Agreement output

fn num(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn csv_row(coders: &str, r: &CodeRow, ci: bool) -> Vec<String> {
    let mut row = vec![
        coders.to_string(),
        r.code.clone(),
        r.units.to_string(),
        r.units_pairable.to_string(),
        num(r.prevalence),
        num(r.percent_agreement),
        num(r.cohen_kappa),
        num(r.scott_pi),
        num(r.fleiss_kappa),
        num(r.krippendorff_alpha),
    ];
    if ci {
        row.push(num(r.krippendorff_alpha_ci_low.flatten()));
        row.push(num(r.krippendorff_alpha_ci_high.flatten()));
    }
    row.extend([num(r.gwet_ac1), num(r.brennan_prediger), String::new()]);
    if ci {
        row.extend([String::new(), String::new()]);
    }
    row.push(r.undefined_reason.clone().unwrap_or_default());
    row
}

fn csv_overall(coders: &str, units: u64, pairable: u64, o: &OverallRow, ci: bool) -> Vec<String> {
    let mut row = vec![
        coders.to_string(),
        "(overall)".into(),
        units.to_string(),
        pairable.to_string(),
        String::new(),
        num(o.percent_agreement_pooled),
        String::new(),
        String::new(),
        String::new(),
        num(o.krippendorff_alpha_pooled),
    ];
    if ci {
        row.push(num(o.krippendorff_alpha_pooled_ci_low.flatten()));
        row.push(num(o.krippendorff_alpha_pooled_ci_high.flatten()));
    }
    row.extend([String::new(), String::new(), num(o.krippendorff_alpha_masi)]);
    if ci {
        row.push(num(o.krippendorff_alpha_masi_ci_low.flatten()));
        row.push(num(o.krippendorff_alpha_masi_ci_high.flatten()));
    }
    row.push(o.undefined_reason.clone().unwrap_or_default());
    row
}

/// One row per code, then `(overall)`; with --pairs the same for every pair of coders. The
/// `coders` column names whose codings each row compares (`;` between names).
fn write_csv(report: &AgreementReport, ci: bool) -> Result<()> {
    let mut header = vec![
        "coders",
        "code",
        "units",
        "units_pairable",
        "prevalence",
        "percent_agreement",
        "cohen_kappa",
        "scott_pi",
        "fleiss_kappa",
        "krippendorff_alpha",
    ];
    if ci {
        header.extend(["krippendorff_alpha_ci_low", "krippendorff_alpha_ci_high"]);
    }
    header.extend(["gwet_ac1", "brennan_prediger", "krippendorff_alpha_masi"]);
    if ci {
        header.extend([
            "krippendorff_alpha_masi_ci_low",
            "krippendorff_alpha_masi_ci_high",
        ]);
    }
    header.push("undefined_reason");
    let mut out = Output::open(None)?;
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&header).map_err(csv_err)?;
        let all = report.coders.join(";");
        for r in &report.codes {
            w.write_record(csv_row(&all, r, ci)).map_err(csv_err)?;
        }
        let pairable = report.codes.first().map_or(0, |r| r.units_pairable);
        w.write_record(csv_overall(
            &all,
            report.units,
            pairable,
            &report.overall,
            ci,
        ))
        .map_err(csv_err)?;
        for p in report.pairs.iter().flatten() {
            let who = p.coders.join(";");
            let units = p.codes.first().map_or(0, |r| r.units);
            for r in &p.codes {
                w.write_record(csv_row(&who, r, false)).map_err(csv_err)?;
            }
            w.write_record(csv_overall(
                &who,
                units,
                p.units_pairable,
                &p.overall,
                false,
            ))
            .map_err(csv_err)?;
        }
        w.flush().map_err(crate::export::write_err)?;
    }
    out.finish()
}

fn fixed(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.3}"))
}

fn interval(low: Option<Option<f64>>, high: Option<Option<f64>>) -> String {
    match (low.flatten(), high.flatten()) {
        (Some(l), Some(h)) => format!("[{l:.3}, {h:.3}]"),
        _ => "-".into(),
    }
}

fn verdict(alpha: Option<f64>, reason: Option<&str>) -> String {
    match (alpha, reason) {
        (Some(a), _) => Reliability::of(a).as_str().to_string(),
        (None, Some(r)) => format!("- {r}"),
        (None, None) => "-".into(),
    }
}

pub(super) fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn render_table(r: &AgreementReport, codebook_size: usize) -> String {
    let two = r.coders.len() == 2;
    let ci = r.bootstrap.is_some();
    let mut s = format!(
        "Intercoder agreement of {} on {} answers ({}).\n",
        and_list(&r.coders),
        r.units,
        match &r.question {
            Some(q) => format!("question {q}"),
            None => "all questions".into(),
        }
    );
    let counts: Vec<String> = r
        .coder_counts
        .0
        .iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    s.push_str(&format!("Answers rated: {}.\n\n", counts.join(", ")));

    let mut header = vec!["code", "pairable", "prevalence", "agreement", "alpha"];
    if ci {
        header.push("alpha 95% CI");
    }
    if two {
        header.extend(["Cohen", "Scott"]);
    }
    header.extend(["Fleiss", "AC1", "BP", "reliability"]);
    let rows: Vec<Vec<String>> = r
        .codes
        .iter()
        .map(|c| {
            let mut row = vec![
                c.code.clone(),
                c.units_pairable.to_string(),
                fixed(c.prevalence),
                fixed(c.percent_agreement),
                fixed(c.krippendorff_alpha),
            ];
            if ci {
                row.push(interval(
                    c.krippendorff_alpha_ci_low,
                    c.krippendorff_alpha_ci_high,
                ));
            }
            if two {
                row.extend([fixed(c.cohen_kappa), fixed(c.scott_pi)]);
            }
            row.extend([
                fixed(c.fleiss_kappa),
                fixed(c.gwet_ac1),
                fixed(c.brennan_prediger),
                verdict(c.krippendorff_alpha, c.undefined_reason.as_deref()),
            ]);
            row
        })
        .collect();
    s.push_str(&table::render(&header, &rows));

    let o = &r.overall;
    s.push_str(&format!(
        "\nOverall, over all {codebook_size} codable codes:\n"
    ));
    let ci_of = |low, high| {
        if ci {
            format!("  95% CI {}", interval(low, high))
        } else {
            String::new()
        }
    };
    s.push_str(&format!(
        "  pooled alpha      {}{}  {}\n",
        fixed(o.krippendorff_alpha_pooled),
        ci_of(
            o.krippendorff_alpha_pooled_ci_low,
            o.krippendorff_alpha_pooled_ci_high
        ),
        verdict(o.krippendorff_alpha_pooled, o.undefined_reason.as_deref())
    ));
    s.push_str(&format!(
        "  MASI alpha        {}{}  {}\n",
        fixed(o.krippendorff_alpha_masi),
        ci_of(
            o.krippendorff_alpha_masi_ci_low,
            o.krippendorff_alpha_masi_ci_high
        ),
        verdict(o.krippendorff_alpha_masi, o.undefined_reason.as_deref())
    ));
    s.push_str(&format!(
        "  pooled agreement  {}\n",
        fixed(o.percent_agreement_pooled)
    ));

    for p in r.pairs.iter().flatten() {
        s.push_str(&format!(
            "\n{} and {} alone ({} answers both rated): pooled alpha {}, MASI alpha {}\n",
            p.coders[0],
            p.coders[1],
            p.units_pairable,
            fixed(p.overall.krippendorff_alpha_pooled),
            fixed(p.overall.krippendorff_alpha_masi)
        ));
        let rows: Vec<Vec<String>> = p
            .codes
            .iter()
            .map(|c| {
                vec![
                    c.code.clone(),
                    c.units_pairable.to_string(),
                    fixed(c.percent_agreement),
                    fixed(c.cohen_kappa),
                    fixed(c.krippendorff_alpha),
                    verdict(c.krippendorff_alpha, c.undefined_reason.as_deref()),
                ]
            })
            .collect();
        s.push_str(&table::render(
            &[
                "code",
                "pairable",
                "agreement",
                "Cohen",
                "alpha",
                "reliability",
            ],
            &rows,
        ));
    }

    s.push_str(&format!(
        "\nReliability (Krippendorff's guidance for alpha): {:.3} or more reliable; {:.3} to {:.3}\n\
         tentative (draw tentative conclusions only); below {:.3} unreliable.\n",
        Reliability::RELIABLE_FROM,
        Reliability::TENTATIVE_FROM,
        Reliability::RELIABLE_FROM,
        Reliability::TENTATIVE_FROM
    ));
    s.push_str(
        "Agreement is on which codes each coder applied to each answer, not on segment boundaries.\n\
         pairable: answers rated by two or more of the coders; agreement: pairwise percent\n\
         agreement; Fleiss: Gwet's form for missing ratings; AC1: Gwet's AC1; BP: Brennan-Prediger.\n\
         A dash is undefined; the reason is on the right.\n",
    );
    if let Some(b) = &r.bootstrap {
        s.push_str(&format!(
            "Intervals: {} bootstrap resamples of the answers, seed {}.\n",
            b.resamples, b.seed
        ));
    }
    s
}
