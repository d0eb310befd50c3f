//! Other programs on the same project file: keys kept while another program holds the write lock
//! and saved when it lets go, other coders' commits picked up on each tick, and the rescue of what
//! this screen wrote when the file is moved or deleted under it.

use super::codebook::reload_codes;
use super::list::load_answer;
use super::{apply, info, plural, report};
use crate::error::{Error, Result};
use crate::tui::action::Action;
use crate::tui::state::*;

/// A key pressed while earlier keys wait for the write lock joins them (in order, so that a
/// movement after a coding still happens after it), unless it is the key that drops them.
pub(super) fn hold(state: &mut State, action: Action) {
    let Some(w) = state.waiting.as_mut() else {
        return;
    };
    if matches!(action, Action::DropWaiting | Action::CancelSelection) {
        let n = w.actions.len();
        state.waiting = None;
        info(
            state,
            format!(
                "dropped {n} waiting key{}: nothing of {} was saved",
                plural(n),
                if n == 1 { "it" } else { "them" }
            ),
        );
        return;
    }
    if w.actions.len() >= Waiting::MAX_KEYS {
        say_waiting(state);
        state.message = Some((
            format!(
                "{} keys are already waiting for the write lock; this one was not kept",
                Waiting::MAX_KEYS
            ),
            MsgKind::Error,
        ));
        return;
    }
    w.actions.push_back(action);
    say_waiting(state);
}

/// Tries the waiting keys again, in order, until one finds the project still locked.
pub(super) fn retry_waiting(state: &mut State) {
    let Some(since) = state.waiting.as_ref().map(|w| w.since) else {
        return;
    };
    let mut failed = None;
    while let Some(action) = state.waiting.as_mut().and_then(|w| w.actions.pop_front()) {
        match apply(state, action.clone()) {
            Err(e) if e.is_busy() => {
                if let Some(w) = state.waiting.as_mut() {
                    w.actions.push_front(action);
                }
                say_waiting(state);
                return;
            }
            Err(e) => failed = Some(e),
            Ok(()) => {}
        }
    }
    state.waiting = None;
    match failed {
        Some(e) => report(state, Err(e)),
        None => {
            let waited = since.elapsed().as_secs_f64();
            let done = state.message.take().map(|(m, _)| m).unwrap_or_default();
            info(
                state,
                format!("the project is free again after {waited:.0} s; {done}")
                    .trim_end_matches("; ")
                    .to_string(),
            );
        }
    }
}

pub(super) fn say_waiting(state: &mut State) {
    let Some(w) = &state.waiting else {
        return;
    };
    let n = w.actions.len();
    let holder = state
        .store
        .write_lock_holder()
        .unwrap_or_else(|| "another program".into());
    let msg = format!(
        "waiting {} s for {holder}, which is writing to the project: {n} key{} kept, to be \
         saved when it is done · Esc drops {}",
        w.since.elapsed().as_secs(),
        plural(n),
        if n == 1 { "it" } else { "them" }
    );
    state.message = Some((msg, MsgKind::Error));
}

/// Notices a project file moved or deleted under the screen.
pub(super) fn check_in_place(state: &mut State) {
    if state.rescued.is_none()
        && let Err(Error::ProjectGone(_)) = state.store.still_in_place()
    {
        project_gone(state);
    }
}

/// The project's path no longer names the file open here: whatever this screen wrote is saved
/// to a new file at once (through the open connection, so also when the file was deleted), and
/// the coder is told where it is.
pub(super) fn project_gone(state: &mut State) {
    state.waiting = None;
    let path = state.store.path().display().to_string();
    if state.rescued.is_none() {
        match state.store.rescue() {
            Ok(p) => state.rescued = Some(p),
            Err(e) => {
                state.message = Some((
                    format!(
                        "the project file {path} was moved or deleted while open, and no \
                         copy could be saved ({e}): nothing more is saved; quit and find the \
                         file"
                    ),
                    MsgKind::Error,
                ));
                return;
            }
        }
    }
    let rescued = state.rescued.as_ref().map(|p| p.display().to_string());
    state.message = Some((
        format!(
            "the project file {path} was moved or deleted while open: everything saved so far \
             is in {}; quit (q) and open that file (lacrima -p {} code)",
            rescued.as_deref().unwrap_or(""),
            rescued.as_deref().unwrap_or("")
        ),
        MsgKind::Error,
    ));
}

/// Picks up other coders' commits: their new codes appear in the codebook, and a code they
/// merged or deleted leaves the answer on screen.
pub(super) fn notice_others(state: &mut State) -> Result<()> {
    let v = state.store.data_version()?;
    if v == state.data_version {
        return Ok(());
    }
    state.data_version = v;
    reload_codes(state, None)?;
    if state.answer.is_some() {
        let cursor = state.text.clone();
        load_answer(state)?;
        state.text.scroll = cursor.scroll;
    }
    Ok(())
}
