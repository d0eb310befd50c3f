//! Writing a survey import (a "wave") into the project inside one transaction.

use super::Store;
use super::bulk::BulkStatement;
use super::quote_ident;
use crate::error::{Error, Result};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    Numeric,
    Categorical,
    Text,
    Date,
}

impl VariableKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VariableKind::Numeric => "numeric",
            VariableKind::Categorical => "categorical",
            VariableKind::Text => "text",
            VariableKind::Date => "date",
        }
    }

    pub fn parse(s: &str) -> Option<VariableKind> {
        match s {
            "numeric" => Some(VariableKind::Numeric),
            "categorical" => Some(VariableKind::Categorical),
            "text" => Some(VariableKind::Text),
            "date" => Some(VariableKind::Date),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExistingVariable {
    pub id: i64,
    pub name: String,
    pub kind: VariableKind,
    pub levels: Vec<String>,
    pub column: String,
}

/// A row to add: its ID, its values (aligned with the layout's variables) and its answers
/// (aligned with its questions, newline-normalised). A trait, so that the importer's rows are
/// bound straight from its buffers without building vectors per row.
pub trait RespondentRow {
    fn ext_id(&self) -> &str;
    fn value(&self, k: usize) -> ValueRef<'_>;
    fn answer(&self, q: usize) -> &str;
    /// Whether the answer is empty (see [`crate::model::empty::is_empty_answer`]); a row that
    /// knows already can say so without looking again.
    fn answer_is_empty(&self, q: usize) -> bool {
        crate::model::empty::is_empty_answer(self.answer(q))
    }
}

/// What happened to one survey row.
#[derive(Debug, PartialEq)]
pub enum RespondentOutcome {
    Added,
    /// The ID existed from an earlier wave with the same values.
    SkippedIdentical,
    /// The ID existed from an earlier wave with other values: the names of the differing columns.
    Conflict(Vec<String>),
    /// The ID appeared earlier in this same file, as the n-th added row (0-based).
    DuplicateInFile(usize),
}

impl Store {
    pub fn question_names(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn()
            .prepare("SELECT name FROM questions ORDER BY position, id")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn variables(&self) -> Result<Vec<ExistingVariable>> {
        variables_in(self.conn())
    }

    pub fn respondent_count(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM respondents", [], |r| r.get(0))?)
    }

    /// Starts a survey import. Nothing is visible to others until [`SurveyWriter::finish`]; dropping
    /// the writer rolls everything back.
    ///
    /// `fresh`: the project was created for this import and will be deleted if it fails. Its
    /// first import then keeps the rollback journal in memory instead of writing every page twice
    /// through the WAL; a marker in project_meta makes an interrupted first import detectable.
    /// Any import into a project without respondents runs without foreign-key checks and builds
    /// the non-unique indexes of what it fills once at the end.
    pub fn begin_survey_import(&mut self, file: &str, fresh: bool) -> Result<SurveyWriter<'_>> {
        let conn = self.conn();
        // Large imports spill less to disk with a bigger page cache (about 32 MB).
        conn.pragma_update(None, "cache_size", -32_000)?;
        let empty = self.respondent_count()? == 0;
        let fresh = fresh && empty;
        if fresh {
            self.set_meta("import_incomplete", "1")?;
            // synchronous stays NORMAL: the commit then syncs the file once, so the survey is
            // on disk when lacrima says it is imported (OFF left a 400 MB file in the page
            // cache only, for about the same time).
            conn.pragma_update(None, "journal_mode", "MEMORY")?;
        }
        if empty {
            // Every respondent and question id a first import writes is one it has just made,
            // so checking each answer's against their tables (a b-tree lookup per row) proves
            // nothing; it was a quarter of the import's time. On again when the import ends.
            conn.pragma_update(None, "foreign_keys", "OFF")?;
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            if empty {
                let _ = conn.pragma_update(None, "foreign_keys", "ON");
            }
            return Err(e.into());
        }
        let writer = (|| {
            let max_before: i64 =
                conn.query_row("SELECT ifnull(max(id), 0) FROM respondents", [], |r| {
                    r.get(0)
                })?;
            conn.execute(
                "INSERT INTO imports (file, imported_at, respondents_added, respondents_skipped)
                 VALUES (?1, ?2, 0, 0)",
                params![file, crate::timefmt::now()],
            )?;
            let wave = conn.last_insert_rowid();
            let deferred_indexes = if max_before == 0 {
                defer_indexes(conn)?
            } else {
                Vec::new()
            };
            Ok::<_, Error>(SurveyWriter {
                conn,
                fresh,
                foreign_keys_off: empty,
                deferred_indexes,
                wave,
                max_before,
                added: 0,
                questions: Vec::new(),
                variables: Vec::new(),
                select_values_sql: String::new(),
                inserts: None,
                chunk: None,
                append_only: max_before == 0,
                done: false,
            })
        })();
        if writer.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
            if empty {
                let _ = conn.pragma_update(None, "foreign_keys", "ON");
            }
        }
        writer
    }
}

/// Drops the secondary (non-unique) indexes of the tables an import fills, returning the SQL that
/// makes them again. Into an empty project, building such an index once from the loaded table
/// is cheaper than updating it for every answer; unique indexes stay, since they are what finds
/// a repeated ID while the rows go in.
fn defer_indexes(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'index' AND tbl_name IN ('respondents', 'responses') AND sql IS NOT NULL
           AND sql NOT LIKE 'CREATE UNIQUE INDEX%'
         ORDER BY name",
    )?;
    let indexes: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX {}", quote_ident(name)))?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

pub(crate) fn variables_in(conn: &Connection) -> Result<Vec<ExistingVariable>> {
    let mut st = conn.prepare(
        "SELECT id, name, kind, levels, column_name FROM variables ORDER BY position, id",
    )?;
    let rows = st.query_map([], |r| {
        let kind: String = r.get(2)?;
        let levels: Option<String> = r.get(3)?;
        Ok((r.get(0)?, r.get(1)?, kind, levels, r.get(4)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, kind, levels, column): (i64, String, String, Option<String>, String) = row?;
        let kind = VariableKind::parse(&kind)
            .ok_or_else(|| Error::input(format!("variable {name} has an unknown kind {kind}")))?;
        let levels = match levels {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| Error::input(format!("variable {name} has unreadable levels: {e}")))?,
            None => Vec::new(),
        };
        out.push(ExistingVariable {
            id,
            name,
            kind,
            levels,
            column,
        });
    }
    Ok(out)
}

pub struct SurveyWriter<'a> {
    conn: &'a Connection,
    fresh: bool,
    /// Foreign-key checks are off for this import (the project had no respondents).
    foreign_keys_off: bool,
    /// Indexes dropped for a first import, made again by [`SurveyWriter::finish`].
    deferred_indexes: Vec<String>,
    wave: i64,
    max_before: i64,
    added: usize,
    /// Question ids in the order the caller passes answers.
    questions: Vec<i64>,
    /// (column, name) of each variable in the order the caller passes values.
    variables: Vec<(String, String)>,
    select_values_sql: String,
    /// Prepared once per import: re-preparing (or even a cache lookup) per row shows in profiles.
    inserts: Option<Inserts<'a>>,
    chunk: Option<ChunkInserts<'a>>,
    /// The project had no respondents when this import began.
    append_only: bool,
    done: bool,
}

impl<'a> SurveyWriter<'a> {
    /// Adds a question (a new open-ended column); earlier respondents get an empty answer to it.
    pub fn add_question(&mut self, name: &str, label: Option<&str>) -> Result<i64> {
        let pos: i64 = self.conn.query_row(
            "SELECT ifnull(max(position), 0) + 1 FROM questions",
            [],
            |r| r.get(0),
        )?;
        self.conn.execute(
            "INSERT INTO questions (name, label, position) VALUES (?1, ?2, ?3)",
            params![name, label, pos],
        )?;
        let id = self.conn.last_insert_rowid();
        self.conn.execute(
            "INSERT INTO responses (respondent_id, question_id, text, is_empty)
             SELECT id, ?1, '', 1 FROM respondents",
            [id],
        )?;
        Ok(id)
    }

    pub fn question_id(&self, name: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row("SELECT id FROM questions WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Sets a question's label if it has none (Qualtrics files carry the question text).
    pub fn label_question(&self, id: i64, label: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE questions SET label = ?2 WHERE id = ?1 AND label IS NULL",
            params![id, label],
        )?;
        Ok(())
    }

    /// Adds a variable to the catalogue and its column to the values table.
    pub fn add_variable(
        &mut self,
        name: &str,
        label: Option<&str>,
        kind: VariableKind,
        levels: &[String],
    ) -> Result<ExistingVariable> {
        let pos: i64 = self.conn.query_row(
            "SELECT ifnull(max(position), 0) + 1 FROM variables",
            [],
            |r| r.get(0),
        )?;
        let next_id: i64 =
            self.conn
                .query_row("SELECT ifnull(max(id), 0) + 1 FROM variables", [], |r| {
                    r.get(0)
                })?;
        // The column name is generated from the id, never taken from the file.
        let column = format!("v{next_id}");
        let levels_json = (kind == VariableKind::Categorical)
            .then(|| serde_json::to_string(levels).unwrap_or_else(|_| "[]".into()));
        self.conn.execute(
            "INSERT INTO variables (id, name, label, kind, levels, position, column_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                next_id,
                name,
                label,
                kind.as_str(),
                levels_json,
                pos,
                column
            ],
        )?;
        // No declared type: a type affinity would rewrite values as they are stored ("01" would
        // become 1). Numeric values are bound as numbers, the others as text.
        self.conn.execute_batch(&format!(
            "ALTER TABLE variable_values ADD COLUMN {}",
            quote_ident(&column)
        ))?;
        Ok(ExistingVariable {
            id: next_id,
            name: name.to_string(),
            kind,
            levels: levels.to_vec(),
            column,
        })
    }

    pub fn set_levels(&self, variable_id: i64, levels: &[String]) -> Result<()> {
        let json = serde_json::to_string(levels).unwrap_or_else(|_| "[]".into());
        self.conn.execute(
            "UPDATE variables SET levels = ?2 WHERE id = ?1",
            params![variable_id, json],
        )?;
        Ok(())
    }

    /// Records the kind (and levels) of a variable whose kind was inferred during the import.
    pub fn set_variable_kind(
        &self,
        variable_id: i64,
        kind: VariableKind,
        levels: &[String],
    ) -> Result<()> {
        let levels_json = (kind == VariableKind::Categorical)
            .then(|| serde_json::to_string(levels).unwrap_or_else(|_| "[]".into()));
        self.conn.execute(
            "UPDATE variables SET kind = ?2, levels = ?3 WHERE id = ?1",
            params![variable_id, kind.as_str(), levels_json],
        )?;
        Ok(())
    }

    /// Sets one respondent's value of a column to text, for respondents added by this import.
    pub fn set_text_value(&self, column: &str, ext_id: &str, text: &str) -> Result<()> {
        let mut st = self.conn.prepare_cached(&format!(
            "UPDATE variable_values SET {} = ?2
             WHERE respondent_id = (SELECT id FROM respondents WHERE ext_id = ?1 AND id > ?3)",
            quote_ident(column)
        ))?;
        st.execute(params![ext_id, text, self.max_before])?;
        Ok(())
    }

    /// Turns the values of a column that proved not numeric, but had some values stored as
    /// numbers because they were written in the plain form, back into their text. Plain form
    /// means Rust's shortest rendering of the number is the text itself, so it comes back exactly.
    pub fn numbers_to_text(&self, column: &str) -> Result<()> {
        let col = quote_ident(column);
        // Integers print the same in SQLite and Rust; reals are rendered by Rust, which is what
        // "plain form" was checked against.
        self.conn.execute(
            &format!(
                "UPDATE variable_values SET {col} = CAST({col} AS TEXT)
                 WHERE typeof({col}) = 'integer'"
            ),
            [],
        )?;
        let mut st = self.conn.prepare(&format!(
            "SELECT respondent_id, {col} FROM variable_values WHERE typeof({col}) = 'real'"
        ))?;
        let reals: Vec<(i64, f64)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut upd = self.conn.prepare(&format!(
            "UPDATE variable_values SET {col} = ?2 WHERE respondent_id = ?1"
        ))?;
        for (rid, f) in reals {
            upd.execute(params![rid, format!("{f}")])?;
        }
        Ok(())
    }

    pub fn set_variable_label(&self, variable_id: i64, label: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE variables SET label = ?2 WHERE id = ?1 AND label IS NULL",
            params![variable_id, label],
        )?;
        Ok(())
    }

    /// Fixes the order in which [`insert`](Self::insert) receives answers and values.
    pub fn set_layout(
        &mut self,
        question_ids: Vec<i64>,
        variables: &[ExistingVariable],
    ) -> Result<()> {
        self.questions = question_ids;
        self.variables = variables
            .iter()
            .map(|v| (v.column.clone(), v.name.clone()))
            .collect();
        let cols: Vec<String> = self.variables.iter().map(|(c, _)| quote_ident(c)).collect();
        let mut insert = String::from("INSERT INTO variable_values (respondent_id");
        for c in &cols {
            insert.push_str(", ");
            insert.push_str(c);
        }
        insert.push_str(") VALUES (?1");
        for i in 0..cols.len() {
            insert.push_str(&format!(", ?{}", i + 2));
        }
        insert.push(')');
        self.select_values_sql = if cols.is_empty() {
            "SELECT respondent_id FROM variable_values WHERE respondent_id = ?1".into()
        } else {
            format!(
                "SELECT {} FROM variable_values WHERE respondent_id = ?1",
                cols.join(", ")
            )
        };
        self.inserts = Some(Inserts {
            respondent: BulkStatement::prepare(
                self.conn,
                "INSERT INTO respondents (ext_id, wave) VALUES (?1, ?2)
                 ON CONFLICT (ext_id) DO NOTHING",
            )?,
            values: BulkStatement::prepare(self.conn, &insert)?,
            response: BulkStatement::prepare(
                self.conn,
                "INSERT INTO responses (respondent_id, question_id, text, is_empty)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
        });
        Ok(())
    }

    /// Writes a chunk of respondents with one statement per table, when the project had no
    /// respondents before this import (so every row is new and ids follow in order). Returns
    /// false, having written nothing, when that does not apply or an ID repeats; the caller then
    /// inserts the rows one by one, which reports exactly which ID repeats.
    pub fn insert_new_chunk<R: RespondentRow>(&mut self, rows: &[R]) -> Result<bool> {
        if !self.append_only || rows.is_empty() {
            return Ok(false);
        }
        let n = rows.len();
        if self.chunk.as_ref().is_none_or(|c| c.rows != n) {
            self.chunk = Some(self.prepare_chunk(n)?);
        }
        let first_id = self.max_before + 1 + self.added as i64;
        let Some(c) = self.chunk.as_mut() else {
            return Ok(false);
        };
        let wave = self.wave;
        let inserted = c.respondents.run(|p| {
            for (i, row) in rows.iter().enumerate() {
                p.int(3 * i + 1, first_id + i as i64);
                p.text(3 * i + 2, row.ext_id());
                p.int(3 * i + 3, wave);
            }
        });
        match inserted {
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        }
        let width = self.variables.len() + 1;
        c.values.run(|p| {
            for (i, row) in rows.iter().enumerate() {
                p.int(i * width + 1, first_id + i as i64);
                for j in 0..width - 1 {
                    p.value(i * width + j + 2, row.value(j));
                }
            }
        })?;
        if let Some(responses) = c.responses.as_mut() {
            let questions = &self.questions;
            responses.run(|p| {
                let mut k = 1;
                for (i, row) in rows.iter().enumerate() {
                    for (q, qid) in questions.iter().enumerate() {
                        p.int(k, first_id + i as i64);
                        p.int(k + 1, *qid);
                        p.text(k + 2, row.answer(q));
                        p.int(k + 3, i64::from(row.answer_is_empty(q)));
                        k += 4;
                    }
                }
            })?;
        }
        self.added += n;
        Ok(true)
    }

    fn prepare_chunk(&self, n: usize) -> Result<ChunkInserts<'a>> {
        let rows = |per_row: usize| -> String {
            let one = format!("({})", vec!["?"; per_row].join(", "));
            vec![one; n].join(", ")
        };
        let cols: Vec<String> = self.variables.iter().map(|(c, _)| quote_ident(c)).collect();
        let mut values_sql = String::from("INSERT INTO variable_values (respondent_id");
        for c in &cols {
            values_sql.push_str(", ");
            values_sql.push_str(c);
        }
        values_sql.push_str(") VALUES ");
        values_sql.push_str(&rows(cols.len() + 1));
        let responses = if self.questions.is_empty() {
            None
        } else {
            let per = vec!["(?, ?, ?, ?)"; n * self.questions.len()];
            Some(BulkStatement::prepare(
                self.conn,
                &format!(
                    "INSERT INTO responses (respondent_id, question_id, text, is_empty) VALUES {}",
                    per.join(", ")
                ),
            )?)
        };
        Ok(ChunkInserts {
            rows: n,
            respondents: BulkStatement::prepare(
                self.conn,
                &format!(
                    "INSERT INTO respondents (id, ext_id, wave) VALUES {}",
                    rows(3)
                ),
            )?,
            values: BulkStatement::prepare(self.conn, &values_sql)?,
            responses,
        })
    }

    /// Inserts one respondent, or says why not (already present, a duplicate in the file).
    pub fn insert<R: RespondentRow>(&mut self, row: &R) -> Result<RespondentOutcome> {
        let Some(st) = self.inserts.as_mut() else {
            return Err(Error::input("internal: set_layout must come before insert"));
        };
        let wave = self.wave;
        if st.respondent.run(|p| {
            p.text(1, row.ext_id());
            p.int(2, wave);
        })? == 0
        {
            return self.compare_existing(row);
        }
        let rid = self.conn.last_insert_rowid();
        let nvars = self.variables.len();
        st.values.run(|p| {
            p.int(1, rid);
            for i in 0..nvars {
                p.value(i + 2, row.value(i));
            }
        })?;
        for (q, qid) in self.questions.iter().enumerate() {
            st.response.run(|p| {
                p.int(1, rid);
                p.int(2, *qid);
                p.text(3, row.answer(q));
                p.int(4, i64::from(row.answer_is_empty(q)));
            })?;
        }
        self.added += 1;
        Ok(RespondentOutcome::Added)
    }

    fn compare_existing<R: RespondentRow>(&self, row: &R) -> Result<RespondentOutcome> {
        let ext_id = row.ext_id();
        // Cached: a later wave may hold as many known IDs as new ones.
        let rid: i64 = self
            .conn
            .prepare_cached("SELECT id FROM respondents WHERE ext_id = ?1")?
            .query_row([ext_id], |r| r.get(0))?;
        if rid > self.max_before {
            return Ok(RespondentOutcome::DuplicateInFile(
                (rid - self.max_before - 1) as usize,
            ));
        }
        let mut differing = Vec::new();
        if !self.variables.is_empty() {
            let stored: Vec<Value> = self
                .conn
                .prepare_cached(&self.select_values_sql)?
                .query_row([rid], |r| {
                    (0..self.variables.len())
                        .map(|i| r.get::<_, Value>(i))
                        .collect()
                })
                .optional()?
                .unwrap_or_else(|| vec![Value::Null; self.variables.len()]);
            for (k, ((_, name), old)) in self.variables.iter().zip(&stored).enumerate() {
                if !same_value(old, &row.value(k)) {
                    differing.push(name.clone());
                }
            }
        }
        let mut st = self.conn.prepare_cached(
            "SELECT text FROM responses WHERE respondent_id = ?1 AND question_id = ?2",
        )?;
        for (q, qid) in self.questions.iter().enumerate() {
            let old: Option<String> = st.query_row(params![rid, qid], |r| r.get(0)).optional()?;
            if old.as_deref().unwrap_or("") != row.answer(q) {
                let name: String = self.conn.query_row(
                    "SELECT name FROM questions WHERE id = ?1",
                    [qid],
                    |r| r.get(0),
                )?;
                differing.push(name);
            }
        }
        Ok(if differing.is_empty() {
            RespondentOutcome::SkippedIdentical
        } else {
            RespondentOutcome::Conflict(differing)
        })
    }

    /// Records the name of the file's ID column, unless an earlier import did: the export
    /// writes the ID under the name it had in the first file.
    pub fn remember_id_column(&self, name: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO project_meta (key, value) VALUES ('id_column', ?1)
             ON CONFLICT (key) DO NOTHING",
            [name],
        )?;
        Ok(())
    }

    /// Commits the import and records its counts.
    pub fn finish(mut self, skipped: usize) -> Result<i64> {
        self.inserts = None;
        self.chunk = None;
        self.conn.execute(
            "UPDATE imports SET respondents_added = ?2, respondents_skipped = ?3 WHERE id = ?1",
            params![self.wave, self.added as i64, skipped as i64],
        )?;
        super::log_event(
            self.conn,
            None,
            "import_survey",
            None,
            Some(&serde_json::json!({
                "wave": self.wave, "added": self.added, "skipped": skipped
            })),
        )?;
        if !self.deferred_indexes.is_empty() {
            // SQLite's sorter may hold as much as the page cache in memory; with the import's
            // 32 MB cache still in place the two together took the peak from 56 to 87 MB. 8 MB
            // sorts a million respondents' answers as fast and keeps the peak at 64 MB.
            self.conn.pragma_update(None, "cache_size", -8_000)?;
        }
        for sql in &self.deferred_indexes {
            self.conn.execute_batch(sql)?;
        }
        if self.fresh {
            self.conn.execute(
                "DELETE FROM project_meta WHERE key = 'import_incomplete'",
                [],
            )?;
        }
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        if self.fresh {
            self.conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        if self.foreign_keys_off {
            self.conn.pragma_update(None, "foreign_keys", "ON")?;
        }
        Ok(self.wave)
    }
}

