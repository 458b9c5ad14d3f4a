-- PostgreSQL version of ../0003_scheduled_events.sql: the same tables, columns and meaning.
-- Optional mirroring of each group's next session into Discord's Events panel.

ALTER TABLE guild_settings ADD COLUMN scheduled_events BIGINT NOT NULL DEFAULT 0;

-- At most one Discord scheduled event per group: the group's next session.
CREATE TABLE scheduled_event_mirror (
    group_id       BIGINT PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    guild_id       BIGINT NOT NULL,
    event_id       BIGINT NOT NULL,
    series_id      BIGINT,
    occurrence_key TEXT,
    start          BIGINT NOT NULL,             -- UTC start of the mirrored occurrence
    fingerprint    TEXT NOT NULL DEFAULT '',     -- of what was sent, to edit only on change
    updated_at     BIGINT NOT NULL
);
CREATE INDEX scheduled_event_mirror_guild ON scheduled_event_mirror (guild_id);
CREATE INDEX scheduled_event_mirror_start ON scheduled_event_mirror (start);
