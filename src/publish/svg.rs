//! Charts as inline SVG, written by hand: a report meant for supplementary materials must open
//! anywhere, years later, without a charting library, a script or a network. Only `<rect>`,
//! `<line>` and `<text>` are used; every label is escaped, and every chart starts with a `<title>`
//! that screen readers announce (the figure's caption repeats it for sighted readers).
//!
//! Text width is estimated, not measured (there is no font at hand): [`CHAR_WIDTH`] is a little
//! more than the average width of a sans-serif character at [`FONT_SIZE`], so labels get enough
//! room, and long labels are shortened with an ellipsis (the full label is in the row's
//! `<title>` tooltip).

use super::escape;
use crate::analysis::FiveNumbers;
use std::fmt::Write;

pub const FONT_SIZE: f64 = 12.0;
pub const CHAR_WIDTH: f64 = 7.0;
/// Plot widths (without labels and values): a frequency chart stands alone, the small multiples
/// of the crosstabs and box plots sit two abreast on a wide screen.
const BARS_PLOT: f64 = 360.0;
const STACKED_PLOT: f64 = 240.0;
const BOXES_PLOT: f64 = 300.0;
const ROW: f64 = 22.0;
const BAR: f64 = 14.0;
const PAD: f64 = 8.0;
/// Room for the axis' tick labels below the plot.
const AXIS: f64 = 24.0;
/// Labels longer than this are shortened.
const MAX_LABEL: usize = 34;
/// The colour of bars whose code has none.
pub const DEFAULT_COLOR: &str = "#4C72B0";
/// "Not coded": the rest of a stacked bar, the box of the respondents without the code.
const REST_COLOR: &str = "#D9D9D9";
const REST_BOX_COLOR: &str = "#B0B0B0";
const INK: &str = "#222222";
const GRID: &str = "#BBBBBB";

/// A chart, as the document holds it; [`render`] draws it.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Bars(BarChart),
    Stacked(StackedChart),
    Boxes(BoxChart),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Bars(c) => &c.title,
            Chart::Stacked(c) => &c.title,
            Chart::Boxes(c) => &c.title,
        }
    }
}

/// Horizontal bars of shares (0 to 1), one per label.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub title: String,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    /// None: undefined (nothing rated); drawn as no bar with the value text saying so.
    pub share: Option<f64>,
    /// What is written beside the bar, e.g. "34.0% (51)".
    pub value: String,
    pub color: Option<String>,
}

/// One bar per level, split into the coded share and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedChart {
    pub title: String,
    pub color: Option<String>,
    pub rows: Vec<StackedRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackedRow {
    pub label: String,
    pub coded: u64,
    pub total: u64,
}

/// Box plots on a common axis: box from the first to the third quartile, a line at the median,
/// whiskers to the minimum and maximum.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxChart {
    pub title: String,
    /// The variable, named under the axis.
    pub axis: String,
    pub color: Option<String>,
    pub groups: Vec<BoxGroup>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BoxGroup {
    pub label: String,
    /// None: no values in this group.
    pub five: Option<FiveNumbers>,
}

pub fn render(chart: &Chart) -> String {
    match chart {
        Chart::Bars(c) => bars(c),
        Chart::Stacked(c) => stacked(c),
        Chart::Boxes(c) => boxes(c),
    }
}

/// A label as drawn: at most [`MAX_LABEL`] characters.
pub fn short_label(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(MAX_LABEL - 1).collect();
        s.push('…');
        s
    }
}

fn text_width(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_WIDTH
}

/// The width of the label column: the longest label drawn, plus a gap.
fn label_column<'a>(labels: impl Iterator<Item = &'a str>) -> f64 {
    labels
        .map(|l| text_width(&short_label(l)))
        .fold(0.0, f64::max)
        + PAD
}

/// A number for SVG attributes: two decimals are finer than a pixel, and shorter.
fn n(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The opening `<svg>` and its `<title>`; the caller closes it with `</svg>`.
fn open(out: &mut String, title: &str, width: f64, height: f64) {
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         font-family=\"sans-serif\" font-size=\"{FONT_SIZE}\"><title>{}</title>",
        escape(title),
        w = n(width),
        h = n(height)
    );
}

