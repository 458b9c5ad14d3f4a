"""Live calendar links end to end over real HTTP: the real FeedServer on 127.0.0.1 (a port
the OS picks), a real aiohttp client, the real services on SQLite, and readers of the
feed that share no code with its writer (vobject + dateutil, and ical.js where required).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from multidict import CIMultiDict

from familybot.db.connection import Database
from familybot.feed_server import FeedServer, FeedServerError
from familybot.services.sessions.calendar import CalendarSeries
from familybot.services.sessions.calendar_feed import FeedResponse, hash_token
from familybot.services.sessions.recurrence import Repeat, SeriesRule
from familybot.wiring import Services, build_services
from tests.support.circle import weekly_circle
from tests.support.fakes import FakeClock, RecordingPort
from tests.unit.test_calendar_clients import (
    Reader,
    expected,
    icaljs_reason,
    read_with_icaljs,
    read_with_vobject,
    uid_of,
)

GUILD, GUILD2 = 1, 2
FAC = 10
ALICE, BOB = 101, 102
BASE = "https://calendar.example.org"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FIRST = 4  # weekly_circle's sessions start on 1 December 2026 (18:00 in New York)
YEAR = (NOW, NOW + timedelta(days=365))


class Ticker:
    """The rate limiter's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def services(db: Database, port: RecordingPort, clock: FakeClock) -> Services:
    return build_services(db, port, clock, "America/New_York", feed_base_url=BASE)


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
async def server(services: Services, ticker: Ticker) -> AsyncIterator[FeedServer]:
    feed = FeedServer(services.calendar_feed, "127.0.0.1", 0, clock=ticker)
    await feed.start()
    assert feed.port != 0
    yield feed
    await feed.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def series_of(services: Services, title: str) -> int:
    return int(
        await services.db.fetchval("SELECT id FROM session_series WHERE title = ?", (title,))
    )


def local_url(server: FeedServer, public_url: str) -> str:
    """The link a member got, as the reverse proxy forwards it to the bot."""
    assert public_url.startswith(BASE + "/calendar/")
    return f"http://127.0.0.1:{server.port}{public_url[len(BASE) :]}"


async def link(services: Services, user: int = ALICE, **kwargs: object) -> str:
    result = await services.calendar_feed.my_calendar(GUILD, user, **kwargs)  # type: ignore[arg-type]
    assert result.url is not None and result.token is not None
    assert result.token in result.url and len(result.token) >= 43  # >= 256 bits, base64url
    return result.url


async def fetch(
    http: aiohttp.ClientSession, url: str, method: str = "GET", **headers: str
) -> tuple[int, bytes, CIMultiDict[str]]:
    async with http.request(method, url, headers=headers) as r:
        return r.status, await r.read(), r.headers.copy()


get = fetch


def rule_18h(day: datetime) -> SeriesRule:
    return SeriesRule("America/New_York", day, Repeat.WEEKLY, 90)


