"""Two processes running the same shard over one database: each interaction answered once.

Discord sends every event of a shard, interactions included, to every connection running
it, and so does the fake Discord: here two real FamilyBots (two processes, as a standby or
a rolling restart has them; both in this test's loop, each with its own gateway session,
HTTP client and database connection) run the one shard over one database, SQLite or
PostgreSQL. Each command, button press and form is claimed in the database first and
handled by the one process whose claim went in: one answer, one row. Without the claim both
handle it: two groups or a refusal, and the second answer is refused by Discord (40060).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from familybot.bot import FamilyBot
from familybot.db import sqlite as sqlite_module
from tests.e2e.harness import World, custom_ids, eventually, rows
from tests.e2e.test_groups_e2e import create_group
from tests.support.fake_discord import FakeDiscord, InteractionHandle


async def two_processes(world: World) -> list[FamilyBot]:
    """The World's bot and a second one for the same shard and database."""
    assert world.bot is not None
    bots = [world.bot, await world.start_bot()]
    assert world.fake.live_shards == [(0, 1), (0, 1)]
    return bots


async def decided(bots: list[FamilyBot], interactions: int) -> None:
    """Both processes have made up their minds about `interactions` interactions each."""

    def count() -> int:
        return sum(b.interaction_gate.handled + b.interaction_gate.dropped for b in bots)

    await eventually(lambda: count() == len(bots) * interactions, timeout=5)


def callbacks(world: World, handle: InteractionHandle) -> list[int]:
    """The status Discord gave each attempt to answer the interaction (40060 is a 400)."""
    path = rf"/interactions/{handle.id}/[^/]+/callback"
    return [r.status for r in world.fake.requests_to("POST", path)]


def refused(world: World) -> list[Any]:
    return [(r.path, r.json_body) for r in world.fake.requests if r.status >= 400]


async def test_a_group_made_and_joined_through_two_processes_is_made_and_joined_once(
    world: World,
) -> None:
    bots = await two_processes(world)
    await world.configure()
    await decided(bots, 2)

    made = await create_group(world)
    await decided(bots, 3)
    assert callbacks(world, made) == [200]
    assert [r["name"] for r in await rows(world, "SELECT name FROM groups")] == ["Parents Circle"]
    group_channels = [
        c for c in world.fake.guild(world.guild_id).channels.values() if "parents" in c["name"]
    ]
    assert len(group_channels) == 1

    asked = await world.run(world.alice, "group", "join", name="Parents Circle")
    (consent,) = custom_ids(asked.callback)
    click = await world.fake.click(
        world.guild_id, world.alice, consent, message_id=world.fake.next_id()
    )
    await click.wait_response()
    await decided(bots, 5)
    assert callbacks(world, asked) == [200] and callbacks(world, click) == [200]
    assert "You're now a member of **Parents Circle**" in (click.content or "")
    members = await rows(world, "SELECT user_id, status FROM memberships")
    assert members == [{"user_id": world.alice, "status": "member"}]

    # Each interaction was handled by exactly one of the two; none was answered twice.
    assert sum(b.interaction_gate.handled for b in bots) == 5
    assert sum(b.interaction_gate.dropped for b in bots) == 5
    assert refused(world) == []
    assert len(await rows(world, "SELECT * FROM interaction_claims")) == 5


