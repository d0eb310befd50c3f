//! The cursor in the answer's text and the selection it grows: what a segment coding codes.

use crate::tui::action::Action;
use crate::tui::state::*;
use crate::tui::text;

/// Starts a selection at the cursor, or drops the one under way.
pub(super) fn select(state: &mut State) {
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

/// Shift with a movement: the selection starts where the cursor is, if it has not yet.
pub(super) fn extend(state: &mut State, a: Action) {
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

/// Moves the text cursor; with a selection started, the selection follows.
pub(super) fn text_move(state: &mut State, a: Action) {
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

pub(super) fn ensure_cursor_visible(state: &mut State) {
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
