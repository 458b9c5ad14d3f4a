-- Moderation: numbered cases per server, their reason history, and timed bans to lift.
-- Cases are append-friendly: a row is written before Discord is called ('pending') and then
-- marked 'done' or 'failed'; reasons change only through case_reason_history.

CREATE TABLE mod_cases (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    number           INTEGER NOT NULL,           -- per server, 1, 2, 3...
    action           TEXT NOT NULL,
    actor_id         INTEGER NOT NULL,           -- 0: FamilyBot itself (a timed ban ending)
    target_id        INTEGER,                    -- the member; NULL for channel actions
    channel_id       INTEGER,                    -- purge, slowmode, lock, unlock
    reason           TEXT NOT NULL,
    duration_seconds INTEGER,
    expires_at       INTEGER,
    created_at       INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'done', 'failed')),
    detail           TEXT,                       -- e.g. how many messages were removed
    dm               TEXT CHECK (dm IS NULL OR dm IN ('sent', 'closed')),
    modlog_message_id INTEGER,
    UNIQUE (guild_id, number)
);
CREATE INDEX mod_cases_target ON mod_cases (guild_id, target_id, number);

CREATE TABLE case_reason_history (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES mod_cases (id),
    old_reason TEXT NOT NULL,
    new_reason TEXT NOT NULL,
    changed_by INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX case_reason_history_case ON case_reason_history (case_id, id);

-- One row per timed ban. The scheduler is only a cache of these rows.
CREATE TABLE scheduled_unbans (
    case_id   INTEGER PRIMARY KEY REFERENCES mod_cases (id),
    guild_id  INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    due_at    INTEGER NOT NULL,
    lifted_at INTEGER,                           -- set when lifted (or made moot by /mod unban)
    attempts  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scheduled_unbans_due ON scheduled_unbans (due_at) WHERE lifted_at IS NULL;
