//! `lacrima consensus`: the consensus coding, pre-filled where the coders agree and copied where
//! one coder alone coded an answer, and a report of what is left to review.

use super::agreement::and_list;
use super::table;
use super::{ReportFormat, json, stdout_line};
use crate::error::{Error, Result};
use crate::export::{Output, csv_err};
use crate::report::{coder_list, named_coders, question_id};
use crate::store::{AgreedSummary, RatingCoder, Store};
use clap::Args;
use serde::Serialize;
use std::path::Path;

#[derive(Args, Debug)]
pub struct ConsensusArgs {
    /// The coders whose codings are compared (comma list, or repeat the option).
    #[arg(long, required = true)]
    pub from: Vec<String>,
    /// Pre-fill the consensus wherever every coder named rated the answer and applied a code.
    /// Without --agreed or --single, only report what is settled and what is left to review.
    #[arg(long)]
    pub agreed: bool,
    /// Copy into the consensus every answer that only one of the coders named rated (the
    /// answers `lacrima assign` gave to one coder): that coder's codings and memos, and the
    /// consensus review mark, also where the coder applied no code. Answers the consensus has
    /// already decided, coded or reviewed are left as they are. With --agreed, the consensus
    /// ends up holding the coding of every answer, once the disagreements are settled.
    #[arg(long)]
    pub single: bool,
    /// The consensus coder (created and marked as consensus on first use).
    #[arg(long = "as", default_value = "consensus")]
    pub as_name: String,
    /// Only the answers to this question (default: all questions).
    #[arg(long)]
    pub question: Option<String>,
    /// Who decides, recorded with every decision.
    #[arg(long, env = "LACRIMA_CODER")]
    pub coder: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
}

/// Progress of a consensus: disagreements settled and open, per code and in all.
#[derive(Debug, Serialize)]
struct ConsensusStatus {
    consensus: String,
    from: Vec<String>,
    question: Option<String>,
    disagreements: u64,
    settled: u64,
    open: u64,
    answers_with_open: u64,
    /// Answers only one of the coders rated that are not in the consensus yet (`--single`
    /// copies them).
    single_pending: u64,
    codes: Vec<CodeStatus>,
}

#[derive(Debug, Serialize)]
struct CodeStatus {
    code: String,
    disagreements: u64,
    settled: u64,
    open: u64,
}

pub fn consensus(project: &Path, a: &ConsensusArgs) -> Result<()> {
    let mut store = Store::open(project)?;
    let question = question_id(&store, a.question.as_deref())?;
    let all = store.rating_coders(question)?;
    let from = named_coders(&a.from, &all)?;
    if from.len() < 2 {
        return Err(Error::input(format!(
            "a consensus compares at least two coders (--from A,B); the coders are: {}",
            coder_list(&all)
        )));
    }
    if let Some((_, n)) = from
        .iter()
        .find(|(id, _)| all.iter().any(|c| c.id == *id && c.is_consensus))
    {
        return Err(Error::input(format!(
            "{n:?} is a consensus coder; compare the coders whose work it settles"
        )));
    }
    if from.iter().any(|(_, n)| n == &a.as_name) {
        return Err(Error::input(format!(
            "{:?} is one of the coders compared; name the consensus coder with --as",
            a.as_name
        )));
    }
    if !a.agreed && !a.single {
        return status(&store, &all, &from, question, a);
    }
    let decided_by = a.coder.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let (id, _) = store.consensus_coder(&a.as_name)?;
    let mut s = store.prefill_consensus(
        (id, &a.as_name),
        &from,
        question,
        decided_by,
        a.agreed,
        a.single,
    )?;
    s.question = a.question.clone();
    match a.format {
        ReportFormat::Json => stdout_line(&json(&s)?),
        ReportFormat::Csv => one_row_csv(&[
            ("consensus", s.consensus.clone()),
            ("from", s.from.join(";")),
            ("question", s.question.clone().unwrap_or_default()),
            ("answers_compared", s.answers_compared.to_string()),
            ("answers_not_compared", s.answers_not_compared.to_string()),
            ("answers_settled", s.answers_settled.to_string()),
            ("answers_prefilled", s.answers_prefilled.to_string()),
            ("codings_added", s.codings_added.to_string()),
            ("decisions_kept", s.decisions_kept.to_string()),
            ("answers_kept", s.answers_kept.to_string()),
            ("disagreements", s.disagreements.to_string()),
            (
                "answers_with_disagreements",
                s.answers_with_disagreements.to_string(),
            ),
            ("answers_rated", s.answers_rated.to_string()),
            ("answers_single", s.answers_single.to_string()),
            ("single_copied", s.single_copied.to_string()),
            ("single_codings_added", s.single_codings_added.to_string()),
            (
                "single_copied_from",
                s.single_copied_from
                    .iter()
                    .map(|c| format!("{}={}", c.coder, c.answers))
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            ("single_kept", s.single_kept.to_string()),
            ("single_pending", s.single_pending.to_string()),
            ("answers_to_settle", s.answers_to_settle.to_string()),
        ]),
        ReportFormat::Table => stdout_line(&summary_text(&s, a.agreed, a.single)),
    }
}

fn one_row_csv(fields: &[(&str, String)]) -> Result<()> {
    let mut out = Output::open(None)?;
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(fields.iter().map(|f| f.0))
            .map_err(csv_err)?;
        w.write_record(fields.iter().map(|f| f.1.as_str()))
            .map_err(csv_err)?;
        w.flush().map_err(crate::export::write_err)?;
    }
    out.finish()
}

