//! `update(&mut State, Action)`: the one place where the coding screen changes. Writes go through
//! the store, each committed before `update` returns, so whatever the next frame shows is already
//! in the project file.
//!
//! This file owns the entry point: which actions come from outside the keyboard, how a key that
//! meets another program's write lock is kept, how an error reaches the status line, and which
//! file handles a key on the main screen (by the panel in focus where that matters). What a key
//! does lives with what it changes: `list` and `filter` the answers shown, `text_cursor` the
//! cursor and selection in the answer, `coding` the codings, `codebook` and `code_form` the
//! codes, `popups` and `finder` the keys inside pop-ups, `mouse` clicks and the wheel, `launch`
//! the other screens, `shared_file` the other programs using the project file.

mod autocode;
mod code_form;
mod codebook;
mod coding;
mod filter;
mod finder;
mod launch;
mod list;
mod mouse;
mod popups;
mod shared_file;
mod text_cursor;

pub use finder::fuzzy_score;
pub(super) use list::start;
pub use popups::text_input;

use super::action::Action;
use super::state::*;
use crate::error::{Error, Result};
use ratatui::layout::Rect;

pub fn update(state: &mut State, action: Action) {
    let from_outside = matches!(
        action,
        Action::Tick | Action::Counts(_) | Action::Resize(..) | Action::Preview(_)
    );
    if from_outside {
        let tick = action == Action::Tick;
        let result = apply(state, action);
        report(state, result);
        if tick {
            shared_file::check_in_place(state);
            shared_file::retry_waiting(state);
        }
        return;
    }
    // A message stays until the next key, so it can be read.
    state.message = None;
    if state.waiting.is_some() {
        shared_file::hold(state, action);
        return;
    }
    let had_popup = state.popup.is_some();
    match apply(state, action.clone()) {
        // Nothing was written; a key on the main screen is kept and tried again. A pop-up that
        // failed stays open with what was typed, so Enter tries again.
        Err(e) if e.is_busy() && !had_popup => {
            state.waiting = Some(Waiting {
                actions: std::collections::VecDeque::from([action]),
                since: std::time::Instant::now(),
            });
            shared_file::say_waiting(state);
        }
        result => report(state, result),
    }
}

fn report(state: &mut State, result: Result<()>) {
    match result {
        Ok(()) => {}
        Err(Error::ProjectGone(_)) => shared_file::project_gone(state),
        Err(e) => state.message = Some((e.to_string(), MsgKind::Error)),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn info(state: &mut State, msg: impl Into<String>) {
    state.message = Some((msg.into(), MsgKind::Info));
}

fn apply(state: &mut State, action: Action) -> Result<()> {
    match action {
        Action::Resize(w, h) => {
            state.size = Rect::new(0, 0, w, h);
            list::ensure_list_visible(state);
            codebook::ensure_code_visible(state);
            text_cursor::ensure_cursor_visible(state);
            Ok(())
        }
        Action::Counts(c) => {
            // An answer to an older request is still better than none, but never replaces a newer one.
            if state
                .counts
                .as_ref()
                .is_none_or(|old| old.generation <= c.generation)
            {
                state.counts = Some(c);
            }
            Ok(())
        }
        Action::Preview(p) => {
            autocode::arrived(state, p);
            Ok(())
        }
        Action::Tick => shared_file::notice_others(state),
        Action::Click { column, row } => mouse::click(state, column, row),
        Action::Scroll { column, row, down } => mouse::scroll(state, column, row, down),
        a if state.popup.is_some() => popups::popup_action(state, a),
        a => main_action(state, a),
    }
}

fn counts_changed(state: &mut State) {
    state.counts_generation += 1;
}

/// A key on the main screen (no pop-up open).
fn main_action(state: &mut State, action: Action) -> Result<()> {
    match action {
        Action::Quit => state.quit = true,
        Action::Help => state.popup = Some(Popup::Help { scroll: 0 }),
        Action::FocusNext | Action::FocusPrev => {
            let order = [Focus::List, Focus::Text, Focus::Codebook];
            let i = order.iter().position(|f| *f == state.focus).unwrap_or(0);
            let j = if action == Action::FocusNext {
                (i + 1) % 3
            } else {
                (i + 2) % 3
            };
            state.focus = order[j];
        }
        Action::ToggleCode(d) => coding::toggle_shortcut(state, d)?,
        Action::ApplySelectedCode => coding::apply_selected(state)?,
        Action::OpenFinder => coding::open_apply_finder(state)?,
        Action::NoCode => coding::no_code(state)?,
        Action::Undo | Action::Redo => coding::replay(state, action == Action::Undo)?,
        Action::Memo => popups::open_memo(state)?,
        Action::Search => filter::open_search(state),
        Action::FilterMenu => filter::open_filter_menu(state),
        Action::Agreement => launch::open_agreement(state)?,
        Action::Analysis => launch::open_analysis(state)?,
        Action::Autocode => autocode::open(state)?,
        Action::ToggleOthers => list::toggle_others(state)?,
        Action::Select => text_cursor::select(state),
        Action::NextUnreviewed => list::go_to_unreviewed(state, true)?,
        Action::PrevUnreviewed => list::go_to_unreviewed(state, false)?,
        Action::CancelSelection => state.text.anchor = None,
        Action::RemoveSegment => coding::remove_segment(state)?,
        a @ (Action::Down
        | Action::Up
        | Action::First
        | Action::Last
        | Action::PageDown
        | Action::PageUp) => match state.focus {
            Focus::List => list::list_move(state, a)?,
            Focus::Text => text_cursor::text_move(state, a),
            Focus::Codebook => codebook::code_move(state, a),
        },
        a @ (Action::Left
        | Action::Right
        | Action::WordNext
        | Action::WordPrev
        | Action::LineStart
        | Action::LineEnd) => text_cursor::text_move(state, a),
        a @ (Action::ExtendLeft | Action::ExtendRight | Action::ExtendUp | Action::ExtendDown) => {
            text_cursor::extend(state, a)
        }
        Action::AddCode => code_form::open_code_form(state, FormKind::Add)?,
        Action::RenameCode | Action::EditCode => {
            code_form::open_for_selected(state, action == Action::RenameCode)?
        }
        a @ (Action::MoveCodeUp | Action::MoveCodeDown | Action::Nest | Action::Unnest) => {
            codebook::reorder(state, a)?
        }
        Action::MergeCode => codebook::open_merge(state),
        Action::DeleteCode => codebook::ask_delete(state)?,
        Action::CodeDetails => codebook::open_details(state)?,
        // Pop-up keys without a pop-up do nothing.
        _ => {}
    }
    Ok(())
}
