//! `lacrima autocode`: codes the obvious cases by pattern (a regex for one code, or a dictionary
//! of code,pattern lines), first as a dry run that counts and shows samples, then for real as one
//! undoable event under a coder of its own (default `autocode`), so that its agreement with the
//! human coders can be measured like anyone's.

use super::{SummaryFormat, json, stdout_line, table};
use crate::autocode::{Marking, PatternOptions, Rule, in_context, read_dictionary};
use crate::error::{Error, Result};
use crate::report::question_id;
use crate::store::{CodeRecord, FoundCoding, Store};
use clap::Args;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct AutocodeArgs {
    /// The code to apply where --regex matches.
    #[arg(long, requires = "regex")]
    pub code: Option<String>,
    /// A regular expression (Rust regex syntax; case is ignored unless --case-sensitive).
    #[arg(long, conflicts_with = "words", requires = "code")]
    pub regex: Option<String>,
    /// A dictionary: a CSV of code,pattern lines, several codes at once.
    #[arg(long, required_unless_present = "regex")]
    pub words: Option<PathBuf>,
    /// Only this question's answers (default: every question).
    #[arg(long)]
    pub question: Option<String>,
    /// The coder the codings are written under.
    #[arg(long, default_value = "autocode")]
    pub coder: String,
    /// Match whole words only.
    #[arg(long)]
    pub whole_word: bool,
    #[arg(long)]
    pub case_sensitive: bool,
    /// Code the whole answer where a pattern matches, instead of the matched words.
    #[arg(long)]
    pub whole_answer: bool,
    /// Count and show samples; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How many sample matches to show per code in a dry run.
    #[arg(long, default_value_t = 5)]
    pub sample: usize,
    #[arg(long, value_enum, default_value = "table")]
    pub format: SummaryFormat,
}

#[derive(Debug, Serialize)]
struct Sample {
    respondent: String,
    question: String,
    /// The first match, in code points of the answer.
    start: usize,
    end: usize,
    /// The text around the first match with the match between [[ and ]].
    context: String,
}

#[derive(Debug, Serialize)]
struct CodeResult {
    code: String,
    patterns: Vec<String>,
    answers_matched: u64,
    matches: u64,
    sample: Vec<Sample>,
}

#[derive(Debug, Serialize)]
struct DryRun {
    coder: String,
    question: Option<String>,
    answers_in_scope: u64,
    codes: Vec<CodeResult>,
}

/// The rules, each with the id of the code it applies.
fn rules(store: &Store, a: &AutocodeArgs) -> Result<Vec<(Rule, i64)>> {
    let opts = PatternOptions {
        case_sensitive: a.case_sensitive,
        whole_word: a.whole_word,
    };
    let rules = match (&a.regex, &a.code, &a.words) {
        (Some(p), Some(code), _) => vec![Rule::new(code, vec![p.clone()], opts, "--regex")?],
        (_, _, Some(file)) => {
            crate::store::refuse_project_path(file, "the dictionary")?;
            let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
            read_dictionary(&bytes, &file.display().to_string(), opts)?
        }
        _ => {
            return Err(Error::input(
                "give --code CODE --regex PATTERN, or --words FILE (code,pattern lines)",
            ));
        }
    };
    let codes = store.codes()?;
    rules
        .into_iter()
        .map(|r| {
            let id = code_id(&codes, &r.code)?;
            Ok((r, id))
        })
        .collect()
}

fn code_id(codes: &[CodeRecord], name: &str) -> Result<i64> {
    let codable = || {
        codes
            .iter()
            .filter(|c| c.codable)
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match codes.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
        Some(c) if c.codable => Ok(c.id),
        Some(c) => Err(Error::input(format!(
            "{:?} only groups other codes; auto-code with one of the codable codes: {}",
            c.name,
            codable()
        ))),
        None => Err(Error::input(format!(
            "no code called {name:?} in the codebook; the codable codes are: {}",
            codable()
        ))),
    }
}

/// The text around a span, with the span marked, on one line.
fn context(text: &str, span: (usize, usize)) -> String {
    in_context(
        text,
        span,
        Marking {
            before: 30,
            after: 30,
            open: "[[",
            close: "]]",
            ellipsis_after: true,
        },
    )
}

