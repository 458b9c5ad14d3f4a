"""`/my calendar` end to end: the real bot on the fake Discord with its live calendar feed
listening on 127.0.0.1 (a port the OS picks), fetched with a real HTTP client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.harness import World, rows
from tests.e2e.test_sessions_e2e import schedule_weekly, session_day, setup_group
from tests.support.fake_discord import FakeDiscord

BASE = "https://calendar.example.org"
LINK = re.compile(re.escape(BASE) + r"(/calendar/[A-Za-z0-9_-]{43}\.ics)")
SUPPRESS_EMBEDS = 1 << 2


@pytest.fixture
async def feed_world(fake_discord: FakeDiscord, tmp_path: Path) -> AsyncIterator[World]:
    w = World(fake=fake_discord, tmp=tmp_path)
    w.populate()
    await w.start_bot(
        CALENDAR_FEED_ENABLED="true",
        CALENDAR_FEED_HOST="127.0.0.1",
        CALENDAR_FEED_PORT="0",
        CALENDAR_FEED_BASE_URL=BASE,
    )
    yield w
    await w.stop_bot()


def uploads(world: World) -> list[bytes]:
    return [r.files[0].data for r in world.fake.requests if r.files and "callback" in r.path]


async def fetch(world: World, path: str) -> tuple[int, bytes]:
    assert world.bot is not None and world.bot.feed_server is not None
    url = f"http://127.0.0.1:{world.bot.feed_server.port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        return r.status, await r.read()


async def test_my_calendar_gives_a_private_link_then_new_link_and_neutral_titles(
    feed_world: World,
) -> None:
    world = feed_world
    await setup_group(world)
    await schedule_weekly(world, session_day())

    h = await world.run(world.alice, "my", "calendar", titles="full")
    assert h.ephemeral and int(h.data["flags"]) & SUPPRESS_EMBEDS  # no preview fetch of the link
    match = LINK.search(h.content)
    assert match is not None, h.content
    first = match[1]
    assert "only this once" in h.content and "full" in h.content
    status, body = await fetch(world, first)
    assert status == 200 and b"Weekly check-in (Parents Circle)" in body.replace(b"\r\n ", b"")
    assert b"Parents Circle" in uploads(world)[-1]

    # Asked again: the link is not shown again (only its hash is stored) and still works.
    h = await world.run(world.alice, "my", "calendar")
    assert h.ephemeral and LINK.search(h.content) is None and "still working" in h.content
    assert (await fetch(world, first))[0] == 200

    h = await world.run(world.alice, "my", "calendar", new_link=True, titles="neutral")
    assert h.ephemeral and "old calendar link no longer works" in h.content
    match = LINK.search(h.content)
    assert match is not None and match[1] != first
    assert (await fetch(world, first))[0] == 404
    status, body = await fetch(world, match[1])
    assert status == 200 and b"Support group session" in body
    assert b"Parents Circle" not in body and b"Weekly check-in" not in body
    neutral_file = uploads(world)[-1]
    assert b"Support group session" in neutral_file and b"Parents Circle" not in neutral_file

    stored = await rows(world, "SELECT * FROM calendar_feeds")
    assert [(r["user_id"], r["titles"]) for r in stored] == [(world.alice, "neutral")]
    token = match[1].removeprefix("/calendar/").removesuffix(".ics")
    assert token not in str(stored)  # only its SHA-256 is kept

    # Anyone else's request for the file does not get Alice's link, and Carol has no groups.
    h = await world.run(world.carol, "my", "calendar")
    assert h.ephemeral and "no scheduled sessions yet" in h.content
    assert token not in h.content


async def test_without_the_feed_the_file_comes_with_a_kind_note(world: World) -> None:
    await setup_group(world)
    await schedule_weekly(world, session_day())
    assert world.bot is not None and world.bot.feed_server is None
    h = await world.run(world.alice, "my", "calendar", new_link=True)
    assert h.ephemeral and "doesn't run live calendar links" in h.content
    assert "download it again after changes" in h.content and "calendar.example" not in h.content
    ics = uploads(world)[-1]
    assert b"RRULE:FREQ=WEEKLY" in ics and b"Support group session" in ics  # neutral by default
    assert b"Parents Circle" not in ics


async def test_the_feed_starts_with_the_bot_and_stops_with_it(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    import socket

    from familybot.feed_server import FeedServerError

    world = World(fake=fake_discord, tmp=tmp_path)
    world.populate()
    with socket.socket() as taken:  # a port in use: one clear line, and the bot does not run
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(FeedServerError) as caught:
            await world.start_bot(
                CALENDAR_FEED_ENABLED="true",
                CALENDAR_FEED_PORT=str(busy),
                CALENDAR_FEED_BASE_URL=BASE,
            )
    assert "\n" not in caught.value.explanation and "CALENDAR_FEED_PORT" in caught.value.explanation
    await world.stop_bot()

    bot = await world.start_bot(
        CALENDAR_FEED_ENABLED="true", CALENDAR_FEED_PORT="0", CALENDAR_FEED_BASE_URL=BASE
    )
    assert bot.feed_server is not None
    port = bot.feed_server.port
    assert (await fetch(world, "/"))[0] == 404
    await world.stop_bot()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as http:
            await http.get(f"http://127.0.0.1:{port}/")
