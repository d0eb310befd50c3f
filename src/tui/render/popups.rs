//! Pop-ups over the coding screen: the frame they share, and the code details, the finder, menus,
//! questions, the memo and prompts. The code form is `form`, the key help `help`.

use super::{ERROR_BG, FOCUS, FgIf, Painter, wrap_plain};
use super::{form, help};
use crate::tui::state::*;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};
use ratatui_textarea::TextArea;
use unicode_width::UnicodeWidthStr;

const MENU_KEYS: &str = "j/k choose · Enter ok · Esc close";

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub(super) fn popup_block(title: String, p: &Painter<'_>) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.fg(FOCUS))
        .title(title)
        .title_style(Style::default().add_modifier(Modifier::BOLD))
}

pub(super) fn hint_line(text: &str) -> Line<'static> {
    Line::styled(
        text.to_string(),
        Style::default().add_modifier(Modifier::DIM),
    )
}

pub(super) fn render_popup(frame: &mut Frame<'_>, p: &Painter<'_>, popup: &Popup) {
    match popup {
        Popup::Help { scroll } => help::render_help(frame, p, *scroll),
        Popup::Details { code, memo } => render_details(frame, p, *code, memo),
        Popup::Finder {
            purpose,
            input,
            matches,
            selected,
        } => render_finder(frame, p, purpose, input, matches, *selected),
        Popup::Menu {
            title,
            items,
            selected,
        } => render_menu(frame, p, title, items, *selected),
        Popup::Confirm { question, .. } => render_confirm(frame, p, question),
        Popup::Memo { input, .. } => render_memo(frame, p, input),
        Popup::Form {
            kind,
            fields,
            focus,
            error,
            ..
        } => form::render_form(frame, p, kind, fields, *focus, error.as_deref()),
        Popup::Prompt { kind, input, error } => {
            render_prompt(frame, p, kind, input, error.as_deref())
        }
        Popup::Autocode {
            code,
            input,
            generation,
            preview,
            ..
        } => render_autocode(frame, p, code, input, *generation, preview.as_ref()),
    }
}

