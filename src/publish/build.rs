//! A [`Publication`] laid out as a [`Document`]. Numbers are rounded here the way `lacrima
//! analyze` and `lacrima agreement` print them in their tables (percentages to one decimal,
//! coefficients to three, p-values to four or in scientific notation below 0.0001), and every
//! rounded cell keeps its exact value.

use super::svg::{Bar, BarChart, BoxChart, BoxGroup, Chart, StackedChart, StackedRow};
use super::{Block, Cell, Document, Entry, QuoteBlock, Section, Table, safe_color};
use crate::agreement::{CodeRow, Reliability, UNIT_NOTE};
use crate::analysis::SMALL_EXPECTED;
use crate::report::{
    Agreement, AgreementSection, CategoricalCode, CoderChoice, NumericCode, Publication, Report,
    VariableAnalysis, finite, share,
};
use std::collections::HashMap;

/// What the document says about itself.
#[derive(Debug, Clone)]
pub struct DocumentOptions {
    /// The title (None: "Coding report: " and the project's file name).
    pub title: Option<String>,
    /// The project's file name, without its folder (a path would say where a researcher keeps
    /// their files, which a published report has no business saying).
    pub project_name: String,
}

pub fn document(p: &Publication, opts: &DocumentOptions) -> Document {
    let colors: HashMap<&str, Option<String>> = p
        .codebook
        .iter()
        .map(|c| (c.name.as_str(), safe_color(c.color.as_deref())))
        .collect();
    let color = |code: &str| colors.get(code).cloned().flatten();
    let mut sections = vec![
        summary(p),
        codebook(p),
        frequencies(p, &color),
        agreement(p),
    ];
    if !p.variables.is_empty() {
        sections.push(variables(p, &color));
    }
    sections.push(quotes(p));
    Document {
        title: opts
            .title
            .clone()
            .unwrap_or_else(|| format!("Coding report: {}", opts.project_name)),
        lead: vec![
            format!(
                "The coding of the open-ended answers of {}: {} respondents, {} open-ended \
                 question(s), a codebook of {} codes ({} of them applied to answers).",
                opts.project_name,
                p.summary.respondents,
                p.summary.questions.len(),
                p.summary.codes,
                p.summary.codable_codes
            ),
            format!(
                "Frequencies, analyses and quotes use the codings of {} ({}), over {}.",
                p.coder,
                match p.coder_choice {
                    CoderChoice::Named => "chosen for this report",
                    CoderChoice::Consensus => "the project's consensus coding",
                    CoderChoice::OnlyCoder => "the only coder who has rated answers",
                },
                scope(p)
            ),
        ],
        sections,
        colophon: format!(
            "Made by lacrima {}. Every number is the output of the same functions as `lacrima \
             analyze` and `lacrima agreement` on this project.",
            env!("CARGO_PKG_VERSION")
        ),
    }
}

