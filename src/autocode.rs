//! Auto-coding rules: patterns (a regex, or a dictionary of code,pattern lines) compiled once and
//! matched against an answer's text, giving the matched spans in Unicode code points, the unit of
//! every offset in a project. Pure: no I/O, no SQL.

use crate::error::{Error, Result};
use regex::{Regex, RegexBuilder};

/// How patterns are read.
#[derive(Debug, Clone, Copy, Default)]
pub struct PatternOptions {
    pub case_sensitive: bool,
    /// Only at word boundaries: "cry" finds "cry" but not "crying".
    pub whole_word: bool,
}

/// One code's patterns, compiled into one regex.
#[derive(Debug, Clone)]
pub struct Rule {
    pub code: String,
    /// The patterns as given, for messages and reports.
    pub patterns: Vec<String>,
    regex: Regex,
}

/// Compiles a pattern; `place` says where it came from ("--regex", "words.csv:3").
fn compile(patterns: &[String], opts: PatternOptions, place: &str) -> Result<Regex> {
    for p in patterns {
        if let Err(e) = RegexBuilder::new(p).build() {
            // The regex crate's message draws the pattern with a caret under the position.
            return Err(Error::input(format!(
                "{place}: the pattern {p:?} is not a valid regular expression:\n{e}"
            )));
        }
    }
    let alternatives = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    let body = if opts.whole_word {
        format!(r"\b(?:{alternatives})\b")
    } else {
        alternatives
    };
    let regex = RegexBuilder::new(&body)
        .case_insensitive(!opts.case_sensitive)
        .build()
        .map_err(|e| Error::input(format!("{place}: {e}")))?;
    for p in patterns {
        let alone = RegexBuilder::new(p)
            .case_insensitive(!opts.case_sensitive)
            .build()
            .map_err(|e| Error::input(format!("{place}: {e}")))?;
        // A pattern that matches nothing at all (`a*`, `^`, `x?`) would code every answer.
        if alone.is_match("") {
            return Err(Error::input(format!(
                "{place}: the pattern {p:?} matches the empty string, so it would code every \
                 answer; make it match at least one character"
            )));
        }
    }
    Ok(regex)
}

impl Rule {
    pub fn new(
        code: &str,
        patterns: Vec<String>,
        opts: PatternOptions,
        place: &str,
    ) -> Result<Rule> {
        if patterns.is_empty() {
            return Err(Error::input(format!(
                "{place}: no pattern for code {code:?}"
            )));
        }
        let regex = compile(&patterns, opts, place)?;
        Ok(Rule {
            code: code.to_string(),
            patterns,
            regex,
        })
    }

    /// Whether the text has a match at all (the cheap question a count needs).
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    /// The matches as half-open code-point spans, in order.
    pub fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        // Walk the text once, turning byte offsets into code points as matches come.
        let mut chars_before = 0usize;
        let mut byte_pos = 0usize;
        for m in self.regex.find_iter(text) {
            if m.start() == m.end() {
                continue;
            }
            chars_before += text[byte_pos..m.start()].chars().count();
            let len = text[m.start()..m.end()].chars().count();
            out.push((chars_before, chars_before + len));
            chars_before += len;
            byte_pos = m.end();
        }
        out
    }
}

/// How a match is shown on one line with the text around it.
#[derive(Debug, Clone, Copy)]
pub struct Marking {
    /// Characters shown before and after the match.
    pub before: usize,
    pub after: usize,
    pub open: &'static str,
    pub close: &'static str,
    /// Whether cut-off text after the match is marked with "…" (as it always is before).
    pub ellipsis_after: bool,
}

/// The text around a code-point span, on one line (whitespace as spaces), with the span between
/// the marking's brackets: what a dry run's samples and the coding screen's preview show.
pub fn in_context(text: &str, (start, end): (usize, usize), m: Marking) -> String {
    let chars: Vec<char> = text.chars().collect();
    let from = start.saturating_sub(m.before);
    let to = (end + m.after).min(chars.len());
    let piece = |a: usize, b: usize| -> String {
        chars[a..b]
            .iter()
            .map(|c| if c.is_whitespace() { ' ' } else { *c })
            .collect()
    };
    format!(
        "{}{}{}{}{}{}{}",
        if from > 0 { "…" } else { "" },
        piece(from, start),
        m.open,
        piece(start, end),
        m.close,
        piece(end, to),
        if m.ellipsis_after && to < chars.len() {
            "…"
        } else {
            ""
        }
    )
}

