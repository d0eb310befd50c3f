//! The (coder, answer) units: which differ, their three versions, what becomes of each, and the
//! copy's versions written set by set.

use super::*;

/// The rows of (answer, coder) units in one side, as `m_ur` holds them, for the units in
/// `m_unit` (all of them, or those of base `b`). With `untouched` (base `b`'s point), only rows
/// that no event after that point touched, that no later import stamped, and no consensus
/// decision that a later event made (`consensus --agreed|--single` do not list the decisions
/// they add among their rows, but name their event in them, and never overwrite one): the rest
/// of the base comes from the events (see `touched_rows`).
fn unit_rows(ver: i64, side: Side, b: Option<i64>, untouched: Option<i64>) -> Vec<String> {
    let s = side.schema();
    let (rj, r) = match side {
        Side::Theirs => ("JOIN temp.m_rmap rm ON rm.t_id = t.response_id", "rm.m_id"),
        Side::Mine => ("", "t.response_id"),
    };
    let unit = match b {
        Some(b) => format!("JOIN temp.m_unit u ON u.r = {r} AND u.coder = d.name AND u.base = {b}"),
        None => format!("JOIN temp.m_unit u ON u.r = {r} AND u.coder = d.name"),
    };
    let b = b.unwrap_or(-1);
    let (untouched, point) = (untouched.is_some(), untouched.unwrap_or(0));
    let not_touched = |tbl: &str, key: &str| {
        if untouched {
            format!(
                "AND NOT EXISTS (SELECT 1 FROM temp.m_touch x WHERE x.b = {b} AND x.tbl = '{tbl}' \
                 AND {key})"
            )
        } else {
            String::new()
        }
    };
    let not_stamped = |col: &str| {
        if untouched {
            format!("AND {col} NOT IN (SELECT stamp FROM temp.m_stamp WHERE b = {b})")
        } else {
            String::new()
        }
    };
    let insert = "INSERT INTO temp.m_ur (ver, r, coder, kind, g, s, e, v, stamp)";
    vec![
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 1, kc.guid, t.start, t.\"end\", t.memo, t.created_at
             FROM {s}.codings t {rj} JOIN {s}.coders d ON d.id = t.coder_id {unit}
             JOIN {s}.codes kc ON kc.id = t.code_id
             WHERE 1 {} {}",
            not_touched(
                "codings",
                "x.r = t.response_id AND x.c = t.coder_id AND x.k = t.code_id \
                 AND x.s IS t.start AND x.e IS t.\"end\""
            ),
            not_stamped("t.created_at")
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 2, '', NULL, NULL, '', t.reviewed_at
             FROM {s}.reviews t {rj} JOIN {s}.coders d ON d.id = t.coder_id {unit}
             WHERE 1 {} {}",
            not_touched("reviews", "x.r = t.response_id AND x.c = t.coder_id"),
            not_stamped("t.reviewed_at")
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 3, '', NULL, NULL, t.text, t.updated_at
             FROM {s}.memos t {rj} JOIN {s}.coders d ON d.id = t.coder_id {unit}
             WHERE t.response_id IS NOT NULL {}",
            not_touched(
                "memos",
                "x.r = t.response_id AND x.c = t.coder_id AND x.k IS NULL"
            )
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 4, kc.guid, NULL, NULL,
                    json_array(t.decision, t.adopted_from, t.from_coders, t.decided_by),
                    t.decided_at
             FROM {s}.consensus_decisions t {rj} JOIN {s}.coders d ON d.id = t.consensus_id
             {unit} JOIN {s}.codes kc ON kc.id = t.code_id
             WHERE 1 {}",
            not_touched(
                "consensus_decisions",
                "x.r = t.response_id AND x.c = t.consensus_id AND x.k = t.code_id"
            ) + &if untouched {
                format!(" AND ifnull(t.event_id, 0) <= {point}")
            } else {
                String::new()
            }
        ),
    ]
}

