//! The consensus coding: an ordinary coder marked `is_consensus`, whose codings settle what other
//! coders did (`lacrima consensus` and the review screen).
//!
//! Decisions are per (answer, code), like agreement itself: for one code on one answer the
//! compared coders either agree (all applied it, or none did) or disagree. The coders compared
//! on an answer are those of `from` who rated it, when two or more did: with three coders and
//! each answer double-coded by two of them, every answer is compared between its two. A
//! settled (answer, code) has a row in `consensus_decisions`; codes everyone left out need no
//! row. The consensus coder's review mark on an answer follows the rule of every coder
//! ("applying a code marks the answer as reviewed") and is also set once no disagreement on the
//! answer is left open, so an answer on which the coders agreed that nothing applies counts as
//! rated, with no code, by the consensus.
//!
//! Consensus work done by hand is never overwritten: an (answer, code) with a decision or with a
//! consensus coding is kept as it is, and an answer the consensus coder reviewed without any
//! recorded decision (edited in the coding screen) is left alone entirely.
//!
//! Answers only one of the compared coders rated (outside the reliability sample of a work plan)
//! have nothing to compare: `lacrima consensus --single` copies that coder's coding into the
//! consensus, recording each copied code as a decision adopted from that coder, so that the
//! consensus holds the final coding of every answer.
//!
//! Each decision is one event (`consensus.agreed` and `consensus.single` per answer,
//! `consensus.decide` per answer and code) that records the rows written, every compared coder's
//! version, and who decided.

use super::agreement_data::reviews_pass_sql;
use super::rows::{Table, read_row, write_row};
use super::{Store, coder_id_in, log_event};
use crate::error::{Error, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One coding as compared: the code and its span (None = the whole answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub code_id: i64,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// One coder's version of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub coder_id: i64,
    pub coder: String,
    /// The coder reviewed the answer (coded it, or marked it as having no code).
    pub rated: bool,
    /// Whole-answer codings first, then segments by start.
    pub codings: Vec<Span>,
}

impl Version {
    /// The codings of one code.
    pub fn of_code(&self, code_id: i64) -> impl Iterator<Item = &Span> + '_ {
        self.codings.iter().filter(move |s| s.code_id == code_id)
    }

    pub fn applies(&self, code_id: i64) -> bool {
        self.of_code(code_id).next().is_some()
    }
}

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

/// A recorded consensus decision on one code of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub decision: String,
    pub adopted_from: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: String,
}

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

/// One entry of a code's disagreement queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueItem {
    pub response_id: i64,
    /// A consensus decision exists for this code on this answer.
    pub settled: bool,
}

/// Every code's disagreement queue, in codebook order, from one pass over the ratings.
#[derive(Debug, Clone, Default)]
pub struct DisagreementIndex {
    /// Codable codes in codebook order.
    pub code_ids: Vec<i64>,
    /// Index like `code_ids`: answers (in survey order) where the coders differ on the code.
    pub queues: Vec<Vec<QueueItem>>,
}

impl DisagreementIndex {
    pub fn queue(&self, code_id: i64) -> &[QueueItem] {
        self.code_ids
            .iter()
            .position(|&c| c == code_id)
            .map_or(&[], |i| &self.queues[i])
    }

    /// (settled, total) over every code.
    pub fn progress(&self) -> (usize, usize) {
        let total = self.queues.iter().map(Vec::len).sum();
        let settled = self.queues.iter().flatten().filter(|q| q.settled).count();
        (settled, total)
    }
}

