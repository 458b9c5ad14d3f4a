-- The vetted resource library: suggestions, review, retirement, and full-text search.
-- Instants are INTEGER unix seconds (UTC).

CREATE TABLE resources (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    title           TEXT NOT NULL,
    url             TEXT NOT NULL,
    category        TEXT NOT NULL,
    category_key    TEXT NOT NULL,                 -- casefolded category, for filters
    description     TEXT NOT NULL,
    region          TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL DEFAULT '',
    audience        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'retired')),
    suggested_by    INTEGER,                       -- NULL once that person asked to be forgotten
    suggested_at    INTEGER NOT NULL,
    vetted_by       INTEGER,
    vetted_at       INTEGER,
    review_due_at   INTEGER,
    decision_reason TEXT,                          -- why it was rejected or retired
    link_failures   INTEGER NOT NULL DEFAULT 0,    -- consecutive failed link checks
    link_checked_at INTEGER,
    flagged_at      INTEGER                        -- link broken: due for re-review now
);
CREATE INDEX resources_guild_status ON resources (guild_id, status, category_key);
CREATE INDEX resources_review_due ON resources (status, review_due_at);
CREATE INDEX resources_suggested_by ON resources (suggested_by);

-- Per-server options for the library.
CREATE TABLE resource_settings (
    guild_id   INTEGER PRIMARY KEY,
    allow_http INTEGER NOT NULL DEFAULT 0
);

-- External-content FTS5 index over the resources table, kept in step by triggers.
CREATE VIRTUAL TABLE resources_fts USING fts5 (
    title, description, category, audience, region,
    content = 'resources', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- The index's vocabulary, for typo-tolerant matching of short queries.
CREATE VIRTUAL TABLE resources_vocab USING fts5vocab (resources_fts, 'row');

CREATE TRIGGER resources_ai AFTER INSERT ON resources BEGIN
    INSERT INTO resources_fts (rowid, title, description, category, audience, region)
    VALUES (new.id, new.title, new.description, new.category, new.audience, new.region);
END;
CREATE TRIGGER resources_ad AFTER DELETE ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, title, description, category, audience, region)
    VALUES ('delete', old.id, old.title, old.description, old.category, old.audience, old.region);
END;
CREATE TRIGGER resources_au AFTER UPDATE OF title, description, category, audience, region
ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, title, description, category, audience, region)
    VALUES ('delete', old.id, old.title, old.description, old.category, old.audience, old.region);
    INSERT INTO resources_fts (rowid, title, description, category, audience, region)
    VALUES (new.id, new.title, new.description, new.category, new.audience, new.region);
END;
