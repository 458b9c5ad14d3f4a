"""The PostgreSQL backend: its schema matches SQLite's, and the dialect rewrites SQL right."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from familybot.db.connection import Database
from familybot.db.dialect import fts5_to_tsquery, translate_postgres
from familybot.db.migrate import available_migrations, migrate
from tests.support import backends

# Only on PostgreSQL: its generated full-text column (SQLite keeps FTS5 tables instead), and
# the bigram form of each search word (SQLite keeps resource_term_grams instead).
POSTGRES_ONLY_COLUMNS = {("resources", "search_vector"), ("resource_terms", "pairs")}


def test_both_backends_have_the_same_numbered_migrations() -> None:
    sqlite = [(m.number, m.name) for m in available_migrations()]
    postgres = [(m.number, m.name) for m in available_migrations("postgresql")]
    assert sqlite == postgres


# resource_term_weights: what bm25 needs of each word of each approved resource (migration
# 0026); PostgreSQL keeps the ranks themselves instead (resource_term_ranks).
SQLITE_ONLY_TABLES = {"resource_term_grams", "resource_terms_todo", "resource_term_weights"}
# PostgreSQL's narrow table of approved resources' search vectors, for ranking (migration
# 0024; SQLite ranks from FTS5's index): a trigger keeps it, nothing else reads or writes it.
POSTGRES_ONLY_TABLES = {"resource_search", "resource_term_ranks"}


async def test_both_schemas_have_the_same_tables_and_columns(tmp_path: Path) -> None:
    lite = await Database.open(tmp_path / "schema.db")
    try:
        await migrate(lite)
        # FTS5's own shadow tables are SQLite's search index (PostgreSQL: a column, a GIN index),
        # and migration 0018's gram table and queue are SQLite's (PostgreSQL: pg_trgm indexes
        # resource_terms, a trigger fills it; migration 0020).
        sqlite_tables = {
            t: c
            for t, c in (await lite.tables()).items()
            if not t.startswith("resources_fts_") and t not in SQLITE_ONLY_TABLES
        }
    finally:
        await lite.close()
    name = await backends.SERVER.fresh_database()
    try:
        pg = await Database.connect(backends.url_for(name))
        try:
            pg_tables = {
                t: c for t, c in (await pg.tables()).items() if t not in POSTGRES_ONLY_TABLES
            }
        finally:
            await pg.close()
    finally:
        await backends.SERVER.drop(name)
    assert set(pg_tables) == set(sqlite_tables)
    for table, columns in sqlite_tables.items():
        extra = {(table, c) for c in pg_tables[table] - columns}
        assert columns <= pg_tables[table], table
        assert extra <= POSTGRES_ONLY_COLUMNS, table


def test_placeholders_and_sqlite_spellings_are_rewritten() -> None:
    t = translate_postgres(
        "INSERT OR IGNORE INTO member_departures (guild_id, user_id, left_at) VALUES (?, ?, ?)"
    )
    assert t.sql == (
        "INSERT INTO member_departures (guild_id, user_id, left_at) VALUES ($1, $2, $3) "
        "ON CONFLICT DO NOTHING"
    )
    assert t.insert_table == "member_departures"
    t = translate_postgres(
        "SELECT * FROM r WHERE title LIKE ? ESCAPE '\\' AND note = 'a ? or :b' "
        "ORDER BY instr(lower(title), lower(?)) = 1 DESC, title COLLATE NOCASE LIMIT ?"
    )
    assert t.sql == (
        "SELECT * FROM r WHERE title ILIKE $1 ESCAPE '\\' AND note = 'a ? or :b' "
        "ORDER BY strpos(lower(title), lower($2)) = 1 DESC, lower(title) LIMIT $3"
    )
    named = translate_postgres("UPDATE groups SET a = :a, b = :b WHERE id = :a")
    assert named.sql == "UPDATE groups SET a = $1, b = $2 WHERE id = $1"
    assert named.names == ("a", "b")
    cond = translate_postgres("UPDATE t SET x = CASE WHEN ? THEN ? ELSE x END")
    assert cond.sql == "UPDATE t SET x = CASE WHEN $1::bigint <> 0 THEN $2 ELSE x END"


def test_the_search_expression_becomes_a_tsquery() -> None:
    match = '("grief" OR "grief"*) AND ("care" OR "care"* OR "car")'
    assert fts5_to_tsquery(match) == "( 'grief' | 'grief':* ) & ( 'care' | 'care':* | 'car' )"


async def test_unique_key_and_trigger_refusals_are_the_same_error_on_both(db: Database) -> None:
    await db.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, result, created_at) "
        "VALUES (1, 2, 'mod.ban', 'ok', 3)"
    )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await db.execute("DELETE FROM audit_log")
    await db.execute("INSERT INTO audit_purge_allowed (guild_id) VALUES (?)", (7,))
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute("INSERT INTO audit_purge_allowed (guild_id) VALUES (?)", (7,))
    # The failed statements changed nothing; an id came back for the logged row.
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 1
    result = await db.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, result, created_at) "
        "VALUES (1, 2, 'mod.kick', 'ok', 4)"
    )
    assert result.rowcount == 1
    assert result.lastrowid == await db.fetchval("SELECT max(id) FROM audit_log")


async def test_a_transaction_is_all_or_nothing_on_both(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute("INSERT INTO audit_purge_allowed (guild_id) VALUES (?)", (5,))
            assert await db.fetchval("SELECT count(*) FROM audit_purge_allowed") == 1
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT count(*) FROM audit_purge_allowed") == 0


def test_database_url_selects_postgresql_and_bad_values_are_explained(tmp_path: Path) -> None:
    from familybot.config import load_settings
    from familybot.errors import ConfigError

    plain = load_settings(tmp_path / "none.env", environ={})
    assert plain.database_url is None and plain.database_target == plain.database_path
    url = "postgresql://fb:secret@db.example.org:5432/familybot"
    settings = load_settings(tmp_path / "none.env", environ={"DATABASE_URL": url})
    assert settings.database_target == url
    with pytest.raises(ConfigError, match="PostgreSQL address"):
        load_settings(tmp_path / "none.env", environ={"DATABASE_URL": "mysql://x/y"})


async def test_check_reports_the_backend_and_its_version(tmp_path: Path) -> None:
    from familybot.cli.check import _check_database
    from familybot.config import load_settings

    name = await backends.SERVER.fresh_database()
    try:
        settings = load_settings(
            tmp_path / "none.env", environ={"DATABASE_URL": backends.url_for(name)}
        )
        ok, lines = await _check_database(settings)
    finally:
        await backends.SERVER.drop(name)
    text = "\n".join(lines)
    assert ok, text
    assert "Backend: PostgreSQL 1" in text
    latest = available_migrations("postgresql")[-1].number
    assert f"Schema version {latest} (current)" in text
    assert "pg_trgm is missing" not in text  # the local server has it (postgresql-contrib)


async def test_the_shared_test_database_is_put_back_as_migrated_between_tests() -> None:
    """tests/support/backends.py: what one PostgreSQL variant writes, the next never sees;
    the migrations' own rows come back and ids start again where they started."""
    if "postgres" not in backends.backends():
        pytest.skip("PostgreSQL variants not selected (FAMILYBOT_TEST_BACKENDS)")
    name = await backends.SERVER.clean_database()
    db = await Database.connect(backends.url_for(name))
    try:
        install = await db.fetchval("SELECT install_id FROM install_identity WHERE id = 1")
        first = await db.execute(
            "INSERT INTO audit_log (guild_id, actor_id, action, result, created_at) "
            "VALUES (1, 2, 'probe', 'ok', 0)"
        )
        await db.execute("DELETE FROM install_identity")
    finally:
        await db.close()
    name = await backends.SERVER.clean_database()
    db = await Database.connect(backends.url_for(name))
    try:
        assert await db.fetchval("SELECT count(*) FROM audit_log") == 0
        assert await db.fetchval("SELECT install_id FROM install_identity WHERE id = 1") == install
        again = await db.execute(
            "INSERT INTO audit_log (guild_id, actor_id, action, result, created_at) "
            "VALUES (1, 2, 'probe', 'ok', 0)"
        )
        assert again.lastrowid == first.lastrowid
    finally:
        await db.close()
