//! Drawing the analysis screen from `&AnalysisState` only. Colour never carries meaning alone:
//! a q-value below 0.05 is also starred, a doubtful chi-square is marked with `!`, the selected
//! row has a marker and the selected cell is shown reversed.

use super::analysis::{AnalysisAction, AnalysisContext, AnalysisState, Results, SortOrder, View};
use super::state::MsgKind;
use super::subscreen::{fg, fit, pad, render_screen};
use crate::analysis::SMALL_EXPECTED;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, BorderType, Borders, Clear, Paragraph, Wrap,
};
use unicode_width::UnicodeWidthStr;

/// Colours with a meaning, named so tests can assert them.
pub const SIGNIFICANT: Color = Color::Green;
pub const BAR: Color = Color::Cyan;
pub const SELECTED: Color = Color::Yellow;
pub const CODED_BG: Color = Color::Blue;
pub const ERROR: Color = Color::Red;

/// Below this q-value a code's row is marked significant.
pub const ALPHA: f64 = 0.05;

struct Painter<'a> {
    state: &'a AnalysisState,
}

impl Painter<'_> {
    fn fg(&self, c: Color) -> Style {
        fg(self.state.color, c)
    }

    fn hint(&self, ctx: AnalysisContext, action: AnalysisAction, what: &str) -> Option<String> {
        self.state.keymap.hint(ctx, &action, what)
    }

    fn hints(&self, ctx: AnalysisContext, list: &[(AnalysisAction, &str)]) -> String {
        let mut parts: Vec<String> = list
            .iter()
            .filter_map(|(a, w)| self.hint(ctx, a.clone(), w))
            .collect();
        if let Some(h) = self.hint(AnalysisContext::Global, AnalysisAction::Help, "help") {
            parts.push(h);
        }
        parts.join(" · ")
    }
}

pub fn render(frame: &mut Frame<'_>, state: &AnalysisState) {
    let p = Painter { state };
    render_screen(
        frame,
        (40, 8),
        "analysis",
        state.help,
        |frame, area| match (state.view, &state.results) {
            (View::Table, Some(r)) => render_table(frame, &p, area, r),
            (View::Chart, Some(r)) => render_chart(frame, &p, area, r),
            (View::Answers, _) => render_answers(frame, &p, area),
            _ => render_variables(frame, &p, area),
        },
        |frame, area| render_status(frame, &p, area),
        |frame, area, scroll| render_help(frame, &p, area, scroll),
    );
}

fn right(s: &str, width: usize) -> String {
    let s = fit(s, width);
    let w = s.width();
    format!("{}{s}", " ".repeat(width.saturating_sub(w)))
}

fn scope_text(state: &AnalysisState) -> String {
    format!(
        "coder {} · {}",
        state.scope.coder,
        state
            .scope
            .question
            .as_deref()
            .map_or_else(|| "all questions".to_string(), |q| format!("question {q}"))
    )
}

fn p_text(p: Option<f64>) -> String {
    match p {
        Some(v) if v != 0.0 && v < 1e-4 => format!("{v:.0e}"),
        Some(v) => format!("{v:.4}"),
        None => "-".into(),
    }
}

fn header(frame: &mut Frame<'_>, area: Rect, first: String, second: String) {
    let w = area.width as usize;
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(
                fit(&first, w),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Line::raw(fit(&second, w)),
        ]),
        Rect::new(area.x, area.y, area.width, 2),
    );
}

fn body(area: Rect, bottom_lines: u16) -> Rect {
    Rect::new(
        area.x,
        area.y + 2,
        area.width,
        area.height.saturating_sub(3 + bottom_lines),
    )
}

