//! What auto-coding reads and writes: the answers in scope, streamed with their text, and the
//! codings a rule found, written as one event under one coder so that one undo takes them all
//! back.

use super::Store;
use super::events::{Focus, Logged};
use super::rows::{Table, coding_key, review_key};
use crate::error::Result;
use serde_json::json;

/// One coding auto-coding found: an answer, a code, and a span (None: the whole answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundCoding {
    pub response_id: i64,
    pub code_id: i64,
    pub span: Option<(usize, usize)>,
}

/// What applying wrote.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct AutocodeApplied {
    pub codings_added: u64,
    pub codings_already_present: u64,
    pub answers_newly_reviewed: u64,
}

impl Store {
    /// Every answer of `question` (or of all questions) in survey order with its text; empty
    /// answers only when asked for. `f` returns whether to go on. Only the answers' own table is
    /// read (a scan of a million answers is most of a dry run's time); `answer_label` names the
    /// few that a report shows.
    pub fn for_each_answer_text(
        &self,
        question: Option<i64>,
        include_empty: bool,
        f: &mut dyn FnMut(i64, &str) -> Result<bool>,
    ) -> Result<()> {
        let mut st = self.conn().prepare(
            "SELECT id, text FROM responses
             WHERE (?1 IS NULL OR question_id = ?1) AND (?2 OR is_empty = 0)
             ORDER BY id",
        )?;
        let mut rows = st.query(rusqlite::params![question, include_empty])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let text = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            if !f(id, text)? {
                break;
            }
        }
        Ok(())
    }

    /// Writes the found codings under `coder_id` (marking each answer reviewed) as one event,
    /// `autocode`, which `undo` takes back whole. Codings already present are left as they are.
    pub fn apply_autocodings(
        &mut self,
        coder_id: i64,
        found: &[FoundCoding],
        summary: &str,
    ) -> Result<AutocodeApplied> {
        let now = crate::timefmt::now();
        self.write(coder_id, |w| {
            let mut done = AutocodeApplied::default();
            for f in found {
                let key = coding_key(f.response_id, coder_id, f.code_id, f.span);
                if w.get(Table::Codings, &key)?.is_some() {
                    done.codings_already_present += 1;
                    continue;
                }
                w.set(
                    Table::Codings,
                    key,
                    Some(json!({"memo": "", "created_at": now})),
                )?;
                done.codings_added += 1;
                let rk = review_key(f.response_id, coder_id);
                if w.get(Table::Reviews, &rk)?.is_none() {
                    w.set(Table::Reviews, rk, Some(json!({"reviewed_at": now})))?;
                    done.answers_newly_reviewed += 1;
                }
            }
            Ok((
                done,
                Logged {
                    action: "autocode",
                    focus: Focus::default(),
                    summary: summary.to_string(),
                },
            ))
        })
    }
}
