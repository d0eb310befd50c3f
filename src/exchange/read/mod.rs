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

mod catalogue;
mod sources;

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
