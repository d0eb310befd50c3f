//! How the consensus writes its codings and records each decision in the event log: the changed
//! rows in the shape of the coding screen's events, so that undo can take a decision back, plus
//! every compared coder's version and who decided.

use super::{Span, Version};
use crate::error::Result;
use crate::store::log_event;
use rusqlite::{Connection, params};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

fn spans_json(spans: &[Span], names: &HashMap<i64, String>) -> Json {
    Json::Array(
        spans
            .iter()
            .map(|s| {
                json!({"code": names.get(&s.code_id), "code_id": s.code_id,
                       "start": s.start, "end": s.end})
            })
            .collect(),
    )
}

pub(super) fn versions_json(
    versions: &[&Version],
    names: &HashMap<i64, String>,
    code: Option<i64>,
) -> Json {
    let mut map = serde_json::Map::new();
    for v in versions {
        let spans: Vec<Span> = match code {
            Some(c) => v.of_code(c).copied().collect(),
            None => v.codings.clone(),
        };
        map.insert(
            v.coder.clone(),
            if v.rated {
                spans_json(&spans, names)
            } else {
                Json::Null
            },
        );
    }
    Json::Object(map)
}

/// The event bodies, in the shape of the coding screen's events (changed rows with their keys)
/// plus what was compared and who decided.
pub(super) struct EventRows {
    rows_before: Vec<Json>,
    rows_after: Vec<Json>,
}

impl EventRows {
    pub(super) fn new() -> Self {
        Self {
            rows_before: Vec::new(),
            rows_after: Vec::new(),
        }
    }

    /// A coding removed, as it was.
    pub(super) fn removed_coding(
        &mut self,
        response: i64,
        coder: i64,
        s: &Span,
        memo: &str,
        created: &str,
    ) {
        let key = json!({"response_id": response, "coder_id": coder, "code_id": s.code_id,
                         "start": s.start, "end": s.end});
        self.rows_before.push(
            json!({"table": "codings", "key": key, "row": {"memo": memo, "created_at": created}}),
        );
        self.rows_after
            .push(json!({"table": "codings", "key": key, "row": null}));
    }

    /// A coding added with its memo (a copy of another coder's coding, or "").
    pub(super) fn added_coding(
        &mut self,
        response: i64,
        coder: i64,
        s: &Span,
        memo: &str,
        now: &str,
    ) {
        let key = json!({"response_id": response, "coder_id": coder, "code_id": s.code_id,
                         "start": s.start, "end": s.end});
        self.rows_before
            .push(json!({"table": "codings", "key": key, "row": null}));
        self.rows_after.push(
            json!({"table": "codings", "key": key, "row": {"memo": memo, "created_at": now}}),
        );
    }

    /// A memo on an answer added (there was none).
    pub(super) fn added_memo(&mut self, response: i64, coder: i64, text: &str, now: &str) {
        let key = json!({"coder_id": coder, "response_id": response, "code_id": null});
        self.rows_before
            .push(json!({"table": "memos", "key": key, "row": null}));
        self.rows_after
            .push(json!({"table": "memos", "key": key, "row": {"text": text, "updated_at": now}}));
    }

    /// A decision recorded, over the one before it (if any).
    pub(super) fn decision(&mut self, key: &Json, before: Option<Json>, after: &Json) {
        self.rows_before
            .push(json!({"table": "consensus_decisions", "key": key, "row": before}));
        self.rows_after
            .push(json!({"table": "consensus_decisions", "key": key, "row": after}));
    }

    pub(super) fn review(&mut self, response: i64, coder: i64, now: &str) {
        let key = json!({"response_id": response, "coder_id": coder});
        self.rows_before
            .push(json!({"table": "reviews", "key": key, "row": null}));
        self.rows_after
            .push(json!({"table": "reviews", "key": key, "row": {"reviewed_at": now}}));
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows_after.is_empty()
    }
}

pub(super) struct EventText<'a> {
    pub(super) action: &'a str,
    pub(super) summary: String,
    pub(super) response_id: i64,
    pub(super) code_id: Option<i64>,
    pub(super) extra: Json,
}

pub(super) fn log_decision(
    conn: &Connection,
    consensus: i64,
    rows: EventRows,
    t: EventText<'_>,
) -> Result<i64> {
    let side = |rows: Vec<Json>| {
        let mut body = json!({
            "summary": t.summary, "response_id": t.response_id, "code_id": t.code_id, "rows": rows
        });
        if let (Some(b), Some(extra)) = (body.as_object_mut(), t.extra.as_object()) {
            for (k, v) in extra {
                b.insert(k.clone(), v.clone());
            }
        }
        body
    };
    log_event(
        conn,
        Some(consensus),
        t.action,
        Some(&side(rows.rows_before)),
        Some(&side(rows.rows_after)),
    )
}

pub(super) fn insert_coding(
    conn: &Connection,
    response: i64,
    coder: i64,
    s: &Span,
    now: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", memo, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6)",
        params![response, s.code_id, coder, s.start, s.end, now],
    )?;
    Ok(())
}

pub(super) fn insert_review(
    conn: &Connection,
    response: i64,
    coder: i64,
    now: &str,
) -> Result<bool> {
    Ok(conn.execute(
        "INSERT INTO reviews (response_id, coder_id, reviewed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![response, coder, now],
    )? == 1)
}
