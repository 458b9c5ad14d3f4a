"""Two bot processes, one per shard, one shared database: every reminder goes out once,
sent by the process whose shard the server is on.

Both FamilyBots run in this test's event loop against one fake Discord, as two processes
would: each has its own gateway session (IDENTIFY with its `shard`), its own HTTP client,
database connection and scheduler. Each bot's HTTP client is tagged through its User-Agent
so the fake's request log shows which process sent what.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from familybot.bot import FamilyBot
from familybot.config import load_settings
from familybot.sharding import shard_of
from tests.e2e.harness import active_database_url, eventually, text_of
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.permissions import MANAGE_GUILD
from tests.unit.test_sharding import guild_on

NY = ZoneInfo("America/New_York")
SHARDS = 2


@contextlib.contextmanager
def at(instant: datetime) -> Iterator[None]:
    with time_machine.travel(instant, tick=False):
        yield


class Server:
    def __init__(self, fake: FakeDiscord, n: int) -> None:
        self.fake = fake
        self.id = fake.add_guild(
            f"Family {n}", owner_id=fake.add_user(name=f"owner{n}"), guild_id=guild_on(n % 2, 2, n)
        )
        self.role = fake.add_role(self.id, "Facilitator")
        self.admin = fake.add_member(self.id, name=f"admin{n}", permissions=MANAGE_GUILD)
        self.facilitator = fake.add_member(self.id, name=f"fac{n}", roles=[self.role])
        self.channel = 0

    async def run(self, user: int, *names: str, **options: Any) -> Any:
        handle = await self.fake.slash(self.id, user, *names, options=options or None)
        await handle.wait_response()
        if handle.response_type == 5:
            await handle.wait_for("followup")
        return handle


async def start(fake: FakeDiscord, stack: contextlib.AsyncExitStack, db: Path, shard: int) -> Any:
    # On the PostgreSQL variant (tests/e2e/conftest.py) both share its database instead.
    url = await active_database_url()
    settings = load_settings(
        db.parent / "none.env",
        environ={
            **({"DATABASE_URL": url} if url else {}),
            "DISCORD_TOKEN": fake.token,
            "DATABASE_PATH": str(db),
            "BACKUP_DIR": str(db.parent / "backups"),
            "DEFAULT_TIMEZONE": "America/New_York",
            "SHARD_COUNT": str(SHARDS),
            "SHARD_IDS": str(shard),
        },
    )
    bot = FamilyBot(settings)
    bot.http.user_agent = f"{bot.http.user_agent} test-process/{shard}"
    await stack.enter_async_context(fake.running(bot))
    return bot


def sender(fake: FakeDiscord, channel: int) -> list[str]:
    """Which process posted each reminder into `channel`."""
    out = []
    for r in fake.requests_to("POST", rf"/channels/{channel}/messages"):
        if r.status == 200 and "Reminder:" in text_of(r.json_body):
            out.append(r.headers["User-Agent"].rsplit("test-process/", 1)[1])
    return out


async def test_two_shard_processes_send_each_reminder_once(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake = fake_discord
    servers = [Server(fake, n) for n in range(4)]
    assert sorted(shard_of(s.id, SHARDS) for s in servers) == [0, 0, 1, 1]
    db = tmp_path / "shared.db"
    day: date = (datetime.now(NY) + timedelta(days=5)).date()
    start_at = datetime.combine(day, datetime.min.time().replace(hour=18), NY).astimezone(UTC)
    async with contextlib.AsyncExitStack() as stack:
        started = time.perf_counter()
        bots = [await start(fake, stack, db, shard) for shard in range(SHARDS)]
        ready_s = time.perf_counter() - started
        # Each process's gateway session got only its own shard's servers.
        assert sorted(fake.live_shards, key=str) == [(0, 2), (1, 2)]
        for shard, bot in enumerate(bots):
            assert sorted(g.id for g in bot.guilds) == sorted(
                s.id for s in servers if shard_of(s.id, SHARDS) == shard
            )
            assert bot.shard_count == SHARDS and list(bot.shards) == [shard]
        # Commands are application-wide: synced once, by the leader.
        assert len(fake.requests_to("PUT", r"/applications/\d+/commands")) == 1
        # Database-wide jobs: in every process, run by the leader (the one holding the
        # advisory lock on PostgreSQL, the lease on SQLite).
        assert all(bot.scheduler.get_job("backup") is not None for bot in bots)
        assert sorted([await bot.leadership.tick() for bot in bots]) == [False, True]

        for s in servers:
            await s.run(s.admin, "setup", "facilitator-role", role=s.role)
            await s.run(
                s.facilitator,
                "group",
                "create",
                name="Parents Circle",
                description="Weekly circle",
                focus="parents",
                **{"join-mode": "open"},
            )
            h = await s.run(
                s.facilitator,
                "session",
                "schedule",
                group="Parents Circle",
                title="Weekly check-in",
                date=day.isoformat(),
                time="18:00",
                repeat="weekly",
                duration=90,
            )
            assert h.ephemeral and f"<t:{int(start_at.timestamp())}:F>" in h.content
            s.channel = next(
                c["id"] for c in fake.guild(s.id).channels.values() if c["name"] != "general"
            )

        # Reminders fall due in all four servers at the same instants, in both processes.
        for offset, count in ((timedelta(hours=24), 1), (timedelta(hours=1), 2)):
            with at(start_at - offset):
                for bot in bots:
                    bot.scheduler.wakeup()
                for s in servers:
                    await eventually(lambda s=s, n=count: len(sender(fake, s.channel)) >= n, 5)
                # Another wake-up in both processes sends nothing more.
                for bot in bots:
                    bot.scheduler.wakeup()
                    await bot.reminder_scheduler.plan_and_schedule()
                    await bot.reminder_scheduler.dispatch()

        for s in servers:
            own = str(shard_of(s.id, SHARDS))
            assert sender(fake, s.channel) == [own, own], s.id
        totals = Counter(
            {shard: bot.services.dispatcher.totals.sent for shard, bot in enumerate(bots)}
        )
        assert totals == {0: 4, 1: 4}
        rows = await bots[0].db.fetchall("SELECT state, count(*) FROM reminder_ledger GROUP BY 1")
        assert [tuple(r) for r in rows] == [("sent", 8)]
        print(f"two shard processes ready in {ready_s:.2f} s")

    fake.assert_no_schema_errors()
