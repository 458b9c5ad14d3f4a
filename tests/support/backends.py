"""Tests on both backends: SQLite (a file in the test's tmp dir) and PostgreSQL.

FAMILYBOT_TEST_BACKENDS (default "sqlite,postgres") names the backends the `db` and `world`
fixtures run each test on. The PostgreSQL variants share one database per test session
(fbt_<random>, migrated once, dropped at the end). Before each test it is put back exactly
as the migrations left it: one TRUNCATE ... RESTART IDENTITY CASCADE of every table, the
rows the migrations wrote copied back from a snapshot schema, every sequence set back to the
value it had (ms per test; a CREATE DATABASE ... TEMPLATE per test cost ~2 s under load).
Tests that need a database of their own (schema comparisons, `familybot check`) still get
one from the template with fresh_database().

The server is FAMILYBOT_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/
postgres: any database on the server that the user may connect to and CREATE DATABASE on).
When no server answers, the PostgreSQL variants skip with one reason (one line in pytest's
summary); with FAMILYBOT_REQUIRE_POSTGRES=1 (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX = "fbt_"


def backends() -> list[str]:
    raw = os.environ.get("FAMILYBOT_TEST_BACKENDS", "sqlite,postgres")
    names = [b.strip().lower() for b in raw.split(",") if b.strip()]
    unknown = [b for b in names if b not in {"sqlite", "postgres"}]
    if unknown:
        raise pytest.UsageError(f"FAMILYBOT_TEST_BACKENDS: unknown backend {unknown[0]!r}")
    return names


def admin_url() -> str:
    return os.environ.get("FAMILYBOT_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def require_postgres() -> bool:
    return os.environ.get("FAMILYBOT_REQUIRE_POSTGRES", "") in {"1", "true", "yes"}


def url_for(database: str) -> str:
    parts = urlsplit(admin_url())
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def _quote(name: str) -> str:
    assert name.startswith(PREFIX) and name.replace("_", "").isalnum()
    return f'"{name}"'


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url(), timeout=3)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _unreachable() -> tuple[type[BaseException], ...]:
    try:
        import asyncpg
    except ImportError:
        return (ImportError,)
    return (
        OSError,
        asyncio.TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InvalidAuthorizationSpecificationError,
        asyncpg.InvalidCatalogNameError,
        asyncpg.CannotConnectNowError,
    )


_UNREACHABLE = _unreachable()


def _problem(exc: BaseException) -> str:
    return (
        f"PostgreSQL tests skipped: no usable server at {admin_url()} "
        f"({exc.__class__.__name__}); set FAMILYBOT_TEST_POSTGRES_URL, or "
        "FAMILYBOT_TEST_BACKENDS=sqlite"
    )


@dataclass
class PostgresServer:
    """The session's template database, made on first use."""

    template: str | None = None
    problem: str | None = None
    shared: str | None = None
    _reset_sql: str | None = None
    _schema: str | None = None
    #: How often a test left the schema changed, so the shared database was made anew.
    remade: int = 0

    def probe(self) -> str | None:
        """Why the PostgreSQL variants skip, or None when the server answers: for pytest-xdist's
        controller, whose workers (each with its own session database) skip on their own."""
        if self.problem is None and self.template is None:
            try:
                asyncio.run(_admin("SELECT 1"))
            except _UNREACHABLE as exc:
                self.problem = _problem(exc)
        return self.problem

    async def ensure_template(self) -> str:
        if self.template is not None:
            return self.template
        if self.problem is None:
            try:
                await _admin("SELECT 1")
            except _UNREACHABLE as exc:
                self.problem = _problem(exc)
            else:  # reachable: a failure from here on (a migration's SQL) is a real failure
                self.template = await self._make_template()
        if self.template is None:
            assert self.problem is not None
            if require_postgres():
                pytest.fail(f"{self.problem} (FAMILYBOT_REQUIRE_POSTGRES=1)", pytrace=False)
            pytest.skip(self.problem)
        return self.template

    async def _make_template(self) -> str:
        from familybot.db.migrate import migrate
        from familybot.db.postgres import PostgresDatabase

        name = f"{PREFIX}tpl_{uuid.uuid4().hex[:12]}"
        await _admin(f"CREATE DATABASE {_quote(name)}")
        try:
            db = await PostgresDatabase.open_url(url_for(name), max_size=1)
            try:
                await migrate(db)
            finally:
                await db.close()
        except BaseException:
            await _admin(f"DROP DATABASE IF EXISTS {_quote(name)}")
            raise
        return name

    def drop_template(self) -> None:
        for name in (self.shared, self.template):
            if name is not None:
                asyncio.run(_admin(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"))
        self.shared = self.template = None

    async def clean_database(self) -> str:
        """The session's shared database, just as the migrations left it."""
        import asyncpg

        if self.shared is None:
            self.shared = await self.fresh_database()
            conn = await asyncpg.connect(url_for(self.shared), timeout=3)
            try:
                self._reset_sql = await _snapshot(conn)
                self._schema = await conn.fetchval(SCHEMA_FINGERPRINT)
            finally:
                await conn.close()
            return self.shared
        assert self._reset_sql is not None
        conn = await asyncpg.connect(url_for(self.shared), timeout=3)
        try:
            # Rows are put back; a schema a test changed (a trigger, a column) is not: then
            # the next test gets a new copy of the template instead.
            same = await conn.fetchval(SCHEMA_FINGERPRINT) == self._schema
            if same:
                await conn.execute(self._reset_sql)
        finally:
            await conn.close()
        if not same:
            self.remade += 1
            await self.drop(self.shared)
            self.shared = None
            return await self.clean_database()
        return self.shared

    async def fresh_database(self) -> str:
        """A new migrated database (from the template); the caller drops it."""
        template = await self.ensure_template()
        name = f"{PREFIX}{uuid.uuid4().hex[:16]}"
        await _admin(f"CREATE DATABASE {_quote(name)} TEMPLATE {_quote(template)}")
        return name

    async def empty_database(self) -> str:
        """A new database with nothing in it (what `familybot migrate` meets on a new
        install); the caller drops it."""
        await self.ensure_template()  # skips (or fails) here when no server answers
        name = f"{PREFIX}{uuid.uuid4().hex[:16]}"
        await _admin(f"CREATE DATABASE {_quote(name)}")
        return name

    async def drop(self, name: str) -> None:
        await _admin(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)")


SNAPSHOT_SCHEMA = "fbt_snapshot"

# Everything a test could change in the schema besides rows: relations and their columns,
# constraints, indexes, triggers, functions, extensions (one value, compared before a reset).
SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
  SELECT 'r:' || n.nspname || '.' || c.relname || ':' || c.relkind::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  UNION ALL
  SELECT 'a:' || a.attrelid::regclass::text || '.' || a.attname || ':'
         || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'k:' || conrelid::regclass::text || '.' || conname || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL
  SELECT 't:' || tgrelid::regclass::text || '.' || tgname || ':' || tgenabled::text
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'p:' || p.oid::regprocedure::text || ':' || md5(p.prosrc)
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL
  SELECT 'e:' || extname || ':' || extversion FROM pg_extension
) s(x)
"""


async def _snapshot(conn: Any) -> str:
    """Copy the rows the migrations wrote into SNAPSHOT_SCHEMA; the SQL that puts every table
    and sequence of the public schema back to this state (one round trip per test)."""
    tables = [
        r["tablename"]
        for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    await conn.execute(f"CREATE SCHEMA {SNAPSHOT_SCHEMA}")
    restore = []
    for table in tables:
        if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM public."{table}")'):
            await conn.execute(
                f'CREATE TABLE {SNAPSHOT_SCHEMA}."{table}" AS TABLE public."{table}"'
            )
            restore.append(
                f'INSERT INTO public."{table}" SELECT * FROM {SNAPSHOT_SCHEMA}."{table}";'
            )
    sequences = await conn.fetch(
        "SELECT schemaname, sequencename, last_value, start_value FROM pg_sequences "
        "WHERE schemaname = 'public'"
    )
    for seq in sequences:
        name = f'public."{seq["sequencename"]}"'
        if seq["last_value"] is None:  # never used: next value is its start
            restore.append(f"SELECT setval('{name}', {seq['start_value']}, false);")
        else:
            restore.append(f"SELECT setval('{name}', {seq['last_value']}, true);")
    listed = ", ".join(f'public."{t}"' for t in tables)
    return f"SET lock_timeout = '5s';TRUNCATE {listed} RESTART IDENTITY CASCADE;" + "".join(restore)


SERVER = PostgresServer()
