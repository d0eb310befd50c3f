//! What each column of a survey file becomes (the ID, a question, a variable of a known or
//! inferred kind, or nothing), decided from the options and the project before anything is
//! written, with the errors that name the column and the option at fault.

use super::SurveyOptions;
use crate::error::{Error, Result};
use crate::import::infer::ColumnStats;
use crate::import::names;
use crate::import::source::{Row, SurveySource};
use crate::model::empty::is_missing_value;
use crate::store::{ExistingVariable, VariableKind};
use std::collections::HashMap;
use std::path::Path;

/// A column of the file and what it becomes.
#[derive(Debug, Clone)]
pub(super) enum Role {
    Id,
    Question,
    /// A variable whose kind is known: from the project, or declared with an option.
    Variable(VariableKind),
    /// A new variable whose kind the values will tell.
    Infer,
    Skip,
}

/// The file's columns as the options name them, resolved before anything is written.
pub(super) struct Columns {
    pub(super) file: String,
    pub(super) headers: Vec<String>,
    pub(super) id_col: usize,
    pub(super) open_cols: Vec<usize>,
    pub(super) missing_codes: Vec<String>,
    /// `--levels`: (column, levels in order).
    pub(super) levels: Vec<(usize, Vec<String>)>,
    /// Qualtrics' question texts, one per column.
    labels: Option<Vec<String>>,
}

impl Columns {
    pub(super) fn resolve(
        source: &SurveySource,
        path: &Path,
        opts: &SurveyOptions,
    ) -> Result<Columns> {
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
    pub(super) fn label(&self, c: usize) -> Option<String> {
        self.labels
            .as_ref()
            .and_then(|l| l.get(c))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
}

/// What the project holds before the import: read once, used to plan and to write.
#[derive(Clone, Copy)]
pub(super) struct Existing<'a> {
    pub(super) questions: &'a [String],
    pub(super) variables: &'a HashMap<String, ExistingVariable>,
}

/// Decides what each column becomes: the ID, a question, a variable of a known kind (from the
/// project or an option), a variable to infer, or skipped. The project's questions and variables
/// are passed in: the import reads them once.
pub(super) fn plan_roles(
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