fn render_details(frame: &mut Frame<'_>, p: &Painter<'_>, code: usize, memo: &str) {
    let s = p.state;
    let full = frame.area();
    let Some(c) = s.codes.get(code) else { return };
    let area = centered(
        full,
        full.width.saturating_sub(6).min(90),
        full.height.saturating_sub(4),
    );
    frame.render_widget(Clear, area);
    let block = popup_block(format!(" {} (Esc closes) ", c.name), p);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = vec![Line::from(vec![
        Span::styled("■ ", p.code_style(c.id)),
        Span::raw(format!(
            "shortcut {} · colour {} · {}{}",
            c.shortcut.as_deref().unwrap_or("none"),
            c.color.as_deref().unwrap_or("none"),
            if c.codable {
                "can be applied"
            } else {
                "groups other codes"
            },
            c.parent
                .as_ref()
                .map_or(String::new(), |p| format!(" · under {p}")),
        )),
    ])];
    for (label, value) in [
        ("Definition", c.description.as_str()),
        ("Inclusion", c.inclusion.as_str()),
        ("Exclusion", c.exclusion.as_str()),
        ("Example", c.example.as_str()),
        ("My memo", memo),
    ] {
        lines.push(Line::styled(
            label.to_string(),
            Style::default().add_modifier(Modifier::BOLD),
        ));
        let v = if value.is_empty() { "—" } else { value };
        for l in v.lines() {
            for chunk in wrap_plain(l, inner.width as usize - 2) {
                lines.push(Line::raw(format!("  {chunk}")));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_finder(
    frame: &mut Frame<'_>,
    p: &Painter<'_>,
    purpose: &FinderPurpose,
    input: &TextArea<'static>,
    matches: &[usize],
    selected: usize,
) {
    let s = p.state;
    let full = frame.area();
    let title = match purpose {
        FinderPurpose::Apply(Some(_)) => " Apply a code to the selected segment ".to_string(),
        FinderPurpose::Apply(None) => " Apply a code to the answer ".to_string(),
        FinderPurpose::MergeInto(from) => format!(
            " Merge {} into … ",
            s.code_by_id(*from).map_or("?", |c| c.name.as_str())
        ),
        FinderPurpose::FilterWith => " Answers with code … ".to_string(),
        FinderPurpose::FilterWithout => " Answers without code … ".to_string(),
    };
    let h = (matches.len() as u16 + 5).clamp(7, full.height.saturating_sub(2).min(20));
    let area = centered(full, 60, h);
    frame.render_widget(Clear, area);
    let block = popup_block(title, p);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new("›"), Rect::new(inner.x, inner.y, 2, 1));
    frame.render_widget(
        input,
        Rect::new(inner.x + 2, inner.y, inner.width.saturating_sub(2), 1),
    );
    let list_h = inner.height.saturating_sub(3) as usize;
    let first = selected.saturating_sub(list_h.saturating_sub(1));
    let mut lines = Vec::new();
    for (k, &ci) in matches.iter().enumerate().skip(first).take(list_h) {
        let c = &s.codes[ci];
        let mut spans = vec![
            Span::styled("■ ", p.code_style(c.id)),
            Span::styled(
                format!("{} ", c.shortcut.as_deref().unwrap_or(" ")),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::raw(c.name.clone()),
        ];
        if let Some(parent) = &c.parent {
            spans.push(Span::styled(
                format!("  ({parent})"),
                Style::default().add_modifier(Modifier::DIM),
            ));
        }
        let mut line = Line::from(spans);
        if k == selected {
            line = line.patch_style(Style::default().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    if matches.is_empty() {
        lines.push(hint_line("no code matches"));
    }
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(inner.x, inner.y + 1, inner.width, list_h as u16),
    );
    frame.render_widget(
        Paragraph::new(hint_line(
            "type to search · ↑↓ choose · Enter apply · Esc close",
        )),
        Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(1),
            inner.width,
            1,
        ),
    );
}

fn render_menu(
    frame: &mut Frame<'_>,
    p: &Painter<'_>,
    title: &str,
    items: &[MenuItem],
    selected: usize,
) {
    let full = frame.area();
    // Wide enough for the longest item, the title and the keys line.
    let w = items
        .iter()
        .map(|i| i.label.width() + 2)
        .chain([title.width() + 2, MENU_KEYS.width()])
        .max()
        .unwrap_or(10) as u16
        + 4;
    let h = items.len() as u16 + 3;
    let area = centered(full, w, h.min(full.height));
    frame.render_widget(Clear, area);
    let block = popup_block(format!(" {title} "), p);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let list_h = inner.height.saturating_sub(1) as usize;
    let first = selected.saturating_sub(list_h.saturating_sub(1));
    let mut lines: Vec<Line> = items
        .iter()
        .enumerate()
        .skip(first)
        .take(list_h)
        .map(|(i, item)| {
            let l = Line::raw(format!(
                "{} {}",
                if i == selected { "›" } else { " " },
                item.label
            ));
            if i == selected {
                l.patch_style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                l
            }
        })
        .collect();
    lines.push(hint_line(MENU_KEYS));
    frame.render_widget(Paragraph::new(lines), inner);
}

fn render_confirm(frame: &mut Frame<'_>, p: &Painter<'_>, question: &str) {
    let full = frame.area();
    let w = 64.min(full.width);
    let body = wrap_plain(question, w as usize - 4);
    let area = centered(full, w, body.len() as u16 + 4);
    frame.render_widget(Clear, area);
    let block = popup_block(" Are you sure? ".into(), p);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines: Vec<Line> = body.into_iter().map(Line::raw).collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "y yes · n no",
        Style::default().add_modifier(Modifier::BOLD),
    ));
    frame.render_widget(Paragraph::new(lines).alignment(Alignment::Left), inner);
}

fn render_memo(frame: &mut Frame<'_>, p: &Painter<'_>, input: &TextArea<'static>) {
    let s = p.state;
    let full = frame.area();
    let (ext, q) = s.answer.as_ref().map_or(("", ""), |a| {
        (a.detail.ext_id.as_str(), a.detail.question.as_str())
    });
    let area = centered(
        full,
        (full.width * 4 / 5).max(40),
        (full.height * 3 / 5).max(8),
    );
    frame.render_widget(Clear, area);
    let block = popup_block(format!(" Memo on {ext} · {q} "), p);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(
        input,
        Rect::new(
            inner.x,
            inner.y,
            inner.width,
            inner.height.saturating_sub(1),
        ),
    );
    frame.render_widget(
        Paragraph::new(hint_line("Ctrl-S save · Enter new line · Esc cancel")),
        Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(1),
            inner.width,
            1,
        ),
    );
}

/// The auto-code pop-up: the pattern, what it finds among the answers offered for coding (or
/// why it cannot be used), and the first answers it finds with the match in brackets.
fn render_autocode(
    frame: &mut Frame<'_>,
    p: &Painter<'_>,
    code: &str,
    input: &TextArea<'static>,
    generation: u64,
    preview: Option<&crate::tui::autocode::Preview>,
) {
    let s = p.state;
    let full = frame.area();
    let height = (crate::tui::autocode::SAMPLES as u16 + 6).min(full.height);
    let area = centered(full, 90.min(full.width), height);
    frame.render_widget(Clear, area);
    let block = popup_block(
        format!(" Auto-code {code} by a pattern (regex; case ignored) "),
        p,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new("›"), Rect::new(inner.x, inner.y, 2, 1));
    frame.render_widget(
        input,
        Rect::new(inner.x + 2, inner.y, inner.width.saturating_sub(2), 1),
    );
    let empty = input.lines().iter().all(|l| l.is_empty());
    let current = preview.filter(|pr| pr.generation == generation);
    let mut lines: Vec<Line<'static>> = Vec::new();
    match (empty, current.map(|pr| &pr.outcome)) {
        (true, _) => lines.push(hint_line(
            "type a pattern: the answers it finds are counted as you type",
        )),
        (false, None) => lines.push(hint_line("counting…")),
        (false, Some(Err(e))) => {
            for (i, part) in e.lines().enumerate() {
                let text = if i == 0 {
                    format!("✗ {part}")
                } else {
                    format!("  {part}")
                };
                lines.push(Line::styled(
                    text,
                    Style::default()
                        .add_modifier(Modifier::BOLD)
                        .fg_if(s.color, ERROR_BG),
                ));
            }
        }
        (false, Some(Ok(f))) => {
            lines.push(Line::from(format!(
                "{} answers match ({} matches); Enter codes each match as {code}, u undoes it",
                f.answers, f.matches
            )));
            for (label, ctx) in &f.samples {
                lines.push(Line::from(format!("  {label}  {ctx}")));
            }
        }
    }
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(
            inner.x,
            inner.y + 2.min(inner.height.saturating_sub(1)),
            inner.width,
            inner.height.saturating_sub(3),
        ),
    );
    frame.render_widget(
        Paragraph::new(hint_line("Enter apply · Esc close")),
        Rect::new(
            inner.x,
            inner.y + inner.height.saturating_sub(1),
            inner.width,
            1,
        ),
    );
}

fn render_prompt(
    frame: &mut Frame<'_>,
    p: &Painter<'_>,
    kind: &PromptKind,
    input: &TextArea<'static>,
    error: Option<&str>,
) {
    let s = p.state;
    let full = frame.area();
    let title = match kind {
        PromptKind::Search => {
            " Search answers (regex; lower case ignores case; empty clears) ".to_string()
        }
        PromptKind::VariableValue(i) => {
            format!(" {} = (type a value) ", s.variables[*i].name)
        }
    };
    let area = centered(full, 70.min(full.width), 5);
    frame.render_widget(Clear, area);
    let block = popup_block(title, p);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new("›"), Rect::new(inner.x, inner.y, 2, 1));
    frame.render_widget(
        input,
        Rect::new(inner.x + 2, inner.y, inner.width.saturating_sub(2), 1),
    );
    let line = match error {
        Some(e) => Line::styled(
            format!("✗ {e}"),
            Style::default()
                .add_modifier(Modifier::BOLD)
                .fg_if(s.color, ERROR_BG),
        ),
        None => hint_line("Enter ok · Esc cancel"),
    };
    frame.render_widget(
        Paragraph::new(line),
        Rect::new(
            inner.x,
            inner.y + 2.min(inner.height.saturating_sub(1)),
            inner.width,
            1,
        ),
    );
}
