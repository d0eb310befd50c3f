//! An answer's text as the screen sees it: grapheme clusters (what a reader calls a character,
//! so a segment never splits an accented letter or an emoji), their code-point offsets (what the
//! project stores) and display widths (CJK and emoji take two columns), wrapped into lines with
//! the segment marks that make codings visible without colour.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, PartialEq)]
pub struct Grapheme {
    /// Byte range in the text.
    pub bytes: (usize, usize),
    /// Code-point offset of its first code point.
    pub cp: usize,
    /// Display columns (0 for a newline, at least 1 otherwise).
    pub width: usize,
    pub is_newline: bool,
    pub is_space: bool,
}

/// Splits a text into graphemes with their code-point offsets and widths.
pub fn graphemes(text: &str) -> Vec<Grapheme> {
    let mut cp = 0;
    text.grapheme_indices(true)
        .map(|(i, g)| {
            let is_newline = g == "\n" || g == "\r\n";
            let width = if is_newline {
                0
            } else if g == "\t" {
                4
            } else {
                g.width().max(1)
            };
            let item = Grapheme {
                bytes: (i, i + g.len()),
                cp,
                width,
                is_newline,
                is_space: g.chars().all(char::is_whitespace),
            };
            cp += g.chars().count();
            item
        })
        .collect()
}

/// The grapheme that contains code point `cp` (the last one when `cp` is past the end).
pub fn grapheme_at_cp(gs: &[Grapheme], cp: usize) -> usize {
    match gs.binary_search_by(|g| g.cp.cmp(&cp)) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    }
}

/// The code-point span covering graphemes `a..=b`.
pub fn cp_span(gs: &[Grapheme], text: &str, a: usize, b: usize) -> (usize, usize) {
    let (a, b) = (a.min(b), a.max(b));
    let start = gs.get(a).map_or(0, |g| g.cp);
    let end = gs.get(b + 1).map_or_else(|| text.chars().count(), |g| g.cp);
    (start, end)
}

/// Words (unicode word boundaries) as grapheme ranges (first, last), for `w` and `b`: a
/// selection grown by words covers whole words.
pub fn words(text: &str, gs: &[Grapheme]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (byte, word) in text.split_word_bound_indices() {
        if word.chars().any(|c| c.is_alphanumeric())
            && let Ok(first) = gs.binary_search_by(|g| g.bytes.0.cmp(&byte))
        {
            let end = byte + word.len();
            let last = gs[first..]
                .iter()
                .position(|g| g.bytes.1 >= end)
                .map_or(gs.len() - 1, |k| first + k);
            out.push((first, last));
        }
    }
    out
}

/// One cell run on a wrapped line: a grapheme of the text, or a mark around a segment.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Grapheme(usize),
    /// `[` before a segment; the index is the segment's in the list passed to [`wrap`].
    Open(usize),
    /// `]` and the code's shortcut after a segment.
    Close(usize, String),
}

impl Cell {
    pub fn width(&self, gs: &[Grapheme]) -> usize {
        match self {
            Cell::Grapheme(i) => gs[*i].width,
            Cell::Open(_) => 1,
            Cell::Close(_, label) => 1 + label.width(),
        }
    }
}

/// A segment to mark: grapheme range `first..=last` and the label after its closing bracket.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub first: usize,
    pub last: usize,
    pub label: String,
}

