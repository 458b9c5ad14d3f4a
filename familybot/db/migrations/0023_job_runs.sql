-- Exactly once for the database-wide jobs (issue 16): backup, link check, review digest.
-- job_runs: the leader inserts (job, period) before running a job, so however leadership
-- changes, each job runs to its end once per period (the UTC day; the week for the review
-- digest). A claim not finished whose claimant is gone (its liveness lock on PostgreSQL, the
-- leader lease on SQLite) is taken over, so a crash mid-job does not skip the day. Job names
-- and times only. Rows older than 30 days are pruned.
CREATE TABLE job_runs (
    job         TEXT    NOT NULL,  -- 'backup', 'link-check', 'resource-review'
    period      INTEGER NOT NULL,  -- unix seconds: the start of the period (UTC day, week)
    claimed_by  INTEGER NOT NULL,  -- the claimant's process token (familybot/db/peers.py)
    claimed_at  INTEGER NOT NULL,  -- unix seconds
    finished_at INTEGER,           -- unix seconds; NULL while running (or its process died)
    takeovers   INTEGER NOT NULL DEFAULT 0,  -- claims taken from a process gone mid-job
    PRIMARY KEY (job, period)
);
-- leader_lease: on SQLite (one host, no server to hold a lock) the leader is the process
-- whose lease is unexpired; it renews it every LEADER_RETRY, another takes it once expired.
-- Unused on PostgreSQL (an advisory lock there), kept so both schemas have the same tables.
CREATE TABLE leader_lease (
    name       TEXT    PRIMARY KEY,  -- 'leader'
    holder     INTEGER NOT NULL,     -- the holder's process token
    expires_at INTEGER NOT NULL      -- unix seconds
);
