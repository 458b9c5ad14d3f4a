-- PostgreSQL version of ../0013_calendar_feed.sql: the same tables, columns and meaning.
-- /my calendar, per member and server: the event titles they chose for their calendar
-- (neutral until they choose full) and, where the live calendar feed runs, a SHA-256 of
-- their private feed token. The token itself is never stored: it is shown once, when made.
CREATE TABLE calendar_feeds (
    guild_id        BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    titles          TEXT NOT NULL DEFAULT 'neutral' CHECK (titles IN ('neutral', 'full')),
    token_hash      TEXT,           -- hex SHA-256 of the feed token; NULL: no live link
    link_created_at BIGINT,        -- when the current link was made
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE UNIQUE INDEX calendar_feeds_token ON calendar_feeds (token_hash)
    WHERE token_hash IS NOT NULL;
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id);
