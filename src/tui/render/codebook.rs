//! The codebook panel: the codes as a tree with their colours, shortcuts and how often this coder
//! used each.

use super::{Painter, push_fit};
use crate::tui::state::*;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

pub(super) fn render_codebook(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    let block = p.block(
        " Codebook · times I used it ".into(),
        s.focus == Focus::Codebook && s.popup.is_none(),
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if s.codes.is_empty() {
        frame.render_widget(
            Paragraph::new("The codebook is empty. Tab here and press a to add a code.")
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let mut lines = Vec::new();
    for (i, c) in s
        .codes
        .iter()
        .enumerate()
        .skip(s.code_offset)
        .take(inner.height as usize)
    {
        let mut spans = vec![Span::raw("  ".repeat(c.level))];
        if c.codable {
            spans.push(Span::styled("■", p.code_style(c.id)));
        } else {
            spans.push(Span::styled("▾", p.code_style(c.id)));
        }
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            c.shortcut.clone().unwrap_or_else(|| " ".into()),
            Style::default().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(" "));
        let count = if c.codable {
            s.counts.as_ref().map_or(String::new(), |k| {
                k.usage.get(&c.id).copied().unwrap_or(0).to_string()
            })
        } else {
            String::new()
        };
        let used: usize = spans.iter().map(|s| s.content.width()).sum();
        let room = (inner.width as usize).saturating_sub(used + count.width() + 1);
        let name_style = if c.codable {
            Style::default()
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        };
        let left = push_fit(&mut spans, &c.name, name_style, room);
        spans.push(Span::raw(" ".repeat(left + 1)));
        spans.push(Span::styled(
            count,
            Style::default().add_modifier(Modifier::DIM),
        ));
        let mut line = Line::from(spans);
        if i == s.code_selected {
            line = line.patch_style(if s.focus == Focus::Codebook {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default().add_modifier(Modifier::UNDERLINED)
            });
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
