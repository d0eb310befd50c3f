//! Which answers the list shows: the filter menu and the menus and prompts it leads to (a code, a
//! variable's value), the regex search, and empty answers shown or hidden.

use super::finder::open_finder;
use super::list::{load_first, reload_list};
use super::popups::text_input;
use super::{counts_changed, info};
use crate::error::{Error, Result};
use crate::store::{AnswerFilter, FilterValue, VariableKind};
use crate::tui::state::*;

/// The search prompt, holding the current pattern so it can be edited.
pub(super) fn open_search(state: &mut State) {
    let pattern = state
        .search
        .as_ref()
        .map(|s| s.pattern.clone())
        .unwrap_or_default();
    state.popup = Some(Popup::Prompt {
        kind: PromptKind::Search,
        input: text_input(&pattern, false),
        error: None,
    });
}

pub(super) fn open_filter_menu(state: &mut State) {
    let item = |label: &str, choice| MenuItem {
        label: label.to_string(),
        choice,
    };
    let mut items = vec![item("All answers", MenuChoice::Filter(AnswerFilter::All))];
    if state.has_plan {
        items.push(item(
            "Assigned to me",
            MenuChoice::Filter(AnswerFilter::Assigned),
        ));
    }
    items.extend([
        item(
            "Not yet reviewed by me",
            MenuChoice::Filter(AnswerFilter::NotReviewed),
        ),
        item("Reviewed by me", MenuChoice::Filter(AnswerFilter::Reviewed)),
        item("With code …", MenuChoice::PickCode { with: true }),
        item("Without code …", MenuChoice::PickCode { with: false }),
        item("Matching a regex …", MenuChoice::Search),
    ]);
    if !state.variables.is_empty() {
        items.push(item("By a variable's value …", MenuChoice::PickVariable));
    }
    items.push(item(
        if state.include_empty {
            "Hide empty answers (n/a, -, …)"
        } else {
            "Show empty answers too (n/a, -, …)"
        },
        MenuChoice::ToggleEmpty,
    ));
    let selected = items
        .iter()
        .position(|i| i.choice == MenuChoice::Filter(state.filter.clone()))
        .unwrap_or(0);
    state.popup = Some(Popup::Menu {
        title: "Show which answers?".into(),
        items,
        selected,
    });
}

pub(super) fn set_filter(state: &mut State, filter: AnswerFilter) -> Result<()> {
    state.filter = filter;
    state.popup = None;
    reload_list(state)?;
    let label = state.filter_label();
    if state.list.rows.is_empty() {
        info(state, format!("no answers match: {label}"));
    } else {
        info(state, format!("showing: {label}"));
    }
    Ok(())
}

pub(super) fn menu_chosen(state: &mut State, choice: MenuChoice) -> Result<()> {
    match choice {
        MenuChoice::Filter(f) => set_filter(state, f),
        MenuChoice::PickCode { with } => {
            open_finder(
                state,
                if with {
                    FinderPurpose::FilterWith
                } else {
                    FinderPurpose::FilterWithout
                },
            );
            Ok(())
        }
        MenuChoice::Search => {
            open_search(state);
            Ok(())
        }
        MenuChoice::ToggleEmpty => {
            state.include_empty = !state.include_empty;
            state.popup = None;
            reload_list(state)?;
            info(
                state,
                if state.include_empty {
                    "empty answers (n/a, -, ...) are shown too"
                } else {
                    "empty answers are hidden again"
                },
            );
            Ok(())
        }
        MenuChoice::PickVariable => {
            let items = state
                .variables
                .iter()
                .enumerate()
                .map(|(i, v)| MenuItem {
                    label: format!("{} ({})", v.name, v.kind.as_str()),
                    choice: MenuChoice::Variable(i),
                })
                .collect();
            state.popup = Some(Popup::Menu {
                title: "Filter by which variable?".into(),
                items,
                selected: 0,
            });
            Ok(())
        }
        MenuChoice::Variable(i) => {
            let v = &state.variables[i];
            if v.kind == VariableKind::Categorical && !v.levels.is_empty() {
                let items = v
                    .levels
                    .iter()
                    .map(|l| MenuItem {
                        label: l.clone(),
                        choice: MenuChoice::Level {
                            variable: i,
                            level: l.clone(),
                        },
                    })
                    .collect();
                state.popup = Some(Popup::Menu {
                    title: format!("{} =", v.name),
                    items,
                    selected: 0,
                });
            } else {
                state.popup = Some(Popup::Prompt {
                    kind: PromptKind::VariableValue(i),
                    input: text_input("", false),
                    error: None,
                });
            }
            Ok(())
        }
        MenuChoice::Level { variable, level } => {
            let column = state.variables[variable].column.clone();
            set_filter(
                state,
                AnswerFilter::Variable {
                    column,
                    value: FilterValue::Text(level),
                },
            )
        }
    }
}

pub(super) fn prompt_done(state: &mut State, kind: &PromptKind, value: &str) -> Result<()> {
    match kind {
        PromptKind::Search => {
            if value.is_empty() {
                state.search = None;
                state.popup = None;
                reload_list(state)?;
                info(state, "search cleared");
                return Ok(());
            }
            // Smart case: a pattern with a capital letter is matched exactly, else ignoring case.
            let exact = value.chars().any(char::is_uppercase);
            let regex = regex::RegexBuilder::new(value)
                .case_insensitive(!exact)
                .build()
                .map_err(|e| Error::input(format!("not a valid regex: {e}")))?;
            state.search = Some(Search {
                pattern: value.to_string(),
                regex,
            });
            state.popup = None;
            counts_changed(state);
            load_first(state)?;
            if state.list.rows.is_empty() {
                info(
                    state,
                    format!("no answer matches /{value}/ (/ and Enter on an empty line clears it)"),
                );
            } else {
                info(
                    state,
                    format!("answers matching /{value}/; / and an empty line clears the search"),
                );
            }
            Ok(())
        }
        PromptKind::VariableValue(i) => {
            let v = state.variables[*i].clone();
            let value =
                if v.kind == VariableKind::Numeric {
                    FilterValue::Number(crate::model::number::parse_number(value).ok_or_else(
                        || Error::input(format!("{} is numeric: type a number", v.name)),
                    )?)
                } else {
                    FilterValue::Text(value.to_string())
                };
            set_filter(
                state,
                AnswerFilter::Variable {
                    column: v.column,
                    value,
                },
            )
        }
    }
}
