-- Reports and private contact: the message menu "Report to facilitators" and /ask.
-- Only ids, a category and times are kept: never message text (a report's words and an
-- /ask message live in the private thread on Discord, not here).

CREATE TABLE reports (
    id                  INTEGER PRIMARY KEY,
    guild_id            INTEGER NOT NULL,
    number              INTEGER NOT NULL,           -- per server; names the thread (ask-12)
    kind                TEXT NOT NULL CHECK (kind IN ('report', 'ask')),
    category            TEXT CHECK (category IS NULL
                                    OR category IN ('at_risk', 'unkind', 'spam', 'other')),
    reporter_id         INTEGER NOT NULL,           -- who reported, or who asked
    reported_author_id  INTEGER,                    -- NULL for /ask, or once that person is forgotten
    reported_message_id INTEGER,
    channel_id          INTEGER NOT NULL,           -- where it was used (the thread's parent)
    thread_id           INTEGER,                    -- the private thread or channel; NULL while opening
    private_channel     INTEGER NOT NULL DEFAULT 0, -- 1: a private channel stood in for a thread
    created_at          INTEGER NOT NULL,
    UNIQUE (guild_id, number)
);
-- The hourly limit and /my data look people up by reporter; /my forget by reported author too.
CREATE INDEX reports_reporter ON reports (reporter_id, guild_id, created_at);
CREATE INDEX reports_reported_author ON reports (reported_author_id)
    WHERE reported_author_id IS NOT NULL;

-- The last number used per server, so a number is never reused after rows are forgotten.
CREATE TABLE report_numbers (
    guild_id    INTEGER PRIMARY KEY,
    last_number INTEGER NOT NULL
);