async def test_crisis_lines_through_two_processes_are_one_answer_and_leave_no_row(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """/crisis never waits for the database nor writes to it, so it is not claimed: both
    processes answer, Discord keeps the first, and the refused one is no error."""
    await two_processes(world)
    with caplog.at_level(logging.INFO):
        asked = await world.run(world.alice, "crisis")
        await eventually(lambda: len(callbacks(world, asked)) == 2)
        # The refused one is logged once its answer (40060) is back: wait for that too.
        await eventually(
            lambda: any("answered elsewhere" in r.getMessage() for r in caplog.records)
        )
    assert asked.ephemeral and asked.response_type == 4
    assert len(asked.responses) == 1  # what Alice sees: one answer
    assert sorted(callbacks(world, asked)) == [200, 400]
    assert await rows(world, "SELECT * FROM interaction_claims") == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("answered elsewhere" in r.getMessage() for r in caplog.records)


@pytest.mark.sqlite_only  # another process's lock on the SQLite file
async def test_a_claim_meeting_another_writers_lock_does_not_hold_up_the_answer(
    fake_discord: FakeDiscord,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The claim has a connection of its own that gives up on a locked file after 0.25 s:
    on the bot's one connection it would hold up every read of the process until its busy
    timeout (5 s here; 2 s by default, after which a command that writes has no time left
    for its own wait and its kind reply within Discord's 3 s)."""
    monkeypatch.setattr(sqlite_module, "BUSY_TIMEOUT_MS", 5000)
    world = World(fake=fake_discord, tmp=tmp_path)
    world.populate()
    await world.start_bot()
    try:
        other = sqlite3.connect(world.db_path, isolation_level=None, check_same_thread=False)
        await asyncio.to_thread(other.execute, "BEGIN EXCLUSIVE")  # a backup, the sqlite3 shell
        try:
            with caplog.at_level(logging.WARNING, logger="familybot.interaction_gate"):
                asked = await world.fake.slash(world.guild_id, world.alice, "help")
                await asked.wait_response(timeout=2.0)  # the lock is still held
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert asked.ephemeral
        (line,) = [r.getMessage() for r in caplog.records]
        expected = f"interaction claim failed (DatabaseUnavailable); handled anyway id={asked.id}"
        assert line == expected
    finally:
        await world.stop_bot()


async def test_a_process_that_stops_finishes_what_it_took_and_leaves_the_rest_to_the_other(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rolling restart: the process stopping had taken a /group create (the other, a
    little slower to claim, left it). Once, its connections closed under the command: the
    group was made but never confirmed, and the other process had dropped it ("The
    application did not respond"). Now a stopping process takes nothing new, and gives what
    it took a moment to be answered."""
    a, b = await two_processes(world)
    await world.configure()
    await decided([a, b], 2)
    won = b.interaction_gate._won

    async def slower(interaction_id: int) -> bool:
        await asyncio.sleep(0.05)  # b claims second: a takes the command
        return await won(interaction_id)

    monkeypatch.setattr(b.interaction_gate, "_won", slower)
    made = await world.run(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle for parents",
        focus="parents of teens in IOP",
        join_mode="open",
    )
    stopping = asyncio.create_task(a.shutdown())
    await made.wait_for("followup")  # a answered before its connections closed
    assert "Parents Circle" in str(made.followups[0])
    # What comes while a stops goes to b.
    await eventually(lambda: a.interaction_gate._closing)
    before = b.interaction_gate.handled
    info = await world.run(world.alice, "group", "info", name="Parents Circle")
    assert info.response_type in (4, 5)
    assert b.interaction_gate.handled == before + 1
    await stopping
    assert [r["name"] for r in await rows(world, "SELECT name FROM groups")] == ["Parents Circle"]
    assert refused(world) == []


async def type_into_both(
    world: World, caplog: pytest.LogCaptureFixture, sub: str
) -> tuple[Any, dict[str, Any]]:
    """Alice types "Par" into /group SUB's name: both processes answer, Discord keeps the
    first (the body she sees) and refuses the second, logged as answered elsewhere."""
    with caplog.at_level(logging.INFO):
        typing = await world.fake.autocomplete(
            world.guild_id, world.alice, "group", sub, focused="name", options={"name": "Par"}
        )
        body = await typing.wait_response()
        await eventually(lambda: len(callbacks(world, typing)) == 2)
        await eventually(
            lambda: any("answered elsewhere" in r.getMessage() for r in caplog.records)
        )
    return typing, body


async def test_autocomplete_through_two_processes_is_answered_and_never_claimed(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Suggestions change nothing, so they are not claimed (no database write per
    keystroke): both processes suggest, Discord shows the first, and the refused one is no
    error. The command then sent is claimed and answered once, as before."""
    bots = await two_processes(world)
    await world.configure()
    await create_group(world)
    await decided(bots, 3)
    claims = len(await rows(world, "SELECT * FROM interaction_claims"))
    typing, body = await type_into_both(world, caplog, "join")
    assert body["type"] == 8 and [c["name"] for c in body["data"]["choices"]] == ["Parents Circle"]
    assert sorted(callbacks(world, typing)) == [200, 400]
    assert len(await rows(world, "SELECT * FROM interaction_claims")) == claims
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []

    asked = await world.run(world.alice, "group", "join", name="Parents Circle")
    await decided(bots, 4)
    assert callbacks(world, asked) == [200]
    assert len(await rows(world, "SELECT * FROM interaction_claims")) == claims + 1
    assert len(refused(world)) == 1  # the second process's suggestions, only


async def test_two_processes_on_one_shard_and_database_have_one_leader(world: World) -> None:
    """Issue 16: on SQLite both processes run shard 0, and both used to lead (the backup,
    the link check and the command sync twice); the lease (PostgreSQL: the advisory lock)
    lets one lead. The command sync, the leader's start-up work, went out once."""
    bots = await two_processes(world)
    assert [b.peers.leading for b in bots] == [True, False]
    assert [await b.leadership.tick() for b in bots] == [True, False]
    puts = world.fake.requests_to("PUT", r"/applications/\d+/(guilds/\d+/)?commands")
    assert len(puts) == 1


async def test_a_refused_autocomplete_through_two_processes_logs_no_warning(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A member typing into a facilitator command: both processes answer with no suggestions,
    Discord refuses the second (40060), and that is one INFO line, not a WARNING per keystroke
    (found in review)."""
    bots = await two_processes(world)
    await world.configure()
    await create_group(world)
    await decided(bots, 3)
    _, body = await type_into_both(world, caplog, "members")
    assert body["type"] == 8 and body["data"]["choices"] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
