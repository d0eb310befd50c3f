//! Importing a survey in one pass over the file, inside one transaction, so that any error
//! leaves the project exactly as it was.
//!
//! A second thread reads and checks the file, learns each new column's values and prepares the
//! rows while this one writes them. The kind of a new variable is only known at the end, so its
//! values are stored as they come: numbers written in their plain form as numbers, everything
//! else as text; once the kind is known, the few values in the wrong form are converted.

use super::infer::{ColumnStats, MAX_CATEGORICAL_LEVELS, is_iso_date, natural_cmp, parse_number};
use super::names;
use super::source::{Row, SurveySource};
use crate::error::{Error, Result};
use crate::model::empty::{is_missing_value, normalize_newlines};
use crate::store::{
    ExistingVariable, RespondentOutcome, RespondentRow, Store, SurveyWriter, VariableKind,
};
use rusqlite::types::ValueRef;
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

/// A column of the file and what it becomes.
#[derive(Debug, Clone)]
enum Role {
    Id,
    Question,
    /// A variable whose kind is known: from the project, or declared with an option.
    Variable(VariableKind),
    /// A new variable whose kind the values will tell.
    Infer,
    Skip,
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

/// The file's columns as the options name them, resolved before anything is written.
struct Columns {
    file: String,
    headers: Vec<String>,
    id_col: usize,
    open_cols: Vec<usize>,
    missing_codes: Vec<String>,
    /// `--levels`: (column, levels in order).
    levels: Vec<(usize, Vec<String>)>,
    /// Qualtrics' question texts, one per column.
    labels: Option<Vec<String>>,
}

impl Columns {
    fn resolve(source: &SurveySource, path: &Path, opts: &SurveyOptions) -> Result<Columns> {
        let file = path.display().to_string();
        let headers = source.headers().to_vec();
        let missing_codes: Vec<String> = opts
            .missing
            .iter()
            .flat_map(|m| m.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let id_col = match &opts.id {
            Some(id) => Some(names::indices("--id", std::slice::from_ref(id), &headers, &file)?[0]),
            None => headers
                .iter()
                .position(|h| ["id", "responseid", "resp_id"].contains(&h.to_lowercase().as_str())),
        };
        let open_names = names::expand(&opts.open, &headers);
        let (Some(id_col), false) = (id_col, open_names.is_empty()) else {
            return Err(explain_missing_columns(
                source,
                id_col,
                &missing_codes,
                &file,
            ));
        };
        let open_cols = names::indices("--open", &open_names, &headers, &file)?;
        let levels = parse_levels(&opts.levels, &headers, &file)?;
        Ok(Columns {
            labels: source.labels().map(|l| l.to_vec()),
            file,
            headers,
            id_col,
            open_cols,
            missing_codes,
            levels,
        })
    }

    /// The question text of a column, when the file carries one.
    fn label(&self, c: usize) -> Option<String> {
        self.labels
            .as_ref()
            .and_then(|l| l.get(c))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
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

/// What the project holds before the import: read once, used to plan and to write.
#[derive(Clone, Copy)]
struct Existing<'a> {
    questions: &'a [String],
    variables: &'a HashMap<String, ExistingVariable>,
}

/// Decides what each column becomes: the ID, a question, a variable of a known kind (from the
/// project or an option), a variable to infer, or skipped. The project's questions and variables
/// are passed in: the import reads them once.
fn plan_roles(
    existing: Existing<'_>,
    headers: &[String],
    id_col: usize,
    open_cols: &[usize],
    levels_opt: &[(usize, Vec<String>)],
    opts: &SurveyOptions,
    file: &str,
) -> Result<Vec<Role>> {
    let mut roles: Vec<Option<Role>> = vec![None; headers.len()];
    roles[id_col] = Some(Role::Id);
    for &c in open_cols {
        if c == id_col {
            return Err(Error::input(format!(
                "--open: {:?} is the ID column; it cannot also be a question",
                headers[c]
            )));
        }
        roles[c] = Some(Role::Question);
    }
    let overrides: [(&str, &[String], Option<VariableKind>); 5] = [
        ("--numeric", &opts.numeric, Some(VariableKind::Numeric)),
        (
            "--categorical",
            &opts.categorical,
            Some(VariableKind::Categorical),
        ),
        ("--text", &opts.text, Some(VariableKind::Text)),
        ("--date", &opts.date, Some(VariableKind::Date)),
        ("--skip", &opts.skip, None),
    ];
    for (flag, values, kind) in overrides {
        let names = names::expand(values, headers);
        for c in names::indices(flag, &names, headers, file)? {
            if let Some(prev) = &roles[c] {
                return Err(Error::input(format!(
                    "{flag}: column {:?} is already {}; give each column one role",
                    headers[c],
                    describe(prev)
                )));
            }
            roles[c] = Some(match kind {
                Some(k) => Role::Variable(k),
                None => Role::Skip,
            });
        }
    }
    for (c, _) in levels_opt {
        match &roles[*c] {
            None => roles[*c] = Some(Role::Variable(VariableKind::Categorical)),
            Some(Role::Variable(VariableKind::Categorical)) => {}
            Some(other) => {
                return Err(Error::input(format!(
                    "--levels: column {:?} is {}; levels apply to categorical variables",
                    headers[*c],
                    describe(other)
                )));
            }
        }
    }
    let mut out = Vec::with_capacity(headers.len());
    for (c, h) in headers.iter().enumerate() {
        let is_q = existing.questions.contains(h);
        let role = match (
            roles[c].take(),
            is_q,
            existing.variables.get(h).map(|v| &v.kind),
        ) {
            (Some(Role::Question), false, Some(_)) => {
                return Err(Error::input(format!(
                    "--open: {h:?} is a variable in this project, not a question; it cannot \
                     become one in a later wave"
                )));
            }
            (Some(r @ (Role::Id | Role::Question | Role::Skip)), _, _) => r,
            (_, true, _) => {
                return Err(Error::input(format!(
                    "{h:?} is a question in this project: add it to --open (a later wave must \
                     name the existing questions it contains)"
                )));
            }
            (Some(Role::Variable(k)), false, Some(existing)) if k != *existing => {
                return Err(Error::input(format!(
                    "{h:?} is a {} variable in this project; it cannot be imported as {}",
                    existing.as_str(),
                    k.as_str()
                )));
            }
            (_, false, Some(existing)) => Role::Variable(*existing),
            (Some(r), false, None) => r,
            (None, false, None) => Role::Infer,
        };
        out.push(role);
    }
    Ok(out)
}

/// Without --id or --open there is nothing to import yet: read the file once to suggest them.
fn explain_missing_columns(
    source: &SurveySource,
    id_col: Option<usize>,
    missing_codes: &[String],
    file: &str,
) -> Error {
    let headers = source.headers();
    let mut stats: Vec<ColumnStats> = headers.iter().map(|_| ColumnStats::new(true)).collect();
    let read = source.for_each_row(&mut |row: Row<'_>| {
        for (i, v) in row.fields.iter().enumerate() {
            stats[i].observe(row.line, v, is_missing_value(v, missing_codes));
        }
        Ok(())
    });
    if let Err(e) = read {
        return e;
    }
    let pick = |f: &dyn Fn(usize, &ColumnStats) -> bool| -> String {
        let names: Vec<String> = headers
            .iter()
            .zip(&stats)
            .enumerate()
            .filter(|(i, (_, s))| f(*i, s))
            .map(|(_, (h, _))| h.clone())
            .collect();
        if names.is_empty() {
            "none found".to_string()
        } else {
            names::list(&names)
        }
    };
    match id_col {
        None => Error::input(format!(
            "{file}: which column identifies respondents? Name it with --id; no column is called \
             id, ResponseId or resp_id. Columns with a distinct value in every row: {}",
            pick(&|_, s| s.looks_like_id())
        )),
        Some(id) => Error::input(format!(
            "{file}: name the open-ended columns to code with --open COL[,COL...]; columns that \
             look open-ended (long, mostly unique text): {}",
            pick(&|i, s| i != id && s.looks_open_ended())
        )),
    }
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

/// A value prepared on the reading thread; text as a byte range of the row's buffer.
#[derive(Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(usize, usize),
    /// An answer, with whether it is empty.
    Answer(usize, usize, bool),
}

/// One survey row made ready for the project. Rows are recycled between batches, so their
/// buffers are allocated once.
#[derive(Default)]
pub struct PreparedRow {
    line: u64,
    /// How far into the file the row ends (for the progress bar).
    offset: u64,
    text: String,
    /// The ID, then one cell per variable, then one per question.
    cells: Vec<Cell>,
}

impl PreparedRow {
    fn push_text(&mut self, s: &str) -> Cell {
        let start = self.text.len();
        self.text.push_str(s);
        Cell::Text(start, self.text.len())
    }

