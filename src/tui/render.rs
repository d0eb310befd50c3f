//! Drawing the coding screen from `&State` only. Colour is never the only carrier of meaning:
//! coded segments also get brackets and the code's shortcut, the review mark is a symbol, the
//! focused panel a double border, so the screen works with NO_COLOR and for colour-blind coders.

use super::keymap::Context;
use super::state::*;
use super::text::Cell;
use crate::store::CodeRecord;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Colours with a meaning, named so tests can assert them.
pub const REVIEWED: Color = Color::Green;
pub const NOT_REVIEWED: Color = Color::DarkGray;
pub const FOCUS: Color = Color::Yellow;
pub const MATCH_BG: Color = Color::Yellow;
pub const ERROR_BG: Color = Color::Red;

const MENU_KEYS: &str = "j/k choose · Enter ok · Esc close";

/// `#RRGGBB` as a terminal colour.
pub fn code_color(code: &CodeRecord) -> Option<Color> {
    let c = code.color.as_deref()?.strip_prefix('#')?;
    if c.len() != 6 {
        return None;
    }
    let v = u32::from_str_radix(c, 16).ok()?;
    Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8))
}

struct Painter<'a> {
    state: &'a State,
}

impl Painter<'_> {
    fn fg(&self, c: Color) -> Style {
        if self.state.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn code_style(&self, id: i64) -> Style {
        match self.state.code_by_id(id).and_then(code_color) {
            Some(c) if self.state.color => Style::default().fg(c),
            _ => Style::default(),
        }
    }

    fn block(&self, title: String, focused: bool) -> Block<'static> {
        let mut b = Block::default().borders(Borders::ALL).title(title);
        if focused {
            b = b
                .border_type(BorderType::Double)
                .title_style(Style::default().add_modifier(Modifier::BOLD))
                .border_style(self.fg(FOCUS));
        }
        b
    }
}

pub fn render(frame: &mut Frame<'_>, state: &State) {
    let p = Painter { state };
    let ar = areas(frame.area());
    render_list(frame, &p, ar.list);
    render_codebook(frame, &p, ar.codebook);
    render_answer(frame, &p, ar.answer);
    render_status(frame, &p, ar.status);
    if let Some(popup) = &state.popup {
        render_popup(frame, &p, popup);
    }
}

