//! `update(&mut State, Action)`: the one place where the coding screen changes. Writes go through
//! the store, each committed before `update` returns, so whatever the next frame shows is already
//! in the project file.

use super::action::Action;
use super::analysis::AnalysisSetup;
use super::review::ReviewSetup;
use super::state::*;
use super::text;
use crate::error::{Error, Result};
use crate::store::{AnswerFilter, CodeFields, FilterValue, NewCode, Toggled, VariableKind};
use ratatui::layout::Rect;
use ratatui_textarea::{TextArea, WrapMode};

/// Rows fetched at a time, and the most the list keeps around the cursor.
const PAGE: usize = 100;

/// How many rows to fetch at a time. A regex search is filtered row by row outside SQLite, so
/// a rare pattern would read far ahead for a full page: fetch a screenful instead.
fn page_size(state: &State) -> usize {
    if state.search.is_some() {
        (state.areas().list_rows() + 1).clamp(10, PAGE)
    } else {
        PAGE
    }
}
const MAX_ROWS: usize = 400;

pub fn update(state: &mut State, action: Action) {
    let from_outside = matches!(
        action,
        Action::Tick | Action::Counts(_) | Action::Resize(..)
    );
    if from_outside {
        let tick = action == Action::Tick;
        let result = apply(state, action);
        report(state, result);
        if tick {
            check_in_place(state);
            retry_waiting(state);
        }
        return;
    }
    // A message stays until the next key, so it can be read.
    state.message = None;
    if state.waiting.is_some() {
        hold(state, action);
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
            say_waiting(state);
        }
        result => report(state, result),
    }
}

fn report(state: &mut State, result: Result<()>) {
    match result {
        Ok(()) => {}
        Err(Error::ProjectGone(_)) => project_gone(state),
        Err(e) => state.message = Some((e.to_string(), MsgKind::Error)),
    }
}

