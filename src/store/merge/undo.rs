//! `lacrima merge --undo`: the latest merge taken back set by set.

use super::*;

/// The rows an event records, one per line: its place in the event, the key's columns and the
/// row before and after (NULL: absent). Filled from the event's JSON by SQLite.
const EVENT_ROWS: &str = "
    DROP TABLE IF EXISTS temp.m_undo;
    CREATE TEMP TABLE m_undo (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, r INTEGER,
                              c INTEGER, k INTEGER, s INTEGER, e INTEGER, key TEXT NOT NULL,
                              before TEXT, after TEXT);";

impl Store {
    /// Takes back the latest merge as a whole: every row it changed, and the coders it added
    /// that nothing refers to any more. Refused, changing nothing, when a row it wrote has
    /// changed since (as the coding screen's undo is). Returns the merge's summary, or None when
    /// no merge is in effect. To do it again, merge again.
    ///
    /// The merge's event is in the form the undo machinery replays, but a merge can hold a few
    /// hundred thousand rows, so it is taken back set by set in SQL (in seconds and a few MB)
    /// rather than row by row through parsed JSON; the `undo` event it logs has the same form.
    pub fn undo_merge(&mut self) -> Result<Option<String>> {
        self.still_in_place()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, after->>'$.summary' FROM events
                 WHERE action = 'merge' AND undone_by IS NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, summary)) = found else {
            return Ok(None);
        };
        tx.execute_batch(EVENT_ROWS)?;
        tx.execute(
            "INSERT INTO temp.m_undo (seq, tbl, r, c, k, s, e, key, after)
             SELECT j.key, j.value->>'$.table', j.value->>'$.key.response_id',
                    coalesce(j.value->>'$.key.coder_id', j.value->>'$.key.consensus_id'),
                    coalesce(j.value->>'$.key.code_id', j.value->>'$.key.id'),
                    j.value->>'$.key.start', j.value->>'$.key.end', j.value->'$.key',
                    nullif(j.value->'$.row', 'null')
             FROM events ev, json_each(ev.after, '$.rows') j WHERE ev.id = ?1",
            [id],
        )?;
        tx.execute(
            "UPDATE temp.m_undo SET before = nullif(b.value->'$.row', 'null')
             FROM (SELECT j.key, j.value FROM events ev, json_each(ev.before, '$.rows') j
                   WHERE ev.id = ?1) b
             WHERE b.key = m_undo.seq",
            [id],
        )?;
        // Still as the merge left it? Codes are few and read as the event has them; the other
        // tables are compared set by set.
        let changed_since = || {
            Error::input(format!(
                "cannot undo \"{summary}\": it was changed since (by a coder or another \
                 merge); nothing was changed"
            ))
        };
        let codes: Vec<(i64, i64, Option<String>, Option<String>)> = {
            let mut st = tx.prepare(
                "SELECT seq, k, before, after FROM temp.m_undo WHERE tbl = 'codes' ORDER BY seq",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let parse = |t: &Option<String>| -> Result<Option<Json>> {
            t.as_deref()
                .map(|t| {
                    serde_json::from_str(t).map_err(|_| {
                        Error::input("the event log holds a merge this version cannot read")
                    })
                })
                .transpose()
        };
        for (_, code, _, after) in &codes {
            if read_row(&tx, Table::Codes, &json!({ "id": code }))? != parse(after)? {
                return Err(changed_since());
            }
        }
        let differs: i64 = one(
            &tx,
            "SELECT count(*) FROM temp.m_undo v WHERE CASE v.tbl
               WHEN 'codings' THEN (SELECT count(*) FROM codings k
                   WHERE k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                   AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)
                   AND v.after IS NOT NULL AND k.memo = v.after->>'$.memo'
                   AND k.created_at = v.after->>'$.created_at')
                 <> (v.after IS NOT NULL) OR (v.after IS NULL AND EXISTS (SELECT 1 FROM codings k
                   WHERE k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                   AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)))
               WHEN 'reviews' THEN (SELECT reviewed_at FROM reviews x
                   WHERE x.response_id = v.r AND x.coder_id = v.c) IS NOT (v.after->>'$.reviewed_at')
               WHEN 'memos' THEN (SELECT json_array(text, updated_at) FROM memos m
                   WHERE m.coder_id = v.c AND ifnull(m.response_id, -1) = ifnull(v.r, -1)
                   AND ifnull(m.code_id, -1) = ifnull(v.k, -1))
                 IS NOT CASE WHEN v.after IS NOT NULL THEN
                   json_array(v.after->>'$.text', v.after->>'$.updated_at') END
               WHEN 'consensus_decisions' THEN (SELECT json_array(decision, adopted_from,
                       from_coders, decided_by, decided_at, event_id)
                   FROM consensus_decisions d
                   WHERE d.consensus_id = v.c AND d.response_id = v.r AND d.code_id = v.k)
                 IS NOT CASE WHEN v.after IS NOT NULL THEN json_array(v.after->>'$.decision',
                   v.after->>'$.adopted_from', v.after->>'$.from_coders',
                   v.after->>'$.decided_by', v.after->>'$.decided_at', v.after->>'$.event_id') END
               ELSE 0 END",
            [],
        )?;
        if differs > 0 {
            return Err(changed_since());
        }
        // Back, in the reverse of the order written: codes the merge deleted come back first
        // (the codings restored below may use them), codes it added or changed go last.
        for (_, code, before, after) in codes.iter().rev() {
            if after.is_none() {
                write_row(
                    &tx,
                    Table::Codes,
                    &json!({ "id": code }),
                    parse(before)?.as_ref(),
                )?;
            }
        }
        tx.execute_batch(
            "DELETE FROM codings WHERE id IN (
                 SELECT k.id FROM temp.m_undo v JOIN codings k
                 ON k.response_id = v.r AND k.coder_id = v.c AND k.code_id = v.k
                 AND ifnull(k.start, -1) = ifnull(v.s, -1) AND ifnull(k.\"end\", -1) = ifnull(v.e, -1)
                 WHERE v.tbl = 'codings');
             INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", memo, created_at)
             SELECT r, k, c, s, e, before->>'$.memo', before->>'$.created_at' FROM temp.m_undo
             WHERE tbl = 'codings' AND before IS NOT NULL ORDER BY seq;
             DELETE FROM reviews WHERE (response_id, coder_id) IN (
                 SELECT r, c FROM temp.m_undo WHERE tbl = 'reviews');
             INSERT INTO reviews (response_id, coder_id, reviewed_at)
             SELECT r, c, before->>'$.reviewed_at' FROM temp.m_undo
             WHERE tbl = 'reviews' AND before IS NOT NULL;
             DELETE FROM memos WHERE (coder_id, ifnull(response_id, -1), ifnull(code_id, -1)) IN (
                 SELECT c, ifnull(r, -1), ifnull(k, -1) FROM temp.m_undo WHERE tbl = 'memos');
             INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
             SELECT c, r, k, before->>'$.text', before->>'$.updated_at' FROM temp.m_undo
             WHERE tbl = 'memos' AND before IS NOT NULL ORDER BY seq;
             DELETE FROM consensus_decisions WHERE (consensus_id, response_id, code_id) IN (
                 SELECT c, r, k FROM temp.m_undo WHERE tbl = 'consensus_decisions');
             INSERT INTO consensus_decisions (consensus_id, response_id, code_id, decision,
                 adopted_from, from_coders, decided_by, decided_at, event_id)
             SELECT c, r, k, before->>'$.decision', before->>'$.adopted_from',
                    before->>'$.from_coders', before->>'$.decided_by', before->>'$.decided_at',
                    before->>'$.event_id'
             FROM temp.m_undo WHERE tbl = 'consensus_decisions' AND before IS NOT NULL;",
        )?;
        for (_, code, before, after) in codes.iter().rev() {
            if after.is_some() {
                write_row(
                    &tx,
                    Table::Codes,
                    &json!({ "id": code }),
                    parse(before)?.as_ref(),
                )?;
            }
        }
        // The undo is an event too, in the form `replay` writes: the rows in reverse order,
        // from the state the merge left to the state before it.
        let head = format!(
            "{{\"summary\":{},\"response_id\":null,\"code_id\":null,\"replays\":{id},",
            Json::from(summary.as_str())
        );
        let side = |col: &str| event_side(&tx, "temp.m_undo", col, "DESC", &head, "");
        tx.execute(
            "INSERT INTO events (at, coder_id, action, before) VALUES (?1, NULL, 'undo', ?2)",
            params![crate::timefmt::now(), side("after")?],
        )?;
        let undo_id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE events SET after = ?2 WHERE id = ?1",
            params![undo_id, side("before")?],
        )?;
        tx.execute(
            "UPDATE events SET undone_by = ?1 WHERE id = ?2",
            params![undo_id, id],
        )?;
        // Coders the merge added, if nothing refers to them any more.
        let created: Vec<String> = {
            let mut st = tx.prepare(
                "SELECT j.value FROM events ev,
                     json_each(ev.after, '$.merge.coders_created') j WHERE ev.id = ?1",
            )?;
            st.query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for name in created {
            tx.execute(
                "DELETE FROM coders WHERE name = ?1
                 AND NOT EXISTS (SELECT 1 FROM codings WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM reviews WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM memos WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM consensus_decisions WHERE consensus_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM assignments WHERE coder_id = coders.id)
                 AND NOT EXISTS (SELECT 1 FROM events WHERE coder_id = coders.id)",
                [name],
            )?;
        }
        tx.execute_batch("DROP TABLE temp.m_undo")?;
        tx.commit()?;
        Ok(Some(summary))
    }
}
