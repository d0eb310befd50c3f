//! Writes a project as a REFI-QDA `.qdpx` (ZIP: `project.qde`, `sources/GUID.txt`,
//! `lacrima.json`) and the codebook as a `.qdc`, by the mapping in `super` (mod.rs).
//!
//! One pass over the respondents (in one read snapshot) writes each answer's text into the ZIP
//! and the parts of `project.qde` that depend on respondents (cases, sources, notes, set
//! members) into spool files; `project.qde` is then assembled in the schema's element order. So
//! memory stays flat however many respondents there are: the spools are on disk, unlinked as
//! soon as they are made so that nothing is left behind by a crash.

use super::guids::Guids;
use super::xml::{Xml, xml_err};
use super::zipout::{Deflating, ZipOut};
use crate::error::{Error, Result};
use crate::store::{
    AnswerRecord, CodeRecord, DatasetLayout, DatasetValue, Store, ValueRow, ValueShape,
};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const PROJECT_NS: &str = "urn:QDA-XML:project:1.0";
pub const CODEBOOK_NS: &str = "urn:QDA-XML:codebook:1.0";
const ORIGIN: &str = concat!("lacrima ", env!("CARGO_PKG_VERSION"));

/// What an export wrote, for the summary line.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct QdpxSummary {
    pub respondents: u64,
    pub answers: u64,
    pub codings: u64,
    pub coders: u64,
    pub codes: u64,
    pub notes: u64,
    /// Characters XML 1.0 cannot hold, replaced by U+FFFD in names, memos and values.
    pub characters_replaced: u64,
}

/// A part of the document written to a temporary file (unlinked at once) and copied in later.
struct Spool {
    xml: Xml<BufWriter<File>>,
    used: bool,
}

/// A scratch file beside the export, unlinked at once on Unix: the open descriptor keeps the
/// data, and a crash leaves nothing behind.
fn scratch_file(beside: &Path, tag: &str) -> Result<File> {
    let mut path = crate::store::sibling_temp(beside).into_os_string();
    path.push(format!(".{tag}"));
    let path = PathBuf::from(path);
    let _ = std::fs::remove_file(&path);
    let file = crate::store::create_private_file(&path)?;
    #[cfg(unix)]
    let _ = std::fs::remove_file(&path);
    #[cfg(not(unix))]
    let _ = path;
    Ok(file)
}

impl Spool {
    fn new(beside: &Path, tag: &str) -> Result<Spool> {
        Ok(Spool {
            xml: Xml::new(BufWriter::with_capacity(
                1 << 16,
                scratch_file(beside, tag)?,
            )),
            used: false,
        })
    }

    /// Appends the spooled bytes to `out`; returns the characters it had to replace.
    fn drain_into<W: Write>(self, out: &mut Xml<W>) -> Result<u64> {
        let replaced = self.xml.replaced;
        let mut file = self
            .xml
            .into_inner()
            .into_inner()
            .map_err(|e| xml_err(e.error()))?;
        file.seek(SeekFrom::Start(0)).map_err(xml_err)?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = file.read(&mut buf).map_err(xml_err)?;
            if n == 0 {
                break;
            }
            out.raw(&buf[..n])?;
        }
        Ok(replaced)
    }
}

fn zip_err(e: impl std::fmt::Display) -> Error {
    Error::input(format!("could not write the .qdpx file: {e}"))
}

/// A timestamp as xs:dateTime accepts it, or none.
fn date_time(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let looks = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':';
    looks.then_some(s)
}

/// The code's Description for other tools: the definition, then the criteria and the example.
pub fn code_description(c: &CodeRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !c.description.trim().is_empty() {
        parts.push(c.description.trim().to_string());
    }
    for (label, text) in [
        ("Include", &c.inclusion),
        ("Exclude", &c.exclusion),
        ("Example", &c.example),
    ] {
        if !text.trim().is_empty() {
            parts.push(format!("{label}: {}", text.trim()));
        }
    }
    parts.join("\n\n")
}

