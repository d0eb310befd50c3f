//! Importing a survey in one pass over the file, inside one transaction, so that any error
//! leaves the project exactly as it was.
//!
//! A second thread reads and checks the file, learns each new column's values and prepares the
//! rows while this one writes them. The kind of a new variable is only known at the end, so its
//! values are stored as they come: numbers written in their plain form as numbers, everything
//! else as text; once the kind is known, the few values in the wrong form are converted.

mod columns;
mod prepare;

use self::columns::{Columns, Existing, Role, plan_roles};
use self::prepare::{PreparedRow, Preparer, RowView};
use super::infer::{ColumnStats, MAX_CATEGORICAL_LEVELS, natural_cmp};
use super::source::{Row, SurveySource};
use crate::error::{Error, Result};
use crate::model::empty::is_missing_value;
use crate::store::{
    ExistingVariable, RespondentOutcome, RespondentRow, Store, SurveyWriter, VariableKind,
};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

#[derive(Debug, Default, Clone)]
pub struct SurveyOptions {
    pub id: Option<String>,
    pub open: Vec<String>,
    pub numeric: Vec<String>,
    pub categorical: Vec<String>,
    pub text: Vec<String>,
    pub date: Vec<String>,
    pub skip: Vec<String>,
    /// `VAR=a,b,c`, one per variable.
    pub levels: Vec<String>,
    pub missing: Vec<String>,
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// The project was created for this import and is deleted if the import fails.
    pub fresh_project: bool,
}

