//! Where the copies parted, earlier merges between them, and the states (bases) a merge
//! compares from, rebuilt from an event log.

use super::*;

impl Merge<'_> {
    pub(super) fn history(&mut self) -> Result<MergeHistory> {
        let c = self.c;
        // The shared prefix: events equal in both logs (time, action, rows and coder by name),
        // in id order. The first that differs, or that one log lacks, ends it.
        let first_different: Option<i64> = c
            .query_row(
                "SELECT m.id FROM main.events m
                 LEFT JOIN other.events o ON o.id = m.id
                 LEFT JOIN main.coders mc ON mc.id = m.coder_id
                 LEFT JOIN other.coders oc ON oc.id = o.coder_id
                 WHERE o.id IS NULL OR m.at IS NOT o.at OR m.action IS NOT o.action
                    OR m.before IS NOT o.before OR m.after IS NOT o.after
                    OR mc.name IS NOT oc.name
                 ORDER BY m.id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let fork = match first_different {
            Some(id) => id - 1,
            None => one(c, "SELECT ifnull(max(id), 0) FROM main.events", [])?,
        };
        let shared_events: i64 = one(c, "SELECT count(*) FROM main.events WHERE id <= ?1", [fork])?;
        let parted_after: Option<String> = c
            .query_row("SELECT at FROM main.events WHERE id = ?1", [fork], |r| {
                r.get(0)
            })
            .optional()?;
        let events_here: i64 = one(c, "SELECT count(*) FROM main.events WHERE id > ?1", [fork])?;
        let events_theirs: i64 = one(c, "SELECT count(*) FROM other.events WHERE id > ?1", [fork])?;
        let related = shared_events > 0;

        // The parting itself, rebuilt from the side whose log can tell (see `Base`).
        let fork_base = |side_units: bool, me: &Self| -> Result<Base> {
            if !related {
                return Ok(Base {
                    from: None,
                    stamps: Vec::new(),
                    opaque_units: false,
                    opaque_codes: false,
                    left_units: Vec::new(),
                    left_codes: Vec::new(),
                });
            }
            let theirs = me.base_at(Side::Theirs, fork)?;
            let mine = me.base_at(Side::Mine, fork)?;
            let theirs_opaque = if side_units {
                theirs.opaque_units
            } else {
                theirs.opaque_codes
            };
            let mine_opaque = if side_units {
                mine.opaque_units
            } else {
                mine.opaque_codes
            };
            Ok(if theirs_opaque && !mine_opaque {
                mine
            } else {
                theirs
            })
        };
        let units_fork = fork_base(true, self)?;
        self.bases.push(units_fork);
        let codes_fork = fork_base(false, self)?;
        self.bases.push(codes_fork);

        // Earlier merges between the two, still in effect, whose merged state is a later common
        // ancestor than the parting.
        let mut found = records(c, Side::Mine)?;
        found.extend(records(c, Side::Theirs)?);
        found.retain(|r| r.point > fork);
        let mut valid = Vec::new();
        for r in found {
            let described = match r.held_by {
                Side::Mine => Side::Theirs,
                Side::Theirs => Side::Mine,
            };
            if r.print.is_some() && fingerprint(c, described, r.point)? == r.print {
                valid.push(r);
            }
        }
        let best = |coder: Option<&str>| -> Option<usize> {
            let mut best: Option<usize> = None;
            for (i, r) in valid.iter().enumerate() {
                let applies = match (&r.coders, coder) {
                    (None, _) | (_, None) => true,
                    (Some(list), Some(c)) => list.iter().any(|n| n == c),
                };
                if !applies {
                    continue;
                }
                best = match best {
                    None => Some(i),
                    Some(b) if beats(r, &valid[b]) => Some(i),
                    keep => keep,
                };
            }
            best
        };
        let mut base_of_record: HashMap<usize, usize> = HashMap::new();
        let mut since_merge = None;
        let mut record_base = |me: &mut Self, i: usize| -> Result<usize> {
            if let Some(&b) = base_of_record.get(&i) {
                return Ok(b);
            }
            let r = &valid[i];
            let x = match r.held_by {
                Side::Mine => Side::Theirs,
                Side::Theirs => Side::Mine,
            };
            let mut base = me.base_at(x, r.point)?;
            base.left_units = r.left_units.clone();
            base.left_codes = r.left_codes.clone();
            me.bases.push(base);
            let b = me.bases.len() - 1;
            base_of_record.insert(i, b);
            Ok(b)
        };
        // Per coder: a merge that merged only some coders is a common state for those only.
        let names: Vec<String> = {
            let mut st = c.prepare("SELECT name FROM temp.m_coder WHERE sel ORDER BY name")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut set = c.prepare("UPDATE temp.m_coder SET base = ?2 WHERE name = ?1")?;
        for name in &names {
            let b = match best(Some(name)) {
                Some(i) => record_base(self, i)?,
                None => 0,
            };
            set.execute(params![name, b as i64])?;
        }
        self.codes_base = match best(None) {
            Some(i) => {
                let r = &valid[i];
                since_merge = Some(match r.held_by {
                    Side::Mine => format!(
                        "this project merged it at event {}, when it had {} events",
                        r.event, r.point
                    ),
                    Side::Theirs => format!(
                        "it merged this project at its event {}, when this project had {} \
                         events",
                        r.event, r.point
                    ),
                });
                record_base(self, i)?
            }
            None => 1,
        };
        // Rebuild the bases in use (the codebook's and each merged coder's).
        let mut used: BTreeSet<usize> = {
            let mut st = c.prepare("SELECT DISTINCT base FROM temp.m_coder WHERE sel")?;
            st.query_map([], |r| r.get::<_, i64>(0))?
                .map(|b| b.map(|b| b as usize))
                .collect::<rusqlite::Result<_>>()?
        };
        used.insert(self.codes_base);
        for b in used {
            self.prepare_base(b)?;
        }
        Ok(MergeHistory {
            related,
            shared_events,
            parted_after,
            events_here,
            events_theirs,
            since_merge,
        })
    }

    /// A side's state after its first `point` events, and what its log after that cannot tell.
    fn base_at(&self, side: Side, point: i64) -> Result<Base> {
        let s = side.schema();
        // Events that log no rows: imports, plans, and whatever a later lacrima may add. Those
        // that cannot touch codings or codes are harmless; a codings import stamps what it adds;
        // anything else makes the log unable to tell.
        let mut st = self.c.prepare(&format!(
            "SELECT action,
                    CASE WHEN json_valid(after) THEN after->>'$.stamp' END,
                    CASE WHEN json_valid(after) THEN ifnull(after->>'$.memos_updated', 0) END
             FROM {s}.events
             WHERE id > ?1 AND action NOT IN ('import_survey', 'assign.plan')
               AND (CASE WHEN json_valid(before) THEN json_type(before, '$.rows') END)
                   IS NOT 'array'"
        ))?;
        let rows = st.query_map([point], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })?;
        let mut base = Base {
            from: Some((side, point)),
            stamps: Vec::new(),
            opaque_units: false,
            opaque_codes: false,
            left_units: Vec::new(),
            left_codes: Vec::new(),
        };
        for row in rows {
            match row? {
                (a, _, _) if a == "import_codebook" => base.opaque_codes = true,
                // Rows a codings import added carry its stamp; memos it changed on codings
                // that were there already do not, nor does anything an older lacrima imported.
                (a, Some(stamp), Some(0)) if a == "import_codings" => base.stamps.push(stamp),
                (a, _, _) if a == "import_codings" => base.opaque_units = true,
                _ => {
                    base.opaque_units = true;
                    base.opaque_codes = true;
                }
            }
        }
        Ok(base)
    }

    /// Rebuilds base `b` from its side's log: the first state after the point of every row a
    /// later event touched, the codes' GUIDs as they were, and the stamps of later imports.
    fn prepare_base(&self, b: usize) -> Result<()> {
        let Some((side, point)) = self.bases[b].from else {
            return Ok(());
        };
        let s = side.schema();
        let b = b as i64;
        self.c.execute(
            &format!(
                "INSERT INTO temp.m_touch (b, tbl, r, c, k, s, e, ev, row)
                 SELECT ?1, tbl, r, c, k, s, e, min(ev), row FROM (
                     SELECT j.value->>'$.table' AS tbl,
                            j.value->>'$.key.response_id' AS r,
                            coalesce(j.value->>'$.key.coder_id',
                                     j.value->>'$.key.consensus_id') AS c,
                            coalesce(j.value->>'$.key.code_id', j.value->>'$.key.id') AS k,
                            j.value->>'$.key.start' AS s, j.value->>'$.key.end' AS e,
                            ev.id AS ev, j.value->'$.row' AS row
                     FROM {s}.events ev, json_each(ev.before, '$.rows') j
                     WHERE ev.id > ?2 AND ev.before IS NOT NULL AND json_valid(ev.before))
                 GROUP BY tbl, r, c, k, s, e"
            ),
            params![b, point],
        )?;
        self.c.execute_batch(
            "CREATE INDEX IF NOT EXISTS temp.m_touch_key ON m_touch (b, tbl, r, c, k)",
        )?;
        self.c.execute(
            "INSERT INTO temp.m_bcode (b, id, guid)
             SELECT ?1, k, row->>'$.guid' FROM temp.m_touch
             WHERE b = ?1 AND tbl = 'codes' AND row <> 'null' AND row->>'$.guid' IS NOT NULL",
            [b],
        )?;
        self.c.execute(
            &format!(
                "INSERT OR IGNORE INTO temp.m_bcode (b, id, guid)
                 SELECT ?1, id, guid FROM {s}.codes
                 WHERE id NOT IN (SELECT k FROM temp.m_touch WHERE b = ?1 AND tbl = 'codes')"
            ),
            [b],
        )?;
        let mut st = self
            .c
            .prepare("INSERT INTO temp.m_stamp (b, stamp) VALUES (?1, ?2)")?;
        for stamp in &self.bases[b as usize].stamps {
            st.execute(params![b, stamp])?;
        }
        Ok(())
    }
}

