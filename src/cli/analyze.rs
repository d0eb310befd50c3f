//! `lacrima analyze` and `lacrima cooccur`: the reports of `crate::report` (codes against the
//! survey's variables, code frequencies, co-occurrence; DESIGN.md section 7) printed as a table,
//! CSV or JSON.

use super::table;
use super::{AnalyzeArgs, CooccurArgs, ReportFormat, json, stdout_line, warn};
use crate::analysis::SMALL_EXPECTED;
use crate::error::{Error, Result};
use crate::export::{csv_err, write_err};
use crate::report::*;
use crate::store::{Store, VariableKind};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

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
            if a.plot {
                return plotted(&f.warnings, super::plot::frequencies(&f));
            }
            emit(a.format, &f, &f.warnings, |format, out| {
                write_frequencies(&f, format, out)
            })
        }
        Some(v) if v.kind == VariableKind::Categorical => {
            let r = categorical_report(&store, &layout, &scope, v)?;
            if a.plot {
                return plotted(&r.warnings, super::plot::categorical(&r));
            }
            emit(a.format, &r, &r.warnings, |format, out| {
                write_categorical(&r, format, out)
            })
        }
        Some(v) => {
            let r = numeric_report(&store, &layout, &scope, v)?;
            if a.plot {
                return plotted(&r.warnings, super::plot::numeric(&r));
            }
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
fn plotted(warnings: &[String], chart: String) -> Result<()> {
    for w in warnings {
        warn(w);
    }
    stdout_line(&chart)
}

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
    let (levels, rated) = r.level_counts();
    let mut header: Vec<String> = vec!["code".into()];
    header.extend(
        levels
            .iter()
            .zip(rated)
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
            for l in levels {
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
