//! Keys inside a pop-up: moving in a menu or the finder, typing in a field, saving, cancelling
//! (with a question before typed text is thrown away), and the text fields themselves. What a
//! choice or a saved form then does lives with what it changes.

use super::code_form::save_form;
use super::codebook;
use super::coding::no_code_confirmed;
use super::filter::{menu_chosen, prompt_done};
use super::finder::{finder_chosen, finder_matches};
use super::info;
use super::list::refresh_answer;
use crate::error::{Error, Result};
use crate::tui::action::Action;
use crate::tui::state::*;
use ratatui_textarea::{TextArea, WrapMode};

/// A text field; a multi-line one wraps at word boundaries.
pub fn text_input(initial: &str, multiline: bool) -> TextArea<'static> {
    let lines: Vec<String> = if multiline {
        initial.split('\n').map(str::to_string).collect()
    } else {
        vec![initial.replace('\n', " ")]
    };
    let mut t = TextArea::new(lines);
    t.set_cursor_line_style(ratatui::style::Style::default());
    if multiline {
        t.set_wrap_mode(WrapMode::WordOrGlyph);
    }
    t.move_cursor(ratatui_textarea::CursorMove::Bottom);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

pub(super) fn input_text(t: &TextArea<'_>) -> String {
    t.lines().join("\n")
}

/// The memo on the answer on screen, in a multi-line field.
pub(super) fn open_memo(state: &mut State) -> Result<()> {
    let Some(a) = &state.answer else {
        return Err(Error::input("there is no answer to write a memo on"));
    };
    state.popup = Some(Popup::Memo {
        response_id: a.detail.id,
        input: text_input(&a.detail.memo, true),
        original: a.detail.memo.clone(),
    });
    Ok(())
}

