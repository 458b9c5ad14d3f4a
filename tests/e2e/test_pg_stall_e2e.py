"""A host whose network hangs in the middle of a transaction (issue 16).

Every write transaction on PostgreSQL holds the one write lock all processes share. Bot A's
connection stalls (tests/support/pg_proxy.py) right after its transaction took that lock;
bot B, another process on the same database (direct, running the server's shard), must
still answer writes within seconds: the server ends A's session once it has sat in its
transaction for idle_in_transaction_session_timeout, and until then B's writes give up
after lock_timeout with the kind "try again" reply, storing nothing. Without these bounds B
waited until the server's keepalive noticed A (about two hours).

The bounds are shortened here (10 s and 2 s in production, familybot/db/postgres.py) and
elapse in real seconds on a real server: nothing is mocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from familybot.db import peers, postgres
from familybot.db.base import DatabaseUnavailable
from familybot.db.postgres import PostgresDatabase
from tests.e2e.harness import World
from tests.e2e.test_pg_faults_e2e import (
    ANSWER,
    Pg,
    add_faq,
    last_words,
    pg,
    saved,
    told_to_try_again,
)
from tests.support.fake_discord import FakeDiscord

pytestmark = pytest.mark.postgres_only
__all__ = ["pg"]  # the fixture, shared with the other fault tests

IDLE_S = 2.0  # idle_in_transaction_session_timeout: 10 s in production
LOCK_S = 0.5  # lock_timeout: 2 s in production
SHARDS = 2
INSERT_FAQ = (
    "INSERT INTO faq (guild_id, question, question_key, answer, created_by, created_at) "
    "VALUES (?, ?, ?, ?, ?, 0)"
)


@pytest.fixture
def short_bounds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(postgres, "IDLE_IN_TRANSACTION_S", IDLE_S)
    monkeypatch.setattr(postgres, "LOCK_TIMEOUT_S", LOCK_S)
    # A's own connections meet the stall too: its liveness checks and its stop stay short.
    monkeypatch.setattr(peers, "LIVENESS_TIMEOUT_S", 0.5)
    monkeypatch.setattr(peers, "CONNECT_TIMEOUT_S", 0.5)
    monkeypatch.setattr(postgres, "CLOSE_TIMEOUT_S", 0.5)
    yield


async def test_a_host_stalled_inside_a_transaction_holds_the_others_up_for_seconds_only(
    fake_discord: FakeDiscord, tmp_path: Path, pg: Pg, short_bounds: None
) -> None:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    ours = (w.guild_id >> 22) % SHARDS  # the server's shard: B runs it, A the other one
    loop = asyncio.get_running_loop()
    try:
        a = await w.start_bot(DATABASE_URL=pg.bot_url, SHARD_COUNT="2", SHARD_IDS=str(1 - ours))
        await w.start_bot(DATABASE_URL=pg.direct_url, SHARD_COUNT="2", SHARD_IDS=str(ours))
        await w.configure()
        assert a.db is not None
        a_db = a.db
        holding = asyncio.Event()

        async def a_writes() -> None:
            async with a_db.transaction():
                await a_db.execute(INSERT_FAQ, (w.guild_id, "A's", "a's", "lost", w.facilitator))
                pg.proxy.stall()  # A now holds the write lock, and its network hangs
                holding.set()
                await a_db.execute(INSERT_FAQ, (w.guild_id, "A's 2", "a's 2", "lost", 1))

        stuck = asyncio.create_task(a_writes())
        await holding.wait()
        began = loop.time()

        # B's write waits lock_timeout for the lock, then gives up: the kind reply, in time.
        first = await add_faq(w)
        assert told_to_try_again(first), last_words(first)
        assert loop.time() - began < IDLE_S
        assert await pg.faq() == []

        # The server ends A's session after IDLE_S in its transaction: B's writes go through.
        # The member tries again as the reply asked; within seconds it is saved.
        while not saved(again := await add_faq(w)):
            assert told_to_try_again(again), last_words(again)
            assert loop.time() - began < IDLE_S + 3 * LOCK_S + 2, "B still held up"
            await asyncio.sleep(0.25)
        assert await pg.faq() == [ANSWER]  # B's, once; nothing of A's transaction

        # A's transaction was rolled back by the server and reported to A as such.
        with pytest.raises(DatabaseUnavailable):
            await asyncio.wait_for(stuck, timeout=5)
        pg.proxy.flow()
        # A's pool replaced the connection the server closed: A writes again.
        await a_db.execute(INSERT_FAQ, (w.guild_id, "A's later", "a's later", "kept", 1))
        assert sorted(await pg.faq()) == sorted([ANSWER, "kept"])
    finally:
        pg.proxy.flow()
        await w.stop_bot()


async def test_a_statement_without_an_answer_ends_and_its_connection_is_not_reused(
    pg: Pg, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our side of a stall: asyncpg's command_timeout ends the wait (30 s in production)
    instead of the kernel's minutes or hours, and the connection, whose late answer could
    still arrive, is closed; the next statement gets a fresh one."""
    monkeypatch.setattr(postgres, "COMMAND_TIMEOUT_S", 1.0)
    db = await PostgresDatabase.open_url(pg.bot_url, max_size=1)
    try:
        before = await db.fetchval("SELECT pg_backend_pid()")  # the pool's one connection
        pg.proxy.stall()
        began = asyncio.get_running_loop().time()
        with pytest.raises(DatabaseUnavailable) as failed:
            await asyncio.wait_for(db.fetchval("SELECT 1"), timeout=5)
        assert failed.value.kind == "down"
        assert asyncio.get_running_loop().time() - began < 3
        pg.proxy.flow()
        assert await db.fetchval("SELECT pg_backend_pid()") != before
    finally:
        pg.proxy.flow()
        await db.close()
