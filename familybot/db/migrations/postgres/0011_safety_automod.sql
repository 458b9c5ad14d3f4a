-- PostgreSQL version of ../0011_safety_automod.sql: the same tables, columns and meaning.
-- Safety watch and light automod: two opt-in switches per server (both off by default), and
-- an index so "is this channel a group's channel?" stays cheap on every message.
-- Nothing about who matched the safety watch is stored anywhere; automod actions are
-- ordinary moderation cases (action 'automod', actor 0).

ALTER TABLE guild_settings ADD COLUMN safety_watch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE guild_settings ADD COLUMN automod BIGINT NOT NULL DEFAULT 0;

CREATE INDEX groups_channel ON groups (channel_id) WHERE status = 'active';