#[derive(Debug, Serialize)]
pub struct ImportSummary {
    pub file: String,
    pub qualtrics: bool,
    pub respondents_added: usize,
    pub respondents_skipped: usize,
    pub respondents_total: i64,
    pub questions: Vec<QuestionCounts>,
    pub variables: Vec<VariableReport>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct QuestionCounts {
    pub name: String,
    pub label: Option<String>,
    pub new: bool,
    /// Answers added by this import that are offered for coding.
    pub answered: u64,
    /// Answers added by this import that are empty.
    pub empty: u64,
}

#[derive(Debug, Serialize)]
pub struct VariableReport {
    pub name: String,
    pub kind: VariableKind,
    pub new: bool,
    pub levels: Option<Vec<String>>,
    /// Missing values among the rows this import added.
    pub missing: u64,
}

/// A variable column as the import handles it.
struct VarColumn {
    col: usize,
    /// None: inferred at the end.
    kind: Option<VariableKind>,
    var: ExistingVariable,
    new: bool,
}

pub fn import_survey(
    store: &mut Store,
    path: &Path,
    opts: &SurveyOptions,
) -> Result<ImportSummary> {
    let source = SurveySource::open(path, opts.sheet.as_deref(), opts.encoding.as_deref())?;
    let cols = Columns::resolve(&source, path, opts)?;
    let mut warnings = source.warnings.clone();
    let existing_vars: HashMap<String, ExistingVariable> = store
        .variables()?
        .into_iter()
        .map(|v| (v.name.clone(), v))
        .collect();
    let existing_questions = store.question_names()?;
    let roles = plan_roles(
        Existing {
            questions: &existing_questions,
            variables: &existing_vars,
        },
        &cols.headers,
        cols.id_col,
        &cols.open_cols,
        &cols.levels,
        opts,
        &cols.file,
    )?;

    let mut writer = store.begin_survey_import(&cols.file, opts.fresh_project)?;
    let questions = add_questions(&mut writer, &cols)?;
    let vars = add_variables(&mut writer, &cols, &roles, &existing_vars)?;
    let layout: Vec<ExistingVariable> = vars.iter().map(|v| v.var.clone()).collect();
    writer.set_layout(questions.iter().map(|q| q.0).collect(), &layout)?;
    let (streamed, preparer) = stream_rows(&source, &mut writer, &cols, &vars, opts.progress)?;
    let less = |all: &[u64], skipped: &[u64]| -> Vec<u64> {
        all.iter().zip(skipped).map(|(a, s)| a - s).collect()
    };
    let var_missing = less(&preparer.var_missing, &streamed.skipped_missing);
    let answered = less(&preparer.answered, &streamed.skipped_answered);
    let empty = less(&preparer.empty, &streamed.skipped_empty);
    let variables = settle_variables(
        &source,
        &mut writer,
        &cols,
        &vars,
        &preparer.columns,
        &var_missing,
        &mut warnings,
    )?;
    // The export writes the ID column under the name it had in the first file.
    writer.remember_id_column(&cols.headers[cols.id_col])?;
    writer.finish(streamed.skipped)?;
    if streamed.added == 0 && streamed.skipped > 0 {
        warnings.push(format!(
            "every row of {} was already in the project with the same values; nothing was added",
            cols.file
        ));
    }
    let questions = cols
        .open_cols
        .iter()
        .zip(&questions)
        .enumerate()
        .map(|(k, (&c, &(_, new)))| QuestionCounts {
            name: cols.headers[c].clone(),
            label: cols.label(c),
            new,
            answered: answered[k],
            empty: empty[k],
        })
        .collect();
    Ok(ImportSummary {
        file: cols.file,
        qualtrics: source.is_qualtrics(),
        respondents_added: streamed.added,
        respondents_skipped: streamed.skipped,
        respondents_total: store.respondent_count()?,
        questions,
        variables,
        warnings,
    })
}

/// The open-ended columns' questions, found or added: (question id, new), in column order.
fn add_questions(writer: &mut SurveyWriter<'_>, cols: &Columns) -> Result<Vec<(i64, bool)>> {
    let mut out = Vec::with_capacity(cols.open_cols.len());
    for &c in &cols.open_cols {
        let name = &cols.headers[c];
        match writer.question_id(name)? {
            Some(id) => {
                if let Some(l) = cols.label(c) {
                    writer.label_question(id, &l)?;
                }
                out.push((id, false));
            }
            None => out.push((writer.add_question(name, cols.label(c).as_deref())?, true)),
        }
    }
    Ok(out)
}

/// The variable columns' variables, found or added, in column order.
fn add_variables(
    writer: &mut SurveyWriter<'_>,
    cols: &Columns,
    roles: &[Role],
    existing: &HashMap<String, ExistingVariable>,
) -> Result<Vec<VarColumn>> {
    let mut vars = Vec::new();
    for (c, role) in roles.iter().enumerate() {
        let kind = match role {
            Role::Variable(k) => Some(*k),
            Role::Infer => None,
            _ => continue,
        };
        let name = &cols.headers[c];
        let (var, new) = match existing.get(name) {
            Some(v) => {
                if let Some(l) = cols.label(c) {
                    writer.set_variable_label(v.id, &l)?;
                }
                (v.clone(), false)
            }
            // Until the values have been seen, a variable of unknown kind is recorded as text.
            None => (
                writer.add_variable(
                    name,
                    cols.label(c).as_deref(),
                    kind.unwrap_or(VariableKind::Text),
                    &[],
                )?,
                true,
            ),
        };
        vars.push(VarColumn {
            col: c,
            kind,
            var,
            new,
        });
    }
    Ok(vars)
}

/// What streaming the rows did: respondents added and skipped, and the counts of the skipped
/// rows, to take back from the reading thread's counts of every row.
struct Streamed {
    added: usize,
    skipped: usize,
    skipped_missing: Vec<u64>,
    skipped_answered: Vec<u64>,
    skipped_empty: Vec<u64>,
}

/// Reads the rows on a second thread, which checks and prepares them, and writes them here.
/// Returns what was written and the reading side's counts and what it learned of the values.
fn stream_rows<'f>(
    source: &SurveySource,
    writer: &mut SurveyWriter<'_>,
    cols: &'f Columns,
    vars: &[VarColumn],
    progress: bool,
) -> Result<(Streamed, Preparer<'f>)> {
    let file = &cols.file;
    // Categorical columns keep every distinct value, since those become the levels.
    let mut preparer = Preparer {
        file,
        headers: &cols.headers,
        id_col: cols.id_col,
        open_cols: &cols.open_cols,
        missing_codes: &cols.missing_codes,
        columns: vars
            .iter()
            .map(|v| {
                let bounded = v.kind != Some(VariableKind::Categorical);
                (v.col, v.kind, ColumnStats::new(bounded))
            })
            .collect(),
        var_missing: vec![0; vars.len()],
        answered: vec![0; cols.open_cols.len()],
        empty: vec![0; cols.open_cols.len()],
        scratch: String::new(),
    };
    let mut out = Streamed {
        added: 0,
        skipped: 0,
        skipped_missing: vec![0; vars.len()],
        skipped_answered: vec![0; cols.open_cols.len()],
        skipped_empty: vec![0; cols.open_cols.len()],
    };
    let mut added_lines: Vec<u64> = Vec::new();
    let mut conflicts: Vec<String> = Vec::new();
    let mut conflict_count = 0usize;
    let nvars = vars.len();
    let bar = progress_bar(progress, "importing", source.byte_len());
    source.for_each_batch_pipelined(
        &mut |row, prepared: &mut PreparedRow| preparer.prepare(row, prepared),
        &mut |batch: &[PreparedRow]| {
            if let Some(last) = batch.last() {
                bar.set_position(last.offset);
            }
            let views: Vec<RowView<'_>> = batch.iter().map(|row| RowView { row, nvars }).collect();
            for chunk in views.chunks(CHUNK) {
                // Into an empty project every row is new: whole chunks go in one statement each.
                if chunk.len() == CHUNK && writer.insert_new_chunk(chunk)? {
                    out.added += chunk.len();
                    added_lines.extend(chunk.iter().map(|v| v.row.line));
                    continue;
                }
                for view in chunk {
                    match writer.insert(view)? {
                        RespondentOutcome::Added => {
                            out.added += 1;
                            added_lines.push(view.row.line);
                        }
                        RespondentOutcome::SkippedIdentical => {
                            out.skipped += 1;
                            view.row.count(
                                nvars,
                                &mut out.skipped_missing,
                                &mut out.skipped_answered,
                                &mut out.skipped_empty,
                                1,
                            );
                        }
                        RespondentOutcome::Conflict(cols) => {
                            conflict_count += 1;
                            if conflicts.len() < 20 {
                                conflicts.push(format!(
                                    "line {}: {:?} ({})",
                                    view.row.line,
                                    view.ext_id(),
                                    cols.join(", ")
                                ));
                            }
                        }
                        RespondentOutcome::DuplicateInFile(k) => {
                            return Err(Error::input(format!(
                                "{file}:{}: the ID {:?} appears twice in the file (first at \
                                 line {}); IDs must be unique",
                                view.row.line,
                                view.ext_id(),
                                added_lines.get(k).copied().unwrap_or(0)
                            )));
                        }
                    }
                }
            }
            Ok(())
        },
    )?;
    bar.finish_and_clear();
    if conflict_count > 0 {
        return Err(Error::input(format!(
            "{file}: {conflict_count} respondent(s) already in the project have different values \
             in this file (nothing was imported; lacrima never overwrites data):\n  {}{}",
            conflicts.join("\n  "),
            if conflict_count > conflicts.len() {
                format!("\n  ... and {} more", conflict_count - conflicts.len())
            } else {
                String::new()
            }
        )));
    }
    Ok((out, preparer))
}

