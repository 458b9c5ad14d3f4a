"""Interaction benchmark: service time of member commands over the fake Discord.

    .venv/bin/python bench/interactions.py                       # default sizes (~3-5 min)
    .venv/bin/python bench/interactions.py --groups 50,1000 --resources 10000 \
        --sessions 10000 --runs 20

Drives the real FamilyBot (real setup_hook, cogs, services, SQLite) against the fake Discord in
tests/support, exactly as the e2e tests do. Each size gets a fresh database, filled with plain
SQL before the bot starts (not timed), and a fresh bot. Service time is from the moment the
interaction is handed to the bot (INTERACTION_CREATE) to the first response the fake receives
(the callback); for commands that defer (`/my data`, the `/my forget` confirm button) the time
to the finished answer is printed too. Every command is interleaved, run by run, with a
baseline in the same bot and loop: `/crisis`, which touches no database, so each row can be
read against the machine's load at that moment.

Sizes (comma lists, CLI options):
* --groups: open groups in one server (each with one weekly series and 3 members);
* --resources: approved resources in one server's library (FTS5), searched for a hit, a
  typo (fuzzy fallback) and a word that matches nothing;
* --sessions: session series in the database (20 per group, over 8 servers, 4 channel
  reminder ledger rows each, 8 members a group with DM reminders for one in eight); the heavy
  users are members of 10 groups with a year of RSVPs, attendance and DM reminders each.
  `/my forget` needs a fresh heavy user per run, so there are `runs` of them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a script, this file's folder would come first on sys.path and bench/calendar.py would
# shadow the standard library's `calendar`: put the repository there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
REPO_ROOT = _HERE.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.common import percentile  # noqa: E402
from familybot.db.connection import Database  # noqa: E402
from familybot.db.migrate import migrate  # noqa: E402
from tests.e2e.harness import World, custom_ids, eventually  # noqa: E402
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
    rows: list[tuple[str, str, list[float], list[float]]] = field(default_factory=list)

    def add(self, size: str, name: str, values: list[float], base: list[float]) -> None:
        self.rows.append((size, name, values, base))


def ms(values: list[float], p: float) -> float:
    return percentile(values, p) * 1000


# --- data (plain SQL, not timed) ------------------------------------------------------------


async def migrated(path: Path) -> None:
    db = await Database.open(path)
    try:
        await migrate(db)
    finally:
        await db.close()


def add_groups(
    con: sqlite3.Connection, guild: int, n: int, first_user: int, members: int = 3
) -> list[int]:
    """n open groups, each with one weekly series and `members` members; returns group ids."""
    ids = []
    for g in range(n):
        cur = con.execute(
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
        con.executemany(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
            [(gid, first_user + g * members + m, NOW, NOW, NOW) for m in range(members)],
        )
        con.execute(
            "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
            " duration_minutes, created_by, created_at, planned_until)"
            " VALUES (?, ?, 'Weekly circle', ?, ?, 'weekly', 60, 1, ?, ?)",
            (gid, guild, ZONES[g % len(ZONES)], f"2025-0{1 + g % 9}-1{g % 9}T19:00", NOW, NOW),
        )
    return ids


def add_resources(con: sqlite3.Connection, guild: int, n: int) -> None:
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
    con.executemany(
        "INSERT INTO resources (guild_id, title, url, category, category_key, description,"
        " status, suggested_by, suggested_at, vetted_by, vetted_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 'approved', 2, ?, 3, ?)",
        rows,
    )


def add_sessions(con: sqlite3.Connection, n_series: int, heavy: list[int], guild: int) -> None:
    """n_series series in 8 servers (20 per group), 4 channel ledger rows each; heavy users
    (in `guild`) get 10 groups each with a year of RSVPs, attendance and DM reminders."""
    groups = max(1, n_series // 20)
    user = 7_000_000_000
    for g in range(groups):
        gguild = guild if g % 8 == 0 else 600_000 + g % 8
        cur = con.execute(
            "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode,"
            " guidelines, channel_id, created_by, created_at) "
            "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', ?, 1, ?)",
            (gguild, f"Big {g}", f"big {g}", 8_000_000 + g, NOW),
        )
        gid = int(cur.lastrowid or 0)
        con.executemany(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
            " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
            [(gid, user + g * 8 + m, NOW, NOW, NOW) for m in range(8)],
        )
        for s in range(20):
            cur = con.execute(
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
            con.executemany(
                "INSERT INTO reminder_ledger (series_id, occurrence_key, occurrence_start,"
                " offset_minutes, target, due_at, state) VALUES (?, ?, ?, ?, ?, ?, 'sent')",
                rows,
            )
    for h in heavy:
        for g in range(10):
            cur = con.execute(
                "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode,"
                " guidelines, channel_id, created_by, created_at) "
                "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', ?, ?, ?)",
                (guild, f"Home {h}-{g}", f"home {h}-{g}", 9_000_000 + g, h, NOW),
            )
            gid = int(cur.lastrowid or 0)
            con.execute(
                "INSERT INTO memberships (group_id, user_id, status, consent_version,"
                " consented_at, requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
                (gid, h, NOW, NOW, NOW),
            )
            cur = con.execute(
                "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
                " duration_minutes, created_by, created_at, planned_until)"
                " VALUES (?, ?, 'Evening', 'Europe/London', '2025-01-06T19:00', 'weekly', 60,"
                " ?, ?, ?)",
                (gid, guild, h, NOW, NOW),
            )
            sid = int(cur.lastrowid or 0)
            keys = [(f"2025-{1 + k // 5:02d}-{1 + k % 5 * 6:02d}", k) for k in range(52)]
            con.executemany(
                "INSERT INTO rsvps (series_id, occurrence_key, user_id, response, updated_at)"
                " VALUES (?, ?, ?, 'going', ?)",
                [(sid, key, h, NOW - k * WEEK) for key, k in keys],
            )
            con.executemany(
                "INSERT INTO attendance (series_id, occurrence_key, user_id, marked_by, marked_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(sid, key, h, h, NOW - k * WEEK) for key, k in keys],
            )
            con.executemany(
                "INSERT INTO reminder_ledger (series_id, occurrence_key, occurrence_start,"
                " offset_minutes, target, due_at, state) VALUES (?, ?, ?, 60, ?, ?, 'sent')",
                [(sid, key, NOW - k * WEEK, f"dm:{h}", NOW - k * WEEK - 3600) for key, k in keys],
            )


# --- timing -----------------------------------------------------------------------------------


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
        """fn(run) and the /crisis baseline, interleaved; one warm-up of each first."""
        await fn(-1)
        await self.crisis()
        vals, base = [], []
        for i in range(self.runs):
            vals.append(await fn(i))
            base.append(await self.crisis())
        return vals, base


async def run_world(
    tmp: Path, fill: Callable[[sqlite3.Connection, World], None], body: Callable[[Bench], Any]
) -> Any:
    fake = FakeDiscord()
    await fake.start()
    world = World(fake=fake, tmp=tmp)
    try:
        world.populate()
        await migrated(world.db_path)
        con = sqlite3.connect(world.db_path)
        t0 = time.perf_counter()
        with con:
            fill(con, world)
        con.close()
        print(f"  data built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        await world.start_bot()
        await world.configure()
        return await body(Bench(world, RUNS))
    finally:
        await world.crash()
        await fake.stop()


RUNS = 20


async def bench_groups(n: int, figs: Figures) -> None:
    async def body(b: Bench) -> None:
        async def one(_i: int) -> float:
            t, h = await b.slash(b.world.bob, "group", "list")
            assert h.ephemeral, h.callback
            return t

        figs.add(f"{n:,} groups", "/group list", *await b.pair(one))

    with tempfile.TemporaryDirectory() as tmp:
        await run_world(Path(tmp), lambda con, w: add_groups(con, w.guild_id, n, 10**12), body)


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
        await run_world(Path(tmp), lambda con, w: add_resources(con, w.guild_id, n), body)


async def bench_sessions(n: int, figs: Figures) -> None:
    heavy: list[int] = []

    def fill(con: sqlite3.Connection, w: World) -> None:
        for i in range(RUNS + 2):
            heavy.append(w.fake.add_member(w.guild_id, name=f"heavy{i}"))
        add_sessions(con, n, heavy, w.guild_id)

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

        figs.add(size, "/my schedule", *await b.pair(schedule))
        figs.add(size, "/session list", *await b.pair(session_list))
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

        vals, base = await b.pair(forget)
        figs.add(size, "/my forget confirm (deferral)", vals, base)
        figs.add(size, "/my forget confirm (done)", forget_done[1:], base)

    with tempfile.TemporaryDirectory() as tmp:
        await run_world(Path(tmp), fill, body)


def print_table(figs: Figures) -> None:
    print(
        f"| {'size':<17} | {'command':<32} | runs | p50 ms | p99 ms | baseline p50 | baseline p99 |"
    )
    print(f"|{'-' * 19}|{'-' * 34}|-----:|-------:|-------:|-------------:|-------------:|")
    for size, name, vals, base in figs.rows:
        print(
            f"| {size:<17} | {name:<32} | {len(vals):>4} | {ms(vals, 50):>6.1f} | "
            f"{ms(vals, 99):>6.1f} | {ms(base, 50):>12.1f} | {ms(base, 99):>12.1f} |"
        )


def print_growth(figs: Figures) -> None:
    print()
    print("Growth (p50 ms; baseline /crisis p50 in brackets)")
    by_cmd: dict[str, list[tuple[str, list[float], list[float]]]] = {}
    for size, name, vals, base in figs.rows:
        by_cmd.setdefault(name, []).append((size, vals, base))
    for name, entries in by_cmd.items():
        if len(entries) < 2:
            continue
        first = ms(entries[0][1], 50)
        cells = [
            f"{size}: {ms(v, 50):.1f} ({ms(b, 50):.1f}) = {ms(v, 50) / first:.1f}x"
            for size, v, b in entries
        ]
        print(f"- {name}: " + "; ".join(cells))


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


async def main(args: argparse.Namespace) -> None:
    global RUNS
    RUNS = args.runs
    figs = Figures()
    started = time.perf_counter()
    load = os.getloadavg()
    for n in ints(args.groups):
        print(f"groups {n}", file=sys.stderr)
        await bench_groups(n, figs)
    for n in ints(args.resources):
        print(f"resources {n}", file=sys.stderr)
        await bench_resources(n, figs)
    for n in ints(args.sessions):
        print(f"sessions {n}", file=sys.stderr)
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
    print(f"\n(benchmark wall time {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", default="10,50,100,1000")
    parser.add_argument("--resources", default="1000,10000,100000")
    parser.add_argument("--sessions", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