    fn text_of(&self, cell: Cell) -> &str {
        match cell {
            Cell::Text(a, b) | Cell::Answer(a, b, _) => &self.text[a..b],
            _ => "",
        }
    }

    /// Adds (sign 1) or takes back (sign -1) this row's share of the summary counts.
    fn count(
        &self,
        nvars: usize,
        var_missing: &mut [u64],
        answered: &mut [u64],
        empty: &mut [u64],
        sign: i64,
    ) {
        let bump = |n: &mut u64| *n = n.wrapping_add_signed(sign);
        for (k, c) in self.cells[1..=nvars].iter().enumerate() {
            if matches!(c, Cell::Null) {
                bump(&mut var_missing[k]);
            }
        }
        for (k, c) in self.cells[nvars + 1..].iter().enumerate() {
            if matches!(c, Cell::Answer(_, _, true)) {
                bump(&mut empty[k]);
            } else {
                bump(&mut answered[k]);
            }
        }
    }
}

struct RowView<'a> {
    row: &'a PreparedRow,
    nvars: usize,
}

impl RespondentRow for RowView<'_> {
    fn ext_id(&self) -> &str {
        self.row.text_of(self.row.cells[0])
    }

    fn value(&self, k: usize) -> ValueRef<'_> {
        match self.row.cells[1 + k] {
            Cell::Null => ValueRef::Null,
            Cell::Int(i) => ValueRef::Integer(i),
            Cell::Real(f) => ValueRef::Real(f),
            c @ (Cell::Text(..) | Cell::Answer(..)) => {
                ValueRef::Text(self.row.text_of(c).as_bytes())
            }
        }
    }

    fn answer(&self, q: usize) -> &str {
        self.row.text_of(self.row.cells[1 + self.nvars + q])
    }

    fn answer_is_empty(&self, q: usize) -> bool {
        matches!(self.row.cells[1 + self.nvars + q], Cell::Answer(_, _, true))
    }
}