/// Now that every value has been seen: each variable's kind and levels, recorded, and the values
/// stored in the wrong form for that kind put right. Returns the summary's variable lines.
fn settle_variables(
    source: &SurveySource,
    writer: &mut SurveyWriter<'_>,
    cols: &Columns,
    vars: &[VarColumn],
    seen: &[(usize, Option<VariableKind>, ColumnStats)],
    var_missing: &[u64],
    warnings: &mut Vec<String>,
) -> Result<Vec<VariableReport>> {
    let mut reports = Vec::new();
    for ((v, (_, _, stats)), missing) in vars.iter().zip(seen).zip(var_missing) {
        let name = &cols.headers[v.col];
        let kind = v.kind.unwrap_or_else(|| stats.inferred_kind());
        if v.kind.is_none() && kind != VariableKind::Numeric && stats.numbers_as_numbers > 0 {
            if stats.numbers_not_plain == 0 {
                writer.numbers_to_text(&v.var.column)?;
            } else {
                restore_text_from_file(source, writer, cols.id_col, v, &cols.missing_codes)?;
            }
        }
        let levels = if kind == VariableKind::Categorical {
            let given = cols
                .levels
                .iter()
                .find(|(lc, _)| *lc == v.col)
                .map(|(_, l)| l.as_slice());
            let observed: BTreeSet<String> = stats.distinct.clone().unwrap_or_default();
            if let Some(given) = given
                && let Some(value) = observed.iter().find(|o| !given.contains(o))
            {
                return Err(Error::input(format!(
                    "--levels: {name:?} has the value {value:?}, which is not among its levels ({})",
                    given.join(",")
                )));
            }
            if v.kind == Some(VariableKind::Categorical)
                && v.new
                && observed.len() > MAX_CATEGORICAL_LEVELS
            {
                warnings.push(format!(
                    "{name:?} has {} distinct values but was declared categorical",
                    observed.len()
                ));
            }
            Some(merge_levels(&v.var.levels, given, &observed, name)?)
        } else {
            None
        };
        if v.new {
            writer.set_variable_kind(v.var.id, kind, levels.as_deref().unwrap_or(&[]))?;
        } else if let Some(l) = &levels
            && *l != v.var.levels
        {
            writer.set_levels(v.var.id, l)?;
        }
        reports.push(VariableReport {
            name: name.clone(),
            kind,
            new: v.new,
            levels,
            missing: *missing,
        });
    }
    Ok(reports)
}

