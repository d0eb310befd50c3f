//! Coding the answer on screen: a code applied to or removed from the answer or the selected
//! segment, "no code applies", undo and redo, and the counts moved by what a coding changed.

use super::codebook::reload_codes;
use super::finder::open_finder;
use super::list::{load_around, refresh_answer};
use super::{counts_changed, info};
use crate::error::{Error, Result};
use crate::store::{AnswerFilter, Toggled};
use crate::tui::state::*;

/// A digit key: the code with that shortcut.
pub(super) fn toggle_shortcut(state: &mut State, d: u8) -> Result<()> {
    let Some(code) = state.code_by_shortcut(d).map(|c| c.id) else {
        return Err(Error::input(format!(
            "no code has the shortcut {d}; give it one in the codebook (Tab to it, e to edit)"
        )));
    };
    toggle(state, code, state.selection_span())
}

/// The code selected in the codebook panel.
pub(super) fn apply_selected(state: &mut State) -> Result<()> {
    let Some(code) = state.codes.get(state.code_selected).map(|c| c.id) else {
        return Ok(());
    };
    toggle(state, code, state.selection_span())
}

/// The finder, to apply the chosen code to the selection or the whole answer.
pub(super) fn open_apply_finder(state: &mut State) -> Result<()> {
    if state.answer.is_none() {
        return Err(Error::input("there is no answer to code here"));
    }
    open_finder(state, FinderPurpose::Apply(state.selection_span()));
    Ok(())
}

/// The review mark and the set of codes this coder has on the answer on screen.
fn marks(state: &State) -> Option<(bool, Vec<i64>)> {
    state.answer.as_ref().map(|a| {
        let mut ids: Vec<i64> = a.detail.codings.iter().map(|c| c.code_id).collect();
        ids.sort_unstable();
        ids.dedup();
        (a.detail.reviewed, ids)
    })
}

/// Whether an answer with these marks is in the list's filter (as far as marks decide it; a
/// variable or a search does not change when the answer is coded).
fn in_filter(filter: &AnswerFilter, (reviewed, codes): &(bool, Vec<i64>)) -> bool {
    match filter {
        AnswerFilter::NotReviewed => !reviewed,
        AnswerFilter::Reviewed => *reviewed,
        AnswerFilter::WithCode(c) => codes.contains(c),
        AnswerFilter::WithoutCode(c) => !codes.contains(c),
        // Coding an answer does not change whom it is assigned to.
        AnswerFilter::All | AnswerFilter::Variable { .. } | AnswerFilter::Assigned => true,
    }
}

/// After this coder coded the answer on screen: re-read it and move the counts by what changed
/// (one answer more reviewed, one more use of a code), so coding never makes the worker recount
/// a million answers. When a recount is already under way the counts are asked for again.
fn refresh_after_coding(state: &mut State) -> Result<()> {
    let before = marks(state);
    refresh_answer(state)?;
    let after = marks(state);
    let current = state
        .counts
        .as_ref()
        .is_some_and(|c| c.generation == state.counts_generation);
    let (Some(before), Some(after), true) = (before, after, current) else {
        counts_changed(state);
        return Ok(());
    };
    let shown = in_filter(&state.filter, &after) as i64 - in_filter(&state.filter, &before) as i64;
    let reviewed = after.0 as i64 - before.0 as i64;
    // The plan's progress moves only when the answer is one of this coder's (one key lookup).
    let assigned_done = match &state.answer {
        Some(a)
            if reviewed != 0
                && state.has_plan
                && state.store.is_assigned(state.coder_id, a.detail.id)? =>
        {
            reviewed
        }
        _ => 0,
    };
    let c = state.counts.as_mut().expect("checked above");
    c.reviewed += reviewed;
    c.assigned_done += assigned_done;
    c.shown += shown;
    for code in before.1.iter().chain(&after.1) {
        let delta = after.1.contains(code) as i64 - before.1.contains(code) as i64;
        if delta != 0 {
            *c.usage.entry(*code).or_insert(0) += delta;
        }
    }
    Ok(())
}