/// The base rows that events after base `b`'s point touched: each row's state before the first
/// of them (absent rows and rows a later import stamped are not in the base).
fn touched_rows(ver: i64, side: Side, b: i64) -> Vec<String> {
    let s = side.schema();
    let (rj, r) = match side {
        Side::Theirs => ("JOIN temp.m_rmap rm ON rm.t_id = x.r", "rm.m_id"),
        Side::Mine => ("", "x.r"),
    };
    let from = format!(
        "FROM temp.m_touch x {rj} JOIN {s}.coders d ON d.id = x.c
         JOIN temp.m_unit u ON u.r = {r} AND u.coder = d.name AND u.base = {b}"
    );
    let stamps = format!("(SELECT stamp FROM temp.m_stamp WHERE b = {b})");
    let insert = "INSERT INTO temp.m_ur (ver, r, coder, kind, g, s, e, v, stamp)";
    vec![
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 1, bc.guid, x.s, x.e, x.row->>'$.memo',
                    x.row->>'$.created_at'
             {from} JOIN temp.m_bcode bc ON bc.b = {b} AND bc.id = x.k
             WHERE x.b = {b} AND x.tbl = 'codings' AND x.row <> 'null'
               AND (x.row->>'$.created_at') NOT IN {stamps}"
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 2, '', NULL, NULL, '', x.row->>'$.reviewed_at'
             {from}
             WHERE x.b = {b} AND x.tbl = 'reviews' AND x.row <> 'null'
               AND (x.row->>'$.reviewed_at') NOT IN {stamps}"
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 3, '', NULL, NULL, x.row->>'$.text',
                    x.row->>'$.updated_at'
             {from}
             WHERE x.b = {b} AND x.tbl = 'memos' AND x.r IS NOT NULL AND x.row <> 'null'"
        ),
        format!(
            "{insert} SELECT {ver}, {r}, d.name, 4, bc.guid, NULL, NULL,
                    json_array(x.row->>'$.decision', x.row->>'$.adopted_from',
                               x.row->>'$.from_coders', x.row->>'$.decided_by'),
                    x.row->>'$.decided_at'
             {from} JOIN temp.m_bcode bc ON bc.b = {b} AND bc.id = x.k
             WHERE x.b = {b} AND x.tbl = 'consensus_decisions' AND x.row <> 'null'"
        ),
    ]
}

/// One side's rows of every unit, for finding the units that differ: answers by their id here,
/// coders and codes by numbers both sides share (`m_coder`'s rowid, `m_code.n`), so that the
/// comparison sorts integers rather than names and GUIDs.
fn all_rows(side: Side) -> String {
    let s = side.schema();
    let (rj, r, cid, kid) = match side {
        Side::Theirs => (
            "JOIN temp.m_rmap rm ON rm.t_id = t.response_id",
            "rm.m_id",
            "t_id",
            "t_id",
        ),
        Side::Mine => (
            "JOIN temp.m_rmap rm ON rm.m_id = t.response_id",
            "t.response_id",
            "m_id",
            "m_id",
        ),
    };
    let coder = |col: &str| format!("JOIN temp.m_coder sc ON sc.{cid} = t.{col} AND sc.sel");
    let code = format!("JOIN temp.m_code kc ON kc.{kid} = t.code_id");
    format!(
        "SELECT {r} AS r, sc.rowid AS cn, 1 AS kind, kc.n AS g, t.start AS s, t.\"end\" AS e,
                t.memo AS v
         FROM {s}.codings t {rj} {} {code}
         UNION ALL
         SELECT {r}, sc.rowid, 2, 0, NULL, NULL, '' FROM {s}.reviews t {rj} {}
         UNION ALL
         SELECT {r}, sc.rowid, 3, 0, NULL, NULL, t.text FROM {s}.memos t {rj} {}
         WHERE t.response_id IS NOT NULL
         UNION ALL
         SELECT {r}, sc.rowid, 4, kc.n, NULL, NULL,
                json_array(t.decision, t.adopted_from, t.from_coders, t.decided_by)
         FROM {s}.consensus_decisions t {rj} {} {code}",
        coder("coder_id"),
        coder("coder_id"),
        coder("coder_id"),
        coder("consensus_id"),
    )
}

