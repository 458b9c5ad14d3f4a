"""Two processes running the same shard: each member's messages are read by one of them.

Discord sends every message of a shard to every connection running it, and so does the
fake. Two real FamilyBots with the safety watch on run one shard over one PostgreSQL
database: a member at risk gets the crisis lines once, and facilitators one alert, not one
from each process (familybot/routing.py). When one process stops, the other reads everyone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from familybot.bot import FamilyBot
from familybot.routing import reader_of
from tests.e2e.harness import World, eventually, rows, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.messages import user_says

pytestmark = [pytest.mark.asyncio, pytest.mark.postgres_only]

AT_RISK = "I don't want to be here anymore"


@pytest.fixture
async def pair(
    fake_discord: FakeDiscord, tmp_path: Path
) -> AsyncIterator[tuple[World, FamilyBot, FamilyBot]]:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    a = await w.start_bot(MESSAGE_CONTENT_INTENT="true")
    b = await w.start_bot(MESSAGE_CONTENT_INTENT="true")
    assert w.fake.live_shards == [(0, 1), (0, 1)]
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

    # b stops: its locks go, and a (at its next look) reads b's members too.
    await b.shutdown()
    await a.leadership.routing.refresh()
    moved = next(p for p in people if reader_of(tokens, p) == b.peers.token)
    before = a.leadership.routing.read
    await user_says(w.fake, group, moved, "I can't go on like this")
    await eventually(lambda: a.leadership.routing.read == before + 1)
    # What a left to b before b stopped, and nothing since.
    left_to_b = sum(reader_of(tokens, p) == b.peers.token for p in people)
    assert a.leadership.routing.left == left_to_b
