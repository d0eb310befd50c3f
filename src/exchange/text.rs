//! The texts of sources and notes: decoding, and line endings with the positions that point
//! into them.

use crate::error::{Error, Result};

/// Decodes a text file from the archive: UTF-8 with or without a byte-order mark (QualCoder
/// writes one), or UTF-16 with one.
pub fn decode(bytes: &[u8], what: &str) -> Result<String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest, what);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let enc = if bytes[0] == 0xFF {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (text, _, had_errors) = enc.decode(bytes);
        if had_errors {
            return Err(Error::input(format!(
                "{what}: the UTF-16 text has invalid characters"
            )));
        }
        let text = text.into_owned();
        return Ok(text);
    }
    utf8(bytes, what)
}

fn utf8(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        Error::input(format!(
            "{what}: invalid UTF-8 at byte {}; REFI-QDA texts are UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// How a tool counts a line break written as `\r\n` in its positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineBreaks {
    /// As two code points, as the text file has them (the standard's wording: positions count
    /// the code points of the plain text; NVivo, MAXQDA, QualCoder and lacrima itself).
    AsWritten,
    /// As one: ATLAS.ti writes `\r\n` into the text file but counts each as one character
    /// (QualCoder's importer documents and corrects for this).
    AsOne,
}

impl LineBreaks {
    /// From the `origin` attribute of `<Project>`.
    pub fn of_origin(origin: &str) -> LineBreaks {
        if origin.to_lowercase().contains("atlas.ti") || origin.to_lowercase().contains("atlasti") {
            LineBreaks::AsOne
        } else {
            LineBreaks::AsWritten
        }
    }
}

/// A text as lacrima stores it (every `\r\n` made `\n`, as in the survey import) with what it
/// takes to move a position given for the text as written onto it.
///
/// How positions move: a position counts code points of the text as written. Each `\r` removed
/// before it moves it one to the left; a position between the `\r` and the `\n` of a pair ends
/// up just before the `\n`, so a selection keeps exactly the characters it had, less the `\r`s.
/// With [`LineBreaks::AsOne`] the positions were counted on the text without the `\r`s already
/// and stay as they are.
pub struct StoredText {
    pub text: String,
    /// Code points of the stored text.
    pub chars: u64,
    /// Code points of the text as the positions count it.
    pub counted_chars: u64,
    /// Positions (in the text as written) of the removed `\r`s, ascending.
    removed: Vec<u64>,
    breaks: LineBreaks,
}

impl StoredText {
    pub fn new(written: &str, breaks: LineBreaks) -> StoredText {
        let mut removed = Vec::new();
        let text = if written.contains("\r\n") {
            let mut out = String::with_capacity(written.len());
            let mut it = written.chars().peekable();
            let mut i = 0u64;
            while let Some(c) = it.next() {
                if c == '\r' && it.peek() == Some(&'\n') {
                    removed.push(i);
                } else {
                    out.push(c);
                }
                i += 1;
            }
            out
        } else {
            written.to_string()
        };
        let chars = text.chars().count() as u64;
        let counted_chars = match breaks {
            LineBreaks::AsWritten => chars + removed.len() as u64,
            LineBreaks::AsOne => chars,
        };
        StoredText {
            text,
            chars,
            counted_chars,
            removed,
            breaks,
        }
    }

    /// A position as the file gives it, in the stored text.
    pub fn map(&self, pos: u64) -> u64 {
        match self.breaks {
            LineBreaks::AsOne => pos,
            LineBreaks::AsWritten => pos - self.removed.partition_point(|&r| r < pos) as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_keeps_its_characters_when_crlf_becomes_lf() {
        let written = "ab\r\ncd\r\nef";
        let t = StoredText::new(written, LineBreaks::AsWritten);
        assert_eq!(t.text, "ab\ncd\nef");
        assert_eq!(t.counted_chars, 10);
        let sel = |s: u64, e: u64| -> String {
            let (s, e) = (t.map(s) as usize, t.map(e) as usize);
            t.text.chars().skip(s).take(e - s).collect()
        };
        // "cd" is at 4..6 in the text as written.
        assert_eq!(sel(4, 6), "cd");
        // "b\r\nc" (1..5) keeps b, the line break and c.
        assert_eq!(sel(1, 5), "b\nc");
        // A position between \r and \n lands before the \n.
        assert_eq!(t.map(3), 2);
        assert_eq!(sel(0, 10), t.text);
    }

    #[test]
    fn atlas_ti_positions_count_a_line_break_once() {
        let t = StoredText::new("ab\r\ncd", LineBreaks::of_origin("ATLAS.ti Win 23.4.0"));
        assert_eq!(t.counted_chars, 5);
        assert_eq!(t.map(3), 3);
    }

    #[test]
    fn byte_order_marks_are_dropped_and_utf16_read() {
        assert_eq!(decode(b"\xEF\xBB\xBFhi", "x").unwrap(), "hi");
        assert_eq!(decode(b"\xFF\xFEh\0i\0", "x").unwrap(), "hi");
        let err = decode(b"ok\xFF", "sources/a.txt").unwrap_err().to_string();
        assert!(
            err.contains("sources/a.txt: invalid UTF-8 at byte 2"),
            "{err}"
        );
    }
}