fn render_variables(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    header(
        frame,
        area,
        format!("Relate the codes to a survey variable · {}", scope_text(s)),
        p.hints(
            AnalysisContext::Variables,
            &[(AnalysisAction::Open, "analyse by the variable")],
        ),
    );
    let b = body(area, 0);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(" Variables ");
    let inner = block.inner(b);
    frame.render_widget(block, b);
    let rows = inner.height as usize;
    let offset = s.choice.saturating_sub(rows.saturating_sub(1));
    let name_w = s
        .choices
        .iter()
        .map(|&i| s.layout.variables[i].name.width())
        .max()
        .unwrap_or(8)
        .min(30);
    let lines: Vec<Line> = s
        .choices
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(k, &i)| {
            let v = &s.layout.variables[i];
            let what = match v.kind {
                crate::store::VariableKind::Categorical => {
                    format!("categorical, {} levels", v.levels.len())
                }
                _ => "numeric".to_string(),
            };
            let selected = k == s.choice;
            let computing = s.pending.as_ref().is_some_and(|p| p.variable == i);
            let text = format!(
                "{}{}  {what}{}{}",
                if selected { "> " } else { "  " },
                pad(&v.name, name_w),
                if computing { "  (computing…)" } else { "" },
                v.label
                    .as_deref()
                    .map(|l| format!(" · {l}"))
                    .unwrap_or_default()
            );
            let style = if selected {
                Style::default().add_modifier(Modifier::REVERSED)
            } else {
                Style::default()
            };
            Line::styled(fit(&text, inner.width as usize), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Columns that fit: the first shown and how many, keeping the selected one in view.
fn column_window(n: usize, selected: usize, space: usize, min_w: usize) -> (usize, usize, usize) {
    let fits = (space / min_w).max(1).min(n.max(1));
    let first = if selected >= fits {
        selected + 1 - fits
    } else {
        0
    };
    let width = space.checked_div(fits).unwrap_or(min_w);
    (first, fits, width)
}

fn bar(fraction: f64, width: usize) -> String {
    let n = (fraction.clamp(0.0, 1.0) * width as f64).round() as usize;
    format!("{}{}", "█".repeat(n), " ".repeat(width.saturating_sub(n)))
}

/// The selected code as a bar chart: percent of rated respondents coded per level, or the
/// variable's mean with and without the code. Each bar carries its number, so the chart reads
/// without colour.
fn render_chart(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect, r: &Results) {
    let s = p.state;
    let var = s.variable().map(|v| v.name.clone()).unwrap_or_default();
    let Some(k) = s.code_at(s.row) else {
        return;
    };
    let code = r.code_name(k).to_string();
    // (label, value in hundredths, the number printed on the bar)
    // Percentages are drawn on their own 0-100 scale, means on the larger of the two.
    let (what, bars, max): (String, Vec<(String, u64, String)>, Option<u64>) = match r {
        Results::Categorical(c) => {
            let c = &c.codes[k];
            let bars = c
                .levels
                .iter()
                .zip(c.rated.iter().zip(&c.coded))
                .map(|(level, (&rated, &coded))| {
                    let share = crate::report::share(coded, rated).unwrap_or(0.0) * 100.0;
                    (
                        level.clone(),
                        (share * 100.0).round() as u64,
                        format!("{share:.1}%"),
                    )
                })
                .collect();
            (
                format!("{code}: percent of rated respondents coded, by {var}"),
                bars,
                Some(100 * 100),
            )
        }
        Results::Numeric(n) => {
            let c = &n.codes[k];
            let bar = |label: &str, m: Option<f64>, count: usize| {
                let v = crate::report::finite(m).unwrap_or(0.0).max(0.0);
                (
                    format!("{label} (n={count})"),
                    (v * 100.0).round() as u64,
                    format!("{v:.2}"),
                )
            };
            (
                format!("{code}: mean {var} with and without the code"),
                vec![
                    bar("coded", c.mean_coded, c.n_coded),
                    bar("not coded", c.mean_not, c.n_not),
                ],
                None,
            )
        }
    };
    header(
        frame,
        area,
        what.clone(),
        format!(
            "{} · {}",
            test_summary(r, k),
            p.hints(
                AnalysisContext::Chart,
                &[
                    (AnalysisAction::Down, "next code"),
                    (AnalysisAction::Chart, "back to the table"),
                ],
            )
        ),
    );
    let b = body(area, 1);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.fg(SELECTED))
        .title(format!(" {code} "));
    let inner = block.inner(b);
    frame.render_widget(block, b);
    let n = bars.len().max(1) as u16;
    let width = (inner.width.saturating_sub(n) / n).clamp(3, 16);
    let data: Vec<Bar<'_>> = bars
        .into_iter()
        .map(|(label, value, text)| {
            Bar::default()
                .label(Line::from(fit(&label, width as usize)))
                .value(value)
                .text_value(text)
        })
        .collect();
    let mut chart = BarChart::default()
        .data(BarGroup::default().bars(&data))
        .bar_width(width)
        .bar_gap(1)
        .bar_style(p.fg(BAR))
        .value_style(Style::default().add_modifier(Modifier::REVERSED));
    if let Some(m) = max {
        chart = chart.max(m);
    }
    frame.render_widget(chart, inner);
}

fn render_table(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect, r: &Results) {
    let s = p.state;
    let var = s.variable().map(|v| v.name.clone()).unwrap_or_default();
    let (kind, what) = match r {
        Results::Categorical(_) => (
            "categorical",
            "percent of rated respondents coded, per level",
        ),
        Results::Numeric(_) => ("numeric", "mean with and without the code"),
    };
    header(
        frame,
        area,
        format!(
            "Codes by {var} ({kind}) · {} · {} respondents rated",
            scope_text(s),
            r.respondents_rated()
        ),
        format!(
            "{what} · {} · {}",
            match s.sort {
                SortOrder::Codebook => "codebook order",
                SortOrder::QValue => "sorted by q",
            },
            p.hints(
                AnalysisContext::Table,
                &[
                    (AnalysisAction::Open, "answers behind the cell"),
                    (AnalysisAction::Sort, "sort by q"),
                    (AnalysisAction::Variables, "another variable"),
                ],
            )
        ),
    );
    let b = body(area, 1);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.fg(SELECTED))
        .title(format!(" {what} "));
    let inner = block.inner(b);
    frame.render_widget(block, b);
    let w = inner.width as usize;
    let columns = r.columns();
    let code_w = (0..r.len())
        .map(|i| r.code_name(i).width())
        .max()
        .unwrap_or(8)
        .clamp(8, 24);
    let stats_w = 18;
    let space = w.saturating_sub(2 + code_w + 1 + stats_w);
    let min_w = match r {
        Results::Categorical(_) => 9,
        Results::Numeric(_) => 12,
    };
    let (first, shown, cell_w) = column_window(columns.len(), s.col, space, min_w);

    let rated: &[u64] = match r {
        Results::Categorical(c) => c.level_counts().1,
        Results::Numeric(_) => &[],
    };
    let mut head = format!("  {} ", pad("code", code_w));
    for (j, c) in columns.iter().enumerate().skip(first).take(shown) {
        let label = match rated.get(j) {
            Some(n) => {
                let n = format!(" n={n}");
                format!("{}{n}", fit(c, cell_w.saturating_sub(1 + n.len()).max(1)))
            }
            None => c.clone(),
        };
        head.push_str(&pad(&label, cell_w.saturating_sub(1)));
        head.push(' ');
    }
    head.push_str(&right("p", 9));
    head.push_str(&right("q", 9));
    let mut lines = vec![Line::styled(
        fit(&head, w),
        Style::default().add_modifier(Modifier::BOLD),
    )];

    // Numeric bars share one scale: the largest mean on screen.
    let scale = match r {
        Results::Numeric(n) => n
            .codes
            .iter()
            .flat_map(|c| [c.mean_coded, c.mean_not])
            .flatten()
            .fold(0.0f64, |m, x| m.max(x.abs())),
        Results::Categorical(_) => 1.0,
    };
    let rows = (inner.height as usize).saturating_sub(1);
    for (row, &k) in s.order.iter().enumerate().skip(s.row_offset).take(rows) {
        let selected = row == s.row;
        let mut spans: Vec<Span> = vec![Span::styled(
            format!(
                "{}{} ",
                if selected { "> " } else { "  " },
                pad(r.code_name(k), code_w)
            ),
            if selected {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            },
        )];
        for (j, col) in columns.iter().enumerate().skip(first).take(shown) {
            let (fraction, label) = match r {
                Results::Categorical(c) => {
                    let c = &c.codes[k];
                    match c.levels.iter().position(|l| l == col) {
                        Some(i) if c.rated[i] > 0 => {
                            let f = c.coded[i] as f64 / c.rated[i] as f64;
                            (f, format!("{:.0}%", 100.0 * f))
                        }
                        _ => (0.0, "-".into()),
                    }
                }
                Results::Numeric(n) => {
                    let c = &n.codes[k];
                    let m = if j == 0 { c.mean_coded } else { c.mean_not };
                    match m {
                        Some(m) if scale > 0.0 => (m.abs() / scale, format!("{m:.1}")),
                        Some(m) => (0.0, format!("{m:.1}")),
                        None => (0.0, "-".into()),
                    }
                }
            };
            let label_w = match r {
                Results::Categorical(_) => 5,
                Results::Numeric(_) => 7,
            };
            let bar_w = cell_w.saturating_sub(label_w + 1);
            let mut style = p.fg(BAR);
            if selected && j == s.col {
                style = style.add_modifier(Modifier::REVERSED);
            }
            spans.push(Span::styled(
                format!("{}{}", bar(fraction, bar_w), right(&label, label_w)),
                style,
            ));
            spans.push(Span::raw(" "));
        }
        let (pv, q, doubtful) = match r {
            Results::Categorical(c) => {
                let c = &c.codes[k];
                (
                    c.p,
                    c.q_bh,
                    c.min_expected.is_some_and(|m| m < SMALL_EXPECTED),
                )
            }
            Results::Numeric(n) => (n.codes[k].welch_p, n.codes[k].q_bh, false),
        };
        let significant = q.is_some_and(|q| q < ALPHA);
        spans.push(Span::raw(right(
            &format!("{}{}", p_text(pv), if doubtful { "!" } else { " " }),
            9,
        )));
        spans.push(Span::styled(
            right(
                &format!("{}{}", p_text(q), if significant { "*" } else { " " }),
                9,
            ),
            if significant {
                p.fg(SIGNIFICANT).add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            },
        ));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
    let mut legend = String::new();
    if columns.len() > shown {
        legend.push_str(&format!(
            "levels {}-{} of {} (←/→) · ",
            first + 1,
            first + shown,
            columns.len()
        ));
    }
    legend.push_str("* q < 0.05 (Benjamini-Hochberg across codes)");
    if matches!(r, Results::Categorical(_)) {
        legend.push_str(" · ! expected counts below 5");
    }
    frame.render_widget(
        Paragraph::new(Line::styled(
            fit(&legend, area.width as usize),
            Style::default().add_modifier(Modifier::DIM),
        )),
        Rect::new(area.x, area.bottom() - 2, area.width, 1),
    );
}

/// The answer's text with the coded segments bracketed and shaded.
fn answer_text(p: &Painter<'_>, text: &str, segments: &[(usize, usize)]) -> Vec<Span<'static>> {
    if segments.is_empty() {
        return vec![Span::raw(text.replace('\t', "    "))];
    }
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut inside = String::new();
    let shade = if p.state.color {
        Style::default().bg(CODED_BG).fg(Color::White)
    } else {
        Style::default().add_modifier(Modifier::UNDERLINED)
    };
    let n = text.chars().count();
    for (i, ch) in text.chars().enumerate() {
        let within = segments.iter().any(|&(a, b)| a <= i && i < b);
        if within {
            if !plain.is_empty() {
                out.push(Span::raw(std::mem::take(&mut plain)));
            }
            if inside.is_empty() {
                out.push(Span::styled(
                    "[",
                    Style::default().add_modifier(Modifier::BOLD),
                ));
            }
            inside.push(ch);
            let ends = !segments.iter().any(|&(a, b)| a <= i + 1 && i + 1 < b) || i + 1 == n;
            if ends {
                out.push(Span::styled(std::mem::take(&mut inside), shade));
                out.push(Span::styled(
                    "]",
                    Style::default().add_modifier(Modifier::BOLD),
                ));
            }
        } else {
            plain.push(ch);
        }
    }
    if !plain.is_empty() {
        out.push(Span::raw(plain));
    }
    out
}

fn render_answers(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    let Some(d) = &s.drill else {
        return;
    };
    let f = &d.found;
    header(
        frame,
        area,
        format!(
            "{} · {}: {} respondent(s), {} answer(s) {}",
            d.code,
            d.cell,
            f.respondents,
            f.total_answers,
            if d.coded {
                format!("coded with it by {}", s.scope.coder)
            } else {
                format!("rated by {} without it", s.scope.coder)
            }
        ),
        format!(
            "answer {} of {}{} · {}",
            d.offset + 1,
            f.answers.len(),
            if (f.answers.len() as u64) < f.total_answers {
                format!(" loaded (of {})", f.total_answers)
            } else {
                String::new()
            },
            p.hints(
                AnalysisContext::Answers,
                &[
                    (AnalysisAction::Down, "next"),
                    (AnalysisAction::Back, "back to the codes"),
                ],
            )
        ),
    );
    let b = body(area, 0);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(" Answers ");
    let inner = block.inner(b);
    frame.render_widget(block, b);
    let mut lines: Vec<Line> = Vec::new();
    for a in f.answers.iter().skip(d.offset) {
        if lines.len() > inner.height as usize * 2 {
            break;
        }
        lines.push(Line::styled(
            format!("{} · {} · {}", a.ext_id, a.question, a.value),
            p.fg(SELECTED).add_modifier(Modifier::BOLD),
        ));
        let segments: Vec<(usize, usize)> = if d.coded { a.segments.clone() } else { vec![] };
        for (k, part) in a.text.split('\n').enumerate() {
            // Offsets count code points over the whole answer, line breaks included.
            let before: usize = a
                .text
                .split('\n')
                .take(k)
                .map(|l| l.chars().count() + 1)
                .sum();
            let len = part.chars().count();
            let local: Vec<(usize, usize)> = segments
                .iter()
                .filter(|&&(x, y)| y > before && x < before + len)
                .map(|&(x, y)| (x.saturating_sub(before), (y - before).min(len)))
                .collect();
            lines.push(Line::from(answer_text(p, part, &local)));
        }
        lines.push(Line::raw(""));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn render_status(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect) {
    let s = p.state;
    let w = area.width as usize;
    let line = match &s.message {
        Some((m, MsgKind::Error)) => Line::styled(fit(m, w), p.fg(ERROR)),
        Some((m, MsgKind::Info)) => Line::raw(fit(m, w)),
        None if s.computing().is_some() => Line::raw(fit(
            &format!(
                "computing the codes by {}…",
                s.computing().map_or("", |v| v.name.as_str())
            ),
            w,
        )),
        None => {
            // On the table: the selected code's whole test, or why it is undefined.
            let detail = match (&s.results, s.view, s.code_at(s.row)) {
                (Some(r), View::Table, Some(k)) => Some(test_summary(r, k)),
                _ => None,
            };
            match detail {
                Some(d) => Line::styled(fit(&d, w), Style::default().add_modifier(Modifier::DIM)),
                None => Line::styled(
                    fit(
                        &p.hints(
                            s.context(),
                            &[
                                (AnalysisAction::Quit, "quit"),
                                (AnalysisAction::Back, "back"),
                            ],
                        ),
                        w,
                    ),
                    Style::default().add_modifier(Modifier::DIM),
                ),
            }
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// One code's test in a line: what the row's bars and p cannot show.
fn test_summary(r: &Results, k: usize) -> String {
    let f = |x: Option<f64>, d: usize| x.map_or_else(|| "-".to_string(), |v| format!("{v:.d$}"));
    match r {
        Results::Categorical(c) => {
            let c = &c.codes[k];
            match &c.undefined_reason {
                Some(why) => format!("{}: {why}", c.code),
                None => format!(
                    "{}: chi2 {}, df {}, p {}, Cramér's V {}{}",
                    c.code,
                    f(c.chi2, 2),
                    c.df.map_or("-".into(), |d| d.to_string()),
                    p_text(c.p),
                    f(c.cramers_v, 3),
                    c.fisher_p
                        .map(|p| format!(", Fisher's exact p {}", p_text(Some(p))))
                        .unwrap_or_default()
                ),
            }
        }
        Results::Numeric(n) => {
            let c = &n.codes[k];
            let groups = format!(
                "coded n={} mean {} (SD {}), not n={} mean {} (SD {})",
                c.n_coded,
                f(c.mean_coded, 1),
                f(c.sd_coded, 1),
                c.n_not,
                f(c.mean_not, 1),
                f(c.sd_not, 1)
            );
            match &c.undefined_reason {
                Some(why) => format!("{}: {groups}; {why}", c.code),
                None => format!(
                    "{}: {groups}; Welch t {}, df {}, p {}; U {}, p {}; r {}",
                    c.code,
                    f(c.welch_t, 2),
                    f(c.welch_df, 1),
                    p_text(c.welch_p),
                    f(c.mann_whitney_u, 1),
                    p_text(c.mann_whitney_p),
                    f(c.point_biserial_r, 3)
                ),
            }
        }
    }
}

fn render_help(frame: &mut Frame<'_>, p: &Painter<'_>, area: Rect, scroll: usize) {
    let w = area.width.saturating_sub(8).min(90);
    let h = area.height.saturating_sub(4);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 2, w, h);
    frame.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(p.fg(SELECTED))
        .title(" Keys of the analysis screen (from the key map) · Esc closes ");
    let inner = block.inner(r);
    frame.render_widget(block, r);
    let mut lines: Vec<Line> = Vec::new();
    for (ctx, rows) in p.state.keymap.help() {
        lines.push(Line::styled(
            ctx.title(),
            Style::default().add_modifier(Modifier::BOLD),
        ));
        let key_w = rows.iter().map(|(k, _)| k.width()).max().unwrap_or(4);
        for (keys, what) in rows {
            lines.push(Line::raw(fit(
                &format!("  {}  {what}", pad(&keys, key_w)),
                inner.width as usize,
            )));
        }
        lines.push(Line::raw(""));
    }
    let lines: Vec<Line> = lines.into_iter().skip(scroll).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
