"""Two processes running the same shard: each member's messages are read by one of them.

Discord sends every message of a shard to every connection running it, and so does the
fake. Two real FamilyBots with the safety watch on run one shard over one PostgreSQL
database: a member at risk gets the crisis lines once, and facilitators one alert, not one
from each process (familybot/routing.py). When one process stops, the other reads everyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from familybot.bot import FamilyBot
from familybot.routing import ROUTING_EVERY, reader_of
from tests.e2e.harness import World, eventually, rows, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.messages import user_says

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres_only]

AT_RISK = "I don't want to be here anymore"


async def _no_wait(seconds: float) -> None:
    return None


async def watched_circle(w: World) -> int:
    """The server set up, the safety watch on, one group: its channel's id."""
    await w.configure()
    await w.run(w.admin, "setup", "safety-watch", state="on")
    await w.run_to_end(
        w.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle for parents",
        focus="parents of teens",
        join_mode="open",
    )
    (row,) = await rows(w, "SELECT channel_id FROM groups")
    return int(str(row["channel_id"]))


@pytest.fixture
async def pair(
    fake_discord: FakeDiscord, tmp_path: Path
) -> AsyncIterator[tuple[World, FamilyBot, FamilyBot]]:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    a = await w.start_bot(MESSAGE_CONTENT_INTENT="true")
    b = await w.start_bot(MESSAGE_CONTENT_INTENT="true")
    assert w.fake.live_shards == [(0, 1), (0, 1)]
    await watched_circle(w)
    yield w, a, b
    await w.stop_bot()


async def test_a_member_at_risk_gets_one_private_reply_and_facilitators_one_alert(
    pair: tuple[World, FamilyBot, FamilyBot],
) -> None:
    w, a, b = pair
    for bot in (a, b):
        await bot.leadership.routing.refresh()  # as its 5-second job does
    tokens = frozenset({a.peers.token, b.peers.token})
    # Enough members that each process reads two of them (rendezvous hashing decides).
    people = [w.alice, w.bob, w.carol]
    while min(sum(reader_of(tokens, p) == t for p in people) for t in tokens) < 2:
        people.append(w.fake.add_member(w.guild_id, name=f"member{len(people)}"))
    (row,) = await rows(w, "SELECT channel_id FROM groups")
    group = int(str(row["channel_id"]))

    for person in people:
        await user_says(w.fake, group, person, AT_RISK)
    # Both processes saw every message; each was read by one.
    await eventually(lambda: sum(x.leadership.routing.left for x in (a, b)) == len(people))
    assert a.leadership.routing.read + b.leadership.routing.read == len(people)
    for bot in (a, b):
        mine = [p for p in people if reader_of(tokens, p) == bot.peers.token]
        assert bot.leadership.routing.read == len(mine) >= 2
    await eventually(lambda: len(w.fake.messages_in(w.alerts_channel)) == len(people))
    for person in people:
        (dm,) = await eventually(lambda person=person: w.fake.dms_to(person))
        assert "988" in str(dm)
    alerted = [text_of(m) for m in w.fake.messages_in(w.alerts_channel)]
    assert sorted(sum(f"<@{p}>" in text for text in alerted) for p in people) == [1] * len(people)

    # b stops. It leaves the readers first and reads everyone's messages while a has not
    # looked again (its handover, held here), so a message from b's member is read then too.
    moved = next(p for p in people if reader_of(tokens, p) == b.peers.token)
    handed, looked = asyncio.Event(), asyncio.Event()

    async def handover(seconds: float) -> None:
        assert seconds >= ROUTING_EVERY.total_seconds()  # longer than a's recount interval
        handed.set()
        await looked.wait()

    b.leadership.routing.sleep = handover
    stopping = asyncio.create_task(b.shutdown())
    await asyncio.wait_for(handed.wait(), 10)
    assert w.fake.live_shards == [(0, 1), (0, 1)]  # b still connected, no longer a reader
    read_by_b = b.leadership.routing.read
    await user_says(w.fake, group, moved, "I can't go on like this")
    await eventually(lambda: b.leadership.routing.read == read_by_b + 1)  # (b's cooldown)
    await a.leadership.routing.refresh()  # a looks again: b is no reader now
    looked.set()
    await stopping
    before = a.leadership.routing.read
    await user_says(w.fake, group, moved, "I can't go on like this, really")
    await eventually(lambda: a.leadership.routing.read == before + 1)
    await eventually(lambda: len(w.fake.dms_to(moved)) == 2)  # a's cooldown knew them not
    # What a left to b before b stopped, and nothing since.
    left_to_b = sum(reader_of(tokens, p) == b.peers.token for p in people)
    assert a.leadership.routing.left == left_to_b + 1  # and the one b read in its handover


async def test_a_process_still_starting_is_handed_no_member(
    fake_discord: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second process takes its shard's locks seconds before it connects to Discord (its
    set-up: the planner, the command sync). Members are handed only to processes that read:
    until it is ready, the running one reads everyone, so a member at risk who writes then
    still gets the crisis lines (found in review: they got nothing from anyone)."""
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    a = await w.start_bot(MESSAGE_CONTENT_INTENT="true")
    try:
        group = await watched_circle(w)
        joined, go_on = asyncio.Event(), asyncio.Event()
        real_start_feed = FamilyBot._start_feed

        async def slow_setup(self: FamilyBot) -> None:  # b, still in set-up, locks taken
            joined.set()
            await go_on.wait()
            await real_start_feed(self)

        monkeypatch.setattr(FamilyBot, "_start_feed", slow_setup)
        starting = asyncio.create_task(w.start_bot(MESSAGE_CONTENT_INTENT="true"))
        await asyncio.wait_for(joined.wait(), 20)
        await a.leadership.routing.refresh()  # a's 5-second recount meanwhile
        people = [w.alice, w.bob, w.carol]
        for person in people:
            await user_says(w.fake, group, person, AT_RISK)
        await eventually(lambda: a.leadership.routing.read == len(people))
        assert a.leadership.routing.left == 0
        for person in people:
            await eventually(lambda person=person: w.fake.dms_to(person))
        go_on.set()
        b = await starting

        async def b_reads() -> bool:  # its reader locks taken, as the database sees them
            members = await a.peers.shard_members() or {}
            return any(b.peers.token in tokens for tokens in members.values())

        await eventually(b_reads)  # ready: now a reader
        await a.leadership.routing.refresh()
        view = a.leadership.routing._view or {}
        assert sorted(map(len, view.values())) == [2]
        for bot in (a, b):  # no handover to wait out at the test's end
            bot.leadership.routing.sleep = _no_wait
    finally:
        await w.stop_bot()