/// Runs on the reading thread: checks each row, learns the variables' values and prepares them.
struct Preparer<'a> {
    file: &'a str,
    headers: &'a [String],
    id_col: usize,
    open_cols: &'a [usize],
    missing_codes: &'a [String],
    /// (column, known kind, what its values look like) per variable.
    columns: Vec<(usize, Option<VariableKind>, ColumnStats)>,
    /// Missing values per variable, and answered and empty answers per question.
    var_missing: Vec<u64>,
    answered: Vec<u64>,
    empty: Vec<u64>,
    /// Where numbers are rendered to compare with their text.
    scratch: String,
}

impl Preparer<'_> {
    fn prepare(&mut self, row: Row<'_>, out: &mut PreparedRow) -> Result<()> {
        out.line = row.line;
        out.offset = row.offset;
        out.text.clear();
        out.cells.clear();
        let id = row.fields[self.id_col];
        if id.trim().is_empty() {
            return Err(Error::input(format!(
                "{}:{}: the ID column {:?} is empty; every respondent needs an ID",
                self.file, row.line, self.headers[self.id_col]
            )));
        }
        let cell = out.push_text(id);
        out.cells.push(cell);
        for (c, kind, stats) in &mut self.columns {
            let raw = row.fields[*c];
            let missing = is_missing_value(raw, self.missing_codes);
            let number = if missing { None } else { parse_number(raw) };
            stats.observe_parsed(row.line, raw, missing, number.is_some());
            if missing {
                out.cells.push(Cell::Null);
                continue;
            }
            let cell = match kind {
                Some(VariableKind::Numeric) => match (raw.trim().parse::<i64>(), number) {
                    (Ok(i), _) => Cell::Int(i),
                    (Err(_), Some(f)) => Cell::Real(f),
                    (Err(_), None) => {
                        return Err(wrong_kind(
                            self.file,
                            self.headers,
                            row.line,
                            *c,
                            raw,
                            "numeric",
                        ));
                    }
                },
                Some(VariableKind::Date) => {
                    if !is_iso_date(raw) {
                        return Err(wrong_kind(
                            self.file,
                            self.headers,
                            row.line,
                            *c,
                            raw,
                            "a date (ISO 8601)",
                        ));
                    }
                    out.push_text(raw.trim())
                }
                Some(_) => out.push_text(raw),
                // Most columns of numbers are numeric: store numbers as numbers now, and put the
                // text back in the rare column that turns out to hold words too.
                None => match number {
                    Some(f) => {
                        stats.numbers_as_numbers += 1;
                        let (cell, plain) = as_number(raw, f, &mut self.scratch);
                        if !plain {
                            stats.numbers_not_plain += 1;
                        }
                        cell
                    }
                    None => out.push_text(raw),
                },
            };
            out.cells.push(cell);
        }
        for &c in self.open_cols {
            let text = normalize_newlines(row.fields[c]);
            let empty = crate::model::empty::is_empty_answer(&text);
            if let Cell::Text(a, b) = out.push_text(&text) {
                out.cells.push(Cell::Answer(a, b, empty));
            }
        }
        // Counted here, on the reading thread, which has time to spare; the writer only takes
        // back the rows it skips.
        out.count(
            self.columns.len(),
            &mut self.var_missing,
            &mut self.answered,
            &mut self.empty,
            1,
        );
        Ok(())
    }
}

