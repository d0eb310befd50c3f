//! The ratings behind `lacrima agreement`, streamed out of the project into a compact
//! [`CodingMatrix`].
//!
//! A coder "rated" an answer when they have a review mark on it (DESIGN.md section 6), so the
//! matrix comes from the review marks and the codings of the chosen coders. Both are read in one
//! ordered pass each, merged here by (answer, coder): `reviews` in its primary-key order and
//! `codings` through its covering index `codings_identity`, which starts with (response_id,
//! coder_id). A review without codings is "rated, nothing applies"; an answer without a review by
//! a coder is missing for that coder. Nothing is queried per answer, and memory is the matrix
//! itself (tens of megabytes for a million answers x 3 coders).
//!
//! Why two scans and not `reviews LEFT JOIN codings`: the join looks every review up in the
//! codings index, and on a million answers x 3 coders those 2.7 million B-tree searches cost
//! twice as much as reading both tables straight through (0.91 s against 0.15 + 0.29 s in the
//! sqlite3 shell; see BENCHMARKS.md, "Agreement").

use super::Store;
use crate::agreement::CodingMatrix;
use crate::error::{Error, Result};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params_from_iter};

/// A coder and how their reviews bear on agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingCoder {
    pub id: i64,
    pub name: String,
    pub is_consensus: bool,
    /// Whether the coder reviewed at least one answer (of the question, when one is chosen).
    pub has_ratings: bool,
}

/// The ratings of some coders over the answers at least one of them rated.
#[derive(Debug, Clone)]
pub struct AgreementRatings {
    /// Units are answers, in survey order; columns are the coders in the order asked for;
    /// code indices are positions in the `code_ids` asked for.
    pub matrix: CodingMatrix,
    /// The answer (responses.id) of each unit.
    pub response_ids: Vec<i64>,
    /// Index `g`: answers coder g rated.
    pub coder_counts: Vec<u64>,
}

/// The two ordered scans merged by [`Store::agreement_ratings`]: every review mark and every
/// coding, each in (answer, coder) order; parameter 1 is the question, if any.
///
/// The coders are picked out while merging, not in SQL: an `IN` list is probed for every row,
/// and a filter on the coder would tempt SQLite into an index that starts with the coder
/// (reviews_by_coder, codings_by_coder_code), which returns rows in coder order and forces a
/// sort of every row.
fn ratings_scans(with_question: bool) -> (String, String) {
    let join = |alias: &str| {
        if with_question {
            format!("JOIN responses s ON s.id = {alias}.response_id AND s.question_id = ?1")
        } else {
            String::new()
        }
    };
    (
        format!(
            "SELECT v.response_id, v.coder_id FROM reviews v {}
             ORDER BY v.response_id, v.coder_id",
            join("v")
        ),
        format!(
            "SELECT k.response_id, k.coder_id, k.code_id FROM codings k INDEXED BY codings_identity {}
             ORDER BY k.response_id, k.coder_id",
            join("k")
        ),
    )
}

/// Every review of some coders joined with its codings (`columns` of `codings k`), in answer
/// order: parameters 1..=n are the coders, n+1 the question (if any).
///
/// The unary `+` keeps SQLite from answering the coder filter through reviews_by_coder, which
/// would return rows in coder order and force a sort of every review; scanning the primary key
/// (response_id, coder_id) delivers them already grouped by answer.
pub(super) fn reviews_pass_sql(n_coders: usize, with_question: bool, columns: &str) -> String {
    let placeholders = (1..=n_coders)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let question_join = if with_question {
        format!(
            "JOIN responses s ON s.id = v.response_id AND s.question_id = ?{}",
            n_coders + 1
        )
    } else {
        String::new()
    };
    format!(
        "SELECT v.response_id, v.coder_id, {columns}
         FROM reviews v {question_join}
         LEFT JOIN codings k ON k.response_id = v.response_id AND k.coder_id = v.coder_id
         WHERE +v.coder_id IN ({placeholders})
         ORDER BY v.response_id"
    )
}