/// Merges segments that overlap or touch, so the union marks the text any of them marked once.
pub fn merge_segments(mut spans: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// The codings of one code that "all of them together" gives: the whole answer if any version
/// codes it whole, else the merged union of the segments.
fn union_of(versions: &[&Version], code_id: i64) -> Vec<Span> {
    let spans: Vec<&Span> = versions.iter().flat_map(|v| v.of_code(code_id)).collect();
    if spans.is_empty() {
        return Vec::new();
    }
    if spans.iter().any(|s| s.start.is_none()) {
        return vec![Span {
            code_id,
            start: None,
            end: None,
        }];
    }
    let segments = spans
        .iter()
        .filter_map(|s| Some((s.start?, s.end?)))
        .collect();
    merge_segments(segments)
        .into_iter()
        .map(|(s, e)| Span {
            code_id,
            start: Some(s),
            end: Some(e),
        })
        .collect()
}

/// One answer as read in the ordered pass: one version per coder asked for.
struct AnswerVersions {
    response_id: i64,
    versions: Vec<Version>,
    /// The codings' memos that are not empty, by (index of the coder, coding); only when the
    /// pass was asked for them.
    memos: HashMap<(usize, Span), String>,
}

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

fn versions_json(versions: &[&Version], names: &HashMap<i64, String>, code: Option<i64>) -> Json {
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
struct EventRows {
    rows_before: Vec<Json>,
    rows_after: Vec<Json>,
}

impl EventRows {
    fn new() -> Self {
        Self {
            rows_before: Vec::new(),
            rows_after: Vec::new(),
        }
    }

    /// A coding removed, as it was.
    fn removed_coding(&mut self, response: i64, coder: i64, s: &Span, memo: &str, created: &str) {
        let key = json!({"response_id": response, "coder_id": coder, "code_id": s.code_id,
                         "start": s.start, "end": s.end});
        self.rows_before.push(
            json!({"table": "codings", "key": key, "row": {"memo": memo, "created_at": created}}),
        );
        self.rows_after
            .push(json!({"table": "codings", "key": key, "row": null}));
    }

    /// A coding added with its memo (a copy of another coder's coding, or "").
    fn added_coding(&mut self, response: i64, coder: i64, s: &Span, memo: &str, now: &str) {
        let key = json!({"response_id": response, "coder_id": coder, "code_id": s.code_id,
                         "start": s.start, "end": s.end});
        self.rows_before
            .push(json!({"table": "codings", "key": key, "row": null}));
        self.rows_after.push(
            json!({"table": "codings", "key": key, "row": {"memo": memo, "created_at": now}}),
        );
    }

    /// A memo on an answer added (there was none).
    fn added_memo(&mut self, response: i64, coder: i64, text: &str, now: &str) {
        let key = json!({"coder_id": coder, "response_id": response, "code_id": null});
        self.rows_before
            .push(json!({"table": "memos", "key": key, "row": null}));
        self.rows_after
            .push(json!({"table": "memos", "key": key, "row": {"text": text, "updated_at": now}}));
    }

    /// A decision recorded, over the one before it (if any).
    fn decision(&mut self, key: &Json, before: Option<Json>, after: &Json) {
        self.rows_before
            .push(json!({"table": "consensus_decisions", "key": key, "row": before}));
        self.rows_after
            .push(json!({"table": "consensus_decisions", "key": key, "row": after}));
    }

    fn review(&mut self, response: i64, coder: i64, now: &str) {
        let key = json!({"response_id": response, "coder_id": coder});
        self.rows_before
            .push(json!({"table": "reviews", "key": key, "row": null}));
        self.rows_after
            .push(json!({"table": "reviews", "key": key, "row": {"reviewed_at": now}}));
    }

    fn is_empty(&self) -> bool {
        self.rows_after.is_empty()
    }
}

struct EventText<'a> {
    action: &'a str,
    summary: String,
    response_id: i64,
    code_id: Option<i64>,
    extra: Json,
}

fn log_decision(
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

fn insert_coding(conn: &Connection, response: i64, coder: i64, s: &Span, now: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", memo, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, '', ?6)",
        params![response, s.code_id, coder, s.start, s.end, now],
    )?;
    Ok(())
}

fn insert_review(conn: &Connection, response: i64, coder: i64, now: &str) -> Result<bool> {
    Ok(conn.execute(
        "INSERT INTO reviews (response_id, coder_id, reviewed_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![response, coder, now],
    )? == 1)
}

/// What is settled for one consensus coder: (answer, code) pairs with a decision row.
fn decided_pairs(conn: &Connection, consensus: i64) -> Result<HashSet<(i64, i64)>> {
    let mut st = conn
        .prepare("SELECT response_id, code_id FROM consensus_decisions WHERE consensus_id = ?1")?;
    let rows = st.query_map([consensus], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Codable codes in codebook order with their names.
fn codable_codes(store: &Store) -> Result<(Vec<i64>, HashMap<i64, String>)> {
    let codes = store.codes()?;
    let ids = codes.iter().filter(|c| c.codable).map(|c| c.id).collect();
    let names = codes.into_iter().map(|c| (c.id, c.name)).collect();
    Ok((ids, names))
}

/// Open disagreements of one compared answer: codes some but not all of the compared versions
/// (`from`: those of the coders who rated it) applied, whose (answer, code) is not settled (no
/// decision, no consensus coding).
fn open_codes(
    from: &[&Version],
    consensus: &Version,
    decided: &dyn Fn(i64) -> bool,
    codable: &HashSet<i64>,
) -> Vec<i64> {
    let mut appliers: BTreeMap<i64, usize> = BTreeMap::new();
    for v in from {
        let mut seen: Vec<i64> = v.codings.iter().map(|s| s.code_id).collect();
        seen.sort_unstable();
        seen.dedup();
        for c in seen {
            *appliers.entry(c).or_default() += 1;
        }
    }
    appliers
        .into_iter()
        .filter(|&(c, n)| {
            n < from.len() && codable.contains(&c) && !consensus.applies(c) && !decided(c)
        })
        .map(|(c, _)| c)
        .collect()
}

/// Reads every answer some of `coder_ids` reviewed, with each one's codings (and, if asked, the
/// codings' memos), in survey order: one pass, no query per answer.
fn answers_pass(
    conn: &Connection,
    coder_ids: &[i64],
    names: &[String],
    question_id: Option<i64>,
    with_memos: bool,
    f: &mut dyn FnMut(&AnswerVersions) -> Result<()>,
) -> Result<()> {
    let columns = if with_memos {
        "k.code_id, k.start, k.\"end\", k.memo"
    } else {
        "k.code_id, k.start, k.\"end\""
    };
    let sql = reviews_pass_sql(coder_ids.len(), question_id.is_some(), columns);
    let mut params: Vec<Value> = coder_ids.iter().map(|&d| Value::Integer(d)).collect();
    params.extend(question_id.map(Value::Integer));
    let index: HashMap<i64, usize> = coder_ids.iter().enumerate().map(|(g, &d)| (d, g)).collect();
    let fresh = |response_id| AnswerVersions {
        response_id,
        versions: coder_ids
            .iter()
            .zip(names)
            .map(|(&coder_id, coder)| Version {
                coder_id,
                coder: coder.clone(),
                rated: false,
                codings: Vec::new(),
            })
            .collect(),
        memos: HashMap::new(),
    };
    let finish = |mut a: AnswerVersions, f: &mut dyn FnMut(&AnswerVersions) -> Result<()>| {
        for v in &mut a.versions {
            v.codings
                .sort_unstable_by_key(|s| (s.start.is_some(), s.start, s.end, s.code_id));
        }
        f(&a)
    };
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(params_from_iter(params.iter()))?;
    let mut current: Option<AnswerVersions> = None;
    while let Some(r) = rows.next()? {
        let response: i64 = r.get(0)?;
        if current.as_ref().map(|a| a.response_id) != Some(response) {
            if let Some(done) = current.take() {
                finish(done, f)?;
            }
            current = Some(fresh(response));
        }
        let Some(&g) = index.get(&r.get::<_, i64>(1)?) else {
            continue;
        };
        let a = current.as_mut().expect("set above");
        a.versions[g].rated = true;
        if let Some(code_id) = r.get::<_, Option<i64>>(2)? {
            let span = Span {
                code_id,
                start: r.get(3)?,
                end: r.get(4)?,
            };
            a.versions[g].codings.push(span);
            if with_memos {
                let memo: String = r.get(5)?;
                if !memo.is_empty() {
                    a.memos.insert((g, span), memo);
                }
            }
        }
    }
    if let Some(done) = current.take() {
        finish(done, f)?;
    }
    Ok(())
}

impl Store {
    /// The consensus coder called `name`, created (marked as consensus) on first use. An
    /// ordinary coder of that name is refused, so nobody's own codings become "the consensus".
    pub fn consensus_coder(&self, name: &str) -> Result<(i64, bool)> {
        let found: Option<(i64, i64)> = self
            .conn()
            .query_row(
                "SELECT id, is_consensus FROM coders WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match found {
            Some((id, 1)) => Ok((id, false)),
            Some(_) => Err(Error::input(format!(
                "{name:?} is an ordinary coder, not a consensus coder; name the consensus coder \
                 with --as (for example --as consensus-{name})"
            ))),
            None => {
                let id = coder_id_in(self.conn(), name)?;
                self.conn()
                    .execute("UPDATE coders SET is_consensus = 1 WHERE id = ?1", [id])?;
                Ok((id, true))
            }
        }
    }

    /// Reads every answer some of `coder_ids` reviewed, with each one's codings, in survey
    /// order: one pass, no query per answer.
    fn for_each_answer_versions(
        &self,
        coder_ids: &[i64],
        names: &[String],
        question_id: Option<i64>,
        f: &mut dyn FnMut(&AnswerVersions) -> Result<()>,
    ) -> Result<()> {
        answers_pass(self.conn(), coder_ids, names, question_id, false, f)
    }

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

    /// Every code's disagreement queue: answers that two or more coders in `from` rated and on
    /// which those differ on the code, with whether the consensus has settled it.
    pub fn disagreement_index(
        &self,
        consensus_id: i64,
        from: &[(i64, String)],
        question_id: Option<i64>,
    ) -> Result<DisagreementIndex> {
        let (code_ids, _) = codable_codes(self)?;
        let position: HashMap<i64, usize> =
            code_ids.iter().enumerate().map(|(i, &c)| (c, i)).collect();
        let decided = decided_pairs(self.conn(), consensus_id)?;
        let decided_answers: HashSet<i64> = decided.iter().map(|&(u, _)| u).collect();
        let mut coder_ids: Vec<i64> = from.iter().map(|f| f.0).collect();
        let mut names: Vec<String> = from.iter().map(|f| f.1.clone()).collect();
        coder_ids.push(consensus_id);
        names.push(String::new());
        let n = from.len();
        let mut queues: Vec<Vec<QueueItem>> = vec![Vec::new(); code_ids.len()];
        self.for_each_answer_versions(&coder_ids, &names, question_id, &mut |a| {
            let (from_v, cons) = a.versions.split_at(n);
            let cons = &cons[0];
            let rated: Vec<&Version> = from_v.iter().filter(|v| v.rated).collect();
            if rated.len() < 2 {
                return Ok(());
            }
            let u = a.response_id;
            // Edited by hand as the consensus coder: everything on the answer counts as settled.
            let by_hand = cons.rated && !decided_answers.contains(&u);
            let mut appliers: HashMap<i64, usize> = HashMap::new();
            for v in &rated {
                let mut seen: Vec<i64> = v.codings.iter().map(|s| s.code_id).collect();
                seen.sort_unstable();
                seen.dedup();
                for c in seen {
                    *appliers.entry(c).or_default() += 1;
                }
            }
            for (c, k) in appliers {
                let Some(&i) = position.get(&c) else { continue };
                if k < rated.len() {
                    queues[i].push(QueueItem {
                        response_id: u,
                        settled: by_hand || decided.contains(&(u, c)) || cons.applies(c),
                    });
                }
            }
            Ok(())
        })?;
        Ok(DisagreementIndex { code_ids, queues })
    }

    /// Whether one disagreement is settled, by the rule of [`Store::disagreement_index`]: the
    /// code is decided or in the consensus on the answer, or the consensus coder reviewed the
    /// answer by hand (reviewed it with no decision recorded on it).
    pub fn disagreement_settled(
        &self,
        consensus_id: i64,
        response_id: i64,
        code_id: i64,
    ) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM consensus_decisions
                            WHERE consensus_id = ?1 AND response_id = ?2 AND code_id = ?3)
                 OR EXISTS (SELECT 1 FROM codings
                            WHERE coder_id = ?1 AND response_id = ?2 AND code_id = ?3)
                 OR (EXISTS (SELECT 1 FROM reviews WHERE coder_id = ?1 AND response_id = ?2)
                     AND NOT EXISTS (SELECT 1 FROM consensus_decisions
                                     WHERE consensus_id = ?1 AND response_id = ?2))",
            params![consensus_id, response_id, code_id],
            |r| r.get(0),
        )?)
    }

    /// The decision recorded for one code on one answer, if any.
    pub fn consensus_decision(
        &self,
        consensus_id: i64,
        response_id: i64,
        code_id: i64,
    ) -> Result<Option<Decision>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT decision, adopted_from, decided_by, decided_at FROM consensus_decisions
                 WHERE consensus_id = ?1 AND response_id = ?2 AND code_id = ?3",
                params![consensus_id, response_id, code_id],
                |r| {
                    Ok(Decision {
                        decision: r.get(0)?,
                        adopted_from: r.get(1)?,
                        decided_by: r.get(2)?,
                        decided_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Each coder's version of one answer, in the order asked for.
    pub fn answer_versions(
        &self,
        response_id: i64,
        coders: &[(i64, String)],
    ) -> Result<Vec<Version>> {
        let mut rated = self
            .conn()
            .prepare_cached("SELECT 1 FROM reviews WHERE response_id = ?1 AND coder_id = ?2")?;
        let mut codings = self.conn().prepare_cached(
            "SELECT code_id, start, \"end\" FROM codings WHERE response_id = ?1 AND coder_id = ?2",
        )?;
        let mut out = Vec::with_capacity(coders.len());
        for (coder_id, coder) in coders {
            let is_rated = rated.exists(params![response_id, coder_id])?;
            let mut spans: Vec<Span> = codings
                .query_map(params![response_id, coder_id], |r| {
                    Ok(Span {
                        code_id: r.get(0)?,
                        start: r.get(1)?,
                        end: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            spans.sort_unstable_by_key(|s| (s.start.is_some(), s.start, s.end, s.code_id));
            out.push(Version {
                coder_id: *coder_id,
                coder: coder.clone(),
                rated: is_rated || !spans.is_empty(),
                codings: spans,
            });
        }
        Ok(out)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_that_overlap_or_touch_merge() {
        assert_eq!(
            merge_segments(vec![(5, 9), (0, 3), (3, 4), (8, 12), (20, 21)]),
            vec![(0, 4), (5, 12), (20, 21)]
        );
        assert!(merge_segments(Vec::new()).is_empty());
    }

    #[test]
    fn all_together_is_the_whole_answer_if_anyone_coded_it_whole() {
        let v = |codings: Vec<Span>| Version {
            coder_id: 1,
            coder: "a".into(),
            rated: true,
            codings,
        };
        let seg = |s, e| Span {
            code_id: 7,
            start: Some(s),
            end: Some(e),
        };
        let whole = Span {
            code_id: 7,
            start: None,
            end: None,
        };
        let a = v(vec![seg(0, 5)]);
        let b = v(vec![seg(3, 8), seg(10, 12)]);
        assert_eq!(union_of(&[&a, &b], 7), vec![seg(0, 8), seg(10, 12)]);
        let c = v(vec![whole]);
        assert_eq!(union_of(&[&a, &c], 7), vec![whole]);
        assert!(union_of(&[&a, &b], 8).is_empty());
    }
}
