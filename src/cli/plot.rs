//! `lacrima analyze --plot`: the same reports as bar charts in the terminal, for when a glance
//! says more than a table. Bars are drawn in eighths of a cell, so small differences show.

use crate::report::{CategoricalCode, Frequencies, NumericCode, Report, finite};
use unicode_width::UnicodeWidthStr;

/// Cells of the longest bar.
const WIDTH: usize = 40;

/// A bar of `value / max` of the full width, in eighth blocks.
fn bar(value: f64, max: f64) -> String {
    if !(value.is_finite() && max > 0.0) || value <= 0.0 {
        return String::new();
    }
    let eighths = ((value / max).min(1.0) * (WIDTH * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    s.push_str(PARTS[eighths % 8]);
    s
}

fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(s.width())))
}

/// One chart: a title, then a row per (label, value, note) with the bars on one scale.
fn chart(out: &mut String, title: &str, rows: &[(String, Option<f64>, String)], max: f64) {
    out.push_str(title);
    out.push('\n');
    let label_w = rows.iter().map(|r| r.0.width()).max().unwrap_or(0);
    for (label, value, note) in rows {
        let b = value.map(|v| bar(v, max)).unwrap_or_default();
        out.push_str(&format!(
            "  {} │{} {}\n",
            pad(label, label_w),
            pad(&b, WIDTH),
            note
        ));
    }
    out.push('\n');
}

fn pct(x: Option<f64>) -> String {
    finite(x).map_or_else(|| "-".into(), |v| format!("{v:.1}%"))
}

fn p_note(p: Option<f64>, q: Option<f64>) -> String {
    match (finite(p), finite(q)) {
        (Some(p), Some(q)) => format!("p {p:.3}, q {q:.3}"),
        (Some(p), None) => format!("p {p:.3}"),
        _ => "no test".into(),
    }
}

/// Each code across the levels: the percent of rated respondents coded, one scale for all.
pub fn categorical(r: &Report<CategoricalCode>) -> String {
    let mut out = format!(
        "Percent of rated respondents coded, by {} (coder {}):\n\n",
        r.by, r.coder
    );
    for c in &r.codes {
        let rows: Vec<(String, Option<f64>, String)> = c
            .levels
            .iter()
            .zip(c.rated.iter().zip(&c.coded))
            .map(|(level, (&rated, &coded))| {
                let share = crate::report::share(coded, rated).map(|s| 100.0 * s);
                (
                    level.clone(),
                    share,
                    format!("{} ({coded} of {rated})", pct(share)),
                )
            })
            .collect();
        let title = format!("{} · {}", c.code, p_note(c.p, c.q_bh));
        chart(&mut out, &title, &rows, 100.0);
    }
    out
}

/// Each code: the variable's mean among coded and not coded respondents, on the variable's scale.
pub fn numeric(r: &Report<NumericCode>) -> String {
    let max = r
        .codes
        .iter()
        .flat_map(|c| [c.mean_coded, c.mean_not])
        .filter_map(finite)
        .fold(0.0f64, f64::max);
    let mut out = format!(
        "Mean {} with and without each code (coder {}; bars from 0 to {max:.2}):\n\n",
        r.by, r.coder
    );
    let mean = |m: Option<f64>, sd: Option<f64>, n: usize| match finite(m) {
        Some(m) => format!(
            "{m:.2}{} (n={n})",
            finite(sd).map_or_else(String::new, |s| format!(" ± {s:.2}"))
        ),
        None => format!("- (n={n})"),
    };
    for c in &r.codes {
        let rows = vec![
            (
                "coded".to_string(),
                c.mean_coded,
                mean(c.mean_coded, c.sd_coded, c.n_coded),
            ),
            (
                "not coded".to_string(),
                c.mean_not,
                mean(c.mean_not, c.sd_not, c.n_not),
            ),
        ];
        let title = format!("{} · Welch {}", c.code, p_note(c.welch_p, c.q_bh));
        chart(&mut out, &title, &rows, max);
    }
    if max <= 0.0 {
        out.push_str("(the means are not positive, so no bars are drawn; see the table)\n");
    }
    out
}

/// Without a variable: the share of rated respondents each code was applied to.
pub fn frequencies(f: &Frequencies) -> String {
    let mut out = String::new();
    let rows: Vec<(String, Option<f64>, String)> = f
        .codes
        .iter()
        .map(|c| {
            let share = c.respondents_share.map(|s| 100.0 * s);
            (
                c.code.clone(),
                share,
                format!(
                    "{} ({} of {})",
                    pct(share),
                    c.respondents,
                    f.respondents_rated
                ),
            )
        })
        .collect();
    let title = format!(
        "Percent of rated respondents coded (coder {}, {} respondents rated):",
        f.coder, f.respondents_rated
    );
    chart(&mut out, &title, &rows, 100.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_drawn_in_eighths_on_one_scale() {
        assert_eq!(bar(100.0, 100.0).chars().count(), WIDTH);
        assert_eq!(bar(50.0, 100.0), "█".repeat(WIDTH / 2));
        assert_eq!(bar(1.0, 320.0), "▏");
        assert_eq!(bar(0.0, 100.0), "");
        assert_eq!(bar(f64::NAN, 100.0), "");
    }
}
