-- The review digest once per server per period, even when the process dies between posting
-- and recording it (issue 16). Before posting, the leader records its intent with a nonce
-- (sent with the message, enforce_nonce); once Discord answered, the message id. An intent
-- without a message id was interrupted: the next run resends with the same nonce while
-- Discord still remembers it, and past that looks once in the channel's recent history for
-- a message carrying that nonce before resending. Ids and times only. Rows older than
-- 30 days are pruned with job_runs.
CREATE TABLE digest_posts (
    guild_id   INTEGER NOT NULL,
    period     INTEGER NOT NULL,  -- unix seconds: the start of the digest's week
    nonce      TEXT    NOT NULL,  -- Discord's message nonce (at most 25 characters)
    started_at INTEGER NOT NULL,  -- unix seconds: the intent, just before the first send
    message_id INTEGER,           -- NULL until Discord answered (or the history showed it)
    PRIMARY KEY (guild_id, period)
);
