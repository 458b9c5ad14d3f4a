"""Database-wide work in exactly one live process (issue 16), chosen by an advisory lock.

Two (then three) processes' Peers on one PostgreSQL database, each on its own connection:
exactly one leads; when the leader's connection is cut (pg_terminate_backend, as when its
host dies) another leads at its next try. The tries are the scheduler's interval job,
called here directly (no sleeping through 30 s); the job's trigger is checked apart.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.db.peers import LEADER_RETRY, RECOUNT, SETTLE, Peers, PostgresPeers
from familybot.ratelimit import SlidingWindowLimiter
from familybot.scheduler.leader import LEADER_JOB, Leadership
from familybot.sharding import ShardFilter
from tests.support import backends


@pytest.fixture
async def pg_url() -> str:
    return backends.url_for(await backends.SERVER.clean_database())


@pytest.fixture
async def peers(pg_url: str) -> AsyncIterator[list[PostgresPeers]]:
    made = [PostgresPeers(pg_url) for _ in range(3)]
    try:
        yield made
    finally:
        for p in made:
            await p.close()


async def _terminate(url: str, pid: int) -> None:
    admin = await asyncpg.connect(url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        # The server frees the backend's locks as it exits: wait for that (no clock involved).
        for _ in range(300):
            if not await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
            ):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the terminated backend did not exit")
    finally:
        await admin.close()


async def test_contending_processes_elect_exactly_one_leader(
    peers: list[PostgresPeers],
) -> None:
    results = await asyncio.gather(*(p.try_lead() for p in peers))
    assert sorted(results) == [False, False, True]
    # Trying again changes nothing: the leader keeps it, the others stay out.
    again = await asyncio.gather(*(p.try_lead() for p in peers))
    assert again == results
    assert len({p.token for p in peers}) == 3


async def test_the_leader_s_death_moves_the_work_to_another_process(
    peers: list[PostgresPeers], pg_url: str
) -> None:
    scheduler = AsyncIOScheduler()
    runs: Counter[int] = Counter()
    sides = []
    for p in peers:

        async def backup(p: PostgresPeers = p) -> None:
            runs[p.token] += 1

        leadership = Leadership(scheduler, p)
        sides.append((p, leadership, leadership.only_leader("backup", backup)))
    for _, leadership, _ in sides:
        await leadership.start()
    # The retry: an interval job of at most 30 s, in every process.
    job = scheduler.get_job(LEADER_JOB)
    assert job is not None and job.trigger.interval.total_seconds() <= 30
    assert LEADER_RETRY.total_seconds() <= 30

    # The daily job fires in every process at once: it runs once, in the leader.
    await asyncio.gather(*(job() for _, _, job in sides))
    leader = next(p for p in peers if p.leading)
    assert runs == {leader.token: 1}

    pid = leader.backend_pid
    assert pid is not None
    await _terminate(pg_url, pid)
    # The others' next try (the interval job): one of them leads now.
    ticks = await asyncio.gather(*(lead.tick() for p, lead, _ in sides if p is not leader))
    assert sorted(ticks) == [False, True]
    successor = next(p for p in peers if p is not leader and p.leading)
    # The old leader's next try finds its connection gone: it no longer leads, reconnects
    # with the same token and stays out while the successor lives.
    old_token = leader.token
    assert await sides[peers.index(leader)][1].tick() is False
    assert leader.token == old_token and leader.backend_pid != pid

    await asyncio.gather(*(job() for _, _, job in sides))
    assert runs == {old_token: 1, successor.token: 1}
    assert sum(p.leading for p in peers) == 1


async def test_a_global_job_asks_for_the_lead_when_it_fires(
    peers: list[PostgresPeers], pg_url: str
) -> None:
    """The leader died just before the job's time: the first process to fire it leads and
    runs it, without waiting for its next retry."""
    a, b, _ = peers
    assert await a.try_lead() and not await b.try_lead()
    pid = a.backend_pid
    assert pid is not None
    await _terminate(pg_url, pid)
    ran: list[int] = []

    async def link_check() -> None:
        ran.append(b.token)

    await Leadership(AsyncIOScheduler(), b).only_leader("link-check", link_check)()
    assert ran == [b.token]


async def test_on_one_host_the_process_running_shard_0_leads() -> None:
    """SQLite: no server to hold a lock; the rule is the one before (shard 0's process)."""
    assert await Peers(leads=True).try_lead() is True
    assert await Peers(leads=False).try_lead() is False
    synced: list[bool] = []

    async def sync() -> None:
        synced.append(True)

    leadership = Leadership(AsyncIOScheduler(), Peers(leads=True), sync)
    assert await leadership.tick() and await leadership.tick()
    assert synced == [True]  # the start-up work runs once, on becoming the leader


async def test_processes_running_the_same_shards_split_that_part_of_the_rate_budget(
    pg_url: str,
) -> None:
    """Discord's global limit is per bot token. Each shard's part of the budget (45/s over
    SHARD_COUNT) is split between the live processes running it, and a newcomer takes its
    half only once the others have had the time to look again, twice over (SETTLE)."""
    now = [0.0]
    made: list[PostgresPeers] = []

    def process(*shards: int) -> PostgresPeers:
        made.append(
            PostgresPeers(pg_url, shards=ShardFilter.of(2, shards), monotonic=lambda: now[0])
        )
        return made[-1]

    try:
        a, c = process(0), process(1)
        limiter = SlidingWindowLimiter(45)
        pacing = Leadership(AsyncIOScheduler(), a, limiter=limiter, budget=45)
        await pacing.tick()
        assert limiter.limit == 22 and await c.rate_share(45) == 22
        now[0] = 100.0
        b = process(0)  # a second process for shard 0 (a standby) joins
        assert await b.rate_share(45) == 1  # a still paces to all of shard 0's part
        await pacing.recount()  # a looks again (every 5 s): half of it now
        assert limiter.limit == 11
        # One recount interval later b still waits: a late recount elsewhere can't overlap.
        now[0] += RECOUNT.total_seconds()
        assert await b.rate_share(45) == 1
        now[0] += SETTLE.total_seconds()
        shares = [await p.rate_share(45) for p in (a, b, c)]
        assert shares == [11, 11, 22] and sum(shares) <= 45
        # b's process dies: its lock goes with its connection, a has all of shard 0 again.
        await b.close()
        for _ in range(300):  # the server drops b's session (no clock involved)
            await pacing.tick()
            if limiter.limit == 22:
                break
            await asyncio.sleep(0.01)
        assert limiter.limit == 22
    finally:
        for p in made:
            await p.close()


async def test_on_one_host_the_rate_part_follows_the_shards() -> None:
    assert await Peers(shards=ShardFilter.of(3, [1])).rate_share(45) == 15
    assert await Peers().rate_share(45) == 45


async def test_processes_with_different_shard_counts_keep_together_within_the_budget(
    pg_url: str,
) -> None:
    """Found in review: moving from one process (SHARD_COUNT=1) to two (SHARD_COUNT=2), the
    old process still runs while the new ones start. Shard 0 of 1 and shard 0 of 2 are not
    the same share of the servers, so each process must not take its part as if the others'
    SHARD_COUNT were its own: together they stay within the bot's budget (Discord's 50/s)."""
    now = [0.0]
    made: list[PostgresPeers] = []

    def process(count: int, *shards: int) -> PostgresPeers:
        made.append(
            PostgresPeers(pg_url, shards=ShardFilter.of(count, shards), monotonic=lambda: now[0])
        )
        return made[-1]

    try:
        old = process(1, 0)
        assert await old.rate_share(45) == 45  # alone: the whole budget
        now[0] = 100.0
        first, second = process(2, 0), process(2, 1)
        # While the newcomers settle, the old process still paces to all of it.
        joining = [45, await first.rate_share(45), await second.rate_share(45)]
        assert sum(joining) <= 45 + 2, joining  # at most 1/s each while settling
        now[0] += SETTLE.total_seconds()
        shares = [await p.rate_share(45) for p in (old, first, second)]
        assert sum(shares) <= 45, shares
        assert min(shares) >= 1
        # The old process stops: the new ones take the whole budget again.
        await old.close()
        for _ in range(300):  # the server drops its session (no clock involved)
            shares = [await p.rate_share(45) for p in (first, second)]
            if shares == [22, 22]:
                break
            await asyncio.sleep(0.01)
        assert shares == [22, 22]
    finally:
        for p in made:
            await p.close()


async def test_a_global_job_firing_with_a_reminder_run_still_runs_once(
    peers: list[PostgresPeers],
) -> None:
    """Found in review: the daily backup (03:00) and a reminder run due at 03:00 fire at the
    same instant in the leader. Both use its one liveness connection; the leader must stay
    the leader (same connection, same locks) and the backup must run, exactly once."""
    a, b, _ = peers
    assert await a.try_lead() and not await b.try_lead()
    pid = a.backend_pid
    runs: list[int] = []

    def job(p: PostgresPeers) -> Callable[[], Awaitable[None]]:
        async def backup() -> None:
            runs.append(p.token)

        return Leadership(AsyncIOScheduler(), p).only_leader("backup", backup)

    await asyncio.gather(job(a)(), a.ensure_alive(), a.rate_share(45), job(b)())
    assert runs == [a.token]
    assert a.leading and a.backend_pid == pid  # its locks never left it


async def test_the_server_notices_a_vanished_host_within_the_retry(
    peers: list[PostgresPeers],
) -> None:
    """Found in review: a host that drops off the network (power cut, cable) closes nothing;
    its locks go only when the server notices the connection is dead. With the server's
    default keepalive (the OS's: 2 hours of silence, then probes) its reminder claims and the
    leadership would stay with the dead host for over two hours. The liveness connection asks
    the server to probe it after a few seconds of silence, so the lock goes within 30 s and
    another process leads within a minute."""
    a = peers[0]
    assert await a.try_lead()
    conn = a._conn  # the liveness connection itself: its server-side settings
    idle = int(await conn.fetchval("SHOW tcp_keepalives_idle"))
    interval = int(await conn.fetchval("SHOW tcp_keepalives_interval"))
    count = int(await conn.fetchval("SHOW tcp_keepalives_count"))
    assert min(idle, interval, count) > 0  # 0 would be the OS default (7200 s on Linux)
    assert idle + interval * count <= LEADER_RETRY.total_seconds()
