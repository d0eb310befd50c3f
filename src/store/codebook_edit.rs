//! Changing the codebook from the coding screen: adding, editing, moving, nesting, merging and
//! deleting a code, each one undoable event, and the reads the codebook panel and its dialogs need
//! (how much a code is used, the coder's memo on it).

use super::Store;
use super::events::{Focus, Logged, Writer};
use super::rows::{Table, code_key, coding_key, j_str, memo_key, read_row};
use crate::error::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// A new code from the coding screen.
#[derive(Debug, Clone, Default)]
pub struct NewCode {
    pub name: String,
    pub parent_id: Option<i64>,
    pub description: String,
    pub color: Option<String>,
    pub shortcut: Option<String>,
}

/// The editable fields of a code (name and parent are changed by their own actions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeFields {
    pub name: String,
    pub description: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub color: Option<String>,
    pub shortcut: Option<String>,
}

/// How many codings a code has, for the question before deleting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeUse {
    pub mine: i64,
    pub others: i64,
}

/// Reads (id, parent, position) of every code, for the tree operations.
fn code_tree(conn: &Connection) -> Result<Vec<(i64, Option<i64>, i64)>> {
    let mut st = conn.prepare("SELECT id, parent_id, position FROM codes ORDER BY position, id")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn siblings(tree: &[(i64, Option<i64>, i64)], parent: Option<i64>) -> Vec<(i64, i64)> {
    tree.iter()
        .filter(|(_, p, _)| *p == parent)
        .map(|(id, _, pos)| (*id, *pos))
        .collect()
}

fn parent_of(tree: &[(i64, Option<i64>, i64)], id: i64) -> Option<i64> {
    tree.iter()
        .find(|(i, _, _)| *i == id)
        .and_then(|(_, p, _)| *p)
}

/// Whether `a` is an ancestor of `b`.
fn is_ancestor(tree: &[(i64, Option<i64>, i64)], a: i64, b: i64) -> bool {
    let mut cur = parent_of(tree, b);
    let mut steps = 0;
    while let Some(p) = cur {
        if p == a {
            return true;
        }
        steps += 1;
        if steps > tree.len() {
            return false;
        }
        cur = parent_of(tree, p);
    }
    false
}

fn check_name(conn: &Connection, name: &str, except: Option<i64>) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::input("a code needs a name"));
    }
    let clash: Option<String> = conn
        .query_row(
            "SELECT name FROM codes WHERE name = ?1 AND id IS NOT ?2",
            params![name, except],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = clash {
        return Err(Error::input(format!(
            "there is already a code called {other:?} (names are unique, ignoring case)"
        )));
    }
    Ok(name.to_string())
}

fn check_color(color: Option<&str>) -> Result<Option<String>> {
    match color.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if crate::model::codebook::is_hex_colour(c) => Ok(Some(c.to_lowercase())),
        Some(c) => Err(Error::input(format!(
            "colour {c:?} is not of the form #RRGGBB (for example #1f77b4)"
        ))),
    }
}

