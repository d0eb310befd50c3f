//! A pull reader over QDA-XML that knows where it is: every element comes with the line and
//! column it starts at, so an error can name the place (`project.qde:212:7: <Code guid=…>`).
//!
//! quick-xml consumes its input exactly as far as the event it returns, so counting the
//! newlines in what it consumed tells the line of every event's start without keeping the text.
//!
//! Elements are matched by local name: tools write the namespace as `urn:QDA-XML:project:1.0`,
//! `…:1:0` (NVivo for Mac) or `…:0:4` (ATLAS.ti), or leave it out; the element names are what
//! carry the meaning.

use crate::error::{Error, Result};
use quick_xml::events::{BytesStart, Event};
use std::io::{self, BufRead};

/// Counts lines and columns (in characters) of what the XML reader consumed.
pub struct Counting<R> {
    inner: R,
    line: u64,
    col: u64,
}

impl<R: BufRead> Counting<R> {
    pub fn new(inner: R) -> Self {
        Counting {
            inner,
            line: 1,
            col: 1,
        }
    }
}

impl<R: BufRead> io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // Characters, not bytes, make the column: a UTF-8 continuation byte is not one.
        let chars = |s: &[u8]| s.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
        if let Ok(buf) = self.inner.fill_buf() {
            let s = &buf[..amt.min(buf.len())];
            match s.iter().rposition(|&b| b == b'\n') {
                Some(last) => {
                    self.line += s.iter().filter(|&&b| b == b'\n').count() as u64;
                    self.col = 1 + chars(&s[last + 1..]);
                }
                None => self.col += chars(s),
            }
        }
        self.inner.consume(amt);
    }
}

/// Where an element starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u64,
    pub col: u64,
}

/// An element's start tag, owned, with its place.
#[derive(Debug, Clone)]
pub struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub pos: Pos,
    /// `<X/>`: no children and no end event follows.
    pub empty: bool,
}

pub enum Item {
    Start(Tag),
    End(String),
    /// Character data (text, CDATA and references), decoded.
    Text(String),
    Eof,
}

pub struct XmlIn<R: BufRead> {
    reader: quick_xml::Reader<Counting<R>>,
    buf: Vec<u8>,
    /// The entry's name for messages (`project.qde`).
    pub entry: String,
    /// The open elements, for "the file ends inside <X>" and for messages.
    open: Vec<(String, Pos)>,
}

impl<R: BufRead> XmlIn<R> {
    pub fn new(inner: R, entry: &str) -> Self {
        let mut reader = quick_xml::Reader::from_reader(Counting::new(inner));
        let cfg = reader.config_mut();
        cfg.check_end_names = true;
        cfg.trim_text(false);
        XmlIn {
            reader,
            buf: Vec::new(),
            entry: entry.to_string(),
            open: Vec::new(),
        }
    }

    pub fn pos(&self) -> Pos {
        let c = self.reader.get_ref();
        Pos {
            line: c.line,
            col: c.col,
        }
    }

    /// `project.qde:12:5`
    pub fn at(&self, pos: Pos) -> String {
        format!("{}:{}:{}", self.entry, pos.line, pos.col)
    }

    pub fn error(&self, pos: Pos, msg: impl std::fmt::Display) -> Error {
        Error::input(format!("{}: {msg}", self.at(pos)))
    }

    pub fn depth(&self) -> usize {
        self.open.len()
    }

