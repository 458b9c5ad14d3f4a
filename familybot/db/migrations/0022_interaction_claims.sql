-- Which interactions (slash commands, buttons, menus, modals) a process has taken on (issue
-- 16). Discord sends each interaction to every connection of its shard: when two processes
-- run the same shard (a standby, a rolling restart), each tries to insert the interaction's
-- id here before handling it, and only the one whose insert went in handles it. Ids only:
-- nothing of who used what. Rows older than an hour are pruned (an interaction can be
-- answered for 15 minutes).
CREATE TABLE interaction_claims (
    interaction_id INTEGER PRIMARY KEY,  -- Discord's id for the interaction
    claimed_at     INTEGER NOT NULL      -- unix seconds, for pruning
);
CREATE INDEX interaction_claims_claimed_at ON interaction_claims (claimed_at);
