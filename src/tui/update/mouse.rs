//! Mouse clicks and the wheel: a click focuses the panel under it and moves its cursor there; the
//! wheel scrolls the panel under the pointer, or the help.

use super::codebook::ensure_code_visible;
use super::list::{after_move, move_cursor};
use crate::error::Result;
use crate::tui::state::*;
use crate::tui::text;
use ratatui::layout::Rect;

fn inside(r: Rect, column: u16, row: u16) -> bool {
    column > r.x && column + 1 < r.x + r.width && row > r.y && row + 1 < r.y + r.height
}

pub(super) fn click(state: &mut State, column: u16, row: u16) -> Result<()> {
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

pub(super) fn scroll(state: &mut State, column: u16, row: u16, down: bool) -> Result<()> {
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
