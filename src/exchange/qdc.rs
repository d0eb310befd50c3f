//! REFI-QDA codebooks: the `Codes` of a `.qdc` file (root `CodeBook`, namespace
//! `urn:QDA-XML:codebook:1.0`) and of a project's `CodeBook`. Nesting is the hierarchy.
//!
//! A code's `Description` holds its definition followed by paragraphs headed `Include:`,
//! `Exclude:` and `Example:` (how lacrima writes its fields for other tools); reading splits
//! them back into the fields.

use super::loss::Report;
use super::xmlin::{Item, Tag, XmlIn, parse_guid};
use crate::error::{Error, Result};
use crate::model::codebook::CodebookEntry;
use std::collections::HashMap;
use std::io::BufRead;

/// A `Code` element as read.
#[derive(Debug, Clone)]
pub struct CodeEl {
    /// As written (trimmed): what the project keeps.
    pub guid: String,
    pub key: u128,
    pub name: String,
    pub parent: Option<String>,
    /// The parent's index among the codes read (names may repeat in other tools' files).
    pub parent_index: Option<usize>,
    pub codable: Option<bool>,
    pub color: Option<String>,
    /// None when the element has no `Description`.
    pub description: Option<String>,
    /// `NoteRef`s: the note's GUID and where the reference is.
    pub notes: Vec<(u128, String)>,
    pub at: String,
}

/// The definition, inclusion, exclusion and example in a `Description`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fields {
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
}

const HEADINGS: [&str; 3] = ["Include:", "Exclude:", "Example:"];

/// Splits a `Description` into the fields: a line starting with `Include:`, `Exclude:` or
/// `Example:` at the start of the text or after a blank line begins that field (each heading
/// once, in any order); the blank line before it separates, and one space after the colon is
/// part of the heading.
pub fn split_description(d: &str) -> Fields {
    let d = crate::model::empty::normalize_newlines(d);
    // (byte offset of the heading, which heading)
    let mut marks: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0;
    let mut after_blank = true;
    for line in d.split_inclusive('\n') {
        if after_blank
            && let Some(h) = HEADINGS.iter().position(|h| line.starts_with(h))
            && !marks.iter().any(|&(_, k)| k == h)
        {
            marks.push((offset, h));
        }
        after_blank = line.trim().is_empty();
        offset += line.len();
    }
    let mut f = Fields::default();
    let end_of = |i: usize| marks.get(i + 1).map(|m| m.0).unwrap_or(d.len());
    let first = marks.first().map(|m| m.0).unwrap_or(d.len());
    f.definition = strip_separator(&d[..first]).to_string();
    for (i, &(at, h)) in marks.iter().enumerate() {
        let body = &d[at + HEADINGS[h].len()..end_of(i)];
        let body = body.strip_prefix(' ').unwrap_or(body);
        let body = strip_separator(body).to_string();
        match h {
            0 => f.inclusion = body,
            1 => f.exclusion = body,
            _ => f.example = body,
        }
    }
    f
}

/// A section ends with the blank line that separates it from the next heading.
fn strip_separator(s: &str) -> &str {
    match s.strip_suffix("\n\n") {
        Some(t) => t,
        None => s.strip_suffix('\n').unwrap_or(s),
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// `#RRGGBB` (lower case), from `#RRGGBB` or `#RGB`.
fn colour(c: &str) -> Option<String> {
    let hex = c.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_lowercase())),
        3 => Some(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_lowercase()
        )),
        _ => None,
    }
}

/// Reads the `Code` children of `parent_tag` (a `Codes` element), depth first.
pub fn read_codes<R: BufRead>(
    x: &mut XmlIn<R>,
    parent_tag: &Tag,
    out: &mut Vec<CodeEl>,
) -> Result<()> {
    let level = x.level(parent_tag);
    while let Some(t) = x.next_child(level)? {
        if t.name == "Code" {
            read_code(x, &t, None, out)?;
        } else {
            x.skip(&t, |_| {})?;
        }
    }
    Ok(())
}

