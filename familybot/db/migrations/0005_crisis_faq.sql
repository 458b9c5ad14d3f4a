-- Crisis lines a server's admins add for their own area (shown beside the shipped ones),
-- and the server's FAQ written by its facilitators.

CREATE TABLE crisis_local_lines (
    id       INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL,
    name     TEXT NOT NULL,
    name_key TEXT NOT NULL,                -- casefolded name, for lookups
    contact  TEXT NOT NULL,
    hours    TEXT NOT NULL DEFAULT '',
    added_by INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    UNIQUE (guild_id, name_key)
);

CREATE TABLE faq (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    question     TEXT NOT NULL,
    question_key TEXT NOT NULL,            -- casefolded question, for lookups
    answer       TEXT NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (guild_id, question_key)
);
CREATE INDEX faq_created_by ON faq (created_by);
CREATE INDEX crisis_local_lines_added_by ON crisis_local_lines (added_by);
