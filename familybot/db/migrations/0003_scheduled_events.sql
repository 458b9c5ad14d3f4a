-- Optional mirroring of each group's next session into Discord's Events panel.

ALTER TABLE guild_settings ADD COLUMN scheduled_events INTEGER NOT NULL DEFAULT 0;

-- At most one Discord scheduled event per group: the group's next session.
CREATE TABLE scheduled_event_mirror (
    group_id       INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    guild_id       INTEGER NOT NULL,
    event_id       INTEGER NOT NULL,
    series_id      INTEGER,
    occurrence_key TEXT,
    start          INTEGER NOT NULL,             -- UTC start of the mirrored occurrence
    fingerprint    TEXT NOT NULL DEFAULT '',     -- of what was sent, to edit only on change
    updated_at     INTEGER NOT NULL
);
CREATE INDEX scheduled_event_mirror_guild ON scheduled_event_mirror (guild_id);
CREATE INDEX scheduled_event_mirror_start ON scheduled_event_mirror (start);