/// Writes the code tree in codebook order. `notes` gives each code's memo note GUIDs.
fn write_codes<W: Write>(
    x: &mut Xml<W>,
    codes: &[CodeRecord],
    notes: &HashMap<i64, Vec<String>>,
) -> Result<()> {
    let mut children: HashMap<Option<i64>, Vec<&CodeRecord>> = HashMap::new();
    for c in codes {
        children.entry(c.parent_id).or_default().push(c);
    }
    fn one<W: Write>(
        x: &mut Xml<W>,
        c: &CodeRecord,
        children: &HashMap<Option<i64>, Vec<&CodeRecord>>,
        notes: &HashMap<i64, Vec<String>>,
    ) -> Result<()> {
        let mut attrs = vec![
            ("guid", c.guid.as_str()),
            ("name", c.name.as_str()),
            ("isCodable", if c.codable { "true" } else { "false" }),
        ];
        if let Some(col) = &c.color {
            attrs.push(("color", col.as_str()));
        }
        x.open("Code", &attrs)?;
        let d = code_description(c);
        if !d.is_empty() {
            x.text_element("Description", &d)?;
        }
        for n in notes.get(&c.id).into_iter().flatten() {
            x.empty("NoteRef", &[("targetGUID", n)])?;
        }
        for k in children.get(&Some(c.id)).into_iter().flatten() {
            one(x, k, children, notes)?;
        }
        x.close("Code")
    }
    x.open("Codes", &[])?;
    for c in children.get(&None).into_iter().flatten() {
        one(x, c, &children, notes)?;
    }
    x.close("Codes")
}

/// The codebook alone, as a REFI-QDA `.qdc`.
pub fn write_qdc(codes: &[CodeRecord], out: &mut dyn Write) -> Result<()> {
    let mut x = Xml::new(out);
    x.declaration()?;
    x.open("CodeBook", &[("xmlns", CODEBOOK_NS), ("origin", ORIGIN)])?;
    write_codes(&mut x, codes, &HashMap::new())?;
    x.close("CodeBook")?;
    x.raw(b"\n")
}

