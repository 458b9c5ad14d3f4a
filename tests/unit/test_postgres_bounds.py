"""The bounds on the PostgreSQL pool's transactions (issue 16, familybot/db/postgres.py): a
wait for the shared write lock gives up after lock_timeout, as "busy" (but a migration's
waits on); a session the server ended for idling in a transaction is seen as gone and
replaced. Real server, bounds shortened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from familybot.db import postgres
from familybot.db.base import DatabaseUnavailable
from familybot.db.connection import Database, as_postgres
from familybot.db.dialect import WRITE_LOCK_KEY
from familybot.db.postgres import PostgresDatabase

pytestmark = pytest.mark.postgres_only

LOCK_S = 0.2
IDLE_S = 0.5
INSERT = (
    "INSERT INTO faq (guild_id, question, question_key, answer, created_by, created_at) "
    "VALUES (1, ?, ?, 'a', 1, 0)"
)


@pytest.fixture
async def short(db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[PostgresDatabase]:
    """A second pool on the test's database, opened with short bounds."""
    monkeypatch.setattr(postgres, "LOCK_TIMEOUT_S", LOCK_S)
    monkeypatch.setattr(postgres, "IDLE_IN_TRANSACTION_S", IDLE_S)
    pg = as_postgres(db)
    assert pg is not None
    bounded = await PostgresDatabase.open_url(pg.url)
    yield bounded
    await bounded.close()


async def _holding_the_write_lock(url: str) -> asyncpg.Connection:
    """Another program's session holding the write lock (a long copy, a migration)."""
    conn = await asyncpg.connect(url)
    await conn.execute("BEGIN")
    await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK_KEY)
    return conn


async def test_a_write_waiting_past_lock_timeout_is_busy_and_stores_nothing(
    short: PostgresDatabase,
) -> None:
    holder = await _holding_the_write_lock(short.url)
    try:
        with pytest.raises(DatabaseUnavailable) as busy:
            await asyncio.wait_for(short.execute(INSERT, ("q", "q")), timeout=3)
        assert busy.value.kind == "locked"
    finally:
        await holder.close()
    assert await short.fetchval("SELECT count(*) FROM faq") == 0
    await short.execute(INSERT, ("q", "q"))  # the lock gone, the same write goes through
    assert await short.fetchval("SELECT count(*) FROM faq") == 1


async def test_a_migration_waits_for_the_write_lock_without_that_bound(
    short: PostgresDatabase,
) -> None:
    holder = await _holding_the_write_lock(short.url)

    async def migrate_step() -> None:
        async with short.transaction(patient=True):
            await short.execute(INSERT, ("m", "m"))

    step = asyncio.create_task(migrate_step())
    try:
        await asyncio.sleep(3 * LOCK_S)
        assert not step.done()  # still waiting, not failed
    finally:
        await holder.close()  # a lock left held would hang the fixture's clean-up
    await asyncio.wait_for(step, timeout=3)
    assert await short.fetchval("SELECT count(*) FROM faq") == 1


async def test_a_session_ended_for_idling_in_a_transaction_is_replaced(
    short: PostgresDatabase,
) -> None:
    before = await short.fetchval("SELECT pg_backend_pid()")
    with pytest.raises(DatabaseUnavailable):
        async with short.transaction():
            await short.execute(INSERT, ("i", "i"))
            await asyncio.sleep(IDLE_S + 0.5)  # the server ends the session meanwhile
            await short.execute(INSERT, ("j", "j"))
    assert await short.fetchval("SELECT count(*) FROM faq") == 0  # rolled back whole
    assert await short.fetchval("SELECT pg_backend_pid()") != before
    await short.execute(INSERT, ("k", "k"))
    assert await short.fetchval("SELECT count(*) FROM faq") == 1
