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

mod decide;
mod log;
mod prefill;

pub use decide::Adopt;
pub use prefill::AgreedSummary;

use super::agreement_data::reviews_pass_sql;
use super::{Store, coder_id_in};
use crate::error::{Error, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde::Serialize;
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

/// A recorded consensus decision on one code of one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub decision: String,
    pub adopted_from: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: String,
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
