-- PostgreSQL version of ../0018_search.sql. SQLite keeps its own trigram index of the search
-- words (resource_terms, resource_term_grams, resource_terms_todo) because FTS5 has none to
-- ask. PostgreSQL reads the search index's words from ts_stat over resources.search_vector
-- (ResourceRepository.close_term_candidates), so there is nothing to build or keep up to date
-- here; pg_trgm (migration 0006) already indexes the titles for typo-tolerant lookups.
SELECT 1;
