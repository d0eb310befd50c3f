//! What a merge reports (counts per coder, conflicts with both versions) and the one event it
//! logs.

use super::*;

/// A unit's version in short: its codes (with segments), "reviewed, no code" or "not coded",
/// and its memo.
/// A unit's row as a conflict shows it: kind, code name, start, end, memo or text.
type ShownRow = (i64, String, Option<i64>, Option<i64>, String);

fn describe(rows: &[ShownRow]) -> String {
    let mut codes = Vec::new();
    let mut reviewed = false;
    let mut memo = None;
    for (kind, name, s, e, v) in rows {
        match kind {
            1 => codes.push(match (s, e) {
                (Some(s), Some(e)) => format!("{name} [{s}..{e}]"),
                _ => name.clone(),
            }),
            2 => reviewed = true,
            3 => memo = Some(format!("memo {:?}", short(v, 40))),
            _ => {}
        }
    }
    let mut out = if !codes.is_empty() {
        codes.join(", ")
    } else if reviewed {
        "reviewed, no code".to_string()
    } else {
        "not coded".to_string()
    };
    if let Some(m) = memo {
        out.push_str("; ");
        out.push_str(&m);
    }
    out
}

impl Merge<'_> {
    pub(super) fn coder_counts(&self) -> Result<Vec<CoderMerge>> {
        let mut by: BTreeMap<String, CoderMerge> = BTreeMap::new();
        {
            let mut st = self.c.prepare(
                "SELECT coder, sum(verdict = 'take'), sum(verdict = 'keep' AND NOT settled),
                        sum(verdict IN ('answer', 'answer_text', 'code_missing') OR settled)
                 FROM temp.m_unit GROUP BY coder",
            )?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            for row in rows {
                let (coder, taken, kept, conflicts) = row?;
                let e = by.entry(coder.clone()).or_default();
                e.answers_taken = taken;
                e.answers_kept = kept;
                e.conflicts = conflicts;
            }
        }
        {
            let mut st = self.c.prepare(
                "SELECT d.name, v.tbl, sum(v.before IS NULL), sum(v.after IS NULL),
                        sum(v.before IS NOT NULL AND v.after IS NOT NULL)
                 FROM temp.m_ev v JOIN main.coders d ON d.id = v.c
                 WHERE v.tbl IN ('codings', 'reviews', 'memos') GROUP BY d.name, v.tbl",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            for row in rows {
                let (coder, tbl, added, removed, changed) = row?;
                let e = by.entry(coder).or_default();
                match tbl.as_str() {
                    "codings" => {
                        e.codings_added = added;
                        e.codings_removed = removed;
                        e.codings_changed = changed;
                    }
                    "reviews" => {
                        e.reviews_added = added;
                        e.reviews_removed = removed;
                    }
                    _ => {
                        e.memos_added = added;
                        e.memos_removed = removed;
                        e.memos_changed = changed;
                    }
                }
            }
        }
        for k in &self.conflicts {
            if k.kind == "code_memo"
                && let Some(c) = &k.coder
            {
                by.entry(c.clone()).or_default().conflicts += 1;
            }
        }
        Ok(by
            .into_iter()
            .map(|(coder, mut m)| {
                m.new_here = self.coders_created.contains(&coder);
                m.coder = coder;
                m
            })
            .collect())
    }

    /// Lists the units left in conflict (and those `--prefer` settled) with both versions.
    pub(super) fn list_unit_conflicts(&mut self) -> Result<()> {
        let units: Vec<(i64, String, String, bool, bool, String, String)> = {
            let mut st = self.c.prepare(
                "SELECT u.r, u.coder, u.verdict, u.settled, u.left_open, p.ext_id, q.name
                 FROM temp.m_unit u JOIN main.responses s ON s.id = u.r
                 JOIN main.respondents p ON p.id = s.respondent_id
                 JOIN main.questions q ON q.id = s.question_id
                 WHERE u.verdict IN ('answer', 'answer_text', 'code_missing') OR u.settled
                 ORDER BY s.respondent_id, q.position, q.id, u.coder",
            )?;
            st.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut st = self.c.prepare(
            "SELECT x.kind, coalesce(CASE WHEN x.ver = 0 THEN mk.name ELSE ok.name END,
                                     mk.name, ok.name, x.g),
                    x.s, x.e, x.v
             FROM temp.m_ur x LEFT JOIN main.codes mk ON mk.guid = x.g
             LEFT JOIN other.codes ok ON ok.guid = x.g
             WHERE x.ver = ?1 AND x.r = ?2 AND x.coder = ?3
             ORDER BY x.kind, x.s IS NOT NULL, x.s, x.e, 2",
        )?;
        let mut missing = self.c.prepare(
            "SELECT DISTINCT ok.name FROM temp.m_ur x JOIN other.codes ok ON ok.guid = x.g
             WHERE x.ver = 1 AND x.r = ?1 AND x.coder = ?2 AND x.kind IN (1, 4)
               AND NOT EXISTS (SELECT 1 FROM main.codes k WHERE k.guid = x.g)
             ORDER BY 1",
        )?;
        for (r, coder, verdict, settled, left_open, ext, question) in units {
            let mut version = |ver: i64| -> Result<String> {
                let rows = st
                    .query_map(params![ver, r, coder], |x| {
                        Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?, x.get(4)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(describe(&rows))
            };
            let (here, theirs) = (version(0)?, version(1)?);
            let (kind, note) = match verdict.as_str() {
                "answer_text" => (
                    "answer_text",
                    Some("the answer's text differs between the copies: never merged".to_string()),
                ),
                "code_missing" => {
                    let names: Vec<String> = missing
                        .query_map(params![r, coder], |x| x.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    (
                        "code_missing",
                        Some(format!(
                            "the copy's version uses codes this codebook lacks: {}",
                            names.join(", ")
                        )),
                    )
                }
                _ => (
                    "answer",
                    left_open.then(|| "left open by an earlier merge".to_string()),
                ),
            };
            let settled = settled.then_some(match verdict.as_str() {
                "take" => Prefer::Theirs,
                _ => Prefer::Mine,
            });
            self.conflicts.push(MergeConflict {
                kind,
                respondent: Some(ext),
                question: Some(question),
                coder: Some(coder),
                code: None,
                field: None,
                here,
                theirs,
                settled,
                note,
            });
        }
        Ok(())
    }

    /// Logs the merge as one event that the undo machinery can take back, with the record of
    /// the copy's log as merged. Nothing changed: no event.
    pub(super) fn log(&self) -> Result<Option<i64>> {
        let c = self.c;
        let changed: i64 = one(c, "SELECT count(*) FROM temp.m_ev", [])?;
        if changed == 0 {
            return Ok(None);
        }
        let their_last: i64 = one(c, "SELECT ifnull(max(id), 0) FROM other.events", [])?;
        let left_units: Vec<Json> = {
            let mut st = c.prepare(
                "SELECT p.ext_id, q.name, u.coder FROM temp.m_unit u
                 JOIN main.responses s ON s.id = u.r
                 JOIN main.respondents p ON p.id = s.respondent_id
                 JOIN main.questions q ON q.id = s.question_id
                 WHERE u.verdict IN ('answer', 'answer_text', 'code_missing') AND NOT u.settled
                 ORDER BY u.r, u.coder",
            )?;
            st.query_map([], |r| {
                Ok(json!([
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?
                ]))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let record = json!({
            "other": self.other,
            "other_events": their_last,
            "other_last": fingerprint(c, Side::Theirs, their_last)?,
            "coders": if self.opts.coders.is_empty() { Json::Null } else { json!(self.opts.coders) },
            "conflicts_left": left_units,
            "code_conflicts_left": self.code_conflicts_left,
            "coders_created": self.coders_created,
        });
        let taken: i64 = one(
            c,
            "SELECT count(*) FROM temp.m_unit WHERE verdict = 'take'",
            [],
        )?;
        let file = Path::new(&self.other)
            .file_name()
            .map_or(self.other.clone(), |f| f.to_string_lossy().to_string());
        let n =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        let summary = format!(
            "merge {file}: {} taken; codes: {} added, {} changed, {} deleted",
            n(taken as usize, "answer", "answers"),
            self.codes_added.len(),
            self.codes_changed.len(),
            self.codes_deleted.len()
        );
        let head = format!(
            "{{\"summary\":{},\"response_id\":null,\"code_id\":null,",
            Json::from(summary)
        );
        c.execute(
            "INSERT INTO main.events (at, coder_id, action, before) VALUES (?1, NULL, 'merge', ?2)",
            params![
                crate::timefmt::now(),
                event_side(c, "temp.m_ev", "before", "ASC", &head, "")?
            ],
        )?;
        let id = c.last_insert_rowid();
        let tail = format!(",\"merge\":{record}");
        c.execute(
            "UPDATE main.events SET after = ?2 WHERE id = ?1",
            params![
                id,
                event_side(c, "temp.m_ev", "after", "ASC", &head, &tail)?
            ],
        )?;
        Ok(Some(id))
    }
}