    pub fn next_item(&mut self) -> Result<Item> {
        loop {
            let pos = self.pos();
            self.buf.clear();
            let ev = self.reader.read_event_into(&mut self.buf);
            let ev = match ev {
                Ok(ev) => ev,
                Err(e) => return Err(self.malformed(pos, &e.to_string())),
            };
            match ev {
                Event::Start(s) => {
                    let tag = owned(&s, pos, false).map_err(|m| self.malformed(pos, &m))?;
                    self.open.push((tag.name.clone(), pos));
                    return Ok(Item::Start(tag));
                }
                Event::Empty(s) => {
                    let tag = owned(&s, pos, true).map_err(|m| self.malformed(pos, &m))?;
                    return Ok(Item::Start(tag));
                }
                Event::End(e) => {
                    let name = e.local_name().as_ref().to_string();
                    self.open.pop();
                    return Ok(Item::End(name));
                }
                Event::Text(t) => {
                    return Ok(Item::Text(t.xml10_content().into_owned()));
                }
                Event::CData(t) => {
                    return Ok(Item::Text(t.xml10_content().into_owned()));
                }
                Event::GeneralRef(r) => {
                    let text = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match &*r.xml10_content() {
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "amp" => "&".into(),
                            "apos" => "'".into(),
                            "quot" => "\"".into(),
                            other => {
                                // Entities a DTD would define are never expanded (that is how
                                // "billion laughs" files exhaust memory); QDA-XML uses none.
                                let msg = format!("the entity &{other}; is not defined in XML");
                                return Err(self.malformed(pos, &msg));
                            }
                        },
                        Err(e) => return Err(self.malformed(pos, &e.to_string())),
                    };
                    return Ok(Item::Text(text));
                }
                Event::Eof => {
                    if let Some((name, at)) = self.open.last() {
                        return Err(self.malformed(
                            self.pos(),
                            &format!(
                                "the file ends inside <{name}> opened at line {}, column {} (is \
                                 it cut short?)",
                                at.line, at.col
                            ),
                        ));
                    }
                    return Ok(Item::Eof);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => continue,
            }
        }
    }

    fn malformed(&self, pos: Pos, msg: &str) -> Error {
        self.error(
            pos,
            format!("the XML is not well-formed: {msg}; nothing was imported"),
        )
    }

    /// The depth of an element's children, or None for `<X/>`: pass it to
    /// [`next_child`](Self::next_child).
    pub fn level(&self, tag: &Tag) -> Option<usize> {
        (!tag.empty).then(|| self.depth())
    }