impl Store {
    /// Every coder in name order, with whether they rated any answer (of `question_id`).
    pub fn rating_coders(&self, question_id: Option<i64>) -> Result<Vec<RatingCoder>> {
        let mut st = self.conn().prepare(
            "SELECT d.id, d.name, d.is_consensus,
                    EXISTS (SELECT 1 FROM reviews v JOIN responses s ON s.id = v.response_id
                            WHERE v.coder_id = d.id AND (?1 IS NULL OR s.question_id = ?1))
             FROM coders d ORDER BY d.name",
        )?;
        let rows = st.query_map([question_id], |r| {
            Ok(RatingCoder {
                id: r.get(0)?,
                name: r.get(1)?,
                is_consensus: r.get::<_, i64>(2)? != 0,
                has_ratings: r.get::<_, i64>(3)? != 0,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The id of the question called `name`, if there is one.
    pub fn question_id_by_name(&self, name: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row("SELECT id FROM questions WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Reads the ratings of `coder_ids` (matrix columns, in this order) on the codes `code_ids`
    /// (matrix code indices, in this order; codings of other codes are left out, though the
    /// review still counts), over one question or all. Units are the answers that at least one
    /// of the coders rated.
    pub fn agreement_ratings(
        &self,
        coder_ids: &[i64],
        question_id: Option<i64>,
        code_ids: &[i64],
    ) -> Result<AgreementRatings> {
        if coder_ids.is_empty() {
            return Err(Error::input("no coders to read ratings for"));
        }
        // Code ids are small integers (rowids of the codebook): a dense lookup table beats a
        // hash map on the hot path.
        let max_code = code_ids.iter().copied().max().unwrap_or(0).max(0) as usize;
        let mut code_index = vec![u32::MAX; max_code + 1];
        for (i, &c) in code_ids.iter().enumerate() {
            if c >= 0 {
                code_index[c as usize] = u32::try_from(i).unwrap_or(u32::MAX);
            }
        }
        let max_coder = coder_ids.iter().copied().max().unwrap_or(0).max(0) as usize;
        let mut coder_index = vec![usize::MAX; max_coder + 1];
        for (g, &d) in coder_ids.iter().enumerate() {
            if d >= 0 {
                coder_index[d as usize] = g;
            }
        }

        let (reviews_sql, codings_sql) = ratings_scans(question_id.is_some());
        let params: Vec<Value> = question_id.into_iter().map(Value::Integer).collect();

        let n = coder_ids.len();
        let mut matrix = CodingMatrix::new(n, code_ids.len());
        let mut response_ids = Vec::new();
        let mut coder_counts = vec![0u64; n];
        let mut rated = vec![false; n];
        let mut cells: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut current: Option<i64> = None;
        let mut flush = |response: i64,
                         rated: &mut [bool],
                         cells: &mut [Vec<u32>],
                         matrix: &mut CodingMatrix|
         -> Result<()> {
            // Rated only by coders not asked about: not a unit.
            if !rated.iter().any(|&r| r) {
                return Ok(());
            }
            let entries: Vec<Option<&[u32]>> = rated
                .iter()
                .zip(cells.iter())
                .map(|(&r, c)| r.then_some(c.as_slice()))
                .collect();
            matrix
                .push_unit(&entries)
                .map_err(|e| Error::input(format!("answer {response}: {e}")))?;
            response_ids.push(response);
            for (g, r) in rated.iter_mut().enumerate() {
                if *r {
                    coder_counts[g] += 1;
                }
                *r = false;
                cells[g].clear();
            }
            Ok(())
        };

        let mut reviews_st = self.conn().prepare(&reviews_sql)?;
        let mut codings_st = self.conn().prepare(&codings_sql)?;
        let mut reviews = reviews_st.query(params_from_iter(params.iter()))?;
        let mut codings = codings_st.query(params_from_iter(params.iter()))?;
        // The next coding not yet merged: (answer, coder, code).
        let read_coding = |rows: &mut rusqlite::Rows<'_>| -> Result<Option<(i64, i64, i64)>> {
            Ok(match rows.next()? {
                Some(r) => Some((r.get(0)?, r.get(1)?, r.get(2)?)),
                None => None,
            })
        };
        let mut coding = read_coding(&mut codings)?;
        while let Some(row) = reviews.next()? {
            let response: i64 = row.get(0)?;
            let coder: i64 = row.get(1)?;
            if current != Some(response) {
                if let Some(prev) = current {
                    flush(prev, &mut rated, &mut cells, &mut matrix)?;
                }
                current = Some(response);
            }
            let g = usize::try_from(coder)
                .ok()
                .and_then(|c| coder_index.get(c).copied())
                .unwrap_or(usize::MAX);
            if g != usize::MAX {
                rated[g] = true;
            }
            // Codings before this review have no review mark (not expected: applying a code
            // marks the answer) and are skipped; those of this review are its codes.
            while let Some((r, d, c)) = coding {
                if (r, d) > (response, coder) {
                    break;
                }
                if (r, d) == (response, coder)
                    && g != usize::MAX
                    && let Some(&i) = usize::try_from(c)
                        .ok()
                        .and_then(|c| code_index.get(c))
                        .filter(|&&i| i != u32::MAX)
                {
                    cells[g].push(i);
                }
                coding = read_coding(&mut codings)?;
            }
        }
        if let Some(prev) = current {
            flush(prev, &mut rated, &mut cells, &mut matrix)?;
        }
        Ok(AgreementRatings {
            matrix,
            response_ids,
            coder_counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project with one question, three answers, two codes and coders a, b; `sql` adds the
    /// reviews and codings.
    fn project(sql: &str) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(&dir.path().join("p.db")).unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO imports VALUES (1, 'f', 't', 3, 0);
                 INSERT INTO respondents VALUES (1, 'r1', 1), (2, 'r2', 1), (3, 'r3', 1);
                 INSERT INTO questions VALUES (1, 'q1', NULL, 0), (2, 'q2', NULL, 1);
                 INSERT INTO responses VALUES (1, 1, 1, 'one', 0), (2, 2, 1, 'two', 0),
                                              (3, 3, 1, 'three', 0), (4, 1, 2, 'four', 0);
                 INSERT INTO codes (id, guid, name, position) VALUES (1, 'g1', 'x', 0), (2, 'g2', 'y', 1);
                 INSERT INTO coders (id, name, created_at) VALUES (1, 'a', 't'), (2, 'b', 't');",
            )
            .unwrap();
        store.conn().execute_batch(sql).unwrap();
        (dir, store)
    }

    #[test]
    fn reviews_make_ratings_and_codings_make_sets() {
        let (_dir, store) = project(
            "INSERT INTO coders (id, name, created_at) VALUES (3, 'c', 't');
             INSERT INTO reviews VALUES (1, 1, 't'), (1, 2, 't'), (2, 1, 't'), (4, 2, 't'),
                                        (3, 3, 't'), (1, 3, 't');
             INSERT INTO codings (response_id, code_id, coder_id, start, \"end\", created_at)
             VALUES (1, 2, 1, NULL, NULL, 't'), (1, 2, 1, 0, 2, 't'), (1, 1, 2, NULL, NULL, 't'),
                    (1, 2, 2, 1, 2, 't'), (3, 1, 1, NULL, NULL, 't');",
        );
        let r = store.agreement_ratings(&[1, 2], None, &[1, 2]).unwrap();
        assert_eq!(
            r.response_ids,
            vec![1, 2, 4],
            "answer 3 nobody rated is no unit"
        );
        assert_eq!(
            r.matrix.cell(0, 0),
            Some(&[1u32][..]),
            "two codings of y count once"
        );
        assert_eq!(r.matrix.cell(0, 1), Some(&[0u32, 1][..]));
        assert_eq!(
            r.matrix.cell(1, 0),
            Some(&[][..]),
            "reviewed, nothing applied"
        );
        assert_eq!(r.matrix.cell(1, 1), None, "b did not rate answer 2");
        assert_eq!(r.coder_counts, vec![2, 2]);
    }

    #[test]
    fn question_coder_order_and_code_subset_are_respected() {
        let (_dir, store) = project(
            "INSERT INTO reviews VALUES (1, 1, 't'), (1, 2, 't'), (4, 1, 't'), (4, 2, 't');
             INSERT INTO codings (response_id, code_id, coder_id, created_at)
             VALUES (1, 1, 1, 't'), (4, 2, 2, 't'), (4, 1, 1, 't');",
        );
        let r = store.agreement_ratings(&[2, 1], Some(2), &[2]).unwrap();
        assert_eq!(r.response_ids, vec![4]);
        assert_eq!(
            r.matrix.cell(0, 0),
            Some(&[0u32][..]),
            "b first, y is index 0"
        );
        assert_eq!(r.matrix.cell(0, 1), Some(&[][..]), "x is not asked for");
        let coders = store.rating_coders(Some(1)).unwrap();
        assert!(coders.iter().all(|c| c.has_ratings));
        let none = store.rating_coders(Some(2)).unwrap();
        assert_eq!(none.len(), 2);
    }

    #[test]
    fn both_scans_read_in_answer_order_without_sorting_or_searching() {
        let (_dir, store) = project("");
        for question in [None, Some(1i64)] {
            let (reviews, codings) = ratings_scans(question.is_some());
            let params: Vec<Value> = question.into_iter().map(Value::Integer).collect();
            let plan = |sql: &str| -> String {
                let mut st = store
                    .conn()
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .unwrap();
                let rows: Vec<String> = st
                    .query_map(params_from_iter(params.iter()), |r| r.get(3))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                rows.join("\n")
            };
            let (r, c) = (plan(&reviews), plan(&codings));
            for p in [&r, &c] {
                assert!(!p.contains("TEMP B-TREE"), "{p}");
                assert!(!p.contains("by_coder"), "{p}");
            }
            assert!(r.contains("SCAN v"), "{r}");
            assert!(
                c.contains("SCAN k USING COVERING INDEX codings_identity"),
                "{c}"
            );
        }
    }
}