/// Statements bind text in place (see [`BulkStatement`]): an import binds about ten texts per
/// respondent.
struct ChunkInserts<'a> {
    rows: usize,
    respondents: BulkStatement<'a>,
    values: BulkStatement<'a>,
    responses: Option<BulkStatement<'a>>,
}

struct Inserts<'a> {
    respondent: BulkStatement<'a>,
    values: BulkStatement<'a>,
    response: BulkStatement<'a>,
}

impl Drop for SurveyWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
            if self.foreign_keys_off {
                let _ = self.conn.pragma_update(None, "foreign_keys", "ON");
            }
        }
    }
}

fn same_value(old: &Value, new: &ValueRef<'_>) -> bool {
    match (old, new) {
        (Value::Null, ValueRef::Null) => true,
        (Value::Integer(a), ValueRef::Integer(b)) => a == b,
        (Value::Real(a), ValueRef::Real(b)) => a == b,
        (Value::Integer(a), ValueRef::Real(b)) | (Value::Real(b), ValueRef::Integer(a)) => {
            (*a as f64) == *b
        }
        (Value::Text(a), ValueRef::Text(b)) => a.as_bytes() == *b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row(String, String);

    impl RespondentRow for Row {
        fn ext_id(&self) -> &str {
            &self.0
        }
        fn value(&self, _: usize) -> ValueRef<'_> {
            ValueRef::Integer(self.0.len() as i64)
        }
        fn answer(&self, _: usize) -> &str {
            &self.1
        }
    }

    fn indexes(conn: &Connection) -> Vec<(String, Option<String>)> {
        conn.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn a_first_import_in_bulk_leaves_the_indexes_and_foreign_keys_as_it_found_them() {
        // fresh: `lacrima import` made the project; not fresh: `lacrima init` did, earlier.
        for fresh in [true, false] {
            first_import_in_bulk(fresh);
        }
    }

    fn first_import_in_bulk(fresh: bool) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(&dir.path().join("p.db")).unwrap();
        let before = indexes(store.conn());
        let mut w = store.begin_survey_import("survey.csv", fresh).unwrap();
        let q = w.add_question("answer_a", None).unwrap();
        let v = w
            .add_variable("score", None, VariableKind::Numeric, &[])
            .unwrap();
        w.set_layout(vec![q], &[v]).unwrap();
        let rows: Vec<Row> = (0..64)
            .map(|i| {
                Row(
                    format!("R{i}"),
                    if i % 3 == 0 {
                        String::new()
                    } else {
                        format!("answer {i}")
                    },
                )
            })
            .collect();
        assert!(w.insert_new_chunk(&rows[..32]).unwrap());
        assert!(w.insert_new_chunk(&rows[32..]).unwrap());
        let sync: i64 = w
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert!(sync >= 1, "the commit syncs the file (synchronous {sync})");
        w.finish(0).unwrap();

        let conn = store.conn();
        assert_eq!(
            indexes(conn),
            before,
            "every index is back, as the migrations wrote it"
        );
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "foreign keys are enforced again after the import");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let dangling: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(dangling, 0);
        let offered: i64 = conn
            .query_row(
                "SELECT count(*) FROM responses INDEXED BY responses_offered WHERE is_empty = 0",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(offered, 42, "the rebuilt index holds every answer");
        let orphan = conn.execute(
            "INSERT INTO responses (respondent_id, question_id, text, is_empty) VALUES (999, 1, 'x', 0)",
            [],
        );
        assert!(orphan.is_err(), "an answer of nobody is still refused");
    }

    #[test]
    fn an_import_that_cannot_start_leaves_foreign_keys_on() {
        // Another connection holds the write lock: the import cannot begin.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let mut store = Store::create(&path).unwrap();
        store
            .conn()
            .busy_timeout(std::time::Duration::from_millis(10))
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        assert!(store.begin_survey_import("survey.csv", false).is_err());
        other.execute_batch("ROLLBACK").unwrap();
        let fk: i64 = store
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn a_failed_first_import_enforces_foreign_keys_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::create(&dir.path().join("p.db")).unwrap();
        let w = store.begin_survey_import("survey.csv", false).unwrap();
        drop(w);
        let fk: i64 = store
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let offered: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'responses_offered'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(offered, 1, "the dropped index came back with the rollback");
    }
}