fn text(out: &mut String, x: f64, y: f64, anchor: &str, s: &str) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" fill=\"{INK}\">{}</text>",
        n(x),
        n(y),
        escape(s)
    );
}

fn line(out: &mut String, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) {
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\"/>",
        n(x1),
        n(y1),
        n(x2),
        n(y2)
    );
}

fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: Option<&str>) {
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"",
        n(x),
        n(y),
        n(w.max(0.0)),
        n(h),
        escape(fill)
    );
    match tip {
        Some(t) => {
            let _ = write!(out, "><title>{}</title></rect>", escape(t));
        }
        None => out.push_str("/>"),
    }
}

/// The label of a row, right-aligned against the plot, with the full label as a tooltip when
/// it had to be shortened.
fn row_label(out: &mut String, x: f64, y: f64, label: &str) {
    let short = short_label(label);
    if short == label {
        text(out, x, y, "end", label);
    } else {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{INK}\"><title>{}</title>{}</text>",
            n(x),
            n(y),
            escape(label),
            escape(&short)
        );
    }
}

/// The baseline of text centred on a row whose top is `y`.
fn middle(y: f64) -> f64 {
    y + ROW / 2.0 + FONT_SIZE / 3.0
}

/// A share axis from 0 to `max` (one of [`share_axis_max`]'s ends): gridlines and percentages
/// at round steps.
fn share_axis(out: &mut String, x0: f64, width: f64, top: f64, bottom: f64, max: f64) {
    let step = [0.01, 0.02, 0.05, 0.1, 0.2]
        .into_iter()
        .find(|s| max / s <= 6.0 + 1e-9)
        .unwrap_or(0.2);
    let ticks = (max / step).round() as usize;
    for i in 0..=ticks {
        let v = max * i as f64 / ticks as f64;
        let x = x0 + width * i as f64 / ticks as f64;
        line(out, x, top, x, bottom, GRID);
        text(out, x, bottom + FONT_SIZE + 2.0, "middle", &percent_tick(v));
    }
}

fn percent_tick(v: f64) -> String {
    let p = 100.0 * v;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round())
    } else {
        format!("{p:.1}%")
    }
}

/// The end of a share axis: the smallest of a few round values that holds the largest share, so
/// that rare codes still get visible bars.
pub fn share_axis_max(largest: f64) -> f64 {
    [0.05, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.8, 1.0]
        .into_iter()
        .find(|&m| largest <= m + 1e-12)
        .unwrap_or(1.0)
}

fn bars(c: &BarChart) -> String {
    let label_w = label_column(c.bars.iter().map(|b| b.label.as_str()));
    let value_w = c
        .bars
        .iter()
        .map(|b| text_width(&b.value))
        .fold(0.0, f64::max)
        + 2.0 * PAD;
    let x0 = PAD + label_w;
    let plot_w = BARS_PLOT;
    let top = PAD;
    let bottom = top + ROW * c.bars.len() as f64;
    let height = bottom + AXIS + PAD;
    let max = share_axis_max(c.bars.iter().filter_map(|b| b.share).fold(0.0, f64::max));
    let mut out = String::new();
    open(&mut out, &c.title, x0 + plot_w + value_w + PAD, height);
    share_axis(&mut out, x0, plot_w, top, bottom, max);
    for (i, b) in c.bars.iter().enumerate() {
        let y = top + ROW * i as f64;
        row_label(&mut out, x0 - PAD, middle(y), &b.label);
        let w = b.share.map_or(0.0, |s| plot_w * (s / max).min(1.0));
        let color = b.color.as_deref().unwrap_or(DEFAULT_COLOR);
        let tip = format!("{}: {}", b.label, b.value);
        rect(
            &mut out,
            x0,
            y + (ROW - BAR) / 2.0,
            w,
            BAR,
            color,
            Some(&tip),
        );
        text(&mut out, x0 + w + PAD / 2.0, middle(y), "start", &b.value);
    }
    line(&mut out, x0, top, x0, bottom, INK);
    out.push_str("</svg>");
    out
}