async def test_the_feed_is_the_members_calendar_and_follows_a_cancel_and_a_move(
    services: Services, server: FeedServer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    await weekly_circle(services, clock, members=(ALICE,), days_ahead=FIRST)
    series_id = await series_of(services, "Weekly check-in")
    url = local_url(server, await link(services))

    status, body, headers = await get(http, url)
    assert status == 200 and headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Server" not in headers and headers["ETag"].startswith('"')
    uid = uid_of(body, series_id)
    plain = rule_18h(datetime(2026, 12, 1, 18))
    weekly = CalendarSeries(series_id, "t", "g", plain)
    assert read_with_vobject(body, *YEAR)[uid] == expected(weekly, *YEAR)
    # The same calendar /my calendar attaches (only DTSTAMP differs).
    mine = await services.calendar_feed.my_calendar(GUILD, ALICE)
    assert _without_stamps(mine.ics) == _without_stamps(body)

    # After the first fetch: one date cancelled, another moved.
    clock.advance(hours=1)
    await services.sessions.changes.cancel(
        guild_id=GUILD, actor_id=FAC, ref=str(series_id), date_text="2026-12-08"
    )
    await services.sessions.changes.reschedule(
        guild_id=GUILD,
        actor_id=FAC,
        ref=str(series_id),
        date_text="2026-12-15",
        new_date_text="2026-12-16",
        new_time_text="19:30",
    )
    status, changed, headers2 = await get(http, url, **{"If-None-Match": headers["ETag"]})
    assert status == 200 and headers2["ETag"] != headers["ETag"]
    assert headers2["Last-Modified"] == format_datetime(clock.now(), usegmt=True)
    moved_to = datetime(2026, 12, 17, 0, 30, tzinfo=UTC)  # 19:30 EST on 16 Dec
    later = CalendarSeries(
        series_id, "t", "g", plain, cancelled_keys=["2026-12-08"], moved={"2026-12-15": moved_to}
    )
    want = expected(later, *YEAR)
    assert (moved_to, moved_to + timedelta(minutes=90)) in want
    assert all(s.date().isoformat() != "2026-12-08" for s, _ in want)
    assert read_with_vobject(changed, *YEAR)[uid] == want
    icaljs = icaljs_reader()
    if icaljs is not None:  # required in .ci/run
        assert icaljs(changed, *YEAR)[uid] == want


def icaljs_reader() -> Reader | None:
    """Mozilla's ical.js as a second reader where node has it (required in .ci/run)."""
    reason = icaljs_reason()
    if reason is None:
        return read_with_icaljs
    if os.environ.get("FAMILYBOT_REQUIRE_ICALJS") == "1":
        pytest.fail(f"ical.js is required here: {reason}")
    return None


def _without_stamps(ics: bytes) -> list[str]:
    return [line for line in ics.decode().splitlines() if not line.startswith("DTSTAMP")]


async def test_an_unchanged_feed_answers_304(
    services: Services,
    server: FeedServer,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    ticker: Ticker,
) -> None:
    async def get(*args: object, **kwargs: str) -> tuple[int, bytes, CIMultiDict[str]]:
        ticker.now += 10  # a calendar app polls far less often than the rate limit allows
        return await fetch(*args, **kwargs)  # type: ignore[arg-type]

    await weekly_circle(services, clock, members=(ALICE,), days_ahead=FIRST)
    url = local_url(server, await link(services))
    status, body, headers = await get(http, url)
    assert status == 200
    clock.advance(hours=5)  # time passing alone changes nothing
    status, again, same = await get(http, url)
    assert status == 200 and again == body and same["ETag"] == headers["ETag"]
    assert same["Last-Modified"] == headers["Last-Modified"]

    status, empty, h304 = await get(http, url, **{"If-None-Match": headers["ETag"]})
    assert (status, empty) == (304, b"") and h304["ETag"] == headers["ETag"]
    status, _, _ = await get(http, url, **{"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    earlier = format_datetime(NOW - timedelta(days=1), usegmt=True)
    status, full, _ = await get(http, url, **{"If-Modified-Since": earlier})
    assert status == 200 and full == body
    # If-None-Match decides when both are sent (RFC 9110): a stale tag means the body.
    status, _, _ = await get(
        http, url, **{"If-None-Match": '"stale"', "If-Modified-Since": headers["Last-Modified"]}
    )
    assert status == 200
    status, head_body, head = await get(http, url, method="HEAD")
    assert status == 200 and head_body == b"" and head["ETag"] == headers["ETag"]


async def test_past_the_rate_limit_the_feed_answers_429(
    services: Services,
    server: FeedServer,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    ticker: Ticker,
) -> None:
    await weekly_circle(services, clock, members=(ALICE,), titles=())
    url = local_url(server, await link(services))
    other = local_url(server, await link(services, BOB))
    statuses = [(await get(http, url))[0] for _ in range(6)]
    assert statuses == [200] * 6
    status, _, headers = await get(http, url)
    assert status == 429 and int(headers["Retry-After"]) == 10  # one request per 10 s
    assert (await get(http, other))[0] == 200  # per link: someone else is not held up
    ticker.now += 10
    assert (await get(http, url))[0] == 200
    assert (await get(http, url))[0] == 429


async def test_made_up_links_cannot_reset_a_members_limit(
    services: Services,
    server: FeedServer,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    ticker: Ticker,
) -> None:
    """Junk paths never reach a bucket, and made-up tokens all share one overall limit, so a
    flood can't push a member's bucket out (which used to give them a fresh limit)."""
    await weekly_circle(services, clock, members=(ALICE,), titles=())
    url = local_url(server, await link(services))
    assert [(await get(http, url))[0] for _ in range(6)] == [200] * 6
    assert (await get(http, url))[0] == 429
    root = f"http://127.0.0.1:{server.port}"
    junk = [(await get(http, f"{root}/calendar/j{n}.ics"))[0] for n in range(300)]
    assert set(junk) == {404}
    made_up = [(await get(http, f"{root}/calendar/{n:043d}.ics"))[0] for n in range(80)]
    # The overall burst is 60, and Alice's 7 requests were part of it.
    assert made_up.count(404) == 60 - 7 and made_up.count(429) == 80 - 53
    assert (await get(http, url))[0] == 429  # still limited: nothing was reset


async def test_unknown_revoked_and_every_other_path_is_404(
    services: Services, server: FeedServer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    await weekly_circle(services, clock, members=(ALICE,), days_ahead=FIRST)
    old = local_url(server, await link(services))
    assert (await get(http, old))[0] == 200
    renewed = await services.calendar_feed.my_calendar(GUILD, ALICE, new_link=True)
    assert renewed.renewed and renewed.url is not None
    new = local_url(server, renewed.url)
    assert (await get(http, old))[0] == 404  # revoked at once
    assert (await get(http, new))[0] == 200
    root = f"http://127.0.0.1:{server.port}"
    token = new.rsplit("/", 1)[1].removesuffix(".ics")
    for path in (
        "/",
        "/calendar/",
        "/calendar",
        "/robots.txt",
        "/calendar/" + "A" * 43 + ".ics",  # well-formed, unknown
        "/calendar/short.ics",
        f"/calendar/{token}",
        f"/calendar/{token}.ics/",
        f"/calendar/{token}.ics?download=1",
        f"/x/calendar/{token}.ics",
        f"/calendar/{token.upper()}.ics",
    ):
        status, body, headers = await get(http, root + path)
        assert (status, body) == (404, b""), path
        assert "Server" not in headers and "calendar" not in headers.get("Content-Type", "")
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        status, body, headers = await get(http, new, method=method)
        assert (status, body, headers.get("Allow")) == (405, b"", "GET, HEAD"), method


async def test_the_token_never_appears_in_logs(
    services: Services,
    server: FeedServer,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # caplog puts each logger's level back afterwards (left at DEBUG, they made a later
    # test's records at WARNING and above include everything).
    for name in (None, "familybot", "aiohttp", "aiohttp.access", "aiohttp.server", "aiohttp.web"):
        caplog.set_level(logging.DEBUG, logger=name)
    await weekly_circle(services, clock, members=(ALICE,), days_ahead=FIRST)
    first = await link(services)
    url = local_url(server, first)
    for _ in range(8):  # 200s, then 429s
        await get(http, url)
    await get(http, url + "x")
    renewed = await services.calendar_feed.my_calendar(GUILD, ALICE, new_link=True)
    assert renewed.url is not None
    await get(http, url)  # revoked: 404
    records = [r for r in caplog.records if r.name.startswith(("familybot", "aiohttp"))]
    assert any("calendar link renewed" in r.getMessage() for r in records)
    assert any(r.name == "familybot.feed_server" and r.levelno == logging.DEBUG for r in records)
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in records)
    for secret in (first, renewed.url):
        token = secret.rsplit("/", 1)[1].removesuffix(".ics")
        assert token not in text and hash_token(token) not in text


async def test_neutral_titles_hide_group_names_until_the_member_chooses_full(
    services: Services, server: FeedServer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    await weekly_circle(
        services,
        clock,
        name="Grief Circle",
        members=(ALICE,),
        titles=("Loss and grief check-in",),
        days_ahead=FIRST,
    )
    url = local_url(server, await link(services))
    _, body, _ = await get(http, url)
    text = body.decode().replace("\r\n ", "")
    assert "Grief" not in text and "grief" not in text and "Support group session" in text
    full = await services.calendar_feed.my_calendar(GUILD, ALICE, titles="full")
    assert full.titles == "full" and full.url is None  # the link itself stays
    assert b"Grief Circle" in full.ics
    _, body, _ = await get(http, url)
    assert "Loss and grief check-in (Grief Circle)" in body.decode().replace("\r\n ", "")
    neutral = await services.calendar_feed.my_calendar(GUILD, ALICE, titles="neutral")
    assert b"Grief" not in neutral.ics


async def test_a_link_shows_only_that_members_sessions_in_that_server(
    services: Services, server: FeedServer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    await weekly_circle(services, clock, members=(ALICE, BOB), titles=("Check-in",))
    await weekly_circle(services, clock, name="Siblings", members=(BOB,), titles=("Siblings talk",))
    await weekly_circle(
        services,
        clock,
        guild_id=GUILD2,
        name="Elsewhere",
        members=(ALICE,),
        titles=("Other server",),
    )
    mine = await series_of(services, "Check-in")
    bobs = await series_of(services, "Siblings talk")
    other_server = await series_of(services, "Other server")
    _, body, _ = await get(http, local_url(server, await link(services)))
    uids = {line for line in body.decode().splitlines() if line.startswith("UID:")}
    assert {u.split("-")[1] for u in uids} == {str(mine)}
    assert str(bobs) not in {u.split("-")[1] for u in uids} and other_server != mine


async def test_leaving_or_forgetting_ends_the_feed(
    services: Services,
    server: FeedServer,
    http: aiohttp.ClientSession,
    clock: FakeClock,
    db: Database,
) -> None:
    await weekly_circle(services, clock, members=(ALICE,), titles=())
    url = local_url(server, await link(services))
    assert (await get(http, url))[0] == 200
    await services.privacy.member_left(GUILD, ALICE)
    assert (await get(http, url))[0] == 404
    await services.privacy.member_returned(GUILD, ALICE)
    assert (await get(http, url))[0] == 200
    exported = json.dumps(await services.privacy.export_user(ALICE))
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert '"live_link": true' in exported
    assert token not in exported and hash_token(token) not in exported
    await services.privacy.forget_user(ALICE)
    assert (await get(http, url))[0] == 404
    assert await db.fetchval("SELECT count(*) FROM calendar_feeds") == 0


async def test_a_member_discord_no_longer_lists_loses_the_feed_before_the_sweep(
    services: Services, server: FeedServer, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """Without the members intent a departure is noticed by the daily sweep; the feed asks
    Discord itself (at most every 10 minutes per member) so a removed member's link stops."""
    await weekly_circle(services, clock, members=(ALICE,), titles=())
    url = local_url(server, await link(services))
    answers: dict[int, bool | None] = {ALICE: True}
    asked: list[int] = []

    class Presence:
        async def is_member(self, guild_id: int, user_id: int) -> bool | None:
            asked.append(user_id)
            return answers[user_id]

        def current_guild_ids(self) -> set[int] | None:
            return {GUILD}

    services.calendar_feed.presence = Presence()
    assert (await get(http, url))[0] == 200
    answers[ALICE] = False  # kicked, and no event told the bot
    assert (await get(http, url))[0] == 200  # the answer from a moment ago still stands
    clock.advance(minutes=11)
    assert (await get(http, url))[0] == 404
    assert asked == [ALICE, ALICE]
    answers[ALICE] = None  # Discord can't say: the link works (the sweep decides later)
    clock.advance(minutes=11)
    assert (await get(http, url))[0] == 200


async def test_requests_beyond_the_cap_in_progress_get_503(http: aiohttp.ClientSession) -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    class Slow:
        async def feed(self, token: str) -> FeedResponse | None:
            entered.set()
            await release.wait()
            return FeedResponse(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", '"x"', NOW)

    feed = FeedServer(Slow(), "127.0.0.1", 0, max_concurrent=1)
    await feed.start()
    try:
        base = f"http://127.0.0.1:{feed.port}/calendar/"
        first = asyncio.create_task(get(http, base + "a" * 43 + ".ics"))
        await asyncio.wait_for(entered.wait(), 5)
        status, _, headers = await get(http, base + "b" * 43 + ".ics")
        assert status == 503 and headers["Retry-After"] == "5"
        release.set()
        assert (await first)[0] == 200
    finally:
        await feed.stop()


async def test_a_port_in_use_is_one_clear_line(services: Services) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        feed = FeedServer(services.calendar_feed, "127.0.0.1", port)
        with pytest.raises(FeedServerError) as caught:
            await feed.start()
    message = caught.value.explanation
    assert "\n" not in message and f"127.0.0.1:{port}" in message
    assert "CALENDAR_FEED_PORT" in message


async def test_without_the_feed_there_is_no_link(
    db: Database, port: RecordingPort, clock: FakeClock
) -> None:
    services = build_services(db, port, clock, "America/New_York")
    result = await services.calendar_feed.my_calendar(GUILD, ALICE, new_link=True, titles="full")
    assert not result.feed_on and result.url is None and result.token is None
    assert result.titles == "full"  # the choice still applies to the file
    assert await db.fetchval("SELECT token_hash FROM calendar_feeds") is None
