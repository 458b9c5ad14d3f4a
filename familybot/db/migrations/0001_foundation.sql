-- Foundation: server settings, support groups, their facilitators and memberships.
-- Instants are stored as INTEGER unix seconds (UTC).

CREATE TABLE guild_settings (
    guild_id            INTEGER PRIMARY KEY,
    facilitator_role_id INTEGER,
    modlog_channel_id   INTEGER,
    alerts_channel_id   INTEGER,
    timezone            TEXT,
    crisis_region       TEXT,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE groups (
    id                 INTEGER PRIMARY KEY,
    guild_id           INTEGER NOT NULL,
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL,          -- casefolded name, for lookups
    description        TEXT NOT NULL,
    focus              TEXT NOT NULL,
    capacity           INTEGER CHECK (capacity IS NULL OR capacity > 0),
    join_mode          TEXT NOT NULL CHECK (join_mode IN ('open', 'approval')),
    guidelines         TEXT NOT NULL,
    guidelines_version INTEGER NOT NULL DEFAULT 1,
    role_id            INTEGER,
    channel_id         INTEGER,
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_by         INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    archived_at        INTEGER
);
-- Names are unique among a server's active groups; an archived name may be reused.
CREATE UNIQUE INDEX groups_active_name ON groups (guild_id, name_key) WHERE status = 'active';
CREATE INDEX groups_guild ON groups (guild_id, status);

CREATE TABLE group_facilitators (
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    added_by INTEGER NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_facilitators_user ON group_facilitators (user_id);

-- One row per person per group: seated, waiting for a seat, or waiting for approval.
-- Consent (guidelines version and time) is recorded before any of these states.
CREATE TABLE memberships (
    id              INTEGER PRIMARY KEY,       -- also the queue order for the waitlist
    group_id        INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('member', 'waitlisted', 'pending')),
    consent_version INTEGER NOT NULL,
    consented_at    INTEGER NOT NULL,
    requested_at    INTEGER NOT NULL,
    joined_at       INTEGER,
    UNIQUE (group_id, user_id)
);
CREATE INDEX memberships_group_status ON memberships (group_id, status, id);
CREATE INDEX memberships_user ON memberships (user_id);
