-- lacrima project schema (schema version 4: migrations 001 to 004 in src/store/migrations/).
--
-- A lacrima project is one SQLite file. This file documents every table so that a project can be
-- queried directly with sqlite3, R (RSQLite) or pandas; table and column names are a public interface.
-- lacrima applies it through numbered migrations keyed by PRAGMA user_version; a test checks that a
-- freshly created project matches this file exactly.
--
-- Conventions:
--   * "survey order" is respondents.id order (the order rows were imported in);
--   * offsets (codings.start, codings."end") count Unicode code points from 0, half-open, into
--     responses.text; both NULL means the whole answer. "end" is an SQL keyword: quote it.
--   * timestamps are UTC, ISO 8601 text ("2026-11-26T08:13:54Z").
--
-- Example: the codings of coder 'ana' with their text
--   SELECT r.ext_id, q.name, c.name, substr(s.text, k.start + 1, k."end" - k.start)
--   FROM codings k JOIN responses s ON s.id = k.response_id JOIN respondents r ON r.id = s.respondent_id
--   JOIN questions q ON q.id = s.question_id JOIN codes c ON c.id = k.code_id
--   JOIN coders d ON d.id = k.coder_id WHERE d.name = 'ana';

-- Key/value facts about the project: 'created_at', 'created_by' (lacrima version), 'demo' ('1' for
-- the demo project, which `lacrima demo` may replace), 'id_column' (the ID column's header in the
-- first imported survey; the coded-dataset export writes the ID under that name), 'guid' (schema 4:
-- the project's own GUID, from which its REFI-QDA exports derive the GUIDs of respondents, answers,
-- coders and codings; copies of a project share it).
CREATE TABLE project_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per survey import ("wave"). respondents.wave points here.
CREATE TABLE imports (
    id                  INTEGER PRIMARY KEY,
    file                TEXT NOT NULL,     -- the path as given on the command line
    imported_at         TEXT NOT NULL,
    respondents_added   INTEGER NOT NULL,
    respondents_skipped INTEGER NOT NULL   -- rows whose ID existed with identical values
);

-- One row per survey row, in import order. ext_id is the ID column's value exactly as in the file.
CREATE TABLE respondents (
    id     INTEGER PRIMARY KEY,
    ext_id TEXT NOT NULL UNIQUE,
    wave   INTEGER NOT NULL REFERENCES imports(id)
);

-- One row per open-ended column. name is the column name; label the question text (Qualtrics'
-- second header row) when known.
CREATE TABLE questions (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    label    TEXT,
    position INTEGER NOT NULL
);

-- One answer: the unit of coding. Every answer is stored, empty ones too; is_empty is 1 when the
-- trimmed, lower-cased text is '', 'n/a', 'na', '-', '.' or '?' (such answers are not offered for
-- coding by default). Text is exactly as imported except that CR LF became LF.
CREATE TABLE responses (
    id            INTEGER PRIMARY KEY,
    respondent_id INTEGER NOT NULL REFERENCES respondents(id),
    question_id   INTEGER NOT NULL REFERENCES questions(id),
    text          TEXT NOT NULL,
    is_empty      INTEGER NOT NULL CHECK (is_empty IN (0, 1)),
    UNIQUE (respondent_id, question_id)
);
-- Offered answers in survey order (schema 2): the coding screen pages through this index and counts
-- offered answers from it without reading their text.
CREATE INDEX responses_offered ON responses (is_empty, id);

