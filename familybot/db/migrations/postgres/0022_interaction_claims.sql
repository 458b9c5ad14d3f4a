-- PostgreSQL version of ../0022_interaction_claims.sql: the same tables, columns and meaning.
-- Which interactions (slash commands, buttons, menus, modals) a process has taken on (issue
-- 16). Discord sends each interaction to every connection of its shard: when two processes
-- run the same shard (a standby, a rolling restart), each tries to insert the interaction's
-- id here before handling it, and only the one whose insert went in handles it. Ids only:
-- nothing of who used what. Rows older than an hour are pruned (an interaction can be
-- answered for 15 minutes).
-- UNLOGGED: rows that matter for minutes need not go through the write-ahead log; a claim
-- then costs about 0.15 ms instead of 0.7 (bench/interaction_claims.py). After a database
-- crash, or on a replica promoted by a failover, the table starts empty: at worst an
-- interaction from just before is handled by two processes, as it was before this table.
CREATE UNLOGGED TABLE interaction_claims (
    interaction_id BIGINT PRIMARY KEY,  -- Discord's id for the interaction
    claimed_at     BIGINT NOT NULL      -- unix seconds, for pruning
);
CREATE INDEX interaction_claims_claimed_at ON interaction_claims (claimed_at);