fn stacked(c: &StackedChart) -> String {
    let rows: Vec<(String, &StackedRow)> = c
        .rows
        .iter()
        .map(|r| (format!("{} (n={})", r.label, r.total), r))
        .collect();
    let label_w = label_column(rows.iter().map(|(l, _)| l.as_str()));
    let values: Vec<String> = c
        .rows
        .iter()
        .map(|r| match share(r.coded, r.total) {
            Some(s) => format!("{:.1}% ({})", 100.0 * s, r.coded),
            None => "-".into(),
        })
        .collect();
    let value_w = values.iter().map(|v| text_width(v)).fold(0.0, f64::max) + 2.0 * PAD;
    let x0 = PAD + label_w;
    let plot_w = STACKED_PLOT;
    // A legend row above the bars says which colour is which.
    let legend = PAD;
    let top = legend + ROW;
    let bottom = top + ROW * rows.len() as f64;
    let height = bottom + AXIS + PAD;
    let color = c.color.as_deref().unwrap_or(DEFAULT_COLOR);
    let mut out = String::new();
    open(&mut out, &c.title, x0 + plot_w + value_w + PAD, height);
    let mut x = x0;
    for (fill, name) in [(color, "coded"), (REST_COLOR, "not coded")] {
        rect(
            &mut out,
            x,
            legend + (ROW - 10.0) / 2.0,
            10.0,
            10.0,
            fill,
            None,
        );
        text(&mut out, x + 14.0, middle(legend), "start", name);
        x += 14.0 + text_width(name) + 2.0 * PAD;
    }
    share_axis(&mut out, x0, plot_w, top, bottom, 1.0);
    for (i, ((label, r), value)) in rows.iter().zip(&values).enumerate() {
        let y = top + ROW * i as f64;
        row_label(&mut out, x0 - PAD, middle(y), label);
        let s = share(r.coded, r.total).unwrap_or(0.0);
        let coded_w = plot_w * s;
        let bar_y = y + (ROW - BAR) / 2.0;
        let tip = format!("{label}: {} of {} coded", r.coded, r.total);
        rect(&mut out, x0, bar_y, coded_w, BAR, color, Some(&tip));
        if r.total > 0 {
            let tip = format!("{label}: {} of {} not coded", r.total - r.coded, r.total);
            rect(
                &mut out,
                x0 + coded_w,
                bar_y,
                plot_w - coded_w,
                BAR,
                REST_COLOR,
                Some(&tip),
            );
        }
        text(&mut out, x0 + plot_w + PAD / 2.0, middle(y), "start", value);
    }
    line(&mut out, x0, top, x0, bottom, INK);
    out.push_str("</svg>");
    out
}

fn share(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

/// Round tick values covering `[lo, hi]`: steps of 1, 2 or 5 times a power of ten, about five
/// of them, as a reader would draw the axis by hand.
pub fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() * step;
    let mut ticks = Vec::new();
    let mut k = 0;
    loop {
        let t = first + step * k as f64;
        // Rounded to the step's decimals, so that 0.30000000000000004 prints as 0.3.
        let t = (t / step).round() * step;
        ticks.push(t);
        if t >= hi - 1e-9 * step {
            break;
        }
        k += 1;
    }
    ticks
}

/// A tick value with no more decimals than its step needs.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".into()
    } else {
        s
    }
}

