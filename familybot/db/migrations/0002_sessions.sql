-- Sessions, RSVPs, attendance, personal preferences and the reminder ledger (outbox).
-- The database is the truth; the scheduler only caches what is due soon.

ALTER TABLE groups ADD COLUMN reminder_offsets TEXT NOT NULL DEFAULT '1440,60';  -- minutes before

CREATE TABLE session_series (
    id               INTEGER PRIMARY KEY,
    group_id         INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    guild_id         INTEGER NOT NULL,
    title            TEXT NOT NULL,
    tz               TEXT NOT NULL,              -- IANA zone of the series
    first_local      TEXT NOT NULL,              -- naive local wall time, ISO 8601
    repeat           TEXT NOT NULL CHECK (repeat IN ('once', 'weekly', 'biweekly', 'monthly')),
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    voice_channel_id INTEGER,
    status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled', 'ended')),
    created_by       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    cancelled_at     INTEGER,
    cancel_reason    TEXT,
    planned_until    INTEGER NOT NULL,           -- reminders due up to here are in the ledger
    next_due         INTEGER                     -- first reminder instant after planned_until
);
CREATE INDEX session_series_due ON session_series (status, next_due);
CREATE INDEX session_series_group ON session_series (group_id, status);
CREATE INDEX session_series_guild ON session_series (guild_id, status);

-- One occurrence cancelled or moved; the key is the occurrence's nominal local date.
CREATE TABLE occurrence_overrides (
    series_id      INTEGER NOT NULL REFERENCES session_series (id) ON DELETE CASCADE,
    occurrence_key TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('cancelled', 'moved')),
    new_start      INTEGER,                      -- UTC, for moved occurrences
    reason         TEXT,
    created_by     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (series_id, occurrence_key)
);
CREATE INDEX occurrence_overrides_moved ON occurrence_overrides (status, new_start);

CREATE TABLE rsvps (
    series_id      INTEGER NOT NULL REFERENCES session_series (id) ON DELETE CASCADE,
    occurrence_key TEXT NOT NULL,
    user_id        INTEGER NOT NULL,
    response       TEXT NOT NULL CHECK (response IN ('going', 'maybe', 'no')),
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (series_id, occurrence_key, user_id)
);
CREATE INDEX rsvps_user ON rsvps (user_id);

CREATE TABLE attendance (
    series_id      INTEGER NOT NULL REFERENCES session_series (id) ON DELETE CASCADE,
    occurrence_key TEXT NOT NULL,
    user_id        INTEGER NOT NULL,
    marked_by      INTEGER NOT NULL,
    marked_at      INTEGER NOT NULL,
    PRIMARY KEY (series_id, occurrence_key, user_id)
);
CREATE INDEX attendance_user ON attendance (user_id);

-- Personal settings; one row per person.
CREATE TABLE member_prefs (
    user_id      INTEGER PRIMARY KEY,
    timezone     TEXT,
    dm_reminders INTEGER NOT NULL DEFAULT 0,
    dm_offsets   TEXT,                           -- NULL: the group's offsets
    updated_at   INTEGER NOT NULL
);

-- DMs that could not be delivered, so the person can be told privately next time.
CREATE TABLE dm_failures (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    notified_at INTEGER
);
CREATE INDEX dm_failures_pending ON dm_failures (user_id, notified_at);

-- The reminder outbox: one row per (series, occurrence, start, offset, target). The unique
-- key is what makes a reminder go out once, however often the planner or a job runs.
CREATE TABLE reminder_ledger (
    id               INTEGER PRIMARY KEY,
    series_id        INTEGER NOT NULL REFERENCES session_series (id) ON DELETE CASCADE,
    occurrence_key   TEXT NOT NULL,
    occurrence_start INTEGER NOT NULL,
    offset_minutes   INTEGER NOT NULL,
    target           TEXT NOT NULL,              -- 'channel' or 'dm:<user id>'
    due_at           INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'cancelled',
                                      'undeliverable', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    attempt_at       INTEGER,
    sent_at          INTEGER,
    message_id       INTEGER,
    late             INTEGER NOT NULL DEFAULT 0,
    UNIQUE (series_id, occurrence_key, occurrence_start, offset_minutes, target)
);
CREATE INDEX reminder_ledger_due ON reminder_ledger (state, due_at);
CREATE INDEX reminder_ledger_occurrence ON reminder_ledger (series_id, occurrence_key, state);
