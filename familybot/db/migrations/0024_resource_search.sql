-- Nothing to do on SQLite: FTS5 ranks from its own index. PostgreSQL's version of this
-- migration keeps the approved resources' search vectors in a narrow table of their own for
-- ranking (postgres/0024_resource_search.sql); the numbers stay equal.
SELECT 1;