fn wrong_kind(
    file: &str,
    headers: &[String],
    line: u64,
    col: usize,
    value: &str,
    kind: &str,
) -> Error {
    Error::input(format!(
        "{file}:{line}: column {:?} is {kind} but has the value {value:?}; fix the value, add it \
         to --missing, or import the column with --categorical or --text",
        headers[col]
    ))
}

/// The number as a cell, and whether it was written in the form Rust writes it ("34", "83.25";
/// not "007", "4.50" or " 12"), in which case its text can be recovered from the number.
/// `scratch` holds a rendering for the rare text the digits alone do not settle.
fn as_number(raw: &str, f: f64, scratch: &mut String) -> (Cell, bool) {
    use std::fmt::Write as _;
    match raw.trim().parse::<i64>() {
        Ok(i) => (Cell::Int(i), canonical_integer(raw)),
        Err(_) if canonical_decimal(raw) => (Cell::Real(f), true),
        Err(_) => {
            scratch.clear();
            let _ = write!(scratch, "{f}");
            (Cell::Real(f), scratch == raw)
        }
    }
}

/// An integer as Rust writes it: digits without leading zeros, a minus sign but not on zero.
fn canonical_integer(raw: &str) -> bool {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && raw == "0" || !digits.starts_with('0'))
}

/// A decimal that Rust writes back exactly as it is: no exponent, no leading zeros, no trailing
/// zeros after the point, and at most 15 significant digits. Any decimal of 15 digits or fewer
/// is the only one of that length for its f64, so the shortest rendering of the number is these
/// digits (checking by rendering each value took a twentieth of an import's CPU).
fn canonical_decimal(raw: &str) -> bool {
    let body = raw.strip_prefix('-').unwrap_or(raw);
    let Some((int, frac)) = body.split_once('.') else {
        return false;
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) || frac.ends_with('0') {
        return false;
    }
    if int.len() > 1 && int.starts_with('0') {
        return false;
    }
    let significant = if int == "0" {
        frac.trim_start_matches('0').len()
    } else {
        int.len() + frac.len()
    };
    significant <= 15
}

