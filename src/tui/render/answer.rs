//! The answer panel: the question, the respondent's variables and the codes applied above the
//! text; the text with its coded segments, search matches, selection and cursor; the memo and
//! other coders' codings below it.

use super::{FgIf, NOT_REVIEWED, Painter, REVIEWED, match_style, push_fit, wrap_plain};
use crate::tui::state::*;
use crate::tui::text::Cell;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

pub(super) fn render_answer(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
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
