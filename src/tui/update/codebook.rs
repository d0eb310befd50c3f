//! The codebook panel: moving the selection, re-reading the codebook after a change, and the
//! codebook's own edits (order, nesting, merge, delete) with their questions before a change that
//! touches other coders' codings. Adding and editing a code is [`super::code_form`].

use super::finder::open_finder;
use super::list::refresh_answer;
use super::{counts_changed, info};
use crate::error::Result;
use crate::tui::action::Action;
use crate::tui::state::*;

pub(super) fn code_move(state: &mut State, a: Action) {
    let n = state.codes.len();
    if n == 0 {
        return;
    }
    let page = state.areas().codebook_rows().max(1);
    let s = state.code_selected;
    state.code_selected = match a {
        Action::Down => (s + 1).min(n - 1),
        Action::Up => s.saturating_sub(1),
        Action::PageDown => (s + page).min(n - 1),
        Action::PageUp => s.saturating_sub(page),
        Action::First => 0,
        Action::Last => n - 1,
        _ => s,
    };
    ensure_code_visible(state);
}

pub(super) fn ensure_code_visible(state: &mut State) {
    let h = state.areas().codebook_rows().max(1);
    if state.code_selected < state.code_offset {
        state.code_offset = state.code_selected;
    } else if state.code_selected >= state.code_offset + h {
        state.code_offset = state.code_selected + 1 - h;
    }
}

/// Re-reads the codebook (after an edit, an undo, or another coder's change), keeping the
/// selection on `select` or on the code that was selected.
pub(super) fn reload_codes(state: &mut State, select: Option<i64>) -> Result<()> {
    let keep = select.or_else(|| state.codes.get(state.code_selected).map(|c| c.id));
    state.codes = state.store.codes()?;
    if let Some(id) = keep
        && let Some(i) = state.codes.iter().position(|c| c.id == id)
    {
        state.code_selected = i;
    }
    state.code_selected = state.code_selected.min(state.codes.len().saturating_sub(1));
    ensure_code_visible(state);
    counts_changed(state);
    Ok(())
}

/// Moves the selected code among its siblings, or nests it under the code above it or lifts it a
/// level.
pub(super) fn reorder(state: &mut State, action: Action) -> Result<()> {
    let Some(id) = state.codes.get(state.code_selected).map(|c| c.id) else {
        return Ok(());
    };
    let changed = match action {
        Action::MoveCodeUp => state.store.move_code(state.coder_id, id, true)?,
        Action::MoveCodeDown => state.store.move_code(state.coder_id, id, false)?,
        Action::Nest => state.store.nest_code(state.coder_id, id, true)?,
        _ => state.store.nest_code(state.coder_id, id, false)?,
    };
    reload_codes(state, Some(id))?;
    if !changed {
        info(
            state,
            match action {
                Action::MoveCodeUp => "already the first of its level",
                Action::MoveCodeDown => "already the last of its level",
                Action::Nest => "no code above it on its level to nest under",
                _ => "already at the top level",
            },
        );
    }
    Ok(())
}

/// The finder, to choose the code the selected one merges into.
pub(super) fn open_merge(state: &mut State) {
    let Some(id) = state.codes.get(state.code_selected).map(|c| c.id) else {
        return;
    };
    open_finder(state, FinderPurpose::MergeInto(id));
}

/// A merge moves other coders' codings too, so it is asked before it is done.
pub(super) fn ask_merge(state: &mut State, from: i64, code: i64) -> Result<()> {
    let name = |id| {
        state
            .code_by_id(id)
            .map_or_else(String::new, |c| c.name.clone())
    };
    let used = state.store.code_use(state.coder_id, from)?;
    state.popup = Some(Popup::Confirm {
        question: format!(
            "Merge \"{}\" into \"{}\"? Its {} codings ({} yours, {} by other coders) become \
             codings of \"{}\" and \"{}\" leaves the codebook. u undoes it.",
            name(from),
            name(code),
            used.mine + used.others,
            used.mine,
            used.others,
            name(code),
            name(from)
        ),
        pending: Pending::Merge { from, into: code },
        back: None,
    });
    Ok(())
}

pub(super) fn merge(state: &mut State, from: i64, into: i64) -> Result<()> {
    let name = |id| {
        state
            .code_by_id(id)
            .map_or_else(String::new, |c| c.name.clone())
    };
    let (a, b) = (name(from), name(into));
    let n = state.store.merge_code(state.coder_id, from, into)?;
    reload_codes(state, Some(into))?;
    refresh_answer(state)?;
    info(
        state,
        format!("merged {a} into {b}: {n} codings moved · u undoes"),
    );
    Ok(())
}

/// Deleting a code deletes other coders' codings too, so it is asked before it is done.
pub(super) fn ask_delete(state: &mut State) -> Result<()> {
    let Some(code) = state.codes.get(state.code_selected).cloned() else {
        return Ok(());
    };
    let used = state.store.code_use(state.coder_id, code.id)?;
    let kids = state
        .codes
        .iter()
        .filter(|c| c.parent_id == Some(code.id))
        .count();
    let mut q = format!(
        "Delete the code \"{}\" and its {} codings ({} yours, {} by other coders)?",
        code.name,
        used.mine + used.others,
        used.mine,
        used.others
    );
    if kids > 0 {
        q.push_str(&format!(" Its {kids} sub-codes move up a level."));
    }
    q.push_str(" u undoes it.");
    state.popup = Some(Popup::Confirm {
        question: q,
        pending: Pending::DeleteCode(code.id),
        back: None,
    });
    Ok(())
}

pub(super) fn delete(state: &mut State, id: i64) -> Result<()> {
    let name = state
        .code_by_id(id)
        .map_or_else(String::new, |c| c.name.clone());
    let n = state.store.delete_code(state.coder_id, id)?;
    reload_codes(state, None)?;
    refresh_answer(state)?;
    info(
        state,
        format!("deleted {name} and its {n} codings · u undoes"),
    );
    Ok(())
}

/// The selected code's definition, criteria and this coder's memo on it.
pub(super) fn open_details(state: &mut State) -> Result<()> {
    let Some(code) = state.codes.get(state.code_selected).map(|c| c.id) else {
        return Ok(());
    };
    let memo = state.store.code_memo(state.coder_id, code)?;
    state.popup = Some(Popup::Details {
        code: state.code_selected,
        memo,
    });
    Ok(())
}
