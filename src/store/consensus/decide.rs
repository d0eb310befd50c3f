//! Settling one disagreement by hand on the review screen: one code on one answer takes the
//! version chosen, and the decision is recorded with it in one undoable event.

use super::log::{EventRows, EventText, insert_coding, insert_review, log_decision, versions_json};
use super::{Span, Version, codable_codes, decided_pairs, merge_segments, open_codes, union_of};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::rows::{Table, read_row, write_row};
use rusqlite::{TransactionBehavior, params};
use serde_json::json;
use std::collections::HashSet;

/// What to take into the consensus for one code on one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopt {
    /// This coder's codings of the code (nothing, if they did not apply it).
    Coder(i64),
    /// Everyone's codings together: the whole answer if any coded it whole, else the union of
    /// their segments.
    All,
    /// The code does not apply.
    None,
    /// Codings of the code written by the decider (the whole answer, or segments as code-point
    /// offsets), recorded as "edited".
    Spans(Vec<(usize, usize)>),
    /// The whole answer, written by the decider, recorded as "edited".
    Whole,
}

impl Store {
    /// Settles one code on one answer: the consensus codings of the code become the chosen
    /// version, the decision is recorded, and the review mark follows the module's rule. One
    /// transaction with one event naming who decided and every compared version.
    pub fn adopt_into_consensus(
        &mut self,
        consensus: (i64, &str),
        from: &[(i64, String)],
        response_id: i64,
        code_id: i64,
        choice: Adopt,
        decided_by: Option<&str>,
    ) -> Result<()> {
        let (consensus_id, consensus_name) = consensus;
        let (codable_ids, code_names) = codable_codes(self)?;
        let codable: HashSet<i64> = codable_ids.iter().copied().collect();
        if !codable.contains(&code_id) {
            return Err(Error::input(format!(
                "code {code_id} is not a codable code of this project"
            )));
        }
        let mut all = from.to_vec();
        all.push((consensus_id, consensus_name.to_owned()));
        let versions = self.answer_versions(response_id, &all)?;
        let (from_v, cons) = versions.split_at(from.len());
        let cons = &cons[0];
        // Compared are the versions of the coders who rated the answer.
        let from_refs: Vec<&Version> = from_v.iter().filter(|v| v.rated).collect();
        let (wanted, decision, adopted_from): (Vec<Span>, &str, Option<String>) = match choice {
            Adopt::Coder(id) => {
                let v = from_v.iter().find(|v| v.coder_id == id).ok_or_else(|| {
                    Error::input(format!("coder {id} is not one of the coders compared"))
                })?;
                if !v.rated {
                    return Err(Error::input(format!(
                        "{} has not coded this answer: there is no version to adopt",
                        v.coder
                    )));
                }
                (
                    v.of_code(code_id).copied().collect(),
                    "adopted",
                    Some(v.coder.clone()),
                )
            }
            Adopt::All => (union_of(&from_refs, code_id), "all", None),
            Adopt::None => (Vec::new(), "none", None),
            Adopt::Whole => (
                vec![Span {
                    code_id,
                    start: None,
                    end: None,
                }],
                "edited",
                None,
            ),
            Adopt::Spans(spans) => {
                let chars: i64 = self.conn().query_row(
                    "SELECT length(text) FROM responses WHERE id = ?1",
                    [response_id],
                    |r| r.get(0),
                )?;
                let mut segments = Vec::with_capacity(spans.len());
                for (s, e) in spans {
                    let (s, e) = (s as i64, e as i64);
                    if s >= e || e > chars {
                        return Err(Error::input(format!(
                            "the segment {s}-{e} is not inside the answer, which has {chars} \
                             characters"
                        )));
                    }
                    segments.push((s, e));
                }
                let wanted = merge_segments(segments)
                    .into_iter()
                    .map(|(s, e)| Span {
                        code_id,
                        start: Some(s),
                        end: Some(e),
                    })
                    .collect();
                (wanted, "edited", None)
            }
        };
        let current: Vec<Span> = cons.of_code(code_id).copied().collect();
        let from_names: Vec<String> = from.iter().map(|f| f.1.clone()).collect();
        let from_json = serde_json::to_string(&from_names)
            .map_err(|e| Error::input(format!("cannot record the coders: {e}")))?;
        let code_name = code_names.get(&code_id).cloned().unwrap_or_default();

        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = crate::timefmt::now();
        let mut rows = EventRows::new();
        for s in current.iter().filter(|s| !wanted.contains(s)) {
            // The event keeps the removed coding as it was, memo and time included.
            let (memo, created_at): (String, String) = tx.query_row(
                "DELETE FROM codings WHERE response_id = ?1 AND coder_id = ?2 AND code_id = ?3
                 AND ifnull(start, -1) = ifnull(?4, -1) AND ifnull(\"end\", -1) = ifnull(?5, -1)
                 RETURNING memo, created_at",
                params![response_id, consensus_id, code_id, s.start, s.end],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            rows.removed_coding(response_id, consensus_id, s, &memo, &created_at);
        }
        for s in wanted.iter().filter(|s| !current.contains(s)) {
            insert_coding(&tx, response_id, consensus_id, s, &now)?;
            rows.added_coding(response_id, consensus_id, s, "", &now);
        }
        // The review mark: applying a code marks the answer, and so does settling its last open
        // disagreement.
        let has_codings = !wanted.is_empty() || cons.codings.iter().any(|s| s.code_id != code_id);
        let decided = decided_pairs(&tx, consensus_id)?;
        let is_decided = |c: i64| c == code_id || decided.contains(&(response_id, c));
        let settled = open_codes(&from_refs, cons, &is_decided, &codable).is_empty();
        if !cons.rated
            && (has_codings || settled)
            && insert_review(&tx, response_id, consensus_id, &now)?
        {
            rows.review(response_id, consensus_id, &now);
        }
        // The decision row goes into the event with the codings, so that undo takes back both.
        // It names the event it belongs to, whose id is the next one: the write lock is held
        // and the log only grows.
        let event_id: i64 = tx.query_row("SELECT ifnull(max(id), 0) + 1 FROM events", [], |r| {
            r.get(0)
        })?;
        let key = json!({"consensus_id": consensus_id, "response_id": response_id,
                         "code_id": code_id});
        let previous = read_row(&tx, Table::Decisions, &key)?;
        let row = json!({
            "decision": decision, "adopted_from": adopted_from, "from_coders": from_json,
            "decided_by": decided_by, "decided_at": now, "event_id": event_id,
        });
        rows.decision(&key, previous, &row);
        let event = log_decision(
            &tx,
            consensus_id,
            rows,
            EventText {
                action: "consensus.decide",
                summary: match (&adopted_from, decision) {
                    (Some(c), _) => format!("{code_name}: {c}'s version"),
                    (None, "all") => format!("{code_name}: everyone's codings"),
                    (None, "edited") => format!("{code_name}: edited"),
                    (None, _) => format!("{code_name}: does not apply"),
                },
                response_id,
                code_id: Some(code_id),
                extra: json!({
                    "decision": decision, "adopted_from": adopted_from, "decided_by": decided_by,
                    "from": versions_json(&from_refs, &code_names, Some(code_id)),
                }),
            },
        )?;
        if event != event_id {
            return Err(Error::input(
                "the event log changed while the decision was written; nothing was changed",
            ));
        }
        write_row(&tx, Table::Decisions, &key, Some(&row))?;
        tx.commit()?;
        Ok(())
    }
}
