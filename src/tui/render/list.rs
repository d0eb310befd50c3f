//! The answer list: one row per answer with its review mark, respondent, question, codes and a
//! snippet with the search's matches.

use super::{NOT_REVIEWED, Painter, REVIEWED, match_style, pad, push_fit, thousands};
use crate::tui::state::*;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

pub(super) fn render_list(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    let title = match &s.counts {
        Some(c) => {
            let t = format!(
                " Answers · {} of {} shown ",
                thousands(c.shown),
                thousands(c.total)
            );
            if t.width() + 2 <= area.width as usize {
                t
            } else {
                format!(" {} of {} shown ", thousands(c.shown), thousands(c.total))
            }
        }
        None => " Answers · counting… ".to_string(),
    };
    let block = p.block(title, s.focus == Focus::List && s.popup.is_none());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if s.list.rows.is_empty() {
        let msg = if s.counts.as_ref().is_some_and(|c| c.total == 0) && !s.include_empty {
            "This project has no answers to code yet: import a survey first (lacrima import FILE)."
        } else {
            "No answers match. f changes the filter; / with an empty line clears a search."
        };
        frame.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), inner);
        return;
    }
    let h = inner.height as usize;
    let visible = &s.list.rows[s.list.offset.min(s.list.rows.len())..];
    let visible = &visible[..visible.len().min(h)];
    let id_w = visible
        .iter()
        .map(|r| r.ext_id.width())
        .max()
        .unwrap_or(0)
        .min(12);
    let q_w = visible
        .iter()
        .map(|r| {
            s.question_short
                .get(&r.question_id)
                .map_or(0, |q| q.width())
        })
        .max()
        .unwrap_or(0)
        .min(if inner.width < 50 { 6 } else { 14 });
    let codes_w = visible
        .iter()
        .map(|r| r.code_ids.len())
        .max()
        .unwrap_or(0)
        .clamp(1, 4);
    let mut lines = Vec::new();
    for (k, row) in visible.iter().enumerate() {
        let index = s.list.offset + k;
        let selected = index == s.list.cursor;
        let mut spans = Vec::new();
        let (mark, style) = if row.reviewed {
            ("✓", p.fg(REVIEWED))
        } else {
            ("·", p.fg(NOT_REVIEWED))
        };
        spans.push(Span::styled(mark, style));
        spans.push(Span::raw(" "));
        spans.push(Span::raw(pad(&row.ext_id, id_w)));
        spans.push(Span::raw(" "));
        let q = s
            .question_short
            .get(&row.question_id)
            .map_or("", String::as_str);
        spans.push(Span::styled(
            pad(q, q_w),
            Style::default().add_modifier(Modifier::DIM),
        ));
        spans.push(Span::raw(" "));
        let mut codes_used = 0;
        for id in row.code_ids.iter().take(codes_w) {
            spans.push(Span::styled(
                s.mark_label(*id),
                p.code_style(*id).add_modifier(Modifier::BOLD),
            ));
            codes_used += 1;
        }
        spans.push(Span::raw(" ".repeat(codes_w - codes_used + 1)));
        let used: usize = spans.iter().map(|s| s.content.width()).sum();
        let room = (inner.width as usize).saturating_sub(used);
        let snippet = if row.is_empty {
            "(empty)".to_string()
        } else {
            row.snippet.replace('\n', " ")
        };
        push_snippet(&mut spans, p, &snippet, room);
        let mut line = Line::from(spans);
        if selected {
            let style = if s.focus == Focus::List {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
            };
            line = line.patch_style(style);
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The snippet with the search's matches highlighted.
fn push_snippet(spans: &mut Vec<Span<'static>>, p: &Painter<'_>, text: &str, room: usize) {
    let Some(search) = &p.state.search else {
        push_fit(spans, text, Style::default(), room);
        return;
    };
    let mut room = room;
    let mut at = 0;
    for m in search.regex.find_iter(text) {
        if m.start() < at || m.is_empty() {
            continue;
        }
        room = push_fit(spans, &text[at..m.start()], Style::default(), room);
        room = push_fit(spans, m.as_str(), match_style(p), room);
        at = m.end();
    }
    push_fit(spans, &text[at..], Style::default(), room);
}