pub(super) fn toggle(state: &mut State, code_id: i64, span: Option<(usize, usize)>) -> Result<()> {
    let Some(ans) = state.answer.as_ref().map(|a| a.detail.id) else {
        return Err(Error::input("there is no answer to code here"));
    };
    let name = state
        .code_by_id(code_id)
        .map_or_else(String::new, |c| c.name.clone());
    let done = state
        .store
        .toggle_coding(state.coder_id, ans, code_id, span)?;
    if span.is_some() {
        state.text.anchor = None;
    }
    refresh_after_coding(state)?;
    let what = if span.is_some() {
        "the segment"
    } else {
        "the answer"
    };
    info(
        state,
        match done {
            Toggled::Applied => format!("applied {name} to {what} · saved"),
            Toggled::Removed => format!("removed {name} from {what} · saved"),
        },
    );
    Ok(())
}

pub(super) fn no_code(state: &mut State) -> Result<()> {
    let Some(a) = &state.answer else {
        return Err(Error::input("there is no answer here"));
    };
    let id = a.detail.id;
    let n = a.detail.codings.len();
    if n > 0 {
        state.popup = Some(Popup::Confirm {
            question: format!(
                "Remove your {n} coding{} from this answer and mark it as coded with no code?",
                if n == 1 { "" } else { "s" }
            ),
            pending: Pending::NoCode(id),
            back: None,
        });
        return Ok(());
    }
    if a.detail.reviewed {
        info(state, "already marked as reviewed with no code");
        return Ok(());
    }
    state.store.mark_no_code(state.coder_id, id)?;
    refresh_after_coding(state)?;
    info(state, "marked as coded with no code · saved");
    Ok(())
}

/// "No code" on an answer this coder had coded, once confirmed: those codings go.
pub(super) fn no_code_confirmed(state: &mut State, id: i64) -> Result<()> {
    let n = state.store.mark_no_code(state.coder_id, id)?;
    refresh_after_coding(state)?;
    info(
        state,
        format!("removed {n} coding(s); marked as coded with no code · saved"),
    );
    Ok(())
}

pub(super) fn replay(state: &mut State, undo: bool) -> Result<()> {
    let done = if undo {
        state.store.undo(state.coder_id)?
    } else {
        state.store.redo(state.coder_id)?
    };
    let Some(r) = done else {
        info(
            state,
            if undo {
                "nothing to undo"
            } else {
                "nothing to redo"
            },
        );
        return Ok(());
    };
    reload_codes(state, r.code_id.filter(|_| r.response_id.is_none()))?;
    if let Some(rid) = r.response_id {
        // Go to the answer whose coding was undone, so the coder sees what changed.
        if state.list.current().map(|row| row.id) == Some(rid) {
            refresh_answer(state)?;
        } else {
            load_around(state, rid)?;
            refresh_answer(state)?;
        }
    } else {
        // A codebook change may have moved or removed codings on the answer on screen.
        refresh_answer(state)?;
    }
    counts_changed(state);
    info(
        state,
        format!(
            "{}: {} · saved",
            if undo { "undid" } else { "redid" },
            r.summary
        ),
    );
    Ok(())
}

pub(super) fn remove_segment(state: &mut State) -> Result<()> {
    let Some(a) = &state.answer else {
        return Ok(());
    };
    let Some(g) = a.graphemes.get(state.text.cursor) else {
        return Ok(());
    };
    let cp = g.cp;
    // The innermost (shortest) of this coder's segments under the cursor.
    let hit = a
        .detail
        .codings
        .iter()
        .filter_map(|c| Some((c.code_id, c.start?, c.end?)))
        .filter(|(_, s, e)| *s <= cp && cp < *e)
        .min_by_key(|(_, s, e)| e - s);
    match hit {
        Some((code, s, e)) => toggle(state, code, Some((s, e))),
        None => Err(Error::input(
            "none of your coded segments is under the cursor",
        )),
    }
}