/// One `Code` whose start tag was just read, with the codes nested in it.
fn read_code<R: BufRead>(
    x: &mut XmlIn<R>,
    t: &Tag,
    parent: Option<usize>,
    out: &mut Vec<CodeEl>,
) -> Result<()> {
    let at = x.at(t.pos);
    let required = |what: &str| {
        x.error(
            t.pos,
            format!("{} has no {what}, which is required", t.describe()),
        )
    };
    let guid = t.opt("guid").ok_or_else(|| required("guid"))?;
    let key = parse_guid(guid)
        .ok_or_else(|| x.error(t.pos, format!("{}: {guid:?} is not a GUID", t.describe())))?;
    let name = t
        .get("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| required("name"))?
        .to_string();
    let codable = match t.opt("isCodable") {
        None => None,
        Some(v) => Some(parse_bool(v).ok_or_else(|| {
            x.error(
                t.pos,
                format!(
                    "{}: isCodable must be true or false, not {v:?}",
                    t.describe()
                ),
            )
        })?),
    };
    let color = match t.opt("color") {
        None => None,
        Some(c) => Some(colour(c).ok_or_else(|| {
            x.error(
                t.pos,
                format!(
                    "{}: colour {c:?} is not #RRGGBB (for example #1f77b4)",
                    t.describe()
                ),
            )
        })?),
    };
    let me = out.len();
    out.push(CodeEl {
        guid: guid.to_string(),
        key,
        name,
        parent: parent.map(|p| out[p].name.clone()),
        parent_index: parent,
        codable,
        color,
        description: None,
        notes: Vec::new(),
        at,
    });
    let inner = x.level(t);
    while let Some(c) = x.next_child(inner)? {
        match c.name.as_str() {
            "Description" => out[me].description = Some(x.text_of(&c)?),
            "NoteRef" => {
                let g = x.target(&c)?;
                out[me].notes.push((g, x.at(c.pos)));
                x.skip(&c, |_| {})?;
            }
            "Code" => read_code(x, &c, Some(me), out)?,
            _ => x.skip(&c, |_| {})?,
        }
    }
    Ok(())
}

/// Codebook entries for the store, checked as the CSV codebook import checks its rows: unique
/// GUIDs, unique names (ignoring case).
pub fn entries(codes: &[CodeEl]) -> Result<Vec<CodebookEntry>> {
    let mut by_guid: HashMap<u128, &CodeEl> = HashMap::new();
    let mut by_name: HashMap<String, &CodeEl> = HashMap::new();
    let mut out = Vec::with_capacity(codes.len());
    for c in codes {
        if let Some(first) = by_guid.insert(c.key, c) {
            return Err(Error::input(format!(
                "{}: the code GUID {} is used twice (also by code {:?} at {}); GUIDs identify \
                 codes and must be unique",
                c.at, c.guid, first.name, first.at
            )));
        }
        if let Some(first) = by_name.insert(c.name.to_lowercase(), c) {
            return Err(Error::input(format!(
                "{}: the code {:?} is already defined at {} (names are unique ignoring case)",
                c.at, c.name, first.at
            )));
        }
        let f = c.description.as_deref().map(split_description);
        out.push(CodebookEntry {
            line: 0,
            at: Some(c.at.clone()),
            guid: Some(c.guid.clone()),
            name: c.name.clone(),
            parent: Some(c.parent.clone().unwrap_or_default()),
            description: f.as_ref().map(|f| f.definition.clone()),
            inclusion: f.as_ref().map(|f| f.inclusion.clone()),
            exclusion: f.as_ref().map(|f| f.exclusion.clone()),
            example: f.as_ref().map(|f| f.example.clone()),
            color: Some(c.color.clone().unwrap_or_default()),
            shortcut: None,
            codable: c.codable,
        });
    }
    Ok(out)
}

/// Reads a `.qdc` file: the codes, and what it holds that a codebook in lacrima cannot (code
/// groups as `Sets`).
pub fn read_qdc(data: &[u8], file: &str, report: &mut Report) -> Result<Vec<CodebookEntry>> {
    let mut x = XmlIn::new(data, file);
    let root = loop {
        match x.next_item()? {
            Item::Start(t) => break t,
            Item::Eof => {
                return Err(Error::input(format!(
                    "{file} is empty: a REFI-QDA codebook has a <CodeBook> element"
                )));
            }
            _ => {}
        }
    };
    if root.name != "CodeBook" {
        return Err(x.error(
            root.pos,
            format!(
                "the root element is <{}>, not <CodeBook>: this is not a REFI-QDA codebook \
                 (.qdc){}",
                root.name,
                if root.name == "Project" {
                    "; a project (.qdpx) is imported with lacrima import qdpx"
                } else {
                    ""
                }
            ),
        ));
    }
    let mut codes = Vec::new();
    let level = x.level(&root);
    while let Some(t) = x.next_child(level)? {
        match t.name.as_str() {
            "Codes" => read_codes(&mut x, &t, &mut codes)?,
            "Sets" => {
                let mut n = 0;
                x.skip(&t, |c| n += u64::from(c.name == "Set"))?;
                report.lose_n("Sets (code groups)", n, None);
            }
            other => {
                report.lose(&format!("<{other}> elements"), None);
                x.skip(&t, |_| {})?;
            }
        }
    }
    entries(&codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_splits_into_the_fields_lacrima_writes() {
        let f = split_description(
            "The relationship deepened.\n\nInclude: closeness, trust\n\nExclude: politeness\n\nExample: \"we grew closer\"",
        );
        assert_eq!(
            f,
            Fields {
                definition: "The relationship deepened.".into(),
                inclusion: "closeness, trust".into(),
                exclusion: "politeness".into(),
                example: "\"we grew closer\"".into(),
            }
        );
    }

    #[test]
    fn a_plain_description_is_the_definition() {
        let d = "Apply when the study uses\nIncluded methods: many.\n\nSee also x.";
        assert_eq!(split_description(d).definition, d);
        assert_eq!(split_description("").definition, "");
    }

    #[test]
    fn fields_keep_their_own_paragraphs_and_may_come_alone() {
        let f = split_description("Example: one\n\ntwo");
        assert_eq!(f.definition, "");
        assert_eq!(f.example, "one\n\ntwo");
        let f = split_description("Def.\n\nExclude: a\nb");
        assert_eq!(
            (f.definition.as_str(), f.exclusion.as_str()),
            ("Def.", "a\nb")
        );
        assert_eq!(f.inclusion, "");
    }

    #[test]
    fn colours_are_kept_as_lower_case_rrggbb() {
        assert_eq!(colour("#46AA00").as_deref(), Some("#46aa00"));
        assert_eq!(colour("#F0a").as_deref(), Some("#ff00aa"));
        assert_eq!(colour("red"), None);
        assert_eq!(colour("#12345"), None);
    }
}
