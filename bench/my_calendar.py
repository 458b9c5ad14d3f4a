"""Calendar benchmark: `/my calendar` and the live feed for a member of 100 groups.

    .venv/bin/python bench/my_calendar.py                 # 40 runs of each figure
    .venv/bin/python bench/my_calendar.py --runs 100 --profile /tmp/cal.prof

Builds a temporary SQLite database with the real migrations: 100 groups in one server,
one member seated in all of them, one or two series per group (weekly, biweekly, monthly
and a few one-off sessions) in eight time zones (north, south, no DST, half-hour offsets),
first dates from 2024 on, with some dates cancelled and some moved. Then, in one process
and one run, it times (p50/p99, milliseconds):

* file:     `SessionsService.calendar_for` (what `/my calendar` attaches), via the service;
* file base: a bare `build_ics` of one weekly series (the floor of building any file);
* feed:     a GET of the member's feed URL through the real HTTP server on 127.0.0.1
            (rate limit raised for the run), with a real aiohttp client;
* feed 304: the same GET with If-None-Match (a calendar app polling an unchanged feed);
* feed base: a GET of an empty aiohttp handler on the same loop (the HTTP floor).

It also checks that two builds of the same input give identical bytes (the feed's ETag
depends on it) and prints the file's size and a SHA-256 of it for a fixed clock.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

# Run as a script, this file's folder comes first on sys.path and this module would shadow
# the standard library's `calendar` (which dateutil imports): put the repository there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
REPO_ROOT = _HERE.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from familybot.db.connection import Database  # noqa: E402
from familybot.db.migrate import migrate  # noqa: E402
from familybot.services.sessions.calendar import CalendarSeries, build_ics  # noqa: E402
from familybot.services.sessions.recurrence import Repeat, SeriesRule  # noqa: E402
from familybot.wiring import (  # noqa: E402
    AllPorts,
    Services,
    build_services,
)

GUILD = 900_000_000_000_000_001
MEMBER = 900_000_000_000_000_002
FAC = 900_000_000_000_000_003
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Asia/Kolkata",
    "America/St_Johns",
)
REPEATS = ("weekly", "weekly", "biweekly", "monthly", "weekly", "once")


class FixedClock:
    def now(self) -> datetime:
        return NOW


async def build_data(db: Database) -> int:
    """100 groups, 1-2 series each; returns the number of series."""
    ts = int(NOW.timestamp())
    series = 0
    for g in range(100):
        await db.execute(
            "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode,"
            " guidelines, role_id, channel_id, created_by, created_at) "
            "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', NULL, ?, ?, ?)",
            (GUILD, f"Group {g}", f"group {g}", 10_000 + g, FAC, ts),
        )
        group_id = int(await db.fetchval("SELECT max(id) FROM groups"))
        await db.execute(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
            (group_id, MEMBER, ts, ts, ts),
        )
        for s in range(1 + g % 2):
            n = g * 2 + s
            tz = ZONES[n % len(ZONES)]
            repeat = REPEATS[n % len(REPEATS)]
            year = 2024 + n % 3
            first = datetime(year, 1 + n % 12, 1 + n % 27, 7 + n % 14, (n % 4) * 15)
            if repeat == "once":
                first = datetime(2027, 1 + n % 12, 1 + n % 27, 18, 0)
            await db.execute(
                "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
                " duration_minutes, voice_channel_id, created_by, created_at, planned_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    group_id,
                    GUILD,
                    f"Session {n}",
                    tz,
                    first.isoformat(timespec="minutes"),
                    repeat,
                    60 + 15 * (n % 3),
                    20_000 + g if n % 2 else None,
                    FAC,
                    ts,
                    ts,
                ),
            )
            series_id = int(await db.fetchval("SELECT max(id) FROM session_series"))
            series += 1
            if repeat in ("weekly", "biweekly") and n % 3 == 0:
                await _overrides(db, series_id, first, repeat, ts)
    return series


async def _overrides(db: Database, series_id: int, first: datetime, repeat: str, ts: int) -> None:
    """A cancelled date and a moved one, a few weeks after now, on the series' own dates."""
    from familybot.services.sessions.recurrence import occurrences

    rule = SeriesRule("UTC", first, Repeat(repeat), 60)
    later = [o.key for o in occurrences(rule, NOW, NOW.replace(year=NOW.year + 1))][:6]
    if len(later) < 6:
        return
    await db.execute(
        "INSERT INTO occurrence_overrides (series_id, occurrence_key, status, created_by,"
        " created_at) VALUES (?, ?, 'cancelled', ?, ?)",
        (series_id, later[2], FAC, ts),
    )
    moved_to = int(datetime.fromisoformat(later[5]).replace(hour=20, tzinfo=UTC).timestamp())
    await db.execute(
        "INSERT INTO occurrence_overrides (series_id, occurrence_key, status, new_start,"
        " created_by, created_at) VALUES (?, ?, 'moved', ?, ?, ?)",
        (series_id, later[5], moved_to + 86400, FAC, ts),
    )