/// Writes a column's values again as the text in the file: for the rare column that mixes words
/// with numbers written in forms ("007") a number cannot give back.
fn restore_text_from_file(
    source: &SurveySource,
    writer: &mut SurveyWriter<'_>,
    id_col: usize,
    v: &VarColumn,
    missing_codes: &[String],
) -> Result<()> {
    source.for_each_row(&mut |row: Row<'_>| {
        let raw = row.fields[v.col];
        if !is_missing_value(raw, missing_codes) {
            writer.set_text_value(&v.var.column, row.fields[id_col], raw)?;
        }
        Ok(())
    })
}

/// Respondents written per statement when the project is empty.
const CHUNK: usize = 32;

/// The level order: the user's when given; else the project's levels with new ones merged in
/// natural order.
fn merge_levels(
    existing: &[String],
    given: Option<&[String]>,
    observed: &BTreeSet<String>,
    name: &str,
) -> Result<Vec<String>> {
    if let Some(given) = given {
        if let Some(lost) = existing.iter().find(|l| !given.contains(l)) {
            return Err(Error::input(format!(
                "--levels: {name:?} already has the level {lost:?} in this project; include it"
            )));
        }
        return Ok(given.to_vec());
    }
    let mut all: Vec<String> = existing.to_vec();
    for v in observed {
        if !all.contains(v) {
            all.push(v.clone());
        }
    }
    if existing.is_empty() || all.len() > existing.len() {
        all.sort_by(|a, b| natural_cmp(a, b));
    }
    Ok(all)
}

fn progress_bar(enabled: bool, what: &'static str, total_bytes: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || total_bytes == 0 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total_bytes);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg:>10} [{bar:40}] {bytes}/{total_bytes} ({eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}
