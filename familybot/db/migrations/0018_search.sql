-- A trigram index over the search index's words, for typo-tolerant /resource search (issue 15).
-- A typed word that matches nothing is compared only with the words that share a three-letter
-- piece with it (found through this index), not with every word of the library. The words are
-- resources_fts's own tokens (porter stems), so the tokenizer stays the one source of truth:
-- triggers queue each written resource in resource_terms_todo and the repository adds its
-- words (ResourceRepository.index_new_terms). A word whose last resource went is left here;
-- lookups check it is still in resources_vocab. PostgreSQL would use pg_trgm instead.

CREATE TABLE resource_terms (
    id     INTEGER PRIMARY KEY,
    term   TEXT NOT NULL UNIQUE,
    length INTEGER NOT NULL          -- characters, for the length bounds of a close match
);

-- Each word's trigrams, padded as pg_trgm does ('  ' || term || ' '), and its bigrams
-- (unpadded; a 2-character gram never equals a 3-character one). Trigrams find the words a
-- small edit away; bigrams are the fallback that makes the answer exactly the full scan's
-- (see familybot/services/resources.py, close_terms).
CREATE TABLE resource_term_grams (
    gram    TEXT NOT NULL,
    term_id INTEGER NOT NULL,
    PRIMARY KEY (gram, term_id)
) WITHOUT ROWID;

-- Resources written since their words were last added to resource_terms.
CREATE TABLE resource_terms_todo (resource_id INTEGER PRIMARY KEY);

CREATE TRIGGER resources_terms_ai AFTER INSERT ON resources BEGIN
    INSERT OR IGNORE INTO resource_terms_todo (resource_id) VALUES (new.id);
END;
CREATE TRIGGER resources_terms_au AFTER UPDATE OF title, description, category, audience, region
ON resources BEGIN
    INSERT OR IGNORE INTO resource_terms_todo (resource_id) VALUES (new.id);
END;

-- The words already in the library.
INSERT INTO resource_terms (term, length) SELECT term, length(term) FROM resources_vocab;
INSERT OR IGNORE INTO resource_term_grams (gram, term_id)
WITH RECURSIVE piece (term_id, padded, i) AS (
    SELECT id, '  ' || term || ' ', 1 FROM resource_terms
    UNION ALL
    SELECT term_id, padded, i + 1 FROM piece WHERE i + 3 <= length(padded)
)
SELECT substr(padded, i, 3), term_id FROM piece
UNION ALL
SELECT substr(padded, i + 2, 2), term_id FROM piece WHERE i + 3 < length(padded);