-- The variable catalogue: every non-open column of the survey. Values live in variable_values,
-- in the column named by column_name (v1, v2, ...; generated, never taken from the file).
--   kind:   'numeric' (stored as INTEGER or REAL), 'categorical' (the level's text), 'text', 'date'
--           (ISO 8601 text);
--   levels: for categorical variables, a JSON array of the levels in their order; else NULL.
CREATE TABLE variables (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    label       TEXT,
    kind        TEXT NOT NULL CHECK (kind IN ('numeric', 'categorical', 'text', 'date')),
    levels      TEXT,
    position    INTEGER NOT NULL,
    column_name TEXT NOT NULL UNIQUE
);

-- The variables' values, one row per respondent and one column per variable (added as variables
-- are imported). NULL is a missing value. The columns have no declared type, so that a value is
-- stored in its own form: numeric variables as INTEGER or REAL, all others as the text in the file
-- ("01" stays "01"). To read a variable by name, look up its column_name:
--   SELECT column_name FROM variables WHERE name = 'orientation';   -- say 'v6'
--   SELECT r.ext_id, v.v6 FROM respondents r JOIN variable_values v ON v.respondent_id = r.id;
CREATE TABLE variable_values (
    respondent_id INTEGER PRIMARY KEY REFERENCES respondents(id)
);

-- The codebook. name is unique ignoring case. parent_id makes the tree; position orders siblings.
-- shortcut is '1'..'9' or NULL (unique); codable is 0 for a code that only groups others.
-- color is '#RRGGBB' or NULL. guid identifies the code in REFI-QDA exchange files.
CREATE TABLE codes (
    id          INTEGER PRIMARY KEY,
    guid        TEXT NOT NULL UNIQUE,
    parent_id   INTEGER REFERENCES codes(id),
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    description TEXT NOT NULL DEFAULT '',
    inclusion   TEXT NOT NULL DEFAULT '',
    exclusion   TEXT NOT NULL DEFAULT '',
    example     TEXT NOT NULL DEFAULT '',
    color       TEXT,
    shortcut    TEXT UNIQUE CHECK (shortcut IS NULL OR shortcut IN ('1','2','3','4','5','6','7','8','9')),
    codable     INTEGER NOT NULL DEFAULT 1 CHECK (codable IN (0, 1)),
    position    INTEGER NOT NULL
);

-- Coders. is_consensus marks a coder whose codings are the settled consensus of others.
CREATE TABLE coders (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    is_consensus INTEGER NOT NULL DEFAULT 0 CHECK (is_consensus IN (0, 1)),
    created_at   TEXT NOT NULL
);

-- The current codings (a removed coding is deleted; history is in events). A coding is identified
-- by (response, coder, code, start, end); start/end NULL = the whole answer.
CREATE TABLE codings (
    id          INTEGER PRIMARY KEY,
    response_id INTEGER NOT NULL REFERENCES responses(id),
    code_id     INTEGER NOT NULL REFERENCES codes(id),
    coder_id    INTEGER NOT NULL REFERENCES coders(id),
    start       INTEGER,
    "end"       INTEGER,
    memo        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    CHECK ((start IS NULL AND "end" IS NULL) OR (start >= 0 AND "end" > start))
);
CREATE UNIQUE INDEX codings_identity
    ON codings (response_id, coder_id, code_id, ifnull(start, -1), ifnull("end", -1));
CREATE INDEX codings_by_code ON codings (code_id);
-- One coder's codings by code (schema 2): "answers with code X" and the per-code counts on the
-- coding screen.
CREATE INDEX codings_by_coder_code ON codings (coder_id, code_id, response_id);

-- "This coder has coded this answer": what tells "applied no code" from "not coded yet". Applying a
-- code sets it; removing the last code keeps it.
CREATE TABLE reviews (
    response_id INTEGER NOT NULL REFERENCES responses(id),
    coder_id    INTEGER NOT NULL REFERENCES coders(id),
    reviewed_at TEXT NOT NULL,
    PRIMARY KEY (response_id, coder_id)
) WITHOUT ROWID;
CREATE INDEX reviews_by_coder ON reviews (coder_id, response_id);

-- Memos written by a coder on an answer or on a code (exactly one of the two).
CREATE TABLE memos (
    id          INTEGER PRIMARY KEY,
    coder_id    INTEGER NOT NULL REFERENCES coders(id),
    response_id INTEGER REFERENCES responses(id),
    code_id     INTEGER REFERENCES codes(id),
    text        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK ((response_id IS NULL) <> (code_id IS NULL))
);
CREATE UNIQUE INDEX memos_target ON memos (coder_id, ifnull(response_id, -1), ifnull(code_id, -1));

