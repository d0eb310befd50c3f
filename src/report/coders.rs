//! Which coders a command or screen compares: names given as a comma list or repeated (a name
//! that matches an existing coder exactly is taken whole), resolved to the project's coders, and
//! the question a comparison is limited to.

use crate::error::{Error, Result};
use crate::store::{RatingCoder, Store};

/// Splits comma lists, except that a name matching an existing coder exactly is taken whole
/// (DESIGN.md section 5).
pub fn coder_names(values: &[String], existing: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let parts: Vec<String> = if existing.iter().any(|e| e == v) {
            vec![v.clone()]
        } else {
            v.split(',').map(|p| p.trim().to_string()).collect()
        };
        for p in parts {
            if p.is_empty() {
                return Err(Error::input(format!(
                    "an empty coder name in {v:?}: write --coders A,B"
                )));
            }
            if out.contains(&p) {
                return Err(Error::input(format!("{p:?} is named twice")));
            }
            out.push(p);
        }
    }
    Ok(out)
}

fn describe(c: &RatingCoder) -> String {
    match (c.is_consensus, c.has_ratings) {
        (true, _) => format!("{} (consensus)", c.name),
        (false, true) => c.name.clone(),
        (false, false) => format!("{} (rated nothing)", c.name),
    }
}

pub fn coder_list(all: &[RatingCoder]) -> String {
    if all.is_empty() {
        "(none yet)".into()
    } else {
        all.iter().map(describe).collect::<Vec<_>>().join(", ")
    }
}

fn unknown_coder_error(name: &str, all: &[RatingCoder]) -> Error {
    Error::input(format!(
        "no coder called {name:?}; the coders are: {}",
        coder_list(all)
    ))
}

/// Resolves `--question`: its id, or an error naming the questions.
pub fn question_id(store: &Store, name: Option<&str>) -> Result<Option<i64>> {
    let Some(name) = name else { return Ok(None) };
    match store.question_id_by_name(name)? {
        Some(id) => Ok(Some(id)),
        None => {
            let names: Vec<String> = store.question_names()?;
            Err(Error::input(format!(
                "no question called {name:?}; the questions are: {}",
                if names.is_empty() {
                    "(none: import a survey first)".into()
                } else {
                    names.join(", ")
                }
            )))
        }
    }
}

/// Resolves named coders (all must exist) to (id, name), in the order given.
pub fn named_coders(values: &[String], all: &[RatingCoder]) -> Result<Vec<(i64, String)>> {
    let existing: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
    coder_names(values, &existing)?
        .into_iter()
        .map(|n| match all.iter().find(|c| c.name == n) {
            Some(c) => Ok((c.id, c.name.clone())),
            None => Err(unknown_coder_error(&n, all)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_name_with_a_comma_is_taken_whole() {
        let existing = vec!["Smith, J".to_string(), "ana".to_string()];
        assert_eq!(
            coder_names(&["Smith, J".into()], &existing).unwrap(),
            ["Smith, J"]
        );
        assert_eq!(
            coder_names(&["ana,ben".into(), "cy".into()], &existing).unwrap(),
            ["ana", "ben", "cy"]
        );
        assert!(coder_names(&["ana,ana".into()], &existing).is_err());
        assert!(coder_names(&["ana,".into()], &existing).is_err());
    }
}
