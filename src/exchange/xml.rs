//! Writing QDA-XML: elements with escaped attributes and text, and the characters XML 1.0 cannot
//! hold at all.
//!
//! Survey answers can carry control characters (a pasted form feed, a NUL from a broken export);
//! XML 1.0 forbids every character below U+0020 but tab, line feed and carriage return, in text
//! and attributes alike, and a strict importer rejects the whole file for one of them. They are
//! replaced by U+FFFD in what goes into the XML and counted, so the export can say so. (Answer
//! texts go into `sources/*.txt`, which hold them exactly.)

use crate::error::{Error, Result};
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use std::borrow::Cow;
use std::io::Write;

fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// An XML writer that counts the characters it had to replace.
pub struct Xml<W: Write> {
    w: Writer<W>,
    pub replaced: u64,
}

pub fn xml_err(e: impl std::fmt::Display) -> Error {
    Error::input(format!("could not write the XML: {e}"))
}

impl<W: Write> Xml<W> {
    pub fn new(inner: W) -> Xml<W> {
        Xml {
            w: Writer::new(inner),
            replaced: 0,
        }
    }

    pub fn into_inner(self) -> W {
        self.w.into_inner()
    }

    fn clean<'a>(&mut self, s: &'a str) -> Cow<'a, str> {
        if s.chars().all(allowed) {
            return Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if allowed(c) {
                out.push(c);
            } else {
                self.replaced += 1;
                out.push('\u{FFFD}');
            }
        }
        Cow::Owned(out)
    }

    fn start_of<'n>(&mut self, name: &'n str, attrs: &[(&str, &str)]) -> BytesStart<'n> {
        let mut e = BytesStart::new(name);
        for (k, v) in attrs {
            let v = self.clean(v);
            e.push_attribute((*k, v.as_ref()));
        }
        e
    }

    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<()> {
        let e = self.start_of(name, attrs);
        self.w.write_event(Event::Start(e)).map_err(xml_err)
    }

    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> Result<()> {
        let e = self.start_of(name, attrs);
        self.w.write_event(Event::Empty(e)).map_err(xml_err)
    }

    pub fn close(&mut self, name: &str) -> Result<()> {
        self.w
            .write_event(Event::End(BytesEnd::new(name.to_string())))
            .map_err(xml_err)
    }

    /// `<name>text</name>`.
    pub fn text_element(&mut self, name: &str, text: &str) -> Result<()> {
        self.open(name, &[])?;
        let t = self.clean(text);
        self.w
            .write_event(Event::Text(BytesText::new(&t)))
            .map_err(xml_err)?;
        self.close(name)
    }

    /// Bytes written elsewhere with the same rules (a spooled part of the document).
    pub fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.w.get_mut().write_all(bytes).map_err(xml_err)
    }

    pub fn declaration(&mut self) -> Result<()> {
        self.raw(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced_and_counted_and_markup_is_escaped() {
        let mut x = Xml::new(Vec::new());
        x.open("Note", &[("name", "a\u{0}b \"q\" <&>")]).unwrap();
        x.text_element("PlainTextContent", "x\u{b}y\tz\n<&>")
            .unwrap();
        x.close("Note").unwrap();
        assert_eq!(x.replaced, 2);
        let s = String::from_utf8(x.into_inner()).unwrap();
        assert!(s.contains("a\u{FFFD}b &quot;q&quot; &lt;&amp;&gt;"), "{s}");
        assert!(s.contains("x\u{FFFD}y\tz\n&lt;&amp;&gt;"), "{s}");
    }
}