/// What is settled and what is left, per code, without writing anything (not even the
/// consensus coder).
fn status(
    store: &Store,
    all: &[RatingCoder],
    from: &[(i64, String)],
    question: Option<i64>,
    a: &ConsensusArgs,
) -> Result<()> {
    let existing = all.iter().find(|c| c.name == a.as_name);
    if let Some(c) = existing.filter(|c| !c.is_consensus) {
        return Err(Error::input(format!(
            "{:?} is an ordinary coder, not a consensus coder; name the consensus coder with --as",
            c.name
        )));
    }
    // A consensus coder that does not exist yet has decided nothing: id 0 matches no row.
    let index = store.disagreement_index(existing.map_or(0, |c| c.id), from, question)?;
    let names: std::collections::HashMap<i64, String> =
        store.codes()?.into_iter().map(|c| (c.id, c.name)).collect();
    let mut open_answers: Vec<i64> = index
        .queues
        .iter()
        .flatten()
        .filter(|q| !q.settled)
        .map(|q| q.response_id)
        .collect();
    open_answers.sort_unstable();
    open_answers.dedup();
    let codes: Vec<CodeStatus> = index
        .code_ids
        .iter()
        .zip(&index.queues)
        .map(|(c, q)| {
            let settled = q.iter().filter(|i| i.settled).count() as u64;
            CodeStatus {
                code: names.get(c).cloned().unwrap_or_default(),
                disagreements: q.len() as u64,
                settled,
                open: q.len() as u64 - settled,
            }
        })
        .collect();
    let (settled, total) = index.progress();
    let single_pending =
        store.single_coded_pending(existing.map_or(0, |c| c.id), from, question)?;
    let st = ConsensusStatus {
        consensus: a.as_name.clone(),
        from: from.iter().map(|f| f.1.clone()).collect(),
        question: a.question.clone(),
        disagreements: total as u64,
        settled: settled as u64,
        open: (total - settled) as u64,
        answers_with_open: open_answers.len() as u64,
        single_pending,
        codes,
    };
    match a.format {
        ReportFormat::Json => stdout_line(&json(&st)?),
        ReportFormat::Csv => {
            let mut out = Output::open(None)?;
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(["code", "disagreements", "settled", "open"])
                    .map_err(csv_err)?;
                for c in &st.codes {
                    w.write_record([
                        c.code.clone(),
                        c.disagreements.to_string(),
                        c.settled.to_string(),
                        c.open.to_string(),
                    ])
                    .map_err(csv_err)?;
                }
                w.write_record([
                    "(all)".to_string(),
                    st.disagreements.to_string(),
                    st.settled.to_string(),
                    st.open.to_string(),
                ])
                .map_err(csv_err)?;
                w.flush().map_err(crate::export::write_err)?;
            }
            out.finish()
        }
        ReportFormat::Table => {
            let mut s = format!(
                "Consensus {:?} from {}: {} of {} disagreements settled; {} open on {} answers.\n\n",
                st.consensus,
                and_list(&st.from),
                st.settled,
                st.disagreements,
                st.open,
                st.answers_with_open
            );
            let rows: Vec<Vec<String>> = st
                .codes
                .iter()
                .filter(|c| c.disagreements > 0)
                .map(|c| {
                    vec![
                        c.code.clone(),
                        c.disagreements.to_string(),
                        c.settled.to_string(),
                        c.open.to_string(),
                    ]
                })
                .collect();
            s.push_str(&table::render(
                &["code", "disagreements", "settled", "open"],
                &rows,
            ));
            if st.open > 0 {
                s.push_str(&format!(
                    "\nSettle them with: lacrima review --coders {} --coder NAME\n",
                    st.from.join(",")
                ));
            }
            if st.single_pending > 0 {
                s.push_str(&format!(
                    "{}{} rated by one of them only {} not in the consensus yet; copy them \
                     with: lacrima consensus --from {} --single\n",
                    if st.open > 0 { "" } else { "\n" },
                    answers(st.single_pending),
                    if st.single_pending == 1 { "is" } else { "are" },
                    st.from.join(",")
                ));
            }
            stdout_line(&s)
        }
    }
}

