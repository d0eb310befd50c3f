-- Schema 2: indexes for the coding workspace (`lacrima code`), which pages through answers by id
-- and counts over the whole project without ever reading every answer's text.

-- Offered answers (is_empty = 0) in survey order: the answer list pages through this index, and
-- counting the offered answers reads it instead of the whole responses table.
CREATE INDEX responses_offered ON responses (is_empty, id);

-- One coder's codings by code: "answers with code X" and the per-code counts in the codebook panel.
CREATE INDEX codings_by_coder_code ON codings (coder_id, code_id, response_id);
