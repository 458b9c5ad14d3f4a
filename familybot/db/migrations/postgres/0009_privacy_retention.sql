-- PostgreSQL version of ../0009_privacy_retention.sql: the same tables, columns and meaning.
-- Privacy and retention: who left a server (their data is purged 30 days later unless they
-- come back) and which servers removed the bot (all of that server's data goes 30 days later).
-- Ids and instants only.

CREATE TABLE member_departures (
    guild_id BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    left_at  BIGINT NOT NULL,                  -- first noticed gone; a rejoin deletes the row
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX member_departures_left ON member_departures (left_at);
CREATE INDEX member_departures_user ON member_departures (user_id);

CREATE TABLE guild_departures (
    guild_id   BIGINT PRIMARY KEY,
    removed_at BIGINT NOT NULL                 -- the bot was removed; a rejoin deletes the row
);
CREATE INDEX guild_departures_removed ON guild_departures (removed_at);

-- The retention sweep looks RSVPs and attendance up by age.
CREATE INDEX rsvps_updated ON rsvps (updated_at);
CREATE INDEX attendance_marked ON attendance (marked_at);
