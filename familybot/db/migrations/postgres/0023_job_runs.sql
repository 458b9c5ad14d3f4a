-- PostgreSQL version of ../0023_job_runs.sql: the same tables, columns and meaning.
-- Exactly once for the database-wide jobs (issue 16): backup, link check, review digest.
-- job_runs: the leader inserts (job, period) before running a job, so however leadership
-- changes, each job runs to its end once per period (the UTC day; the week for the review
-- digest). A claim not finished whose claimant is gone (its liveness lock) is taken over, so
-- a crash mid-job does not skip the day. Job names and times only. Rows older than 30 days
-- are pruned.
CREATE TABLE job_runs (
    job         TEXT    NOT NULL,
    period      BIGINT  NOT NULL,
    claimed_by  BIGINT  NOT NULL,
    claimed_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    takeovers   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job, period)
);
-- The SQLite leader lease (../0023_job_runs.sql); unused here: the leader holds an advisory
-- lock instead.
CREATE TABLE leader_lease (
    name       TEXT    PRIMARY KEY,
    holder     BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
