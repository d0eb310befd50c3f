//! Work plans (`lacrima assign`): a reproducible reliability sample that every coder codes, and
//! an even split of the other offered answers.
//!
//! The plan is a function of the seed, the offered answers and the coders' existing reviews only:
//! each offered answer (in survey order) draws one 64-bit key from `ChaCha8Rng::seed_from_u64`,
//! the answers are ordered by key, the first `round(overlap * N)` form the reliability sample,
//! and the rest are dealt in key order to whichever coder has the fewest so far. An answer a
//! coder of the plan has already coded stays with that coder (and counts towards their share),
//! so re-running the same command after work has started gives the same plan. Only the raw
//! ChaCha8 output is used (no library shuffling or range sampling, whose algorithms may change
//! between versions of `rand`), so a seed means the same plan in every version of lacrima.

use super::{Store, coder_id_in, log_event};
use crate::error::{Error, Result};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use std::collections::HashMap;

/// The most coders one plan can hold (each answer keeps its coders as bits of a u64).
pub const MAX_PLAN_CODERS: usize = 64;

/// What `lacrima assign` is asked for.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Coder names, in order; created on first use.
    pub coders: Vec<String>,
    pub question_id: Option<i64>,
    /// Share of the offered answers that every coder codes, in [0, 1].
    pub overlap: f64,
    pub seed: u64,
}

/// A plan in force and how far each coder has got with it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub question: Option<String>,
    pub coders: Vec<String>,
    pub overlap: f64,
    pub seed: u64,
    /// Offered answers the plan covers.
    pub answers: u64,
    /// Answers in the reliability sample.
    pub overlap_answers: u64,
    /// Whether the plan differs from the one in force before (false: the same plan again).
    pub changed: bool,
    pub progress: Vec<CoderProgress>,
}

/// One coder's part of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoderProgress {
    pub coder: String,
    /// Answers assigned to the coder, the reliability sample included.
    pub assigned: u64,
    /// Of those, answers in the reliability sample.
    pub overlap: u64,
    /// Assigned answers the coder has reviewed.
    pub done: u64,
    pub to_do: u64,
}

/// Where each offered answer goes: bit g of `coders[i]` = coder g codes answer `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub coders: Vec<u64>,
    pub in_overlap: Vec<bool>,
}

/// Computes a plan for `n` answers (in survey order) and `k` coders, given the coders who had
/// already coded each answer (bit masks, like the result). Pure, so that it can be tested.
pub fn plan_answers(n: usize, k: usize, coded: &[u64], overlap: f64, seed: u64) -> Plan {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<(u64, usize)> = (0..n).map(|i| (rng.next_u64(), i)).collect();
    order.sort_unstable();
    let everyone = if k >= 64 { u64::MAX } else { (1u64 << k) - 1 };
    let n_overlap = ((overlap * n as f64).round() as usize).min(n);
    let mut plan = Plan {
        coders: vec![0; n],
        in_overlap: vec![false; n],
    };
    let mut load = vec![0u64; k];
    for &(_, i) in &order[..n_overlap] {
        plan.coders[i] = everyone;
        plan.in_overlap[i] = true;
    }
    // Answers already coded stay with their coders before the rest is dealt, so that the shares
    // even out over everything each coder codes.
    let rest = &order[n_overlap..];
    for &(_, i) in rest {
        let mask = coded.get(i).copied().unwrap_or(0) & everyone;
        if mask != 0 {
            plan.coders[i] = mask;
            for (g, l) in load.iter_mut().enumerate() {
                if mask >> g & 1 == 1 {
                    *l += 1;
                }
            }
        }
    }
    for &(_, i) in rest {
        if plan.coders[i] != 0 {
            continue;
        }
        let g = (0..k).min_by_key(|&g| (load[g], g)).unwrap_or(0);
        plan.coders[i] = 1 << g;
        load[g] += 1;
    }
    plan
}

