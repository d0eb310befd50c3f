//! The codebook's three-way merge by GUID, field by field, memos on codes, and codes deleted in
//! the copy.

use super::*;

/// A code row as the event log holds it (the shape of `read_row`), by id, from one side.
fn code_rows(c: &Connection, side: Side) -> Result<HashMap<i64, Json>> {
    let s = side.schema();
    let mut st = c.prepare(&format!(
        "SELECT id, json_object('guid', guid, 'parent_id', parent_id, 'name', name,
                'description', description, 'inclusion', inclusion, 'exclusion', exclusion,
                'example', example, 'color', color, 'shortcut', shortcut, 'codable', codable,
                'position', position)
         FROM {s}.codes"
    ))?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, text) = row?;
        let json: Json = serde_json::from_str(&text)
            .map_err(|e| Error::input(format!("a code row could not be read: {e}")))?;
        out.insert(id, json);
    }
    Ok(out)
}

/// Codes by GUID from rows by id, with the parent as a GUID.
fn codes_by_guid(rows: &HashMap<i64, Json>) -> HashMap<String, Code> {
    let guid_of: HashMap<i64, String> = rows
        .iter()
        .filter_map(|(id, r)| Some((*id, r.get("guid")?.as_str()?.to_string())))
        .collect();
    let mut out = HashMap::new();
    for (id, row) in rows {
        let Some(guid) = guid_of.get(id) else {
            continue;
        };
        let mut fields = BTreeMap::new();
        for f in FIELDS {
            let v = if f == "parent" {
                row.get("parent_id")
                    .and_then(Json::as_i64)
                    .and_then(|p| guid_of.get(&p))
                    .map_or(Json::Null, |g| json!(g))
            } else {
                row.get(f).cloned().unwrap_or(Json::Null)
            };
            fields.insert(f, v);
        }
        out.insert(guid.clone(), Code { id: *id, fields });
    }
    out
}

