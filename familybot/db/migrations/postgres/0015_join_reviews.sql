-- PostgreSQL version of ../0015_join_reviews.sql: the same tables, columns and meaning.
-- Who must be approved by a facilitator before (re)joining a group, whatever its join mode:
-- set when a facilitator removes someone, and when a request is denied (which also starts a
-- 7-day wait before the next request). An approval deletes the row. Ids and instants only.

CREATE TABLE join_reviews (
    group_id   BIGINT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL,
    removed_at BIGINT,                         -- last removed by a facilitator
    denied_at  BIGINT,                         -- last request denied
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX join_reviews_user ON join_reviews (user_id);
