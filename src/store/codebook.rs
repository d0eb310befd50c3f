//! The codebook: a tree of codes, updated by name from files and read back in codebook order.

use super::Store;
use crate::error::{Error, Result};
use crate::model::codebook::CodebookEntry;
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::HashMap;

/// A code as stored, in codebook order (depth-first, siblings by position).
#[derive(Debug, Clone, Serialize)]
pub struct CodeRecord {
    #[serde(skip)]
    pub id: i64,
    pub guid: String,
    pub name: String,
    pub parent: Option<String>,
    #[serde(skip)]
    pub parent_id: Option<i64>,
    /// Depth in the tree (0 for a top-level code).
    pub level: usize,
    pub description: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: Option<String>,
    pub shortcut: Option<String>,
    pub codable: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct CodebookUpdate {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Store {
    /// Every code in codebook order.
    pub fn codes(&self) -> Result<Vec<CodeRecord>> {
        codes_in(self.conn())
    }

    /// Adds and updates codes by name (never deletes), checking parents, cycles and shortcuts over
    /// the codebook as it will be. All or nothing.
    pub fn apply_codebook(
        &mut self,
        entries: &[CodebookEntry],
        file: &str,
    ) -> Result<CodebookUpdate> {
        let tx = self.conn.transaction()?;
        let update = apply(&tx, entries, file)?;
        super::log_event(
            &tx,
            None,
            "import_codebook",
            None,
            Some(
                &serde_json::json!({"file": file, "added": update.added, "updated": update.updated}),
            ),
        )?;
        tx.commit()?;
        Ok(update)
    }
}

pub(crate) fn codes_in(conn: &Connection) -> Result<Vec<CodeRecord>> {
    let mut st = conn.prepare(
        "SELECT id, guid, name, parent_id, description, inclusion, exclusion, example, color,
                shortcut, codable, position
         FROM codes ORDER BY position, id",
    )?;
    let flat: Vec<(CodeRecord, i64)> = st
        .query_map([], |r| {
            Ok((
                CodeRecord {
                    id: r.get(0)?,
                    guid: r.get(1)?,
                    name: r.get(2)?,
                    parent: None,
                    parent_id: r.get(3)?,
                    level: 0,
                    description: r.get(4)?,
                    inclusion: r.get(5)?,
                    exclusion: r.get(6)?,
                    example: r.get(7)?,
                    color: r.get(8)?,
                    shortcut: r.get(9)?,
                    codable: r.get::<_, i64>(10)? != 0,
                },
                r.get(11)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let names: HashMap<i64, String> = flat.iter().map(|(c, _)| (c.id, c.name.clone())).collect();
    let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    for (i, (c, _)) in flat.iter().enumerate() {
        // A parent that does not exist (impossible with foreign keys) is treated as the root.
        let key = c.parent_id.filter(|p| names.contains_key(p));
        children.entry(key).or_default().push(i);
    }
    let mut out = Vec::with_capacity(flat.len());
    let mut stack: Vec<(usize, usize)> = children
        .get(&None)
        .map(|v| v.iter().rev().map(|&i| (i, 0)).collect())
        .unwrap_or_default();
    let mut seen = vec![false; flat.len()];
    while let Some((i, level)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let mut c = flat[i].0.clone();
        c.level = level;
        c.parent = c.parent_id.and_then(|p| names.get(&p).cloned());
        let id = c.id;
        out.push(c);
        if let Some(kids) = children.get(&Some(id)) {
            stack.extend(kids.iter().rev().map(|&k| (k, level + 1)));
        }
    }
    Ok(out)
}

/// The state of one code while an update is checked.
#[derive(Clone)]
struct Draft {
    id: Option<i64>,
    name: String,
    parent: Option<String>,
    description: String,
    inclusion: String,
    exclusion: String,
    example: String,
    color: Option<String>,
    shortcut: Option<String>,
    codable: bool,
    /// The code's GUID (new codes: the file's, or a new one).
    guid: String,
    /// The stored name, when the file renames the code (matched by GUID).
    renamed_from: Option<String>,
    /// Where the file defines it (`file:line`), if it does.
    line: Option<String>,
}

fn apply(conn: &Connection, entries: &[CodebookEntry], file: &str) -> Result<CodebookUpdate> {
    Ok(apply_in(conn, entries, file)?.0)
}

/// Applies the entries inside the caller's transaction; returns the counts and each entry's code
/// id, in entry order.
pub(crate) fn apply_in(
    conn: &Connection,
    entries: &[CodebookEntry],
    file: &str,
) -> Result<(CodebookUpdate, Vec<i64>)> {
    let existing = codes_in(conn)?;
    let mut drafts: Vec<Draft> = existing
        .iter()
        .map(|c| Draft {
            id: Some(c.id),
            name: c.name.clone(),
            parent: c.parent.clone(),
            description: c.description.clone(),
            inclusion: c.inclusion.clone(),
            exclusion: c.exclusion.clone(),
            example: c.example.clone(),
            color: c.color.clone(),
            shortcut: c.shortcut.clone(),
            codable: c.codable,
            guid: c.guid.clone(),
            renamed_from: None,
            line: None,
        })
        .collect();
    let canonical = |g: &str| crate::exchange::xmlin::parse_guid(g);
    let mut by_guid: HashMap<u128, usize> = drafts
        .iter()
        .enumerate()
        .filter_map(|(i, d)| canonical(&d.guid).map(|g| (g, i)))
        .collect();
    let key = |s: &str| s.to_lowercase();
    let mut index: HashMap<String, usize> = drafts
        .iter()
        .enumerate()
        .map(|(i, d)| (key(&d.name), i))
        .collect();
    let parents_in_file: std::collections::HashSet<String> = entries
        .iter()
        .filter_map(|e| e.parent.as_deref())
        .filter(|p| !p.is_empty())
        .map(key)
        .collect();
    let mut update = CodebookUpdate::default();
    let mut ids_of_entries: Vec<usize> = Vec::with_capacity(entries.len());
    let at = |e: &CodebookEntry| e.at.clone().unwrap_or_else(|| format!("{file}:{}", e.line));
    for e in entries {
        let found_by_guid = e
            .guid
            .as_deref()
            .and_then(canonical)
            .and_then(|g| by_guid.get(&g).copied());
        if let Some(i) = found_by_guid
            && drafts[i].name != e.name
        {
            // The file renames the code: its name must not be another code's.
            if let Some(&other) = index.get(&key(&e.name))
                && other != i
            {
                return Err(Error::input(format!(
                    "{}: code {:?} (GUID {}) would take the name of another code {:?}; rename \
                     one of them",
                    at(e),
                    drafts[i].name,
                    e.guid.as_deref().unwrap_or(""),
                    drafts[other].name
                )));
            }
            index.remove(&key(&drafts[i].name));
            index.insert(key(&e.name), i);
            let d = &mut drafts[i];
            if d.id.is_some() && d.renamed_from.is_none() {
                d.renamed_from = Some(d.name.clone());
            }
            d.name = e.name.clone();
        }
        let i = match found_by_guid.or_else(|| index.get(&key(&e.name)).copied()) {
            Some(i) => i,
            None => {
                drafts.push(Draft {
                    id: None,
                    name: e.name.clone(),
                    parent: None,
                    description: String::new(),
                    inclusion: String::new(),
                    exclusion: String::new(),
                    example: String::new(),
                    color: None,
                    shortcut: None,
                    // A new code that the file makes a parent only groups others, unless told.
                    codable: e
                        .codable
                        .unwrap_or(!parents_in_file.contains(&key(&e.name))),
                    guid: e
                        .guid
                        .as_deref()
                        .map(|g| g.trim().to_string())
                        .filter(|g| canonical(g).is_some())
                        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                    renamed_from: None,
                    line: None,
                });
                let i = drafts.len() - 1;
                index.insert(key(&e.name), i);
                if let Some(g) = canonical(&drafts[i].guid) {
                    by_guid.insert(g, i);
                }
                i
            }
        };
        ids_of_entries.push(i);
        let before = (
            drafts[i].renamed_from.clone(),
            drafts[i].parent.clone(),
            drafts[i].description.clone(),
            drafts[i].inclusion.clone(),
            drafts[i].exclusion.clone(),
            drafts[i].example.clone(),
            drafts[i].color.clone(),
            drafts[i].shortcut.clone(),
            drafts[i].codable,
        );
        let d = &mut drafts[i];
        d.line = Some(at(e));
        if let Some(p) = &e.parent {
            d.parent = (!p.is_empty()).then(|| p.clone());
        }
        let set = |field: &mut String, v: &Option<String>| {
            if let Some(v) = v {
                *field = v.clone();
            }
        };
        set(&mut d.description, &e.description);
        set(&mut d.inclusion, &e.inclusion);
        set(&mut d.exclusion, &e.exclusion);
        set(&mut d.example, &e.example);
        if let Some(c) = &e.color {
            d.color = (!c.is_empty()).then(|| c.to_lowercase());
        }
        if let Some(s) = &e.shortcut {
            d.shortcut = (!s.is_empty()).then(|| s.clone());
        }
        if let Some(c) = e.codable {
            d.codable = c;
        }
        let after = (
            d.renamed_from.clone(),
            d.parent.clone(),
            d.description.clone(),
            d.inclusion.clone(),
            d.exclusion.clone(),
            d.example.clone(),
            d.color.clone(),
            d.shortcut.clone(),
            d.codable,
        );
        if d.id.is_none() {
            update.added += 1;
        } else if before != after {
            update.updated += 1;
        } else {
            update.unchanged += 1;
        }
    }
    let where_ = |d: &Draft| match &d.line {
        Some(l) => l.clone(),
        None => "the project".to_string(),
    };
    // Parents exist.
    for d in &drafts {
        if let Some(p) = &d.parent
            && !index.contains_key(&key(p))
        {
            return Err(Error::input(format!(
                "{}: the parent {p:?} of code {:?} is neither in the file nor in the codebook",
                where_(d),
                d.name
            )));
        }
    }
    // No cycles.
    for d in &drafts {
        let mut path = vec![d.name.clone()];
        let mut cur = d.parent.clone();
        while let Some(p) = cur {
            let pi = index[&key(&p)];
            path.push(drafts[pi].name.clone());
            if key(&p) == key(&d.name) {
                return Err(Error::input(format!(
                    "{}: code {:?} would be its own ancestor ({}); a codebook is a tree",
                    where_(d),
                    d.name,
                    path.join(" > ")
                )));
            }
            if path.len() > drafts.len() + 1 {
                break;
            }
            cur = drafts[pi].parent.clone();
        }
    }
    // Unique shortcuts.
    let mut by_shortcut: HashMap<&str, &Draft> = HashMap::new();
    for d in &drafts {
        if let Some(s) = d.shortcut.as_deref() {
            if let Some(other) = by_shortcut.get(s) {
                let (a, b) = if d.line.is_some() {
                    (d, *other)
                } else {
                    (*other, d)
                };
                return Err(Error::input(format!(
                    "{}: shortcut {s} of code {:?} is already the shortcut of {:?} ({}); \
                     shortcuts must be unique",
                    where_(a),
                    a.name,
                    b.name,
                    where_(b)
                )));
            }
            by_shortcut.insert(s, d);
        }
    }
    write(conn, &mut drafts, &index)?;
    let ids = ids_of_entries
        .iter()
        .map(|&i| drafts[i].id.unwrap_or_default())
        .collect();
    Ok((update, ids))
}

fn write(conn: &Connection, drafts: &mut [Draft], index: &HashMap<String, usize>) -> Result<()> {
    let mut next_pos: i64 =
        conn.query_row("SELECT ifnull(max(position), 0) + 1 FROM codes", [], |r| {
            r.get(0)
        })?;
    // Shortcuts may move between codes: clear them first so the UNIQUE constraint sees the end state.
    conn.execute("UPDATE codes SET shortcut = NULL", [])?;
    // Names may move too (a file renames by GUID): renamed codes take a name no code can have
    // first, so that swapping two names never meets the UNIQUE constraint half-way.
    for d in drafts.iter() {
        if let (Some(id), Some(_)) = (d.id, &d.renamed_from) {
            conn.execute(
                "UPDATE codes SET name = char(31) || id WHERE id = ?1",
                params![id],
            )?;
        }
    }
    for d in drafts.iter_mut() {
        if d.id.is_none() {
            conn.execute(
                "INSERT INTO codes (guid, name, position) VALUES (?1, ?2, ?3)",
                params![d.guid, d.name, next_pos],
            )?;
            next_pos += 1;
            d.id = Some(conn.last_insert_rowid());
        }
    }
    for d in drafts.iter() {
        let parent_id = d
            .parent
            .as_ref()
            .and_then(|p| index.get(&p.to_lowercase()))
            .and_then(|&i| drafts[i].id);
        conn.execute(
            "UPDATE codes SET parent_id = ?2, description = ?3, inclusion = ?4, exclusion = ?5,
                 example = ?6, color = ?7, shortcut = ?8, codable = ?9, name = ?10
             WHERE id = ?1",
            params![
                d.id,
                parent_id,
                d.description,
                d.inclusion,
                d.exclusion,
                d.example,
                d.color,
                d.shortcut,
                d.codable,
                d.name
            ],
        )?;
    }
    Ok(())
}
