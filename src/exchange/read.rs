//! `lacrima import qdpx`: a REFI-QDA project into a lacrima project, streamed.
//!
//! `project.qde` is read with quick-xml's pull reader straight from the ZIP entry (never as a
//! tree), element by element, in the schema's order: users, codebook, variables, cases,
//! sources, notes, links, sets, graphs. What each element becomes is written or staged in the
//! store at once ([`crate::store::ExchangeWriter`]); the reader keeps only what is small (the
//! users, the codebook, the variables and the sets), so memory does not grow with the number of
//! respondents.
//!
//! The same reader takes lacrima's own exports (which carry `lacrima.json`: questions, variable
//! kinds, code fields, coders, see [`super`]) and other tools' projects, where text sources become
//! answers, cases respondents, users coders, and source sets questions. What lacrima cannot hold
//! is counted in a [`Report`] instead of being dropped silently.

use super::loss::Report;
use super::meta::Meta;
use super::qdc::{CodeEl, read_codes, split_description};
use super::text::{LineBreaks, StoredText, decode};
use super::xmlin::{Item, Tag, XmlIn, parse_guid};
use super::zipin::{Limits, Qdpx};
use crate::error::{Error, Result};
use crate::import::infer::{MAX_CATEGORICAL_LEVELS, natural_cmp};
use crate::model::codebook::CodebookEntry;
use crate::store::{ExchangeWriter, Finish, NoteTarget, SetRole, Store, VariableKind};
use rusqlite::types::Value;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The question of an answer whose source is in no set.
pub const DEFAULT_QUESTION: &str = "document";
/// The coder of what the file does not say who made.
pub const UNKNOWN_CODER: &str = "imported";

#[derive(Debug, Serialize)]
pub struct QdpxSummary {
    pub file: String,
    /// The `origin` of `<Project>`: which program wrote the file.
    pub origin: String,
    /// The file carries `lacrima.json` (an export of lacrima).
    pub from_lacrima: bool,
    pub respondents: i64,
    pub questions: Vec<String>,
    pub answers: i64,
    pub variables: usize,
    pub codes: usize,
    pub coders: Vec<String>,
    pub codings: i64,
    pub reviews: i64,
    pub memos: i64,
    /// What lacrima could not hold: kind, count, a few names.
    pub lost: Vec<super::loss::Loss>,
    /// What was kept but changed to fit.
    pub notes: Vec<String>,
}

pub fn import_qdpx(store: &mut Store, path: &Path, fresh: bool) -> Result<QdpxSummary> {
    import_qdpx_with(store, path, fresh, Limits::default())
}

pub fn import_qdpx_with(
    store: &mut Store,
    path: &Path,
    fresh: bool,
    limits: Limits,
) -> Result<QdpxSummary> {
    let file = path.display().to_string();
    let mut qdpx = Qdpx::open(path, limits)?;
    let entry = qdpx.project_entry()?;
    let meta = if qdpx.has_entry("lacrima.json") {
        let bytes = qdpx.read_entry("lacrima.json")?;
        Some(Meta::parse(&bytes).map_err(|e| {
            Error::input(format!(
                "{file}: lacrima.json cannot be read ({e}); nothing was imported"
            ))
        })?)
    } else {
        None
    };
    let texts = qdpx.another();
    let writer = store.begin_exchange_import(&file, fresh)?;
    let mut r = Reader {
        w: writer,
        texts,
        file: file.clone(),
        meta,
        report: Report::default(),
        breaks: LineBreaks::AsWritten,
        origin: String::new(),
        users: HashMap::new(),
        project_user: None,
        coders: HashMap::new(),
        default_coder: None,
        codes: HashMap::new(),
        code_count: 0,
        vars: Vec::new(),
        var_by_guid: HashMap::new(),
        next_seq: 1,
        sets: Vec::new(),
        make_codable: Vec::new(),
        drop_codes: Vec::new(),
        now: crate::timefmt::now(),
    };
    let reader = BufReader::with_capacity(1 << 18, qdpx.entry(&entry)?);
    let mut x = XmlIn::new(reader, &format!("{file}: {entry}"));
    r.document(&mut x)
        .map_err(|e| zip_error(e, &file, &entry))?;
    drop(x);
    let plan = r.plan()?;
    let Reader {
        w,
        mut report,
        origin,
        meta,
        coders,
        vars,
        code_count,
        ..
    } = r;
    let imported = w.finish(plan)?;
    for (what, n, examples) in &imported.lost {
        report.lose_n(what, *n, None);
        for e in examples {
            report.lose_n(what, 0, Some(e));
        }
    }
    for n in &imported.notes {
        report.note(n.clone());
    }
    let mut coder_names: Vec<String> = coders.into_keys().collect();
    coder_names.sort();
    Ok(QdpxSummary {
        file,
        origin,
        from_lacrima: meta.is_some(),
        respondents: imported.respondents,
        questions: imported.questions,
        answers: imported.answers,
        variables: vars.len(),
        codes: code_count,
        coders: coder_names,
        codings: imported.codings,
        reviews: imported.reviews,
        memos: imported.memos,
        lost: report.lost,
        notes: report.notes,
    })
}