pub(super) fn autocode(project: &Path, a: &AutocodeArgs) -> Result<()> {
    let mut store = Store::open(project)?;
    let question = question_id(&store, a.question.as_deref())?;
    let rules = rules(&store, a)?;
    let mut results: Vec<CodeResult> = rules
        .iter()
        .map(|(r, _)| CodeResult {
            code: r.code.clone(),
            patterns: r.patterns.clone(),
            answers_matched: 0,
            matches: 0,
            sample: Vec::new(),
        })
        .collect();
    let mut found: Vec<FoundCoding> = Vec::new();
    let mut in_scope = 0u64;
    let dry_run = a.dry_run;
    // Samples are named after the scan, which reads only the answers' texts.
    let mut samples: Vec<(usize, i64, Sample)> = Vec::new();
    store.for_each_answer_text(question, false, &mut |id, text| {
        in_scope += 1;
        for (k, ((rule, code_id), result)) in rules.iter().zip(results.iter_mut()).enumerate() {
            if !rule.is_match(text) {
                continue;
            }
            let spans = rule.spans(text);
            if spans.is_empty() {
                continue;
            }
            result.answers_matched += 1;
            result.matches += spans.len() as u64;
            if dry_run {
                if (result.answers_matched as usize) <= a.sample {
                    samples.push((
                        k,
                        id,
                        Sample {
                            respondent: String::new(),
                            question: String::new(),
                            start: spans[0].0,
                            end: spans[0].1,
                            context: context(text, spans[0]),
                        },
                    ));
                }
            } else if a.whole_answer {
                found.push(FoundCoding {
                    response_id: id,
                    code_id: *code_id,
                    span: None,
                });
            } else {
                found.extend(spans.into_iter().map(|s| FoundCoding {
                    response_id: id,
                    code_id: *code_id,
                    span: Some(s),
                }));
            }
        }
        Ok(true)
    })?;
    for (k, id, mut sample) in samples {
        (sample.respondent, sample.question) = store.answer_names(id)?;
        results[k].sample.push(sample);
    }
    let scope = match &a.question {
        Some(q) => format!("question {q}"),
        None => "all questions".to_string(),
    };
    if dry_run {
        let report = DryRun {
            coder: a.coder.clone(),
            question: a.question.clone(),
            answers_in_scope: in_scope,
            codes: results,
        };
        return match a.format {
            SummaryFormat::Json => stdout_line(&format!("{}\n", json(&report)?)),
            SummaryFormat::Table => stdout_line(&dry_run_table(&report, &scope)),
        };
    }
    let names: Vec<&str> = rules.iter().map(|(r, _)| r.code.as_str()).collect();
    let summary = format!(
        "auto-code {} ({} codings by pattern, {scope})",
        names.join(", "),
        found.len()
    );
    let coder_id = store.coder_id(&a.coder)?;
    let done = store.apply_autocodings(coder_id, &found, &summary)?;
    match a.format {
        SummaryFormat::Json => stdout_line(&format!(
            "{}\n",
            json(&serde_json::json!({
                "coder": a.coder,
                "question": a.question,
                "answers_in_scope": in_scope,
                "codes": results.iter().map(|r| serde_json::json!({
                    "code": r.code, "answers_matched": r.answers_matched, "matches": r.matches,
                })).collect::<Vec<_>>(),
                "applied": done,
            }))?
        )),
        SummaryFormat::Table => {
            let mut out = format!(
                "Auto-coded as coder {}, {scope}: {} codings added ({} already there), {} answers \
                 newly marked reviewed.\n",
                a.coder,
                done.codings_added,
                done.codings_already_present,
                done.answers_newly_reviewed
            );
            for r in &results {
                out.push_str(&format!(
                    "  {}: {} answers, {} matches\n",
                    r.code, r.answers_matched, r.matches
                ));
            }
            out.push_str(&format!(
                "One event: `lacrima undo --coder {}` (or u on the coding screen as that coder) \
                 takes it back whole.\n",
                a.coder
            ));
            stdout_line(&out)
        }
    }
}

fn dry_run_table(r: &DryRun, scope: &str) -> String {
    let mut out = format!(
        "Auto-coding dry run over {} answers ({scope}, empty answers left out); nothing was \
         changed.\n\n",
        r.answers_in_scope
    );
    let rows: Vec<Vec<String>> = r
        .codes
        .iter()
        .map(|c| {
            vec![
                c.code.clone(),
                c.answers_matched.to_string(),
                c.matches.to_string(),
                c.patterns.join(" | "),
            ]
        })
        .collect();
    out.push_str(&table::render(
        &["code", "answers matched", "matches", "patterns"],
        &rows,
    ));
    for c in &r.codes {
        if c.sample.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{}:\n", c.code));
        for s in &c.sample {
            out.push_str(&format!(
                "  {} {}  {}\n",
                s.respondent, s.question, s.context
            ));
        }
    }
    out
}
