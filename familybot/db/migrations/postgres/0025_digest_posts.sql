-- PostgreSQL version of ../0025_digest_posts.sql: the same table, columns and meaning.
-- The review digest once per server per period: the intent (with its message nonce) is
-- recorded before posting, the message id after; an intent without one was interrupted.
CREATE TABLE digest_posts (
    guild_id   BIGINT NOT NULL,
    period     BIGINT NOT NULL,
    nonce      TEXT   NOT NULL,
    started_at BIGINT NOT NULL,
    message_id BIGINT,
    PRIMARY KEY (guild_id, period)
);