def clear_caches() -> None:
    """Forget the serialized zones and series, as after a restart (where the build keeps any)."""
    from familybot.services.sessions import calendar, calendar_zones

    calendar._series_block.cache_clear()
    calendar_zones.zone_definition.cache_clear()


def one_series() -> list[CalendarSeries]:
    rule = SeriesRule("America/New_York", datetime(2025, 1, 7, 18), Repeat.WEEKLY, 60)
    return [CalendarSeries(1, "Evening circle", "Parents", rule)]


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    await fn()  # warm-up: imports, first connection, caches as the bot has after its first use
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def row(name: str, values: list[float]) -> str:
    return (
        f"| {name:<44} | {len(values):>4} | {statistics.median(values):>8.2f} "
        f"| {pct(values, 0.99):>8.2f} |"
    )


async def feed_figures(services: Services, runs: int) -> list[tuple[str, list[float]]]:
    """The feed over real HTTP, and an empty aiohttp handler; [] where there is no feed yet."""
    try:
        from familybot.feed_server import FeedServer
    except ImportError:
        return []
    import aiohttp
    from aiohttp import web

    link = await services.calendar_feed.my_calendar(GUILD, MEMBER, new_link=True, titles=None)
    assert link.token is not None
    # Rate limits out of the way: the bench measures the work of answering, not the limits.
    server = FeedServer(
        services.calendar_feed,
        "127.0.0.1",
        0,
        per_minute=100_000,
        burst=100_000,
        all_per_minute=100_000,
        all_burst=100_000,
    )
    await server.start()

    async def empty(_request: web.Request) -> web.Response:
        return web.Response(text="")

    app = web.Application()
    app.router.add_get("/", empty)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    empty_port = cast(Any, site)._server.sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{server.port}/calendar/{link.token}.ics"
    try:
        async with aiohttp.ClientSession() as http:
            etag = ""

            async def get() -> None:
                nonlocal etag
                async with http.get(url) as r:
                    assert r.status == 200, r.status
                    await r.read()
                    etag = r.headers["ETag"]

            async def get_304() -> None:
                async with http.get(url, headers={"If-None-Match": etag}) as r:
                    assert r.status == 304, r.status

            async def get_empty() -> None:
                async with http.get(f"http://127.0.0.1:{empty_port}/") as r:
                    await r.read()

            return [
                ("feed GET (100 groups, full body)", await timed(get, runs)),
                ("feed GET, If-None-Match (304)", await timed(get_304, runs)),
                ("baseline: empty aiohttp handler GET", await timed(get_empty, runs)),
            ]
    finally:
        await server.stop()
        await runner.cleanup()


async def main(runs: int, profile: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        await migrate(db)
        # A fixed install id (it is random per database), so the digest compares across runs.
        await db.execute("UPDATE install_identity SET install_id = 'bench'")
        n_series = await build_data(db)
        services = build_services(
            db,
            cast(AllPorts, object()),
            FixedClock(),
            "UTC",
            feed_base_url="https://calendar.example.org",
        )
        try:
            figures, first, count = await measure(services, runs, profile)
        finally:
            await db.close()
    print(
        f"Calendar benchmark: 1 member, 100 groups, {n_series} series ({count} in the file), "
        f"{len(ZONES)} zones, {len(first):,} bytes, sha256 {hashlib.sha256(first).hexdigest()[:16]}"
    )
    print()
    print(f"| {'figure':<44} | runs | {'p50 ms':>8} | {'p99 ms':>8} |")
    print(f"|{'-' * 46}|-----:|{'-' * 9}:|{'-' * 9}:|")
    for name, values in figures:
        print(row(name, values))


async def measure(
    services: Services, runs: int, profile: str | None
) -> tuple[list[tuple[str, list[float]]], bytes, int]:
    async def file() -> None:
        await services.sessions.calendar_for(GUILD, MEMBER)

    async def file_cold() -> None:
        clear_caches()
        await services.sessions.calendar_for(GUILD, MEMBER)

    async def bare() -> None:
        build_ics(one_series(), calendar_name="c", now=NOW, install_id="bench")

    first, count = await services.sessions.calendar_for(GUILD, MEMBER)
    second, _ = await services.sessions.calendar_for(GUILD, MEMBER)
    assert first == second, "two builds of the same input differ"
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            await file()
        prof.disable()
        prof.dump_stats(profile)
    figures = [
        ("file: calendar_for, 100 groups (service)", await timed(file, runs)),
        ("file, cold: caches emptied first", await timed(file_cold, max(5, runs // 4))),
        ("baseline: bare build_ics, one series", await timed(bare, runs)),
    ]
    figures += await feed_figures(services, runs)
    return figures, first, count


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profile", help="write a cProfile of five file builds here")
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.profile))
