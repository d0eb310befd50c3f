//! The rows that the coding screen and the consensus decisions change, each named by a key that
//! does not depend on rowids (except a code's, which other tables point at), and read and written
//! as JSON: the form in which an event records them and undo puts them back.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value as Json, json};

/// The tables whose rows the coding screen changes. Each row is identified by a key that does
/// not depend on rowids (except codes, whose id other tables point at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Table {
    Codes,
    Codings,
    Reviews,
    Memos,
    /// A consensus decision (schema 3), written by the review screen's decisions.
    Decisions,
}

impl Table {
    pub(super) fn name(self) -> &'static str {
        match self {
            Table::Codes => "codes",
            Table::Codings => "codings",
            Table::Reviews => "reviews",
            Table::Memos => "memos",
            Table::Decisions => "consensus_decisions",
        }
    }

    pub(super) fn parse(s: &str) -> Option<Table> {
        Some(match s {
            "codes" => Table::Codes,
            "codings" => Table::Codings,
            "reviews" => Table::Reviews,
            "memos" => Table::Memos,
            "consensus_decisions" => Table::Decisions,
            _ => return None,
        })
    }
}

fn k_i64(key: &Json, f: &str) -> Option<i64> {
    key.get(f).and_then(Json::as_i64)
}

pub(super) fn j_str(row: &Json, f: &str) -> String {
    row.get(f).and_then(Json::as_str).unwrap_or("").to_string()
}

fn j_opt_str(row: &Json, f: &str) -> Option<String> {
    row.get(f).and_then(Json::as_str).map(str::to_string)
}

pub(super) fn coding_key(
    response: i64,
    coder: i64,
    code: i64,
    span: Option<(usize, usize)>,
) -> Json {
    json!({
        "response_id": response, "coder_id": coder, "code_id": code,
        "start": span.map(|s| s.0), "end": span.map(|s| s.1)
    })
}

pub(super) fn review_key(response: i64, coder: i64) -> Json {
    json!({"response_id": response, "coder_id": coder})
}

pub(super) fn memo_key(coder: i64, response: Option<i64>, code: Option<i64>) -> Json {
    json!({"coder_id": coder, "response_id": response, "code_id": code})
}

pub(super) fn code_key(id: i64) -> Json {
    json!({ "id": id })
}

