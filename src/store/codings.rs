//! Codings and review marks: bulk import from files and the long export.

use super::{Store, coder_id_in};
use crate::error::{Error, Result};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One row of a codings file (or of the export). An empty `code` records that the coder reviewed
/// the answer and applied nothing; `start`/`end` None = the whole answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CodingRow {
    #[serde(skip)]
    pub line: u64,
    pub respondent: String,
    pub question: String,
    pub coder: String,
    pub code: String,
    pub start: Option<u64>,
    pub end: Option<u64>,
    pub memo: String,
}

#[derive(Debug, Default, Serialize)]
pub struct ImportedCodings {
    pub codings_added: usize,
    pub codings_already_present: usize,
    pub memos_updated: usize,
    pub reviews_added: usize,
    pub coders_created: Vec<String>,
    pub warnings: Vec<String>,
}

type CodingIdentity = (i64, i64, i64, Option<u64>, Option<u64>);

struct ResponseInfo {
    id: i64,
    chars: u64,
}

impl Store {
    /// Imports codings all or nothing: any unknown respondent, question or code, or any offset
    /// outside its answer, is an error naming the line, and nothing is written.
    pub fn import_codings(&mut self, rows: &[CodingRow], file: &str) -> Result<ImportedCodings> {
        let tx = self.conn.transaction()?;
        let mut out = ImportedCodings::default();
        let codes: HashMap<String, (i64, bool, String)> = {
            let mut st = tx.prepare("SELECT id, name, codable FROM codes")?;
            st.query_map([], |r| {
                let name: String = r.get(1)?;
                Ok((
                    name.to_lowercase(),
                    (r.get(0)?, r.get::<_, i64>(2)? != 0, name),
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let questions: HashMap<String, i64> = {
            let mut st = tx.prepare("SELECT name, id FROM questions")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let existing_coders: HashSet<String> = {
            let mut st = tx.prepare("SELECT name FROM coders")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut coders: HashMap<String, i64> = HashMap::new();
        let mut responses: HashMap<(String, i64), Option<ResponseInfo>> = HashMap::new();
        // (response, coder, code, start, end) -> (first line, memo)
        let mut seen: HashMap<CodingIdentity, (u64, String)> = HashMap::new();
        let mut errors: Vec<String> = Vec::new();
        let mut resolved: Vec<(usize, i64, i64, Option<i64>)> = Vec::new();
        {
            let mut find_response = tx.prepare(
                "SELECT s.id, length(s.text) FROM responses s JOIN respondents r ON r.id = s.respondent_id
                 WHERE r.ext_id = ?1 AND s.question_id = ?2",
            )?;
            for (k, row) in rows.iter().enumerate() {
                if errors.len() >= 20 {
                    break;
                }
                let at = format!("{file}:{}", row.line);
                let Some(&qid) = questions.get(&row.question) else {
                    let mut names: Vec<&String> = questions.keys().collect();
                    names.sort();
                    errors.push(format!(
                        "{at}: unknown question {:?}; the questions are {}",
                        row.question,
                        names
                            .iter()
                            .map(|n| format!("{n:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    continue;
                };
                let info = responses
                    .entry((row.respondent.clone(), qid))
                    .or_insert_with(|| {
                        find_response
                            .query_row(params![row.respondent, qid], |r| {
                                Ok(ResponseInfo {
                                    id: r.get(0)?,
                                    chars: r.get::<_, i64>(1)? as u64,
                                })
                            })
                            .optional()
                            .ok()
                            .flatten()
                    });
                let Some(info) = info else {
                    errors.push(format!(
                        "{at}: unknown respondent {:?} (no such ID in the survey)",
                        row.respondent
                    ));
                    continue;
                };
                if row.coder.is_empty() {
                    errors.push(format!("{at}: the coder is empty"));
                    continue;
                }
                let code = if row.code.is_empty() {
                    None
                } else {
                    match codes.get(&row.code.to_lowercase()) {
                        None => {
                            errors.push(format!(
                                "{at}: unknown code {:?}; add it to the codebook first \
                                 (lacrima codebook import)",
                                row.code
                            ));
                            continue;
                        }
                        Some((_, false, name)) => {
                            errors.push(format!(
                                "{at}: code {name:?} only groups other codes and cannot be applied"
                            ));
                            continue;
                        }
                        Some((id, true, _)) => Some(*id),
                    }
                };
                if let (Some(s), Some(e)) = (row.start, row.end) {
                    if code.is_none() {
                        errors.push(format!("{at}: a segment (start, end) needs a code"));
                        continue;
                    }
                    if s >= e {
                        errors.push(format!("{at}: start {s} must be less than end {e}"));
                        continue;
                    }
                    if e > info.chars {
                        errors.push(format!(
                            "{at}: end {e} is past the end of the answer, which has {} characters",
                            info.chars
                        ));
                        continue;
                    }
                }
                let coder_id = match coders.get(&row.coder) {
                    Some(&id) => id,
                    None => {
                        let id = coder_id_in(&tx, &row.coder)?;
                        if !existing_coders.contains(&row.coder) {
                            out.coders_created.push(row.coder.clone());
                        }
                        coders.insert(row.coder.clone(), id);
                        id
                    }
                };
                if let Some(cid) = code {
                    let identity = (info.id, coder_id, cid, row.start, row.end);
                    if let Some((first, memo)) = seen.get(&identity) {
                        if *memo != row.memo {
                            errors.push(format!(
                                "{at}: the same coding is at line {first} with another memo; \
                                 keep one"
                            ));
                        } else {
                            out.warnings
                                .push(format!("{at}: duplicate of line {first}; imported once"));
                        }
                        continue;
                    }
                    seen.insert(identity, (row.line, row.memo.clone()));
                }
                resolved.push((k, info.id, coder_id, code));
            }
        }
        if !errors.is_empty() {
            return Err(Error::input(format!(
                "nothing was imported; fix these lines first:\n  {}",
                errors.join("\n  ")
            )));
        }
        let now = crate::timefmt::now();
        {
            let mut insert = tx.prepare(
                "INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", memo, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            )?;
            let mut memo = tx.prepare(
                "UPDATE codings SET memo = ?6 WHERE response_id = ?1 AND code_id = ?2
                 AND coder_id = ?3 AND ifnull(start, -1) = ifnull(?4, -1)
                 AND ifnull(\"end\", -1) = ifnull(?5, -1) AND memo <> ?6 AND ?6 <> ''",
            )?;
            let mut review = tx.prepare(
                "INSERT INTO reviews (response_id, coder_id, reviewed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?;
            let mut with_codes: HashSet<(i64, i64)> = HashSet::new();
            for &(_, rid, coder, code) in &resolved {
                if code.is_some() {
                    with_codes.insert((rid, coder));
                }
            }
            for &(k, rid, coder, code) in &resolved {
                let row = &rows[k];
                if let Some(cid) = code {
                    let p = params![
                        rid,
                        cid,
                        coder,
                        row.start.map(|v| v as i64),
                        row.end.map(|v| v as i64),
                        row.memo,
                        now
                    ];
                    if insert.execute(p)? == 1 {
                        out.codings_added += 1;
                    } else {
                        out.codings_already_present += 1;
                        out.memos_updated += memo.execute(params![
                            rid,
                            cid,
                            coder,
                            row.start.map(|v| v as i64),
                            row.end.map(|v| v as i64),
                            row.memo
                        ])?;
                    }
                } else if with_codes.contains(&(rid, coder)) {
                    out.warnings.push(format!(
                        "{file}:{}: an empty code for an answer this coder also coded; the \
                         answer is marked reviewed either way",
                        row.line
                    ));
                }
                out.reviews_added += review.execute(params![rid, coder, now])?;
            }
        }
        super::log_event(
            &tx,
            None,
            "import_codings",
            None,
            Some(&serde_json::json!({
                "file": file, "codings_added": out.codings_added, "reviews_added": out.reviews_added
            })),
        )?;
        tx.commit()?;
        Ok(out)
    }

    /// Every coding and every "reviewed, nothing applied" mark, in survey order, then question
    /// order, coder name, codebook order and start. `coder` limits it to one coder.
    pub fn for_each_coding_row(
        &self,
        coder: Option<&str>,
        f: &mut dyn FnMut(&CodingRow) -> Result<()>,
    ) -> Result<()> {
        let rank: HashMap<i64, usize> = self
            .codes()?
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i))
            .collect();
        let mut st = self.conn().prepare(
            "SELECT r.ext_id, q.name, d.name, k.code_id, c.name, k.start, k.\"end\", k.memo,
                    s.respondent_id, q.position
             FROM codings k
             JOIN responses s ON s.id = k.response_id
             JOIN respondents r ON r.id = s.respondent_id
             JOIN questions q ON q.id = s.question_id
             JOIN coders d ON d.id = k.coder_id
             JOIN codes c ON c.id = k.code_id
             WHERE ?1 IS NULL OR d.name = ?1
             UNION ALL
             SELECT r.ext_id, q.name, d.name, NULL, '', NULL, NULL, '', s.respondent_id, q.position
             FROM reviews v
             JOIN responses s ON s.id = v.response_id
             JOIN respondents r ON r.id = s.respondent_id
             JOIN questions q ON q.id = s.question_id
             JOIN coders d ON d.id = v.coder_id
             WHERE (?1 IS NULL OR d.name = ?1)
               AND NOT EXISTS (SELECT 1 FROM codings k
                               WHERE k.response_id = v.response_id AND k.coder_id = v.coder_id)
             ORDER BY 9, 10, 3",
        )?;
        let mut rows = st.query([coder])?;
        // Rows arrive grouped by (respondent, question, coder); sort each group by codebook order.
        let mut group: Vec<(usize, CodingRow)> = Vec::new();
        let mut key: Option<(i64, i64, String)> = None;
        let flush = |group: &mut Vec<(usize, CodingRow)>,
                     f: &mut dyn FnMut(&CodingRow) -> Result<()>|
         -> Result<()> {
            group.sort_by_key(|a| (a.0, a.1.start, a.1.end));
            for (_, row) in group.drain(..) {
                f(&row)?;
            }
            Ok(())
        };
        while let Some(r) = rows.next()? {
            let k = (
                r.get::<_, i64>(8)?,
                r.get::<_, i64>(9)?,
                r.get::<_, String>(2)?,
            );
            if key.as_ref() != Some(&k) {
                flush(&mut group, f)?;
                key = Some(k);
            }
            let code_id: Option<i64> = r.get(3)?;
            let row = CodingRow {
                line: 0,
                respondent: r.get(0)?,
                question: r.get(1)?,
                coder: r.get(2)?,
                code: r.get(4)?,
                start: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                end: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
                memo: r.get(7)?,
            };
            let rank = code_id.and_then(|c| rank.get(&c).copied()).unwrap_or(0);
            group.push((rank, row));
        }
        flush(&mut group, f)
    }
}
