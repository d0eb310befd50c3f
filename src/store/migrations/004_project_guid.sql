-- Schema 4: every project has a GUID of its own (project_meta key 'guid'), from which the GUIDs of
-- its respondents, answers, coders and codings in REFI-QDA exports are derived. A copy of a
-- project keeps it, so exports of copies name the same respondents the same way.
INSERT OR IGNORE INTO project_meta (key, value)
SELECT 'guid', lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-'
       || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12))
FROM (SELECT hex(randomblob(16)) AS h);
