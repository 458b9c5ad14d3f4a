"""Database-wide work in exactly one live process (issue 16), chosen by an advisory lock.

Two (then three) processes' Peers on one PostgreSQL database, each on its own connection:
exactly one leads; when the leader's connection is cut (pg_terminate_backend, as when its
host dies) another leads at its next try. The tries are the scheduler's interval job,
called here directly (no sleeping through 30 s); the job's trigger is checked apart.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from familybot.db.peers import LEADER_RETRY, Peers, PostgresPeers
from familybot.scheduler.leader import LEADER_JOB, Leadership
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