impl Merge<'_> {
    /// The units coded differently in the two copies: rows one side has and the other lacks
    /// (timestamps aside). Everything else is the same in both and needs nothing.
    pub(super) fn find_units(&self) -> Result<()> {
        let c = self.c;
        c.execute_batch(&format!(
            "CREATE INDEX temp.m_coder_m ON m_coder (m_id);
             CREATE INDEX temp.m_coder_t ON m_coder (t_id);
             CREATE TEMP TABLE m_code (n INTEGER PRIMARY KEY, guid TEXT NOT NULL UNIQUE,
                                       m_id INTEGER UNIQUE, t_id INTEGER UNIQUE);
             INSERT INTO temp.m_code (guid, m_id) SELECT guid, id FROM main.codes;
             INSERT INTO temp.m_code (guid, t_id) SELECT guid, id FROM other.codes WHERE true
             ON CONFLICT (guid) DO UPDATE SET t_id = excluded.t_id;
             INSERT OR IGNORE INTO temp.m_unit (r, coder)
             SELECT DISTINCT x.r, sc.name FROM (
                 SELECT r, cn FROM ({} UNION ALL {})
                 GROUP BY r, cn, kind, g, s, e, v HAVING count(*) = 1) x
             JOIN temp.m_coder sc ON sc.rowid = x.cn;
             UPDATE temp.m_unit SET
                 base = (SELECT base FROM temp.m_coder WHERE name = m_unit.coder),
                 same = (SELECT same FROM temp.m_rmap WHERE m_id = m_unit.r);",
            all_rows(Side::Theirs),
            all_rows(Side::Mine)
        ))?;
        for sql in unit_rows(0, Side::Mine, None, None) {
            c.execute_batch(&sql)?;
        }
        for sql in unit_rows(1, Side::Theirs, None, None) {
            c.execute_batch(&sql)?;
        }
        let bases: Vec<i64> = {
            let mut st = c.prepare("SELECT DISTINCT base FROM temp.m_unit")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for b in bases {
            let Some((side, point)) = self.bases[b as usize].from else {
                continue;
            };
            for sql in unit_rows(2 + b, side, Some(b), Some(point)) {
                c.execute_batch(&sql)?;
            }
            for sql in touched_rows(2 + b, side, b) {
                c.execute_batch(&sql)?;
            }
        }
        Ok(())
    }

    /// Compares each unit's three versions: changed only in the copy, take it; only here (or
    /// in neither), keep this one; in both, a conflict (settled by `--prefer` when given).
    pub(super) fn decide_units(&mut self) -> Result<()> {
        let c = self.c;
        // Each version of a unit as one string: its rows in a fixed order, each field
        // separated and the free text length-prefixed, so that equal strings mean equal rows.
        c.execute_batch(
            "CREATE TEMP TABLE m_dig AS
             SELECT ver, r, coder,
                    group_concat(kind || '|' || g || '|' || ifnull(s, '') || '|' || ifnull(e, '')
                                 || '|' || length(v) || ':' || v, char(30)
                                 ORDER BY kind, g, s, e, v) AS d
             FROM temp.m_ur GROUP BY ver, r, coder;
             CREATE INDEX temp.m_dig_k ON m_dig (r, coder, ver);
             UPDATE temp.m_unit SET
                 dm = ifnull((SELECT d FROM temp.m_dig x
                              WHERE x.r = m_unit.r AND x.coder = m_unit.coder AND x.ver = 0), ''),
                 dt = ifnull((SELECT d FROM temp.m_dig x
                              WHERE x.r = m_unit.r AND x.coder = m_unit.coder AND x.ver = 1), ''),
                 db = ifnull((SELECT d FROM temp.m_dig x WHERE x.r = m_unit.r
                              AND x.coder = m_unit.coder AND x.ver = 2 + m_unit.base), '');",
        )?;
        for b in 0..self.bases.len() {
            let (opaque_t, opaque_m) = self.opaque(b, true);
            c.execute(
                "UPDATE temp.m_unit SET verdict = CASE
                     WHEN same = 0 THEN 'answer_text'
                     WHEN NOT (dt <> db OR ?2) THEN 'keep'
                     WHEN NOT (dm <> db OR ?3) THEN 'take'
                     ELSE 'answer' END
                 WHERE base = ?1",
                params![b as i64, opaque_t, opaque_m],
            )?;
            // Conflicts an earlier merge left open stay conflicts until settled.
            let mut st = c.prepare(
                "UPDATE temp.m_unit SET verdict = 'answer', left_open = 1
                 WHERE base = ?4 AND coder = ?3 AND verdict IN ('keep', 'take')
                   AND r = (SELECT s.id FROM main.responses s
                            JOIN main.respondents p ON p.id = s.respondent_id
                            JOIN main.questions q ON q.id = s.question_id
                            WHERE p.ext_id = ?1 AND q.name = ?2)",
            )?;
            for (ext, question, coder) in &self.bases[b].left_units {
                st.execute(params![ext, question, coder, b as i64])?;
            }
        }
        if let Some(p) = self.opts.prefer {
            c.execute(
                "UPDATE temp.m_unit SET settled = 1, verdict = ?1 WHERE verdict = 'answer'",
                [match p {
                    Prefer::Mine => "keep",
                    Prefer::Theirs => "take",
                }],
            )?;
        }
        // The copy's version needs codes this codebook has (after the codebook's merge); when
        // it has all of the copy's codes, nothing needs checking.
        let lacking: i64 = one(
            c,
            "SELECT count(*) FROM other.codes t
             WHERE NOT EXISTS (SELECT 1 FROM main.codes k WHERE k.guid = t.guid)",
            [],
        )?;
        if lacking > 0 {
            c.execute_batch(
                "UPDATE temp.m_unit SET verdict = 'code_missing'
             WHERE verdict = 'take' AND EXISTS (
                 SELECT 1 FROM temp.m_ur x WHERE x.ver = 1 AND x.r = m_unit.r
                 AND x.coder = m_unit.coder AND x.kind IN (1, 4)
                 AND NOT EXISTS (SELECT 1 FROM main.codes k WHERE k.guid = x.g))",
            )?;
        }
        Ok(())
    }

    /// Adds the copy's coders whose work is taken and who are not in this project yet.
    pub(super) fn create_coders(&mut self) -> Result<()> {
        let new: Vec<(String, bool)> = {
            let mut st = self.c.prepare(
                "SELECT DISTINCT mc.name, mc.t_consensus FROM temp.m_unit u
                 JOIN temp.m_coder mc ON mc.name = u.coder
                 WHERE u.verdict = 'take' AND mc.m_id IS NULL ORDER BY mc.name",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (name, consensus) in new {
            self.create_coder(&name, consensus)?;
        }
        Ok(())
    }

    pub(super) fn create_coder(&mut self, name: &str, consensus: bool) -> Result<i64> {
        let id = crate::store::coder_id_in(self.c, name)?;
        if consensus {
            self.c.execute(
                "UPDATE main.coders SET is_consensus = 1 WHERE id = ?1",
                [id],
            )?;
        }
        self.c.execute(
            "UPDATE temp.m_coder SET m_id = ?2 WHERE name = ?1",
            params![name, id],
        )?;
        self.coders_created.push(name.to_string());
        Ok(id)
    }

    /// Replaces this project's version of every taken unit by the copy's, set by set, and
    /// records each row that changes (before and after, as the undo machinery reads them).
    pub(super) fn take_units(&self) -> Result<()> {
        let c = self.c;
        c.execute_batch(
            "INSERT INTO temp.m_take (r, c)
             SELECT u.r, mc.m_id FROM temp.m_unit u JOIN temp.m_coder mc ON mc.name = u.coder
             WHERE u.verdict = 'take';",
        )?;
        let theirs_from = "FROM other.{T} t
             JOIN temp.m_rmap rm ON rm.t_id = t.response_id
             JOIN other.coders oc ON oc.id = t.{C}
             JOIN temp.m_coder mc ON mc.name = oc.name
             JOIN temp.m_take tk ON tk.r = rm.m_id AND tk.c = mc.m_id";
        let theirs = |t: &str, col: &str| theirs_from.replace("{T}", t).replace("{C}", col);
        // Codings: key (answer, coder, code, start, end); a changed memo is a changed row.
        c.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.m_mine; DROP TABLE IF EXISTS temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT k.response_id AS r, k.coder_id AS c, k.code_id AS k, k.start AS s,
                    k.\"end\" AS e, k.memo AS v, k.created_at AS at
             FROM main.codings k JOIN temp.m_take t ON t.r = k.response_id AND t.c = k.coder_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, mk.id AS k, t.start AS s, t.\"end\" AS e,
                    t.memo AS v, t.created_at AS at
             {}
             JOIN other.codes ok ON ok.id = t.code_id JOIN main.codes mk ON mk.guid = ok.guid;
             CREATE INDEX temp.m_mine_k ON m_mine (r, c, k);
             CREATE INDEX temp.m_theirs_k ON m_theirs (r, c, k);
             INSERT INTO temp.m_ev (tbl, r, c, k, s, e, key, before, after)
             SELECT 'codings', m.r, m.c, m.k, m.s, m.e,
                    json_object('response_id', m.r, 'coder_id', m.c, 'code_id', m.k,
                                'start', m.s, 'end', m.e),
                    json_object('memo', m.v, 'created_at', m.at),
                    CASE WHEN t.r IS NOT NULL THEN json_object('memo', t.v, 'created_at', t.at) END
             FROM temp.m_mine m LEFT JOIN temp.m_theirs t
                  ON t.r = m.r AND t.c = m.c AND t.k = m.k AND t.s IS m.s AND t.e IS m.e
             WHERE t.r IS NULL OR t.v <> m.v
             ORDER BY m.r, m.c, m.k, m.s, m.e;
             INSERT INTO temp.m_ev (tbl, r, c, k, s, e, key, before, after)
             SELECT 'codings', t.r, t.c, t.k, t.s, t.e,
                    json_object('response_id', t.r, 'coder_id', t.c, 'code_id', t.k,
                                'start', t.s, 'end', t.e),
                    NULL, json_object('memo', t.v, 'created_at', t.at)
             FROM temp.m_theirs t
             WHERE NOT EXISTS (SELECT 1 FROM temp.m_mine m WHERE m.r = t.r AND m.c = t.c
                               AND m.k = t.k AND m.s IS t.s AND m.e IS t.e)
             ORDER BY t.r, t.c, t.k, t.s, t.e;",
            theirs("codings", "coder_id")
        ))?;
        // Review marks: present or not.
        c.execute_batch(&format!(
            "DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT v.response_id AS r, v.coder_id AS c, v.reviewed_at AS at
             FROM main.reviews v JOIN temp.m_take t ON t.r = v.response_id AND t.c = v.coder_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, t.reviewed_at AS at {};
             INSERT INTO temp.m_ev (tbl, r, c, key, before, after)
             SELECT 'reviews', m.r, m.c, json_object('response_id', m.r, 'coder_id', m.c),
                    json_object('reviewed_at', m.at), NULL
             FROM temp.m_mine m
             WHERE NOT EXISTS (SELECT 1 FROM temp.m_theirs t WHERE t.r = m.r AND t.c = m.c)
             ORDER BY m.r, m.c;
             INSERT INTO temp.m_ev (tbl, r, c, key, before, after)
             SELECT 'reviews', t.r, t.c, json_object('response_id', t.r, 'coder_id', t.c),
                    NULL, json_object('reviewed_at', t.at)
             FROM temp.m_theirs t
             WHERE NOT EXISTS (SELECT 1 FROM temp.m_mine m WHERE m.r = t.r AND m.c = t.c)
             ORDER BY t.r, t.c;",
            theirs("reviews", "coder_id")
        ))?;
        // Memos on answers.
        c.execute_batch(&format!(
            "DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT m.response_id AS r, m.coder_id AS c, m.text AS v, m.updated_at AS at
             FROM main.memos m JOIN temp.m_take t ON t.r = m.response_id AND t.c = m.coder_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, t.text AS v, t.updated_at AS at {};
             INSERT INTO temp.m_ev (tbl, r, c, key, before, after)
             SELECT 'memos', coalesce(m.r, t.r), coalesce(m.c, t.c),
                    json_object('coder_id', coalesce(m.c, t.c),
                                'response_id', coalesce(m.r, t.r), 'code_id', NULL),
                    CASE WHEN m.r IS NOT NULL THEN json_object('text', m.v, 'updated_at', m.at) END,
                    CASE WHEN t.r IS NOT NULL THEN json_object('text', t.v, 'updated_at', t.at) END
             FROM temp.m_mine m FULL JOIN temp.m_theirs t ON t.r = m.r AND t.c = m.c
             WHERE m.v IS NOT t.v
             ORDER BY 2, 3;",
            theirs("memos", "coder_id")
        ))?;
        // Consensus decisions of consensus coders (their `event_id` points into the copy's
        // log, so it is not carried over).
        c.execute_batch(&format!(
            "DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;
             CREATE TEMP TABLE m_mine AS
             SELECT d.response_id AS r, d.consensus_id AS c, d.code_id AS k,
                    json_object('decision', d.decision, 'adopted_from', d.adopted_from,
                                'from_coders', d.from_coders, 'decided_by', d.decided_by,
                                'decided_at', d.decided_at, 'event_id', d.event_id) AS row,
                    json_array(d.decision, d.adopted_from, d.from_coders, d.decided_by) AS v
             FROM main.consensus_decisions d
             JOIN temp.m_take t ON t.r = d.response_id AND t.c = d.consensus_id;
             CREATE TEMP TABLE m_theirs AS
             SELECT rm.m_id AS r, mc.m_id AS c, mk.id AS k,
                    json_object('decision', t.decision, 'adopted_from', t.adopted_from,
                                'from_coders', t.from_coders, 'decided_by', t.decided_by,
                                'decided_at', t.decided_at, 'event_id', NULL) AS row,
                    json_array(t.decision, t.adopted_from, t.from_coders, t.decided_by) AS v
             {}
             JOIN other.codes ok ON ok.id = t.code_id JOIN main.codes mk ON mk.guid = ok.guid;
             INSERT INTO temp.m_ev (tbl, r, c, k, key, before, after)
             SELECT 'consensus_decisions', coalesce(m.r, t.r), coalesce(m.c, t.c),
                    coalesce(m.k, t.k),
                    json_object('consensus_id', coalesce(m.c, t.c),
                                'response_id', coalesce(m.r, t.r), 'code_id', coalesce(m.k, t.k)),
                    m.row, t.row
             FROM temp.m_mine m FULL JOIN temp.m_theirs t
                  ON t.r = m.r AND t.c = m.c AND t.k = m.k
             WHERE m.v IS NOT t.v
             ORDER BY 2, 3, 4;
             DROP TABLE temp.m_mine; DROP TABLE temp.m_theirs;",
            theirs("consensus_decisions", "consensus_id")
        ))?;
        // Apply: every recorded key is deleted, then the copy's rows are inserted.
        c.execute_batch(
            "DELETE FROM main.codings WHERE id IN (
                 SELECT k.id FROM temp.m_ev v JOIN main.codings k
                 ON k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                 AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)
                 WHERE v.tbl = 'codings');
             INSERT INTO main.codings (response_id, code_id, coder_id, start, \"end\", memo,
                                       created_at)
             SELECT r, k, c, s, e, after->>'$.memo', after->>'$.created_at' FROM temp.m_ev
             WHERE tbl = 'codings' AND after IS NOT NULL ORDER BY seq;
             DELETE FROM main.reviews WHERE (response_id, coder_id) IN (
                 SELECT r, c FROM temp.m_ev WHERE tbl = 'reviews');
             INSERT INTO main.reviews (response_id, coder_id, reviewed_at)
             SELECT r, c, after->>'$.reviewed_at' FROM temp.m_ev
             WHERE tbl = 'reviews' AND after IS NOT NULL ORDER BY seq;
             DELETE FROM main.memos WHERE code_id IS NULL AND (coder_id, response_id) IN (
                 SELECT c, r FROM temp.m_ev WHERE tbl = 'memos' AND r IS NOT NULL);
             INSERT INTO main.memos (coder_id, response_id, code_id, text, updated_at)
             SELECT c, r, NULL, after->>'$.text', after->>'$.updated_at' FROM temp.m_ev
             WHERE tbl = 'memos' AND r IS NOT NULL AND after IS NOT NULL ORDER BY seq;
             DELETE FROM main.consensus_decisions
             WHERE (consensus_id, response_id, code_id) IN (
                 SELECT c, r, k FROM temp.m_ev WHERE tbl = 'consensus_decisions');
             INSERT INTO main.consensus_decisions (consensus_id, response_id, code_id, decision,
                 adopted_from, from_coders, decided_by, decided_at, event_id)
             SELECT c, r, k, after->>'$.decision', after->>'$.adopted_from',
                    after->>'$.from_coders', after->>'$.decided_by', after->>'$.decided_at', NULL
             FROM temp.m_ev WHERE tbl = 'consensus_decisions' AND after IS NOT NULL ORDER BY seq;",
        )?;
        Ok(())
    }
}