/// A key pressed while earlier keys wait for the write lock joins them (in order, so that a
/// movement after a coding still happens after it), unless it is the key that drops them.
fn hold(state: &mut State, action: Action) {
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
fn retry_waiting(state: &mut State) {
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

fn say_waiting(state: &mut State) {
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Notices a project file moved or deleted under the screen.
fn check_in_place(state: &mut State) {
    if state.rescued.is_none()
        && let Err(Error::ProjectGone(_)) = state.store.still_in_place()
    {
        project_gone(state);
    }
}

/// The project's path no longer names the file open here: whatever this screen wrote is saved
/// to a new file at once (through the open connection, so also when the file was deleted), and
/// the coder is told where it is.
fn project_gone(state: &mut State) {
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

fn info(state: &mut State, msg: impl Into<String>) {
    state.message = Some((msg.into(), MsgKind::Info));
}

fn apply(state: &mut State, action: Action) -> Result<()> {
    match action {
        Action::Resize(w, h) => {
            state.size = Rect::new(0, 0, w, h);
            ensure_list_visible(state);
            ensure_code_visible(state);
            ensure_cursor_visible(state);
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
        Action::Tick => notice_others(state),
        Action::Click { column, row } => click(state, column, row),
        Action::Scroll { column, row, down } => scroll(state, column, row, down),
        a if state.popup.is_some() => popup_action(state, a),
        a => main_action(state, a),
    }
}

// ---------------------------------------------------------------------------------------------
// Starting and the answer list
// ---------------------------------------------------------------------------------------------

/// Puts the cursor on the first offered answer this coder has not reviewed yet.
pub(super) fn start(state: &mut State) -> Result<()> {
    let q = state.query();
    match state.store.next_unreviewed(&q, None)? {
        Some(row) => load_around(state, row.id),
        None => {
            load_first(state)?;
            if !state.list.rows.is_empty() {
                info(
                    state,
                    "you have reviewed every answer; g and G go to the first and last",
                );
            }
            Ok(())
        }
    }
}

fn counts_changed(state: &mut State) {
    state.counts_generation += 1;
}

fn load_first(state: &mut State) -> Result<()> {
    let page = page_size(state);
    let rows = state.store.answers_after(&state.query(), None, page)?;
    state.list = ListWindow {
        more_after: rows.len() == page,
        rows,
        ..Default::default()
    };
    after_move(state)
}

fn load_last(state: &mut State) -> Result<()> {
    let page = page_size(state);
    let rows = state.store.answers_before(&state.query(), None, page)?;
    state.list = ListWindow {
        more_before: rows.len() == page,
        cursor: rows.len().saturating_sub(1),
        rows,
        ..Default::default()
    };
    after_move(state)
}

/// Loads the list around answer `id` with the cursor on it (or on the next answer shown when
/// `id` is not, e.g. after the filter changed), with a few answers before it for context.
fn load_around(state: &mut State, id: i64) -> Result<()> {
    let q = state.query();
    let context = (state.areas().list_rows() / 3).max(1);
    let before = state.store.answers_before(&q, Some(id), context)?;
    let page = page_size(state);
    let from = state.store.answers_from(&q, id, page)?;
    if from.is_empty() && before.is_empty() {
        state.list = ListWindow::default();
        return after_move(state);
    }
    let cursor = if from.is_empty() {
        before.len() - 1
    } else {
        before.len()
    };
    let more_after = from.len() == page;
    let more_before = before.len() == context;
    let mut rows = before;
    rows.extend(from);
    state.list = ListWindow {
        rows,
        cursor,
        offset: cursor.saturating_sub(context),
        more_before,
        more_after,
    };
    after_move(state)
}

fn reload_list(state: &mut State) -> Result<()> {
    counts_changed(state);
    match state.list.current().map(|r| r.id) {
        Some(id) => load_around(state, id),
        None => load_first(state),
    }
}

/// Moves the list cursor by `delta` rows, fetching pages as it reaches the window's ends.
fn move_cursor(state: &mut State, delta: isize) -> Result<()> {
    let before = state.list.current().map(|r| r.id);
    let mut remaining = delta.unsigned_abs();
    let q = state.query();
    let page = page_size(state);
    while remaining > 0 {
        let l = &mut state.list;
        if delta > 0 {
            if l.cursor + 1 >= l.rows.len() {
                if !l.more_after {
                    break;
                }
                let last = l.rows.last().map(|r| r.id);
                let more = state.store.answers_after(&q, last, page)?;
                let l = &mut state.list;
                l.more_after = more.len() == page;
                if more.is_empty() {
                    break;
                }
                l.rows.extend(more);
                if l.rows.len() > MAX_ROWS {
                    let drop = l.rows.len() - MAX_ROWS;
                    l.rows.drain(..drop);
                    l.cursor -= drop;
                    l.offset = l.offset.saturating_sub(drop);
                    l.more_before = true;
                }
            }
            let l = &mut state.list;
            let step = remaining.min(l.rows.len() - 1 - l.cursor);
            l.cursor += step;
            remaining -= step;
        } else {
            if l.cursor == 0 {
                if !l.more_before {
                    break;
                }
                let first = l.rows.first().map(|r| r.id);
                let more = state.store.answers_before(&q, first, page)?;
                let l = &mut state.list;
                l.more_before = more.len() == page;
                if more.is_empty() {
                    break;
                }
                let n = more.len();
                l.rows.splice(0..0, more);
                l.cursor += n;
                l.offset += n;
                if l.rows.len() > MAX_ROWS {
                    l.rows.truncate(MAX_ROWS);
                    l.more_after = true;
                }
            }
            let l = &mut state.list;
            let step = remaining.min(l.cursor);
            l.cursor -= step;
            remaining -= step;
        }
    }
    if state.list.current().map(|r| r.id) != before {
        after_move(state)
    } else {
        ensure_list_visible(state);
        Ok(())
    }
}

fn ensure_list_visible(state: &mut State) {
    let h = state.areas().list_rows().max(1);
    let l = &mut state.list;
    if l.cursor < l.offset {
        l.offset = l.cursor;
    } else if l.cursor >= l.offset + h {
        l.offset = l.cursor + 1 - h;
    }
}

/// After the cursor moved to another answer: show it, with the text cursor at its start.
fn after_move(state: &mut State) -> Result<()> {
    ensure_list_visible(state);
    state.text = TextCursor::default();
    load_answer(state)
}

fn load_answer(state: &mut State) -> Result<()> {
    let Some(id) = state.list.current().map(|r| r.id) else {
        state.answer = None;
        return Ok(());
    };
    let detail = state.store.answer(state.coder_id, id, state.show_others)?;
    state.answer = match detail {
        None => None,
        Some(detail) => {
            let graphemes = text::graphemes(&detail.text);
            let words = text::words(&detail.text, &graphemes);
            let columns: Vec<String> = state.variables.iter().map(|v| v.column.clone()).collect();
            let values = state
                .store
                .respondent_values(detail.respondent_id, &columns)?;
            let values = state
                .variables
                .iter()
                .map(|v| v.name.clone())
                .zip(values)
                .collect();
            Some(Answer {
                detail,
                graphemes,
                words,
                values,
            })
        }
    };
    if let Some(a) = &state.answer {
        let max = a.graphemes.len().saturating_sub(1);
        state.text.cursor = state.text.cursor.min(max);
        if let Some(anchor) = state.text.anchor {
            state.text.anchor = Some(anchor.min(max));
        }
    }
    Ok(())
}

/// Re-reads the current answer after a write, keeping the text cursor, and brings its list row
/// (marks for review and codes) up to date. The row stays in the list even if it no longer
/// matches the filter: rows do not jump away while the coder works on them.
fn refresh_answer(state: &mut State) -> Result<()> {
    load_answer(state)?;
    if let Some(a) = &state.answer {
        let mut ids: Vec<i64> = a.detail.codings.iter().map(|c| c.code_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let reviewed = a.detail.reviewed;
        if let Some(row) = state.list.rows.get_mut(state.list.cursor) {
            row.reviewed = reviewed;
            row.code_ids = ids;
        }
    }
    ensure_cursor_visible(state);
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

fn go_to_unreviewed(state: &mut State, forward: bool) -> Result<()> {
    let q = state.query();
    let here = state.list.current().map(|r| r.id);
    let found = if forward {
        state.store.next_unreviewed(&q, here)?
    } else {
        state.store.prev_unreviewed(&q, here)?
    };
    match found {
        Some(row) => match state.list.rows.iter().position(|r| r.id == row.id) {
            Some(i) => {
                state.list.cursor = i;
                after_move(state)
            }
            None => load_around(state, row.id),
        },
        None => {
            info(
                state,
                if forward {
                    "no answer after this one is waiting for you (N looks backwards)"
                } else {
                    "no answer before this one is waiting for you (n looks forwards)"
                },
            );
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The main screen
// ---------------------------------------------------------------------------------------------

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
        Action::ToggleCode(d) => {
            let Some(code) = state.code_by_shortcut(d).map(|c| c.id) else {
                return Err(Error::input(format!(
                    "no code has the shortcut {d}; give it one in the codebook (Tab to it, e to edit)"
                )));
            };
            toggle(state, code, state.selection_span())?;
        }
        Action::ApplySelectedCode => {
            let Some(code) = state.codes.get(state.code_selected).map(|c| c.id) else {
                return Ok(());
            };
            toggle(state, code, state.selection_span())?;
        }
        Action::OpenFinder => {
            if state.answer.is_none() {
                return Err(Error::input("there is no answer to code here"));
            }
            open_finder(state, FinderPurpose::Apply(state.selection_span()));
        }
        Action::NoCode => no_code(state)?,
        Action::Undo | Action::Redo => replay(state, action == Action::Undo)?,
        Action::Memo => {
            let Some(a) = &state.answer else {
                return Err(Error::input("there is no answer to write a memo on"));
            };
            state.popup = Some(Popup::Memo {
                response_id: a.detail.id,
                input: text_input(&a.detail.memo, true),
                original: a.detail.memo.clone(),
            });
        }
        Action::Search => {
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
        Action::FilterMenu => open_filter_menu(state),
        Action::Agreement => open_agreement(state)?,
        Action::Analysis => open_analysis(state)?,
        Action::ToggleOthers => {
            state.show_others = !state.show_others;
            load_answer(state)?;
            info(
                state,
                if state.show_others {
                    "showing other coders' codings (read-only); o hides them again"
                } else {
                    "other coders' codings hidden: coding blind"
                },
            );
        }
        Action::Select => {
            state.focus = Focus::Text;
            state.text.anchor = match state.text.anchor {
                None if state
                    .answer
                    .as_ref()
                    .is_some_and(|a| !a.graphemes.is_empty()) =>
                {
                    Some(state.text.cursor)
                }
                _ => None,
            };
        }
        Action::NextUnreviewed => go_to_unreviewed(state, true)?,
        Action::PrevUnreviewed => go_to_unreviewed(state, false)?,
        Action::CancelSelection => state.text.anchor = None,
        Action::RemoveSegment => remove_segment(state)?,
        a @ (Action::Down
        | Action::Up
        | Action::First
        | Action::Last
        | Action::PageDown
        | Action::PageUp) => match state.focus {
            Focus::List => list_move(state, a)?,
            Focus::Text => text_move(state, a),
            Focus::Codebook => code_move(state, a),
        },
        a @ (Action::Left
        | Action::Right
        | Action::WordNext
        | Action::WordPrev
        | Action::LineStart
        | Action::LineEnd) => text_move(state, a),
        a @ (Action::ExtendLeft | Action::ExtendRight | Action::ExtendUp | Action::ExtendDown) => {
            if state.text.anchor.is_none()
                && state
                    .answer
                    .as_ref()
                    .is_some_and(|a| !a.graphemes.is_empty())
            {
                state.text.anchor = Some(state.text.cursor);
            }
            let m = match a {
                Action::ExtendLeft => Action::Left,
                Action::ExtendRight => Action::Right,
                Action::ExtendUp => Action::Up,
                _ => Action::Down,
            };
            text_move(state, m);
        }
        Action::AddCode => open_code_form(state, FormKind::Add)?,
        Action::RenameCode | Action::EditCode => {
            let Some(id) = state.codes.get(state.code_selected).map(|c| c.id) else {
                return Err(Error::input("the codebook is empty: a adds a code"));
            };
            let kind = if action == Action::RenameCode {
                FormKind::Rename(id)
            } else {
                FormKind::Edit(id)
            };
            open_code_form(state, kind)?;
        }
        Action::MoveCodeUp | Action::MoveCodeDown | Action::Nest | Action::Unnest => {
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
        }
        Action::MergeCode => {
            let Some(id) = state.codes.get(state.code_selected).map(|c| c.id) else {
                return Ok(());
            };
            open_finder(state, FinderPurpose::MergeInto(id));
        }
        Action::DeleteCode => {
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
        }
        Action::CodeDetails => {
            let Some(code) = state.codes.get(state.code_selected).map(|c| c.id) else {
                return Ok(());
            };
            let memo = state.store.code_memo(state.coder_id, code)?;
            state.popup = Some(Popup::Details {
                code: state.code_selected,
                memo,
            });
        }
        // Pop-up keys without a pop-up do nothing.
        _ => {}
    }
    Ok(())
}

fn toggle(state: &mut State, code_id: i64, span: Option<(usize, usize)>) -> Result<()> {
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

fn no_code(state: &mut State) -> Result<()> {
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

fn replay(state: &mut State, undo: bool) -> Result<()> {
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

fn remove_segment(state: &mut State) -> Result<()> {
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

fn list_move(state: &mut State, a: Action) -> Result<()> {
    let page = state.areas().list_rows().max(1) as isize;
    match a {
        Action::Down => move_cursor(state, 1),
        Action::Up => move_cursor(state, -1),
        Action::PageDown => move_cursor(state, page),
        Action::PageUp => move_cursor(state, -page),
        Action::First => load_first(state),
        Action::Last => load_last(state),
        _ => Ok(()),
    }
}

fn code_move(state: &mut State, a: Action) {
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

fn ensure_code_visible(state: &mut State) {
    let h = state.areas().codebook_rows().max(1);
    if state.code_selected < state.code_offset {
        state.code_offset = state.code_selected;
    } else if state.code_selected >= state.code_offset + h {
        state.code_offset = state.code_selected + 1 - h;
    }
}

/// Moves the text cursor; with a selection started, the selection follows.
fn text_move(state: &mut State, a: Action) {
    let Some(ans) = &state.answer else { return };
    let n = ans.graphemes.len();
    if n == 0 {
        return;
    }
    let c = state.text.cursor;
    let layout = state.text_layout();
    let lines = layout.map(|l| l.lines).unwrap_or_default();
    let (line, col) = text::locate(&lines, &ans.graphemes, c);
    let on_line = |li: usize| -> Vec<usize> {
        lines
            .get(li)
            .map(|l| {
                l.iter()
                    .filter_map(|cell| match cell {
                        text::Cell::Grapheme(i) if !ans.graphemes[*i].is_newline => Some(*i),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let page = state.areas().text().height.max(1) as usize;
    let target_line = |li: usize| text::at_column(&lines, &ans.graphemes, li, col);
    let new = match a {
        Action::Left => c.saturating_sub(1),
        Action::Right => (c + 1).min(n - 1),
        // To the end of this word or the next, and back to the start of this word or the one
        // before: a selection grown by words always covers whole words.
        Action::WordNext => ans
            .words
            .iter()
            .map(|w| w.1)
            .find(|e| *e > c)
            .unwrap_or(n - 1),
        Action::WordPrev => ans
            .words
            .iter()
            .rev()
            .map(|w| w.0)
            .find(|s| *s < c)
            .unwrap_or(0),
        Action::LineStart => on_line(line).first().copied().unwrap_or(c),
        Action::LineEnd => on_line(line).last().copied().unwrap_or(c),
        Action::Down => (line + 1..lines.len()).find_map(target_line).unwrap_or(c),
        Action::Up => (0..line).rev().find_map(target_line).unwrap_or(c),
        Action::PageDown => {
            target_line((line + page).min(lines.len().saturating_sub(1))).unwrap_or(n - 1)
        }
        Action::PageUp => target_line(line.saturating_sub(page)).unwrap_or(0),
        _ => c,
    };
    state.text.cursor = new;
    ensure_cursor_visible(state);
}

fn ensure_cursor_visible(state: &mut State) {
    let Some(ans) = &state.answer else { return };
    let Some(layout) = state.text_layout() else {
        return;
    };
    let h = state.areas().text().height.max(1) as usize;
    let (line, _) = text::locate(&layout.lines, &ans.graphemes, state.text.cursor);
    if line < state.text.scroll {
        state.text.scroll = line;
    } else if line >= state.text.scroll + h {
        state.text.scroll = line + 1 - h;
    }
}

/// Re-reads the codebook (after an edit, an undo, or another coder's change), keeping the
/// selection on `select` or on the code that was selected.
fn reload_codes(state: &mut State, select: Option<i64>) -> Result<()> {
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

/// Picks up other coders' commits: their new codes appear in the codebook, and a code they
/// merged or deleted leaves the answer on screen.
fn notice_others(state: &mut State) -> Result<()> {
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

// ---------------------------------------------------------------------------------------------
// Mouse
// ---------------------------------------------------------------------------------------------

fn inside(r: Rect, column: u16, row: u16) -> bool {
    column > r.x && column + 1 < r.x + r.width && row > r.y && row + 1 < r.y + r.height
}

fn click(state: &mut State, column: u16, row: u16) -> Result<()> {
    if state.popup.is_some() {
        return Ok(());
    }
    let ar = state.areas();
    if inside(ar.list, column, row) {
        state.focus = Focus::List;
        let i = state.list.offset + (row - ar.list.y - 1) as usize;
        if i < state.list.rows.len() && i != state.list.cursor {
            state.list.cursor = i;
            after_move(state)?;
        }
    } else if inside(ar.codebook, column, row) {
        state.focus = Focus::Codebook;
        let i = state.code_offset + (row - ar.codebook.y - 1) as usize;
        if i < state.codes.len() {
            state.code_selected = i;
        }
    } else {
        let t = ar.text();
        if column >= t.x && column < t.x + t.width && row >= t.y && row < t.y + t.height {
            state.focus = Focus::Text;
            if let (Some(ans), Some(layout)) = (&state.answer, state.text_layout()) {
                let li = state.text.scroll + (row - t.y) as usize;
                if let Some(g) =
                    text::at_column(&layout.lines, &ans.graphemes, li, (column - t.x) as usize)
                {
                    state.text.cursor = g;
                }
            }
        } else if inside(ar.answer, column, row) {
            state.focus = Focus::Text;
        }
    }
    Ok(())
}

fn scroll(state: &mut State, column: u16, row: u16, down: bool) -> Result<()> {
    if let Some(Popup::Help { scroll }) = &mut state.popup {
        *scroll = if down {
            *scroll + 3
        } else {
            scroll.saturating_sub(3)
        };
        return Ok(());
    }
    if state.popup.is_some() {
        return Ok(());
    }
    let ar = state.areas();
    let step: isize = if down { 3 } else { -3 };
    if inside(ar.list, column, row) {
        move_cursor(state, step)
    } else if inside(ar.codebook, column, row) {
        let n = state.codes.len();
        if n > 0 {
            state.code_selected =
                (state.code_selected as isize + step).clamp(0, n as isize - 1) as usize;
            ensure_code_visible(state);
        }
        Ok(())
    } else {
        let lines = state.text_layout().map_or(0, |l| l.lines.len());
        let h = ar.text().height as usize;
        let max = lines.saturating_sub(h);
        state.text.scroll = (state.text.scroll as isize + step).clamp(0, max as isize) as usize;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Pop-ups
// ---------------------------------------------------------------------------------------------

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

fn input_text(t: &TextArea<'_>) -> String {
    t.lines().join("\n")
}

/// Ranks codes for the finder: every typed character must appear in order in the name (ignoring
/// case); contiguous runs and matches at word starts rank first.
pub fn fuzzy_score(query: &str, name: &str) -> Option<i64> {
    let q: Vec<char> = query
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if q.is_empty() {
        return Some(0);
    }
    let n: Vec<char> = name.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut qi = 0;
    let mut last: Option<usize> = None;
    for (i, c) in n.iter().enumerate() {
        if qi < q.len() && *c == q[qi] {
            let word_start = i == 0 || !n[i - 1].is_alphanumeric();
            score += 10;
            if word_start {
                score += 8;
            }
            if last.is_some_and(|l| l + 1 == i) {
                score += 6;
            } else if let Some(l) = last {
                score -= (i - l) as i64;
            }
            last = Some(i);
            qi += 1;
        }
    }
    (qi == q.len()).then_some(score - n.len() as i64 / 4)
}

fn finder_matches(state: &State, purpose: &FinderPurpose, query: &str) -> Vec<usize> {
    let mut scored: Vec<(i64, usize)> = state
        .codes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.codable)
        .filter(|(_, c)| !matches!(purpose, FinderPurpose::MergeInto(from) if *from == c.id))
        .filter_map(|(i, c)| fuzzy_score(query, &c.name).map(|s| (s, i)))
        .collect();
    // Best first; equal scores keep codebook order.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

fn open_finder(state: &mut State, purpose: FinderPurpose) {
    let matches = finder_matches(state, &purpose, "");
    state.popup = Some(Popup::Finder {
        purpose,
        input: text_input("", false),
        matches,
        selected: 0,
    });
}

/// Asks the app for the agreement screen over every ordinary coder who has coded something,
/// with this coder deciding into the project's consensus coder. With fewer than two such coders
/// there is nothing to compare, and the status line says so instead.
fn open_agreement(state: &mut State) -> Result<()> {
    let all = state.store.rating_coders(None)?;
    let coders: Vec<(i64, String)> = all
        .iter()
        .filter(|c| !c.is_consensus && c.has_ratings)
        .map(|c| (c.id, c.name.clone()))
        .collect();
    if coders.len() < 2 {
        let who = match &coders[..] {
            [] => "nobody has coded yet".to_string(),
            [one] => format!("only {} has coded", one.1),
            _ => unreachable!("fewer than two"),
        };
        // Short enough for the status line of an 80-column terminal.
        info(state, format!("agreement needs two coders; {who}"));
        return Ok(());
    }
    // The project's consensus coder when it has exactly one, else a new one named as
    // `lacrima review` names it by default.
    let consensus: Vec<&str> = all
        .iter()
        .filter(|c| c.is_consensus)
        .map(|c| c.name.as_str())
        .collect();
    let consensus = match consensus[..] {
        [only] => only.to_string(),
        _ => "consensus".to_string(),
    };
    state.launch = Some(SubScreen::Review(ReviewSetup {
        coders,
        decider: state.coder.clone(),
        consensus,
        question: None,
    }));
    Ok(())
}

/// Asks the app for the analysis screen, which starts by asking for a variable. It analyses the
/// consensus coder's codings once there are any (as `lacrima analyze` does), else this coder's:
/// a consensus coder that the agreement screen has just created holds nothing to analyse yet.
fn open_analysis(state: &mut State) -> Result<()> {
    let layout = state.store.dataset_layout()?;
    let consensus: Vec<_> = state
        .store
        .coders_overview()?
        .into_iter()
        .filter(|c| c.is_consensus)
        .collect();
    let coder = match &consensus[..] {
        [only] if only.answers_rated > 0 => only.name.clone(),
        _ => state.coder.clone(),
    };
    let scope = crate::report::scope(&state.store, &layout, Some(&coder), None)?;
    state.launch = Some(SubScreen::Analysis(AnalysisSetup { scope, by: None }));
    Ok(())
}

fn open_filter_menu(state: &mut State) {
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

fn set_filter(state: &mut State, filter: AnswerFilter) -> Result<()> {
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

fn open_code_form(state: &mut State, kind: FormKind) -> Result<()> {
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

fn popup_action(state: &mut State, action: Action) -> Result<()> {
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
fn single_line(t: &mut TextArea<'static>) {
    if t.lines().len() > 1 {
        let joined = t.lines().join(" ");
        *t = text_input(&joined, false);
    }
}

fn finder_chosen(state: &mut State, purpose: FinderPurpose, code: i64) -> Result<()> {
    match purpose {
        FinderPurpose::Apply(span) => toggle(state, code, span),
        FinderPurpose::MergeInto(from) => {
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
        FinderPurpose::FilterWith => set_filter(state, AnswerFilter::WithCode(code)),
        FinderPurpose::FilterWithout => set_filter(state, AnswerFilter::WithoutCode(code)),
    }
}

fn menu_chosen(state: &mut State, choice: MenuChoice) -> Result<()> {
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
        MenuChoice::Search => main_action(state, Action::Search),
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

fn prompt_done(state: &mut State, kind: &PromptKind, value: &str) -> Result<()> {
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
                    FilterValue::Number(crate::import::infer::parse_number(value).ok_or_else(
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

fn confirmed(state: &mut State, pending: Pending) -> Result<()> {
    match pending {
        Pending::NoCode(id) => {
            let n = state.store.mark_no_code(state.coder_id, id)?;
            refresh_after_coding(state)?;
            info(
                state,
                format!("removed {n} coding(s); marked as coded with no code · saved"),
            );
        }
        Pending::DeleteCode(id) => {
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
        }
        Pending::Merge { from, into } => {
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
        }
        Pending::DiscardMemo | Pending::DiscardForm => {}
    }
    Ok(())
}

fn find_code_by_name(state: &State, name: &str) -> Option<i64> {
    state
        .codes
        .iter()
        .find(|c| c.name.to_lowercase() == name.to_lowercase())
        .map(|c| c.id)
}

fn save_form(state: &mut State, kind: FormKind, values: &[String]) -> Result<()> {
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