pub(super) fn read_row(conn: &Connection, table: Table, key: &Json) -> Result<Option<Json>> {
    let row = match table {
        Table::Codings => conn
            .query_row(
                "SELECT memo, created_at FROM codings WHERE response_id = ?1 AND coder_id = ?2
                 AND code_id = ?3 AND ifnull(start, -1) = ifnull(?4, -1)
                 AND ifnull(\"end\", -1) = ifnull(?5, -1)",
                params![
                    k_i64(key, "response_id"),
                    k_i64(key, "coder_id"),
                    k_i64(key, "code_id"),
                    k_i64(key, "start"),
                    k_i64(key, "end")
                ],
                |r| Ok(json!({"memo": r.get::<_, String>(0)?, "created_at": r.get::<_, String>(1)?})),
            )
            .optional()?,
        Table::Reviews => conn
            .query_row(
                "SELECT reviewed_at FROM reviews WHERE response_id = ?1 AND coder_id = ?2",
                params![k_i64(key, "response_id"), k_i64(key, "coder_id")],
                |r| Ok(json!({"reviewed_at": r.get::<_, String>(0)?})),
            )
            .optional()?,
        Table::Memos => conn
            .query_row(
                "SELECT text, updated_at FROM memos WHERE coder_id = ?1
                 AND ifnull(response_id, -1) = ifnull(?2, -1) AND ifnull(code_id, -1) = ifnull(?3, -1)",
                params![
                    k_i64(key, "coder_id"),
                    k_i64(key, "response_id"),
                    k_i64(key, "code_id")
                ],
                |r| Ok(json!({"text": r.get::<_, String>(0)?, "updated_at": r.get::<_, String>(1)?})),
            )
            .optional()?,
        Table::Decisions => conn
            .query_row(
                "SELECT decision, adopted_from, from_coders, decided_by, decided_at, event_id
                 FROM consensus_decisions
                 WHERE consensus_id = ?1 AND response_id = ?2 AND code_id = ?3",
                params![
                    k_i64(key, "consensus_id"),
                    k_i64(key, "response_id"),
                    k_i64(key, "code_id")
                ],
                |r| {
                    Ok(json!({
                        "decision": r.get::<_, String>(0)?,
                        "adopted_from": r.get::<_, Option<String>>(1)?,
                        "from_coders": r.get::<_, String>(2)?,
                        "decided_by": r.get::<_, Option<String>>(3)?,
                        "decided_at": r.get::<_, String>(4)?,
                        "event_id": r.get::<_, Option<i64>>(5)?,
                    }))
                },
            )
            .optional()?,
        Table::Codes => conn
            .query_row(
                "SELECT guid, parent_id, name, description, inclusion, exclusion, example, color,
                        shortcut, codable, position FROM codes WHERE id = ?1",
                [k_i64(key, "id")],
                |r| {
                    Ok(json!({
                        "guid": r.get::<_, String>(0)?,
                        "parent_id": r.get::<_, Option<i64>>(1)?,
                        "name": r.get::<_, String>(2)?,
                        "description": r.get::<_, String>(3)?,
                        "inclusion": r.get::<_, String>(4)?,
                        "exclusion": r.get::<_, String>(5)?,
                        "example": r.get::<_, String>(6)?,
                        "color": r.get::<_, Option<String>>(7)?,
                        "shortcut": r.get::<_, Option<String>>(8)?,
                        "codable": r.get::<_, i64>(9)?,
                        "position": r.get::<_, i64>(10)?,
                    }))
                },
            )
            .optional()?,
    };
    Ok(row)
}

pub(super) fn write_row(
    conn: &Connection,
    table: Table,
    key: &Json,
    row: Option<&Json>,
) -> Result<()> {
    match table {
        Table::Codings => {
            let k = params![
                k_i64(key, "response_id"),
                k_i64(key, "coder_id"),
                k_i64(key, "code_id"),
                k_i64(key, "start"),
                k_i64(key, "end")
            ];
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM codings WHERE response_id = ?1 AND coder_id = ?2 AND code_id = ?3
                         AND ifnull(start, -1) = ifnull(?4, -1) AND ifnull(\"end\", -1) = ifnull(?5, -1)",
                        k,
                    )?;
                }
                Some(r) => {
                    let n = conn.execute(
                        "UPDATE codings SET memo = ?6, created_at = ?7 WHERE response_id = ?1
                         AND coder_id = ?2 AND code_id = ?3 AND ifnull(start, -1) = ifnull(?4, -1)
                         AND ifnull(\"end\", -1) = ifnull(?5, -1)",
                        params![
                            k_i64(key, "response_id"),
                            k_i64(key, "coder_id"),
                            k_i64(key, "code_id"),
                            k_i64(key, "start"),
                            k_i64(key, "end"),
                            j_str(r, "memo"),
                            j_str(r, "created_at")
                        ],
                    )?;
                    if n == 0 {
                        conn.execute(
                            "INSERT INTO codings (response_id, coder_id, code_id, start, \"end\", memo,
                                                  created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                            params![
                                k_i64(key, "response_id"),
                                k_i64(key, "coder_id"),
                                k_i64(key, "code_id"),
                                k_i64(key, "start"),
                                k_i64(key, "end"),
                                j_str(r, "memo"),
                                j_str(r, "created_at")
                            ],
                        )?;
                    }
                }
            }
        }
        Table::Reviews => {
            let (resp, coder) = (k_i64(key, "response_id"), k_i64(key, "coder_id"));
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM reviews WHERE response_id = ?1 AND coder_id = ?2",
                        params![resp, coder],
                    )?;
                }
                Some(r) => {
                    conn.execute(
                        "INSERT INTO reviews (response_id, coder_id, reviewed_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (response_id, coder_id) DO UPDATE SET reviewed_at = excluded.reviewed_at",
                        params![resp, coder, j_str(r, "reviewed_at")],
                    )?;
                }
            }
        }
        Table::Memos => {
            let (coder, resp, code) = (
                k_i64(key, "coder_id"),
                k_i64(key, "response_id"),
                k_i64(key, "code_id"),
            );
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM memos WHERE coder_id = ?1 AND ifnull(response_id, -1) = ifnull(?2, -1)
                         AND ifnull(code_id, -1) = ifnull(?3, -1)",
                        params![coder, resp, code],
                    )?;
                }
                Some(r) => {
                    let n = conn.execute(
                        "UPDATE memos SET text = ?4, updated_at = ?5 WHERE coder_id = ?1
                         AND ifnull(response_id, -1) = ifnull(?2, -1) AND ifnull(code_id, -1) = ifnull(?3, -1)",
                        params![coder, resp, code, j_str(r, "text"), j_str(r, "updated_at")],
                    )?;
                    if n == 0 {
                        conn.execute(
                            "INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![coder, resp, code, j_str(r, "text"), j_str(r, "updated_at")],
                        )?;
                    }
                }
            }
        }
        Table::Decisions => {
            let k = (
                k_i64(key, "consensus_id"),
                k_i64(key, "response_id"),
                k_i64(key, "code_id"),
            );
            match row {
                None => {
                    conn.execute(
                        "DELETE FROM consensus_decisions
                         WHERE consensus_id = ?1 AND response_id = ?2 AND code_id = ?3",
                        params![k.0, k.1, k.2],
                    )?;
                }
                Some(r) => {
                    conn.execute(
                        "INSERT INTO consensus_decisions (consensus_id, response_id, code_id,
                             decision, adopted_from, from_coders, decided_by, decided_at, event_id)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                         ON CONFLICT (consensus_id, response_id, code_id) DO UPDATE SET
                             decision = excluded.decision, adopted_from = excluded.adopted_from,
                             from_coders = excluded.from_coders, decided_by = excluded.decided_by,
                             decided_at = excluded.decided_at, event_id = excluded.event_id",
                        params![
                            k.0,
                            k.1,
                            k.2,
                            j_str(r, "decision"),
                            j_opt_str(r, "adopted_from"),
                            j_str(r, "from_coders"),
                            j_opt_str(r, "decided_by"),
                            j_str(r, "decided_at"),
                            r.get("event_id").and_then(Json::as_i64)
                        ],
                    )?;
                }
            }
        }
        Table::Codes => {
            let id = k_i64(key, "id");
            match row {
                None => {
                    conn.execute("DELETE FROM codes WHERE id = ?1", [id])?;
                }
                Some(r) => {
                    let values = params![
                        id,
                        j_str(r, "guid"),
                        r.get("parent_id").and_then(Json::as_i64),
                        j_str(r, "name"),
                        j_str(r, "description"),
                        j_str(r, "inclusion"),
                        j_str(r, "exclusion"),
                        j_str(r, "example"),
                        j_opt_str(r, "color"),
                        j_opt_str(r, "shortcut"),
                        r.get("codable").and_then(Json::as_i64).unwrap_or(1),
                        r.get("position").and_then(Json::as_i64).unwrap_or(0)
                    ];
                    let n = conn.execute(
                        "UPDATE codes SET guid = ?2, parent_id = ?3, name = ?4, description = ?5,
                             inclusion = ?6, exclusion = ?7, example = ?8, color = ?9, shortcut = ?10,
                             codable = ?11, position = ?12 WHERE id = ?1",
                        values,
                    )?;
                    if n == 0 {
                        conn.execute(
                            "INSERT INTO codes (id, guid, parent_id, name, description, inclusion,
                                 exclusion, example, color, shortcut, codable, position)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                            values,
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}
