//! One coder's coding of an answer from the coding screen: applying or removing a code, marking
//! the answer as having no code, and the memo on it, each one undoable event.

use super::Store;
use super::events::{Focus, Logged};
use super::rows::{Table, coding_key, j_str, memo_key, review_key};
use crate::error::{Error, Result};
use rusqlite::{OptionalExtension, params};
use serde_json::{Value as Json, json};

/// What a toggle did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggled {
    Applied,
    Removed,
}

impl Store {
    /// An answer's respondent ID and question name.
    pub fn answer_names(&self, response_id: i64) -> Result<(String, String)> {
        self.conn()
            .query_row(
                "SELECT r.ext_id, q.name FROM responses s JOIN respondents r ON r.id = s.respondent_id
                 JOIN questions q ON q.id = s.question_id WHERE s.id = ?1",
                [response_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or_else(|| Error::input(format!("there is no answer {response_id} in this project")))
    }

    fn answer_label(&self, response_id: i64) -> Result<String> {
        let (ext, q) = self.answer_names(response_id)?;
        Ok(format!("{ext} {q}"))
    }

    /// Applies the code to the answer (a segment when `span` is given, in code points, half-open),
    /// or removes it when this coder already applied exactly that. Applying marks the answer
    /// reviewed; removing keeps the mark.
    pub fn toggle_coding(
        &mut self,
        coder_id: i64,
        response_id: i64,
        code_id: i64,
        span: Option<(usize, usize)>,
    ) -> Result<Toggled> {
        let label = self.answer_label(response_id)?;
        let code = self.code_row(code_id)?;
        let name = j_str(&code, "name");
        if code.get("codable").and_then(Json::as_i64) == Some(0) {
            return Err(Error::input(format!(
                "{name:?} only groups other codes; apply one of its sub-codes"
            )));
        }
        if let Some((s, e)) = span {
            let len: i64 = self.conn().query_row(
                "SELECT length(text) FROM responses WHERE id = ?1",
                [response_id],
                |r| r.get(0),
            )?;
            if s >= e || e as i64 > len {
                return Err(Error::input(format!(
                    "the segment {s}..{e} is not inside the answer, which has {len} characters"
                )));
            }
        }
        let now = crate::timefmt::now();
        let what = match span {
            Some((s, e)) => format!("characters {s}..{e} of {label}"),
            None => label,
        };
        self.write(coder_id, |w| {
            let key = coding_key(response_id, coder_id, code_id, span);
            let toggled = if w.get(Table::Codings, &key)?.is_some() {
                w.set(Table::Codings, key, None)?;
                Toggled::Removed
            } else {
                w.set(
                    Table::Codings,
                    key,
                    Some(json!({"memo": "", "created_at": now})),
                )?;
                let rk = review_key(response_id, coder_id);
                if w.get(Table::Reviews, &rk)?.is_none() {
                    w.set(Table::Reviews, rk, Some(json!({"reviewed_at": now})))?;
                }
                Toggled::Applied
            };
            let (action, summary) = match toggled {
                Toggled::Applied => ("code.apply", format!("apply {name:?} to {what}")),
                Toggled::Removed => ("code.remove", format!("remove {name:?} from {what}")),
            };
            let focus = Focus {
                response_id: Some(response_id),
                code_id: Some(code_id),
            };
            Ok((
                toggled,
                Logged {
                    action,
                    focus,
                    summary,
                },
            ))
        })
    }

    /// Marks the answer as reviewed with no code applying, removing this coder's codings on it.
    /// Returns how many codings were removed.
    pub fn mark_no_code(&mut self, coder_id: i64, response_id: i64) -> Result<usize> {
        let label = self.answer_label(response_id)?;
        let now = crate::timefmt::now();
        self.write(coder_id, |w| {
            let mine: Vec<(i64, Option<i64>, Option<i64>)> = {
                let mut st = w.conn().prepare(
                    "SELECT code_id, start, \"end\" FROM codings WHERE response_id = ?1 AND coder_id = ?2",
                )?;
                st.query_map(params![response_id, coder_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<rusqlite::Result<_>>()?
            };
            for (code, s, e) in &mine {
                let span = s.zip(*e).map(|(s, e)| (s as usize, e as usize));
                w.set(Table::Codings, coding_key(response_id, coder_id, *code, span), None)?;
            }
            let rk = review_key(response_id, coder_id);
            if w.get(Table::Reviews, &rk)?.is_none() {
                w.set(Table::Reviews, rk, Some(json!({"reviewed_at": now})))?;
            }
            Ok((
                mine.len(),
                Logged {
                    action: "answer.no_code",
                    focus: Focus {
                        response_id: Some(response_id),
                        code_id: None,
                    },
                    summary: format!("mark {label} as coded with no code"),
                },
            ))
        })
    }

    /// Sets this coder's memo on an answer ("" removes it).
    pub fn set_answer_memo(&mut self, coder_id: i64, response_id: i64, text: &str) -> Result<()> {
        let label = self.answer_label(response_id)?;
        let now = crate::timefmt::now();
        self.write(coder_id, |w| {
            let row = (!text.trim().is_empty()).then(|| json!({"text": text, "updated_at": now}));
            w.set(
                Table::Memos,
                memo_key(coder_id, Some(response_id), None),
                row,
            )?;
            Ok((
                (),
                Logged {
                    action: "answer.memo",
                    focus: Focus {
                        response_id: Some(response_id),
                        code_id: None,
                    },
                    summary: format!("write the memo on {label}"),
                },
            ))
        })
    }
}
