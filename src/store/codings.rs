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

/// The first problems found in a file, and how many there were.
#[derive(Default)]
struct Problems {
    list: Vec<String>,
    count: usize,
}

impl Problems {
    fn add(&mut self, msg: String) {
        self.count += 1;
        if self.list.len() < 20 {
            self.list.push(msg);
        }
    }
}

#[derive(Clone, Copy)]
struct ResponseInfo {
    id: i64,
    chars: u64,
}

impl Store {
    /// Imports codings all or nothing: any unknown respondent, question or code, or any offset
    /// outside its answer, is an error naming the line, and nothing is written.
    pub fn import_codings(&mut self, rows: &[CodingRow], file: &str) -> Result<ImportedCodings> {
        self.import_codings_from(rows.iter().cloned().map(Ok), file)
    }

    /// As [`import_codings`](Self::import_codings), reading the rows as they come: one pass in
    /// one transaction, holding only what the codebook, the questions and the coders take.
    pub fn import_codings_from(
        &mut self,
        rows: impl Iterator<Item = Result<CodingRow>>,
        file: &str,
    ) -> Result<ImportedCodings> {
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
        // Codings added by this import have ids above this one, in file order: that tells a
        // duplicate within the file from a coding the project already had.
        let first_new: i64 =
            tx.query_row("SELECT ifnull(max(id), 0) + 1 FROM codings", [], |r| {
                r.get(0)
            })?;
        let mut added_lines: Vec<u64> = Vec::new();
        let mut coders: HashMap<String, i64> = HashMap::new();
        // Files list an answer's codings together, so remembering the last answer saves most
        // lookups without holding every answer.
        let mut last_response: Option<((String, i64), Option<ResponseInfo>)> = None;
        let mut problems = Problems::default();
        let mut duplicates = 0usize;
        let now = crate::timefmt::now();
        {
            let mut find_response = tx.prepare(
                "SELECT s.id, length(s.text) FROM responses s
                 JOIN respondents r ON r.id = s.respondent_id
                 WHERE r.ext_id = ?1 AND s.question_id = ?2",
            )?;
            let mut insert = tx.prepare(
                "INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", memo, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            )?;
            let mut existing = tx.prepare(
                "SELECT id, memo FROM codings WHERE response_id = ?1 AND code_id = ?2
                 AND coder_id = ?3 AND ifnull(start, -1) = ifnull(?4, -1)
                 AND ifnull(\"end\", -1) = ifnull(?5, -1)",
            )?;
            let mut set_memo = tx.prepare("UPDATE codings SET memo = ?2 WHERE id = ?1")?;
            let mut has_codings = tx.prepare(
                "SELECT 1 FROM codings WHERE response_id = ?1 AND coder_id = ?2 LIMIT 1",
            )?;
            let mut review = tx.prepare(
                "INSERT INTO reviews (response_id, coder_id, reviewed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?;
            for row in rows {
                let row = match row {
                    Ok(row) => row,
                    Err(e) => {
                        // A malformed file cannot be read on; report what was found so far.
                        problems.add(e.to_string());
                        break;
                    }
                };
                let at = format!("{file}:{}", row.line);
                let Some(&qid) = questions.get(&row.question) else {
                    let mut names: Vec<&String> = questions.keys().collect();
                    names.sort();
                    problems.add(format!(
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
                let key = (row.respondent.clone(), qid);
                let info = match &last_response {
                    Some((k, info)) if *k == key => *info,
                    _ => {
                        let info = find_response
                            .query_row(params![row.respondent, qid], |r| {
                                Ok(ResponseInfo {
                                    id: r.get(0)?,
                                    chars: r.get::<_, i64>(1)? as u64,
                                })
                            })
                            .optional()?;
                        last_response = Some((key, info));
                        info
                    }
                };
                let Some(info) = info else {
                    problems.add(format!(
                        "{at}: unknown respondent {:?} (no such ID in the survey)",
                        row.respondent
                    ));
                    continue;
                };
                if row.coder.is_empty() {
                    problems.add(format!("{at}: the coder is empty"));
                    continue;
                }
                let code = if row.code.is_empty() {
                    None
                } else {
                    match codes.get(&row.code.to_lowercase()) {
                        None => {
                            problems.add(format!(
                                "{at}: unknown code {:?}; add it to the codebook first \
                                 (lacrima codebook import)",
                                row.code
                            ));
                            continue;
                        }
                        Some((_, false, name)) => {
                            problems.add(format!(
                                "{at}: code {name:?} only groups other codes and cannot be applied"
                            ));
                            continue;
                        }
                        Some((id, true, _)) => Some(*id),
                    }
                };
                if let (Some(s), Some(e)) = (row.start, row.end) {
                    if code.is_none() {
                        problems.add(format!("{at}: a segment (start, end) needs a code"));
                        continue;
                    }
                    if s >= e {
                        problems.add(format!("{at}: start {s} must be less than end {e}"));
                        continue;
                    }
                    if e > info.chars {
                        problems.add(format!(
                            "{at}: end {e} is past the end of the answer, which has {} characters",
                            info.chars
                        ));
                        continue;
                    }
                }
                if problems.count > 0 {
                    // Keep checking the rest of the file, but write nothing more.
                    continue;
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
                    let (start, end) = (row.start.map(|v| v as i64), row.end.map(|v| v as i64));
                    if insert.execute(params![info.id, cid, coder_id, start, end, row.memo, now])?
                        == 1
                    {
                        out.codings_added += 1;
                        added_lines.push(row.line);
                    } else {
                        let (id, memo): (i64, String) = existing
                            .query_row(params![info.id, cid, coder_id, start, end], |r| {
                                Ok((r.get(0)?, r.get(1)?))
                            })?;
                        if id >= first_new {
                            let first = added_lines
                                .get((id - first_new) as usize)
                                .copied()
                                .unwrap_or(0);
                            if memo != row.memo {
                                problems.add(format!(
                                    "{at}: the same coding is at line {first} with another \
                                     memo; keep one"
                                ));
                                continue;
                            }
                            duplicates += 1;
                            if out.warnings.len() < 20 {
                                out.warnings.push(format!(
                                    "{at}: duplicate of line {first}; imported once"
                                ));
                            }
                        } else {
                            out.codings_already_present += 1;
                            if !row.memo.is_empty() && memo != row.memo {
                                set_memo.execute(params![id, row.memo])?;
                                out.memos_updated += 1;
                            }
                        }
                    }
                }
                if code.is_none()
                    && has_codings
                        .query_row(params![info.id, coder_id], |_| Ok(()))
                        .optional()?
                        .is_some()
                    && out.warnings.len() < 40
                {
                    out.warnings.push(format!(
                        "{at}: an empty code for an answer this coder also coded; the answer is \
                         marked reviewed either way"
                    ));
                }
                out.reviews_added += review.execute(params![info.id, coder_id, now])?;
            }
        }
        if problems.count > 0 {
            let more = problems.count - problems.list.len();
            return Err(Error::input(format!(
                "nothing was imported; fix these lines first:\n  {}{}",
                problems.list.join("\n  "),
                if more > 0 {
                    format!("\n  ... and {more} more")
                } else {
                    String::new()
                }
            )));
        }
        if duplicates > out.warnings.len() {
            out.warnings.push(format!(
                "{file}: {} more duplicate lines imported once",
                duplicates - out.warnings.len()
            ));
        }
        super::log_event(
            &tx,
            None,
            "import_codings",
            None,
            // The stamp tells a later merge which codings and review marks this import added;
            // memos changed on codings already there carry none, so their count is kept too.
            Some(&serde_json::json!({
                "file": file, "codings_added": out.codings_added, "reviews_added": out.reviews_added,
                "memos_updated": out.memos_updated, "stamp": now
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
