//! The key help, generated from the key map so that it cannot drift from the keys.

use super::popups::{centered, popup_block};
use super::{Painter, pad, push_fit};
use ratatui::Frame;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

pub(super) fn render_help(frame: &mut Frame<'_>, p: &Painter<'_>, scroll: usize) {
    let s = p.state;
    let full = frame.area();
    let area = centered(
        full,
        full.width.saturating_sub(4).min(100),
        full.height.saturating_sub(2),
    );
    frame.render_widget(Clear, area);
    let block = popup_block(
        " Keys · from the key map (Esc closes, j/k scroll) ".into(),
        p,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    let key_w = 16;
    for (ctx, rows) in s.keymap.help() {
        lines.push(Line::styled(
            ctx.title().to_string(),
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        ));
        for (keys, desc) in rows {
            let mut spans = vec![Span::styled(
                format!("  {}", pad(&keys, key_w)),
                Style::default().add_modifier(Modifier::BOLD),
            )];
            let room = (inner.width as usize).saturating_sub(key_w + 3);
            push_fit(&mut spans, &format!(" {desc}"), Style::default(), room);
            lines.push(Line::from(spans));
        }
        lines.push(Line::raw(""));
    }
    let file = &s.key_file;
    lines.push(Line::raw(
        "Change keys in a key file (lines like  ctrl-z = \"undo\"  under",
    ));
    lines.push(Line::raw("[global], [list], [text], [codebook], ...):"));
    lines.push(Line::raw(format!("  {file}")));
    let max = lines.len().saturating_sub(inner.height as usize);
    let visible: Vec<Line> = lines.into_iter().skip(scroll.min(max)).collect();
    frame.render_widget(Paragraph::new(visible), inner);
}
