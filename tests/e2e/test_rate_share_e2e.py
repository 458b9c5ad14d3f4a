"""Three bot processes, one bot token: together they stay under Discord's global limit.

Discord counts its global limit (50 requests/s) per bot token, across every connection.
Three real FamilyBot processes (bench/child.py, as the delivery benchmark runs one), each
running one of three shards over one shared database (a SQLite file on this host, or one
PostgreSQL database as processes on several hosts would share), send a burst of reminders due at the
same instant to the fake Discord, which answers 429 (global) over 50 requests in any
rolling second from all of them together. Each process paces itself to its shards' part of
45/s (ShardFilter.share), so none is refused and no second sees more than 50. The
commands are synced once, by the one process that leads.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.datagen import plant_due_series
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.sharding import shard_of
from tests.support import backends
from tests.support.fake_discord import FakeDiscord
from tests.unit.test_sharding import guild_on

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARDS = 3
GUILDS_PER_SHARD = 3
PER_SHARD = 120  # about 8 s at each process's 15/s; all three send at once
DISCORD_GLOBAL_LIMIT = 50
# Three bots start in parallel on a loaded 2-core machine before the burst falls due.
LEAD_S = 20


class _Planting:
    """bench.datagen plants through `db.connection.executemany` (SQLite's own connection);
    on PostgreSQL the database's executemany (in the same transaction) does the same."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.connection = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


async def _child(
    fake: FakeDiscord, db: Path, url: str, shard: int, expect: int
) -> dict[str, object]:
    database = ["--database-url", url] if url else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.child",
        "delivery",
        "--db",
        str(db),
        "--expect",
        str(expect),
        "--shard-count",
        str(SHARDS),
        "--shard-ids",
        str(shard),
        *database,
        "--base-url",
        fake.base_url,
        "--gateway-url",
        fake.gateway_url,
        "--token",
        fake.token,
        "--guild-id",
        str(guild_on(0, SHARDS, 0)),
        "--timeout",
        "90",
        "--delivery-timeout",
        "90",
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def test_three_processes_together_stay_under_the_global_limit(
    tmp_path: Path, backend: str
) -> None:
    url = backends.url_for(await backends.SERVER.clean_database()) if backend == "postgres" else ""
    fake = FakeDiscord()
    await fake.start()
    try:
        owner = fake.add_user(name="owner")
        channels: list[int] = []
        guild_of: list[int] = []
        for shard in range(SHARDS):
            for n in range(GUILDS_PER_SHARD):
                guild = fake.add_guild(
                    f"Family {shard}-{n}", owner_id=owner, guild_id=guild_on(shard, SHARDS, n)
                )
                for k in range(PER_SHARD // GUILDS_PER_SHARD):
                    channels.append(fake.add_text_channel(guild, f"group-{k}"))
                    guild_of.append(guild)
        db_path = tmp_path / "shared.db"
        db = await Database.connect(url or db_path)
        try:
            await migrate(db)
            due = math.ceil(time.time()) + LEAD_S
            await plant_due_series(
                _Planting(db),  # type: ignore[arg-type]
                [due] * len(channels),
                time.time(),
                channel_ids=channels,
                guild_ids=guild_of,
            )
        finally:
            await db.close()
        fake.global_rate_limit = DISCORD_GLOBAL_LIMIT  # rolling 1 s window, all connections

        results = await asyncio.gather(
            *(_child(fake, db_path, url, shard, PER_SHARD) for shard in range(SHARDS))
        )

        assert fake.rate_limited_count == 0, f"{fake.rate_limited_count} requests refused (429)"
        sent = [r["delivery"]["totals"]["sent"] for r in results]  # type: ignore[index]
        assert sent == [PER_SHARD] * SHARDS
        # Every reminder once, each from the process whose shard its server is on.
        posted = Counter({c: len(fake.messages_in(c)) for c in channels})
        assert set(posted.values()) == {1}
        assert fake.rate_limited_count == 0
        busiest = fake.busiest_window(1.0)
        assert busiest <= DISCORD_GLOBAL_LIMIT, busiest
        # The three bursts overlapped: some second saw reminders from every process.
        stamps = sorted(
            (datetime.fromisoformat(m["timestamp"]).timestamp(), shard_of(g, SHARDS))
            for c, g in zip(channels, guild_of, strict=True)
            for m in fake.messages_in(c)
        )
        overlapped = any(
            {s for t2, s in stamps if t <= t2 < t + 1.0} == set(range(SHARDS)) for t, _ in stamps
        )
        assert overlapped, "the processes did not send at the same time: nothing was shared"
        # Commands belong to the application: synced once, by the leader.
        assert len(fake.requests_to("PUT", r"/applications/\d+/guilds/\d+/commands")) == 1
        print(
            f"three processes ({backend}): busiest 1 s window {busiest} requests, 0 refused (429)"
        )
    finally:
        await fake.stop()
    fake.assert_no_schema_errors()