fn scope(p: &Publication) -> String {
    match &p.question {
        Some(q) => format!("the answers to question {q}"),
        None => "the answers to all questions".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers as the command line's tables print them.

/// Fixed decimals, "-" when undefined.
fn fx(x: Option<f64>, decimals: usize) -> String {
    match finite(x) {
        Some(v) => format!("{v:.decimals$}"),
        None => "-".into(),
    }
}

/// A p-value: four decimals, or scientific notation below 0.0001.
fn fp(p: Option<f64>) -> String {
    match finite(p) {
        Some(v) if v != 0.0 && v < 1e-4 => format!("{v:.1e}"),
        Some(v) => format!("{v:.4}"),
        None => "-".into(),
    }
}

fn pct(s: Option<f64>) -> String {
    match finite(s) {
        Some(v) => format!("{:.1}%", 100.0 * v),
        None => "-".into(),
    }
}

fn count(n: impl Into<u64>) -> Cell {
    let n = n.into();
    Cell::num(n.to_string(), Some(n as f64))
}

fn stat(x: Option<f64>, decimals: usize) -> Cell {
    Cell::num(fx(x, decimals), x)
}

fn p_cell(p: Option<f64>) -> Cell {
    Cell::num(fp(p), p)
}

fn table(caption: impl Into<String>, header: &[&str], rows: Vec<Vec<Cell>>) -> Block {
    Block::Table(Table {
        caption: caption.into(),
        header: header.iter().map(|s| s.to_string()).collect(),
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// Sections

fn summary(p: &Publication) -> Section {
    let s = &p.summary;
    let rated: HashMap<&str, u64> = p
        .frequencies
        .questions
        .iter()
        .map(|q| (q.question.as_str(), q.answers_rated))
        .collect();
    // Surveys imported from a plain CSV have no labels: no empty column then.
    let labels = s
        .questions
        .iter()
        .any(|q| q.label.as_ref().is_some_and(|l| !l.trim().is_empty()));
    let questions = s
        .questions
        .iter()
        .map(|q| {
            let mut row = vec![Cell::text(&q.name)];
            if labels {
                row.push(Cell::text(q.label.clone().unwrap_or_default()));
            }
            row.extend([
                count(q.answered as u64),
                count(q.empty as u64),
                match rated.get(q.name.as_str()) {
                    Some(&n) => count(n),
                    None => Cell::num("-", None),
                },
            ]);
            row
        })
        .collect();
    let coders = s
        .coders
        .iter()
        .map(|c| {
            let mut role = Vec::new();
            if c.is_consensus {
                role.push("consensus");
            }
            if c.name == p.coder {
                role.push("used for frequencies, analyses and quotes");
            }
            vec![
                Cell::text(&c.name),
                count(c.answers_rated as u64),
                count(c.codings as u64),
                Cell::text(role.join("; ")),
            ]
        })
        .collect();
    let rated_header = format!("rated by {}", p.coder);
    Section {
        id: "summary",
        title: "The project".into(),
        blocks: vec![
            Block::Paragraph(format!(
                "{} respondents in {} wave(s) of import; {} respondents had at least one answer \
                 rated by {}.",
                s.respondents, s.waves, p.frequencies.respondents_rated, p.coder
            )),
            table(
                "Open-ended questions: answers given and empty (blank, n/a, - and the like)",
                &if labels {
                    vec!["question", "label", "answered", "empty", &rated_header]
                } else {
                    vec!["question", "answered", "empty", &rated_header]
                },
                questions,
            ),
            table(
                "Coders: answers rated (coded, or reviewed with no code applying) and codings",
                &["coder", "answers rated", "codings", "role"],
                coders,
            ),
        ],
    }
}

fn codebook(p: &Publication) -> Section {
    let with_examples = p.quotes.is_some();
    let entries = p
        .codebook
        .iter()
        .map(|c| {
            let mut fields = Vec::new();
            for (label, text) in [
                ("Definition", &c.description),
                ("Include", &c.inclusion),
                ("Exclude", &c.exclusion),
            ] {
                if !text.trim().is_empty() {
                    fields.push((label.to_string(), text.clone()));
                }
            }
            if with_examples && !c.example.trim().is_empty() {
                fields.push(("Example".to_string(), c.example.clone()));
            }
            Entry {
                level: c.level,
                name: c.name.clone(),
                color: safe_color(c.color.as_deref()),
                codable: c.codable,
                fields,
            }
        })
        .collect();
    let mut blocks = vec![Block::Codebook(entries)];
    if p.codebook.iter().any(|c| !c.codable) {
        blocks.push(Block::Note(
            "Codes marked as groups only gather the codes under them and are not applied to \
             answers themselves."
                .into(),
        ));
    }
    if !with_examples && p.codebook.iter().any(|c| !c.example.trim().is_empty()) {
        blocks.push(Block::Note(
            "The codebook's examples are left out, like the quotes: they are often taken from \
             the answers."
                .into(),
        ));
    }
    Section {
        id: "codebook",
        title: "Codebook".into(),
        blocks,
    }
}

fn frequencies(p: &Publication, color: &dyn Fn(&str) -> Option<String>) -> Section {
    let f = &p.frequencies;
    let mut blocks = vec![Block::Paragraph(format!(
        "How many of the {} respondents rated by {} have each code in any of their answers, \
         and, per question, how many of the answers rated have it. Percentages are of the \
         respondents or answers rated, not of all.",
        f.respondents_rated, p.coder
    ))];
    for w in &f.warnings {
        blocks.push(Block::Note(format!("Warning: {w}")));
    }
    blocks.push(Block::Heading(match &p.question {
        Some(q) => format!("Respondents, question {q}"),
        None => "Respondents, all questions".into(),
    }));
    let rows = f
        .codes
        .iter()
        .map(|c| {
            vec![
                Cell::text(&c.code),
                count(c.respondents),
                Cell::num(pct(c.respondents_share), c.respondents_share),
                count(c.answers),
            ]
        })
        .collect();
    let of_rated = format!("% of {} rated", f.respondents_rated);
    blocks.push(table(
        "Respondents with each code in any answer, and answers coded",
        &["code", "respondents", &of_rated, "answers"],
        rows,
    ));
    blocks.push(Block::Charts(vec![Chart::Bars(BarChart {
        title: format!(
            "Respondents coded, percent of the {} rated",
            f.respondents_rated
        ),
        bars: f
            .codes
            .iter()
            .map(|c| Bar {
                label: c.code.clone(),
                share: finite(c.respondents_share),
                value: format!("{} ({})", pct(c.respondents_share), c.respondents),
                color: color(&c.code),
            })
            .collect(),
    })]));
    // With one question the per-question table would repeat the one above (one answer per
    // respondent and question).
    if f.questions.len() > 1 {
        for (q, rated) in f.questions.iter().enumerate() {
            let label = p
                .questions
                .iter()
                .find(|x| x.name == rated.question)
                .and_then(|x| x.label.clone());
            blocks.push(Block::Heading(format!(
                "Answers, question {}",
                rated.question
            )));
            if let Some(l) = label.filter(|l| !l.trim().is_empty()) {
                blocks.push(Block::Paragraph(l));
            }
            let of_rated = format!("% of {} rated", rated.answers_rated);
            let rows = f
                .codes
                .iter()
                .map(|c| {
                    let b = &c.by_question[q];
                    vec![
                        Cell::text(&c.code),
                        count(b.answers),
                        Cell::num(pct(b.share), b.share),
                    ]
                })
                .collect();
            blocks.push(table(
                format!("Answers to {} with each code", rated.question),
                &["code", "answers", &of_rated],
                rows,
            ));
            blocks.push(Block::Charts(vec![Chart::Bars(BarChart {
                title: format!(
                    "Answers to {} coded, percent of the {} rated",
                    rated.question, rated.answers_rated
                ),
                bars: f
                    .codes
                    .iter()
                    .map(|c| {
                        let b = &c.by_question[q];
                        Bar {
                            label: c.code.clone(),
                            share: finite(b.share),
                            value: format!("{} ({})", pct(b.share), b.answers),
                            color: color(&c.code),
                        }
                    })
                    .collect(),
            })]));
        }
    }
    Section {
        id: "frequencies",
        title: "Code frequencies".into(),
        blocks,
    }
}

fn verdict(alpha: Option<f64>, reason: Option<&str>) -> String {
    match (alpha, reason) {
        (Some(a), _) => Reliability::of(a).as_str().to_string(),
        (None, Some(r)) => format!("- ({r})"),
        (None, None) => "-".into(),
    }
}

fn interval_cell(low: Option<Option<f64>>, high: Option<Option<f64>>) -> Cell {
    match (low.flatten(), high.flatten()) {
        (Some(l), Some(h)) => Cell::num(format!("[{l:.3}, {h:.3}]"), None),
        _ => Cell::num("-", None),
    }
}

fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn agreement(p: &Publication) -> Section {
    let blocks = match &p.agreement {
        AgreementSection::NotComputed(why) => vec![Block::Paragraph(why.clone())],
        AgreementSection::Computed {
            agreement,
            warnings,
        } => agreement_blocks(agreement, warnings),
    };
    Section {
        id: "agreement",
        title: "Intercoder agreement".into(),
        blocks,
    }
}

fn agreement_blocks(a: &Agreement, warnings: &[String]) -> Vec<Block> {
    let r = &a.report;
    let two = r.coders.len() == 2;
    let ci = r.bootstrap.is_some();
    let counts: Vec<String> = r
        .coder_counts
        .0
        .iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    let mut blocks = vec![Block::Paragraph(format!(
        "Intercoder agreement of {} on {} answers ({}). Answers rated: {}.",
        and_list(&r.coders),
        r.units,
        match &r.question {
            Some(q) => format!("question {q}"),
            None => "all questions".into(),
        },
        counts.join(", ")
    ))];
    for w in warnings {
        blocks.push(Block::Note(format!("Warning: {w}")));
    }
    let mut header = vec!["code", "pairable", "prevalence", "agreement", "alpha"];
    if ci {
        header.push("alpha 95% CI");
    }
    if two {
        header.extend(["Cohen", "Scott"]);
    }
    header.extend(["Fleiss", "AC1", "BP", "reliability"]);
    let rows = r
        .codes
        .iter()
        .map(|c: &CodeRow| {
            let mut row = vec![
                Cell::text(&c.code),
                count(c.units_pairable),
                stat(c.prevalence, 3),
                stat(c.percent_agreement, 3),
                stat(c.krippendorff_alpha, 3),
            ];
            if ci {
                row.push(interval_cell(
                    c.krippendorff_alpha_ci_low,
                    c.krippendorff_alpha_ci_high,
                ));
            }
            if two {
                row.extend([stat(c.cohen_kappa, 3), stat(c.scott_pi, 3)]);
            }
            row.extend([
                stat(c.fleiss_kappa, 3),
                stat(c.gwet_ac1, 3),
                stat(c.brennan_prediger, 3),
                Cell::text(verdict(c.krippendorff_alpha, c.undefined_reason.as_deref())),
            ]);
            row
        })
        .collect();
    blocks.push(table("Agreement per code", &header, rows));

    let o = &r.overall;
    let reason = o.undefined_reason.as_deref();
    let mut header = vec!["measure", "value"];
    if ci {
        header.push("95% CI");
    }
    header.push("reliability");
    let overall_row = |name: &str, v: Option<f64>, low, high, judged: bool| {
        let mut row = vec![Cell::text(name), stat(v, 3)];
        if ci {
            row.push(interval_cell(low, high));
        }
        row.push(Cell::text(if judged {
            verdict(v, reason)
        } else {
            String::new()
        }));
        row
    };
    blocks.push(table(
        format!("Overall, over all {} codable codes", a.codable_codes),
        &header,
        vec![
            overall_row(
                "pooled alpha (every answer-code decision)",
                o.krippendorff_alpha_pooled,
                o.krippendorff_alpha_pooled_ci_low,
                o.krippendorff_alpha_pooled_ci_high,
                true,
            ),
            overall_row(
                "MASI alpha (each coder's set of codes per answer)",
                o.krippendorff_alpha_masi,
                o.krippendorff_alpha_masi_ci_low,
                o.krippendorff_alpha_masi_ci_high,
                true,
            ),
            overall_row(
                "pooled percent agreement",
                o.percent_agreement_pooled,
                None,
                None,
                false,
            ),
        ],
    ));
    let mut notes = vec![
        format!("The unit: {UNIT_NOTE}."),
        "pairable: answers rated by two or more of the coders; prevalence: the share of \
         ratings that apply the code; agreement: pairwise percent agreement; alpha: \
         Krippendorff's alpha (nominal); Cohen: Cohen's kappa and Scott: Scott's pi (two coders, \
         answers both rated); Fleiss: Fleiss' kappa in Gwet's form for missing ratings; AC1: \
         Gwet's AC1; BP: Brennan and Prediger's coefficient. A dash is undefined, with the reason."
            .to_string(),
        format!(
            "Reliability follows Krippendorff's guidance for alpha: {:.3} or more reliable; \
             {:.3} to {:.3} tentative (draw tentative conclusions only); below {:.3} unreliable.",
            Reliability::RELIABLE_FROM,
            Reliability::TENTATIVE_FROM,
            Reliability::RELIABLE_FROM,
            Reliability::TENTATIVE_FROM
        ),
    ];
    if let Some(b) = &r.bootstrap {
        notes.push(format!(
            "Intervals: {:.0}% percentile bootstrap, {} resamples of the answers, seed {} \
             (the same seed gives the same intervals).",
            100.0 * b.level,
            b.resamples,
            b.seed
        ));
    }
    blocks.extend(notes.into_iter().map(Block::Note));
    blocks
}

fn variables(p: &Publication, color: &dyn Fn(&str) -> Option<String>) -> Section {
    let mut blocks = vec![Block::Paragraph(format!(
        "Each code against the chosen variables, respondent by respondent: a respondent counts \
         as coded when {} applied the code to any of their answers{}, among the respondents with \
         a rated answer. Benjamini-Hochberg q-values adjust the p-values across codes, one \
         variable at a time.",
        p.coder,
        match &p.question {
            Some(q) => format!(" to question {q}"),
            None => String::new(),
        }
    ))];
    for v in &p.variables {
        match v {
            VariableAnalysis::Categorical(r) => categorical(&mut blocks, r, color),
            VariableAnalysis::Numeric { report, spread } => {
                numeric(&mut blocks, report, spread, color)
            }
        }
    }
    Section {
        id: "variables",
        title: "Codes and variables".into(),
        blocks,
    }
}

fn rated_line<T>(r: &Report<T>, missing: Option<u64>) -> String {
    format!(
        "{} respondents rated{}.",
        r.respondents_rated,
        match missing {
            Some(m) if m > 0 => format!(", {m} of them without a value of {} (left out)", r.by),
            _ => String::new(),
        }
    )
}

fn undefined_notes<'a>(
    blocks: &mut Vec<Block>,
    codes: impl Iterator<Item = (&'a String, &'a Option<String>)>,
) {
    let notes: Vec<String> = codes
        .filter_map(|(c, r)| r.as_ref().map(|r| format!("{c}: {r}")))
        .collect();
    if !notes.is_empty() {
        blocks.push(Block::Note(format!(
            "Not computed (-): {}.",
            notes.join("; ")
        )));
    }
}

fn categorical(
    blocks: &mut Vec<Block>,
    r: &Report<CategoricalCode>,
    color: &dyn Fn(&str) -> Option<String>,
) {
    blocks.push(Block::Heading(format!("Codes by {} (categorical)", r.by)));
    blocks.push(Block::Paragraph(rated_line(
        r,
        r.codes.first().map(|c| c.missing),
    )));
    for w in &r.warnings {
        blocks.push(Block::Note(format!("Warning: {w}")));
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
        ["chi2", "df", "p", "Cramér's V", "Fisher p", "q (BH)"]
            .iter()
            .map(|s| s.to_string()),
    );
    let mut small = false;
    let rows = r
        .codes
        .iter()
        .map(|c| {
            let mut row = vec![Cell::text(&c.code)];
            for l in levels {
                row.push(match c.levels.iter().position(|x| x == l) {
                    Some(i) => {
                        let s = share(c.coded[i], c.rated[i]);
                        Cell::num(format!("{} ({})", pct(s), c.coded[i]), s)
                    }
                    None => Cell::num("-", None),
                });
            }
            let flag = c.min_expected.is_some_and(|m| m < SMALL_EXPECTED);
            small |= flag;
            row.push(stat(c.chi2, 2));
            row.push(match c.df {
                Some(d) => count(d as u64),
                None => Cell::num("-", None),
            });
            row.push(Cell::num(
                format!("{}{}", fp(c.p), if flag { "*" } else { "" }),
                c.p,
            ));
            row.push(stat(c.cramers_v, 3));
            row.push(p_cell(c.fisher_p));
            row.push(p_cell(c.q_bh));
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    blocks.push(table(
        format!(
            "Percent of rated respondents coded per level of {} (count), Pearson's chi-square, \
             Cramér's V, Fisher's exact p (two levels) and q-values",
            r.by
        ),
        &header,
        rows,
    ));
    if small {
        blocks.push(Block::Note(
            "* Expected counts below 5: the chi-square p-value is approximate.".into(),
        ));
    }
    undefined_notes(
        blocks,
        r.codes.iter().map(|c| (&c.code, &c.undefined_reason)),
    );
    blocks.push(Block::Charts(
        r.codes
            .iter()
            .map(|c| {
                Chart::Stacked(StackedChart {
                    title: format!("{} by {}: respondents coded per level", c.code, r.by),
                    color: color(&c.code),
                    rows: c
                        .levels
                        .iter()
                        .zip(&c.rated)
                        .zip(&c.coded)
                        .map(|((l, &rated), &coded)| StackedRow {
                            label: l.clone(),
                            coded,
                            total: rated,
                        })
                        .collect(),
                })
            })
            .collect(),
    ));
}

fn numeric(
    blocks: &mut Vec<Block>,
    r: &Report<NumericCode>,
    spread: &[[Option<crate::analysis::FiveNumbers>; 2]],
    color: &dyn Fn(&str) -> Option<String>,
) {
    blocks.push(Block::Heading(format!("{} by code (numeric)", r.by)));
    blocks.push(Block::Paragraph(rated_line(
        r,
        r.codes.first().map(|c| c.missing),
    )));
    for w in &r.warnings {
        blocks.push(Block::Note(format!("Warning: {w}")));
    }
    let mean_sd = |m: Option<f64>, s: Option<f64>| {
        Cell::num(format!("{} ({})", fx(m, 2), fx(s, 2)), finite(m))
    };
    let median = |f: &Option<crate::analysis::FiveNumbers>| match f {
        Some(f) => Cell::num(
            format!("{:.2} [{:.2}, {:.2}]", f.median, f.q1, f.q3),
            Some(f.median),
        ),
        None => Cell::num("-", None),
    };
    let rows = r
        .codes
        .iter()
        .zip(spread)
        .map(|(c, [with, without])| {
            vec![
                Cell::text(&c.code),
                count(c.n_coded as u64),
                mean_sd(c.mean_coded, c.sd_coded),
                median(with),
                count(c.n_not as u64),
                mean_sd(c.mean_not, c.sd_not),
                median(without),
                stat(c.welch_t, 2),
                stat(c.welch_df, 1),
                p_cell(c.welch_p),
                stat(c.mann_whitney_u, 1),
                p_cell(c.mann_whitney_p),
                stat(c.point_biserial_r, 3),
                p_cell(c.q_bh),
            ]
        })
        .collect();
    blocks.push(table(
        format!(
            "{} among respondents coded and not coded: mean (SD), median [quartiles], Welch's t \
             (coded minus not coded), Mann-Whitney U of the coded, point-biserial r and q-values",
            r.by
        ),
        &[
            "code",
            "n coded",
            "mean (SD) coded",
            "median [Q1, Q3] coded",
            "n not",
            "mean (SD) not",
            "median [Q1, Q3] not",
            "Welch t",
            "df",
            "p",
            "U",
            "p (U)",
            "r pb",
            "q (BH)",
        ],
        rows,
    ));
    undefined_notes(
        blocks,
        r.codes.iter().map(|c| (&c.code, &c.undefined_reason)),
    );
    blocks.push(Block::Note(
        "Box plots: the box spans the first to the third quartile (R's default quantiles), the \
         line inside it is the median, the whiskers reach the minimum and the maximum."
            .into(),
    ));
    blocks.push(Block::Charts(
        r.codes
            .iter()
            .zip(spread)
            .map(|(c, [with, without])| {
                Chart::Boxes(BoxChart {
                    title: format!("{} of respondents coded {} and not", r.by, c.code),
                    axis: r.by.clone(),
                    color: color(&c.code),
                    groups: vec![
                        BoxGroup {
                            label: "coded".into(),
                            five: *with,
                        },
                        BoxGroup {
                            label: "not coded".into(),
                            five: *without,
                        },
                    ],
                })
            })
            .collect(),
    ));
}

fn quotes(p: &Publication) -> Section {
    let mut blocks = Vec::new();
    match &p.quotes {
        None => blocks.push(Block::Paragraph(
            "Quotes are left out of this report (lacrima report --no-quotes), and with them \
             every answer's text."
                .into(),
        )),
        Some(codes) => {
            blocks.push(Block::Paragraph(format!(
                "For each code, the first {} segments {} coded with it, in survey order: the \
                 same project always gives the same quotes.",
                p.quotes_per_code, p.coder
            )));
            for c in codes {
                blocks.push(Block::Heading(c.code.clone()));
                if c.quotes.is_empty() {
                    blocks.push(Block::Paragraph(format!(
                        "{} applied this code to no answer{}.",
                        p.coder,
                        match &p.question {
                            Some(q) => format!(" of question {q}"),
                            None => String::new(),
                        }
                    )));
                } else {
                    blocks.push(Block::Quotes(
                        c.quotes
                            .iter()
                            .map(|q| QuoteBlock {
                                text: q.text.clone(),
                                source: format!("respondent {}, {}", q.respondent, q.question),
                            })
                            .collect(),
                    ));
                }
            }
        }
    }
    Section {
        id: "quotes",
        title: "Example quotes".into(),
        blocks,
    }
}
