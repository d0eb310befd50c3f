//! The answer list and the answer the cursor is on: the first load, pages fetched as the cursor
//! nears the ends of the window, jumps to the next answer still to review, re-reading the answer
//! after a write, and whether other coders' codings show on it.

use super::text_cursor::ensure_cursor_visible;
use super::{counts_changed, info};
use crate::error::Result;
use crate::tui::action::Action;
use crate::tui::state::*;
use crate::tui::text;

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

/// Puts the cursor on the first offered answer this coder has not reviewed yet.
pub(in crate::tui) fn start(state: &mut State) -> Result<()> {
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

pub(super) fn load_first(state: &mut State) -> Result<()> {
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
pub(super) fn load_around(state: &mut State, id: i64) -> Result<()> {
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

pub(super) fn reload_list(state: &mut State) -> Result<()> {
    counts_changed(state);
    match state.list.current().map(|r| r.id) {
        Some(id) => load_around(state, id),
        None => load_first(state),
    }
}

/// Moves the list cursor by `delta` rows, fetching pages as it reaches the window's ends.
pub(super) fn move_cursor(state: &mut State, delta: isize) -> Result<()> {
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

pub(super) fn ensure_list_visible(state: &mut State) {
    let h = state.areas().list_rows().max(1);
    let l = &mut state.list;
    if l.cursor < l.offset {
        l.offset = l.cursor;
    } else if l.cursor >= l.offset + h {
        l.offset = l.cursor + 1 - h;
    }
}

/// After the cursor moved to another answer: show it, with the text cursor at its start.
pub(super) fn after_move(state: &mut State) -> Result<()> {
    ensure_list_visible(state);
    state.text = TextCursor::default();
    load_answer(state)
}

pub(super) fn load_answer(state: &mut State) -> Result<()> {
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

/// Other coders' codings on the answer, read-only, or hidden for coding blind.
pub(super) fn toggle_others(state: &mut State) -> Result<()> {
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
    Ok(())
}

/// Re-reads the current answer after a write, keeping the text cursor, and brings its list row
/// (marks for review and codes) up to date. The row stays in the list even if it no longer
/// matches the filter: rows do not jump away while the coder works on them.
pub(super) fn refresh_answer(state: &mut State) -> Result<()> {
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

pub(super) fn go_to_unreviewed(state: &mut State, forward: bool) -> Result<()> {
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

pub(super) fn list_move(state: &mut State, a: Action) -> Result<()> {
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