fn boxes(c: &BoxChart) -> String {
    let labels: Vec<String> = c
        .groups
        .iter()
        .map(|g| match &g.five {
            Some(f) => format!("{} (n={})", g.label, f.n),
            None => format!("{} (n=0)", g.label),
        })
        .collect();
    let label_w = label_column(labels.iter().map(String::as_str));
    let x0 = PAD + label_w;
    let plot_w = BOXES_PLOT;
    let top = PAD;
    let bottom = top + ROW * c.groups.len() as f64;
    // The axis name goes under the tick labels.
    let height = bottom + AXIS + ROW + PAD;
    let present: Vec<&FiveNumbers> = c.groups.iter().filter_map(|g| g.five.as_ref()).collect();
    let lo = present.iter().map(|f| f.min).fold(f64::INFINITY, f64::min);
    let hi = present
        .iter()
        .map(|f| f.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let ticks = if present.is_empty() {
        vec![0.0, 1.0]
    } else {
        nice_ticks(lo, hi)
    };
    let (a, b) = (ticks[0], ticks[ticks.len() - 1]);
    let step = if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    };
    let x = |v: f64| x0 + plot_w * (v - a) / (b - a);
    let color = c.color.as_deref().unwrap_or(DEFAULT_COLOR);
    let mut out = String::new();
    // Room on the right for half a tick label at the axis' end.
    open(&mut out, &c.title, x0 + plot_w + 3.0 * PAD, height);
    for &t in &ticks {
        line(&mut out, x(t), top, x(t), bottom, GRID);
        text(
            &mut out,
            x(t),
            bottom + FONT_SIZE + 2.0,
            "middle",
            &tick_label(t, step),
        );
    }
    text(
        &mut out,
        x0 + plot_w / 2.0,
        bottom + AXIS + FONT_SIZE,
        "middle",
        &c.axis,
    );
    for (i, (g, label)) in c.groups.iter().zip(&labels).enumerate() {
        let y = top + ROW * i as f64;
        row_label(&mut out, x0 - PAD, middle(y), label);
        let Some(f) = &g.five else {
            text(&mut out, x0 + PAD, middle(y), "start", "no values");
            continue;
        };
        let mid = y + ROW / 2.0;
        let (y1, y2) = (y + (ROW - BAR) / 2.0, y + (ROW + BAR) / 2.0);
        line(&mut out, x(f.min), mid, x(f.q1), mid, INK);
        line(&mut out, x(f.q3), mid, x(f.max), mid, INK);
        line(&mut out, x(f.min), y1 + 3.0, x(f.min), y2 - 3.0, INK);
        line(&mut out, x(f.max), y1 + 3.0, x(f.max), y2 - 3.0, INK);
        let tip = format!(
            "{label}: min {}, Q1 {}, median {}, Q3 {}, max {}",
            fmt_value(f.min),
            fmt_value(f.q1),
            fmt_value(f.median),
            fmt_value(f.q3),
            fmt_value(f.max)
        );
        // The first group is the coded respondents, in the code's colour; the others are grey.
        let fill = if i == 0 { color } else { REST_BOX_COLOR };
        rect(
            &mut out,
            x(f.q1),
            y1,
            x(f.q3) - x(f.q1),
            BAR,
            fill,
            Some(&tip),
        );
        line(&mut out, x(f.median), y1, x(f.median), y2, INK);
    }
    line(&mut out, x0, top, x0, bottom, INK);
    out.push_str("</svg>");
    out
}

/// A value in a tooltip: as few decimals as say it (at most three).
pub fn fmt_value(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 10.0), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(22.0, 85.0), [20.0, 40.0, 60.0, 80.0, 100.0]);
        let t = nice_ticks(0.13, 0.91);
        assert_eq!(t.first(), Some(&0.0));
        assert!(*t.last().unwrap() >= 0.91);
        assert_eq!(tick_label(t[2], t[1] - t[0]), "0.4");
        let one = nice_ticks(5.0, 5.0);
        assert!(
            one.len() >= 2 && one[0] < 5.0 && 5.0 < one[one.len() - 1],
            "one value still gets an axis around it: {one:?}"
        );
    }

    #[test]
    fn axis_ends_hold_the_largest_share() {
        assert_eq!(share_axis_max(0.0), 0.05);
        assert_eq!(share_axis_max(0.34), 0.4);
        assert_eq!(share_axis_max(1.0), 1.0);
    }

    #[test]
    fn long_labels_are_shortened_and_kept_as_tooltips() {
        let long = "a".repeat(50);
        let svg = render(&Chart::Bars(BarChart {
            title: "t".into(),
            bars: vec![Bar {
                label: long.clone(),
                share: Some(0.5),
                value: "50.0% (1)".into(),
                color: None,
            }],
        }));
        assert!(svg.contains(&format!("<title>{long}</title>")));
        assert!(svg.contains(&format!("{}…</text>", "a".repeat(MAX_LABEL - 1))));
    }
}
