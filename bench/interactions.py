"""Interaction benchmark: service time of every member and facilitator command over the fake
Discord, on SQLite, PostgreSQL or both side by side.

    .venv/bin/python bench/interactions.py                       # SQLite, default sizes
    .venv/bin/python bench/interactions.py --backend both        # SQLite and PostgreSQL
    .venv/bin/python bench/interactions.py --no-surface --groups 50,1000 --resources 10000 \
        --sessions 10000 --runs 20

Drives the real FamilyBot (real setup_hook, cogs, services, database) against the fake Discord
in tests/support, exactly as the e2e tests do. Each size gets a fresh database (SQLite file, or
a new PostgreSQL database on FAMILYBOT_BENCH_POSTGRES_URL's server, default the tests' local
one, dropped afterwards), filled with SQL before the bot starts (not timed; PostgreSQL is then
VACUUM ANALYZEd, as autovacuum would), and a fresh bot. Service time is from the moment the
interaction is handed to the bot (INTERACTION_CREATE) to the first response the fake receives;
for commands that defer, the time to the finished answer is printed too ("done"). Every
command is interleaved, run by run, with a baseline in the same bot and loop: `/crisis`,
which touches no database, so each row can be read against the machine's load at that moment.

* --surface (default on): every command in SURFACE (PRODUCT.md's member and facilitator
  commands; NOT_TIMED lists the few left out and why) in one world of 50 groups and 1,000
  resources;
* --groups: open groups in one server (each with one weekly series and 3 members);
* --resources: approved resources in one server's library, searched for a hit, a typo
  (fuzzy fallback) and a word that matches nothing;
* --sessions: session series in the database (20 per group, over 8 servers, 4 channel
  reminder ledger rows each, 8 members a group with DM reminders for one in eight); the heavy
  users are members of 10 groups with a year of RSVPs, attendance and DM reminders each
  (`/my schedule`, `/session list`, `/my calendar`, `/my data`, `/my forget` with a fresh
  heavy user per run, and the daily retention sweep with the longest loop stall during it:
  timed with its pace between Discord look-ups at 0, the number of look-ups printed beside).
The growth table gives each command's p99 at every size beside the smallest's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

# Run as a script, this file's folder would come first on sys.path and bench/calendar.py would
# shadow the standard library's `calendar`: put the repository there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
REPO_ROOT = _HERE.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import StallWatch, percentile  # noqa: E402
from familybot.db.connection import Database  # noqa: E402
from familybot.db.migrate import migrate  # noqa: E402
from familybot.services.privacy.retention import (  # noqa: E402
    MEMBER_CHECK_LIMIT,
    MEMBER_CHECK_PACE,
)
from tests.e2e.harness import World, custom_ids, eventually, text_of  # noqa: E402
from tests.support.backends import DEFAULT_ADMIN_URL  # noqa: E402
from tests.support.fake_discord import FakeDiscord  # noqa: E402

NOW = int(time.time())
WEEK = 7 * 86400
ZONES = ("America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata")
WORDS = [
    *("grief", "support", "parents", "caring", "anxiety", "sleep", "respite", "carers"),
    *("teenagers", "autism", "dementia", "school", "money", "housing", "benefits"),
    *("counselling", "helpline", "bereavement", "siblings", "coping"),
]


@dataclass
class Figures:
    # (backend, size, command, values, /crisis baseline of the same runs), in seconds
    rows: list[tuple[str, str, str, list[float], list[float]]] = field(default_factory=list)
    growth: list[tuple[str, str]] = field(default_factory=list)  # (size, command) grown
    notes: list[str] = field(default_factory=list)  # printed under the tables

    def add(self, size: str, name: str, values: list[float], base: list[float]) -> None:
        self.rows.append((BACKEND, size, name, values, base))


def ms(values: list[float], p: float) -> float:
    return percentile(values, p) * 1000 if values else float("nan")


# --- data (plain SQL, not timed) ------------------------------------------------------------


async def add_groups(
    con: Database, guild: int, n: int, first_user: int, members: int = 3
) -> list[int]:
    """n open groups, each with one weekly series and `members` members; returns group ids."""
    ids = []
    for g in range(n):
        cur = await con.execute(
            "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode,"
            " guidelines, role_id, channel_id, created_by, created_at, capacity) "
            "VALUES (?, ?, ?, 'A place to talk.', ?, ?, 'Be kind.', NULL, ?, 1, ?, ?)",
            (
                guild,
                f"Circle {g:04d}",
                f"circle {g:04d}",
                f"{WORDS[g % len(WORDS)]} and {WORDS[(g * 7) % len(WORDS)]}",
                "approval" if g % 5 == 0 else "open",
                5_000_000 + g,
                NOW,
                12 if g % 3 else None,
            ),
        )
        gid = int(cur.lastrowid or 0)
        ids.append(gid)
        await con.executemany(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
            [(gid, first_user + g * members + m, NOW, NOW, NOW) for m in range(members)],
        )
        await con.execute(
            "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
            " duration_minutes, created_by, created_at, planned_until)"
            " VALUES (?, ?, 'Weekly circle', ?, ?, 'weekly', 60, 1, ?, ?)",
            (gid, guild, ZONES[g % len(ZONES)], f"2025-0{1 + g % 9}-1{g % 9}T19:00", NOW, NOW),
        )
    return ids


async def add_resources(con: Database, guild: int, n: int) -> None:
    rows = []
    for i in range(n):
        a, b, c = WORDS[i % 20], WORDS[(i * 3 + 1) % 20], WORDS[(i * 7 + 2) % 20]
        rows.append(
            (
                guild,
                f"{a.title()} {b} guide {i}",
                f"https://example.org/r/{i}",
                a.title(),
                a,
                f"Help with {b} and {c}, item{i} reference{i % 997}",
                NOW,
                NOW,
            )
        )
    # In pieces: PostgreSQL's pool bounds each statement (main's COMMAND_TIMEOUT_S, 30 s), and
    # 100k rows in one took 34-75 s on the shared machine (its triggers rank every word).
    for start in range(0, len(rows), 5000):
        await con.executemany(
            "INSERT INTO resources (guild_id, title, url, category, category_key, description,"
            " status, suggested_by, suggested_at, vetted_by, vetted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'approved', 2, ?, 3, ?)",
            rows[start : start + 5000],
        )


async def add_sessions(con: Database, n_series: int, heavy: list[int], guild: int) -> None:
    """n_series series in 8 servers (20 per group), 4 channel ledger rows each; heavy users
    (in `guild`) get 10 groups each with a year of RSVPs, attendance and DM reminders."""
    groups = max(1, n_series // 20)
    user = 7_000_000_000
    for g in range(groups):
        gguild = guild if g % 8 == 0 else 600_000 + g % 8
        cur = await con.execute(
            "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode,"
            " guidelines, channel_id, created_by, created_at) "
            "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', ?, 1, ?)",
            (gguild, f"Big {g}", f"big {g}", 8_000_000 + g, NOW),
        )
        gid = int(cur.lastrowid or 0)
        await con.executemany(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
            [(gid, user + g * 8 + m, NOW, NOW, NOW) for m in range(8)],
        )
        for s in range(20):
            cur = await con.execute(
                "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
                " duration_minutes, created_by, created_at, planned_until)"
                " VALUES (?, ?, 'Session', ?, ?, 'weekly', 60, ?, ?, ?)",
                (
                    gid,
                    gguild,
                    ZONES[s % 4],
                    f"2025-01-0{1 + s % 7}T{7 + s % 14:02d}:00",
                    2,
                    NOW,
                    NOW,
                ),
            )
            sid = int(cur.lastrowid or 0)
            rows = [
                (sid, f"2026-0{1 + k}-01", NOW - k * WEEK, 60, "channel", NOW - k * WEEK - 3600)
                for k in range(4)
            ]
            if s % 8 == 0:
                rows.append((sid, "2026-01-01", NOW, 1440, f"dm:{user + g * 8}", NOW - 86400))
            await con.executemany(
                "INSERT INTO reminder_ledger (series_id, occurrence_key, occurrence_start,"
                " offset_minutes, target, due_at, state) VALUES (?, ?, ?, ?, ?, ?, 'sent')",
                rows,
            )
    for h in heavy:
        for g in range(10):
            cur = await con.execute(
                "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode,"
                " guidelines, channel_id, created_by, created_at) "
                "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', ?, ?, ?)",
                (guild, f"Home {h}-{g}", f"home {h}-{g}", 9_000_000 + g, h, NOW),
            )
            gid = int(cur.lastrowid or 0)
            await con.execute(
                "INSERT INTO memberships (group_id, user_id, status, consent_version,"
                " consented_at, requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
                (gid, h, NOW, NOW, NOW),
            )
            cur = await con.execute(
                "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
                " duration_minutes, created_by, created_at, planned_until)"
                " VALUES (?, ?, 'Evening', 'Europe/London', '2025-01-06T19:00', 'weekly', 60,"
                " ?, ?, ?)",
                (gid, guild, h, NOW, NOW),
            )
            sid = int(cur.lastrowid or 0)
            keys = [(f"2025-{1 + k // 5:02d}-{1 + k % 5 * 6:02d}", k) for k in range(52)]
            await con.executemany(
                "INSERT INTO rsvps (series_id, occurrence_key, user_id, response, updated_at)"
                " VALUES (?, ?, ?, 'going', ?)",
                [(sid, key, h, NOW - k * WEEK) for key, k in keys],
            )
            await con.executemany(
                "INSERT INTO attendance (series_id, occurrence_key, user_id, marked_by, marked_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(sid, key, h, h, NOW - k * WEEK) for key, k in keys],
            )
            await con.executemany(
                "INSERT INTO reminder_ledger (series_id, occurrence_key, occurrence_start,"
                " offset_minutes, target, due_at, state) VALUES (?, ?, ?, 60, ?, ?, 'sent')",
                [(sid, key, NOW - k * WEEK, f"dm:{h}", NOW - k * WEEK - 3600) for key, k in keys],
            )


# --- timing -----------------------------------------------------------------------------------

BACKEND = "sqlite"  # the backend the current world runs on (set by main, per pass)
PG_ADMIN_URL = os.environ.get("FAMILYBOT_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)


class Bench:
    def __init__(self, world: World, runs: int) -> None:
        self.world = world
        self.fake: FakeDiscord = world.fake
        self.runs = runs

    async def slash(self, user: int, *names: str, **options: Any) -> tuple[float, Any]:
        w = self.world
        t0 = time.perf_counter()
        h = await self.fake.slash(w.guild_id, user, *names, options=options or None)
        await h.wait_response(timeout=60)
        return time.perf_counter() - t0, h

    async def crisis(self) -> float:
        return (await self.slash(self.world.alice, "crisis"))[0]

    async def pair(self, fn: Callable[[int], Awaitable[float]]) -> tuple[list[float], list[float]]:
        """fn(run) and the /crisis baseline, interleaved; one warm-up of each first.

        This process also holds the fake Discord, which keeps every interaction it served
        (its handles, each with its locks and queues, and a log of every request): 13k
        objects after three commands' runs, which a bot's own process never has. Each
        block of runs begins with them out of the collector's full passes (gc.freeze, as
        the bot does with its start-up), so a full collection during a run walks what the
        bot and this block made, not the harness's history (the one-off 15-80 ms p99s of
        /my data before this). Not timed."""
        gc.collect()
        gc.freeze()
        await fn(-1)
        await self.crisis()
        vals, base = [], []
        for i in range(self.runs):
            vals.append(await fn(i))
            base.append(await self.crisis())
        return vals, base


@contextlib.asynccontextmanager
async def database(tmp: Path) -> AsyncIterator[tuple[Database, dict[str, str]]]:
    """A fresh, migrated database on BACKEND; yields it and the bot's settings for it."""
    if BACKEND == "sqlite":
        db = await Database.open(tmp / "familybot.db")
        try:
            await migrate(db)
            yield db, {}
        finally:
            await db.close()
        return
    import asyncpg

    name = f"fbbench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(PG_ADMIN_URL)
    url = urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))
    try:
        db = await Database.connect(url)
        try:
            await migrate(db)
            yield db, {"DATABASE_URL": url}
        finally:
            await db.close()
    finally:
        admin = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def vacuum(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def run_world(
    tmp: Path,
    fill: Callable[[Database, World], Awaitable[None]],
    body: Callable[[Bench], Any],
    prepare: Callable[[World], None] | None = None,
) -> Any:
    fake = FakeDiscord()
    await fake.start()
    world = World(fake=fake, tmp=tmp)
    try:
        world.populate()
        if prepare is not None:
            prepare(world)
        async with database(tmp) as (db, env):
            t0 = time.perf_counter()
            async with db.transaction():
                await fill(db, world)
            if env:  # PostgreSQL: as autovacuum would after a bulk load
                await vacuum(env["DATABASE_URL"])
            print(f"  data built in {time.perf_counter() - t0:.1f} s ({BACKEND})", file=sys.stderr)
            try:
                await world.start_bot(**env)
                await world.configure()
                # The bot's warm-up once ready (safety phrases, Babel's dates)
                # runs in workers: over before timing, so it weighs on no command's runs.
                assert world.bot is not None
                await world.bot.warm_up.wait()
                return await body(Bench(world, RUNS))
            finally:
                await world.crash()
    finally:
        await fake.stop()


RUNS = 20
# --only: the commands whose labels start so ("": all), in the surface and the sessions runs
# (there: /my schedule, /session list, /my calendar, /my data, /my forget, retention sweep).
ONLY: tuple[str, ...] = ()


def chosen(label: str) -> bool:
    return not ONLY or label.startswith(ONLY)


SWEEP_TIMEOUT_S = 120


async def bench_groups(n: int, figs: Figures) -> None:
    async def body(b: Bench) -> None:
        async def one(_i: int) -> float:
            t, h = await b.slash(b.world.bob, "group", "list")
            assert h.ephemeral, h.callback
            return t

        figs.add(f"{n:,} groups", "/group list", *await b.pair(one))

    with tempfile.TemporaryDirectory() as tmp:
        await run_world(Path(tmp), lambda db, w: add_groups(db, w.guild_id, n, 10**12), body)


async def bench_resources(n: int, figs: Figures) -> None:
    async def body(b: Bench) -> None:
        # Rows written by plain SQL are queued for the trigram index (migration 0018): index
        # their words before timing, as the bot does on its first typo search (not timed).
        assert b.world.bot is not None
        t0 = time.perf_counter()
        await b.world.bot.services.resources._repo.index_new_terms()
        print(f"  trigram index built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for label, query in (
            ("hit", "bereavement siblings"),
            ("typo, same stem", "bereavment"),
            ("typo, fuzzy", "dimentia"),
            ("no match", "xylophone"),
        ):

            async def one(_i: int, query: str = query, hit: bool = label != "no match") -> float:
                t, h = await b.slash(b.world.bob, "resource", "search", query=query)
                assert ("Nothing in the library" not in str(h.data)) == hit, (query, h.data)
                return t

            figs.add(f"{n:,} resources", f"/resource search ({label})", *await b.pair(one))

    with tempfile.TemporaryDirectory() as tmp:
        await run_world(Path(tmp), lambda db, w: add_resources(db, w.guild_id, n), body)


async def bench_sessions(n: int, figs: Figures) -> None:
    heavy: list[int] = []

    def prepare(w: World) -> None:
        for i in range(RUNS + 2):
            heavy.append(w.fake.add_member(w.guild_id, name=f"heavy{i}"))

    async def fill(db: Database, w: World) -> None:
        await add_sessions(db, n, heavy, w.guild_id)

    async def body(b: Bench) -> None:
        size = f"{n:,} sessions"
        user = heavy[-1]

        async def schedule(_i: int) -> float:
            return (await b.slash(user, "my", "schedule"))[0]

        async def session_list(_i: int) -> float:
            return (await b.slash(user, "session", "list"))[0]

        done: list[float] = []

        async def data(_i: int) -> float:
            t0 = time.perf_counter()
            t, h = await b.slash(user, "my", "data")
            await h.wait_for("followup", timeout=60)
            done.append(time.perf_counter() - t0)
            return t

        async def calendar(_i: int) -> float:
            t, h = await b.slash(user, "my", "calendar")
            assert "Something went wrong" not in str(h.data), h.data
            return t

        print("  /my schedule, /session list, /my calendar", file=sys.stderr)
        if chosen("/my schedule"):
            figs.add(size, "/my schedule", *await b.pair(schedule))
        if chosen("/session list"):
            figs.add(size, "/session list", *await b.pair(session_list))
        if chosen("/my calendar"):
            figs.add(size, "/my calendar (.ics)", *await b.pair(calendar))
        if chosen("/my data"):
            vals, base = await b.pair(data)
            figs.add(size, "/my data (deferral)", vals, base)
            figs.add(size, "/my data (file sent)", done[1:], base)

        forget_done: list[float] = []

        async def forget(i: int) -> float:
            who = heavy[i + 1]
            _t, h = await b.slash(who, "my", "forget")
            await eventually(lambda: h.original_message is not None)  # the view's message
            confirm = custom_ids(h.callback)[0]
            message_id = int(h.original_message["id"])
            t0 = time.perf_counter()
            click = await b.fake.click(b.world.guild_id, who, confirm, message_id=message_id)
            await click.wait_response(timeout=60)
            t = time.perf_counter() - t0
            await click.wait_for("edit", timeout=60)
            forget_done.append(time.perf_counter() - t0)
            return t

        if chosen("/my forget"):
            print("  /my forget", file=sys.stderr)
            vals, base = await b.pair(forget)
            figs.add(size, "/my forget confirm (deferral)", vals, base)
            figs.add(size, "/my forget confirm (done)", forget_done[1:], base)
        if not chosen("retention sweep"):
            return

        # The daily retention sweep (a timed job, not a command). Its wall time in production
        # is set by its deliberate pace (MEMBER_CHECK_PACE between Discord look-ups, at most
        # MEMBER_CHECK_LIMIT a server), not by our work: timed here with the pace at 0, so what
        # is measured is the database, the CPU and the fake's REST round trips; how many
        # checks the day's sweep makes, and what they cost at the pace, is printed beside it.
        # Everyone with data in this server is made a member of the fake first, so each of
        # the three sweeps does the same day's work (everyone re-checked, all still here).
        assert b.world.bot is not None
        retention = b.world.bot.services.retention
        for user_id in await retention._repo.users_to_check(b.world.guild_id, 10**9):
            if user_id not in b.fake.guild(b.world.guild_id).members:
                b.fake.add_member(b.world.guild_id, user_id)
        retention._pace = 0.0
        sweeps: list[float] = []
        stalls: list[float] = []
        checked: list[int] = []

        async def sweep() -> float:
            watch = StallWatch()
            watch.start()
            t0 = time.perf_counter()
            try:
                report = await asyncio.wait_for(retention.run(), SWEEP_TIMEOUT_S)
            finally:
                await watch.stop()
            stalls.append(watch.max_stall)
            checked.append(report.checked)
            return time.perf_counter() - t0

        print("  retention sweep", file=sys.stderr)
        base: list[float] = []
        for _ in range(3):  # a daily job: three runs, each beside /crisis
            try:
                sweeps.append(await sweep())
            except TimeoutError:
                print(f"  retention sweep over {SWEEP_TIMEOUT_S} s: stopped", file=sys.stderr)
                figs.add(size, f"retention sweep: over {SWEEP_TIMEOUT_S} s (stopped)", [], [])
                break
            base.append(await b.crisis())
        if sweeps:
            figs.add(size, "retention sweep, pace 0 (daily job)", sweeps, base)
            figs.add(size, "retention sweep: longest loop stall", stalls[: len(sweeps)], base)
            figs.notes.append(
                f"[{BACKEND}] {size}: the daily retention sweep makes {max(checked):,}"
                f" membership checks (at most {MEMBER_CHECK_LIMIT:,} a server); at the"
                f" {MEMBER_CHECK_PACE} s pace they take {max(checked) * MEMBER_CHECK_PACE:.0f} s"
                " of deliberate waiting, on top of the pace-0 time above"
            )

    with tempfile.TemporaryDirectory() as tmp:
        await run_world(Path(tmp), fill, body, prepare)


# --- the command surface ---------------------------------------------------------------------

# Every command a member or facilitator uses (PRODUCT.md's command surface), each timed
# beside /crisis in one world of modest size (the growth runs above cover the sizes).
# (label, who, names, options): who is "member" (alice, in Circle 0000), "facilitator" (of
# Circle 0000) or "other" (bob, in no group). {i} in an option is the run number (run -1 is
# the warm-up), so commands that create something make a new one each run.
SURFACE: list[tuple[str, str, tuple[str, ...], dict[str, Any]]] = [
    ("/help", "member", ("help",), {}),
    ("/about", "member", ("about",), {}),
    ("/group list", "other", ("group", "list"), {}),
    ("/group info", "other", ("group", "info"), {"name": "Circle 0001"}),
    ("/group join (consent shown)", "other", ("group", "join"), {"name": "Circle 0001"}),
    ("/group leave (not a member)", "other", ("group", "leave"), {"name": "Circle 0002"}),
    ("/group members", "facilitator", ("group", "members"), {"name": "Circle 0000"}),
    ("/group stats", "facilitator", ("group", "stats"), {"name": "Circle 0000"}),
    ("/group edit", "facilitator", ("group", "edit"), {"name": "Circle 0000", "focus": "f{i}"}),
    (
        "/group create",
        "facilitator",
        ("group", "create"),
        {"name": "New {i}", "description": "A new circle", "focus": "care", "join-mode": "open"},
    ),
    ("/session list", "member", ("session", "list"), {}),
    (
        "/session schedule",
        "facilitator",
        ("session", "schedule"),
        {
            "group": "Circle 0000",
            "title": "Extra {i}",
            "date": "{soon}",
            "time": "18:00",
            "repeat": "once",
            "duration": 60,
        },
    ),
    ("/session rsvps", "facilitator", ("session", "rsvps"), {"session": "{series}"}),
    (
        "/session cancel (one date)",
        "facilitator",
        ("session", "cancel"),
        {"session": "{series}", "date": "{date}"},
    ),
    (
        "/session attendance",
        "facilitator",
        ("session", "attendance"),
        {"session": "{series}", "date": "{past}"},
    ),
    (
        "/session edit",
        "facilitator",
        ("session", "edit"),
        {"session": "{series}", "title": "Weekly circle {i}"},
    ),
    ("/my schedule", "member", ("my", "schedule"), {}),
    ("/my timezone", "member", ("my", "timezone"), {"tz": "Europe/Dublin"}),
    ("/my reminders", "member", ("my", "reminders"), {"dm": "on", "offsets": "1h"}),
    ("/my calendar (.ics)", "member", ("my", "calendar"), {}),
    ("/my language", "member", ("my", "language"), {"choice": "en"}),
    ("/my data", "member", ("my", "data"), {}),
    ("/resource search", "member", ("resource", "search"), {"query": "sleep"}),
    ("/resource list", "member", ("resource", "list"), {}),
    (
        "/resource suggest",
        "member",
        ("resource", "suggest"),
        {
            "title": "Tip {i}",
            "url": "https://example.org/tip/{i}",
            "category": "Tips",
            "description": "A tip",
        },
    ),
    ("/resource share", "member", ("resource", "share"), {"resource": "1"}),
    ("/resource review", "facilitator", ("resource", "review"), {}),
    (
        "/resource add",
        "facilitator",
        ("resource", "add"),
        {
            "title": "Added {i}",
            "url": "https://example.org/add/{i}",
            "category": "Tips",
            "description": "Vetted",
        },
    ),
    ("/resource reviewed", "facilitator", ("resource", "reviewed"), {"resource": "2"}),
    (
        "/resource retire",
        "facilitator",
        ("resource", "retire"),
        {"resource": "{retire}", "reason": "Out of date"},
    ),
    ("/faq ask", "member", ("faq", "ask"), {"topic": "Is it free?"}),
    ("/faq add", "facilitator", ("faq", "add"), {"question": "Question {i}?", "answer": "Yes."}),
    ("/faq remove", "facilitator", ("faq", "remove"), {"topic": "Question {i}?"}),
    ("/ask", "member", ("ask",), {"message": "Could someone call me back?"}),
    ("/mod warn", "facilitator", ("mod", "warn"), {"member": "{bob}", "reason": "Be kind"}),
    ("/mod note", "facilitator", ("mod", "note"), {"member": "{bob}", "text": "checked in"}),
    ("/mod history", "facilitator", ("mod", "history"), {"member": "{bob}"}),
    ("/mod case", "facilitator", ("mod", "case"), {"number": 1}),
    ("/mod reason", "facilitator", ("mod", "reason"), {"number": 1, "reason": "clearer"}),
    ("/mod timeout", "facilitator", ("mod", "timeout"), {"member": "{bob}", "duration": "1h"}),
    ("/mod untimeout", "facilitator", ("mod", "untimeout"), {"member": "{bob}"}),
    ("/mod slowmode", "facilitator", ("mod", "slowmode"), {"seconds": 5}),
    ("/mod lock", "facilitator", ("mod", "lock"), {}),
    ("/mod unlock", "facilitator", ("mod", "unlock"), {}),
    ("/mod purge", "facilitator", ("mod", "purge"), {"amount": 5}),
]
# Not timed (each needs state a repeated run destroys, or a second member per run): /group
# remove, /group add-facilitator, /group archive, /session reschedule, /mod kick, /mod ban,
# /mod unban, the Report to facilitators menu; /my forget is timed in the sessions runs.
NOT_TIMED = [
    "/group remove",
    "/group add-facilitator",
    "/group archive",
    "/session reschedule",
    "/mod kick",
    "/mod ban",
    "/mod unban",
    "Report to facilitators (menu)",
]
FAILED = ("Something went wrong", "went wrong")
SURFACE_SIZE = "surface (50 groups, 1k res.)"


async def bench_surface(figs: Figures, groups: int = 50, resources: int = 1000) -> None:
    ids: dict[str, int] = {}

    async def fill(db: Database, w: World) -> None:
        gids = await add_groups(db, w.guild_id, groups, 10**12)
        await add_resources(db, w.guild_id, resources)
        first = gids[0]
        await db.execute(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
            (first, w.alice, NOW, NOW, NOW),
        )
        await db.execute(
            "INSERT INTO group_facilitators (group_id, user_id, added_by, added_at)"
            " VALUES (?, ?, ?, ?)",
            (first, w.facilitator, w.admin, NOW),
        )
        await db.execute(
            "INSERT INTO faq (guild_id, question, question_key, answer, created_by, created_at)"
            " VALUES (?, 'Is it free?', 'is it free?', 'Yes.', ?, ?)",
            (w.guild_id, w.facilitator, NOW),
        )
        ids["series"] = int(
            await db.fetchval("SELECT id FROM session_series WHERE group_id = ?", (first,))
        )
        ids["retire"] = 100  # resources 100.. are retired one per run
        ids["group"] = first
        # Circle 0000's channel exists in the fake (an edit renames it).
        await db.execute("UPDATE groups SET channel_id = ? WHERE id = ?", (ids["channel"], first))

    def prepare(w: World) -> None:
        from tests.support.fake_discord.moderation import install
        from tests.support.fake_discord.permissions import (
            BAN_MEMBERS,
            DEFAULT_BOT_PERMISSIONS,
            KICK_MEMBERS,
            MODERATE_MEMBERS,
        )

        install(w.fake)
        ids["channel"] = w.fake.add_text_channel(w.guild_id, "circle-0000")
        g = w.fake.guild(w.guild_id)
        g.roles[g.bot_role_id]["permissions"] = str(
            DEFAULT_BOT_PERMISSIONS | KICK_MEMBERS | BAN_MEMBERS | MODERATE_MEMBERS
        )
        g.roles[g.bot_role_id]["position"] = 3

    async def body(b: Bench) -> None:
        w = b.world
        await w.run(w.admin, "setup", "modlog", channel=w.modlog_channel)
        users = {"member": w.alice, "facilitator": w.facilitator, "other": w.bob}
        # The first weekly date of Circle 0000's series ahead, and one behind (attendance).
        listing = await w.run(w.alice, "session", "list")
        stamps = sorted(int(x) for x in re.findall(r"<t:(\d+):", str(listing.data)))
        assert stamps, listing.data
        zone = ZoneInfo(ZONES[0])  # Circle 0000's: dates are typed in the group's zone
        ahead = datetime.fromtimestamp(stamps[0], zone).strftime("%Y-%m-%d")
        past = datetime.fromtimestamp(stamps[0] - WEEK, zone).strftime("%Y-%m-%d")
        for label, who, names, options in SURFACE:
            if ONLY and not label.startswith(ONLY):
                continue
            bad: list[str] = []
            done: list[float] = []
            shown: list[str] = []

            async def one(
                i: int,
                who: str = who,
                names: tuple[str, ...] = names,
                options: dict[str, Any] = options,
                bad: list[str] = bad,
                done: list[float] = done,
                shown: list[str] = shown,
            ) -> float:
                series = await w.bot.services.db.fetchval(  # type: ignore[union-attr]
                    "SELECT max(id) FROM session_series WHERE group_id = ? AND status = 'active'"
                    " AND title LIKE 'Weekly circle%'",
                    (ids["group"],),
                )
                values = {
                    "i": str(i + 1),
                    "series": str(series),
                    "soon": time.strftime("%Y-%m-%d", time.gmtime(NOW + 30 * 86400)),
                    "bob": str(w.bob),
                    "date": ahead,
                    "past": past,
                    "retire": str(ids["retire"] + i + 1),
                }
                opts = {
                    k: (v.format(**values) if isinstance(v, str) else v) for k, v in options.items()
                }
                if "member" in opts:
                    opts["member"] = int(opts["member"])
                t0 = time.perf_counter()
                t, h = await b.slash(users[who], *names, **opts)
                if h.response_type == 5:  # deferred: the finished answer is a followup
                    await h.wait_for("followup", timeout=60)
                    done.append(time.perf_counter() - t0)
                text = text_of(h.responses[-1]["body"]) if h.responses else str(h.data)
                if any(f in text for f in FAILED):
                    bad.append(text[:200])
                if not shown:
                    shown.append(text)
                return t

            vals, base = await b.pair(one)
            deferred = bool(done)
            figs.add(
                SURFACE_SIZE,
                label + (" (deferral)" if deferred else "") + (" (ERROR)" if bad else ""),
                vals,
                base,
            )
            if deferred:
                figs.add(SURFACE_SIZE, label + " (done)", done[1:], base)
            print(f"  {label}: {' '.join(shown[0].split())[:110]!r}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        await run_world(Path(tmp), fill, body, prepare)


# --- output -------------------------------------------------------------------------------------


def _cells(vals: list[float], base: list[float]) -> str:
    return (
        f"{ms(vals, 50):>6.1f} | {ms(vals, 99):>6.1f} | {ms(base, 50):>5.1f} / {ms(base, 99):>5.1f}"
    )


def print_table(figs: Figures) -> None:
    """One row per (size, command); one column block per backend: p50, p99, /crisis p50/p99."""
    backends = list(dict.fromkeys(r[0] for r in figs.rows))
    by_key: dict[tuple[str, str], dict[str, tuple[list[float], list[float]]]] = {}
    for backend, size, name, vals, base in figs.rows:
        by_key.setdefault((size, name), {})[backend] = (vals, base)
    head = " | ".join(f"{b} p50 | {b} p99 | /crisis p50/p99" for b in backends)
    print(f"| size | command | runs | {head} |")
    print("|---|---|---:|" + "---:|---:|---:|" * len(backends))
    for (size, name), per in by_key.items():
        runs = max(len(v[0]) for v in per.values())  # 0: stopped (see its name)
        cells = " | ".join(
            _cells(*per[b]) if b in per else "  -   |   -    |   -" for b in backends
        )
        print(f"| {size} | {name} | {runs} | {cells} |")


def print_growth(figs: Figures) -> None:
    """p99 per command at each size (1x, 10x, 100x), each beside /crisis p99 of its runs."""
    print()
    print("Growth (p99 ms, /crisis p99 of the same runs in brackets; x = p99 over the smallest)")
    by_cmd: dict[tuple[str, str], list[tuple[str, list[float], list[float]]]] = {}
    for backend, size, name, vals, base in figs.rows:
        if size != SURFACE_SIZE:
            by_cmd.setdefault((backend, name), []).append((size, vals, base))
    for (backend, name), entries in by_cmd.items():
        if len(entries) < 2:
            continue
        first = ms(entries[0][1], 99) or 1e-9
        cells = [
            f"{size}: {ms(v, 99):.1f} ({ms(b, 99):.1f}) {ms(v, 99) / first:.1f}x"
            for size, v, b in entries
        ]
        print(f"- [{backend}] {name}: " + "; ".join(cells))


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


async def main(args: argparse.Namespace) -> None:
    global RUNS, BACKEND, ONLY
    RUNS = args.runs
    ONLY = tuple(o.strip() for o in args.only.split(",") if o.strip())
    figs = Figures()
    started = time.perf_counter()
    load = os.getloadavg()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        BACKEND = backend
        if args.surface:
            print(f"surface ({backend})", file=sys.stderr)
            await bench_surface(figs)
        for n in ints(args.groups):
            print(f"groups {n} ({backend})", file=sys.stderr)
            await bench_groups(n, figs)
        for n in ints(args.resources):
            print(f"resources {n} ({backend})", file=sys.stderr)
            await bench_resources(n, figs)
        for n in ints(args.sessions):
            print(f"sessions {n} ({backend})", file=sys.stderr)
            await bench_sessions(n, figs)
    print(
        f"Interaction benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs"
    )
    print("Baseline: /crisis (no database) interleaved run by run in the same bot.")
    print()
    print_table(figs)
    print_growth(figs)
    if figs.notes:
        print()
        for note in figs.notes:
            print(f"- {note}")
    if args.surface:
        print("\nNot timed: " + ", ".join(NOT_TIMED))
    print(f"\n(benchmark wall time {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--surface", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--groups", default="10,100,1000")
    parser.add_argument("--resources", default="1000,10000,100000")
    parser.add_argument("--sessions", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--only",
        default="",
        help="commands whose labels start so, comma-separated (surface and sessions runs)",
    )
    asyncio.run(main(parser.parse_args()))
