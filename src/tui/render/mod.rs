//! Drawing the coding screen from `&State` only. Colour is never the only carrier of meaning:
//! coded segments also get brackets and the code's shortcut, the review mark is a symbol, the
//! focused panel a double border, so the screen works with NO_COLOR and for colour-blind coders.
//!
//! This file owns what the panels share: the colours with a meaning, the painter that drops colour
//! when it is off, and fitting text into a width. Each panel is drawn by its own file (`list`,
//! `answer`, `codebook`, `status`), and the pop-ups by `popups`, `form` and `help`.

mod answer;
mod codebook;
mod form;
mod help;
mod list;
mod popups;
mod status;

use super::state::*;
use super::text::Cell;
use crate::store::CodeRecord;
use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Colours with a meaning, named so tests can assert them.
pub const REVIEWED: Color = Color::Green;
pub const NOT_REVIEWED: Color = Color::DarkGray;
pub const FOCUS: Color = Color::Yellow;
pub const MATCH_BG: Color = Color::Yellow;
pub const ERROR_BG: Color = Color::Red;

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
    list::render_list(frame, &p, ar.list);
    codebook::render_codebook(frame, &p, ar.codebook);
    answer::render_answer(frame, &p, ar.answer);
    status::render_status(frame, &p, ar.status);
    if let Some(popup) = &state.popup {
        popups::render_popup(frame, &p, popup);
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

/// Search matches, in the list and in the text; without colour they still stand out.
fn match_style(p: &Painter<'_>) -> Style {
    if p.state.color {
        Style::default().bg(MATCH_BG).fg(Color::Black)
    } else {
        Style::default().add_modifier(Modifier::BOLD | Modifier::ITALIC)
    }
}

trait FgIf {
    fn fg_if(self, on: bool, c: Color) -> Style;
}

impl FgIf for Style {
    fn fg_if(self, on: bool, c: Color) -> Style {
        if on { self.fg(c) } else { self }
    }
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