/// Writes the project to `target` (a new file, renamed into place when complete).
pub fn write_qdpx(store: &Store, target: &Path) -> Result<QdpxSummary> {
    crate::store::refuse_project_path(target, "the export")?;
    let tmp = crate::store::sibling_temp(target);
    let _ = std::fs::remove_file(&tmp);
    let file = crate::store::create_private_file(&tmp)?;
    let result = store
        .in_snapshot(|| write_zip(store, target, file))
        .and_then(|(file, summary)| {
            file.sync_all().map_err(|e| Error::io(target, e))?;
            std::fs::rename(&tmp, target).map_err(|e| Error::io(target, e))?;
            Ok(summary)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

struct Pass<'a> {
    guids: &'a Guids,
    layout: &'a DatasetLayout,
    shapes: &'a [ValueShape],
    code_guid: HashMap<i64, &'a str>,
    cases: Spool,
    sources: Spool,
    notes: Spool,
    /// Set members: one spool per question, then one per coder (by name).
    question_sets: Vec<Spool>,
    review_sets: HashMap<String, Spool>,
    /// Coders' GUIDs, derived once each.
    users: HashMap<String, String>,
    summary: QdpxSummary,
}

fn write_zip(store: &Store, target: &Path, file: File) -> Result<(File, QdpxSummary)> {
    let layout = store.dataset_layout()?;
    let guids = Guids::new(&store.project_guid()?);
    let coders = store.coder_names()?;
    let code_memos = store.code_memos()?;
    let shapes: Vec<ValueShape> = layout
        .variables
        .iter()
        .map(|v| store.value_shape(v))
        .collect::<Result<_>>()?;
    let mut zip = ZipOut::new(
        BufWriter::with_capacity(1 << 16, file),
        scratch_file(target, "directory")?,
    );

    let mut pass = Pass {
        guids: &guids,
        layout: &layout,
        shapes: &shapes,
        code_guid: layout
            .codes
            .iter()
            .map(|c| (c.id, c.guid.as_str()))
            .collect(),
        cases: Spool::new(target, "cases")?,
        sources: Spool::new(target, "sources")?,
        notes: Spool::new(target, "notes")?,
        question_sets: layout
            .questions
            .iter()
            .map(|q| Spool::new(target, &format!("q{}", q.id)))
            .collect::<Result<_>>()?,
        review_sets: HashMap::new(),
        users: HashMap::new(),
        summary: QdpxSummary {
            coders: coders.len() as u64,
            codes: layout.codes.len() as u64,
            ..Default::default()
        },
    };
    for (name, _) in &coders {
        pass.review_sets
            .insert(name.clone(), Spool::new(target, "reviews")?);
    }
    let variables: Vec<_> = layout.variables.iter().collect();
    store.for_each_respondent_record(&layout, &variables, None, None, &mut |row, answers| {
        pass.respondent(row, answers, &mut zip)
    })?;

    // Code memos are Notes like the others; the codebook points at them.
    let mut code_notes: HashMap<i64, Vec<String>> = HashMap::new();
    for m in &code_memos {
        let Some(code) = pass.code_guid.get(&m.code_id) else {
            continue;
        };
        let guid = guids.note("code", code, &m.coder);
        note(&mut pass.notes, &guid, &m.coder, &guids, &m.text, None)?;
        pass.summary.notes += 1;
        code_notes.entry(m.code_id).or_default().push(guid);
    }

    let mut qde = Deflating::new(scratch_file(target, "qde")?);
    let mut x = Xml::new(&mut qde);
    x.declaration()?;
    let name = store
        .path()
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "lacrima project".into());
    let created = store.meta("created_at")?.unwrap_or_default();
    let mut attrs = vec![
        ("xmlns", PROJECT_NS),
        ("name", name.as_str()),
        ("origin", ORIGIN),
    ];
    if let Some(c) = date_time(&created) {
        attrs.push(("creationDateTime", c));
    }
    x.open("Project", &attrs)?;
    if !coders.is_empty() {
        x.open("Users", &[])?;
        for (name, _) in &coders {
            x.empty("User", &[("guid", &guids.user(name)), ("name", name)])?;
        }
        x.close("Users")?;
    }
    if !layout.codes.is_empty() {
        x.open("CodeBook", &[])?;
        write_codes(&mut x, &layout.codes, &code_notes)?;
        x.close("CodeBook")?;
    }
    if !layout.variables.is_empty() {
        x.open("Variables", &[])?;
        for (v, shape) in layout.variables.iter().zip(&shapes) {
            let kind = match shape {
                ValueShape::Integer => "Integer",
                ValueShape::Float => "Float",
                ValueShape::Date => "Date",
                ValueShape::Text => "Text",
            };
            x.open(
                "Variable",
                &[
                    ("guid", &guids.variable(&v.name)),
                    ("name", &v.name),
                    ("typeOfVariable", kind),
                ],
            )?;
            if let Some(label) = v.label.as_deref().filter(|l| !l.is_empty()) {
                x.text_element("Description", label)?;
            }
            x.close("Variable")?;
        }
        x.close("Variables")?;
    }
    let mut replaced = x.replaced;
    let Pass {
        cases,
        sources,
        notes,
        question_sets,
        review_sets,
        mut summary,
        ..
    } = pass;
    for (tag, spool) in [("Cases", cases), ("Sources", sources), ("Notes", notes)] {
        if spool.used {
            x.open(tag, &[])?;
            replaced += spool.drain_into(&mut x)?;
            x.close(tag)?;
        }
    }
    let mut sets: Vec<(String, String, Spool)> = Vec::new();
    for (q, spool) in layout.questions.iter().zip(question_sets) {
        sets.push((
            format!("question: {}", q.name),
            q.label.clone().unwrap_or_default(),
            spool,
        ));
    }
    let mut review_sets: Vec<(String, Spool)> = review_sets.into_iter().collect();
    review_sets.sort_by(|a, b| a.0.cmp(&b.0));
    for (coder, spool) in review_sets {
        sets.push((
            format!("reviewed by {coder}"),
            format!(
                "The answers {coder} reviewed in lacrima: coded, or marked as needing no code."
            ),
            spool,
        ));
    }
    if sets.iter().any(|s| s.2.used) {
        x.open("Sets", &[])?;
        for (name, description, spool) in sets {
            if !spool.used {
                continue;
            }
            x.open("Set", &[("guid", &guids.set(&name)), ("name", &name)])?;
            if !description.is_empty() {
                x.text_element("Description", &description)?;
            }
            replaced += spool.drain_into(&mut x)?;
            x.close("Set")?;
        }
        x.close("Sets")?;
    }
    x.close("Project")?;
    x.raw(b"\n")?;
    summary.characters_replaced = replaced + x.replaced;
    zip.deflated("project.qde", qde.done().map_err(zip_err)?)
        .map_err(zip_err)?;

    let mut json = Deflating::new(scratch_file(target, "json")?);
    let extras = lacrima_json(store, &layout, &coders)?;
    serde_json::to_writer_pretty(&mut json, &extras).map_err(zip_err)?;
    zip.deflated("lacrima.json", json.done().map_err(zip_err)?)
        .map_err(zip_err)?;
    let file = zip
        .finish()
        .and_then(|out| out.into_inner().map_err(|e| e.into_error()))
        .map_err(zip_err)?;
    Ok((file, summary))
}

/// What QDA-XML has no place for (see `super`): enough to bring a lacrima project back exactly.
fn lacrima_json(
    store: &Store,
    layout: &DatasetLayout,
    coders: &[(String, bool)],
) -> Result<serde_json::Value> {
    use serde_json::json;
    Ok(json!({
        "format": "lacrima-qdpx",
        "version": 1,
        "lacrima": env!("CARGO_PKG_VERSION"),
        "project_guid": store.project_guid()?,
        "id_column": layout.id_column,
        "questions": layout.questions.iter().map(|q| json!({
            "name": q.name, "label": q.label,
        })).collect::<Vec<_>>(),
        "variables": layout.variables.iter().map(|v| json!({
            "name": v.name, "label": v.label, "kind": v.kind.as_str(),
            "levels": if v.levels.is_empty() { None } else { Some(&v.levels) },
        })).collect::<Vec<_>>(),
        "codes": layout.codes.iter().map(|c| json!({
            "guid": c.guid, "name": c.name, "description": c.description,
            "inclusion": c.inclusion, "exclusion": c.exclusion, "example": c.example,
            "shortcut": c.shortcut,
        })).collect::<Vec<_>>(),
        "coders": coders.iter().map(|(name, consensus)| json!({
            "name": name, "is_consensus": consensus,
        })).collect::<Vec<_>>(),
    }))
}

fn note(
    spool: &mut Spool,
    guid: &str,
    coder: &str,
    guids: &Guids,
    text: &str,
    created: Option<&str>,
) -> Result<()> {
    spool.used = true;
    let user = guids.user(coder);
    let name = format!("memo by {coder}");
    let mut attrs = vec![
        ("guid", guid),
        ("name", name.as_str()),
        ("creatingUser", user.as_str()),
    ];
    if let Some(c) = created.and_then(date_time) {
        attrs.push(("creationDateTime", c));
    }
    spool.xml.open("Note", &attrs)?;
    spool.xml.text_element("PlainTextContent", text)?;
    spool.xml.close("Note")
}

/// The first characters of a coded passage, as the selection's name other tools list.
fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    let mut s: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        s.push('…');
    }
    s
}