/// Reads a dictionary: CSV lines `code,pattern` (a header `code,pattern` is optional; several
/// lines may name one code). `name` is the file's name for messages.
pub fn read_dictionary(bytes: &[u8], name: &str, opts: PatternOptions) -> Result<Vec<Rule>> {
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|e| Error::input(format!("{name}: not UTF-8 text ({e})")))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut order: Vec<String> = Vec::new();
    let mut by_code: Vec<(Vec<String>, String)> = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = record.map_err(|e| Error::input(format!("{name}:{line}: {e}")))?;
        let fields: Vec<&str> = record.iter().collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if line == 1
            && fields.len() == 2
            && fields[0].trim().eq_ignore_ascii_case("code")
            && fields[1].trim().eq_ignore_ascii_case("pattern")
        {
            continue;
        }
        if fields.len() != 2 {
            return Err(Error::input(format!(
                "{name}:{line}: expected two fields, code and pattern, found {}",
                fields.len()
            )));
        }
        let (code, pattern) = (fields[0].trim(), fields[1]);
        if code.is_empty() || pattern.is_empty() {
            return Err(Error::input(format!(
                "{name}:{line}: both the code and the pattern are needed"
            )));
        }
        // Checked here, so the message names its line.
        compile(&[pattern.to_string()], opts, &format!("{name}:{line}"))?;
        match order.iter().position(|c| c.eq_ignore_ascii_case(code)) {
            Some(k) => by_code[k].0.push(pattern.to_string()),
            None => {
                order.push(code.to_string());
                by_code.push((vec![pattern.to_string()], format!("{name}:{line}")));
            }
        }
    }
    if order.is_empty() {
        return Err(Error::input(format!("{name} holds no code,pattern line")));
    }
    order
        .iter()
        .zip(by_code)
        .map(|(code, (patterns, place))| Rule::new(code, patterns, opts, &place))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(p: &str, opts: PatternOptions) -> Rule {
        Rule::new("c", vec![p.into()], opts, "--regex").unwrap()
    }

    #[test]
    fn spans_count_code_points_not_bytes() {
        let r = rule("cr(y|ied)", PatternOptions::default());
        let text = "😢 We CRIED, then cried again — and cry";
        assert_eq!(r.spans(text), [(5, 10), (17, 22), (35, 38)]);
        let chars: Vec<char> = text.chars().collect();
        let s: String = chars[17..22].iter().collect();
        assert_eq!(s, "cried");
    }

    #[test]
    fn case_and_whole_words_are_options() {
        let sensitive = PatternOptions {
            case_sensitive: true,
            ..Default::default()
        };
        assert!(rule("cry", sensitive).spans("CRY").is_empty());
        let words = PatternOptions {
            whole_word: true,
            ..Default::default()
        };
        assert!(rule("cry", words).spans("crying").is_empty());
        assert_eq!(rule("cry", words).spans("I cry."), [(2, 5)]);
    }

    #[test]
    fn a_bad_pattern_says_where_and_an_empty_match_is_refused() {
        let err = Rule::new("c", vec!["(tears".into()], Default::default(), "--regex")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--regex") && err.contains("(tears"), "{err}");
        assert!(err.contains('^'), "the position is drawn: {err}");
        for p in ["a*", "^", "x?|y"] {
            let err = Rule::new("c", vec![p.into()], Default::default(), "--regex")
                .unwrap_err()
                .to_string();
            assert!(err.contains("empty string"), "{p}: {err}");
        }
    }

    #[test]
    fn a_dictionary_groups_lines_by_code_and_names_bad_lines() {
        let rules = read_dictionary(
            b"code,pattern\nTears,cr(y|ied)\nCloser,closer\ntears,weep\n",
            "words.csv",
            Default::default(),
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].patterns, ["cr(y|ied)", "weep"]);
        assert_eq!(rules[0].spans("we weep"), [(3, 7)]);
        let err = read_dictionary(b"Tears,cry\nCloser,(x\n", "w.csv", Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("w.csv:2"), "{err}");
        let err = read_dictionary(b"Tears\n", "w.csv", Default::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("w.csv:1: expected two fields"), "{err}");
    }
}
