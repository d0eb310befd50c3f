//! The form that adds, renames or edits a code: a box per field, scrolled on a small screen so
//! that the field being written stays visible.

use super::popups::{centered, hint_line, popup_block};
use super::{ERROR_BG, FOCUS, Painter};
use crate::tui::state::*;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

pub(super) fn render_form(
    frame: &mut Frame<'_>,
    p: &Painter<'_>,
    kind: &FormKind,
    fields: &[Field],
    focus: usize,
    error: Option<&str>,
) {
    let s = p.state;
    let full = frame.area();
    let title = match kind {
        FormKind::Add => " Add a code ".to_string(),
        FormKind::Rename(id) => format!(
            " Rename {} ",
            s.code_by_id(*id).map_or("?", |c| c.name.as_str())
        ),
        FormKind::Edit(id) => format!(
            " Edit {} ",
            s.code_by_id(*id).map_or("?", |c| c.name.as_str())
        ),
    };
    let area = centered(
        full,
        (full.width * 4 / 5).max(40),
        full.height.saturating_sub(2),
    );
    let singles = fields.iter().filter(|f| !f.multiline).count() as u16;
    let multis = fields.len() as u16 - singles;
    // Fields, then a line for an error and one for the keys.
    let avail = area.height.saturating_sub(2 + 2);
    let multi_h = avail
        .saturating_sub(singles * 3)
        .checked_div(multis)
        .map_or(0, |h| h.clamp(4, 8));
    let heights: Vec<u16> = fields
        .iter()
        .map(|f| if f.multiline { multi_h } else { 3 })
        .collect();
    let total: u16 = heights.iter().sum();
    let area = centered(full, area.width, (total.min(avail) + 4).min(full.height));
    frame.render_widget(Clear, area);
    // On a small screen the form scrolls so that the field being written is visible.
    let avail = area.height.saturating_sub(4);
    let mut first = 0;
    while first < focus && heights[first..=focus].iter().sum::<u16>() > avail {
        first += 1;
    }
    let shown = format!("{title}· field {} of {} ", focus + 1, fields.len());
    let block = popup_block(if total > avail { shown } else { title }, p);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut y = inner.y;
    for (i, f) in fields.iter().enumerate().skip(first) {
        let h = heights[i];
        if y + h > inner.y + avail {
            break;
        }
        let b = if i == focus {
            Block::default()
                .borders(Borders::ALL)
                .border_type(BorderType::Double)
                .border_style(p.fg(FOCUS))
                .title(format!(" {} ", f.label))
                .title_style(Style::default().add_modifier(Modifier::BOLD))
        } else {
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {} ", f.label))
        };
        let r = Rect::new(inner.x, y, inner.width, h);
        let fi = b.inner(r);
        frame.render_widget(b, r);
        if i == focus {
            frame.render_widget(&f.input, fi);
        } else {
            let text = f.input.lines().join(" ");
            frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), fi);
        }
        y += h;
    }
    let mut lines = Vec::new();
    if let Some(e) = error {
        let style = if s.color {
            Style::default().fg(ERROR_BG).add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        };
        lines.push(Line::styled(format!("✗ {e}"), style));
    } else {
        lines.push(Line::raw(""));
    }
    lines.push(hint_line(
        "Enter or Ctrl-S save · Tab next field · Esc cancel",
    ));
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(2),
            inner.width,
            2.min(inner.height),
        ),
    );
}