-- Append-only audit trail: who did what, when, with the state before and after (JSON). It drives
-- undo and redo. coder_id is NULL for project-level actions (imports, merges). undone_by points at
-- the event that undid this one. A merge (action 'merge', `lacrima merge`) lists every row it
-- changed, like a coder's action, and its after holds under "merge" what it merged: the copy's log
-- length ("other_events"), a fingerprint of that log's last event, the coders merged and the
-- conflicts left open, from which a later merge of the same copy starts. A codings import's after
-- holds the "stamp" (created_at, reviewed_at) of the rows it added.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    coder_id  INTEGER REFERENCES coders(id),
    action    TEXT NOT NULL,
    before    TEXT,
    after     TEXT,
    undone_by INTEGER REFERENCES events(id)
);
CREATE INDEX events_by_coder ON events (coder_id, id);

-- Work plans (schema 3): a plan in force, made by `lacrima assign`. A new plan replaces the
-- assignments of the answers it covers; a plan left without assignments is removed (the event log
-- keeps every plan made). Example: what is left for coder 'ana' to do
--   SELECT a.response_id FROM assignments a JOIN coders d ON d.id = a.coder_id
--   WHERE d.name = 'ana' AND NOT EXISTS (SELECT 1 FROM reviews v
--       WHERE v.response_id = a.response_id AND v.coder_id = a.coder_id);
CREATE TABLE assignment_plans (
    id          INTEGER PRIMARY KEY,
    question_id INTEGER REFERENCES questions(id),  -- NULL: the offered answers of every question
    coders      TEXT NOT NULL,                      -- JSON array of the coders' names, as given
    overlap     REAL NOT NULL CHECK (overlap >= 0 AND overlap <= 1),  -- share coded by everyone
    seed        INTEGER NOT NULL,                   -- ChaCha8 seed: same seed and data, same plan
    created_at  TEXT NOT NULL
);

-- Who is to code which answer. in_overlap = 1 marks the reliability sample, which every coder of
-- the plan codes; the other answers go to one coder each (or to the coders who had coded them).
CREATE TABLE assignments (
    response_id INTEGER NOT NULL REFERENCES responses(id),
    coder_id    INTEGER NOT NULL REFERENCES coders(id),
    plan_id     INTEGER NOT NULL REFERENCES assignment_plans(id),
    in_overlap  INTEGER NOT NULL CHECK (in_overlap IN (0, 1)),
    PRIMARY KEY (response_id, coder_id)
) WITHOUT ROWID;
CREATE INDEX assignments_by_coder ON assignments (coder_id, response_id);
CREATE INDEX assignments_by_plan ON assignments (plan_id);

-- Consensus (schema 3). One settled (answer, code) of a consensus coder (coders.is_consensus = 1): the consensus codings
-- of that code on that answer are the decision. Codes the compared coders agreed were absent need
-- no row. Decisions are never overwritten by `lacrima consensus --agreed`.
--   decision:     'agreed' (every coder in from_coders applied the code), 'adopted' (one coder's
--                 version, named in adopted_from), 'all' (everyone's codings together), 'none'
--                 (the code does not apply), 'edited' (edited freely as the consensus coder);
--   from_coders:  JSON array of the names of the coders whose versions were compared;
--   decided_by:   who decided (the --coder of `lacrima review`); NULL when nobody was named;
--   event_id:     the event in events that records the decision with every version.
CREATE TABLE consensus_decisions (
    consensus_id INTEGER NOT NULL REFERENCES coders(id),
    response_id  INTEGER NOT NULL REFERENCES responses(id),
    code_id      INTEGER NOT NULL REFERENCES codes(id),
    decision     TEXT NOT NULL CHECK (decision IN ('agreed', 'adopted', 'all', 'none', 'edited')),
    adopted_from TEXT,
    from_coders  TEXT NOT NULL,
    decided_by   TEXT,
    decided_at   TEXT NOT NULL,
    event_id     INTEGER REFERENCES events(id),
    PRIMARY KEY (consensus_id, response_id, code_id)
) WITHOUT ROWID;
