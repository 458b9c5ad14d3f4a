"""The reminder core on SQLite and PostgreSQL side by side (issue 16).

    .venv/bin/python bench/backends.py                     # bursts of 1,000 and 10,000
    .venv/bin/python bench/backends.py --bursts 2000 --backend postgres

bench/reminders.py measures the whole reminder machinery (start-up, pacing, a child process per
size) on SQLite files; this runs its database-bound core in-process on each backend, through
the real services (wiring.build_services) with a recording port in place of Discord and a
controlled clock: N groups each with a weekly series whose reminder falls due at one instant,
then
* the planner's pass that writes their N ledger rows (Planner.plan), and
* the dispatch of all N at that instant (Dispatcher.dispatch: load, check, mark as sending,
  hand to the port, record as sent),
each timed, with every reminder checked sent exactly once (the port's calls and the ledger).
The database is a fresh one per backend and size (PostgreSQL: a new database on
FAMILYBOT_BENCH_POSTGRES_URL's server, default the tests' local one, dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
if str(_HERE.parent) not in sys.path:
    sys.path.insert(0, str(_HERE.parent))

import bench.interactions as interactions  # noqa: E402
from bench.common import utc  # noqa: E402
from familybot.db.connection import Database  # noqa: E402
from familybot.wiring import build_services  # noqa: E402
from tests.support.fakes import FakeClock, RecordingPort  # noqa: E402

GUILD = 900_000_000_000_000_000
CHANNEL = 910_000_000_000_000_000
OFFSET_MINUTES = 60


async def plant(db: Database, n: int, now: int, due: int) -> None:
    """n groups (channel reminders 60 min ahead) with one weekly series each, due at `due`,
    as the planner leaves a series not yet in its horizon."""
    start = utc(due + OFFSET_MINUTES * 60).replace(tzinfo=None).isoformat()
    async with db.transaction():
        await db.executemany(
            "INSERT INTO groups (id, guild_id, name, name_key, description, focus, join_mode, "
            "guidelines, channel_id, created_by, created_at, reminder_offsets) "
            "VALUES (?, ?, ?, ?, 'planted', 'planted', 'open', 'Be kind.', ?, 1, ?, ?)",
            [
                (g, GUILD + g // 50, f"Group {g}", f"group {g}", CHANNEL + g, now, "60")
                for g in range(1, n + 1)
            ],
        )
        await db.executemany(
            "INSERT INTO session_series (id, group_id, guild_id, title, tz, first_local, "
            "repeat, duration_minutes, created_by, created_at, planned_until, next_due) "
            "VALUES (?, ?, ?, 'Planted session', 'UTC', ?, 'weekly', 60, 1, ?, ?, ?)",
            [(g, g, GUILD + g // 50, start, now, now, due) for g in range(1, n + 1)],
        )


async def one(backend: str, n: int) -> dict[str, float]:
    interactions.BACKEND = backend
    now = int(time.time())
    due = now + 60
    with tempfile.TemporaryDirectory() as tmp:
        async with interactions.database(Path(tmp)) as (db, env):
            await plant(db, n, now, due)
            if env:
                await interactions.vacuum(env["DATABASE_URL"])
            clock = FakeClock(utc(now))
            port = RecordingPort()
            services = build_services(db, port, clock, "UTC")
            t0 = time.perf_counter()
            await services.planner.plan(utc(now))
            plan = time.perf_counter() - t0
            clock.set(utc(due))
            t0 = time.perf_counter()
            report = await services.dispatcher.dispatch(utc(due))
            dispatch = time.perf_counter() - t0
            sent = int(
                await db.fetchval("SELECT count(*) FROM reminder_ledger WHERE state = 'sent'")
            )
            calls = sum(1 for c in port.calls if c[0] == "send_reminder")
            assert report.sent == sent == calls == n, (report, sent, calls, n)
    return {"plan_ms": plan * 1000, "dispatch_ms": dispatch * 1000, "per_s": n / dispatch}


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    sizes = [int(x) for x in args.bursts.split(",") if x.strip()]
    figures: dict[tuple[str, int], dict[str, float]] = {}
    for n in sizes:
        for backend in backends:
            print(f"burst {n} ({backend})", file=sys.stderr)
            figures[(backend, n)] = await one(backend, n)
    print(
        f"Reminder core by backend, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs"
    )
    print("Every reminder checked sent exactly once (port calls = ledger rows sent = N).\n")
    head = " | ".join(f"{b} plan ms | {b} dispatch ms | {b} sent/s" for b in backends)
    print(f"| reminders due at one instant | {head} |")
    print("|---:|" + "---:|---:|---:|" * len(backends))
    for n in sizes:
        cells = " | ".join(
            f"{figures[(b, n)]['plan_ms']:.0f} | {figures[(b, n)]['dispatch_ms']:.0f} | "
            f"{figures[(b, n)]['per_s']:,.0f}"
            for b in backends
        )
        print(f"| {n:,} | {cells} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--bursts", default="1000,10000")
    asyncio.run(main(parser.parse_args()))