fn thousands(n: i64) -> String {
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Appends `text` to `spans` within `room` columns (cutting at a grapheme), returning the room left.
fn push_fit(spans: &mut Vec<Span<'static>>, text: &str, style: Style, room: usize) -> usize {
    let mut used = 0;
    let mut out = String::new();
    for g in text.graphemes(true) {
        let g = if g == "\n" || g == "\t" || g == "\r\n" {
            " "
        } else {
            g
        };
        let w = g.width();
        if used + w > room {
            break;
        }
        used += w;
        out.push_str(g);
    }
    if !out.is_empty() {
        spans.push(Span::styled(out, style));
    }
    room - used
}

fn pad(s: &str, width: usize) -> String {
    let w = s.width();
    if w >= width {
        let mut spans = Vec::new();
        push_fit(&mut spans, s, Style::default(), width);
        spans.into_iter().map(|s| s.content.into_owned()).collect()
    } else {
        format!("{s}{}", " ".repeat(width - w))
    }
}

// ---------------------------------------------------------------------------------------------

fn render_list(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
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

fn match_style(p: &Painter<'_>) -> Style {
    if p.state.color {
        Style::default().bg(MATCH_BG).fg(Color::Black)
    } else {
        Style::default().add_modifier(Modifier::BOLD | Modifier::ITALIC)
    }
}

// ---------------------------------------------------------------------------------------------

fn render_codebook(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
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

// ---------------------------------------------------------------------------------------------

fn render_answer(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    let focused = s.focus == Focus::Text && s.popup.is_none();
    let Some(ans) = &s.answer else {
        let block = p.block(" Answer ".into(), focused);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        frame.render_widget(Paragraph::new("No answer selected."), inner);
        return;
    };
    let d = &ans.detail;
    let mut title = format!(" {} · {} ", d.ext_id, d.question);
    if s.text.anchor.is_some() {
        title.push_str("· selecting ");
    }
    let block = p.block(title, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let w = inner.width as usize;
    let mut header: Vec<Line> = Vec::new();
    let vars: Vec<String> = ans
        .values
        .iter()
        .map(|(n, v)| format!("{n} {}", v.as_deref().unwrap_or("NA")))
        .collect();
    let var_style = Style::default().fg_if(s.color, Color::Cyan);
    // 1: the question as asked, when the survey gave its text (the title names the column);
    // otherwise the respondent's variables get two lines.
    let mut var_lines = 1;
    match d.question_label.as_deref() {
        Some(label) => {
            let mut spans = Vec::new();
            push_fit(
                &mut spans,
                label,
                Style::default().add_modifier(Modifier::ITALIC | Modifier::DIM),
                w,
            );
            header.push(Line::from(spans));
        }
        None => var_lines = 2,
    }
    // 2: the respondent's variables, as many as fit, whole.
    let mut rest: &[String] = &vars;
    for k in 0..var_lines {
        let mut line = String::new();
        let mut taken = 0;
        for v in rest {
            let add = if line.is_empty() {
                v.clone()
            } else {
                format!(" · {v}")
            };
            if line.width() + add.width() > w && !line.is_empty() && k + 1 < var_lines {
                break;
            }
            line.push_str(&add);
            taken += 1;
        }
        rest = &rest[taken..];
        let mut spans = Vec::new();
        push_fit(&mut spans, &line, var_style, w);
        header.push(Line::from(spans));
    }
    // 3: review mark and the codes applied.
    header.push(codes_line(p, ans, w));
    let hh = (ANSWER_HEADER_LINES as usize).min(inner.height as usize);
    frame.render_widget(
        Paragraph::new(header),
        Rect::new(inner.x, inner.y, inner.width, hh as u16),
    );
    let text_area = s.areas().text();
    let text_area = Rect::new(
        text_area.x,
        text_area.y,
        text_area.width.min(inner.width),
        text_area.height,
    );
    let mut lines = text_lines(p, ans);
    lines.extend(extra_lines(p, ans, w));
    let visible: Vec<Line> = lines
        .into_iter()
        .skip(s.text.scroll)
        .take(text_area.height as usize)
        .collect();
    frame.render_widget(Paragraph::new(visible), text_area);
}

trait FgIf {
    fn fg_if(self, on: bool, c: Color) -> Style;
}

impl FgIf for Style {
    fn fg_if(self, on: bool, c: Color) -> Style {
        if on { self.fg(c) } else { self }
    }
}

/// "✓ reviewed │ [1 rapport-deepened] [+ client-relief] [..]5 session-deepened": whole-answer
/// codes in brackets, segment codes after a bracket pair, names shortened when space is short.
fn codes_line(p: &Painter<'_>, ans: &Answer, width: usize) -> Line<'static> {
    let s = p.state;
    let d = &ans.detail;
    let mut spans = Vec::new();
    if d.reviewed {
        spans.push(Span::styled(
            "✓ reviewed",
            p.fg(REVIEWED).add_modifier(Modifier::BOLD),
        ));
    } else {
        spans.push(Span::styled("· not reviewed", p.fg(NOT_REVIEWED)));
    }
    let mut chips: Vec<(i64, bool)> = Vec::new();
    for c in &d.codings {
        let whole = c.start.is_none();
        if !chips.contains(&(c.code_id, whole)) {
            chips.push((c.code_id, whole));
        }
    }
    if chips.is_empty() {
        if d.reviewed {
            spans.push(Span::raw(" │ no code applies"));
        }
        if !d.memo.is_empty() {
            spans.push(Span::raw(" │ memo ✎"));
        }
        return Line::from(spans);
    }
    spans.push(Span::raw(" │"));
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let room = width.saturating_sub(used);
    let chip = |id: i64, whole: bool, name_len: Option<usize>| {
        let label = s.mark_label(id);
        let name = s.code_by_id(id).map_or("?", |c| c.name.as_str());
        let name: String = match name_len {
            Some(0) => String::new(),
            Some(n) => name.chars().take(n).collect(),
            None => name.to_string(),
        };
        let sep = if name.is_empty() { "" } else { " " };
        if whole {
            format!(" [{label}{sep}{name}]")
        } else {
            format!(" [‥]{label}{sep}{name}")
        }
    };
    let fits = |n: Option<usize>| {
        chips
            .iter()
            .map(|(id, w)| chip(*id, *w, n).width())
            .sum::<usize>()
            <= room
    };
    let name_len = [None, Some(16), Some(12), Some(9), Some(6), Some(0)]
        .into_iter()
        .find(|n| fits(*n))
        .unwrap_or(Some(0));
    let mut left = room;
    for (id, whole) in &chips {
        left = push_fit(
            &mut spans,
            &chip(*id, *whole, name_len),
            p.code_style(*id).add_modifier(Modifier::BOLD),
            left,
        );
    }
    Line::from(spans)
}

/// The answer's text, wrapped, with this coder's segments, the search's matches, the selection
/// and the cursor.
fn text_lines(p: &Painter<'_>, ans: &Answer) -> Vec<Line<'static>> {
    let s = p.state;
    let Some(layout) = s.text_layout() else {
        return Vec::new();
    };
    if ans.graphemes.is_empty() || ans.detail.is_empty {
        let shown = if ans.graphemes.is_empty() {
            "(empty answer)".to_string()
        } else {
            format!("(empty answer: {:?})", ans.detail.text)
        };
        return vec![Line::styled(
            shown,
            Style::default().add_modifier(Modifier::DIM),
        )];
    }
    let text = &ans.detail.text;
    let gs = &ans.graphemes;
    // Which code colours each grapheme: the innermost of this coder's segments over it.
    let mut coded: Vec<Option<(i64, usize)>> = vec![None; gs.len()];
    for c in &ans.detail.codings {
        if let (Some(st), Some(en)) = (c.start, c.end) {
            for (i, g) in gs.iter().enumerate() {
                if g.cp >= st && g.cp < en && coded[i].is_none_or(|(_, len)| en - st < len) {
                    coded[i] = Some((c.code_id, en - st));
                }
            }
        }
    }
    let mut matched = vec![false; gs.len()];
    if let Some(search) = &s.search {
        for m in search.regex.find_iter(text) {
            for (i, g) in gs.iter().enumerate() {
                if g.bytes.0 < m.end() && g.bytes.1 > m.start() {
                    matched[i] = true;
                }
            }
        }
    }
    let selection = s.selection();
    let show_cursor = s.focus == Focus::Text && s.popup.is_none();
    layout
        .lines
        .iter()
        .map(|cells| {
            let spans: Vec<Span<'static>> = cells
                .iter()
                .filter_map(|cell| match cell {
                    Cell::Grapheme(i) => {
                        let g = &gs[*i];
                        if g.is_newline {
                            return if show_cursor && *i == s.text.cursor {
                                Some(Span::styled(
                                    " ",
                                    Style::default().add_modifier(Modifier::REVERSED),
                                ))
                            } else {
                                None
                            };
                        }
                        let content = if &text[g.bytes.0..g.bytes.1] == "\t" {
                            "    ".to_string()
                        } else {
                            text[g.bytes.0..g.bytes.1].to_string()
                        };
                        let mut style = Style::default();
                        if let Some((code, _)) = coded[*i] {
                            style = style
                                .patch(p.code_style(code))
                                .add_modifier(Modifier::UNDERLINED);
                        }
                        if matched[*i] {
                            style = style.patch(match_style(p));
                        }
                        if selection.is_some_and(|(a, b)| *i >= a && *i <= b) {
                            style = style.add_modifier(Modifier::REVERSED);
                        }
                        if show_cursor && *i == s.text.cursor {
                            // The cursor shows inside a selection too: reversed back, underlined.
                            style = if selection.is_some() {
                                style
                                    .remove_modifier(Modifier::REVERSED)
                                    .add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
                            } else {
                                style.add_modifier(Modifier::REVERSED)
                            };
                        }
                        Some(Span::styled(content, style))
                    }
                    Cell::Open(k) => Some(Span::styled(
                        "[",
                        p.code_style(layout.mark_codes[*k])
                            .add_modifier(Modifier::BOLD),
                    )),
                    Cell::Close(k, label) => Some(Span::styled(
                        format!("]{label}"),
                        p.code_style(layout.mark_codes[*k])
                            .add_modifier(Modifier::BOLD),
                    )),
                })
                .collect();
            Line::from(spans)
        })
        .collect()
}

/// Below the text: the coder's memo, and other coders' codings when shown.
fn extra_lines(p: &Painter<'_>, ans: &Answer, width: usize) -> Vec<Line<'static>> {
    let s = p.state;
    let d = &ans.detail;
    let mut out = Vec::new();
    if !d.memo.is_empty() {
        out.push(Line::raw(""));
        out.push(Line::styled(
            "Memo (m edits):",
            Style::default().add_modifier(Modifier::BOLD),
        ));
        for l in d.memo.lines() {
            for chunk in wrap_plain(l, width) {
                out.push(Line::raw(chunk));
            }
        }
    }
    if s.show_others {
        out.push(Line::raw(""));
        out.push(Line::styled(
            "Other coders (read-only; o hides):",
            Style::default().add_modifier(Modifier::BOLD),
        ));
        if d.others.is_empty() {
            out.push(Line::styled(
                "  none coded this answer",
                Style::default().add_modifier(Modifier::DIM),
            ));
        }
        for o in &d.others {
            let name = s
                .code_by_id(o.coding.code_id)
                .map_or("?", |c| c.name.as_str());
            let label = s.mark_label(o.coding.code_id);
            let what = match (o.coding.start, o.coding.end) {
                (Some(a), Some(b)) => {
                    let seg: String = d.text.chars().skip(a).take(b - a).collect();
                    format!("“{}”", seg.replace('\n', " "))
                }
                _ => "whole answer".to_string(),
            };
            let mut spans = vec![Span::raw(format!("  {} ", o.coder))];
            spans.push(Span::styled(
                format!("[{label} {name}]"),
                p.code_style(o.coding.code_id),
            ));
            let used: usize = spans.iter().map(|s| s.content.width()).sum();
            push_fit(
                &mut spans,
                &format!(" {what}"),
                Style::default().add_modifier(Modifier::DIM),
                width.saturating_sub(used),
            );
            out.push(Line::from(spans));
        }
    }
    out
}

/// Greedy word wrap of plain text (for memos and pop-ups).
fn wrap_plain(text: &str, width: usize) -> Vec<String> {
    let gs = super::text::graphemes(text);
    super::text::wrap(&gs, &[], width.max(4))
        .into_iter()
        .map(|cells| {
            cells
                .iter()
                .filter_map(|c| match c {
                    Cell::Grapheme(i) => Some(&text[gs[*i].bytes.0..gs[*i].bytes.1]),
                    _ => None,
                })
                .collect::<String>()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

fn render_status(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
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
    use super::action::Action;
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

// ---------------------------------------------------------------------------------------------

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn popup_block(title: String, p: &Painter<'_>) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.fg(FOCUS))
        .title(title)
        .title_style(Style::default().add_modifier(Modifier::BOLD))
}

fn hint_line(text: &str) -> Line<'static> {
    Line::styled(
        text.to_string(),
        Style::default().add_modifier(Modifier::DIM),
    )
}

fn render_popup(frame: &mut Frame<'_>, p: &Painter<'_>, popup: &Popup) {
    let s = p.state;
    let full = frame.area();
    match popup {
        Popup::Help { scroll } => {
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
            let visible: Vec<Line> = lines.into_iter().skip((*scroll).min(max)).collect();
            frame.render_widget(Paragraph::new(visible), inner);
        }
        Popup::Details { code, memo } => {
            let Some(c) = s.codes.get(*code) else { return };
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
                ("Definition", &c.description),
                ("Inclusion", &c.inclusion),
                ("Exclusion", &c.exclusion),
                ("Example", &c.example),
                ("My memo", memo),
            ] {
                lines.push(Line::styled(
                    label.to_string(),
                    Style::default().add_modifier(Modifier::BOLD),
                ));
                let v = if value.is_empty() {
                    "—"
                } else {
                    value.as_str()
                };
                for l in v.lines() {
                    for chunk in wrap_plain(l, inner.width as usize - 2) {
                        lines.push(Line::raw(format!("  {chunk}")));
                    }
                }
            }
            frame.render_widget(Paragraph::new(lines), inner);
        }
        Popup::Finder {
            purpose,
            input,
            matches,
            selected,
        } => {
            let title = match purpose {
                FinderPurpose::Apply(Some(_)) => {
                    " Apply a code to the selected segment ".to_string()
                }
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
                if k == *selected {
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
        Popup::Menu {
            title,
            items,
            selected,
        } => {
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
                        if i == *selected { "›" } else { " " },
                        item.label
                    ));
                    if i == *selected {
                        l.patch_style(Style::default().add_modifier(Modifier::REVERSED))
                    } else {
                        l
                    }
                })
                .collect();
            lines.push(hint_line(MENU_KEYS));
            frame.render_widget(Paragraph::new(lines), inner);
        }
        Popup::Confirm { question, .. } => {
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
        Popup::Memo { input, .. } => {
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
        Popup::Form {
            kind,
            fields,
            focus,
            error,
            ..
        } => {
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
            while first < *focus && heights[first..=*focus].iter().sum::<u16>() > avail {
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
                let b = if i == *focus {
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
                if i == *focus {
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
        Popup::Prompt { kind, input, error } => {
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
    }
}