impl Merge<'_> {
    /// Codes by GUID as they were at base `b` (none without shared history).
    fn base_codes(&self, b: usize) -> Result<HashMap<String, Code>> {
        let Some((side, _)) = self.bases[b].from else {
            return Ok(HashMap::new());
        };
        let mut rows = code_rows(self.c, side)?;
        let mut st = self
            .c
            .prepare("SELECT k, row FROM temp.m_touch WHERE b = ?1 AND tbl = 'codes'")?;
        let touched = st.query_map([b as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        for t in touched {
            let (id, row) = t?;
            let row: Json = row
                .and_then(|r| serde_json::from_str(&r).ok())
                .unwrap_or(Json::Null);
            if row.is_null() {
                rows.remove(&id);
            } else {
                rows.insert(id, row);
            }
        }
        Ok(codes_by_guid(&rows))
    }

    /// Three-way merge of the codebook by GUID, field by field. Adds and changes are written
    /// now (answers need their codes); deletions wait until the answers are merged.
    pub(super) fn merge_codebook(&mut self) -> Result<()> {
        let mine_rows = code_rows(self.c, Side::Mine)?;
        let theirs_rows = code_rows(self.c, Side::Theirs)?;
        let mine = codes_by_guid(&mine_rows);
        let theirs = codes_by_guid(&theirs_rows);
        let base = self.base_codes(self.codes_base)?;
        let (opaque_t, opaque_m) = self.opaque(self.codes_base, false);
        let left: HashSet<String> = self.bases[self.codes_base]
            .left_codes
            .iter()
            .cloned()
            .collect();
        let prefer = self.opts.prefer;

        // The codebook as it will be, by GUID, and what was taken from the copy.
        let mut fin: BTreeMap<String, Code> =
            mine.iter().map(|(g, c)| (g.clone(), c.clone())).collect();
        let mut taken: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        let mut adds: Vec<String> = Vec::new();
        let mut guids: Vec<&String> = mine.keys().chain(theirs.keys()).collect();
        guids.sort();
        guids.dedup();
        // Adds in the copy's codebook order, so that positions and parents come out the same
        // whatever the order of merges.
        let mut their_order: Vec<(&String, i64)> = theirs
            .iter()
            .map(|(g, c)| (g, c.get("position").as_i64().unwrap_or(0)))
            .collect();
        their_order.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
        for guid in guids {
            let (m, t, b) = (mine.get(guid), theirs.get(guid), base.get(guid));
            match (m, t) {
                (None, Some(t)) => match b {
                    None => adds.push(guid.clone()),
                    Some(b) => {
                        // Deleted here: a change there to a code no longer here is a conflict.
                        if t.fields != b.fields || opaque_t {
                            let changed: Vec<&str> = FIELDS
                                .into_iter()
                                .filter(|f| t.get(f) != b.get(f))
                                .collect();
                            if !changed.is_empty() {
                                self.code_conflict(
                                    guid,
                                    code_k(
                                        "code_deleted",
                                        &t.name(),
                                        None,
                                        "deleted".into(),
                                        format!("changed: {}", changed.join(", ")),
                                        Some("deleted here, changed in the copy".into()),
                                    ),
                                );
                            }
                        }
                    }
                },
                (Some(m), None) => {
                    if let Some(b) = b {
                        if m.fields != b.fields || opaque_m {
                            let changed: Vec<&str> = FIELDS
                                .into_iter()
                                .filter(|f| m.get(f) != b.get(f))
                                .collect();
                            self.code_conflict(
                                guid,
                                code_k(
                                    "code_deleted",
                                    &m.name(),
                                    None,
                                    format!("changed: {}", changed.join(", ")),
                                    "deleted".into(),
                                    Some("changed here, deleted in the copy: kept".into()),
                                ),
                            );
                        } else {
                            self.deletions.push(guid.clone());
                        }
                    }
                }
                (Some(m), Some(t)) => {
                    for f in FIELDS {
                        let (mv, tv) = (m.get(f), t.get(f));
                        if mv == tv {
                            continue;
                        }
                        let bv = b.map(|b| b.get(f));
                        let still_open = left.contains(guid);
                        let changed_t = bv != Some(tv) || opaque_t || still_open;
                        let changed_m = bv != Some(mv) || opaque_m || still_open;
                        let take = if !changed_t {
                            false
                        } else if !changed_m {
                            true
                        } else {
                            let describe = |v: &Json| {
                                if f == "parent" {
                                    v.as_str()
                                        .and_then(|g| mine.get(g).or(theirs.get(g)))
                                        .map_or("(top level)".into(), |c| c.name())
                                } else {
                                    shown(v)
                                }
                            };
                            self.code_conflicts_left.insert(guid.clone());
                            self.conflict(MergeConflict {
                                kind: "code_field",
                                respondent: None,
                                question: None,
                                coder: None,
                                code: Some(m.name()),
                                field: Some(f.to_string()),
                                here: describe(mv),
                                theirs: describe(tv),
                                settled: prefer,
                                note: still_open
                                    .then(|| "left open by an earlier merge".to_string()),
                            });
                            if prefer.is_some() {
                                self.code_conflicts_left.remove(guid);
                            }
                            prefer == Some(Prefer::Theirs)
                        };
                        if take {
                            fin.get_mut(guid)
                                .expect("in both")
                                .fields
                                .insert(f, tv.clone());
                            taken.entry(guid.clone()).or_default().push(f);
                        }
                    }
                }
                (None, None) => {}
            }
        }
        adds.sort_by_key(|g| their_order.iter().position(|(x, _)| *x == g));
        for g in &adds {
            let mut code = theirs[g].clone();
            code.id = 0;
            fin.insert(g.clone(), code);
        }
        let added: HashSet<String> = adds.iter().cloned().collect();
        self.settle_codebook(&mine, &mut fin, &mut taken, &added)?;
        self.write_codebook(&mine, &fin, &taken, &adds)
    }

    /// Undoes taken fields and adds that would break the codebook's rules (a unique name or
    /// shortcut, a parent that exists, no cycle): each becomes a conflict.
    fn settle_codebook(
        &mut self,
        mine: &HashMap<String, Code>,
        fin: &mut BTreeMap<String, Code>,
        taken: &mut BTreeMap<String, Vec<&'static str>>,
        added: &HashSet<String>,
    ) -> Result<()> {
        for _round in 0..=fin.len() {
            let mut problem: Option<(String, &'static str, String)> = None;
            // Names and shortcuts: unique (names ignoring ASCII case, as SQLite's NOCASE).
            for f in ["name", "shortcut"] {
                let mut seen: HashMap<String, String> = HashMap::new();
                for (g, c) in fin.iter() {
                    let Some(v) = c.get(f).as_str() else { continue };
                    let v = v.to_ascii_lowercase();
                    if let Some(first) = seen.get(&v) {
                        // Blame the one that came from the copy.
                        let culprit = if added.contains(g) || is_taken(taken, g, f) {
                            g.clone()
                        } else {
                            first.clone()
                        };
                        let other = if culprit == *g {
                            first.clone()
                        } else {
                            g.clone()
                        };
                        problem = Some((
                            culprit,
                            f,
                            format!("the {f} is the {f} of {:?} here", fin[&other].name()),
                        ));
                        break;
                    }
                    seen.insert(v, g.clone());
                }
                if problem.is_some() {
                    break;
                }
            }
            if problem.is_none() {
                for (g, c) in fin.iter() {
                    if let Some(p) = c.get("parent").as_str() {
                        let mut cur = Some(p.to_string());
                        let mut steps = 0;
                        let mut why = None;
                        while let Some(x) = cur {
                            if !fin.contains_key(&x) {
                                why = Some("its parent is not in this codebook".to_string());
                                break;
                            }
                            if x == *g || steps > fin.len() {
                                why = Some("the parent would make a cycle".to_string());
                                break;
                            }
                            steps += 1;
                            cur = fin[&x].get("parent").as_str().map(str::to_string);
                        }
                        if let Some(why) = why {
                            problem = Some((g.clone(), "parent", why));
                            break;
                        }
                    }
                }
            }
            let Some((g, f, why)) = problem else {
                return Ok(());
            };
            let code = fin[&g].clone();
            if added.contains(&g) {
                if f == "name" {
                    // A new code whose name another code has here: not added.
                    fin.remove(&g);
                    self.code_conflict(
                        &g,
                        code_k(
                            "code_name",
                            &code.name(),
                            Some("name"),
                            why.clone(),
                            format!("a new code {:?}", code.name()),
                            Some("a different code of the same name: not added; rename one".into()),
                        ),
                    );
                } else {
                    // Added without the shortcut or the parent it cannot have here.
                    let v = code.get(f).clone();
                    fin.get_mut(&g)
                        .expect("present")
                        .fields
                        .insert(f, Json::Null);
                    self.code_conflict(
                        &g,
                        code_k(
                            "code_name",
                            &code.name(),
                            Some(f),
                            "(none)".into(),
                            shown(&v),
                            Some(format!("added without it: {why}")),
                        ),
                    );
                }
            } else {
                let kept = mine.get(&g).map(|m| m.get(f).clone()).unwrap_or(Json::Null);
                let theirs_v = code.get(f).clone();
                fin.get_mut(&g)
                    .expect("present")
                    .fields
                    .insert(f, kept.clone());
                if let Some(t) = taken.get_mut(&g) {
                    t.retain(|x| *x != f);
                }
                self.code_conflict(
                    &g,
                    code_k(
                        if f == "parent" {
                            "code_field"
                        } else {
                            "code_name"
                        },
                        &code.name(),
                        Some(f),
                        shown(&kept),
                        shown(&theirs_v),
                        Some(format!("not taken: {why}")),
                    ),
                );
            }
        }
        Ok(())
    }

    /// Writes the codebook's adds and changes, recording each row for the event. Names and
    /// shortcuts are unique at every step, so codes that swap names wait for each other; a
    /// cycle of such swaps (rare) keeps this project's names and reports it.
    fn write_codebook(
        &mut self,
        mine: &HashMap<String, Code>,
        fin: &BTreeMap<String, Code>,
        taken: &BTreeMap<String, Vec<&'static str>>,
        adds: &[String],
    ) -> Result<()> {
        let mut ids: HashMap<String, i64> = mine.iter().map(|(g, c)| (g.clone(), c.id)).collect();
        let mut holders: HashMap<(&'static str, String), String> = HashMap::new();
        for (g, c) in mine {
            for f in ["name", "shortcut"] {
                if let Some(v) = c.get(f).as_str() {
                    holders.insert((f, v.to_ascii_lowercase()), g.clone());
                }
            }
        }
        let mut pending: Vec<String> = adds
            .iter()
            .filter(|g| fin.contains_key(*g))
            .cloned()
            .collect();
        pending.extend(
            taken
                .iter()
                .filter(|(_, f)| !f.is_empty())
                .map(|(g, _)| g.clone()),
        );
        while !pending.is_empty() {
            let ready = pending.iter().position(|g| {
                let c = &fin[g];
                let free = ["name", "shortcut"].iter().all(|f| {
                    c.get(f).as_str().is_none_or(|v| {
                        holders
                            .get(&(*f, v.to_ascii_lowercase()))
                            .is_none_or(|h| h == g)
                    })
                });
                let parent = c.get("parent").as_str().is_none_or(|p| ids.contains_key(p));
                free && parent
            });
            let Some(i) = ready else {
                // Only a cycle of swapped names or shortcuts is left: keep this project's.
                let g = pending.remove(0);
                let code = &fin[&g];
                self.code_conflict(
                    &g,
                    code_k(
                        "code_name",
                        &code.name(),
                        Some("name"),
                        mine.get(&g)
                            .map_or("(none)".into(), |m| shown(m.get("name"))),
                        shown(code.get("name")),
                        Some("codes that swap names or shortcuts: rename them in two steps".into()),
                    ),
                );
                continue;
            };
            let g = pending.remove(i);
            let code = &fin[&g];
            let parent_id = code
                .get("parent")
                .as_str()
                .and_then(|p| ids.get(p))
                .copied();
            let (id, before) = match ids.get(&g) {
                Some(&id) => (id, read_row(self.c, Table::Codes, &json!({"id": id}))?),
                None => (
                    one(self.c, "SELECT ifnull(max(id), 0) + 1 FROM main.codes", [])?,
                    None,
                ),
            };
            let mut row = before.clone().unwrap_or_else(|| json!({"guid": g}));
            for f in FIELDS {
                if f == "parent" {
                    row["parent_id"] = json!(parent_id);
                } else {
                    row[f] = code.get(f).clone();
                }
            }
            let key = json!({ "id": id });
            write_row(self.c, Table::Codes, &key, Some(&row))?;
            self.record("codes", None, &key, before.as_ref(), Some(&row))?;
            if let Some(m) = mine.get(&g) {
                for f in ["name", "shortcut"] {
                    if let Some(v) = m.get(f).as_str() {
                        holders.remove(&(f, v.to_ascii_lowercase()));
                    }
                }
                self.codes_changed.push(CodeChanged {
                    code: code.name(),
                    fields: taken
                        .get(&g)
                        .map(|f| f.iter().map(|s| s.to_string()).collect())
                        .unwrap_or_default(),
                });
            } else {
                self.codes_added.push(code.name());
            }
            for f in ["name", "shortcut"] {
                if let Some(v) = code.get(f).as_str() {
                    holders.insert((f, v.to_ascii_lowercase()), g.clone());
                }
            }
            ids.insert(g, id);
        }
        Ok(())
    }

    /// Memos on codes, per (coder, code): three-way like the answers' units.
    pub(super) fn merge_code_memos(&mut self) -> Result<()> {
        type Memos = HashMap<(String, String), (String, String)>;
        let read = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<Memos> {
            let mut st = self.c.prepare(sql)?;
            let rows = st.query_map(p, |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    (r.get::<_, String>(2)?, r.get::<_, String>(3)?),
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let side_sql = |s: &str| {
            format!(
                "SELECT d.name, k.guid, m.text, m.updated_at FROM {s}.memos m
                 JOIN {s}.coders d ON d.id = m.coder_id
                 JOIN temp.m_coder sc ON sc.name = d.name AND sc.sel
                 JOIN {s}.codes k ON k.id = m.code_id WHERE m.code_id IS NOT NULL"
            )
        };
        let mine = read(&side_sql("main"), &[])?;
        let theirs = read(&side_sql("other"), &[])?;
        let coder_base: HashMap<String, usize> = {
            let mut st = self
                .c
                .prepare("SELECT name, base FROM temp.m_coder WHERE sel")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut base: HashMap<usize, Memos> = HashMap::new();
        let used: BTreeSet<usize> = coder_base.values().copied().collect();
        for b in used {
            let Some((side, _)) = self.bases[b].from else {
                base.insert(b, Memos::new());
                continue;
            };
            let s = side.schema();
            let bi = b as i64;
            let mut m = read(
                &format!(
                    "SELECT d.name, k.guid, m.text, m.updated_at FROM {s}.memos m
                     JOIN {s}.coders d ON d.id = m.coder_id JOIN {s}.codes k ON k.id = m.code_id
                     WHERE m.code_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM temp.m_touch x
                         WHERE x.b = ?1 AND x.tbl = 'memos' AND x.r IS NULL
                         AND x.c = m.coder_id AND x.k = m.code_id)"
                ),
                &[&bi],
            )?;
            m.extend(read(
                &format!(
                    "SELECT d.name, bc.guid, x.row->>'$.text', x.row->>'$.updated_at'
                     FROM temp.m_touch x JOIN {s}.coders d ON d.id = x.c
                     JOIN temp.m_bcode bc ON bc.b = x.b AND bc.id = x.k
                     WHERE x.b = ?1 AND x.tbl = 'memos' AND x.r IS NULL AND x.row <> 'null'"
                ),
                &[&bi],
            )?);
            base.insert(b, m);
        }
        let mut keys: Vec<&(String, String)> = mine.keys().chain(theirs.keys()).collect();
        keys.sort();
        keys.dedup();
        for unit in keys {
            let (coder, guid) = unit;
            let m = mine.get(unit).map(|v| v.0.as_str());
            let t = theirs.get(unit).map(|v| v.0.as_str());
            if m == t {
                continue;
            }
            let b = coder_base.get(coder).copied().unwrap_or(0);
            let bv = base.get(&b).and_then(|x| x.get(unit)).map(|v| v.0.as_str());
            let take = if bv == t {
                false
            } else if bv == m {
                true
            } else {
                let name: Option<String> = self
                    .c
                    .query_row(
                        "SELECT coalesce((SELECT name FROM main.codes WHERE guid = ?1),
                                         (SELECT name FROM other.codes WHERE guid = ?1))",
                        [guid],
                        |r| r.get(0),
                    )
                    .optional()?
                    .flatten();
                self.conflict(MergeConflict {
                    kind: "code_memo",
                    respondent: None,
                    question: None,
                    coder: Some(coder.clone()),
                    code: name,
                    field: None,
                    here: m.map_or("(no memo)".into(), |x| format!("{:?}", short(x, 60))),
                    theirs: t.map_or("(no memo)".into(), |x| format!("{:?}", short(x, 60))),
                    settled: self.opts.prefer,
                    note: None,
                });
                self.opts.prefer == Some(Prefer::Theirs)
            };
            if !take {
                continue;
            }
            let code_id: Option<i64> = self
                .c
                .query_row("SELECT id FROM main.codes WHERE guid = ?1", [guid], |r| {
                    r.get(0)
                })
                .optional()?;
            let Some(code_id) = code_id else {
                // The code was not merged (a conflict says why): its memo cannot come either.
                continue;
            };
            let coder_id: Option<i64> = one(
                self.c,
                "SELECT m_id FROM temp.m_coder WHERE name = ?1",
                [coder],
            )?;
            let coder_id = match coder_id {
                Some(id) => id,
                None => {
                    let consensus: i64 = one(
                        self.c,
                        "SELECT t_consensus FROM temp.m_coder WHERE name = ?1",
                        [coder],
                    )?;
                    self.create_coder(coder, consensus != 0)?
                }
            };
            let key = json!({"coder_id": coder_id, "response_id": null, "code_id": code_id});
            let before = read_row(self.c, Table::Memos, &key)?;
            let after = theirs
                .get(unit)
                .map(|(text, at)| json!({"text": text, "updated_at": at}));
            write_row(self.c, Table::Memos, &key, after.as_ref())?;
            self.record(
                "memos",
                Some(coder_id),
                &key,
                before.as_ref(),
                after.as_ref(),
            )?;
        }
        Ok(())
    }

    /// Deletes the codes deleted in the copy and unchanged here, once nothing here uses them.
    pub(super) fn delete_codes(&mut self) -> Result<()> {
        for guid in std::mem::take(&mut self.deletions) {
            let Some((id, name)) = self
                .c
                .query_row(
                    "SELECT id, name FROM main.codes WHERE guid = ?1",
                    [&guid],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )
                .optional()?
            else {
                continue;
            };
            let (codings, memos, children, decisions): (i64, i64, i64, i64) = self.c.query_row(
                "SELECT (SELECT count(*) FROM main.codings WHERE code_id = ?1),
                        (SELECT count(*) FROM main.memos WHERE code_id = ?1),
                        (SELECT count(*) FROM main.codes WHERE parent_id = ?1),
                        (SELECT count(*) FROM main.consensus_decisions WHERE code_id = ?1)",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            if codings + memos + children + decisions > 0 {
                let mut uses = Vec::new();
                for (n, what) in [
                    (codings, "codings"),
                    (memos, "memos"),
                    (children, "sub-codes"),
                    (decisions, "consensus decisions"),
                ] {
                    if n > 0 {
                        uses.push(format!("{n} {what}"));
                    }
                }
                self.code_conflict(
                    &guid,
                    code_k(
                        "code_deleted",
                        &name,
                        None,
                        format!("in use: {}", uses.join(", ")),
                        "deleted".into(),
                        Some("deleted in the copy but still used here: kept".into()),
                    ),
                );
                continue;
            }
            let key = json!({ "id": id });
            let before = read_row(self.c, Table::Codes, &key)?;
            write_row(self.c, Table::Codes, &key, None)?;
            self.record("codes", None, &key, before.as_ref(), None)?;
            self.codes_deleted.push(name);
        }
        Ok(())
    }
}

/// A conflict on a code, left open.
fn code_k(
    kind: &'static str,
    code: &str,
    field: Option<&str>,
    here: String,
    theirs: String,
    note: Option<String>,
) -> MergeConflict {
    MergeConflict {
        kind,
        respondent: None,
        question: None,
        coder: None,
        code: Some(code.to_string()),
        field: field.map(str::to_string),
        here,
        theirs,
        settled: None,
        note,
    }
}

fn is_taken(taken: &BTreeMap<String, Vec<&'static str>>, guid: &str, field: &str) -> bool {
    taken.get(guid).is_some_and(|f| f.contains(&field))
}