/// An I/O error while streaming project.qde is a ZIP problem (a limit reached, a damaged entry).
fn zip_error(e: Error, file: &str, entry: &str) -> Error {
    match e {
        Error::Input(m) if m.contains("not well-formed: I/O error") => {
            // quick-xml wraps the reader's error: say it as the ZIP layer does.
            let inner = m
                .split_once("I/O error: ")
                .map(|(_, r)| r.trim_end_matches("; nothing was imported").to_string())
                .unwrap_or(m);
            if inner.contains("ZIP bomb") || inner.contains("in all;") {
                Error::input(inner)
            } else {
                Error::input(format!(
                    "{file}: the entry {entry} cannot be read (the ZIP is damaged?): {inner}"
                ))
            }
        }
        e => e,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VarType {
    Text,
    Boolean,
    Integer,
    Float,
    Date,
    DateTime,
}

struct Var {
    name: String,
    typ: VarType,
    /// The writer's index of the variable.
    idx: usize,
    /// Known from lacrima.json, or decided by the type.
    kind: Option<VariableKind>,
    /// The distinct values seen, while they may still be levels.
    distinct: BTreeSet<String>,
    too_many: bool,
}

struct CodeInfo {
    id: i64,
    name: String,
    codable: bool,
    /// This import added the code (rather than updating one the project had).
    made_here: bool,
    /// NVivo writes each case also as a code with the case's GUID: codings with it say which
    /// case a source belongs to.
    case_of: Option<i64>,
}

struct SetInfo {
    seq: i64,
    name: String,
    description: String,
    sources: u64,
    codes: u64,
    notes: u64,
}

/// Who made something and when, as far as the enclosing elements tell.
#[derive(Clone, Default)]
struct Made {
    user: Option<String>,
    at: Option<String>,
}

impl Made {
    fn of(t: &Tag, outer: &Made) -> Made {
        Made {
            user: t
                .opt("creatingUser")
                .or_else(|| t.opt("modifyingUser"))
                .map(str::to_string)
                .or_else(|| outer.user.clone()),
            at: t
                .opt("creationDateTime")
                .or_else(|| t.opt("modifiedDateTime"))
                .map(str::to_string)
                .or_else(|| outer.at.clone()),
        }
    }
}

struct Reader<'s> {
    w: ExchangeWriter<'s>,
    texts: Qdpx,
    file: String,
    meta: Option<Meta>,
    report: Report,
    breaks: LineBreaks,
    origin: String,
    users: HashMap<u128, String>,
    project_user: Option<u128>,
    /// Coder name -> id, for every coder this import made or used.
    coders: HashMap<String, i64>,
    default_coder: Option<i64>,
    codes: HashMap<u128, CodeInfo>,
    code_count: usize,
    vars: Vec<Var>,
    var_by_guid: HashMap<u128, usize>,
    next_seq: i64,
    sets: Vec<SetInfo>,
    make_codable: Vec<i64>,
    drop_codes: Vec<i64>,
    now: String,
}

impl Reader<'_> {
    fn document<R: BufRead>(&mut self, x: &mut XmlIn<R>) -> Result<()> {
        let root = loop {
            match x.next_item()? {
                Item::Start(t) => break t,
                Item::Eof => {
                    return Err(x.error(x.pos(), "no <Project> element: the project XML is empty"));
                }
                _ => {}
            }
        };
        if root.name != "Project" {
            let hint = if root.name == "CodeBook" {
                "; a codebook (.qdc) is imported with lacrima codebook import"
            } else {
                ""
            };
            return Err(x.error(
                root.pos,
                format!(
                    "the root element is <{}>, not <Project>: this is not a REFI-QDA project{hint}",
                    root.name
                ),
            ));
        }
        self.origin = root.opt("origin").unwrap_or("").to_string();
        self.breaks = LineBreaks::of_origin(&self.origin);
        self.project_user = root.opt("creatingUserGUID").and_then(parse_guid);
        if let Some(m) = &self.meta {
            for (name, consensus) in m.coders.clone() {
                let id = self.w.coder(&name, Some(consensus))?;
                self.coders.insert(name, id);
            }
        }
        let level = x.level(&root);
        while let Some(t) = x.next_child(level)? {
            match t.name.as_str() {
                "Users" => self.users(x, &t)?,
                "CodeBook" => self.codebook(x, &t)?,
                "Variables" => self.variables(x, &t)?,
                "Cases" => self.cases(x, &t)?,
                "Sources" => self.sources(x, &t)?,
                "Notes" => self.notes(x, &t)?,
                "Sets" => self.sets(x, &t)?,
                "Links" => self.count_lost(
                    x,
                    &t,
                    "Link",
                    "Links (relations between codes, selections and notes)",
                )?,
                "Graphs" => self.count_lost(x, &t, "Graph", "Graphs (diagrams)")?,
                "Description" => {
                    let d = x.text_of(&t)?;
                    if !d.trim().is_empty() {
                        self.report.lose("project description", None);
                    }
                }
                // A note on the whole project: the note itself is reported as unattached.
                "NoteRef" => x.skip(&t, |_| {})?,
                other => self.unknown(x, &t, other)?,
            }
        }
        Ok(())
    }

    fn unknown<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag, name: &str) -> Result<()> {
        self.report
            .lose(&format!("<{name}> elements unknown to QDA-XML 1.0"), None);
        x.skip(t, |_| {})
    }

    fn count_lost<R: BufRead>(
        &mut self,
        x: &mut XmlIn<R>,
        t: &Tag,
        child: &str,
        what: &str,
    ) -> Result<()> {
        let mut names = Vec::new();
        let mut n = 0;
        x.skip(t, |c| {
            if c.name == child {
                n += 1;
                if let Some(name) = c.opt("name") {
                    names.push(name.to_string());
                }
            }
        })?;
        self.report.lose_n(what, n, None);
        for name in names {
            self.report.lose_n(what, 0, Some(&name));
        }
        Ok(())
    }

    // --- users and coders -------------------------------------------------------------------

    fn users<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        while let Some(u) = x.next_child(level)? {
            if u.name != "User" {
                x.skip(&u, |_| {})?;
                continue;
            }
            let g = required_guid(x, &u, "guid")?;
            let name = u
                .get("name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    let g = u.opt("guid").unwrap_or_default().to_string();
                    self.report.note(format!(
                        "a User without a name became the coder named by its GUID {g}"
                    ));
                    g
                });
            self.users.insert(g, name.clone());
            self.coder_named(&name)?;
            x.skip(&u, |_| {})?;
        }
        Ok(())
    }

    fn coder_named(&mut self, name: &str) -> Result<i64> {
        if let Some(&id) = self.coders.get(name) {
            return Ok(id);
        }
        let id = self.w.coder(name, None)?;
        self.coders.insert(name.to_string(), id);
        Ok(id)
    }

    /// The coder of a `creatingUser` (a user's name; a GUID no user has names its coder), or
    /// the project's coder when the file names nobody.
    fn coder(&mut self, user: Option<&str>) -> Result<i64> {
        if let Some(u) = user {
            let name = match parse_guid(u).and_then(|g| self.users.get(&g)) {
                Some(name) => name.clone(),
                None => {
                    self.report.note(format!(
                        "work by users not listed in <Users> was given to coders named by their \
                         GUID (e.g. {u})"
                    ));
                    u.to_string()
                }
            };
            return self.coder_named(&name);
        }
        if let Some(id) = self.default_coder {
            return Ok(id);
        }
        // Nobody named: the only user, else the project's creator, else "imported".
        let name = if self.users.len() == 1 {
            self.users.values().next().cloned()
        } else {
            self.project_user.and_then(|g| self.users.get(&g).cloned())
        };
        let name = match name {
            Some(n) => n,
            None => {
                self.report.note(format!(
                    "codings and notes that name no user were given to the coder \
                     \"{UNKNOWN_CODER}\""
                ));
                UNKNOWN_CODER.to_string()
            }
        };
        let id = self.coder_named(&name)?;
        self.default_coder = Some(id);
        Ok(id)
    }

    fn time(&self, made: &Made) -> String {
        made.at.clone().unwrap_or_else(|| self.now.clone())
    }

    // --- codebook ---------------------------------------------------------------------------

    fn codebook<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let mut codes: Vec<CodeEl> = Vec::new();
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            if c.name == "Codes" {
                read_codes(x, &c, &mut codes)?;
            } else {
                x.skip(&c, |_| {})?;
            }
        }
        self.apply_codes(codes)
    }

    fn apply_codes(&mut self, mut codes: Vec<CodeEl>) -> Result<()> {
        let mut seen = HashMap::new();
        for c in &codes {
            if let Some(first) = seen.insert(c.key, c.at.clone()) {
                return Err(Error::input(format!(
                    "{}: the code GUID {} is used twice (first at {first}); GUIDs identify \
                     codes and must be unique; nothing was imported",
                    c.at, c.guid
                )));
            }
        }
        // Other tools allow one name under two parents ("Other" here and there); lacrima's
        // names are unique, so a repeated name gets its parent's name, or a number.
        let mut names: HashSet<String> = HashSet::new();
        let mut renamed = Vec::new();
        for code in codes.iter_mut() {
            let name = code.name.clone();
            if names.insert(name.to_lowercase()) {
                continue;
            }
            let parent = code.parent.clone();
            let mut candidate = match &parent {
                Some(p) => format!("{name} ({p})"),
                None => format!("{name} (2)"),
            };
            let mut n = 2;
            while names.contains(&candidate.to_lowercase()) {
                n += 1;
                candidate = format!("{name} ({n})");
            }
            names.insert(candidate.to_lowercase());
            renamed.push(format!("{name} -> {candidate}"));
            code.name = candidate;
        }
        // Parents by index, so that a renamed parent is its children's parent still.
        let names: Vec<String> = codes.iter().map(|c| c.name.clone()).collect();
        for c in codes.iter_mut() {
            c.parent = c.parent_index.map(|p| names[p].clone());
        }
        if !renamed.is_empty() {
            self.report.note(format!(
                "{} codes share a name with another code; lacrima's code names are unique, so \
                 they were renamed: {}",
                renamed.len(),
                renamed.join(", ")
            ));
        }
        let mut entries: Vec<CodebookEntry> = Vec::with_capacity(codes.len());
        for c in &codes {
            let mut e = CodebookEntry {
                line: 0,
                at: Some(c.at.clone()),
                guid: Some(c.guid.clone()),
                name: c.name.clone(),
                parent: Some(c.parent.clone().unwrap_or_default()),
                color: Some(c.color.clone().unwrap_or_default()),
                codable: Some(c.codable.unwrap_or(true)),
                ..CodebookEntry::default()
            };
            let from_meta = self.meta.as_ref().and_then(|m| m.codes.get(&c.key));
            match from_meta {
                Some(m) => {
                    e.description = Some(m.description.clone().unwrap_or_default());
                    e.inclusion = Some(m.inclusion.clone().unwrap_or_default());
                    e.exclusion = Some(m.exclusion.clone().unwrap_or_default());
                    e.example = Some(m.example.clone().unwrap_or_default());
                    e.shortcut = Some(m.shortcut.clone().unwrap_or_default());
                }
                None => {
                    let f = split_description(c.description.as_deref().unwrap_or(""));
                    e.description = Some(f.definition);
                    e.inclusion = Some(f.inclusion);
                    e.exclusion = Some(f.exclusion);
                    e.example = Some(f.example);
                }
            }
            entries.push(e);
        }
        let floor = self.w.max_code_id()?;
        let ids = self.w.codebook(&entries, &self.file)?;
        for (c, id) in codes.iter().zip(&ids) {
            self.codes.insert(
                c.key,
                CodeInfo {
                    id: *id,
                    name: c.name.clone(),
                    codable: c.codable.unwrap_or(true),
                    made_here: *id > floor,
                    case_of: None,
                },
            );
            for (note, at) in &c.notes {
                self.w.note_ref(NoteTarget::Code(*id), *note, at)?;
            }
        }
        self.code_count = codes.len();
        Ok(())
    }

    // --- variables and cases ----------------------------------------------------------------

    fn variables<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        while let Some(v) = x.next_child(level)? {
            if v.name != "Variable" {
                x.skip(&v, |_| {})?;
                continue;
            }
            let g = required_guid(x, &v, "guid")?;
            let name = required(x, &v, "name")?.to_string();
            let typ = match required(x, &v, "typeOfVariable")? {
                "Text" => VarType::Text,
                "Boolean" => VarType::Boolean,
                "Integer" => VarType::Integer,
                "Float" => VarType::Float,
                "Date" => VarType::Date,
                "DateTime" => VarType::DateTime,
                other => {
                    return Err(x.error(
                        v.pos,
                        format!(
                            "{}: typeOfVariable {other:?} is none of Text, Boolean, Integer, \
                             Float, Date, DateTime",
                            v.describe()
                        ),
                    ));
                }
            };
            let mut label = None;
            let inner = x.level(&v);
            while let Some(c) = x.next_child(inner)? {
                if c.name == "Description" {
                    label = Some(x.text_of(&c)?).filter(|d| !d.trim().is_empty());
                } else {
                    x.skip(&c, |_| {})?;
                }
            }
            if self.var_by_guid.contains_key(&g) {
                return Err(x.error(
                    v.pos,
                    format!("{}: the variable GUID is used twice", v.describe()),
                ));
            }
            let from_meta = self.meta.as_ref().and_then(|m| m.variable(&name)).cloned();
            let (kind, levels, label) = match &from_meta {
                Some(m) => (
                    m.kind.as_deref().and_then(VariableKind::parse),
                    m.levels.clone().unwrap_or_default(),
                    m.label.clone().or(label),
                ),
                None => (None, Vec::new(), label),
            };
            let kind = kind.or(match typ {
                VarType::Integer | VarType::Float => Some(VariableKind::Numeric),
                VarType::Date | VarType::DateTime => Some(VariableKind::Date),
                VarType::Text | VarType::Boolean => None,
            });
            let idx = self.w.variable(
                &name,
                label.as_deref(),
                kind.unwrap_or(VariableKind::Text),
                &levels,
            )?;
            self.var_by_guid.insert(g, self.vars.len());
            self.vars.push(Var {
                name,
                typ,
                idx,
                kind,
                distinct: BTreeSet::new(),
                too_many: false,
            });
        }
        Ok(())
    }

    /// A `VariableValue`: which variable, and its value as lacrima stores it.
    fn variable_value<R: BufRead>(
        &mut self,
        x: &mut XmlIn<R>,
        t: &Tag,
    ) -> Result<Option<(usize, Value)>> {
        let mut var = None;
        let mut raw: Option<(String, String)> = None;
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "VariableRef" => {
                    let g = x.target(&c)?;
                    var = Some(*self.var_by_guid.get(&g).ok_or_else(|| {
                        x.error(
                            c.pos,
                            format!("{} refers to no <Variable> of <Variables>", c.describe()),
                        )
                    })?);
                    x.skip(&c, |_| {})?;
                }
                "TextValue" | "BooleanValue" | "IntegerValue" | "FloatValue" | "DateValue"
                | "DateTimeValue" => {
                    let text = x.text_of(&c)?;
                    raw = Some((c.name.clone(), text));
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        let Some(var) = var else {
            return Err(x.error(
                t.pos,
                "a <VariableValue> without its <VariableRef>, which is required",
            ));
        };
        let Some((element, text)) = raw else {
            return Ok(Some((var, Value::Null)));
        };
        let v = &mut self.vars[var];
        if text.trim().is_empty() {
            return Ok(Some((var, Value::Null)));
        }
        let numeric = v.kind == Some(VariableKind::Numeric);
        let value = if numeric {
            // A FloatValue is a real even when it is written "7" (lacrima writes 7.0 so).
            let n = if element == "FloatValue" {
                text.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Value::Real)
            } else {
                number(text.trim())
            };
            n.ok_or_else(|| {
                x.error(
                    t.pos,
                    format!(
                        "the value {text:?} of variable {:?} ({element}) is not a number",
                        v.name
                    ),
                )
            })?
        } else if v.typ == VarType::Boolean && v.kind.is_none() {
            Value::Text(match text.trim() {
                "1" | "true" => "true".to_string(),
                "0" | "false" => "false".to_string(),
                other => other.to_string(),
            })
        } else {
            Value::Text(text)
        };
        if v.kind.is_none()
            && !v.too_many
            && let Value::Text(s) = &value
        {
            v.distinct.insert(s.clone());
            if v.distinct.len() > MAX_CATEGORICAL_LEVELS {
                v.too_many = true;
                v.distinct.clear();
            }
        }
        Ok(Some((v.idx, value)))
    }

    fn cases<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let mut taken_names = 0;
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            if c.name != "Case" {
                x.skip(&c, |_| {})?;
                continue;
            }
            let key = required_guid(x, &c, "guid")?;
            let name = c.opt("name").map(str::to_string);
            let mut values = vec![Value::Null; self.w.variable_count()];
            let mut sources = Vec::new();
            let inner = x.level(&c);
            while let Some(e) = x.next_child(inner)? {
                match e.name.as_str() {
                    "VariableValue" => {
                        if let Some((i, v)) = self.variable_value(x, &e)? {
                            values[i] = v;
                        }
                    }
                    "SourceRef" => {
                        sources.push(x.target(&e)?);
                        x.skip(&e, |_| {})?;
                    }
                    "Description" => {
                        if !x.text_of(&e)?.trim().is_empty() {
                            self.report
                                .lose("descriptions of cases", name.as_deref().or(c.opt("guid")));
                        }
                    }
                    "CodeRef" => {
                        self.report.lose(
                            "codes applied to whole cases (CodeRef in a Case)",
                            name.as_deref(),
                        );
                        x.skip(&e, |_| {})?;
                    }
                    "SelectionRef" => {
                        self.report.lose(
                            "selections listed in cases (SelectionRef in a Case)",
                            name.as_deref(),
                        );
                        x.skip(&e, |_| {})?;
                    }
                    _ => x.skip(&e, |_| {})?,
                }
            }
            let base = name
                .clone()
                .unwrap_or_else(|| c.opt("guid").unwrap_or_default().to_string());
            let mut n = 1;
            let rid = loop {
                let ext = if n == 1 {
                    base.clone()
                } else {
                    format!("{base} ({n})")
                };
                if let Some(rid) = self.w.respondent(&ext, &values)? {
                    break rid;
                }
                n += 1;
            };
            if n > 1 {
                taken_names += 1;
            }
            if name.is_none() {
                self.w.nameless(rid, sources.len())?;
            }
            for s in sources {
                if !self.w.case_source(s, rid)? {
                    self.report.lose(
                        "sources listed in a second case (an answer has one respondent: the \
                         first case's)",
                        name.as_deref(),
                    );
                }
            }
            if let Some(code) = self.codes.get_mut(&key) {
                // NVivo: the case is also a code (a case node) with the case's GUID.
                code.case_of = Some(rid);
                if code.made_here {
                    self.drop_codes.push(code.id);
                }
                self.report.note(format!(
                    "codes with a case's GUID (NVivo's case nodes, e.g. {:?}) say which case \
                     a source belongs to; they were not kept as codes",
                    code.name
                ));
            }
        }
        if taken_names > 0 {
            self.report.note(format!(
                "{taken_names} cases have a name another case has: \" (2)\", ... was added"
            ));
        }
        Ok(())
    }

    // --- sources ----------------------------------------------------------------------------

    fn sources<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        while let Some(s) = x.next_child(level)? {
            match s.name.as_str() {
                "TextSource" => self.text_source(x, &s)?,
                kind @ ("PictureSource" | "PDFSource" | "AudioSource" | "VideoSource") => {
                    let g = required_guid(x, &s, "guid")?;
                    self.w.other_source(g)?;
                    let what = match kind {
                        "PictureSource" => "PictureSource (pictures)",
                        "PDFSource" => "PDFSource (PDF documents)",
                        "AudioSource" => "AudioSource (audio)",
                        _ => "VideoSource (video)",
                    };
                    self.report
                        .lose(what, s.opt("name").or(s.opt("path")).or(s.opt("guid")));
                    let (mut selections, mut codings) = (0, 0);
                    x.skip(&s, |c| {
                        if c.name.ends_with("Selection") {
                            selections += 1;
                        } else if c.name == "Coding" {
                            codings += 1;
                        }
                    })?;
                    self.report.lose_n(
                        "selections in pictures, PDFs, audio and video",
                        selections,
                        None,
                    );
                    self.report
                        .lose_n("codings in pictures, PDFs, audio and video", codings, None);
                }
                other => self.unknown(x, &s, other)?,
            }
        }
        Ok(())
    }

    /// The text a `plainTextPath` points at, inside the archive.
    fn read_text(&mut self, path: &str, t: &Tag, x: &XmlIn<impl BufRead>) -> Result<String> {
        let outside = |why: &str| {
            x.error(
                t.pos,
                format!(
                    "{}: its text is outside the .qdpx ({path}{why}); lacrima reads only texts \
                     inside the file: export the project with its sources included",
                    t.describe()
                ),
            )
        };
        let lower = path.to_lowercase();
        let rel = if let Some(r) = path.strip_prefix("internal://") {
            r
        } else if let Some(r) = path.strip_prefix("relative://") {
            r
        } else if lower.starts_with("absolute://") || lower.starts_with("file:") {
            return Err(outside(""));
        } else {
            path
        };
        let rel = rel.trim_start_matches('/');
        if rel.is_empty() || rel.starts_with('\\') || rel.as_bytes().get(1) == Some(&b':') {
            return Err(outside(""));
        }
        let candidates = [
            format!("sources/{rel}"),
            format!("Sources/{rel}"),
            rel.to_string(),
        ];
        let Some(entry) = candidates.iter().find(|c| self.texts.has_entry(c)) else {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: its text {path} is not in the archive (looked for sources/{rel} and \
                     Sources/{rel})",
                    t.describe()
                ),
            ));
        };
        let bytes = self.texts.read_entry(entry)?;
        decode(&bytes, &format!("{}: {entry}", self.file))
    }

    fn text_source<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let key = required_guid(x, t, "guid")?;
        let name = t.get("name").unwrap_or("").trim().to_string();
        let seq = self.next_seq;
        self.next_seq += 1;
        let made = Made::of(t, &Made::default());
        let mut text = match t.opt("plainTextPath") {
            Some(p) => Some(StoredText::new(&self.read_text(p, t, x)?, self.breaks)),
            None => None,
        };
        let src = Src {
            seq,
            key,
            name: name.clone(),
        };
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "PlainTextContent" => {
                    let content = x.text_of(&c)?;
                    if text.is_none() {
                        text = Some(StoredText::new(&content, self.breaks));
                    }
                }
                "PlainTextSelection" => {
                    let body = text.get_or_insert_with(|| StoredText::new("", self.breaks));
                    // The borrow checker wants the text apart from self for the call.
                    let body = std::mem::replace(body, StoredText::new("", self.breaks));
                    let r = self.selection(x, &c, &src, &body, &made);
                    text = Some(body);
                    r?;
                }
                "Coding" => {
                    self.coding(x, &c, &src, None, &made, "")?;
                }
                "NoteRef" => {
                    let g = x.target(&c)?;
                    self.w.note_ref(NoteTarget::Source(seq), g, &x.at(c.pos))?;
                    x.skip(&c, |_| {})?;
                }
                "VariableValue" => {
                    if let Some((i, v)) = self.variable_value(x, &c)? {
                        self.w.source_value(seq, i, &v)?;
                    }
                }
                "Description" => {
                    // QualCoder and MAXQDA keep a document's memo here: it becomes the memo of
                    // the source's creator on the answer.
                    let d = x.text_of(&c)?;
                    if !d.trim().is_empty() {
                        let coder = self.coder(made.user.as_deref())?;
                        let note = uuid::Uuid::new_v4().as_u128();
                        let at = self.time(&made);
                        self.w.note(
                            note,
                            "",
                            &crate::model::empty::normalize_newlines(&d),
                            coder,
                            &at,
                        )?;
                        self.w
                            .note_ref(NoteTarget::Source(seq), note, &x.at(c.pos))?;
                    }
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        let text = text.map(|t| t.text).unwrap_or_default();
        if !self.w.source(seq, key, &name, &text)? {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: the source GUID is used twice; GUIDs identify sources and must be unique",
                    t.describe()
                ),
            ));
        }
        Ok(())
    }

    fn selection<R: BufRead>(
        &mut self,
        x: &mut XmlIn<R>,
        t: &Tag,
        src: &Src,
        text: &StoredText,
        outer: &Made,
    ) -> Result<()> {
        required_guid(x, t, "guid")?;
        let start = position(x, t, "startPosition")?;
        let end = position(x, t, "endPosition")?;
        let source = if src.name.is_empty() {
            "the source".to_string()
        } else {
            format!("source {:?}", src.name)
        };
        if start > end {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: startPosition {start} is after endPosition {end}",
                    t.describe()
                ),
            ));
        }
        if end > text.counted_chars {
            return Err(x.error(
                t.pos,
                format!(
                    "{}: endPosition {end} is past the end of the text of {source}, which has \
                     {} characters (Unicode code points)",
                    t.describe(),
                    text.counted_chars
                ),
            ));
        }
        let (s, e) = (text.map(start), text.map(end));
        let span = if s == 0 && e == text.chars {
            // A selection of the whole text codes the whole answer.
            Some(None)
        } else if s == e {
            None
        } else {
            Some(Some((s, e)))
        };
        let made = Made::of(t, outer);
        let mut memo = String::new();
        let mut codings = Vec::new();
        let mut notes = Vec::new();
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "Description" => {
                    memo = crate::model::empty::normalize_newlines(&x.text_of(&c)?).into()
                }
                "Coding" => match span {
                    Some(span) => {
                        if let Some(row) = self.coding(x, &c, src, span, &made, &memo)? {
                            codings.push(row);
                        }
                    }
                    None => {
                        self.report.lose(
                            "codings of empty selections (startPosition = endPosition)",
                            t.opt("name"),
                        );
                        x.skip(&c, |_| {})?;
                    }
                },
                "NoteRef" => {
                    notes.push((x.target(&c)?, x.at(c.pos)));
                    x.skip(&c, |_| {})?;
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        if codings.is_empty() && span.is_some() {
            self.report.lose(
                "PlainTextSelections without a code (quotations, comments)",
                t.opt("name").filter(|n| !n.is_empty()).or(Some(&src.name)),
            );
            if !memo.trim().is_empty() {
                self.report
                    .lose("comments on selections without a code", Some(&memo));
            }
        }
        for (note, at) in notes {
            for &row in &codings {
                self.w.note_ref(NoteTarget::Coding(row), note, &at)?;
            }
        }
        Ok(())
    }

    /// A `Coding` whose start was just read; its staged row, if it became a coding.
    fn coding<R: BufRead>(
        &mut self,
        x: &mut XmlIn<R>,
        t: &Tag,
        src: &Src,
        span: Option<(u64, u64)>,
        outer: &Made,
        memo: &str,
    ) -> Result<Option<i64>> {
        required_guid(x, t, "guid")?;
        let made = Made::of(t, outer);
        let mut code = None;
        let mut notes = Vec::new();
        let level = x.level(t);
        while let Some(c) = x.next_child(level)? {
            match c.name.as_str() {
                "CodeRef" => {
                    let g = x.target(&c)?;
                    if !self.codes.contains_key(&g) {
                        return Err(x.error(
                            c.pos,
                            format!(
                                "{} refers to no <Code> in the <CodeBook>; nothing was imported",
                                c.describe()
                            ),
                        ));
                    }
                    code = Some(g);
                    x.skip(&c, |_| {})?;
                }
                "NoteRef" => {
                    notes.push((x.target(&c)?, x.at(c.pos)));
                    x.skip(&c, |_| {})?;
                }
                _ => x.skip(&c, |_| {})?,
            }
        }
        let Some(code) = code else {
            return Err(x.error(
                t.pos,
                format!("{} has no <CodeRef>, which is required", t.describe()),
            ));
        };
        let info = &self.codes[&code];
        if let Some(rid) = info.case_of {
            self.w.case_source(src.key, rid)?;
            return Ok(None);
        }
        let (code_id, codable, code_name) = (info.id, info.codable, info.name.clone());
        if !codable && !self.make_codable.contains(&code_id) {
            self.make_codable.push(code_id);
            self.report.note(format!(
                "the code {code_name:?} is marked not codable (isCodable=\"false\") but has \
                 codings: it was made codable so they are kept"
            ));
        }
        let coder = self.coder(made.user.as_deref())?;
        let at = self.time(&made);
        let row = self.w.coding(src.seq, code_id, coder, span, &at, memo)?;
        for (note, at) in notes {
            self.w.note_ref(NoteTarget::Coding(row), note, &at)?;
        }
        Ok(Some(row))
    }

    // --- notes and sets ---------------------------------------------------------------------

    fn notes<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        while let Some(n) = x.next_child(level)? {
            if n.name != "Note" {
                x.skip(&n, |_| {})?;
                continue;
            }
            let key = required_guid(x, &n, "guid")?;
            let made = Made::of(&n, &Made::default());
            let name = n.get("name").unwrap_or("").trim().to_string();
            let mut text = match n.opt("plainTextPath") {
                Some(p) => Some(self.read_text(p, &n, x)?),
                None => None,
            };
            let mut inner_codings = 0;
            let level = x.level(&n);
            while let Some(c) = x.next_child(level)? {
                match c.name.as_str() {
                    "PlainTextContent" => {
                        let content = x.text_of(&c)?;
                        if text.is_none() {
                            text = Some(content);
                        }
                    }
                    "PlainTextSelection" | "Coding" => {
                        inner_codings += 1;
                        x.skip(&c, |_| {})?;
                    }
                    _ => x.skip(&c, |_| {})?,
                }
            }
            self.report.lose_n(
                "selections and codings inside notes",
                inner_codings,
                Some(&name),
            );
            let text =
                crate::model::empty::normalize_newlines(&text.unwrap_or_default()).into_owned();
            let coder = self.coder(made.user.as_deref())?;
            let at = self.time(&made);
            if !self.w.note(key, &name, &text, coder, &at)? {
                return Err(x.error(
                    n.pos,
                    format!("{}: the note GUID is used twice", n.describe()),
                ));
            }
        }
        Ok(())
    }

    fn sets<R: BufRead>(&mut self, x: &mut XmlIn<R>, t: &Tag) -> Result<()> {
        let level = x.level(t);
        let mut seq = 0;
        while let Some(s) = x.next_child(level)? {
            if s.name != "Set" {
                x.skip(&s, |_| {})?;
                continue;
            }
            required_guid(x, &s, "guid")?;
            let name = required(x, &s, "name")?.to_string();
            seq += 1;
            let mut info = SetInfo {
                seq,
                name,
                description: String::new(),
                sources: 0,
                codes: 0,
                notes: 0,
            };
            let inner = x.level(&s);
            while let Some(c) = x.next_child(inner)? {
                match c.name.as_str() {
                    "Description" => info.description = x.text_of(&c)?,
                    "MemberSource" => {
                        let g = x.target(&c)?;
                        self.w.member(seq, g)?;
                        info.sources += 1;
                        x.skip(&c, |_| {})?;
                    }
                    "MemberCode" => {
                        info.codes += 1;
                        x.skip(&c, |_| {})?;
                    }
                    "MemberNote" => {
                        info.notes += 1;
                        x.skip(&c, |_| {})?;
                    }
                    _ => x.skip(&c, |_| {})?,
                }
            }
            self.sets.push(info);
        }
        Ok(())
    }

    // --- the plan ---------------------------------------------------------------------------

    fn plan(&mut self) -> Result<Finish> {
        let mut questions: Vec<(String, Option<String>)> = Vec::new();
        if let Some(m) = &self.meta {
            for q in &m.questions {
                questions.push((q.name.clone(), q.label.clone()));
            }
        }
        let mut question = |name: &str, label: &str| -> usize {
            match questions.iter().position(|(n, _)| n == name) {
                Some(i) => {
                    if questions[i].1.is_none() && !label.trim().is_empty() {
                        questions[i].1 = Some(label.to_string());
                    }
                    i
                }
                None => {
                    let label = (!label.trim().is_empty()).then(|| label.to_string());
                    questions.push((name.to_string(), label));
                    questions.len() - 1
                }
            }
        };
        let mut sets = Vec::new();
        let sets_info = std::mem::take(&mut self.sets);
        for s in &sets_info {
            if s.codes > 0 || s.notes > 0 {
                self.report.lose_n(
                    "Sets of codes or notes (code groups, memo groups)",
                    1,
                    Some(&s.name),
                );
            }
            if s.sources == 0 {
                continue;
            }
            if let Some(coder) = s.name.strip_prefix("reviewed by ") {
                let id = self.coder_named(coder.trim())?;
                sets.push((s.seq, SetRole::Review(id)));
            } else if let Some(q) = s.name.strip_prefix("question: ") {
                sets.push((s.seq, SetRole::Question(question(q.trim(), &s.description))));
            } else if let (None, Some((var, value))) = (&self.meta, variable_set(&s.name)) {
                // ATLAS.ti users name document groups "gender: male", "gender: female": a
                // variable and its value rather than a question.
                let idx = match self.vars.iter().position(|v| v.name == var) {
                    Some(i) => i,
                    None => {
                        let idx = self
                            .w
                            .variable(&var, None, VariableKind::Categorical, &[])?;
                        self.vars.push(Var {
                            name: var.clone(),
                            typ: VarType::Text,
                            idx,
                            kind: None,
                            distinct: BTreeSet::new(),
                            too_many: false,
                        });
                        self.vars.len() - 1
                    }
                };
                let v = &mut self.vars[idx];
                if v.kind.is_none() && !v.too_many {
                    v.distinct.insert(value.clone());
                    v.too_many = v.distinct.len() > MAX_CATEGORICAL_LEVELS;
                }
                self.report.note(format!(
                    "the set {:?} was read as the value {value:?} of the variable {var:?} of its \
                     sources' respondents",
                    s.name
                ));
                sets.push((s.seq, SetRole::Variable(v.idx, value)));
            } else {
                sets.push((s.seq, SetRole::Question(question(&s.name, &s.description))));
            }
        }
        let mut kinds = Vec::new();
        for v in &self.vars {
            if v.kind.is_some() {
                continue;
            }
            if v.too_many {
                kinds.push((v.idx, VariableKind::Text, Vec::new()));
            } else {
                let mut levels: Vec<String> = v.distinct.iter().cloned().collect();
                levels.sort_by(|a, b| natural_cmp(a, b));
                kinds.push((v.idx, VariableKind::Categorical, levels));
            }
        }
        let mut meta = Vec::new();
        if let Some(m) = &self.meta {
            if let Some(g) = &m.project_guid {
                meta.push(("guid".to_string(), g.clone()));
            }
            if let Some(c) = &m.id_column {
                meta.push(("id_column".to_string(), c.clone()));
            }
        }
        Ok(Finish {
            questions,
            default_question: DEFAULT_QUESTION.to_string(),
            sets,
            kinds,
            drop_codes: std::mem::take(&mut self.drop_codes),
            make_codable: std::mem::take(&mut self.make_codable),
            meta,
        })
    }
}

