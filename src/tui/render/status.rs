//! The status line: who is coding, progress, the filter, and then the message of the last key or
//! the key hints for the panel in focus.

use super::{ERROR_BG, Painter, REVIEWED, push_fit, thousands};
use crate::tui::keymap::Context;
use crate::tui::state::*;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

pub(super) fn render_status(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    let mut spans = vec![Span::styled(
        format!(" {} ", s.coder),
        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
    )];
    let reviewed = match &s.counts {
        Some(c) => format!(
            " reviewed {} of {} ",
            thousands(c.reviewed),
            thousands(c.total)
        ),
        None => " reviewed … ".to_string(),
    };
    spans.push(Span::raw(reviewed));
    // Progress on the plan (`lacrima assign`), only for a coder the plan gives answers.
    if let Some(c) = s.counts.as_ref().filter(|c| c.assigned > 0) {
        spans.push(Span::raw(format!(
            "│ assigned: done {} of {} ",
            thousands(c.assigned_done),
            thousands(c.assigned)
        )));
    }
    spans.push(Span::raw("│ "));
    spans.push(Span::styled(
        s.filter_label(),
        Style::default().add_modifier(Modifier::ITALIC),
    ));
    spans.push(Span::raw(" │ "));
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let room = (area.width as usize).saturating_sub(used);
    match &s.message {
        Some((msg, MsgKind::Error)) => {
            let style = if s.color {
                Style::default()
                    .bg(ERROR_BG)
                    .fg(Color::White)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED)
            };
            push_fit(&mut spans, &format!("✗ {msg}"), style, room);
        }
        Some((msg, MsgKind::Info)) => {
            push_fit(&mut spans, msg, p.fg(REVIEWED), room);
        }
        None => {
            push_fit(
                &mut spans,
                &hints(s),
                Style::default().add_modifier(Modifier::DIM),
                room,
            );
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Key hints from the key map (so a rebound key shows its new key).
fn hints(s: &State) -> String {
    use crate::tui::action::Action;
    let key = |ctx: Context, a: Action| {
        let mut keys = s.keymap.keys_for(ctx, &a);
        keys.extend(s.keymap.keys_for(Context::Global, &a));
        keys.first().map(|k| k.label())
    };
    let mut items: Vec<(Option<String>, &str)> = vec![(key(Context::Global, Action::Help), "help")];
    match s.focus {
        Focus::List => {
            items.push((
                key(Context::Global, Action::ToggleCode(1)).map(|_| "1-9".into()),
                "code",
            ));
            items.push((key(Context::Global, Action::NextUnreviewed), "next to do"));
        }
        Focus::Text => {
            items.push((key(Context::Global, Action::Select), "select"));
            items.push((
                key(Context::Global, Action::ToggleCode(1)).map(|_| "1-9".into()),
                "code",
            ));
        }
        Focus::Codebook => {
            items.push((key(Context::Codebook, Action::AddCode), "add"));
            items.push((key(Context::Codebook, Action::EditCode), "edit"));
        }
    }
    items.push((key(Context::Global, Action::Undo), "undo"));
    items.push((key(Context::Global, Action::FocusNext), "panel"));
    items.push((key(Context::Global, Action::Quit), "quit"));
    items
        .into_iter()
        .filter_map(|(k, d)| k.map(|k| format!("{k} {d}")))
        .collect::<Vec<_>>()
        .join(" · ")
}
