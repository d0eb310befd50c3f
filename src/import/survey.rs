//! Importing a survey: two passes over the file. The first checks every row and infers the
//! variables' kinds without writing anything; the second writes all rows in one transaction, so
//! that any error leaves the project exactly as it was.

use super::infer::{ColumnStats, is_iso_date, natural_cmp, parse_number};
use super::names;
use super::source::{Row, SurveySource};
use crate::empty::{is_missing_value, normalize_newlines};
use crate::error::{Error, Result};
use crate::store::{ExistingVariable, NewRespondent, RespondentOutcome, Store, VariableKind};
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
    Variable(VariableKind),
    Skip,
}

pub fn import_survey(
    store: &mut Store,
    path: &Path,
    opts: &SurveyOptions,
) -> Result<ImportSummary> {
    let source = SurveySource::open(path, opts.sheet.as_deref(), opts.encoding.as_deref())?;
    let file = path.display().to_string();
    let headers = source.headers().to_vec();
    let mut warnings = source.warnings.clone();
    let missing_codes: Vec<String> = opts
        .missing
        .iter()
        .flat_map(|m| m.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();

    // Which column is the ID.
    let id_col = match &opts.id {
        Some(id) => Some(names::indices("--id", std::slice::from_ref(id), &headers, &file)?[0]),
        None => headers
            .iter()
            .position(|h| ["id", "responseid", "resp_id"].contains(&h.to_lowercase().as_str())),
    };

    // Pass 1: read everything, check it, learn each column. Columns that will be categorical
    // whatever their values keep every distinct value, since those become the levels.
    let known_categorical: Vec<String> = store
        .variables()?
        .into_iter()
        .filter(|v| v.kind == VariableKind::Categorical)
        .map(|v| v.name)
        .collect();
    let mut declared: Vec<String> = names::expand(&opts.categorical, &headers);
    declared.extend(
        opts.levels
            .iter()
            .filter_map(|l| l.split_once('='))
            .map(|(v, _)| v.trim().to_string()),
    );
    declared.extend(known_categorical);
    let mut stats: Vec<ColumnStats> = headers
        .iter()
        .map(|h| ColumnStats::new(!declared.contains(h)))
        .collect();
    // What the ID and the named questions look like only matters when they were not named.
    let open_given = names::expand(&opts.open, &headers);
    let learn: Vec<bool> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| !(open_given.contains(h) || (opts.id.is_some() && id_col == Some(i))))
        .collect();
    let mut rows = 0u64;
    let bar = progress_bar(opts.progress, "checking", None);
    source.for_each_row(&mut |row: Row<'_>| {
        rows += 1;
        if rows.is_multiple_of(4096) {
            bar.set_position(rows);
        }
        for (i, v) in row.fields.iter().enumerate() {
            if learn[i] {
                let missing = is_missing_value(v, &missing_codes);
                stats[i].observe(row.line, v, missing);
            }
        }
        Ok(())
    })?;
    bar.finish_and_clear();

    let id_col = match id_col {
        Some(c) => c,
        None => {
            let candidates: Vec<String> = headers
                .iter()
                .zip(&stats)
                .filter(|(_, s)| s.looks_like_id())
                .map(|(h, _)| h.clone())
                .collect();
            return Err(Error::input(format!(
                "{file}: which column identifies respondents? Name it with --id; no column is \
                 called id, ResponseId or resp_id. Columns with a distinct value in every row: {}",
                if candidates.is_empty() {
                    "none".to_string()
                } else {
                    names::list(&candidates)
                }
            )));
        }
    };

    let open_names = names::expand(&opts.open, &headers);
    if open_names.is_empty() {
        let candidates: Vec<String> = headers
            .iter()
            .zip(&stats)
            .enumerate()
            .filter(|(i, (_, s))| *i != id_col && s.looks_open_ended())
            .map(|(_, (h, _))| h.clone())
            .collect();
        return Err(Error::input(format!(
            "{file}: name the open-ended columns to code with --open COL[,COL...]; columns that \
             look open-ended (long, mostly unique text): {}",
            if candidates.is_empty() {
                "none found".to_string()
            } else {
                names::list(&candidates)
            }
        )));
    }
    let open_cols = names::indices("--open", &open_names, &headers, &file)?;

    // Roles: overrides first, then inference.
    let mut roles: Vec<Option<Role>> = vec![None; headers.len()];
    roles[id_col] = Some(Role::Id);
    for &c in &open_cols {
        if c == id_col {
            return Err(Error::input(format!(
                "--open: {:?} is the ID column; it cannot also be a question",
                headers[c]
            )));
        }
        roles[c] = Some(Role::Question);
    }
    let levels_opt = parse_levels(&opts.levels, &headers, &file)?;
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
        let names = names::expand(values, &headers);
        for c in names::indices(flag, &names, &headers, &file)? {
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
    for (c, _) in &levels_opt {
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

    // The project as it is.
    let existing_questions = store.question_names()?;
    let existing_vars: HashMap<String, ExistingVariable> = store
        .variables()?
        .into_iter()
        .map(|v| (v.name.clone(), v))
        .collect();
    for (c, h) in headers.iter().enumerate() {
        let is_q = existing_questions.contains(h);
        match (&roles[c], is_q, existing_vars.get(h)) {
            (Some(Role::Question), false, Some(_)) => {
                return Err(Error::input(format!(
                    "--open: {h:?} is a variable in this project, not a question; it cannot \
                     become one in a later wave"
                )));
            }
            (Some(Role::Id) | Some(Role::Question) | Some(Role::Skip), _, _) => {}
            (_, true, _) => {
                return Err(Error::input(format!(
                    "{h:?} is a question in this project: add it to --open (a later wave must \
                     name the existing questions it contains)"
                )));
            }
            (role, false, Some(var)) => {
                if let Some(Role::Variable(k)) = role
                    && *k != var.kind
                {
                    return Err(Error::input(format!(
                        "{h:?} is a {} variable in this project; it cannot be imported as {}",
                        var.kind.as_str(),
                        k.as_str()
                    )));
                }
                roles[c] = Some(Role::Variable(var.kind));
            }
            (None, false, None) => {
                roles[c] = Some(Role::Variable(stats[c].inferred_kind()));
            }
            (Some(Role::Variable(_)), false, None) => {}
        }
    }

    // Check every variable's values against its kind, now that kinds are known.
    let mut var_cols: Vec<(usize, VariableKind)> = Vec::new();
    for (c, role) in roles.iter().enumerate() {
        if let Some(Role::Variable(kind)) = role {
            let s = &stats[c];
            let bad = match kind {
                VariableKind::Numeric => s.first_non_numeric.as_ref(),
                VariableKind::Date => s.first_non_date.as_ref(),
                _ => None,
            };
            if let Some((line, value)) = bad {
                return Err(Error::input(format!(
                    "{file}:{line}: column {:?} is {} but has the value {value:?}; fix the \
                     value, add it to --missing, or import the column with --categorical or --text",
                    headers[c],
                    kind.as_str()
                )));
            }
            if *kind == VariableKind::Categorical
                && s.distinct
                    .as_ref()
                    .is_some_and(|d| d.len() > super::infer::MAX_CATEGORICAL_LEVELS)
                && !existing_vars.contains_key(&headers[c])
            {
                warnings.push(format!(
                    "{:?} has more than {} distinct values but was declared categorical",
                    headers[c],
                    super::infer::MAX_CATEGORICAL_LEVELS
                ));
            }
            var_cols.push((c, *kind));
        }
    }

    // Pass 2: write.
    let (mut writer, var_layout, question_new, level_sets) = {
        let labels = source.labels().map(|l| l.to_vec());
        let label_of = |c: usize| -> Option<String> {
            labels
                .as_ref()
                .and_then(|l| l.get(c))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let mut writer = store.begin_survey_import(&file, opts.fresh_project)?;
        let mut question_ids = Vec::new();
        let mut question_new = Vec::new();
        for &c in &open_cols {
            let name = &headers[c];
            match writer.question_id(name)? {
                Some(id) => {
                    if let Some(l) = label_of(c) {
                        writer.label_question(id, &l)?;
                    }
                    question_ids.push(id);
                    question_new.push(false);
                }
                None => {
                    question_ids.push(writer.add_question(name, label_of(c).as_deref())?);
                    question_new.push(true);
                }
            }
        }
        let mut layout: Vec<(ExistingVariable, bool)> = Vec::new();
        let mut level_sets: Vec<Option<Vec<String>>> = Vec::new();
        for &(c, kind) in &var_cols {
            let name = &headers[c];
            let given = levels_opt
                .iter()
                .find(|(lc, _)| *lc == c)
                .map(|(_, l)| l.clone());
            let observed: BTreeSet<String> = stats[c].distinct.clone().unwrap_or_default();
            let levels = if kind == VariableKind::Categorical {
                Some(merge_levels(
                    existing_vars
                        .get(name)
                        .map(|v| v.levels.as_slice())
                        .unwrap_or(&[]),
                    given.as_deref(),
                    &observed,
                    name,
                )?)
            } else {
                None
            };
            match existing_vars.get(name) {
                Some(v) => {
                    if let Some(l) = &levels
                        && *l != v.levels
                    {
                        writer.set_levels(v.id, l)?;
                    }
                    if let Some(l) = label_of(c) {
                        writer.set_variable_label(v.id, &l)?;
                    }
                    layout.push((v.clone(), false));
                }
                None => {
                    let v = writer.add_variable(
                        name,
                        label_of(c).as_deref(),
                        kind,
                        levels.as_deref().unwrap_or(&[]),
                    )?;
                    layout.push((v, true));
                }
            }
            level_sets.push(levels);
        }
        let vars: Vec<ExistingVariable> = layout.iter().map(|(v, _)| v.clone()).collect();
        writer.set_layout(question_ids.clone(), &vars)?;
        (writer, layout, question_new, level_sets)
    };

    // Levels given by --levels must cover every value.
    for ((c, kind), levels) in var_cols.iter().zip(&level_sets) {
        if *kind == VariableKind::Categorical
            && let (Some(levels), Some(observed)) = (levels, &stats[*c].distinct)
            && let Some(v) = observed.iter().find(|v| !levels.contains(v))
        {
            return Err(Error::input(format!(
                "--levels: {:?} has the value {v:?}, which is not among its levels ({})",
                headers[*c],
                levels.join(",")
            )));
        }
    }

    let mut added = 0usize;
    let mut skipped = 0usize;
    let mut added_lines: Vec<u64> = Vec::new();
    let mut conflicts: Vec<String> = Vec::new();
    let mut conflict_count = 0usize;
    let mut answered = vec![0u64; open_cols.len()];
    let mut empty = vec![0u64; open_cols.len()];
    let mut var_missing = vec![0u64; var_cols.len()];
    let bar = progress_bar(opts.progress, "importing", Some(rows));
    let mut n = 0u64;
    let prepare = |row: Row<'_>| -> Result<PreparedRow> {
        if row.fields[id_col].trim().is_empty() {
            return Err(Error::input(format!(
                "{file}:{}: the ID column {:?} is empty; every respondent needs an ID",
                row.line, headers[id_col]
            )));
        }
        Ok(PreparedRow::new(row, &var_cols, &open_cols, &missing_codes))
    };
    source.for_each_batch_pipelined(&prepare, &mut |batch: Vec<PreparedRow>| {
        n += batch.len() as u64;
        bar.set_position(n);
        let rows: Vec<NewRespondent<'_>> = batch
            .iter()
            .map(|r| r.as_new_respondent(id_col))
            .collect();
        for row in &rows {
            for (k, v) in row.values.iter().enumerate() {
                if *v == ValueRef::Null {
                    var_missing[k] += 1;
                }
            }
            for (k, a) in row.answers.iter().enumerate() {
                if crate::empty::is_empty_answer(a) {
                    empty[k] += 1;
                } else {
                    answered[k] += 1;
                }
            }
        }
        for (chunk, prepared) in rows.chunks(CHUNK).zip(batch.chunks(CHUNK)) {
            // Into an empty project every row is new: whole chunks go in one statement each.
            if chunk.len() == CHUNK && writer.insert_new_chunk(chunk)? {
                added += chunk.len();
                added_lines.extend(prepared.iter().map(|p| p.line));
                continue;
            }
            for (row, p) in chunk.iter().zip(prepared) {
                match writer.insert(row.ext_id, &row.values, &row.answers)? {
                    RespondentOutcome::Added => {
                        added += 1;
                        added_lines.push(p.line);
                    }
                    RespondentOutcome::SkippedIdentical => {
                        skipped += 1;
                        undo_counts(&row.answers, &mut answered, &mut empty);
                        for (k, v) in row.values.iter().enumerate() {
                            if *v == ValueRef::Null {
                                var_missing[k] -= 1;
                            }
                        }
                    }
                    RespondentOutcome::Conflict(cols) => {
                        conflict_count += 1;
                        if conflicts.len() < 20 {
                            conflicts.push(format!(
                                "line {}: {:?} ({})",
                                p.line,
                                row.ext_id,
                                cols.join(", ")
                            ));
                        }
                    }
                    RespondentOutcome::DuplicateInFile(k) => {
                        return Err(Error::input(format!(
                            "{file}:{}: the ID {:?} appears twice in the file (first at line \
                             {}); IDs must be unique",
                            p.line,
                            row.ext_id,
                            added_lines.get(k).copied().unwrap_or(0)
                        )));
                    }
                }
            }
        }
        Ok(())
    })?;
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
    writer.finish(skipped)?;
    // The export writes the ID column under the name it had in the first file.
    if store.meta("id_column")?.is_none() {
        store.set_meta("id_column", &headers[id_col])?;
    }
    if added == 0 && skipped > 0 {
        warnings.push(format!(
            "every row of {file} was already in the project with the same values; nothing was added"
        ));
    }

    let questions = open_cols
        .iter()
        .enumerate()
        .map(|(k, &c)| QuestionCounts {
            name: headers[c].clone(),
            label: source
                .labels()
                .and_then(|l| l.get(c))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            new: question_new[k],
            answered: answered[k],
            empty: empty[k],
        })
        .collect();
    let variables = var_layout
        .iter()
        .zip(&level_sets)
        .zip(&var_missing)
        .map(|(((v, new), levels), missing)| VariableReport {
            name: v.name.clone(),
            kind: v.kind,
            new: *new,
            levels: levels.clone(),
            missing: *missing,
        })
        .collect();
    Ok(ImportSummary {
        file,
        qualtrics: source.is_qualtrics(),
        respondents_added: added,
        respondents_skipped: skipped,
        respondents_total: store.respondent_count()?,
        questions,
        variables,
        warnings,
    })
}

/// Respondents written per statement when the project is empty.
const CHUNK: usize = 32;

/// One value made ready on the reading thread: parsed numbers, missing values as Null, and
/// answers whose line endings had to be rewritten.
enum Prepared {
    Null,
    Int(i64),
    Real(f64),
    /// The field of that index, as it is.
    Field(usize),
    /// A trimmed slice of the field: (field, start, end) in bytes.
    Trimmed(usize, usize, usize),
    Owned(String),
}

/// A survey row prepared for the project, owning its text.
struct PreparedRow {
    line: u64,
    text: String,
    ends: Vec<usize>,
    values: Vec<Prepared>,
    answers: Vec<Prepared>,
}

impl PreparedRow {
    fn new(
        row: Row<'_>,
        var_cols: &[(usize, VariableKind)],
        open_cols: &[usize],
        missing_codes: &[String],
    ) -> PreparedRow {
        let mut text = String::with_capacity(row.fields.iter().map(|f| f.len()).sum());
        let mut ends = Vec::with_capacity(row.fields.len());
        for f in row.fields {
            text.push_str(f);
            ends.push(text.len());
        }
        let values = var_cols
            .iter()
            .map(|&(c, kind)| {
                let raw = row.fields[c];
                if is_missing_value(raw, missing_codes) {
                    return Prepared::Null;
                }
                let t = raw.trim();
                let lead = raw.len() - raw.trim_start().len();
                match kind {
                    // Pass 1 checked every value of a numeric column parses.
                    VariableKind::Numeric => match t.parse::<i64>() {
                        Ok(i) => Prepared::Int(i),
                        Err(_) => parse_number(t).map_or(Prepared::Null, Prepared::Real),
                    },
                    VariableKind::Date => {
                        debug_assert!(is_iso_date(raw));
                        Prepared::Trimmed(c, lead, lead + t.len())
                    }
                    _ => Prepared::Field(c),
                }
            })
            .collect();
        let answers = open_cols
            .iter()
            .map(|&c| match normalize_newlines(row.fields[c]) {
                std::borrow::Cow::Borrowed(_) => Prepared::Field(c),
                std::borrow::Cow::Owned(s) => Prepared::Owned(s),
            })
            .collect();
        PreparedRow {
            line: row.line,
            text,
            ends,
            values,
            answers,
        }
    }

    fn field(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    fn text_of<'s>(&'s self, p: &'s Prepared) -> &'s str {
        match p {
            Prepared::Field(c) => self.field(*c),
            Prepared::Trimmed(c, a, b) => &self.field(*c)[*a..*b],
            Prepared::Owned(s) => s,
            _ => "",
        }
    }

    fn as_new_respondent(&self, id_col: usize) -> NewRespondent<'_> {
        NewRespondent {
            ext_id: self.field(id_col),
            values: self
                .values
                .iter()
                .map(|v| match v {
                    Prepared::Null => ValueRef::Null,
                    Prepared::Int(i) => ValueRef::Integer(*i),
                    Prepared::Real(f) => ValueRef::Real(*f),
                    other => ValueRef::Text(self.text_of(other).as_bytes()),
                })
                .collect(),
            answers: self.answers.iter().map(|a| self.text_of(a)).collect(),
        }
    }
}

fn undo_counts(answers: &[&str], answered: &mut [u64], empty: &mut [u64]) {
    for (k, a) in answers.iter().enumerate() {
        if crate::empty::is_empty_answer(a) {
            empty[k] -= 1;
        } else {
            answered[k] -= 1;
        }
    }
}

fn describe(role: &Role) -> &'static str {
    match role {
        Role::Id => "the ID column",
        Role::Question => "an open-ended question (--open)",
        Role::Variable(VariableKind::Numeric) => "declared --numeric",
        Role::Variable(VariableKind::Categorical) => "declared --categorical",
        Role::Variable(VariableKind::Text) => "declared --text",
        Role::Variable(VariableKind::Date) => "declared --date",
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

fn progress_bar(enabled: bool, what: &'static str, len: Option<u64>) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let style = match len {
        Some(_) => {
            indicatif::ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} rows ({eta})")
        }
        None => indicatif::ProgressStyle::with_template("{msg:>10} {spinner} {pos} rows"),
    };
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}
