//! `lacrima consensus`: filling the consensus in bulk with what the coders agreed on
//! (`--agreed`) and with the coding of answers only one of them rated (`--single`), and counting
//! what is left to settle.

use super::log::{EventRows, EventText, insert_coding, insert_review, log_decision, versions_json};
use super::{Span, Version, answers_pass, codable_codes, decided_pairs, open_codes, union_of};
use crate::error::{Error, Result};
use crate::store::Store;
use rusqlite::types::Value;
use rusqlite::{TransactionBehavior, params, params_from_iter};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet};

/// The outcome of `lacrima consensus --agreed` and `--single`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AgreedSummary {
    pub consensus: String,
    pub from: Vec<String>,
    pub question: Option<String>,
    /// Answers two or more coders in `from` rated: the ones that can be compared (among the
    /// coders who rated each).
    pub answers_compared: u64,
    /// Answers only one of them rated: nothing to compare (the same as `answers_single`; kept
    /// for scripts that read it).
    pub answers_not_compared: u64,
    /// Compared answers with no disagreement left open (settled before or now).
    pub answers_settled: u64,
    /// Answers this run wrote agreed codings or the review mark to.
    pub answers_prefilled: u64,
    /// Agreed consensus codings this run added.
    pub codings_added: u64,
    /// Agreed (answer, code) pairs left as they were because a decision existed.
    pub decisions_kept: u64,
    /// Answers the consensus coder had edited by hand, left alone.
    pub answers_kept: u64,
    /// Open (answer, code) disagreements.
    pub disagreements: u64,
    /// Answers with at least one open disagreement.
    pub answers_with_disagreements: u64,
    /// Answers some of them rated.
    pub answers_rated: u64,
    /// Answers exactly one of them rated (a part of `answers_not_compared`).
    pub answers_single: u64,
    /// Single-coded answers this run copied into the consensus (`--single`).
    pub single_copied: u64,
    /// Codings this run copied from single coders.
    pub single_codings_added: u64,
    /// Per coder in `from` (in that order): single-coded answers and codings copied.
    pub single_copied_from: Vec<SingleCopied>,
    /// Single-coded answers the consensus had already decided (copied before, or coded by
    /// hand), left as they were.
    pub single_kept: u64,
    /// Single-coded answers not in the consensus yet (run with `--single` to copy them).
    pub single_pending: u64,
    /// Answers some of them rated whose final coding the consensus does not hold yet (after
    /// this run): answers with open disagreements, and answers the consensus has not rated.
    pub answers_to_settle: u64,
}

/// What `--single` copied from one coder.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SingleCopied {
    pub coder: String,
    /// Answers copied.
    pub answers: u64,
    /// Codings copied.
    pub codings: u64,
}

impl Store {
    /// `lacrima consensus --agreed`: wherever two or more coders in `from` rated an answer and
    /// all of those applied a code, the consensus gets it (whole answer if any coded it whole,
    /// else the union of their segments), unless that (answer, code) is already decided. One
    /// transaction; one event per answer written.
    pub fn prefill_agreed(
        &mut self,
        consensus: (i64, &str),
        from: &[(i64, String)],
        question_id: Option<i64>,
        decided_by: Option<&str>,
    ) -> Result<AgreedSummary> {
        self.prefill_consensus(consensus, from, question_id, decided_by, true, false)
    }

