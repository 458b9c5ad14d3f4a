-- Nothing to do on SQLite: its trigram index of the search words is migration 0018's
-- (resource_terms, resource_term_grams). PostgreSQL's version of this migration builds the
-- same vocabulary with a pg_trgm index (postgres/0021_pg_trgm.sql); the numbers stay equal.
SELECT 1;