/// "1 answer", "2 answers".
fn answers(n: u64) -> String {
    format!("{n} answer{}", if n == 1 { "" } else { "s" })
}

/// "4 answers rated by one coder only" and the command that copies them.
fn single_hint(s: &AgreedSummary) -> String {
    format!(
        "copy the {} rated by one coder only with: lacrima consensus --from {} --single",
        answers(s.single_pending),
        s.from.join(",")
    )
}

fn summary_text(s: &AgreedSummary, agreed: bool, single: bool) -> String {
    let from = and_list(&s.from);
    let mut out = format!(
        "Consensus {:?} from {from}: {} answers rated by {} were compared{}{}.\n",
        s.consensus,
        s.answers_compared,
        if s.from.len() > 2 {
            "two or more of them (each among those who rated it)"
        } else {
            "all of them"
        },
        match &s.question {
            Some(q) => format!(" (question {q})"),
            None => String::new(),
        },
        if s.answers_single > 0 {
            format!(", {} rated by one of them only", s.answers_single)
        } else {
            String::new()
        }
    );
    if agreed {
        out.push_str(&format!(
            "  settled:   {} answers have no disagreement left; this run added {} agreed codings \
             and wrote to {} answers\n",
            s.answers_settled, s.codings_added, s.answers_prefilled
        ));
        if s.decisions_kept > 0 || s.answers_kept > 0 {
            out.push_str(&format!(
                "  kept:      {} earlier decisions and {} edited by hand, left as they were\n",
                s.decisions_kept,
                answers(s.answers_kept)
            ));
        }
    }
    if single {
        let by_coder: Vec<String> = s
            .single_copied_from
            .iter()
            .filter(|c| c.answers > 0)
            .map(|c| format!("{} from {}", c.answers, c.coder))
            .collect();
        out.push_str(&format!(
            "  single:    copied {} rated by one coder only{} ({} codings)",
            answers(s.single_copied),
            if by_coder.is_empty() {
                String::new()
            } else {
                format!(": {}", and_list(&by_coder))
            },
            s.single_codings_added
        ));
        if s.single_kept > 0 {
            out.push_str(&format!(
                "; {} already in the consensus, left as {}",
                s.single_kept,
                if s.single_kept == 1 {
                    "it was"
                } else {
                    "they were"
                }
            ));
        }
        out.push('\n');
    }
    let mut hints = Vec::new();
    if s.disagreements > 0 {
        hints.push(format!(
            "settle them with: lacrima review --coders {} --coder NAME",
            s.from.join(",")
        ));
    }
    if s.single_pending > 0 {
        hints.push(single_hint(s));
    }
    out.push_str(&format!(
        "  remaining: {} disagreements on {}{}\n",
        s.disagreements,
        answers(s.answers_with_disagreements),
        if hints.is_empty() {
            String::new()
        } else {
            format!(" ({})", hints.join("; "))
        }
    ));
    if s.answers_to_settle == 0 && s.answers_rated > 0 {
        out.push_str(&format!(
            "  complete:  the consensus holds the final coding of all {} rated by any of them\n",
            answers(s.answers_rated)
        ));
    }
    out
}