impl Store {
    /// Makes a plan and puts it in force, replacing the assignments of the answers it covers;
    /// all or nothing.
    pub fn make_assignment_plan(&mut self, req: &PlanRequest) -> Result<PlanSummary> {
        let k = req.coders.len();
        if k < 2 {
            return Err(Error::input(
                "a plan needs at least two coders (--coders A,B): the reliability sample is \
                 coded by every one of them",
            ));
        }
        if k > MAX_PLAN_CODERS {
            return Err(Error::input(format!(
                "a plan can have at most {MAX_PLAN_CODERS} coders (got {k})"
            )));
        }
        if !(0.0..=1.0).contains(&req.overlap) {
            return Err(Error::input(format!(
                "the overlap must be between 0% and 100% (got {})",
                req.overlap
            )));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut coder_ids = Vec::with_capacity(k);
        for name in &req.coders {
            let consensus: Option<i64> = tx
                .query_row(
                    "SELECT is_consensus FROM coders WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?;
            if consensus == Some(1) {
                return Err(Error::input(format!(
                    "{name:?} is a consensus coder, whose codings are settled from others' work; \
                     plan work for ordinary coders only"
                )));
            }
            coder_ids.push(coder_id_in(&tx, name)?);
        }
        let bit: HashMap<i64, usize> = coder_ids.iter().enumerate().map(|(g, &d)| (d, g)).collect();

        let answers: Vec<i64> = {
            let mut st = tx.prepare(
                "SELECT id FROM responses WHERE is_empty = 0 AND (?1 IS NULL OR question_id = ?1)
                 ORDER BY id",
            )?;
            st.query_map([req.question_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        let position: HashMap<i64, usize> =
            answers.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let mut coded = vec![0u64; answers.len()];
        {
            let mut st = tx.prepare("SELECT response_id FROM reviews WHERE coder_id = ?1")?;
            for (&d, &g) in &bit {
                let mut rows = st.query([d])?;
                while let Some(r) = rows.next()? {
                    if let Some(&i) = position.get(&r.get::<_, i64>(0)?) {
                        coded[i] |= 1 << g;
                    }
                }
            }
        }
        let plan = plan_answers(answers.len(), k, &coded, req.overlap, req.seed);

        // The plan covers exactly the answers listed above; it replaces whatever plan covered
        // them, and "changed" compares the old assignments of these answers with the new ones.
        let scope =
            "SELECT id FROM responses WHERE is_empty = 0 AND (?1 IS NULL OR question_id = ?1)";
        let before: Vec<(i64, i64, bool)> = {
            let mut st = tx.prepare(&format!(
                "SELECT response_id, coder_id, in_overlap FROM assignments
                 WHERE response_id IN ({scope}) ORDER BY response_id, coder_id"
            ))?;
            st.query_map([req.question_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut after: Vec<(i64, i64, bool)> = Vec::with_capacity(before.len());
        for (i, &id) in answers.iter().enumerate() {
            for (g, &d) in coder_ids.iter().enumerate() {
                if plan.coders[i] >> g & 1 == 1 {
                    after.push((id, d, plan.in_overlap[i]));
                }
            }
        }
        after.sort_unstable();
        let changed = before != after;
        tx.execute(
            &format!("DELETE FROM assignments WHERE response_id IN ({scope})"),
            [req.question_id],
        )?;
        let now = crate::timefmt::now();
        let names_json = serde_json::to_string(&req.coders)
            .map_err(|e| Error::input(format!("cannot record the coders: {e}")))?;
        tx.execute(
            "INSERT INTO assignment_plans (question_id, coders, overlap, seed, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                req.question_id,
                names_json,
                req.overlap,
                req.seed as i64,
                now
            ],
        )?;
        let plan_id = tx.last_insert_rowid();
        {
            let mut st = tx.prepare(
                "INSERT INTO assignments (response_id, coder_id, plan_id, in_overlap)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for &(id, d, o) in &after {
                st.execute(params![id, d, plan_id, o as i64])?;
            }
        }
        tx.execute(
            "DELETE FROM assignment_plans WHERE id <> ?1
             AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.plan_id = assignment_plans.id)",
            [plan_id],
        )?;
        let overlap_answers = plan.in_overlap.iter().filter(|&&o| o).count() as u64;
        log_event(
            &tx,
            None,
            "assign.plan",
            None,
            Some(&serde_json::json!({
                "plan_id": plan_id, "question_id": req.question_id, "coders": req.coders,
                "overlap": req.overlap, "seed": req.seed, "answers": answers.len(),
                "overlap_answers": overlap_answers, "changed": changed,
            })),
        )?;
        tx.commit()?;
        let question = match req.question_id {
            Some(q) => Some(self.conn().query_row(
                "SELECT name FROM questions WHERE id = ?1",
                [q],
                |r| r.get(0),
            )?),
            None => None,
        };
        Ok(PlanSummary {
            question,
            coders: req.coders.clone(),
            overlap: req.overlap,
            seed: req.seed,
            answers: answers.len() as u64,
            overlap_answers,
            changed,
            progress: self.plan_progress(plan_id)?,
        })
    }

    /// Each coder's assigned, overlap and done counts under one plan, in the plan's coder order.
    fn plan_progress(&self, plan_id: i64) -> Result<Vec<CoderProgress>> {
        let names: String = self.conn().query_row(
            "SELECT coders FROM assignment_plans WHERE id = ?1",
            [plan_id],
            |r| r.get(0),
        )?;
        let names: Vec<String> = serde_json::from_str(&names)
            .map_err(|e| Error::input(format!("plan {plan_id} has unreadable coders: {e}")))?;
        let mut st = self.conn().prepare(
            "SELECT count(*), ifnull(sum(a.in_overlap), 0),
                    ifnull(sum(EXISTS (SELECT 1 FROM reviews v
                               WHERE v.response_id = a.response_id AND v.coder_id = a.coder_id)), 0)
             FROM assignments a JOIN coders d ON d.id = a.coder_id
             WHERE a.plan_id = ?1 AND d.name = ?2",
        )?;
        names
            .into_iter()
            .map(|coder| {
                let (assigned, overlap, done): (i64, i64, i64) = st
                    .query_row(params![plan_id, coder], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                Ok(CoderProgress {
                    coder,
                    assigned: assigned as u64,
                    overlap: overlap as u64,
                    done: done as u64,
                    to_do: (assigned - done) as u64,
                })
            })
            .collect()
    }

    /// Whether any answer is assigned to this coder (the coding screen then shows "assigned to
    /// me" by default).
    pub fn has_assignments(&self, coder_id: i64) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM assignments WHERE coder_id = ?1)",
            [coder_id],
            |r| r.get::<_, i64>(0),
        )? != 0)
    }

    /// This coder's progress over every plan in force: (assigned, reviewed of those).
    pub fn assignment_progress(&self, coder_id: i64) -> Result<(u64, u64)> {
        let (assigned, done): (i64, i64) = self.conn().query_row(
            "SELECT count(*), ifnull(sum(EXISTS (SELECT 1 FROM reviews v
                    WHERE v.response_id = a.response_id AND v.coder_id = a.coder_id)), 0)
             FROM assignments a WHERE a.coder_id = ?1",
            [coder_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((assigned as u64, done as u64))
    }

    /// Whether this answer is assigned to this coder (a primary-key lookup, cheap enough for a
    /// key press: the coding screen moves its plan progress by it after each coding).
    pub fn is_assigned(&self, coder_id: i64, response_id: i64) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM assignments WHERE response_id = ?1 AND coder_id = ?2)",
            [response_id, coder_id],
            |r| r.get::<_, i64>(0),
        )? != 0)
    }

    /// The answers assigned to this coder, in survey order, with whether each is in the
    /// reliability sample.
    pub fn assigned_answers(&self, coder_id: i64) -> Result<Vec<(i64, bool)>> {
        let mut st = self.conn().prepare(
            "SELECT response_id, in_overlap FROM assignments WHERE coder_id = ?1
             ORDER BY response_id",
        )?;
        let rows = st.query_map([coder_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(plan: &Plan, g: usize) -> usize {
        plan.coders.iter().filter(|&&m| m >> g & 1 == 1).count()
    }

    #[test]
    fn the_overlap_goes_to_everyone_and_the_rest_is_split_evenly() {
        let plan = plan_answers(100, 3, &[], 0.2, 42);
        assert_eq!(plan.in_overlap.iter().filter(|&&o| o).count(), 20);
        for (i, &o) in plan.in_overlap.iter().enumerate() {
            if o {
                assert_eq!(plan.coders[i], 0b111);
            } else {
                assert_eq!(plan.coders[i].count_ones(), 1, "answer {i}");
            }
        }
        let shares: Vec<usize> = (0..3).map(|g| count(&plan, g) - 20).collect();
        assert_eq!(shares.iter().sum::<usize>(), 80);
        assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
    }

    #[test]
    fn a_seed_is_a_plan() {
        let a = plan_answers(500, 2, &[], 0.1, 7);
        assert_eq!(a, plan_answers(500, 2, &[], 0.1, 7));
        assert_ne!(a.in_overlap, plan_answers(500, 2, &[], 0.1, 8).in_overlap);
    }

    #[test]
    fn coded_answers_keep_their_coders_and_count_towards_the_share() {
        // Coder 0 has already coded the first 30 answers.
        let coded: Vec<u64> = (0..90).map(|i| if i < 30 { 0b01 } else { 0 }).collect();
        let plan = plan_answers(90, 2, &coded, 0.0, 3);
        for i in 0..30 {
            assert_eq!(plan.coders[i], 0b01);
        }
        assert_eq!(count(&plan, 0), 45);
        assert_eq!(count(&plan, 1), 45);
    }

    #[test]
    fn the_stream_is_pinned() {
        // A seed must mean the same plan in every version of lacrima: this fails if the
        // generator or the way keys are drawn ever changes.
        let plan = plan_answers(10, 2, &[], 0.3, 1);
        let sample: Vec<usize> = (0..10).filter(|&i| plan.in_overlap[i]).collect();
        assert_eq!(sample, [1, 3, 7]);
        assert_eq!(plan.coders, [2, 3, 2, 3, 1, 2, 1, 3, 1, 1]);
    }
}
