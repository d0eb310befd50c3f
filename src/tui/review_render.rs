//! Drawing the review screen from `&ReviewState` only. Colour never carries meaning alone: the
//! reliability is written out, coded segments are bracketed and numbered by coder, the whole
//! answer is said in the column's title, and the selected row has a marker.

use super::review::{Item, ReviewContext, ReviewState, View, grapheme_spans};
use super::state::MsgKind;
use super::subscreen::{fg, fit, pad, render_screen};
use super::text::{self, Cell, Mark};
use crate::agreement::Reliability;
use crate::store::Version;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

/// Colours with a meaning, named so tests can assert them.
pub const RELIABLE: Color = Color::Green;
pub const TENTATIVE: Color = Color::Yellow;
pub const UNRELIABLE: Color = Color::Red;
pub const SETTLED: Color = Color::Green;
pub const OPEN: Color = Color::Yellow;
pub const SELECTED: Color = Color::Yellow;
/// Background of each coder's coded text, by the coder's number (the consensus uses the last).
pub const CODER_BG: [Color; 6] = [
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::LightBlue,
    Color::LightMagenta,
    Color::LightCyan,
];
pub const CONSENSUS_BG: Color = Color::Green;
pub const CURSOR_BG: Color = Color::White;

pub fn reliability_color(r: Reliability) -> Color {
    match r {
        Reliability::Reliable => RELIABLE,
        Reliability::Tentative => TENTATIVE,
        Reliability::Unreliable => UNRELIABLE,
    }
}

struct Painter<'a> {
    state: &'a ReviewState,
}

impl Painter<'_> {
    fn fg(&self, c: Color) -> Style {
        fg(self.state.color, c)
    }

    fn bg(&self, c: Color) -> Style {
        if self.state.color {
            Style::default().bg(c).fg(Color::Black)
        } else {
            Style::default().add_modifier(Modifier::UNDERLINED)
        }
    }

    fn hint(&self, ctx: ReviewContext, action: super::review::ReviewAction, what: &str) -> String {
        self.state
            .keymap
            .hint(ctx, &action, what)
            .unwrap_or_default()
    }
}

pub fn render(frame: &mut Frame<'_>, state: &ReviewState) {
    let p = Painter { state };
    render_screen(
        frame,
        (30, 6),
        "review",
        state.help,
        |frame, area| match state.view {
            View::Table => render_table(frame, &p, area),
            View::Queue => render_queue(frame, &p, area),
        },
        |frame, area| render_status(frame, &p, area),
        |frame, area, scroll| render_help(frame, &p, area, scroll),
    );
}

fn fixed(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.3}"))
}

fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn render_table(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    // While the table is computed in the background it shows the codes with "…" for numbers.
    let r = s.report.as_ref();
    let (settled, total) = s.index.progress();
    let names: Vec<String> = s.coders.iter().map(|c| c.1.clone()).collect();
    let scope = s
        .question
        .as_deref()
        .map_or_else(|| "all questions".to_string(), |q| format!("question {q}"));
    let head = vec![
        Line::styled(
            fit(
                &match r {
                    Some(r) => format!(
                        "Agreement of {} on {} answers ({scope})",
                        and_list(&names),
                        r.units
                    ),
                    None => format!("Agreement of {} ({scope})", and_list(&names)),
                },
                area.width as usize,
            ),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Line::from(vec![
            Span::raw(fit(
                &format!("Consensus {:?}, decisions by {} · ", s.consensus, s.decider),
                area.width as usize,
            )),
            if r.is_some() {
                Span::styled(
                    format!("{settled} of {total} disagreements settled"),
                    p.fg(if settled == total { SETTLED } else { OPEN }),
                )
            } else {
                Span::raw("reading every coder's ratings…")
            },
        ]),
    ];
    frame.render_widget(
        Paragraph::new(head),
        Rect::new(area.x, area.y, area.width, 2),
    );

    let body = Rect::new(
        area.x,
        area.y + 2,
        area.width,
        area.height.saturating_sub(4),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.fg(SELECTED))
        .title(" Codes · Enter opens a code's disagreements ");
    let inner = block.inner(body);
    frame.render_widget(block, body);
    let w = inner.width as usize;
    // code | alpha | reliability | settled: the code takes what is left.
    let fixed_w = 2 + 7 + 13 + 16;
    let code_w = w.saturating_sub(fixed_w).max(8);
    let mut lines = vec![Line::styled(
        fit(
            &format!(
                "  {}{:>7}  {:<11}  {:>14}",
                pad("code", code_w),
                "alpha",
                "reliability",
                "settled"
            ),
            w,
        ),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    let rows = (inner.height as usize).saturating_sub(1);
    for (i, code) in s.codes.iter().enumerate().skip(s.table_offset).take(rows) {
        let alpha = r.and_then(|r| r.codes.get(i)?.krippendorff_alpha);
        let (verdict, vstyle) = match alpha {
            _ if r.is_none() => (String::new(), Style::default()),
            Some(a) => {
                let rel = Reliability::of(a);
                (rel.as_str().to_string(), p.fg(reliability_color(rel)))
            }
            None => ("undefined".to_string(), Style::default()),
        };
        let q = s.index.queues.get(i).map_or(&[][..], Vec::as_slice);
        let done = q.iter().filter(|x| x.settled).count();
        let progress = if r.is_none() {
            "…".to_string()
        } else if q.is_empty() {
            "agreed".to_string()
        } else {
            format!("{done} of {}", q.len())
        };
        let alpha_text = if r.is_none() {
            "…".to_string()
        } else {
            fixed(alpha)
        };
        let selected = i == s.selected;
        let marker = if selected { "> " } else { "  " };
        let base = if selected {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{}", pad(&code.name, code_w)), base),
            Span::styled(format!("{alpha_text:>7}  "), base),
            Span::styled(format!("{verdict:<11}"), vstyle.patch(base)),
            Span::styled(
                format!("  {progress:>14}"),
                if q.is_empty() {
                    base
                } else {
                    p.fg(if done == q.len() { SETTLED } else { OPEN })
                        .patch(base)
                },
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);

    let overall = fit(
        &match r.map(|r| &r.overall) {
            Some(o) => format!(
                "Overall: pooled alpha {} · MASI alpha {} · agreement is on codes per answer, \
                 not on segment boundaries",
                fixed(o.krippendorff_alpha_pooled),
                fixed(o.krippendorff_alpha_masi)
            ),
            None => "Overall: computing…".to_string(),
        },
        area.width as usize,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            overall,
            Style::default().add_modifier(Modifier::DIM),
        )),
        Rect::new(area.x, area.bottom() - 2, area.width, 1),
    );
}

/// One column of the side-by-side view: whose version, and how its codings are marked.
struct Column<'a> {
    version: &'a Version,
    /// After each segment's closing bracket: the coder's number, or `c` for the consensus.
    label: &'a str,
    bg: Color,
}

/// The wrapped lines of the answer text with one version's codings of the code marked.
fn version_lines(
    p: &Painter<'_>,
    item: &Item,
    col: &Column<'_>,
    code_id: i64,
    width: usize,
    cursor: Option<(usize, Option<(usize, usize)>)>,
) -> Vec<Line<'static>> {
    let (version, label, bg) = (col.version, col.label, col.bg);
    let (whole, spans) = grapheme_spans(item, version, code_id);
    let marks: Vec<Mark> = spans
        .iter()
        .map(|&(first, last)| Mark {
            first,
            last,
            label: label.to_string(),
        })
        .collect();
    let wrapped = text::wrap(&item.graphemes, &marks, width);
    let inside = |g: usize| whole || spans.iter().any(|&(a, b)| a <= g && g <= b);
    let mut out = Vec::with_capacity(wrapped.len());
    for line in wrapped {
        let mut parts: Vec<Span<'static>> = Vec::new();
        for cell in line {
            match cell {
                Cell::Grapheme(i) => {
                    let g = &item.graphemes[i];
                    let t = if g.is_newline {
                        String::new()
                    } else if &item.text[g.bytes.0..g.bytes.1] == "\t" {
                        "    ".to_string()
                    } else {
                        item.text[g.bytes.0..g.bytes.1].to_string()
                    };
                    let mut style = if inside(i) {
                        p.bg(bg)
                    } else {
                        Style::default()
                    };
                    if let Some((c, sel)) = cursor {
                        if sel.is_some_and(|(a, b)| a <= i && i <= b) {
                            style = style.add_modifier(Modifier::REVERSED);
                        }
                        if c == i {
                            style = if p.state.color {
                                style.bg(CURSOR_BG).fg(Color::Black)
                            } else {
                                style.add_modifier(Modifier::REVERSED)
                            };
                        }
                    }
                    parts.push(Span::styled(t, style));
                }
                Cell::Open(_) => parts.push(Span::styled(
                    "[",
                    Style::default().add_modifier(Modifier::BOLD),
                )),
                Cell::Close(_, l) => parts.push(Span::styled(
                    format!("]{l}"),
                    Style::default().add_modifier(Modifier::BOLD),
                )),
            }
        }
        out.push(Line::from(parts));
    }
    out
}

fn version_title(version: &Version, code_id: i64, consensus: bool) -> String {
    if !version.rated && version.codings.is_empty() {
        return if consensus {
            "nothing yet".into()
        } else {
            "did not code it".into()
        };
    }
    let spans: Vec<_> = version.of_code(code_id).collect();
    if spans.is_empty() {
        "not applied".into()
    } else if spans.iter().any(|s| s.start.is_none()) {
        "whole answer".into()
    } else if spans.len() == 1 {
        "1 segment".into()
    } else {
        format!("{} segments", spans.len())
    }
}

fn render_queue(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    let code = s.code();
    let (settled, total) = s.code_progress();
    let (all_settled, all_total) = s.index.progress();
    let mut head = vec![Span::styled(
        code.name.clone(),
        Style::default().add_modifier(Modifier::BOLD),
    )];
    head.push(Span::raw(format!(
        " · disagreement {} of {total} · ",
        (s.position + 1).min(total)
    )));
    head.push(Span::styled(
        format!("{settled} of {total} settled"),
        p.fg(if settled == total { SETTLED } else { OPEN }),
    ));
    head.push(Span::raw(format!(
        " · all codes {all_settled} of {all_total}"
    )));
    frame.render_widget(
        Paragraph::new(Line::from(head)),
        Rect::new(area.x, area.y, area.width, 1),
    );

    // The code's definition, as much as fits in a few lines.
    let mut def: Vec<Line<'static>> = Vec::new();
    for (label, value) in [
        ("", &code.description),
        ("Include: ", &code.inclusion),
        ("Exclude: ", &code.exclusion),
        ("Example: ", &code.example),
    ] {
        if !value.is_empty() {
            def.push(Line::from(vec![
                Span::styled(
                    label.to_string(),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(value.replace('\n', " ")),
            ]));
        }
    }
    if def.is_empty() {
        def.push(Line::styled(
            "(no definition in the codebook)",
            Style::default().add_modifier(Modifier::DIM),
        ));
    }
    let def_h = (def.len() as u16 + 2).min(area.height / 4 + 2).max(3);
    let def_area = Rect::new(area.x, area.y + 1, area.width, def_h);
    frame.render_widget(
        Paragraph::new(def)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" Definition ")),
        def_area,
    );

    let Some(item) = &s.item else {
        return;
    };
    let top = def_area.bottom();
    let cols_area = Rect::new(
        area.x,
        top,
        area.width,
        area.bottom().saturating_sub(top + 2),
    );
    let n = s.coders.len() + 1;
    let col_w = (cols_area.width / n as u16).max(10);
    for (k, version) in item
        .versions
        .iter()
        .chain(std::iter::once(&item.consensus))
        .enumerate()
    {
        let x = cols_area.x + col_w * k as u16;
        if x >= cols_area.right() {
            break;
        }
        let w = if k + 1 == n {
            cols_area.right() - x
        } else {
            col_w.min(cols_area.right() - x)
        };
        let rect = Rect::new(x, cols_area.y, w, cols_area.height);
        let is_consensus = k + 1 == n;
        let (title, label, bg) = if is_consensus {
            let state = match &item.decision {
                Some(d) => match (&d.adopted_from, d.decision.as_str()) {
                    (Some(from), _) => format!("settled: {from}'s"),
                    (None, "agreed") => "settled: agreed".to_string(),
                    (None, "all") => "settled: everyone's".to_string(),
                    (None, "none") => "settled: does not apply".to_string(),
                    (None, other) => format!("settled: {other}"),
                },
                None if s.queue().get(s.position).is_some_and(|q| q.settled) => {
                    "settled by hand".to_string()
                }
                None => "open".to_string(),
            };
            (
                format!(
                    " {} · {} · {} ",
                    s.consensus,
                    state,
                    version_title(version, code.id, true)
                ),
                "c".to_string(),
                CONSENSUS_BG,
            )
        } else {
            (
                format!(
                    " {} {} · {} ",
                    k + 1,
                    version.coder,
                    version_title(version, code.id, false)
                ),
                (k + 1).to_string(),
                CODER_BG[k % CODER_BG.len()],
            )
        };
        let editing = is_consensus && s.edit.is_some();
        let mut block = Block::default()
            .borders(Borders::ALL)
            .title(fit(&title, w as usize));
        if editing {
            block = block
                .border_type(BorderType::Double)
                .border_style(p.fg(SELECTED))
                .title_style(Style::default().add_modifier(Modifier::BOLD));
        }
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let cursor = if editing {
            s.edit.map(|e| (e.cursor, s.selection()))
        } else {
            None
        };
        let lines = version_lines(
            p,
            item,
            &Column {
                version,
                label: &label,
                bg,
            },
            code.id,
            inner.width as usize,
            cursor,
        );
        // Keep the editing cursor on screen.
        let scroll = match cursor {
            Some((c, _)) => {
                let wrapped = text::wrap(&item.graphemes, &[], inner.width as usize);
                let (li, _) = text::locate(&wrapped, &item.graphemes, c);
                li.saturating_sub(inner.height.saturating_sub(1) as usize)
            }
            None => 0,
        };
        frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner);
    }
    let where_ = format!("answer {} · {}", item.ext_id, item.question);
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(&where_, area.width as usize),
            Style::default().add_modifier(Modifier::DIM),
        )),
        Rect::new(area.x, area.bottom() - 2, area.width, 1),
    );
}