fn describe(role: &Role) -> &'static str {
    match role {
        Role::Id => "the ID column",
        Role::Question => "an open-ended question (--open)",
        Role::Variable(VariableKind::Numeric) => "declared --numeric",
        Role::Variable(VariableKind::Categorical) => "declared --categorical",
        Role::Variable(VariableKind::Text) => "declared --text",
        Role::Variable(VariableKind::Date) => "declared --date",
        Role::Infer => "a variable",
        Role::Skip => "skipped (--skip)",
    }
}

/// `--levels VAR=a,b,c` into (column, levels).
fn parse_levels(
    specs: &[String],
    headers: &[String],
    file: &str,
) -> Result<Vec<(usize, Vec<String>)>> {
    let mut out: Vec<(usize, Vec<String>)> = Vec::new();
    for spec in specs {
        let Some((var, levels)) = spec.split_once('=') else {
            return Err(Error::input(format!(
                "--levels {spec:?}: write VAR=level1,level2,... (for example --levels \
                 tone=sad,warm,tense)"
            )));
        };
        let c = names::indices("--levels", &[var.trim().to_string()], headers, file)?[0];
        let levels: Vec<String> = levels.split(',').map(|s| s.trim().to_string()).collect();
        if levels.iter().any(|l| l.is_empty()) {
            return Err(Error::input(format!("--levels {spec:?}: a level is empty")));
        }
        if out.iter().any(|(oc, _)| *oc == c) {
            return Err(Error::input(format!("--levels: {var:?} is given twice")));
        }
        out.push((c, levels));
    }
    Ok(out)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plain_by_rendering(raw: &str) -> bool {
        match raw.trim().parse::<i64>() {
            Ok(i) => i.to_string() == raw,
            Err(_) => raw
                .trim()
                .parse::<f64>()
                .is_ok_and(|f| format!("{f}") == raw),
        }
    }

    #[test]
    fn plain_numbers_are_told_from_the_others_without_rendering_them() {
        // The last has 17 digits: too many to settle by the digits, so it is rendered (and is
        // what Rust writes).
        for raw in [
            "34",
            "-7",
            "0",
            "83.25",
            "-0.5",
            "0.001",
            "123456789.12345",
            "1.2345678901234567",
        ] {
            assert!(plain_by_rendering(raw), "{raw}");
            let f = raw.parse::<f64>().unwrap();
            assert!(as_number(raw, f, &mut String::new()).1, "{raw}");
        }
        for raw in [
            "007",
            "-0",
            "+5",
            " 12",
            "4.50",
            "5.0",
            "00.5",
            ".5",
            "1e5",
            "0.30000000000000000",
        ] {
            let f = raw.trim().parse::<f64>().unwrap();
            assert!(!as_number(raw, f, &mut String::new()).1, "{raw}");
        }
    }

    proptest! {
        #[test]
        fn the_shortcut_agrees_with_rendering_the_number(
            int in 0u64..10_000_000_000,
            frac in "[0-9]{0,9}",
            negative in any::<bool>(),
            leading_zero in any::<bool>(),
        ) {
            let raw = format!(
                "{}{}{int}{}{frac}",
                if negative { "-" } else { "" },
                if leading_zero { "0" } else { "" },
                if frac.is_empty() { "" } else { "." },
            );
            let f = raw.trim().parse::<f64>().unwrap();
            let plain = as_number(&raw, f, &mut String::new()).1;
            prop_assert_eq!(plain, plain_by_rendering(&raw), "{}", raw);
        }

        #[test]
        fn any_number_rust_writes_is_plain(
            f in proptest::num::f64::NORMAL | proptest::num::f64::ZERO,
        ) {
            let raw = format!("{f}");
            prop_assert!(as_number(&raw, f, &mut String::new()).1, "{}", raw);
        }
    }
}