    /// The next child element of the element at `level`, or None at its end. Text between
    /// children is skipped. The caller reads each child to its end before asking again.
    pub fn next_child(&mut self, level: Option<usize>) -> Result<Option<Tag>> {
        let Some(depth) = level else {
            return Ok(None);
        };
        loop {
            match self.next_item()? {
                Item::Start(t) => return Ok(Some(t)),
                Item::End(_) if self.depth() < depth => return Ok(None),
                Item::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    /// The required `targetGUID` of a reference element.
    pub fn target(&self, t: &Tag) -> Result<u128> {
        let g = t.opt("targetGUID").ok_or_else(|| {
            self.error(
                t.pos,
                format!("<{}> has no targetGUID, which is required", t.name),
            )
        })?;
        parse_guid(g).ok_or_else(|| {
            self.error(
                t.pos,
                format!("<{} targetGUID=\"{g}\">: that is not a GUID", t.name),
            )
        })
    }

    /// Skips the rest of the element whose start was just read, counting its descendants by
    /// name (for the loss report). Text is skipped.
    pub fn skip(&mut self, tag: &Tag, mut count: impl FnMut(&Tag)) -> Result<()> {
        if tag.empty {
            return Ok(());
        }
        let depth = self.depth();
        loop {
            match self.next_item()? {
                Item::Start(t) => count(&t),
                Item::End(_) if self.depth() < depth => return Ok(()),
                Item::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// The text of the element whose start was just read, up to its end (child elements are
    /// not expected; their text is kept).
    pub fn text_of(&mut self, tag: &Tag) -> Result<String> {
        let mut out = String::new();
        if tag.empty {
            return Ok(out);
        }
        let depth = self.depth();
        loop {
            match self.next_item()? {
                Item::Text(t) => out.push_str(&t),
                Item::End(_) if self.depth() < depth => return Ok(out),
                Item::Eof => return Ok(out),
                _ => {}
            }
        }
    }
}

fn owned(s: &BytesStart<'_>, pos: Pos, empty: bool) -> std::result::Result<Tag, String> {
    let name = s.local_name().as_ref().to_string();
    let mut attrs = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = a.key.local_name().as_ref().to_string();
        if a.key.as_ref().starts_with("xmlns") {
            continue;
        }
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("attribute {key} of <{name}>: {e}"))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Tag {
        name,
        attrs,
        pos,
        empty,
    })
}

impl Tag {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An optional attribute; an empty value counts as absent (QualCoder writes
    /// `creatingUser=""` for a coder it cannot name).
    pub fn opt(&self, key: &str) -> Option<&str> {
        self.get(key).map(str::trim).filter(|v| !v.is_empty())
    }

    /// `<Code guid="…" name="…">` for messages: the element with its identifying attributes.
    pub fn describe(&self) -> String {
        let mut s = format!("<{}", self.name);
        for key in ["guid", "name", "targetGUID"] {
            if let Some(v) = self.get(key) {
                let v: String = v.chars().take(60).collect();
                s.push_str(&format!(" {key}=\"{v}\""));
            }
        }
        s.push('>');
        s
    }
}

/// A GUID as a number, whatever its case and braces: how references are matched. (Every
/// reference in a file goes through here, so it allocates nothing.)
pub fn parse_guid(s: &str) -> Option<u128> {
    let t = s.trim().as_bytes();
    let t = match t {
        [b'{', inner @ .., b'}'] => inner,
        _ => t,
    };
    if t.len() != 36 {
        return None;
    }
    let mut v: u128 = 0;
    for (i, &b) in t.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b != b'-' {
                return None;
            }
            continue;
        }
        let d = (b as char).to_digit(16)?;
        v = (v << 4) | d as u128;
    }
    Some(v)
}

pub fn guid_bytes(g: u128) -> [u8; 16] {
    g.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_match_whatever_their_case_and_braces() {
        let a = parse_guid("6f1c0db2-1111-4222-8333-444455556666").unwrap();
        assert_eq!(
            parse_guid("{6F1C0DB2-1111-4222-8333-444455556666}"),
            Some(a)
        );
        assert_eq!(
            parse_guid(" 6F1C0DB2-1111-4222-8333-444455556666 "),
            Some(a)
        );
        for bad in [
            "",
            "p",
            "6f1c0db2111142228333444455556666",
            "6f1c0db2-1111-4222-8333-44445555666g",
            "{6f1c0db2-1111-4222-8333-444455556666",
        ] {
            assert_eq!(parse_guid(bad), None, "{bad}");
        }
    }

    #[test]
    fn elements_know_their_line_and_column() {
        let xml = "<?xml version=\"1.0\"?>\n<Project name=\"p\">\n  <Users>\n    <User guid=\"x\" name=\"Zoë\"/>\n  </Users>\n</Project>\n";
        let mut r = XmlIn::new(xml.as_bytes(), "project.qde");
        let mut seen = Vec::new();
        loop {
            match r.next_item().unwrap() {
                Item::Start(t) => seen.push((t.name, t.pos.line, t.pos.col)),
                Item::Eof => break,
                _ => {}
            }
        }
        assert_eq!(
            seen,
            [
                ("Project".to_string(), 2, 1),
                ("Users".to_string(), 3, 3),
                ("User".to_string(), 4, 5)
            ]
        );
    }

    #[test]
    fn references_are_resolved_and_other_entities_refused() {
        let mut r = XmlIn::new("<a>x &amp; &#x1F622; &lt;</a>".as_bytes(), "t");
        let Item::Start(a) = r.next_item().unwrap() else {
            panic!()
        };
        assert_eq!(r.text_of(&a).unwrap(), "x & 😢 <");
        let mut r = XmlIn::new("<a>&boom;</a>".as_bytes(), "t");
        let Item::Start(a) = r.next_item().unwrap() else {
            panic!()
        };
        let err = r.text_of(&a).unwrap_err().to_string();
        assert!(err.contains("&boom;"), "{err}");
    }

    #[test]
    fn a_cut_short_file_names_the_open_element() {
        let mut r = XmlIn::new("<Project>\n <Sources>\n".as_bytes(), "project.qde");
        let err = loop {
            match r.next_item() {
                Err(e) => break e.to_string(),
                Ok(Item::Eof) => panic!("no error"),
                Ok(_) => {}
            }
        };
        assert!(
            err.contains("inside <Sources> opened at line 2, column 2"),
            "{err}"
        );
    }
}