    /// `lacrima consensus [--agreed] [--single]`. With `agreed`, what [`Store::prefill_agreed`]
    /// does. With `single`, every answer exactly one coder in `from` rated, and on which the
    /// consensus has decided nothing (no consensus coding, decision or review mark), gets that
    /// coder's coding: the codings with their memos, the coder's memo on the answer (unless the
    /// consensus wrote one), and the consensus review mark, also when the coder applied no code.
    /// Each copied code is recorded as a decision adopted from that coder, so that a second
    /// coder's later version shows up as a disagreement. Everything is read and written in one
    /// transaction, with one event per answer written.
    pub fn prefill_consensus(
        &mut self,
        consensus: (i64, &str),
        from: &[(i64, String)],
        question_id: Option<i64>,
        decided_by: Option<&str>,
        agreed: bool,
        single: bool,
    ) -> Result<AgreedSummary> {
        let (consensus_id, consensus_name) = consensus;
        let (codable_ids, code_names) = codable_codes(self)?;
        let codable: HashSet<i64> = codable_ids.iter().copied().collect();
        let mut coder_ids: Vec<i64> = from.iter().map(|f| f.0).collect();
        let mut names: Vec<String> = from.iter().map(|f| f.1.clone()).collect();
        coder_ids.push(consensus_id);
        names.push(consensus_name.to_owned());
        let from_names: Vec<String> = from.iter().map(|f| f.1.clone()).collect();
        let from_json = serde_json::to_string(&from_names)
            .map_err(|e| Error::input(format!("cannot record the coders: {e}")))?;
        let n = from.len();

        // Read and write in one immediate transaction, so nobody codes in between; everything
        // is read first, as the pass holds a read statement open.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let decided = decided_pairs(&tx, consensus_id)?;
        let decided_answers: HashSet<i64> = decided.iter().map(|&(u, _)| u).collect();
        // Answers with consensus codings, whether or not they carry a review mark.
        let consensus_coded: HashSet<i64> = {
            let mut st =
                tx.prepare("SELECT DISTINCT response_id FROM codings WHERE coder_id = ?1")?;
            let rows = st.query_map([consensus_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        // Memos on answers: the compared coders' (to copy) and the consensus coder's (kept).
        let mut answer_memos: HashMap<(i64, i64), String> = HashMap::new();
        if single {
            let mut st = tx.prepare(
                "SELECT coder_id, response_id, text FROM memos
                 WHERE response_id IS NOT NULL AND text <> ''",
            )?;
            let wanted: HashSet<i64> = coder_ids.iter().copied().collect();
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let coder: i64 = r.get(0)?;
                if wanted.contains(&coder) {
                    answer_memos.insert((coder, r.get(1)?), r.get(2)?);
                }
            }
        }
        let mut summary = AgreedSummary {
            consensus: consensus_name.to_owned(),
            from: from_names.clone(),
            single_copied_from: from_names
                .iter()
                .map(|c| SingleCopied {
                    coder: c.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        struct Fill {
            response_id: i64,
            codings: Vec<Span>,
            mark: bool,
            from: Json,
            codes: Vec<i64>,
        }
        /// One single-coded answer to copy: from coder `g`, with the memos to copy.
        struct CopyOver {
            response_id: i64,
            g: usize,
            codings: Vec<(Span, String)>,
            answer_memo: Option<String>,
            from: Json,
        }
        let mut fills: Vec<Fill> = Vec::new();
        let mut copies: Vec<CopyOver> = Vec::new();
        answers_pass(&tx, &coder_ids, &names, question_id, single, &mut |a| {
            let (from_v, cons) = a.versions.split_at(n);
            let cons = &cons[0];
            let rated = from_v.iter().filter(|v| v.rated).count();
            if rated == 0 {
                return Ok(());
            }
            let u = a.response_id;
            summary.answers_rated += 1;
            // The versions compared: those of the coders who rated the answer.
            let from_refs: Vec<&Version> = from_v.iter().filter(|v| v.rated).collect();
            if rated == 1 {
                summary.answers_not_compared += 1;
                summary.answers_single += 1;
                if cons.rated || consensus_coded.contains(&u) || decided_answers.contains(&u) {
                    summary.single_kept += 1;
                    return Ok(());
                }
                if !single {
                    summary.single_pending += 1;
                    summary.answers_to_settle += 1;
                    return Ok(());
                }
                let g = from_v.iter().position(|v| v.rated).expect("rated by one");
                let v = &from_v[g];
                copies.push(CopyOver {
                    response_id: u,
                    g,
                    codings: v
                        .codings
                        .iter()
                        .map(|s| (*s, a.memos.get(&(g, *s)).cloned().unwrap_or_default()))
                        .collect(),
                    answer_memo: if answer_memos.contains_key(&(consensus_id, u)) {
                        None
                    } else {
                        answer_memos.get(&(v.coder_id, u)).cloned()
                    },
                    from: versions_json(&from_v.iter().collect::<Vec<_>>(), &code_names, None),
                });
                return Ok(());
            }
            summary.answers_compared += 1;
            let is_decided = |c: i64| decided.contains(&(u, c));
            let mut agreed_codes: Vec<i64> = Vec::new();
            for &c in &codable_ids {
                if from_refs.iter().all(|v| v.applies(c)) {
                    agreed_codes.push(c);
                }
            }
            // Reviewed by the consensus coder without any recorded decision: either the coders
            // agreed that nothing applies (an earlier run marked it), or someone edited the
            // answer by hand as the consensus coder, which is never overwritten.
            if cons.rated && !decided_answers.contains(&u) {
                let nothing_agreed = agreed_codes.is_empty()
                    && cons.codings.is_empty()
                    && open_codes(&from_refs, cons, &is_decided, &codable).is_empty();
                if !nothing_agreed {
                    summary.answers_kept += 1;
                }
                summary.answers_settled += 1;
                return Ok(());
            }
            let mut new_codings = Vec::new();
            let mut new_codes = Vec::new();
            for &c in &agreed_codes {
                if is_decided(c) || cons.applies(c) {
                    summary.decisions_kept += 1;
                    continue;
                }
                new_codings.extend(union_of(&from_refs, c));
                new_codes.push(c);
            }
            let open = open_codes(&from_refs, cons, &is_decided, &codable);
            let mark = agreed && !cons.rated && (!new_codings.is_empty() || open.is_empty());
            if open.is_empty() {
                summary.answers_settled += 1;
            } else {
                summary.answers_with_disagreements += 1;
                summary.disagreements += open.len() as u64;
            }
            if !open.is_empty() || (!cons.rated && !mark) {
                summary.answers_to_settle += 1;
            }
            if !agreed || (new_codings.is_empty() && !mark) {
                return Ok(());
            }
            fills.push(Fill {
                response_id: u,
                codings: new_codings,
                mark,
                from: versions_json(&from_refs, &code_names, None),
                codes: new_codes,
            });
            Ok(())
        })?;

        let now = crate::timefmt::now();
        {
            let mut decision = tx.prepare(
                "INSERT INTO consensus_decisions (consensus_id, response_id, code_id, decision,
                     adopted_from, from_coders, decided_by, decided_at, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for fill in &fills {
                let mut rows = EventRows::new();
                for s in &fill.codings {
                    insert_coding(&tx, fill.response_id, consensus_id, s, &now)?;
                    rows.added_coding(fill.response_id, consensus_id, s, "", &now);
                }
                if fill.mark && insert_review(&tx, fill.response_id, consensus_id, &now)? {
                    rows.review(fill.response_id, consensus_id, &now);
                }
                if rows.is_empty() {
                    continue;
                }
                summary.codings_added += fill.codings.len() as u64;
                summary.answers_prefilled += 1;
                let event = log_decision(
                    &tx,
                    consensus_id,
                    rows,
                    EventText {
                        action: "consensus.agreed",
                        summary: format!("agreed by {}", from_names.join(", ")),
                        response_id: fill.response_id,
                        code_id: None,
                        extra: json!({
                            "decision": "agreed", "decided_by": decided_by,
                            "from": fill.from.clone(),
                        }),
                    },
                )?;
                for &c in &fill.codes {
                    decision.execute(params![
                        consensus_id,
                        fill.response_id,
                        c,
                        "agreed",
                        None::<String>,
                        from_json,
                        decided_by,
                        now,
                        event
                    ])?;
                }
            }
            let mut memo = tx.prepare(
                "INSERT INTO memos (coder_id, response_id, code_id, text, updated_at)
                 VALUES (?1, ?2, NULL, ?3, ?4)",
            )?;
            for copy in &copies {
                let u = copy.response_id;
                let coder = &from_names[copy.g];
                let mut rows = EventRows::new();
                for (s, m) in &copy.codings {
                    tx.execute(
                        "INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", memo,
                             created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![u, s.code_id, consensus_id, s.start, s.end, m, now],
                    )?;
                    rows.added_coding(u, consensus_id, s, m, &now);
                }
                if insert_review(&tx, u, consensus_id, &now)? {
                    rows.review(u, consensus_id, &now);
                }
                if let Some(text) = &copy.answer_memo {
                    memo.execute(params![consensus_id, u, text, now])?;
                    rows.added_memo(u, consensus_id, text, &now);
                }
                let counts = &mut summary.single_copied_from[copy.g];
                counts.answers += 1;
                counts.codings += copy.codings.len() as u64;
                summary.single_copied += 1;
                summary.single_codings_added += copy.codings.len() as u64;
                let event = log_decision(
                    &tx,
                    consensus_id,
                    rows,
                    EventText {
                        action: "consensus.single",
                        summary: format!("coded by {coder} only"),
                        response_id: u,
                        code_id: None,
                        extra: json!({
                            "decision": "adopted", "adopted_from": coder,
                            "decided_by": decided_by, "from": copy.from.clone(),
                        }),
                    },
                )?;
                let mut codes: Vec<i64> = copy.codings.iter().map(|(s, _)| s.code_id).collect();
                codes.sort_unstable();
                codes.dedup();
                for c in codes {
                    decision.execute(params![
                        consensus_id,
                        u,
                        c,
                        "adopted",
                        coder,
                        from_json,
                        decided_by,
                        now,
                        event
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(summary)
    }

    /// Answers exactly one coder in `from` rated on which the consensus has decided nothing (no
    /// consensus coding, decision or review mark): what `lacrima consensus --single` would copy.
    pub fn single_coded_pending(
        &self,
        consensus_id: i64,
        from: &[(i64, String)],
        question_id: Option<i64>,
    ) -> Result<u64> {
        let placeholders = (1..=from.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let (c, q) = (from.len() + 1, from.len() + 2);
        let sql = format!(
            "SELECT count(*) FROM (
                 SELECT v.response_id FROM reviews v JOIN responses s ON s.id = v.response_id
                 WHERE v.coder_id IN ({placeholders}) AND (?{q} IS NULL OR s.question_id = ?{q})
                 GROUP BY v.response_id HAVING count(*) = 1) x
             WHERE NOT EXISTS (SELECT 1 FROM reviews w
                               WHERE w.response_id = x.response_id AND w.coder_id = ?{c})
               AND NOT EXISTS (SELECT 1 FROM codings k
                               WHERE k.response_id = x.response_id AND k.coder_id = ?{c})
               AND NOT EXISTS (SELECT 1 FROM consensus_decisions d
                               WHERE d.response_id = x.response_id AND d.consensus_id = ?{c})"
        );
        let mut params: Vec<Value> = from.iter().map(|f| Value::Integer(f.0)).collect();
        params.push(Value::Integer(consensus_id));
        params.push(question_id.map_or(Value::Null, Value::Integer));
        let n: i64 = self
            .conn()
            .query_row(&sql, params_from_iter(params.iter()), |r| r.get(0))?;
        Ok(n as u64)
    }
}