/// The `merge` events of a side's log that are in effect (not undone), with their records.
fn records(c: &Connection, held_by: Side) -> Result<Vec<Record>> {
    let s = held_by.schema();
    let mut st = c.prepare(&format!(
        "SELECT id, after->>'$.merge.other_events', after->'$.merge.coders',
                after->'$.merge.conflicts_left', after->'$.merge.code_conflicts_left',
                after->>'$.merge.other_last'
         FROM {s}.events WHERE action = 'merge' AND undone_by IS NULL AND json_valid(after)"
    ))?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let parse = |t: Option<String>| -> Json {
        t.and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Json::Null)
    };
    let mut out = Vec::new();
    for row in rows {
        let (event, point, coders, left, left_codes, print) = row?;
        let Some(point) = point else { continue };
        let coders = parse(coders).as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        });
        let left_units = parse(left)
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|u| {
                        let s = |i: usize| u.get(i).and_then(Json::as_str).map(str::to_string);
                        Some((s(0)?, s(1)?, s(2)?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let left_codes = parse(left_codes)
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Record {
            held_by,
            event,
            point,
            coders,
            left_units,
            left_codes,
            print,
        });
    }
    Ok(out)
}

/// Whether the state merged by `a` is later than that merged by `b`: the same copy's log further
/// on, or a log that already holds `b`'s merge.
fn beats(a: &Record, b: &Record) -> bool {
    if a.held_by == b.held_by {
        a.point > b.point
    } else {
        b.event <= a.point
    }
}