impl Pass<'_> {
    fn respondent<W: Write>(
        &mut self,
        row: &ValueRow,
        answers: &[AnswerRecord],
        zip: &mut ZipOut<W>,
    ) -> Result<()> {
        let g = self.guids;
        let ext = row.ext_id();
        self.summary.respondents += 1;
        let c = &mut self.cases;
        c.used = true;
        c.xml
            .open("Case", &[("guid", &g.case(ext)), ("name", ext)])?;
        for (i, (v, shape)) in self.layout.variables.iter().zip(self.shapes).enumerate() {
            let value = row.value(i);
            let (tag, text) = match (shape, value) {
                (_, DatasetValue::Missing) => continue,
                (ValueShape::Integer, DatasetValue::Integer(n)) => ("IntegerValue", n.to_string()),
                (ValueShape::Float, DatasetValue::Integer(n)) => ("FloatValue", n.to_string()),
                (ValueShape::Float, DatasetValue::Real(x)) if x.is_finite() => {
                    // Display never uses an exponent, which xs:decimal does not allow.
                    ("FloatValue", format!("{x}"))
                }
                (ValueShape::Date, DatasetValue::Text(t)) => ("DateValue", t.to_string()),
                (_, DatasetValue::Text(t)) => ("TextValue", t.to_string()),
                (_, DatasetValue::Integer(n)) => ("TextValue", n.to_string()),
                (_, DatasetValue::Real(x)) if x.is_finite() => ("TextValue", format!("{x}")),
                (_, DatasetValue::Real(_)) => continue,
            };
            c.xml.open("VariableValue", &[])?;
            c.xml
                .empty("VariableRef", &[("targetGUID", &g.variable(&v.name))])?;
            c.xml.text_element(tag, &text)?;
            c.xml.close("VariableValue")?;
        }
        for a in answers {
            c.xml
                .empty("SourceRef", &[("targetGUID", &g.source(ext, &a.question))])?;
        }
        c.xml.close("Case")?;

        for a in answers {
            self.answer(ext, a, zip)?;
        }
        Ok(())
    }

    fn answer<W: Write>(&mut self, ext: &str, a: &AnswerRecord, zip: &mut ZipOut<W>) -> Result<()> {
        let g = self.guids;
        let source = g.source(ext, &a.question);
        self.summary.answers += 1;
        zip.stored(&format!("sources/{source}.txt"), a.text.as_bytes())
            .map_err(zip_err)?;

        let name = format!("{ext} {}", a.question);
        let path = format!("internal://{source}.txt");
        let s = &mut self.sources;
        s.used = true;
        s.xml.open(
            "TextSource",
            &[("guid", &source), ("name", &name), ("plainTextPath", &path)],
        )?;
        let length = a.text.chars().count() as i64;
        let mut coding_notes: Vec<(String, String, String)> = Vec::new();
        for k in &a.codings {
            let Some(code) = self.code_guid.get(&k.code_id).copied() else {
                continue;
            };
            let span = k.start.zip(k.end);
            let (start, end) = span.unwrap_or((0, length));
            let selection = g.selection(&source, &k.coder, code, span);
            let user = self
                .users
                .entry(k.coder.clone())
                .or_insert_with(|| g.user(&k.coder))
                .clone();
            let (start, end) = (start.to_string(), end.to_string());
            let label = excerpt(&k.text);
            let mut attrs = vec![
                ("guid", selection.as_str()),
                ("name", label.as_str()),
                ("startPosition", start.as_str()),
                ("endPosition", end.as_str()),
                ("creatingUser", user.as_str()),
            ];
            if let Some(t) = date_time(&k.created_at) {
                attrs.push(("creationDateTime", t));
            }
            s.xml.open("PlainTextSelection", &attrs)?;
            let coding = g.coding(&selection);
            let mut attrs = vec![("guid", coding.as_str()), ("creatingUser", user.as_str())];
            if let Some(t) = date_time(&k.created_at) {
                attrs.push(("creationDateTime", t));
            }
            s.xml.open("Coding", &attrs)?;
            s.xml.empty("CodeRef", &[("targetGUID", code)])?;
            if !k.memo.is_empty() {
                let n = g.note("coding", &coding, &k.coder);
                s.xml.empty("NoteRef", &[("targetGUID", &n)])?;
                coding_notes.push((n, k.coder.clone(), k.memo.clone()));
            }
            s.xml.close("Coding")?;
            s.xml.close("PlainTextSelection")?;
            self.summary.codings += 1;
        }
        let mut answer_notes = Vec::new();
        for (coder, text) in &a.memos {
            let n = g.note("answer", &source, coder);
            s.xml.empty("NoteRef", &[("targetGUID", &n)])?;
            answer_notes.push((n, coder.clone(), text.clone()));
        }
        s.xml.close("TextSource")?;
        for (n, coder, text) in coding_notes.iter().chain(&answer_notes) {
            note(&mut self.notes, n, coder, g, text, None)?;
            self.summary.notes += 1;
        }

        if let Some(i) = self
            .layout
            .questions
            .iter()
            .position(|q| q.id == a.question_id)
        {
            let q = &mut self.question_sets[i];
            q.used = true;
            q.xml.empty("MemberSource", &[("targetGUID", &source)])?;
        }
        for coder in &a.rated_by {
            if let Some(r) = self.review_sets.get_mut(coder) {
                r.used = true;
                r.xml.empty("MemberSource", &[("targetGUID", &source)])?;
            }
        }
        Ok(())
    }
}
