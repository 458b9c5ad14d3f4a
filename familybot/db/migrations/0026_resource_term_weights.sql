-- /resource search of one word at 100k resources (issue 15): a common word is in thousands of
-- resources, and FTS5's bm25 scored every one of them before the best ten were taken. For one
-- word bm25 orders a server's matches by two numbers of each resource: the word's weighted
-- count (title 10, description 2, category 3, audience and region 1, bm25's own weights in
-- familybot/db/dialect.py) and the resource's length in words. Kept here per word and
-- approved resource, the best ten are among the ten shortest of each distinct count, and only
-- those few are scored by bm25 itself (ResourceRepository.search_word). Kept from the same
-- queue as the trigram index (resource_terms_todo, ResourceTermIndex.index_new_terms), which
-- a search empties first, so an added, edited, approved or retired resource counts at once.
CREATE TABLE resource_term_weights (
    term        TEXT NOT NULL,     -- a word of resources_fts (a porter stem)
    guild_id    INTEGER NOT NULL,
    weight      INTEGER NOT NULL,  -- the word's occurrences, each by its column's bm25 weight
    length      INTEGER NOT NULL,  -- the resource's words in all columns (bm25's length)
    resource_id INTEGER NOT NULL,
    PRIMARY KEY (term, guild_id, weight, length, resource_id)
) WITHOUT ROWID;
CREATE INDEX resource_term_weights_resource ON resource_term_weights (resource_id);

-- Approving, retiring or moving a resource changes whether (and where) its words count.
CREATE TRIGGER resources_terms_status AFTER UPDATE OF status, guild_id ON resources BEGIN
    INSERT OR IGNORE INTO resource_terms_todo (resource_id) VALUES (new.id);
END;
CREATE TRIGGER resources_terms_ad AFTER DELETE ON resources BEGIN
    DELETE FROM resource_term_weights WHERE resource_id = old.id;
END;

-- The library already there, weighed here from the search index's own word list (not queued:
-- the first search after an upgrade would weigh a whole library).
CREATE VIRTUAL TABLE temp.resource_fts_instance USING fts5vocab (main, resources_fts, 'instance');
INSERT INTO resource_term_weights (term, guild_id, weight, length, resource_id)
SELECT i.term, r.guild_id, sum(CASE i.col WHEN 'title' THEN 10 WHEN 'description' THEN 2
    WHEN 'category' THEN 3 ELSE 1 END), d.n, i.doc
FROM temp.resource_fts_instance i
JOIN (SELECT doc, count(*) AS n FROM temp.resource_fts_instance GROUP BY doc) d ON d.doc = i.doc
JOIN resources r ON r.id = i.doc
WHERE r.status = 'approved'
GROUP BY i.term, i.doc;
DROP TABLE temp.resource_fts_instance;
