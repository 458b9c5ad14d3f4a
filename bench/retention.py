"""Retention membership sweep benchmark: the daily check of who is still in each server.

    python bench/retention.py                  # 100k and 1M sessions (bench/datagen.py bases)
    python bench/retention.py --sizes 10000    # any sizes

On a copy of each cached base database (50 groups of 8 members per server: 1,000 servers
and 400,000 memberships at 1M sessions) it runs the real RetentionService's membership
check with a Discord that answers "still here" at once and no pause between checks, so
what is timed is the sweep's own work: reading each server's people a page at a time.
Beside it, in the same run, the query the sweep used before issue 15 (the whole user-server
union built for each server) on a sample of servers, scaled to all of them. A loop-lag
probe records the longest event-loop stall during the sweep.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import CACHE_DIR, StallWatch
from bench.datagen import ensure_base
from familybot.clock import SystemClock
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.db.repositories.privacy import PrivacyRepository
from familybot.services.privacy.retention import RetentionReport, RetentionService
from familybot.wiring import build_services
from tests.support.fakes import RecordingPort

OLD_SAMPLE = 5  # servers timed with the old query

_OLD_USER_GUILDS_SQL = """
SELECT g.guild_id AS guild_id, m.user_id AS user_id
    FROM memberships m JOIN groups g ON g.id = m.group_id
UNION SELECT g.guild_id, f.user_id
    FROM group_facilitators f JOIN groups g ON g.id = f.group_id
UNION SELECT s.guild_id, r.user_id
    FROM rsvps r JOIN session_series s ON s.id = r.series_id
UNION SELECT s.guild_id, a.user_id
    FROM attendance a JOIN session_series s ON s.id = a.series_id
UNION SELECT g.guild_id, j.user_id
    FROM join_reviews j JOIN groups g ON g.id = j.group_id
UNION SELECT guild_id, user_id FROM member_departures
UNION SELECT guild_id, user_id FROM calendar_feeds
"""
OLD_QUERY = (
    f"SELECT DISTINCT user_id FROM ({_OLD_USER_GUILDS_SQL}) AS ug WHERE guild_id = ? AND user_id "
    "NOT IN (SELECT user_id FROM member_departures WHERE guild_id = ?) ORDER BY user_id LIMIT ?"
)


class Everyone:
    """Discord says everyone is still here, at once."""

    def __init__(self, guilds: set[int]) -> None:
        self.guilds = guilds

    async def is_member(self, guild_id: int, user_id: int) -> bool | None:
        return True

    def current_guild_ids(self) -> set[int] | None:
        return self.guilds


async def bench(n: int) -> dict[str, float]:
    base = await ensure_base(n)
    path = CACHE_DIR / f"retention-{n}.db"
    shutil.copyfile(base, path)
    db = await Database.open(path)
    try:
        await migrate(db)
        guilds = {int(r["guild_id"]) for r in await db.fetchall("SELECT guild_id FROM groups")}
        memberships = int(await db.fetchval("SELECT count(*) FROM memberships") or 0)
        services = build_services(db, RecordingPort(), SystemClock(), "UTC")
        sweep = RetentionService(
            services.privacy,
            PrivacyRepository(db),
            SystemClock(),
            presence=Everyone(guilds),
            pace_seconds=0,
        )
        watch = StallWatch()
        watch.start()
        report = RetentionReport()
        started = time.perf_counter()
        await sweep._check_members(report)
        seconds = time.perf_counter() - started
        await watch.stop()
        sample = sorted(guilds)[:OLD_SAMPLE]
        started = time.perf_counter()
        for guild_id in sample:
            await db.fetchall(OLD_QUERY, (guild_id, guild_id, 1000))
        old_per_guild = (time.perf_counter() - started) / len(sample)
        return {
            "sessions": n,
            "servers": len(guilds),
            "memberships": memberships,
            "checked": report.checked,
            "seconds": seconds,
            "max_stall_ms": watch.max_stall * 1000,
            "old_query_per_server_ms": old_per_guild * 1000,
            "old_queries_all_servers_s": old_per_guild * len(guilds),
        }
    finally:
        await db.close()
        path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"Load at the start: `{load}`")
    print()
    print(
        "| sessions | servers | memberships | people checked | sweep s | longest stall ms "
        "| before: one server's query ms | before: all servers' queries s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (int(x) for x in args.sizes.split(",")):
        r = asyncio.run(bench(n))
        print(
            f"| {n:,} | {r['servers']:,} | {r['memberships']:,} | {r['checked']:,} "
            f"| {r['seconds']:.2f} | {r['max_stall_ms']:.0f} "
            f"| {r['old_query_per_server_ms']:.1f} | {r['old_queries_all_servers_s']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
