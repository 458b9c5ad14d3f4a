"""PostgreSQL faults: the real bot, the fake Discord, and a database that goes away.

The bot reaches PostgreSQL through a TCP proxy this test controls (tests/support/pg_proxy.py),
so the network between them can be cut at a chosen statement, or refuse connections as a
failover does. The database server itself is also restarted the way a restart looks to a
client: every one of the bot's backends terminated (pg_terminate_backend).

After each fault: /crisis answered all along (from memory); what could not be saved got the
kind "try again" reply and changed nothing; what was acknowledged is stored; a reminder due
during the fault goes out once, after it. Time is moved with the clock, never slept through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from familybot.db import peers, postgres
from familybot.db.peers import LEADER_RETRY
from familybot.scheduler.reminders import DISPATCH_RETRY
from familybot.tree import DATABASE_BUSY
from tests.e2e.harness import World, custom_ids, eventually, text_of
from tests.e2e.test_sessions_e2e import (
    at,
    reminders_in,
    schedule_weekly,
    session_day,
    start_of,
    wake,
)
from tests.support import backends
from tests.support.fake_discord import FakeDiscord
from tests.support.pg_proxy import PgProxy

# Every test here runs the bot on PostgreSQL through the proxy, whatever the backend variant:
# the SQLite variant would be the same run again.
pytestmark = pytest.mark.postgres_only

QUESTION, ANSWER = "Where do we meet?", "In the group's channel."
# A failover: connections refused this long (the bot's behaviour does not depend on it; the
# clock is moved through it).
OUTAGE = timedelta(seconds=30)


class Pg:
    """The test's database and its own direct connection (not through the proxy)."""

    def __init__(self, name: str, proxy: PgProxy) -> None:
        self.name, self.proxy = name, proxy
        self.direct_url = backends.url_for(name)
        parts = urlsplit(self.direct_url)
        user = f"{parts.username}@" if parts.username else ""
        self.bot_url = f"postgresql://{user}127.0.0.1:{proxy.port}/{name}"

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        conn = await asyncpg.connect(self.direct_url, timeout=5)
        try:
            return [dict(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    async def terminate_bot_backends(self) -> int:
        """What a server restart does to its clients: every connection to this database ends."""
        rows = await self.rows(
            "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.name,
        )
        return sum(1 for r in rows if r["gone"])

    async def faq(self) -> list[str]:
        return [r["answer"] for r in await self.rows("SELECT answer FROM faq")]

    async def ledger(self) -> list[str]:
        return [
            r["state"] for r in await self.rows("SELECT state FROM reminder_ledger ORDER BY id")
        ]


@pytest.fixture
async def pg(tmp_path: Path) -> AsyncIterator[Pg]:
    name = await backends.SERVER.fresh_database()  # skips (fails under CI) without a server
    upstream = urlsplit(backends.admin_url())
    proxy = PgProxy(upstream.hostname or "127.0.0.1", upstream.port or 5432)
    await proxy.start()
    try:
        yield Pg(name, proxy)
    finally:
        await proxy.stop()
        await backends.SERVER.drop(name)


@pytest.fixture
async def world(fake_discord: FakeDiscord, tmp_path: Path, pg: Pg) -> AsyncIterator[World]:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot(DATABASE_URL=pg.bot_url)
    yield w
    await w.stop_bot()


async def crisis_answers(world: World) -> None:
    h = await world.run(world.alice, "crisis")
    assert h.ephemeral and "988" in text_of(h.callback)


async def add_faq(world: World) -> Any:
    return await world.run(world.facilitator, "faq", "add", question=QUESTION, answer=ANSWER)


def saved(h: Any) -> bool:
    return bool(h.ephemeral and "Done" in (h.content or ""))


def told_to_try_again(h: Any) -> bool:
    return bool(h.ephemeral and last_words(h) == str(DATABASE_BUSY))


def last_words(h: Any) -> str:
    """What the person read last: a followup after a deferral, else the reply itself."""
    followups = [r["body"] for r in h.responses if r["kind"] == "followup"]
    if followups:
        return str(followups[-1].get("content") or "")
    return str(h.content or "")


async def group_with_session(world: World, pg: Pg) -> tuple[int, Any]:
    """A configured server, a group with two members, a weekly session: (channel, start)."""
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="Weekly circle",
        focus="parents",
        join_mode="open",
    )
    for user in (world.alice, world.bob):
        h = await world.run(user, "group", "join", name="Parents Circle")
        click = await world.fake.click(
            world.guild_id, user, custom_ids(h.callback)[0], message_id=world.fake.next_id()
        )
        await click.wait_response()
    (group,) = await pg.rows("SELECT channel_id FROM groups")
    day = session_day()
    await schedule_weekly(world, day)
    return int(group["channel_id"]), start_of(day)


async def test_database_restart_is_survived_and_nothing_is_lost(world: World, pg: Pg) -> None:
    channel, start = await group_with_session(world, pg)
    assert await pg.terminate_bot_backends() >= 1

    await crisis_answers(world)
    h = await add_faq(world)
    assert saved(h), h.content  # the pool connected again: no error for the person
    assert await pg.faq() == [ANSWER]

    assert await pg.terminate_bot_backends() >= 1
    with at(start - timedelta(hours=24)):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel), timeout=6)
        await eventually(lambda: _ledger_is(pg, ["sent"]), timeout=6)
        await wake(world)
    assert len(reminders_in(world, channel)) == 1


async def _ledger_is(pg: Pg, states: list[str]) -> bool:
    return (await pg.ledger())[: len(states)] == states


