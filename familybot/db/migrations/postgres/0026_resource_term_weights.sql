-- /resource search of one word at 100k resources (issue 15): a common word is in thousands of
-- resources, and ts_rank scored every one of them before the best ten were taken. For a
-- one-word query ts_rank depends on the resource alone (the word's positions and weights, the
-- vector's length: no library-wide statistics), so each approved resource's rank for each of
-- its words is computed once, when the resource is written, exactly as the search computes
-- it, and the best of a word are read in order from an index (ResourceRepository.search_word).
-- Kept by a trigger from resource_search (itself kept from resources, approved only), so an
-- added, edited, approved or retired resource counts at once. SQLite's version of this
-- migration keeps what bm25 needs instead (resource_term_weights).
CREATE TABLE resource_term_ranks (
    resource_id BIGINT NOT NULL REFERENCES resource_search (id) ON DELETE CASCADE,
    term        TEXT NOT NULL,     -- a lexeme of the resource's search vector
    guild_id    BIGINT NOT NULL,
    -- ts_rank with the search's weights and normalization (familybot/db/dialect.py)
    rank        REAL NOT NULL,
    PRIMARY KEY (resource_id, term)
);

CREATE FUNCTION resource_term_ranks_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM resource_term_ranks WHERE resource_id = OLD.id;
    END IF;
    INSERT INTO resource_term_ranks (resource_id, term, guild_id, rank)
    SELECT NEW.id, lexeme, NEW.guild_id,
        ts_rank('{0.1, 0.2, 0.3, 1.0}', NEW.search_vector,
            ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''')::tsquery, 1)
    FROM unnest(NEW.search_vector);
    RETURN NULL;
END
$$;
CREATE TRIGGER resource_term_ranks_ai AFTER INSERT OR UPDATE ON resource_search
    FOR EACH ROW EXECUTE FUNCTION resource_term_ranks_sync();

INSERT INTO resource_term_ranks (resource_id, term, guild_id, rank)
SELECT s.id, v.lexeme, s.guild_id,
    ts_rank('{0.1, 0.2, 0.3, 1.0}', s.search_vector,
        ('''' || replace(replace(v.lexeme, '\', '\\'), '''', '''''') || '''')::tsquery, 1)
FROM resource_search s, unnest(s.search_vector) v;

-- A word's best first, in the order the search shows them (rank, then id).
CREATE INDEX resource_term_ranks_best ON resource_term_ranks (term, guild_id, rank DESC, resource_id);

-- A one-word search also matches longer words it starts ('care' finds 'carer'): it ranks as
-- the word alone when the next word of the vocabulary in code-point order does not start so.
CREATE INDEX resource_terms_next ON resource_terms ((term COLLATE "C"));
