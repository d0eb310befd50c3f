//! `lacrima assign`: the work plan, with a reproducible reliability sample that every coder codes
//! and an even split of the rest.

use super::agreement::and_list;
use super::table;
use super::{ReportFormat, json, stdout_line, warn};
use crate::error::Result;
use crate::export::{Output, csv_err};
use crate::report::{coder_names, question_id};
use crate::store::{PlanRequest, PlanSummary, Store};
use clap::Args;
use std::path::Path;

#[derive(Args, Debug)]
pub struct AssignArgs {
    /// The coders who share the work (comma list, or repeat the option); created on first use.
    #[arg(long, required = true)]
    pub coders: Vec<String>,
    /// Share of the offered answers that every coder codes (the reliability sample): 20% or 0.2.
    #[arg(long, value_parser = parse_share)]
    pub overlap: f64,
    /// Seed of the random draw: the same seed gives the same plan.
    #[arg(long)]
    pub seed: u64,
    /// Only the answers to this question (default: all questions).
    #[arg(long)]
    pub question: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
}

/// "20%" or "0.2": a share between 0 and 1.
fn parse_share(s: &str) -> std::result::Result<f64, String> {
    let t = s.trim();
    let (number, percent) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let v: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a share: write 20% or 0.2"))?;
    let share = if percent { v / 100.0 } else { v };
    if !share.is_finite() || !(0.0..=1.0).contains(&share) {
        return Err(if !percent && v > 1.0 {
            format!("{s:?} is more than 1: for a percentage write {s}%")
        } else {
            format!("{s:?} is not between 0% and 100%")
        });
    }
    Ok(share)
}

pub fn assign(project: &Path, a: &AssignArgs) -> Result<()> {
    let mut store = Store::open(project)?;
    let question = question_id(&store, a.question.as_deref())?;
    let existing: Vec<String> = store.coder_names()?.into_iter().map(|(n, _)| n).collect();
    let coders = coder_names(&a.coders, &existing)?;
    let summary = store.make_assignment_plan(&PlanRequest {
        coders,
        question_id: question,
        overlap: a.overlap,
        seed: a.seed,
    })?;
    if summary.answers == 0 {
        warn("there are no offered answers to assign (import a survey with open answers first)");
    }
    match a.format {
        ReportFormat::Json => stdout_line(&json(&summary)?),
        ReportFormat::Csv => {
            let mut out = Output::open(None)?;
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(["coder", "assigned", "overlap", "done", "to_do"])
                    .map_err(csv_err)?;
                for p in &summary.progress {
                    w.write_record([
                        p.coder.clone(),
                        p.assigned.to_string(),
                        p.overlap.to_string(),
                        p.done.to_string(),
                        p.to_do.to_string(),
                    ])
                    .map_err(csv_err)?;
                }
                w.flush().map_err(crate::export::write_err)?;
            }
            out.finish()
        }
        ReportFormat::Table => stdout_line(&plan_table(&summary)),
    }
}

fn plan_table(p: &PlanSummary) -> String {
    let mut s = format!(
        "Plan for {} offered answers ({}), seed {}: {} answers ({:.0}%) go to every coder as the \
         reliability sample; the other {} are split between {}.{}\n\n",
        p.answers,
        match &p.question {
            Some(q) => format!("question {q}"),
            None => "all questions".into(),
        },
        p.seed,
        p.overlap_answers,
        p.overlap * 100.0,
        p.answers - p.overlap_answers,
        and_list(&p.coders),
        if p.changed {
            ""
        } else {
            " This is the plan already in force."
        }
    );
    let rows: Vec<Vec<String>> = p
        .progress
        .iter()
        .map(|c| {
            vec![
                c.coder.clone(),
                c.assigned.to_string(),
                c.overlap.to_string(),
                c.done.to_string(),
                c.to_do.to_string(),
            ]
        })
        .collect();
    s.push_str(&table::render(
        &["coder", "assigned", "overlap", "already done", "to do"],
        &rows,
    ));
    s.push_str(
        "\nAnswers a coder had already coded stay with that coder. Run the same command again \
         to get the same plan.\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_percentages_or_fractions() {
        assert_eq!(parse_share("20%"), Ok(0.2));
        assert_eq!(parse_share("0.2"), Ok(0.2));
        assert_eq!(parse_share("100%"), Ok(1.0));
        assert!(parse_share("20").unwrap_err().contains("20%"));
        assert!(parse_share("-5%").is_err());
        assert!(parse_share("abc").is_err());
    }
}
