"""Sharding: which servers a process owns, and that its reminder work stays inside them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from familybot.config import load_settings
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.db.repositories.reminders import ReminderRepository
from familybot.errors import ConfigError
from familybot.sharding import ALL, ShardFilter, shard_of
from familybot.wiring import Services, build_services
from tests.support.circle import weekly_circle
from tests.support.fakes import FakeClock
from tests.unit.test_sessions_service import ReminderPort


def guild_on(shard: int, count: int, n: int = 0) -> int:
    """A realistic server id (a snowflake) that Discord puts on `shard` of `count`."""
    base = 1_100_000_000_000_000_000 >> 22  # a 2023-ish timestamp part
    stamp = base + (shard - base) % count + n * count
    return (stamp << 22) | (n * 4099 % (1 << 22))


# --- the formula and the filter -------------------------------------------------------------
def test_shard_of_follows_discords_formula() -> None:
    # Discord's docs: shard_id = (guild_id >> 22) % num_shards.
    assert shard_of(41771983423143937, 1) == 0
    assert shard_of(41771983423143937, 2) == (41771983423143937 >> 22) % 2
    assert [shard_of(guild_on(s, 4), 4) for s in range(4)] == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        shard_of(1, 0)


def test_filter_defaults_own_everything_and_run_database_wide_jobs() -> None:
    default = ShardFilter.of(None, None)
    assert default == ALL and default.owns_all and default.primary
    assert default.sql("guild_id") == ("1 = 1", ())  # true on SQLite and PostgreSQL
    every = ShardFilter.of(4, None)  # one process running all 4 shards
    assert every.owns_all and every.primary and every.owns(guild_on(3, 4))
    second = ShardFilter.of(4, [1, 3])
    assert not second.owns_all and not second.primary
    assert second.owns(guild_on(1, 4)) and second.owns(guild_on(3, 4))
    assert not second.owns(guild_on(0, 4)) and not second.owns(guild_on(2, 4))
    assert second.describe() == "shards 1,3 of 4"
    with pytest.raises(ValueError):
        ShardFilter(2, frozenset({2}))
    with pytest.raises(ValueError):
        ShardFilter(2, frozenset())


async def test_sql_fragment_agrees_with_python(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "x.db")
    try:
        await db.execute("CREATE TABLE g (guild_id INTEGER NOT NULL)")
        ids = [guild_on(s, 7, n) for s in range(7) for n in range(5)] + [
            (1 << 63) - 1,  # the largest snowflake SQLite's signed integers hold
            41771983423143937,
            1,
        ]
        await db.executemany("INSERT INTO g VALUES (?)", [(i,) for i in ids])
        for count, mine in ((1, {0}), (2, {1}), (7, {0, 3, 6}), (16, {5})):
            shards = ShardFilter(count, frozenset(mine))
            where, params = shards.sql("guild_id")
            rows = await db.fetchall(f"SELECT guild_id FROM g WHERE {where}", params)
            assert sorted(r[0] for r in rows) == sorted(i for i in ids if shards.owns(i))
    finally:
        await db.close()


# --- settings ---------------------------------------------------------------------------------
def test_settings_read_shards(tmp_path: Path) -> None:
    env = tmp_path / "none.env"
    plain = load_settings(env, environ={})
    assert plain.shard_count is None and plain.shard_ids is None
    s = load_settings(env, environ={"SHARD_COUNT": "4", "SHARD_IDS": " 3, 1 "})
    assert s.shard_count == 4 and s.shard_ids == (1, 3)
    all_of_them = load_settings(env, environ={"SHARD_COUNT": "2"})
    assert all_of_them.shard_count == 2 and all_of_them.shard_ids is None


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_COUNT is not"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT is the total number of shards"),
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "numbered 0 to 1"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,x"}, "separated by commas"),
        ({"SHARD_COUNT": "3", "SHARD_IDS": "1,1"}, "more than once"),
    ],
)
def test_settings_reject_bad_shards(tmp_path: Path, environ: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        load_settings(tmp_path / "none.env", environ=environ)


# --- two processes, one database ------------------------------------------------------------
GUILDS = [guild_on(0, 2, 0), guild_on(1, 2, 0), guild_on(0, 2, 1), guild_on(1, 2, 1)]


class Process:
    """What one bot process has: its own connection to the shared file, services and port."""

    def __init__(self, db: Database, services: Services, port: ReminderPort) -> None:
        self.db, self.services, self.port = db, services, port


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))


@pytest.fixture
async def processes(tmp_path: Path, clock: FakeClock) -> AsyncIterator[list[Process]]:
    path = tmp_path / "shared.db"
    made: list[Process] = []
    for shard in (0, 1):
        db = await Database.open(path)
        await migrate(db)
        port = ReminderPort()
        services = build_services(
            db, port, clock, "America/New_York", shards=ShardFilter(2, frozenset({shard}))
        )
        made.append(Process(db, services, port))
    yield made
    for p in made:
        await p.db.close()


async def test_each_process_plans_and_sends_only_its_shards_reminders(
    processes: list[Process], clock: FakeClock
) -> None:
    for guild_id in GUILDS:
        # A command is handled by the process owning the server, as Discord routes it.
        owner = processes[shard_of(guild_id, 2)]
        await weekly_circle(owner.services, clock, guild_id=guild_id, days_ahead=4)  # 1 Dec
    series = await processes[0].db.fetchall("SELECT id, guild_id FROM session_series")
    guild_of_series = {r["id"]: r["guild_id"] for r in series}

    # Both processes run their planner and dispatcher at the same moments, concurrently.
    end = datetime(2026, 12, 1, 22, 59, tzinfo=UTC)
    while clock.now() < end:
        clock.set(min(end, clock.now() + timedelta(minutes=10)))
        await asyncio.gather(*(p.services.planner.plan() for p in processes))
        await asyncio.gather(*(p.services.dispatcher.dispatch() for p in processes))

    sent_by: dict[int, list[int]] = {}
    for shard, p in enumerate(processes):
        assert all(t.channel_id is not None for t, _, _ in p.port.sent)
        sent_by[shard] = [guild_of_series[card.series_id] for _, card, _ in p.port.sent]
        # Only servers on this process's own shard...
        assert {shard_of(g, 2) for g in sent_by[shard]} == {shard}
    # ...and every reminder (24 h and 1 h before, in each of the four servers) exactly once.
    everything = Counter(sent_by[0] + sent_by[1])
    assert everything == {g: 2 for g in GUILDS}
    states = await processes[0].db.fetchall(
        "SELECT state, count(*) FROM reminder_ledger GROUP BY 1"
    )
    assert [tuple(r) for r in states] == [("sent", 8)]


async def test_replan_ignores_series_of_other_shards(
    processes: list[Process], clock: FakeClock
) -> None:
    mine, theirs = guild_on(0, 2, 5), guild_on(1, 2, 5)
    for guild_id in (mine, theirs):
        owner = processes[shard_of(guild_id, 2)]
        await weekly_circle(owner.services, clock, guild_id=guild_id, days_ahead=4)
    clock.set(datetime(2026, 11, 30, 22, 55, tzinfo=UTC))  # 24 h reminders fall due in 5 min
    await processes[0].services.planner.replan([1, 2])
    rows = await processes[0].db.fetchall(
        "SELECT s.guild_id FROM reminder_ledger l JOIN session_series s ON s.id = l.series_id"
    )
    assert {r[0] for r in rows} == {mine}


async def test_the_ledger_reads_keep_to_a_processs_shards_on_both_backends(
    services: Services, db: Database, clock: FakeClock
) -> None:
    """The dispatcher's three reads of the ledger (due rows, due instants, rows a process now
    gone had claimed): a process on some shards sees its servers' rows only, one on all
    shards every row."""
    guilds = (guild_on(0, 2, 7), guild_on(1, 2, 7))
    for guild_id in guilds:
        await weekly_circle(services, clock, guild_id=guild_id, days_ahead=4)  # 1 Dec 18:00
    clock.set(datetime(2026, 11, 30, 22, 55, tzinfo=UTC))
    await services.planner.plan()  # each server's 24 h reminder, due at 23:00 UTC
    ledger = ReminderRepository(db)
    due = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    series_guild = {
        r[0]: r[1] for r in await db.fetchall("SELECT id, guild_id FROM session_series")
    }
    row_of = {series_guild[r.series_id]: r.id for r in await ledger.due(due, 10)}
    assert set(row_of) == set(guilds)
    for shard, gone in ((0, 777), (1, 888)):  # claimed by processes now gone
        assert await ledger.claim([row_of[guilds[shard]]], gone) == {row_of[guilds[shard]]}
    for shard, gone in ((0, 777), (1, 888)):
        mine = ShardFilter(2, frozenset({shard}))
        assert [r.id for r in await ledger.due(due, 10, mine)] == [row_of[guilds[shard]]]
        assert await ledger.pending_instant_counts(due, mine) == [(due, 1)]
        assert await ledger.orphaned(due, mine) == {gone: due}
    assert len(await ledger.due(due, 10, ALL)) == 2
    assert await ledger.pending_instant_counts(due, ALL) == [(due, 2)]
    assert await ledger.orphaned(due, ALL) == {777: due, 888: due}


def test_each_process_gets_its_shards_part_of_the_global_budget() -> None:
    """Discord's global limit is per bot token: the processes' parts add up to no more."""
    assert ALL.share(45) == 45
    assert ShardFilter.of(4, None).share(45) == 45
    parts = [ShardFilter.of(3, [i]).share(45) for i in range(3)]
    assert parts == [15, 15, 15]
    uneven = [ShardFilter.of(4, ids).share(45) for ids in ([0, 1], [2], [3])]
    assert uneven == [22, 11, 11] and sum(uneven) <= 45
    for count in range(1, 46):
        assert sum(ShardFilter.of(count, [i]).share(45) for i in range(count)) <= 45
    assert ShardFilter.of(90, [5]).share(45) == 1  # never nothing at all