fn check_shortcut(
    conn: &Connection,
    shortcut: Option<&str>,
    except: Option<i64>,
) -> Result<Option<String>> {
    let Some(s) = shortcut.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !(s.len() == 1 && ('1'..='9').contains(&s.chars().next().unwrap_or('0'))) {
        return Err(Error::input(format!(
            "shortcut {s:?} must be one digit from 1 to 9"
        )));
    }
    let holder: Option<String> = conn
        .query_row(
            "SELECT name FROM codes WHERE shortcut = ?1 AND id IS NOT ?2",
            params![s, except],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(h) = holder {
        return Err(Error::input(format!(
            "shortcut {s} is already the shortcut of {h:?}; clear it there first"
        )));
    }
    Ok(Some(s.to_string()))
}

impl Store {
    /// For each code, on how many answers this coder applied it.
    pub fn code_usage(&self, coder_id: i64) -> Result<HashMap<i64, i64>> {
        let mut st = self.conn().prepare_cached(
            "SELECT code_id, count(DISTINCT response_id) FROM codings WHERE coder_id = ?1
             GROUP BY code_id",
        )?;
        let rows = st.query_map([coder_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Codings of a code by this coder and by everyone else.
    pub fn code_use(&self, coder_id: i64, code_id: i64) -> Result<CodeUse> {
        let (mine, others) = self.conn().query_row(
            "SELECT count(CASE WHEN coder_id = ?1 THEN 1 END), count(CASE WHEN coder_id <> ?1 THEN 1 END)
             FROM codings WHERE code_id = ?2",
            params![coder_id, code_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(CodeUse { mine, others })
    }

    /// The coder's memo on a code ("" when none).
    pub fn code_memo(&self, coder_id: i64, code_id: i64) -> Result<String> {
        Ok(self
            .conn()
            .query_row(
                "SELECT text FROM memos WHERE coder_id = ?1 AND code_id = ?2",
                params![coder_id, code_id],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or_default())
    }

    pub(super) fn code_row(&self, code_id: i64) -> Result<Json> {
        read_row(self.conn(), Table::Codes, &code_key(code_id))?.ok_or_else(|| {
            Error::input(
                "that code is no longer in the codebook (another coder may have deleted it)",
            )
        })
    }

    /// Adds a code at the end of its parent's codes. Returns its id.
    pub fn add_code(&mut self, coder_id: i64, new: &NewCode) -> Result<i64> {
        self.write(coder_id, |w| {
            let name = check_name(w.conn(), &new.name, None)?;
            let color = check_color(new.color.as_deref())?;
            let shortcut = check_shortcut(w.conn(), new.shortcut.as_deref(), None)?;
            if let Some(p) = new.parent_id
                && w.get(Table::Codes, &code_key(p))?.is_none()
            {
                return Err(Error::input("the parent code is no longer in the codebook"));
            }
            let (id, pos): (i64, i64) = w.conn().query_row(
                "SELECT ifnull(max(id), 0) + 1, ifnull(max(position), 0) + 1 FROM codes",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let row = json!({
                "guid": uuid::Uuid::new_v4().to_string(), "parent_id": new.parent_id, "name": name,
                "description": new.description.trim(), "inclusion": "", "exclusion": "", "example": "",
                "color": color, "shortcut": shortcut, "codable": 1, "position": pos
            });
            w.set(Table::Codes, code_key(id), Some(row))?;
            Ok((
                id,
                Logged {
                    action: "codebook.add",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(id),
                    },
                    summary: format!("add the code {name:?}"),
                },
            ))
        })
    }

    /// Changes a code's name, texts, colour and shortcut, and this coder's memo on it.
    pub fn edit_code(
        &mut self,
        coder_id: i64,
        code_id: i64,
        f: &CodeFields,
        memo: Option<&str>,
    ) -> Result<()> {
        let now = crate::timefmt::now();
        self.write(coder_id, |w| {
            let mut row = w
                .get(Table::Codes, &code_key(code_id))?
                .ok_or_else(|| Error::input("that code is no longer in the codebook"))?;
            let old_name = j_str(&row, "name");
            let name = check_name(w.conn(), &f.name, Some(code_id))?;
            row["name"] = json!(name);
            row["description"] = json!(f.description.trim());
            row["inclusion"] = json!(f.inclusion.trim());
            row["exclusion"] = json!(f.exclusion.trim());
            row["example"] = json!(f.example.trim());
            row["color"] = json!(check_color(f.color.as_deref())?);
            row["shortcut"] = json!(check_shortcut(
                w.conn(),
                f.shortcut.as_deref(),
                Some(code_id)
            )?);
            w.set(Table::Codes, code_key(code_id), Some(row))?;
            if let Some(m) = memo {
                let key = memo_key(coder_id, None, Some(code_id));
                let unchanged = w
                    .get(Table::Memos, &key)?
                    .map(|r| j_str(&r, "text"))
                    .unwrap_or_default()
                    == m;
                if !unchanged {
                    let row = (!m.trim().is_empty()).then(|| json!({"text": m, "updated_at": now}));
                    w.set(Table::Memos, key, row)?;
                }
            }
            let summary = if old_name != name {
                format!("rename the code {old_name:?} to {name:?}")
            } else {
                format!("edit the code {name:?}")
            };
            Ok((
                (),
                Logged {
                    action: "codebook.edit",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary,
                },
            ))
        })
    }

    /// Moves a code before its previous sibling (`up`) or after its next one. False when it is
    /// already first or last.
    pub fn move_code(&mut self, coder_id: i64, code_id: i64, up: bool) -> Result<bool> {
        let name = j_str(&self.code_row(code_id)?, "name");
        self.write(coder_id, |w| {
            let tree = code_tree(w.conn())?;
            let mut sibs = siblings(&tree, parent_of(&tree, code_id));
            let i = sibs.iter().position(|(id, _)| *id == code_id).unwrap_or(0);
            let j = if up {
                i.checked_sub(1)
            } else {
                Some(i + 1).filter(|j| *j < sibs.len())
            };
            let moved = if let Some(j) = j {
                let positions: Vec<i64> = sibs.iter().map(|(_, p)| *p).collect();
                sibs.swap(i, j);
                renumber(w, &sibs, &positions)?;
                true
            } else {
                false
            };
            Ok((
                moved,
                Logged {
                    action: "codebook.move",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary: format!("move the code {name:?} {}", if up { "up" } else { "down" }),
                },
            ))
        })
    }

    /// Makes a code the last child of the code above it (`nest`), or a sibling of its parent
    /// placed right after it (un-nest). False when there is nothing to nest under or out of.
    pub fn nest_code(&mut self, coder_id: i64, code_id: i64, nest: bool) -> Result<bool> {
        let name = j_str(&self.code_row(code_id)?, "name");
        self.write(coder_id, |w| {
            let tree = code_tree(w.conn())?;
            let parent = parent_of(&tree, code_id);
            let mut row = w
                .get(Table::Codes, &code_key(code_id))?
                .ok_or_else(|| Error::input("that code is no longer in the codebook"))?;
            let mut summary = String::new();
            let changed = if nest {
                let sibs = siblings(&tree, parent);
                let i = sibs.iter().position(|(id, _)| *id == code_id).unwrap_or(0);
                if i == 0 {
                    false
                } else {
                    let new_parent = sibs[i - 1].0;
                    let last = siblings(&tree, Some(new_parent))
                        .iter()
                        .map(|(_, p)| *p)
                        .max();
                    row["parent_id"] = json!(new_parent);
                    row["position"] = json!(last.unwrap_or(0) + 1);
                    w.set(Table::Codes, code_key(code_id), Some(row))?;
                    let pname = w
                        .get(Table::Codes, &code_key(new_parent))?
                        .map(|r| j_str(&r, "name"));
                    summary = format!(
                        "nest the code {name:?} under {:?}",
                        pname.unwrap_or_default()
                    );
                    true
                }
            } else if let Some(p) = parent {
                let grand = parent_of(&tree, p);
                let mut sibs = siblings(&tree, grand);
                let positions: Vec<i64> = sibs.iter().map(|(_, p)| *p).collect();
                let at = sibs
                    .iter()
                    .position(|(id, _)| *id == p)
                    .map_or(sibs.len(), |k| k + 1);
                sibs.insert(at, (code_id, 0));
                row["parent_id"] = json!(grand);
                w.set(Table::Codes, code_key(code_id), Some(row))?;
                // One more sibling than positions: continue the sequence after the last.
                let mut positions = positions;
                positions.push(positions.last().copied().unwrap_or(0) + 1);
                renumber(w, &sibs, &positions)?;
                summary = format!("move the code {name:?} out of its parent");
                true
            } else {
                false
            };
            Ok((
                changed,
                Logged {
                    action: "codebook.nest",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary,
                },
            ))
        })
    }

    /// Merges code `from` into code `into`: every coder's codings of `from` become codings of
    /// `into` (one that `into` already has is dropped), memos are carried over, sub-codes move
    /// under `into`, and `from` leaves the codebook. Returns how many codings moved.
    pub fn merge_code(&mut self, coder_id: i64, from: i64, into: i64) -> Result<usize> {
        if from == into {
            return Err(Error::input("a code cannot be merged into itself"));
        }
        let from_name = j_str(&self.code_row(from)?, "name");
        let into_row = self.code_row(into)?;
        let into_name = j_str(&into_row, "name");
        if into_row.get("codable").and_then(Json::as_i64) == Some(0) {
            return Err(Error::input(format!(
                "{into_name:?} only groups other codes; merge into a code that can be applied"
            )));
        }
        self.write(coder_id, |w| {
            let codings: Vec<(i64, i64, Option<i64>, Option<i64>)> = {
                let mut st = w.conn().prepare(
                    "SELECT response_id, coder_id, start, \"end\" FROM codings WHERE code_id = ?1 ORDER BY id",
                )?;
                st.query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            let mut moved = 0;
            for (resp, coder, s, e) in &codings {
                let span = s.zip(*e).map(|(s, e)| (s as usize, e as usize));
                let old = coding_key(*resp, *coder, from, span);
                let new = coding_key(*resp, *coder, into, span);
                let row = w.get(Table::Codings, &old)?;
                if w.get(Table::Codings, &new)?.is_none() {
                    w.set(Table::Codings, new, row)?;
                    moved += 1;
                }
                w.set(Table::Codings, old, None)?;
            }
            let memo_coders: Vec<i64> = {
                let mut st = w.conn().prepare("SELECT coder_id FROM memos WHERE code_id = ?1")?;
                st.query_map([from], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            for c in memo_coders {
                let old_key = memo_key(c, None, Some(from));
                let new_key = memo_key(c, None, Some(into));
                let old = w.get(Table::Memos, &old_key)?;
                let merged = match (w.get(Table::Memos, &new_key)?, old) {
                    (Some(mut kept), Some(old)) => {
                        kept["text"] = json!(format!(
                            "{}\n\nFrom the merged code {from_name:?}: {}",
                            j_str(&kept, "text"),
                            j_str(&old, "text")
                        ));
                        Some(kept)
                    }
                    (kept, old) => old.or(kept),
                };
                w.set(Table::Memos, new_key, merged)?;
                w.set(Table::Memos, old_key, None)?;
            }
            let tree = code_tree(w.conn())?;
            let from_parent = parent_of(&tree, from);
            for (child, _) in siblings(&tree, Some(from)) {
                // A sub-code on the way down to `into` goes up a level instead, so no cycle forms.
                let new_parent = if child == into || is_ancestor(&tree, child, into) {
                    from_parent
                } else {
                    Some(into)
                };
                let mut row = w.get(Table::Codes, &code_key(child))?.unwrap_or(Json::Null);
                row["parent_id"] = json!(new_parent);
                w.set(Table::Codes, code_key(child), Some(row))?;
            }
            w.set(Table::Codes, code_key(from), None)?;
            Ok((
                moved,
                Logged {
                    action: "codebook.merge",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(into),
                    },
                    summary: format!("merge the code {from_name:?} into {into_name:?}"),
                },
            ))
        })
    }

    /// Deletes a code with every coder's codings of it and the memos on it; its sub-codes move up
    /// to its parent. Returns how many codings were deleted. Undo brings all of it back.
    pub fn delete_code(&mut self, coder_id: i64, code_id: i64) -> Result<usize> {
        let name = j_str(&self.code_row(code_id)?, "name");
        self.write(coder_id, |w| {
            let codings: Vec<(i64, i64, Option<i64>, Option<i64>)> = {
                let mut st = w.conn().prepare(
                    "SELECT response_id, coder_id, start, \"end\" FROM codings WHERE code_id = ?1 ORDER BY id",
                )?;
                st.query_map([code_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            for (resp, coder, s, e) in &codings {
                let span = s.zip(*e).map(|(s, e)| (s as usize, e as usize));
                w.set(Table::Codings, coding_key(*resp, *coder, code_id, span), None)?;
            }
            let memo_coders: Vec<i64> = {
                let mut st = w.conn().prepare("SELECT coder_id FROM memos WHERE code_id = ?1")?;
                st.query_map([code_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            for c in memo_coders {
                w.set(Table::Memos, memo_key(c, None, Some(code_id)), None)?;
            }
            let tree = code_tree(w.conn())?;
            let parent = parent_of(&tree, code_id);
            for (child, _) in siblings(&tree, Some(code_id)) {
                let mut row = w.get(Table::Codes, &code_key(child))?.unwrap_or(Json::Null);
                row["parent_id"] = json!(parent);
                w.set(Table::Codes, code_key(child), Some(row))?;
            }
            w.set(Table::Codes, code_key(code_id), None)?;
            Ok((
                codings.len(),
                Logged {
                    action: "codebook.delete",
                    focus: Focus {
                        response_id: None,
                        code_id: Some(code_id),
                    },
                    summary: format!("delete the code {name:?}"),
                },
            ))
        })
    }
}

/// Gives `order` (siblings in their new order) the positions `positions` in turn when those are
/// distinct and increasing, else 1, 2, 3, ...; writes only the rows whose position changes.
fn renumber(w: &mut Writer<'_>, order: &[(i64, i64)], positions: &[i64]) -> Result<()> {
    let mut pos: Vec<i64> = positions.to_vec();
    pos.sort_unstable();
    let distinct = pos.windows(2).all(|p| p[0] < p[1]) && pos.len() == order.len();
    for (i, (id, _)) in order.iter().enumerate() {
        let p = if distinct { pos[i] } else { i as i64 + 1 };
        let key = code_key(*id);
        if let Some(mut row) = w.get(Table::Codes, &key)?
            && row.get("position").and_then(Json::as_i64) != Some(p)
        {
            row["position"] = json!(p);
            w.set(Table::Codes, key, Some(row))?;
        }
    }
    Ok(())
}
