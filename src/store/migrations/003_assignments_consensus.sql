-- Schema 3: the work plan of `lacrima assign` and the decisions that build a consensus coding
-- (`lacrima consensus` and the review screen).

-- A plan in force, made by `lacrima assign`. A new plan replaces the assignments of the answers it
-- covers; a plan left without assignments is removed (the event log keeps every plan made).
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

-- One settled (answer, code) of a consensus coder (coders.is_consensus = 1): the consensus codings
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