pub(super) fn popup_action(state: &mut State, action: Action) -> Result<()> {
    let Some(popup) = state.popup.take() else {
        return Ok(());
    };
    match popup {
        Popup::Help { scroll } => {
            let page = state.size.height.saturating_sub(6).max(1) as usize;
            let scroll = match action {
                Action::MenuDown => scroll + 1,
                Action::MenuUp => scroll.saturating_sub(1),
                Action::PageDown => scroll + page,
                Action::PageUp => scroll.saturating_sub(page),
                Action::Cancel => return Ok(()),
                _ => scroll,
            };
            state.popup = Some(Popup::Help { scroll });
        }
        Popup::Details { code, memo } => {
            if action != Action::Cancel {
                state.popup = Some(Popup::Details { code, memo });
            }
        }
        Popup::Finder {
            purpose,
            mut input,
            mut matches,
            mut selected,
        } => match action {
            Action::Cancel => {}
            Action::MenuDown => {
                selected = (selected + 1).min(matches.len().saturating_sub(1));
                state.popup = Some(Popup::Finder {
                    purpose,
                    input,
                    matches,
                    selected,
                });
            }
            Action::MenuUp => {
                selected = selected.saturating_sub(1);
                state.popup = Some(Popup::Finder {
                    purpose,
                    input,
                    matches,
                    selected,
                });
            }
            Action::Submit | Action::Save => {
                let Some(code) = matches
                    .get(selected)
                    .and_then(|i| state.codes.get(*i))
                    .map(|c| c.id)
                else {
                    state.popup = Some(Popup::Finder {
                        purpose,
                        input,
                        matches,
                        selected,
                    });
                    return Err(Error::input("no code matches; Esc closes the finder"));
                };
                finder_chosen(state, purpose, code)?;
            }
            Action::Key(ev) => {
                input.input(ev);
                single_line(&mut input);
                matches = finder_matches(state, &purpose, &input_text(&input));
                selected = 0;
                state.popup = Some(Popup::Finder {
                    purpose,
                    input,
                    matches,
                    selected,
                });
            }
            _ => {
                state.popup = Some(Popup::Finder {
                    purpose,
                    input,
                    matches,
                    selected,
                })
            }
        },
        Popup::Menu {
            title,
            items,
            selected,
        } => match action {
            Action::Cancel => {}
            Action::MenuDown | Action::MenuUp => {
                let selected = if action == Action::MenuDown {
                    (selected + 1).min(items.len().saturating_sub(1))
                } else {
                    selected.saturating_sub(1)
                };
                state.popup = Some(Popup::Menu {
                    title,
                    items,
                    selected,
                });
            }
            Action::Submit => {
                if let Some(item) = items.get(selected).cloned() {
                    menu_chosen(state, item.choice)?;
                }
            }
            _ => {
                state.popup = Some(Popup::Menu {
                    title,
                    items,
                    selected,
                })
            }
        },
        Popup::Confirm {
            question,
            pending,
            back,
        } => match action {
            Action::Yes => confirmed(state, pending)?,
            Action::No | Action::Cancel => state.popup = back.map(|b| *b),
            _ => {
                state.popup = Some(Popup::Confirm {
                    question,
                    pending,
                    back,
                })
            }
        },
        Popup::Memo {
            response_id,
            mut input,
            original,
        } => match action {
            Action::Save => {
                let text = input_text(&input);
                if text != original {
                    state
                        .store
                        .set_answer_memo(state.coder_id, response_id, text.trim_end())?;
                    refresh_answer(state)?;
                    info(state, "memo saved");
                }
            }
            Action::Cancel => {
                if input_text(&input) != original {
                    state.popup = Some(Popup::Confirm {
                        question: "Discard the changes to this memo?".into(),
                        pending: Pending::DiscardMemo,
                        back: Some(Box::new(Popup::Memo {
                            response_id,
                            input,
                            original,
                        })),
                    });
                }
            }
            Action::Submit => {
                input.insert_newline();
                state.popup = Some(Popup::Memo {
                    response_id,
                    input,
                    original,
                });
            }
            Action::Key(ev) => {
                input.input(ev);
                state.popup = Some(Popup::Memo {
                    response_id,
                    input,
                    original,
                });
            }
            _ => {
                state.popup = Some(Popup::Memo {
                    response_id,
                    input,
                    original,
                })
            }
        },
        Popup::Form {
            kind,
            mut fields,
            mut focus,
            error,
            original,
        } => match action {
            Action::Submit | Action::Save => {
                let values: Vec<String> = fields.iter().map(|f| input_text(&f.input)).collect();
                if let Err(e) = save_form(state, kind, &values) {
                    state.popup = Some(Popup::Form {
                        kind,
                        fields,
                        focus,
                        error: Some(e.to_string()),
                        original,
                    });
                }
            }
            Action::Cancel => {
                let values: Vec<String> = fields.iter().map(|f| input_text(&f.input)).collect();
                if values != original {
                    state.popup = Some(Popup::Confirm {
                        question: "Discard what you typed in this form?".into(),
                        pending: Pending::DiscardForm,
                        back: Some(Box::new(Popup::Form {
                            kind,
                            fields,
                            focus,
                            error,
                            original,
                        })),
                    });
                }
            }
            Action::NextField | Action::PrevField => {
                let n = fields.len();
                focus = if action == Action::NextField {
                    (focus + 1) % n
                } else {
                    (focus + n - 1) % n
                };
                state.popup = Some(Popup::Form {
                    kind,
                    fields,
                    focus,
                    error,
                    original,
                });
            }
            Action::Key(ev) => {
                if let Some(f) = fields.get_mut(focus) {
                    f.input.input(ev);
                    if !f.multiline {
                        single_line(&mut f.input);
                    }
                }
                state.popup = Some(Popup::Form {
                    kind,
                    fields,
                    focus,
                    error,
                    original,
                });
            }
            _ => {
                state.popup = Some(Popup::Form {
                    kind,
                    fields,
                    focus,
                    error,
                    original,
                })
            }
        },
        popup @ Popup::Autocode { .. } => match action {
            Action::Cancel => {}
            Action::Key(ev) => super::autocode::typed(state, popup, ev),
            Action::Submit | Action::Save => {
                let Popup::Autocode {
                    code_id,
                    ref code,
                    ref input,
                    generation,
                    ref preview,
                } = popup
                else {
                    unreachable!("matched as an auto-code pop-up")
                };
                let pattern = input_text(input);
                let ready = preview
                    .as_ref()
                    .filter(|p| p.generation == generation)
                    .map(|p| p.outcome.clone());
                let refusal = match ready {
                    _ if pattern.is_empty() => Some("type a pattern first".to_string()),
                    None => Some(
                        "still counting what the pattern finds; Enter again in a moment".into(),
                    ),
                    Some(Err(e)) => Some(e),
                    Some(Ok(f)) if f.answers == 0 => Some("the pattern finds no answer".into()),
                    Some(Ok(_)) => None,
                };
                match refusal {
                    Some(why) => {
                        state.popup = Some(popup);
                        return Err(Error::input(why));
                    }
                    None => {
                        let code = code.clone();
                        super::autocode::apply(state, code_id, &code, &pattern)?;
                    }
                }
            }
            _ => state.popup = Some(popup),
        },
        Popup::Prompt {
            kind,
            mut input,
            error,
        } => match action {
            Action::Cancel => {}
            Action::Submit | Action::Save => {
                let value = input_text(&input);
                if let Err(e) = prompt_done(state, &kind, value.trim()) {
                    state.popup = Some(Popup::Prompt {
                        kind,
                        input,
                        error: Some(e.to_string()),
                    });
                }
            }
            Action::Key(ev) => {
                input.input(ev);
                single_line(&mut input);
                state.popup = Some(Popup::Prompt {
                    kind,
                    input,
                    error: None,
                });
            }
            _ => state.popup = Some(Popup::Prompt { kind, input, error }),
        },
    }
    Ok(())
}

/// Keeps a one-line field on one line (a pasted newline becomes a space).
pub(super) fn single_line(t: &mut TextArea<'static>) {
    if t.lines().len() > 1 {
        let joined = t.lines().join(" ");
        *t = text_input(&joined, false);
    }
}

fn confirmed(state: &mut State, pending: Pending) -> Result<()> {
    match pending {
        Pending::NoCode(id) => no_code_confirmed(state, id)?,
        Pending::DeleteCode(id) => codebook::delete(state, id)?,
        Pending::Merge { from, into } => codebook::merge(state, from, into)?,
        Pending::DiscardMemo | Pending::DiscardForm => {}
    }
    Ok(())
}
