-- PostgreSQL version of ../0016_welcome_panel.sql: the same tables, columns and meaning.
-- The start-here panel that `/setup welcome` posted, one per server: where it is, so running
-- the command again edits that message instead of posting a second one, and `/setup show`
-- can tell when it was deleted. Ids and an instant only: no person in it.

CREATE TABLE welcome_panels (
    guild_id   BIGINT PRIMARY KEY,
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    posted_at  BIGINT NOT NULL
);
