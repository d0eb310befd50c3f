//! The form that adds a code, renames one, or edits its definition, criteria, colour, shortcut
//! and this coder's memo on it: which fields it shows, and saving what was typed.

use super::codebook::reload_codes;
use super::info;
use super::list::load_answer;
use super::popups::{input_text, text_input};
use crate::error::{Error, Result};
use crate::store::{CodeFields, NewCode};
use crate::tui::state::*;

/// The form for the code selected in the codebook panel.
pub(super) fn open_for_selected(state: &mut State, rename: bool) -> Result<()> {
    let Some(id) = state.codes.get(state.code_selected).map(|c| c.id) else {
        return Err(Error::input("the codebook is empty: a adds a code"));
    };
    let kind = if rename {
        FormKind::Rename(id)
    } else {
        FormKind::Edit(id)
    };
    open_code_form(state, kind)
}

pub(super) fn open_code_form(state: &mut State, kind: FormKind) -> Result<()> {
    let field = |label: &'static str, value: &str, multiline: bool| Field {
        label,
        input: text_input(value, multiline),
        multiline,
    };
    let fields = match kind {
        FormKind::Add => {
            // A new code goes beside the selected one, or inside it when it only groups codes.
            let parent = state.codes.get(state.code_selected).and_then(|c| {
                if c.codable {
                    c.parent.clone()
                } else {
                    Some(c.name.clone())
                }
            });
            vec![
                field("Name", "", false),
                field(
                    "Parent (a code's name; empty for the top level)",
                    &parent.unwrap_or_default(),
                    false,
                ),
                field("Definition", "", true),
                field("Colour (#RRGGBB)", "", false),
                field("Shortcut (1-9)", "", false),
            ]
        }
        FormKind::Rename(id) => {
            let c = state
                .code_by_id(id)
                .cloned()
                .ok_or_else(|| Error::input("no such code"))?;
            vec![field("Name", &c.name, false)]
        }
        FormKind::Edit(id) => {
            let c = state
                .code_by_id(id)
                .cloned()
                .ok_or_else(|| Error::input("no such code"))?;
            let memo = state.store.code_memo(state.coder_id, id)?;
            vec![
                field("Definition", &c.description, true),
                field("Inclusion criteria", &c.inclusion, true),
                field("Exclusion criteria", &c.exclusion, true),
                field("Example", &c.example, true),
                field("My memo on this code", &memo, true),
                field("Colour (#RRGGBB)", c.color.as_deref().unwrap_or(""), false),
                field("Shortcut (1-9)", c.shortcut.as_deref().unwrap_or(""), false),
            ]
        }
    };
    let original = fields.iter().map(|f| input_text(&f.input)).collect();
    state.popup = Some(Popup::Form {
        kind,
        fields,
        focus: 0,
        error: None,
        original,
    });
    Ok(())
}

fn find_code_by_name(state: &State, name: &str) -> Option<i64> {
    state
        .codes
        .iter()
        .find(|c| c.name.to_lowercase() == name.to_lowercase())
        .map(|c| c.id)
}

pub(super) fn save_form(state: &mut State, kind: FormKind, values: &[String]) -> Result<()> {
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    match kind {
        FormKind::Add => {
            let parent = values[1].trim();
            let parent_id = if parent.is_empty() {
                None
            } else {
                Some(find_code_by_name(state, parent).ok_or_else(|| {
                    Error::input(format!(
                        "there is no code called {parent:?} to be the parent"
                    ))
                })?)
            };
            let id = state.store.add_code(
                state.coder_id,
                &NewCode {
                    name: values[0].clone(),
                    parent_id,
                    description: values[2].clone(),
                    color: opt(&values[3]),
                    shortcut: opt(&values[4]),
                },
            )?;
            state.popup = None;
            reload_codes(state, Some(id))?;
            info(
                state,
                format!("added the code {} · saved", values[0].trim()),
            );
        }
        FormKind::Rename(id) => {
            let c = state
                .code_by_id(id)
                .cloned()
                .ok_or_else(|| Error::input("that code is gone"))?;
            let fields = CodeFields {
                name: values[0].clone(),
                description: c.description,
                inclusion: c.inclusion,
                exclusion: c.exclusion,
                example: c.example,
                color: c.color,
                shortcut: c.shortcut,
            };
            state.store.edit_code(state.coder_id, id, &fields, None)?;
            state.popup = None;
            reload_codes(state, Some(id))?;
            info(
                state,
                format!("renamed {} to {} · saved", c.name, values[0].trim()),
            );
        }
        FormKind::Edit(id) => {
            let c = state
                .code_by_id(id)
                .cloned()
                .ok_or_else(|| Error::input("that code is gone"))?;
            let fields = CodeFields {
                name: c.name.clone(),
                description: values[0].clone(),
                inclusion: values[1].clone(),
                exclusion: values[2].clone(),
                example: values[3].clone(),
                color: opt(&values[5]),
                shortcut: opt(&values[6]),
            };
            state
                .store
                .edit_code(state.coder_id, id, &fields, Some(values[4].trim_end()))?;
            state.popup = None;
            reload_codes(state, Some(id))?;
            // The shortcut or colour may show on the answer's marks.
            load_answer(state)?;
            info(state, format!("saved the code {}", c.name));
        }
    }
    Ok(())
}
