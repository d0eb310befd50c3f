//! Whose codings and which questions a report covers: the coder chosen by DESIGN section 5's rule
//! (the consensus coder if there is exactly one, else the only coder), the questions, and the
//! variable a report is by. Shared by the command line, the screens and the exports.

use crate::error::{Error, Result};
use crate::store::{DatasetLayout, DatasetQuestion, DatasetVariable, Store, VariableKind};

/// Whose codings and which questions an analysis or a wide export uses.
#[derive(Debug, Clone)]
pub struct Scope {
    pub coder_id: i64,
    pub coder: String,
    /// The chosen questions, in their order.
    pub questions: Vec<DatasetQuestion>,
    /// The question named with `--question`, if any.
    pub question: Option<String>,
}

impl Scope {
    pub fn question_ids(&self) -> Vec<i64> {
        self.questions.iter().map(|q| q.id).collect()
    }
}

/// The coder to use: the one named, else the consensus coder if there is exactly one, else the
/// only coder who has rated anything; otherwise the researcher must choose.
pub fn choose_coder(store: &Store, given: Option<&str>) -> Result<(i64, String)> {
    if let Some(name) = given {
        return match store.find_coder(name)? {
            Some(id) => Ok((id, name.to_string())),
            None => Err(unknown_coder(store, name)?),
        };
    }
    let coders = store.coders_overview()?;
    let consensus: Vec<_> = coders.iter().filter(|c| c.is_consensus).collect();
    if let [only] = consensus[..] {
        return Ok((only.id, only.name.clone()));
    }
    let active: Vec<_> = coders.iter().filter(|c| c.answers_rated > 0).collect();
    if consensus.is_empty()
        && let [only] = active[..]
    {
        return Ok((only.id, only.name.clone()));
    }
    if coders.is_empty() || (consensus.is_empty() && active.is_empty()) {
        return Err(Error::input(
            "nobody has coded an answer in this project yet: import codings with \
             `lacrima codings import FILE` or code with `lacrima code --coder NAME`",
        ));
    }
    let list: Vec<String> = coders
        .iter()
        .map(|c| {
            let mut s = format!("{} ({} answers rated", c.name, c.answers_rated);
            if c.is_consensus {
                s.push_str(", consensus");
            }
            s.push(')');
            s
        })
        .collect();
    Err(Error::input(format!(
        "which coder's codings? {}; choose one with --coder NAME. The coders are: {}",
        if consensus.len() > 1 {
            "there are several consensus coders"
        } else {
            "there is no consensus coder and several coders have coded"
        },
        list.join(", ")
    )))
}

/// The questions to use: the one named, or all of them.
pub fn choose_questions(
    layout: &DatasetLayout,
    given: Option<&str>,
) -> Result<(Vec<DatasetQuestion>, Option<String>)> {
    match given {
        None => Ok((layout.questions.clone(), None)),
        Some(name) => match layout.questions.iter().find(|q| q.name == name) {
            Some(q) => Ok((vec![q.clone()], Some(q.name.clone()))),
            None => Err(Error::input(format!(
                "no question called {name:?}; the questions are: {}",
                list_or_none(layout.questions.iter().map(|q| q.name.as_str()))
            ))),
        },
    }
}

pub fn scope(
    store: &Store,
    layout: &DatasetLayout,
    coder: Option<&str>,
    question: Option<&str>,
) -> Result<Scope> {
    let (questions, question) = choose_questions(layout, question)?;
    let (coder_id, coder) = choose_coder(store, coder)?;
    Ok(Scope {
        coder_id,
        coder,
        questions,
        question,
    })
}

fn list_or_none<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if v.is_empty() {
        "(none)".into()
    } else {
        v.join(", ")
    }
}

/// The variable to analyse by: it must exist and be numeric or categorical.
pub fn choose_variable<'a>(layout: &'a DatasetLayout, name: &str) -> Result<&'a DatasetVariable> {
    let usable = || {
        list_or_none(
            layout
                .variables
                .iter()
                .filter(|v| matches!(v.kind, VariableKind::Numeric | VariableKind::Categorical))
                .map(|v| v.name.as_str()),
        )
    };
    let Some(v) = layout.variables.iter().find(|v| v.name == name) else {
        let hint = if layout.questions.iter().any(|q| q.name == name) {
            format!("{name:?} is an open-ended question, not a variable")
        } else if let Some(v) = layout
            .variables
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
        {
            format!("no variable called {name:?} (did you mean {:?}?)", v.name)
        } else {
            format!("no variable called {name:?}")
        };
        return Err(Error::input(format!(
            "{hint}; the numeric and categorical variables are: {}",
            usable()
        )));
    };
    match v.kind {
        VariableKind::Numeric | VariableKind::Categorical => Ok(v),
        VariableKind::Text | VariableKind::Date => Err(Error::input(format!(
            "{:?} is a {} variable; codes are analysed against numeric and categorical \
             variables only (re-import it with --categorical if its values are categories). \
             The numeric and categorical variables are: {}",
            v.name,
            v.kind.as_str(),
            usable()
        ))),
    }
}

/// The error for a coder name that is not in the project, listing those that are.
pub fn unknown_coder(store: &Store, name: &str) -> Result<Error> {
    let names: Vec<String> = store.coder_names()?.into_iter().map(|(n, _)| n).collect();
    Ok(Error::input(format!(
        "no coder called {name:?}; the coders are: {}",
        if names.is_empty() {
            "(none yet)".to_string()
        } else {
            names.join(", ")
        }
    )))
}
