//! `lacrima export dataset`: the coded dataset as wide CSV (with its data dictionary), long CSV
//! or JSON, to standard output or to a private file renamed into place.

use super::{DatasetArgs, DatasetFormat};
use crate::error::{Error, Result};
use crate::export::Output;
use crate::export::dataset::{
    RespondentKey, Selection, dictionary_path, plan_wide, write_dictionary, write_json, write_long,
    write_wide,
};
use crate::report::{choose_coder, choose_questions, unknown_coder};
use crate::store::{DatasetLayout, DatasetVariable, Store};
use std::path::Path;

pub(super) fn export(project: &Path, a: &DatasetArgs) -> Result<()> {
    let store = Store::open(project)?;
    let layout = store.dataset_layout()?;
    if a.short_names && a.format != DatasetFormat::CsvWide {
        return Err(Error::input(
            "--short-names names the columns of --format csv-wide; the other formats have no \
             variable columns to rename",
        ));
    }
    if a.spreadsheet_safe && a.format == DatasetFormat::Json {
        return Err(Error::input(
            "--spreadsheet-safe applies to the CSV formats (csv-wide, csv-long): JSON is not \
             opened as a spreadsheet",
        ));
    }
    let (questions, question_name) = choose_questions(&layout, a.question.as_deref())?;
    let question = question_name.as_ref().map(|_| questions[0].id);
    let (variables, key) = exclusions(&layout, &a.exclude_vars)?;
    match a.format {
        DatasetFormat::CsvWide => {
            let nobody_coded = a.coder.is_none()
                && store
                    .coders_overview()?
                    .iter()
                    .all(|c| c.answers_rated == 0 && !c.is_consensus);
            let (coder_id, coder) = if nobody_coded {
                // The survey's variables are worth exporting before any coding: the code columns
                // are then empty (no answer rated), and the researcher is told so.
                super::warn("nobody has coded an answer yet: every code column is empty");
                (-1, "(nobody)".to_string())
            } else {
                choose_coder(&store, a.coder.as_deref())?
            };
            let plan = plan_wide(&layout, variables, key, questions, a.short_names);
            let mut out = Output::open(a.out.as_deref())?;
            let written = write_wide(&store, &plan, coder_id, a.spreadsheet_safe, &mut out)?;
            let rows = written.rows;
            let prefixed = a.spreadsheet_safe.then_some(written.prefixed.as_slice());
            if let Some(counts) = prefixed {
                let mut guard = crate::export::spreadsheet::Guard::new(true);
                guard.prefixed = counts.iter().sum();
                guard.report("the dataset");
            }
            let dictionary = match &a.out {
                Some(path) => {
                    let dict = dictionary_path(path);
                    let mut d = Output::open(Some(&dict))?;
                    write_dictionary(&plan, prefixed, &mut d)?;
                    Some((d, dict))
                }
                None => None,
            };
            out.finish()?;
            if let Some((d, dict)) = dictionary {
                d.finish()?;
                if let Some(path) = &a.out {
                    eprintln!(
                        "wrote {rows} respondents with the codes of coder {coder} to {} and its \
                         data dictionary to {}",
                        path.display(),
                        dict.display()
                    );
                }
            }
            Ok(())
        }
        DatasetFormat::CsvLong | DatasetFormat::Json => {
            let coder = match a.coder.as_deref() {
                None => None,
                Some(name) => match store.find_coder(name)? {
                    Some(id) => Some((id, name)),
                    None => return Err(unknown_coder(&store, name)?),
                },
            };
            let sel = Selection {
                layout: &layout,
                variables,
                key,
                questions,
                question,
            };
            let mut out = Output::open(a.out.as_deref())?;
            if a.format == DatasetFormat::CsvLong {
                let mut guard = crate::export::spreadsheet::Guard::new(a.spreadsheet_safe);
                write_long(&store, &sel, coder.map(|(id, _)| id), &mut guard, &mut out)?;
                guard.report("the codings");
            } else {
                write_json(&store, &sel, coder, &mut out)?;
            }
            out.finish()
        }
    }
}

/// The variables left after `--exclude-vars`, and how respondents are identified (by their ID,
/// unless the ID column itself was excluded). A name that is neither a variable nor the ID
/// column is an error: a typo must not let an identifying column slip into the export.
fn exclusions<'a>(
    layout: &'a DatasetLayout,
    exclude: &[String],
) -> Result<(Vec<&'a DatasetVariable>, RespondentKey)> {
    let id_name = layout.id_column.clone().unwrap_or_else(|| "id".into());
    let mut known: Vec<String> = vec![id_name.clone()];
    known.extend(layout.variables.iter().map(|v| v.name.clone()));
    let names = crate::import::names::expand(exclude, &known);
    for n in &names {
        if !known.contains(n) {
            let what = if layout.questions.iter().any(|q| &q.name == n) {
                format!("{n:?} is an open-ended question; choose questions with --question instead")
            } else {
                format!("no variable called {n:?}")
            };
            return Err(Error::input(format!(
                "--exclude-vars: {what}; nothing was exported. The ID column is {id_name:?}; \
                 the variables are: {}",
                crate::import::names::list(&known[1..])
            )));
        }
    }
    let key = if names.contains(&id_name) {
        RespondentKey::Number
    } else {
        RespondentKey::Id(id_name)
    };
    let variables = layout
        .variables
        .iter()
        .filter(|v| !names.contains(&v.name))
        .collect();
    Ok((variables, key))
}