/// Wraps the text into lines of at most `width` columns, breaking after spaces where it can,
/// with a `[` before and `]label` after each marked segment.
pub fn wrap(gs: &[Grapheme], marks: &[Mark], width: usize) -> Vec<Vec<Cell>> {
    let width = width.max(4);
    // The cells in reading order: opening marks before their first grapheme, closing after last.
    let mut cells: Vec<Cell> = Vec::with_capacity(gs.len() + marks.len() * 2);
    for (i, _) in gs.iter().enumerate() {
        for (k, m) in marks.iter().enumerate() {
            if m.first == i {
                cells.push(Cell::Open(k));
            }
        }
        cells.push(Cell::Grapheme(i));
        // Inner segments close first: those that opened last.
        for (k, m) in marks.iter().enumerate().rev() {
            if m.last == i {
                cells.push(Cell::Close(k, m.label.clone()));
            }
        }
    }
    let mut lines: Vec<Vec<Cell>> = vec![Vec::new()];
    let mut used = 0;
    // A word: the cells up to and including the next space or newline.
    let mut word: Vec<Cell> = Vec::new();
    let mut word_w = 0;
    let flush = |lines: &mut Vec<Vec<Cell>>,
                 used: &mut usize,
                 word: &mut Vec<Cell>,
                 word_w: &mut usize| {
        let trailing_space =
            matches!(word.last(), Some(Cell::Grapheme(i)) if gs[*i].is_space && !gs[*i].is_newline);
        let visible = if trailing_space { *word_w - 1 } else { *word_w };
        if *used > 0 && *used + visible > width {
            lines.push(Vec::new());
            *used = 0;
        }
        for c in word.drain(..) {
            let w = c.width(gs);
            // A word longer than the line is broken where it reaches the edge.
            if *used > 0 && *used + w > width && !matches!(&c, Cell::Grapheme(i) if gs[*i].is_space)
            {
                lines.push(Vec::new());
                *used = 0;
            }
            *used += w;
            lines.last_mut().expect("one line").push(c);
        }
        *word_w = 0;
    };
    for c in cells {
        let (newline, space) = match &c {
            Cell::Grapheme(i) => (gs[*i].is_newline, gs[*i].is_space),
            _ => (false, false),
        };
        word_w += c.width(gs);
        word.push(c);
        if newline {
            flush(&mut lines, &mut used, &mut word, &mut word_w);
            lines.push(Vec::new());
            used = 0;
        } else if space {
            flush(&mut lines, &mut used, &mut word, &mut word_w);
        }
    }
    flush(&mut lines, &mut used, &mut word, &mut word_w);
    lines
}

/// The line and column (in cells) of grapheme `g` in wrapped lines.
pub fn locate(lines: &[Vec<Cell>], gs: &[Grapheme], g: usize) -> (usize, usize) {
    for (li, line) in lines.iter().enumerate() {
        let mut col = 0;
        for c in line {
            if *c == Cell::Grapheme(g) {
                return (li, col);
            }
            col += c.width(gs);
        }
    }
    (lines.len().saturating_sub(1), 0)
}

/// The grapheme on line `li` nearest to column `col` (None for a line without text).
pub fn at_column(lines: &[Vec<Cell>], gs: &[Grapheme], li: usize, col: usize) -> Option<usize> {
    let line = lines.get(li)?;
    let mut x = 0;
    let mut best: Option<usize> = None;
    for c in line {
        let w = c.width(gs);
        if let Cell::Grapheme(i) = c {
            if best.is_none() || x <= col {
                best = Some(*i);
            }
            if col < x + w {
                break;
            }
        }
        x += w;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(lines: &[Vec<Cell>], text: &str, gs: &[Grapheme]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                l.iter()
                    .map(|c| match c {
                        Cell::Grapheme(i) => text[gs[*i].bytes.0..gs[*i].bytes.1].replace('\n', ""),
                        Cell::Open(_) => "[".into(),
                        Cell::Close(_, s) => format!("]{s}"),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn offsets_count_code_points_and_graphemes_keep_emoji_whole() {
        // "é" as e + combining accent is one grapheme of two code points.
        let text = "Cafe\u{301} 👩‍⚕️ 泣いた";
        let gs = graphemes(text);
        assert_eq!(gs.len(), 10);
        assert_eq!(gs[3].cp, 3);
        assert_eq!(gs[4].cp, 5, "the space follows two code points of é");
        assert_eq!(
            gs[5].width, 2,
            "the health-worker emoji is one wide grapheme"
        );
        assert_eq!(gs[7].width, 2, "CJK characters take two columns");
        let (s, e) = cp_span(&gs, text, 7, 9);
        let seg: String = text.chars().skip(s).take(e - s).collect();
        assert_eq!(seg, "泣いた");
    }

    #[test]
    fn wrapping_breaks_after_spaces_and_counts_wide_characters_twice() {
        let text = "我们一起哭了 then we talked";
        let gs = graphemes(text);
        let lines = wrap(&gs, &[], 14);
        assert_eq!(
            text_of(&lines, text, &gs),
            vec!["我们一起哭了 ", "then we talked"]
        );
    }

    #[test]
    fn marks_wrap_with_their_words() {
        let text = "she felt cared for";
        let gs = graphemes(text);
        let marks = [Mark {
            first: 9,
            last: 17,
            label: "2".into(),
        }];
        let lines = wrap(&gs, &marks, 12);
        assert_eq!(
            text_of(&lines, text, &gs),
            vec!["she felt ", "[cared for]2"]
        );
        assert_eq!(locate(&lines, &gs, 9), (1, 1));
        assert_eq!(at_column(&lines, &gs, 1, 0), Some(9));
    }
}
