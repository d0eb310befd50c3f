//! Writing a REFI-QDA project (`lacrima import qdpx`) into the project, inside one transaction.
//!
//! QDA-XML names the question of an answer (its `Set`) only at the end of the file, after every
//! source, coding and note, and notes come after what refers to them. So the reader stages what
//! it streams in temporary tables (connection-local, spilled to disk by SQLite, never held in
//! memory) and [`ExchangeWriter::finish`] builds the answers, codings, reviews and memos from
//! them with a few set-based statements. GUIDs are staged as 16-byte blobs.
//!
//! Respondents made from `Case`s are written as the cases stream by, with their variables, in
//! file order; sources without a case become respondents at the end.

use super::codebook::apply_in;
use super::quote_ident;
use super::survey::{ExistingVariable, VariableKind};
use super::{Store, coder_id_in, log_event};
use crate::error::{Error, Result};
use crate::model::codebook::CodebookEntry;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Statement, params};

const TEMP_TABLES: &str = "
CREATE TEMP TABLE x_sources (
    seq INTEGER PRIMARY KEY, guid BLOB NOT NULL UNIQUE, name TEXT NOT NULL, text TEXT NOT NULL,
    is_empty INTEGER NOT NULL, respondent_id INTEGER, question_id INTEGER, response_id INTEGER);