fn render_status(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    if let Some((msg, kind)) = &s.message {
        let style = match kind {
            MsgKind::Error => p.fg(Color::Red).add_modifier(Modifier::BOLD),
            MsgKind::Info => Style::default(),
        };
        frame.render_widget(
            Paragraph::new(Line::styled(fit(msg, area.width as usize), style)),
            area,
        );
        return;
    }
    use super::review::ReviewAction as A;
    let ctx = s.context();
    let hints: Vec<String> = match ctx {
        ReviewContext::Table => vec![
            p.hint(ctx, A::Open, "open"),
            p.hint(ReviewContext::Global, A::Help, "help"),
            p.hint(ctx, A::Quit, "quit"),
        ],
        ReviewContext::Queue => vec![
            format!("1-{} adopt a coder's", s.coders.len().min(9)),
            p.hint(ctx, A::AdoptAll, "all"),
            p.hint(ctx, A::AdoptNone, "none"),
            p.hint(ctx, A::Edit, "edit"),
            p.hint(ctx, A::Next, "next"),
            p.hint(ctx, A::NextOpen, "next open"),
            p.hint(ctx, A::Back, "codes"),
            p.hint(ReviewContext::Global, A::Help, "help"),
        ],
        ReviewContext::Edit => vec![
            p.hint(ctx, A::Select, "select"),
            p.hint(ctx, A::Apply, "toggle the code (selection or whole answer)"),
            p.hint(ctx, A::RemoveSegment, "remove segment"),
            p.hint(ctx, A::Back, "done"),
        ],
        ReviewContext::Help | ReviewContext::Global => {
            vec![p.hint(ReviewContext::Help, A::Back, "close the help")]
        }
    };
    let text: Vec<String> = hints.into_iter().filter(|h| !h.is_empty()).collect();
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(&text.join(" · "), area.width as usize),
            Style::default().add_modifier(Modifier::DIM),
        )),
        area,
    );
}

fn render_help(frame: &mut Frame<'_>, p: &Painter<'_>, full: Rect, scroll: usize) {
    let w = full.width.saturating_sub(4).min(90);
    let h = full.height.saturating_sub(2);
    let area = Rect::new(
        full.x + (full.width - w) / 2,
        full.y + (full.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.fg(SELECTED))
        .title(" Keys · from the key map (Esc closes, j/k scroll) ")
        .title_style(Style::default().add_modifier(Modifier::BOLD));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut lines = Vec::new();
    for (ctx, rows) in p.state.keymap.help() {
        lines.push(Line::styled(
            ctx.title().to_string(),
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        ));
        for (keys, desc) in rows {
            lines.push(Line::from(vec![
                Span::styled(pad(&keys, 18), p.fg(SELECTED)),
                Span::raw(desc.to_string()),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Each decision is saved at once, with who decided and every coder's version, in the \
         project's event log."
            .to_string(),
        Style::default().add_modifier(Modifier::DIM),
    ));
    let scroll = scroll.min(lines.len().saturating_sub(1));
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        inner,
    );
}
