-- /resource search's ranking at 100k resources (issue 15): the approved resources' search
-- vectors in a narrow table of their own, so ranking a common word's thousands of matches
-- reads some 160-byte rows (about half the pages) instead of each match's whole row with its
-- description, URL and review columns. Kept by a trigger from resources (the truth); a
-- resource deleted takes its row along (ON DELETE CASCADE). SQLite ranks from FTS5's own
-- index and needs none of this (its 0024 does nothing).

CREATE TABLE resource_search (
    id            BIGINT PRIMARY KEY REFERENCES resources (id) ON DELETE CASCADE,
    guild_id      BIGINT NOT NULL,
    category_key  TEXT NOT NULL,
    search_vector tsvector NOT NULL
);

CREATE FUNCTION resource_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'approved' THEN
        INSERT INTO resource_search (id, guild_id, category_key, search_vector)
        VALUES (NEW.id, NEW.guild_id, NEW.category_key, NEW.search_vector)
        ON CONFLICT (id) DO UPDATE SET guild_id = EXCLUDED.guild_id,
            category_key = EXCLUDED.category_key, search_vector = EXCLUDED.search_vector;
    ELSE
        DELETE FROM resource_search WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER resources_search_ai AFTER INSERT ON resources
    FOR EACH ROW EXECUTE FUNCTION resource_search_sync();
CREATE TRIGGER resources_search_au
    AFTER UPDATE OF status, guild_id, category_key, title, description, category, audience, region
    ON resources FOR EACH ROW EXECUTE FUNCTION resource_search_sync();

INSERT INTO resource_search (id, guild_id, category_key, search_vector)
SELECT id, guild_id, category_key, search_vector FROM resources WHERE status = 'approved';

CREATE INDEX resource_search_vector ON resource_search USING gin (search_vector);