CREATE TEMP TABLE x_other_sources (guid BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TEMP TABLE x_case_src (
    source_guid BLOB PRIMARY KEY, respondent_id INTEGER NOT NULL) WITHOUT ROWID;
CREATE TEMP TABLE x_nameless (respondent_id INTEGER PRIMARY KEY, sources INTEGER NOT NULL);
CREATE TEMP TABLE x_codings (
    source_seq INTEGER NOT NULL, code_id INTEGER NOT NULL, coder_id INTEGER NOT NULL,
    start INTEGER, \"end\" INTEGER, created_at TEXT NOT NULL, memo TEXT NOT NULL);
CREATE TEMP TABLE x_noterefs (
    kind INTEGER NOT NULL, target INTEGER NOT NULL, note_guid BLOB NOT NULL, at TEXT NOT NULL);
CREATE TEMP TABLE x_notes (
    guid BLOB PRIMARY KEY, name TEXT NOT NULL, text TEXT NOT NULL, coder_id INTEGER NOT NULL,
    at TEXT NOT NULL) WITHOUT ROWID;
CREATE TEMP TABLE x_members (set_seq INTEGER NOT NULL, source_guid BLOB NOT NULL);
CREATE TEMP TABLE x_source_values (source_seq INTEGER NOT NULL, var INTEGER NOT NULL, value);
CREATE TEMP TABLE x_set_roles (
    set_seq INTEGER PRIMARY KEY, question_id INTEGER, coder_id INTEGER, var INTEGER, value);
";

const DROP_TEMP_TABLES: &str = "
DROP TABLE IF EXISTS temp.x_sources; DROP TABLE IF EXISTS temp.x_other_sources;
DROP TABLE IF EXISTS temp.x_case_src; DROP TABLE IF EXISTS temp.x_nameless;
DROP TABLE IF EXISTS temp.x_codings; DROP TABLE IF EXISTS temp.x_noterefs;
DROP TABLE IF EXISTS temp.x_notes; DROP TABLE IF EXISTS temp.x_members;
DROP TABLE IF EXISTS temp.x_source_values; DROP TABLE IF EXISTS temp.x_set_roles;
DROP TABLE IF EXISTS temp.x_source_question;
";

/// What a `NoteRef` hangs on.
#[derive(Debug, Clone, Copy)]
pub enum NoteTarget {
    /// An answer (the source's sequence number): its coder's memo on the answer.
    Source(i64),
    /// A code: its coder's memo on the code.
    Code(i64),
    /// A staged coding (its row): the coding's memo.
    Coding(i64),
}

/// What a `Set` stands for, decided by the reader.
#[derive(Debug, Clone)]
pub enum SetRole {
    /// Its sources answer this question (index into [`Finish::questions`]).
    Question(usize),
    /// This coder reviewed its sources.
    Review(i64),
    /// Its sources' respondents have this value of this variable.
    Variable(usize, String),
}

/// How the staged project becomes answers, codings, reviews and memos.
#[derive(Debug, Default)]
pub struct Finish {
    /// The questions in order: name and label.
    pub questions: Vec<(String, Option<String>)>,
    /// The question of a source in no question set.
    pub default_question: String,
    pub sets: Vec<(i64, SetRole)>,
    /// Variables whose kind the values decided: variable index, kind, levels.
    pub kinds: Vec<(usize, VariableKind, Vec<String>)>,
    /// Codes to remove again (NVivo's case nodes), and codes to make codable.
    pub drop_codes: Vec<i64>,
    pub make_codable: Vec<i64>,
    pub meta: Vec<(String, String)>,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Imported {
    pub respondents: i64,
    pub questions: Vec<String>,
    pub answers: i64,
    pub codings: i64,
    pub reviews: i64,
    pub memos: i64,
    /// Each line says what was lost or changed; the reader adds them to its report.
    #[serde(skip)]
    pub lost: Vec<(String, u64, Vec<String>)>,
    #[serde(skip)]
    pub notes: Vec<String>,
}

pub struct ExchangeWriter<'a> {
    conn: &'a Connection,
    fresh: bool,
    wave: i64,
    now: String,
    variables: Vec<ExistingVariable>,
    insert_source: Statement<'a>,
    insert_coding: Statement<'a>,
    insert_noteref: Statement<'a>,
    insert_member: Statement<'a>,
    insert_case_src: Statement<'a>,
    insert_respondent: Statement<'a>,
    insert_values: Option<Statement<'a>>,
    /// Secondary indexes of the tables the import fills, dropped and made again at the end.
    deferred_indexes: Vec<String>,
    done: bool,
}

impl Store {
    /// Starts a REFI-QDA import into a project without respondents (a new one, or one with only
    /// a codebook); a project with respondents is refused, since a second project merges into
    /// it through `lacrima merge`. Dropping the writer rolls everything back.
    pub fn begin_exchange_import(&mut self, file: &str, fresh: bool) -> Result<ExchangeWriter<'_>> {
        let n = self.respondent_count()?;
        if n > 0 {
            return Err(Error::input(format!(
                "{} has {n} respondents already: a REFI-QDA project is imported into a new \
                 project (lacrima -p NEW.db import qdpx {file}) and then merged into this one \
                 (lacrima merge); nothing was changed",
                self.path().display()
            )));
        }
        let conn = self.conn();
        conn.pragma_update(None, "cache_size", -32_000)?;
        // The staging tables live in the temp schema, whose page cache is 2 MB by default: with
        // every answer's text passing through them, that cache thrashed. 64 MB bounds the
        // memory the staging takes, however large the file, and the rest spills to disk.
        conn.pragma_update(Some("temp"), "cache_size", -64_000)?;
        if fresh {
            self.set_meta("import_incomplete", "1")?;
            // As the survey import: the first write into a new file needs no WAL copy of
            // every page; the marker says an interrupted import to `Store::open`.
            conn.pragma_update(None, "journal_mode", "MEMORY")?;
        }
        // Every id the import writes is one it has just made (the project has no respondents,
        // so no answers, codings or reviews), so a foreign-key lookup per row proves nothing,
        // as in the survey's first import; on again when the import ends either way.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            let _ = conn.pragma_update(None, "foreign_keys", "ON");
            return Err(e.into());
        }
        let started = (|| {
            conn.execute_batch(DROP_TEMP_TABLES)?;
            conn.execute_batch(TEMP_TABLES)?;
            let deferred_indexes = defer_indexes(conn)?;
            conn.execute(
                "INSERT INTO imports (file, imported_at, respondents_added, respondents_skipped)
                 VALUES (?1, ?2, 0, 0)",
                params![file, crate::timefmt::now()],
            )?;
            let wave = conn.last_insert_rowid();
            Ok::<_, Error>(ExchangeWriter {
                conn,
                fresh,
                wave,
                now: crate::timefmt::now(),
                variables: super::survey::variables_in(conn)?,
                insert_source: conn.prepare(
                    "INSERT INTO x_sources (seq, guid, name, text, is_empty) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                )?,
                insert_coding: conn.prepare(
                    "INSERT INTO x_codings (source_seq, code_id, coder_id, start, \"end\",
                         created_at, memo) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?,
                insert_noteref: conn.prepare(
                    "INSERT INTO x_noterefs (kind, target, note_guid, at) VALUES (?1, ?2, ?3, ?4)",
                )?,
                insert_member: conn
                    .prepare("INSERT INTO x_members (set_seq, source_guid) VALUES (?1, ?2)")?,
                insert_case_src: conn.prepare(
                    "INSERT INTO x_case_src (source_guid, respondent_id) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                )?,
                insert_respondent: conn.prepare(
                    "INSERT INTO respondents (ext_id, wave) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?,
                insert_values: None,
                deferred_indexes,
                done: false,
            })
        })();
        if started.is_err() {
            let _ = conn.execute_batch("ROLLBACK");
            let _ = conn.pragma_update(None, "foreign_keys", "ON");
        }
        started
    }
}

fn blob(g: u128) -> [u8; 16] {
    g.to_be_bytes()
}

impl<'a> ExchangeWriter<'a> {
    /// The coder of this name (created if new); `consensus` marks or unmarks it.
    pub fn coder(&self, name: &str, consensus: Option<bool>) -> Result<i64> {
        let id = coder_id_in(self.conn, name)?;
        if let Some(c) = consensus {
            self.conn.execute(
                "UPDATE coders SET is_consensus = ?2 WHERE id = ?1",
                params![id, c],
            )?;
        }
        Ok(id)
    }

    /// Adds and updates the codebook (by GUID, else by name); each entry's code id.
    pub fn codebook(&self, entries: &[CodebookEntry], file: &str) -> Result<Vec<i64>> {
        Ok(apply_in(self.conn, entries, file)?.1)
    }

    pub fn max_code_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT ifnull(max(id), 0) FROM codes", [], |r| r.get(0))?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO project_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// A variable by name: the project's if it has one, else a new one. Its index for values.
    pub fn variable(
        &mut self,
        name: &str,
        label: Option<&str>,
        kind: VariableKind,
        levels: &[String],
    ) -> Result<usize> {
        if let Some(i) = self.variables.iter().position(|v| v.name == name) {
            return Ok(i);
        }
        let conn = self.conn;
        let pos: i64 = conn.query_row(
            "SELECT ifnull(max(position), 0) + 1 FROM variables",
            [],
            |r| r.get(0),
        )?;
        let id: i64 = conn.query_row("SELECT ifnull(max(id), 0) + 1 FROM variables", [], |r| {
            r.get(0)
        })?;
        // Generated from the id, never taken from the file.
        let column = format!("v{id}");
        let levels_json = (kind == VariableKind::Categorical)
            .then(|| serde_json::to_string(levels).unwrap_or_else(|_| "[]".into()));
        conn.execute(
            "INSERT INTO variables (id, name, label, kind, levels, position, column_name)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, name, label, kind.as_str(), levels_json, pos, column],
        )?;
        // No declared type, as in the survey import: each value keeps its own.
        conn.execute_batch(&format!(
            "ALTER TABLE variable_values ADD COLUMN {}",
            quote_ident(&column)
        ))?;
        self.variables.push(ExistingVariable {
            id,
            name: name.to_string(),
            kind,
            levels: levels.to_vec(),
            column,
        });
        self.insert_values = None;
        Ok(self.variables.len() - 1)
    }

    pub fn variable_count(&self) -> usize {
        self.variables.len()
    }

    /// Adds a respondent with its variables' values (aligned with the variables; NULL where
    /// missing). None when the ID is taken.
    pub fn respondent(&mut self, ext_id: &str, values: &[Value]) -> Result<Option<i64>> {
        if self.insert_respondent.execute(params![ext_id, self.wave])? == 0 {
            return Ok(None);
        }
        let rid = self.conn.last_insert_rowid();
        if self.insert_values.is_none() {
            let mut sql = String::from("INSERT INTO variable_values (respondent_id");
            for v in &self.variables {
                sql.push_str(", ");
                sql.push_str(&quote_ident(&v.column));
            }
            sql.push_str(") VALUES (?1");
            for i in 0..self.variables.len() {
                sql.push_str(&format!(", ?{}", i + 2));
            }
            sql.push(')');
            self.insert_values = Some(self.conn.prepare(&sql)?);
        }
        let Some(st) = self.insert_values.as_mut() else {
            unreachable!("prepared above")
        };
        let mut all: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(values.len() + 1);
        all.push(&rid);
        for i in 0..self.variables.len() {
            all.push(values.get(i).unwrap_or(&Value::Null));
        }
        st.execute(all.as_slice())?;
        Ok(Some(rid))
    }

    pub fn id_taken(&self, ext_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM respondents WHERE ext_id = ?1")?
            .query_row([ext_id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// A case without a name: its respondent is named after its only source at the end.
    pub fn nameless(&self, respondent_id: i64, sources: usize) -> Result<()> {
        self.conn.execute(
            "INSERT INTO x_nameless (respondent_id, sources) VALUES (?1, ?2)",
            params![respondent_id, sources as i64],
        )?;
        Ok(())
    }

    /// The source belongs to this respondent; false if an earlier case claimed it.
    pub fn case_source(&mut self, source: u128, respondent_id: i64) -> Result<bool> {
        Ok(self
            .insert_case_src
            .execute(params![blob(source), respondent_id])?
            == 1)
    }

    /// Stages an answer's text; false if its GUID was staged before.
    pub fn source(&mut self, seq: i64, guid: u128, name: &str, text: &str) -> Result<bool> {
        let empty = crate::model::empty::is_empty_answer(text);
        Ok(self
            .insert_source
            .execute(params![seq, blob(guid), name, text, empty])?
            == 1)
    }

    /// A source lacrima does not keep (a picture, PDF, ...), so that references to it are known.
    pub fn other_source(&self, guid: u128) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO x_other_sources (guid) VALUES (?1)")?
            .execute([blob(guid)])?;
        Ok(())
    }

    pub fn is_source(&self, guid: u128) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM x_sources WHERE guid = ?1
                 UNION ALL SELECT 1 FROM x_other_sources WHERE guid = ?1",
            )?
            .query_row([blob(guid)], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Stages a coding; its row, for the notes that belong to it.
    #[allow(clippy::too_many_arguments)]
    pub fn coding(
        &mut self,
        source_seq: i64,
        code_id: i64,
        coder_id: i64,
        span: Option<(u64, u64)>,
        created_at: &str,
        memo: &str,
    ) -> Result<i64> {
        let (s, e) = match span {
            Some((s, e)) => (Some(s as i64), Some(e as i64)),
            None => (None, None),
        };
        self.insert_coding.execute(params![
            source_seq, code_id, coder_id, s, e, created_at, memo
        ])?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn note_ref(&mut self, target: NoteTarget, note: u128, at: &str) -> Result<()> {
        let (kind, t) = match target {
            NoteTarget::Source(s) => (1, s),
            NoteTarget::Code(c) => (2, c),
            NoteTarget::Coding(k) => (3, k),
        };
        self.insert_noteref
            .execute(params![kind, t, blob(note), at])?;
        Ok(())
    }

    /// Stages a note's text; false if its GUID was staged before.
    pub fn note(
        &self,
        guid: u128,
        name: &str,
        text: &str,
        coder_id: i64,
        at: &str,
    ) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO x_notes (guid, name, text, coder_id, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![blob(guid), name, text, coder_id, at])?
            == 1)
    }

    pub fn member(&mut self, set_seq: i64, source: u128) -> Result<()> {
        self.insert_member.execute(params![set_seq, blob(source)])?;
        Ok(())
    }

    /// A variable's value given on a source (MAXQDA and QualCoder put document variables there):
    /// it goes to the source's respondent.
    pub fn source_value(&self, source_seq: i64, var: usize, value: &Value) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO x_source_values (source_seq, var, value) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![source_seq, var as i64, value])?;
        Ok(())
    }

    /// Builds the project from what was staged, and commits.
    pub fn finish(mut self, plan: Finish) -> Result<Imported> {
        let conn = self.conn;
        let mut out = Imported::default();
        let lose = |out: &mut Imported, what: &str, n: i64, ex: Vec<String>| {
            if n > 0 {
                out.lost.push((what.to_string(), n as u64, ex));
            }
        };

        // A reference to a source that is nowhere in the file.
        let dangling: Option<String> = conn
            .query_row(
                "SELECT hex(c.source_guid) FROM x_case_src c
                 WHERE NOT EXISTS (SELECT 1 FROM x_sources s WHERE s.guid = c.source_guid)
                   AND NOT EXISTS (SELECT 1 FROM x_other_sources o WHERE o.guid = c.source_guid)
                 LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(g) = dangling {
            return Err(Error::input(format!(
                "a Case has a SourceRef to the source {}, which is not among the Sources; \
                 nothing was imported",
                hyphenate(&g)
            )));
        }

        // Questions.
        let mut question_ids = Vec::with_capacity(plan.questions.len());
        for (name, label) in &plan.questions {
            question_ids.push(self.question(name, label.as_deref())?);
        }
        for (seq, role) in &plan.sets {
            let (q, c, v, val) = match role {
                SetRole::Question(i) => (Some(question_ids[*i]), None, None, None),
                SetRole::Review(c) => (None, Some(*c), None, None),
                SetRole::Variable(var, value) => (None, None, Some(*var as i64), Some(value)),
            };
            conn.execute(
                "INSERT INTO x_set_roles (set_seq, question_id, coder_id, var, value)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![seq, q, c, v, val],
            )?;
        }
        // Each source's first question set (SQLite takes the bare question_id from the row
        // with the smallest set_seq), and how many question sets it is in.
        conn.execute_batch(
            "CREATE TEMP TABLE x_source_question (
                 guid BLOB PRIMARY KEY, question_id INTEGER, sets INTEGER) WITHOUT ROWID;
             INSERT INTO x_source_question (guid, question_id, sets)
             SELECT guid, question_id, sets FROM (
                 SELECT m.source_guid AS guid, r.question_id AS question_id,
                        min(m.set_seq) AS first, count(DISTINCT r.question_id) AS sets
                 FROM x_members m JOIN x_set_roles r ON r.set_seq = m.set_seq
                 WHERE r.question_id IS NOT NULL
                 GROUP BY m.source_guid);
             UPDATE x_sources SET question_id = q.question_id
             FROM x_source_question q WHERE q.guid = x_sources.guid;",
        )?;
        let in_several: i64 = conn.query_row(
            "SELECT count(*) FROM x_source_question WHERE sets > 1",
            [],
            |r| r.get(0),
        )?;
        lose(
            &mut out,
            "memberships of answers in a second question set (an answer belongs to one \
             question: the first set's)",
            in_several,
            Vec::new(),
        );
        let unassigned: i64 = conn.query_row(
            "SELECT count(*) FROM x_sources WHERE question_id IS NULL",
            [],
            |r| r.get(0),
        )?;
        if unassigned > 0 {
            let q = self.question(&plan.default_question, None)?;
            conn.execute(
                "UPDATE x_sources SET question_id = ?1 WHERE question_id IS NULL",
                [q],
            )?;
        }

        // Respondents: a source's case, else a respondent of its own named after the source.
        conn.execute_batch(
            "UPDATE x_sources SET respondent_id = c.respondent_id
             FROM x_case_src c WHERE c.source_guid = x_sources.guid;
             CREATE INDEX temp.x_sources_place ON x_sources (respondent_id, question_id);",
        )?;
        self.name_nameless_cases(&mut out)?;
        let own: Vec<(i64, String)> = {
            let mut st = conn.prepare(
                "SELECT seq, name FROM x_sources WHERE respondent_id IS NULL ORDER BY seq",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut renamed = 0;
        for (seq, name) in own {
            let base = if name.trim().is_empty() {
                format!("source {seq}")
            } else {
                name
            };
            let (rid, changed) = self.unique_respondent(&base)?;
            renamed += i64::from(changed);
            conn.prepare_cached("UPDATE x_sources SET respondent_id = ?2 WHERE seq = ?1")?
                .execute(params![seq, rid])?;
        }
        if renamed > 0 {
            out.notes.push(format!(
                "{renamed} sources without a case have a name that another respondent has: their \
                 respondents got \" (2)\", \" (3)\", ... after the name"
            ));
        }
        conn.execute_batch(
            "INSERT INTO variable_values (respondent_id)
             SELECT id FROM respondents
             WHERE id NOT IN (SELECT respondent_id FROM variable_values);",
        )?;

        // Two sources of one respondent in one question: the second answers "QUESTION (2)".
        let clashes: Vec<(i64, i64, i64)> = {
            let mut st = conn.prepare(
                "SELECT seq, question_id, n FROM (
                     SELECT seq, question_id, row_number() OVER (
                         PARTITION BY respondent_id, question_id ORDER BY seq) AS n
                     FROM x_sources) WHERE n > 1 ORDER BY seq",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        if !clashes.is_empty() {
            out.notes.push(format!(
                "{} sources are a second (third, ...) source of the same respondent in the same \
                 question: they became the questions \"QUESTION (2)\", ...",
                clashes.len()
            ));
        }
        for (seq, qid, n) in clashes {
            let base: String =
                conn.query_row("SELECT name FROM questions WHERE id = ?1", [qid], |r| {
                    r.get(0)
                })?;
            let q = self.question(&format!("{base} ({n})"), None)?;
            conn.execute(
                "UPDATE x_sources SET question_id = ?2 WHERE seq = ?1",
                params![seq, q],
            )?;
        }

        // Answers: every respondent answers every question (empty where the file has no source).
        conn.execute_batch(
            "INSERT INTO responses (respondent_id, question_id, text, is_empty)
             SELECT r.id, q.id, coalesce(s.text, ''), coalesce(s.is_empty, 1)
             FROM respondents r CROSS JOIN questions q
             LEFT JOIN x_sources s ON s.respondent_id = r.id AND s.question_id = q.id
             ORDER BY r.id, q.position, q.id;
             UPDATE x_sources SET response_id = (
                 SELECT id FROM responses
                 WHERE respondent_id = x_sources.respondent_id
                   AND question_id = x_sources.question_id);",
        )?;

        // Variables from sources and from sets.
        self.source_values(&mut out)?;
        for (seq, role) in &plan.sets {
            if let SetRole::Variable(var, value) = role {
                let col = quote_ident(&self.variables[*var].column);
                let members = "SELECT s.respondent_id FROM x_members m
                               JOIN x_sources s ON s.guid = m.source_guid WHERE m.set_seq = ?1";
                let clash: i64 = conn.query_row(
                    &format!(
                        "SELECT count(*) FROM variable_values WHERE respondent_id IN ({members})
                         AND {col} IS NOT NULL AND {col} IS NOT ?2"
                    ),
                    params![seq, value],
                    |r| r.get(0),
                )?;
                lose(
                    &mut out,
                    "set memberships that give a respondent a second value of a variable (the \
                     first is kept)",
                    clash,
                    vec![value.clone()],
                );
                conn.execute(
                    &format!(
                        "UPDATE variable_values SET {col} = ?2
                         WHERE respondent_id IN ({members}) AND {col} IS NULL"
                    ),
                    params![seq, value],
                )?;
            }
        }
        for (var, kind, levels) in &plan.kinds {
            let v = &self.variables[*var];
            let levels_json = (*kind == VariableKind::Categorical)
                .then(|| serde_json::to_string(levels).unwrap_or_else(|_| "[]".into()));
            conn.execute(
                "UPDATE variables SET kind = ?2, levels = ?3 WHERE id = ?1",
                params![v.id, kind.as_str(), levels_json],
            )?;
        }

        // Codings, with their memos from notes.
        if !plan.make_codable.is_empty() {
            let mut st = conn.prepare("UPDATE codes SET codable = 1 WHERE id = ?1")?;
            for id in &plan.make_codable {
                st.execute([id])?;
            }
        }
        let missing_note: Option<String> = conn
            .query_row(
                "SELECT r.at || ': ' || hex(r.note_guid) FROM x_noterefs r
                 WHERE NOT EXISTS (SELECT 1 FROM x_notes n WHERE n.guid = r.note_guid)
                 ORDER BY r.rowid LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(m) = missing_note {
            let (at, g) = m.rsplit_once(": ").unwrap_or((&m, ""));
            return Err(Error::input(format!(
                "{at}: the NoteRef points at the note {}, which is not among the Notes; nothing \
                 was imported",
                hyphenate(g)
            )));
        }
        conn.execute_batch(
            "CREATE INDEX temp.x_noterefs_target ON x_noterefs (kind, target);
             UPDATE x_codings SET memo = (
                 SELECT CASE WHEN x_codings.memo = '' THEN t
                             ELSE x_codings.memo || char(10) || char(10) || t END
                 FROM (SELECT group_concat(n.text, char(10) || char(10) ORDER BY r.rowid) AS t
                       FROM x_noterefs r JOIN x_notes n ON n.guid = r.note_guid
                       WHERE r.kind = 3 AND r.target = x_codings.rowid AND n.text <> ''))
             WHERE rowid IN (SELECT target FROM x_noterefs WHERE kind = 3)
               AND EXISTS (SELECT 1 FROM x_noterefs r JOIN x_notes n ON n.guid = r.note_guid
                           WHERE r.kind = 3 AND r.target = x_codings.rowid AND n.text <> '');",
        )?;
        let staged: i64 = conn.query_row("SELECT count(*) FROM x_codings", [], |r| r.get(0))?;
        out.codings = conn.execute(
            "INSERT OR IGNORE INTO codings (response_id, code_id, coder_id, start, \"end\", memo,
                                            created_at)
             SELECT s.response_id, c.code_id, c.coder_id, c.start, c.\"end\", c.memo, c.created_at
             FROM x_codings c JOIN x_sources s ON s.seq = c.source_seq
             ORDER BY c.rowid",
            [],
        )? as i64;
        if staged > out.codings {
            out.notes.push(format!(
                "{} codings repeat another of the same coder, code and span on the same answer: \
                 each was imported once (with the first one's memo)",
                staged - out.codings
            ));
        }

        // Review marks: the review sets, and every answer a coder coded.
        out.reviews = conn.execute(
            "INSERT OR IGNORE INTO reviews (response_id, coder_id, reviewed_at)
             SELECT s.response_id, r.coder_id, ?1 FROM x_members m
             JOIN x_set_roles r ON r.set_seq = m.set_seq AND r.coder_id IS NOT NULL
             JOIN x_sources s ON s.guid = m.source_guid",
            [&self.now],
        )? as i64;
        out.reviews += conn.execute(
            "INSERT OR IGNORE INTO reviews (response_id, coder_id, reviewed_at)
             SELECT response_id, coder_id, min(created_at) FROM codings
             GROUP BY response_id, coder_id",
            [],
        )? as i64;

        // Memos on answers and codes: one per coder and target (several notes are joined).
        out.memos = conn.execute(
            "INSERT OR REPLACE INTO memos (coder_id, response_id, code_id, text, updated_at)
             SELECT n.coder_id, s.response_id, NULL,
                    group_concat(n.text, char(10) || char(10) ORDER BY r.rowid), max(n.at)
             FROM x_noterefs r JOIN x_notes n ON n.guid = r.note_guid
             JOIN x_sources s ON s.seq = r.target
             WHERE r.kind = 1 AND n.text <> ''
             GROUP BY n.coder_id, s.response_id",
            [],
        )? as i64;
        out.memos += conn.execute(
            "INSERT OR REPLACE INTO memos (coder_id, response_id, code_id, text, updated_at)
             SELECT n.coder_id, NULL, r.target,
                    group_concat(n.text, char(10) || char(10) ORDER BY r.rowid), max(n.at)
             FROM x_noterefs r JOIN x_notes n ON n.guid = r.note_guid
             WHERE r.kind = 2 AND n.text <> '' AND r.target IN (SELECT id FROM codes)
             GROUP BY n.coder_id, r.target",
            [],
        )? as i64;
        let (unattached, examples) = {
            let mut st = conn.prepare(
                "SELECT CASE WHEN name <> '' THEN name ELSE substr(text, 1, 40) END FROM x_notes n
                 WHERE NOT EXISTS (SELECT 1 FROM x_noterefs r WHERE r.note_guid = n.guid)",
            )?;
            let names: Vec<String> = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            (names.len() as i64, names.into_iter().take(5).collect())
        };
        lose(
            &mut out,
            "Notes not attached to an answer, a code or a coding (project memos, memos on \
             cases, sets or selections without a code, free-standing memos)",
            unattached,
            examples,
        );

        for id in &plan.drop_codes {
            conn.execute("DELETE FROM codes WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM codings WHERE code_id = ?1) AND NOT EXISTS (SELECT 1 FROM codes c WHERE c.parent_id = ?1)", [id])?;
        }
        for (k, v) in &plan.meta {
            self.set_meta(k, v)?;
        }

        out.respondents = conn.query_row("SELECT count(*) FROM respondents", [], |r| r.get(0))?;
        out.answers = conn.query_row("SELECT count(*) FROM responses", [], |r| r.get(0))?;
        out.questions = {
            let mut st = conn.prepare("SELECT name FROM questions ORDER BY position, id")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        conn.execute(
            "UPDATE imports SET respondents_added = ?2 WHERE id = ?1",
            params![self.wave, out.respondents],
        )?;
        log_event(
            conn,
            None,
            "import_qdpx",
            None,
            Some(&serde_json::json!({
                "wave": self.wave, "respondents": out.respondents, "codings": out.codings,
                "reviews": out.reviews, "memos": out.memos
            })),
        )?;
        conn.execute_batch(DROP_TEMP_TABLES)?;
        // Built once from the loaded tables, which is cheaper than row by row.
        conn.pragma_update(None, "cache_size", -8_000)?;
        for sql in &self.deferred_indexes {
            conn.execute_batch(sql)?;
        }
        if self.fresh {
            conn.execute(
                "DELETE FROM project_meta WHERE key = 'import_incomplete'",
                [],
            )?;
        }
        conn.execute_batch("COMMIT")?;
        self.done = true;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        if self.fresh {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        Ok(out)
    }

    fn question(&self, name: &str, label: Option<&str>) -> Result<i64> {
        if let Some(id) = self
            .conn
            .query_row("SELECT id FROM questions WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?
        {
            return Ok(id);
        }
        let pos: i64 = self.conn.query_row(
            "SELECT ifnull(max(position), 0) + 1 FROM questions",
            [],
            |r| r.get(0),
        )?;
        self.conn.execute(
            "INSERT INTO questions (name, label, position) VALUES (?1, ?2, ?3)",
            params![name, label, pos],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// A new respondent named `base`, or `base (2)`, ... when that is taken.
    fn unique_respondent(&mut self, base: &str) -> Result<(i64, bool)> {
        let mut n = 1;
        loop {
            let name = if n == 1 {
                base.to_string()
            } else {
                format!("{base} ({n})")
            };
            if let Some(id) = self.respondent(&name, &[])? {
                return Ok((id, n > 1));
            }
            n += 1;
        }
    }

    /// MAXQDA and Quirkos give a document's variables in a `Case` without a name and with one
    /// `SourceRef`: such a respondent takes its source's name.
    fn name_nameless_cases(&mut self, out: &mut Imported) -> Result<()> {
        let conn = self.conn;
        let rows: Vec<(i64, String)> = {
            let mut st = conn.prepare(
                "SELECT x.respondent_id, (SELECT s.name FROM x_sources s
                                          WHERE s.respondent_id = x.respondent_id)
                 FROM x_nameless x
                 WHERE (SELECT count(*) FROM x_sources s WHERE s.respondent_id = x.respondent_id) = 1
                 ORDER BY x.respondent_id",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut renamed = 0;
        for (rid, name) in rows {
            if name.trim().is_empty() {
                continue;
            }
            let mut n = 1;
            loop {
                let candidate = if n == 1 {
                    name.clone()
                } else {
                    format!("{name} ({n})")
                };
                if conn.execute(
                    "UPDATE OR IGNORE respondents SET ext_id = ?2 WHERE id = ?1",
                    params![rid, candidate],
                )? == 1
                {
                    renamed += i64::from(n > 1);
                    break;
                }
                n += 1;
            }
        }
        if renamed > 0 {
            out.notes.push(format!(
                "{renamed} cases without a name took a source name another respondent has: \
                 \" (2)\", ... was added"
            ));
        }
        Ok(())
    }

    fn source_values(&mut self, out: &mut Imported) -> Result<()> {
        let conn = self.conn;
        let vars: Vec<i64> = {
            let mut st = conn.prepare("SELECT DISTINCT var FROM x_source_values ORDER BY var")?;
            st.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        for var in vars {
            let v = &self.variables[var as usize];
            let col = quote_ident(&v.column);
            let given = "SELECT s.respondent_id AS rid, x.value AS value, s.seq AS seq
                         FROM x_source_values x JOIN x_sources s ON s.seq = x.source_seq
                         WHERE x.var = ?1 AND x.value IS NOT NULL";
            let clash: i64 = conn.query_row(
                &format!(
                    "SELECT count(*) FROM ({given}) g JOIN variable_values vv
                     ON vv.respondent_id = g.rid
                     WHERE vv.{col} IS NOT NULL AND vv.{col} IS NOT g.value"
                ),
                [var],
                |r| r.get(0),
            )?;
            if clash > 0 {
                out.lost.push((
                    format!(
                        "values of {} given on a source that differ from its respondent's (the \
                         respondent's is kept)",
                        v.name
                    ),
                    clash as u64,
                    Vec::new(),
                ));
            }
            conn.execute(
                &format!(
                    "UPDATE variable_values SET {col} = (
                         SELECT g.value FROM ({given}) g WHERE g.rid = variable_values.respondent_id
                         ORDER BY g.seq LIMIT 1)
                     WHERE {col} IS NULL
                       AND respondent_id IN (SELECT rid FROM ({given}))"
                ),
                [var],
            )?;
        }
        Ok(())
    }
}

/// A staged GUID (hex of its 16 bytes) written as GUIDs are.
fn hyphenate(hex: &str) -> String {
    let h = hex.to_lowercase();
    if h.len() != 32 {
        return h;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Drops the non-unique indexes of the tables the import fills (unique ones stay: they are what
/// finds a repeated coding), returning the SQL that makes them again.
fn defer_indexes(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'index' AND tbl_name IN ('responses', 'codings', 'reviews')
           AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE INDEX%'
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

impl Drop for ExchangeWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            // The rollback brings the dropped indexes back too.
            let _ = self.conn.execute_batch("ROLLBACK");
            let _ = self.conn.pragma_update(None, "foreign_keys", "ON");
            if self.fresh {
                let _ = self.conn.pragma_update(None, "journal_mode", "WAL");
            }
        }
    }
}