struct Src {
    seq: i64,
    key: u128,
    name: String,
}

/// "gender: male" or "gender::male" -> ("gender", "male").
fn variable_set(name: &str) -> Option<(String, String)> {
    let (var, value) = name.split_once("::").or_else(|| name.split_once(": "))?;
    let (var, value) = (var.trim(), value.trim());
    (!var.is_empty() && !value.is_empty()).then(|| (var.to_string(), value.to_string()))
}

fn required<'t, R: BufRead>(x: &XmlIn<R>, t: &'t Tag, key: &str) -> Result<&'t str> {
    t.opt(key).ok_or_else(|| {
        x.error(
            t.pos,
            format!("{} has no {key}, which is required", t.describe()),
        )
    })
}

fn required_guid<R: BufRead>(x: &XmlIn<R>, t: &Tag, key: &str) -> Result<u128> {
    let g = required(x, t, key)?;
    parse_guid(g).ok_or_else(|| {
        x.error(
            t.pos,
            format!("{}: {key} {g:?} is not a GUID", t.describe()),
        )
    })
}

fn position<R: BufRead>(x: &XmlIn<R>, t: &Tag, key: &str) -> Result<u64> {
    let v = required(x, t, key)?;
    v.parse::<u64>().map_err(|_| {
        x.error(
            t.pos,
            format!(
                "{}: {key} {v:?} is not a position (a whole number from 0)",
                t.describe()
            ),
        )
    })
}

/// A number as lacrima stores it: an integer literal as an integer, anything else as a real.
fn number(s: &str) -> Option<Value> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(Value::Integer(i));
    }
    s.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::Real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlas_ti_document_groups_read_as_variables() {
        assert_eq!(
            variable_set("gender: male"),
            Some(("gender".into(), "male".into()))
        );
        assert_eq!(
            variable_set("Age::30-39"),
            Some(("Age".into(), "30-39".into()))
        );
        assert_eq!(variable_set("ICLS 2024"), None);
        assert_eq!(variable_set("time:10"), None);
    }

    #[test]
    fn numbers_keep_integers_integer() {
        assert_eq!(number("42"), Some(Value::Integer(42)));
        assert_eq!(number("-3.5"), Some(Value::Real(-3.5)));
        assert_eq!(number("1e3"), Some(Value::Real(1000.0)));
        assert_eq!(number("NaN"), None);
        assert_eq!(number("x"), None);
    }
}
