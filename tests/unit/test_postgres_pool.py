"""The PostgreSQL pool takes a connection back without a reset round trip (issue 15: asyncpg's
default sends 'SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;' after every
statement), and still leaves no transaction open on it."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from familybot.db.connection import Database, as_postgres

pytestmark = pytest.mark.postgres_only


async def _sessions(db: Database) -> list[Any]:
    """The pool's connections as the server sees them: the last statement each ran, its state."""
    pg = as_postgres(db)
    assert pg is not None
    conn = await asyncpg.connect(pg.url)
    try:
        return list(
            await conn.fetch(
                "SELECT query, state FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        )
    finally:
        await conn.close()


async def test_a_released_connection_is_sent_no_reset_query(db: Database) -> None:
    assert await db.fetchval("SELECT 15 AS pool_reset_probe") == 15
    sessions = await _sessions(db)
    queries = [s["query"] for s in sessions]
    assert any("pool_reset_probe" in q for q in queries), queries
    assert not any("RESET ALL" in q or "pg_advisory_unlock_all" in q for q in queries), queries


async def test_a_failed_transaction_leaves_its_connection_idle_and_usable(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute("CREATE TEMP TABLE pool_probe (x INT) ON COMMIT DROP")
            raise RuntimeError("undone")
    assert all(s["state"] == "idle" for s in await _sessions(db))
    assert await db.fetchval("SELECT 16") == 16