async def test_connection_dropped_before_a_lone_write_commits_is_retried_once(
    world: World, pg: Pg
) -> None:
    """A single statement's transaction lost its connection before COMMIT: nothing of it was
    applied, so the bot tries it once more on a fresh connection; stored exactly once."""
    await world.configure()
    cut = pg.proxy.cut_when(b"INSERT INTO faq")
    h = await add_faq(world)
    assert cut.is_set()
    assert saved(h), h.content
    assert await pg.faq() == [ANSWER]


async def test_connection_dropped_inside_a_transaction_rolls_it_all_back_and_says_so(
    world: World, pg: Pg
) -> None:
    """Cancelling a series is two writes in one transaction; the connection goes after the
    first. The server rolls both back; the facilitator is told to try again."""
    channel, start = await group_with_session(world, pg)
    (series,) = await pg.rows("SELECT id FROM session_series")
    cut = pg.proxy.cut_when(b"UPDATE reminder_ledger SET state = 'cancelled'")
    h = await world.run_to_end(world.facilitator, "session", "cancel", session=str(series["id"]))
    assert cut.is_set()
    assert told_to_try_again(h), last_words(h)
    (row,) = await pg.rows("SELECT status, cancelled_at FROM session_series")
    assert (row["status"], row["cancelled_at"]) == ("active", None)  # not half-applied
    await crisis_answers(world)

    again = await world.run_to_end(
        world.facilitator, "session", "cancel", session=str(series["id"])
    )
    assert "cancelled" in last_words(again).lower(), last_words(again)
    (row,) = await pg.rows("SELECT status FROM session_series")
    assert row["status"] == "cancelled"
    with at(start - timedelta(hours=24)):
        await wake(world)
    assert reminders_in(world, channel) == []


async def test_connection_dropped_at_commit_reports_what_happened(world: World, pg: Pg) -> None:
    """The server committed, the bot never heard: it finds out, and says "Done"."""
    await world.configure()
    cut = pg.proxy.cut_when(b"INSERT INTO faq", then=b"COMMIT", deliver=True)
    h = await add_faq(world)
    assert cut.is_set()
    assert await pg.faq() == [ANSWER]
    assert saved(h), h.content  # not "nothing was changed": it was


async def test_failover_refused_for_30s_crisis_answers_and_reminder_goes_out_once(
    world: World, pg: Pg
) -> None:
    channel, start = await group_with_session(world, pg)
    due = start - timedelta(hours=24)
    await pg.proxy.refuse()
    with at(due):
        await crisis_answers(world)
        h = await add_faq(world)
        assert told_to_try_again(h), h.content
        await wake(world)  # the reminder's run meets the outage and is retried later
    elapsed = timedelta(0)
    while elapsed < OUTAGE:
        elapsed += DISPATCH_RETRY
        with at(due + elapsed):
            await crisis_answers(world)
            await wake(world)
    assert reminders_in(world, channel) == []
    await pg.proxy.accept()
    with at(due + elapsed + DISPATCH_RETRY):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel), timeout=6)
        await eventually(lambda: _ledger_is(pg, ["sent"]), timeout=6)
        h = await add_faq(world)
        assert saved(h), h.content
        await wake(world)
    assert len(reminders_in(world, channel)) == 1
    assert await pg.faq() == [ANSWER]


async def test_connection_dropped_while_recording_a_sent_reminder_sends_it_once(
    world: World, pg: Pg
) -> None:
    channel, start = await group_with_session(world, pg)
    due = start - timedelta(hours=24)
    cut = pg.proxy.cut_when(b"UPDATE reminder_ledger SET state = 'sent'")
    with at(due):
        await wake(world)
        await eventually(lambda: reminders_in(world, channel), timeout=6)
        await eventually(cut.is_set, timeout=6)
    assert "sent" not in await pg.ledger()
    with at(due + DISPATCH_RETRY):
        await wake(world)
        await eventually(lambda: _ledger_is(pg, ["sent"]), timeout=6)
    posts = [
        r
        for r in world.fake.requests_to("POST", rf"/channels/{channel}/messages")
        if "Reminder:" in str(r.json_body)
    ]
    assert len(posts) == 2 and posts[0].json_body["nonce"] == posts[1].json_body["nonce"]
    assert len(reminders_in(world, channel)) == 1  # the resend carried the same nonce


async def test_a_stalled_leader_connection_hands_the_lead_on(
    fake_discord: FakeDiscord, tmp_path: Path, pg: Pg, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The network between the leader and its database hangs without closing. Its next try
    to keep the lead fails within LIVENESS_TIMEOUT_S and cuts its liveness connection (the
    lock goes with it), so another process leads at its own next try: within LEADER_RETRY of
    that, the promised minute, not never. Its stop, stalled still, does not hang either."""
    monkeypatch.setattr(peers, "LIVENESS_TIMEOUT_S", 0.5)  # 3 s in production
    monkeypatch.setattr(peers, "CONNECT_TIMEOUT_S", 0.5)  # its reconnects meet the stall too
    monkeypatch.setattr(postgres, "CLOSE_TIMEOUT_S", 0.5)
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    try:
        a = await w.start_bot(DATABASE_URL=pg.bot_url)  # through the proxy
        b = await w.start_bot(DATABASE_URL=pg.direct_url)
        assert a.peers.leading and not await b.leadership.tick()
        pg.proxy.stall()
        bound = 10 * peers.LIVENESS_TIMEOUT_S
        assert not await asyncio.wait_for(a.leadership.tick(), timeout=bound)
        assert bound < LEADER_RETRY.total_seconds()
        await eventually(b.leadership.tick, timeout=bound)  # b's next try leads
        assert not await asyncio.wait_for(a.leadership.tick(), timeout=bound)
        await asyncio.wait_for(w.stop_bot(), timeout=6 * bound)  # a still stalled
    finally:
        pg.proxy.flow()
        await w.stop_bot()
