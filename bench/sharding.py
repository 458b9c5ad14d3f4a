"""Sharding benchmark: the reminder queries and a planner pass, with and without a shard filter.

    python bench/sharding.py            # 100k sessions
    python bench/sharding.py --quick    # 10k sessions

Uses the cached base database of bench/reminders.py, spreads its servers over shards (the
base uses consecutive server ids, which Discord would all put on one shard) and times, per
filter: the planner's `due_for_planning`, the dispatcher's `due` and `pending_instants`
(median of 50 runs each), and one real Planner pass 10 minutes on, as the periodic job does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CACHE_DIR
from bench.datagen import FIRST_GUILD_ID, ensure_base, stamp
from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.models import from_unix
from familybot.services.reminders.planner import PLAN_BATCH, PLAN_HORIZON, Planner
from familybot.sharding import ALL, ShardFilter

RUNS = 50
FILTERS = (
    ("one process (no filter)", ALL),
    ("shard 0 of 2", ShardFilter(2, frozenset({0}))),
    ("shard 1 of 2", ShardFilter(2, frozenset({1}))),
    ("shard 3 of 16", ShardFilter(16, frozenset({3}))),
)


class Fixed(Clock):
    def __init__(self, now: float) -> None:
        self._now = from_unix(int(now))

    def now(self) -> Any:
        return self._now


async def median_ms(fn: Callable[[], Awaitable[object]]) -> float:
    await fn()  # warm the page cache and statement cache
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def spread_guilds(db: Database) -> None:
    """Give each server a distinct timestamp part, so servers spread over shards as in life."""
    async with db.transaction():
        for table in ("groups", "session_series"):
            await db.execute(
                f"UPDATE {table} SET guild_id = ((guild_id - ?) << 22) + ?",
                (FIRST_GUILD_ID, FIRST_GUILD_ID),
            )


async def bench(n: int) -> list[str]:
    base = await ensure_base(n)
    now = time.time()
    lines = [
        f"Sharding benchmark, {n:,} sessions, {time.strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        "| filter | series owned | due_for_planning ms | ledger due ms | pending_instants ms "
        "| planner pass +10 min s | reminders planned |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, shards in FILTERS:
        path = CACHE_DIR / f"sharding-{n}.db"
        await stamp(base, path, now)
        db = await Database.open(path)
        try:
            await spread_guilds(db)
            sessions, reminders = SessionRepository(db), ReminderRepository(db)
            at = from_unix(int(now))
            owned = sum(
                1
                for r in await db.fetchall("SELECT guild_id FROM session_series")
                if shards.owns(r[0])
            )
            plan_q = await median_ms(
                lambda r=sessions, a=at, f=shards: r.due_for_planning(
                    a + PLAN_HORIZON, PLAN_BATCH, f
                )
            )
            due_q = await median_ms(
                lambda r=reminders, a=at, f=shards: r.due(a + timedelta(minutes=25), 5000, f)
            )
            inst_q = await median_ms(
                lambda r=reminders, a=at, f=shards: r.pending_instants(a + PLAN_HORIZON, f)
            )
            later = now + 600
            planner = Planner(db, sessions, GroupRepository(db), reminders, Fixed(later), shards)
            started = time.perf_counter()
            planned = await planner.plan()
            pass_s = time.perf_counter() - started
        finally:
            await db.close()
        lines.append(
            f"| {label} | {owned:,} | {plan_q:.2f} | {due_q:.2f} | {inst_q:.2f} "
            f"| {pass_s:.3f} | {planned:,} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10k sessions instead of 100k")
    args = parser.parse_args()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    lines = asyncio.run(bench(10_000 if args.quick else 100_000))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
