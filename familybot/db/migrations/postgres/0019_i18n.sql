-- PostgreSQL version of ../0019_i18n.sql: the same tables, columns and meaning.
-- Languages (README "Languages"). A server's language, for what goes to its channels:
-- reminders and notices (/setup language). English until an admin picks another.
ALTER TABLE guild_settings ADD COLUMN language TEXT NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'es'));

-- A person's own choice (/my language). No row means "auto": their Discord language.
-- Not per server: it goes with /my forget, and with their last server (retention).
CREATE TABLE member_language (
    user_id    BIGINT PRIMARY KEY,
    language   TEXT NOT NULL CHECK (language IN ('en', 'es')),
    updated_at BIGINT NOT NULL
);
