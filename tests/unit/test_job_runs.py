"""Each database-wide job once per period, whoever leads (issue 16), on both backends.

Two "processes" are two Peers and two Leaderships on two connections to one database. A
process killed mid-job is played by a job that never returns (its task is left hanging,
then cancelled: a cancel stamps nothing, as a SIGKILL would not) and by its liveness going:
on PostgreSQL its lock connection is terminated, on SQLite its lease is left to expire (the
clock moved past it). What counts is what the world sees: the backup files written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from familybot.db.connection import Database
from familybot.db.lease import LEASE, LeasePeers, peers_for
from familybot.db.peers import LEADER_RETRY, Peers, PostgresPeers
from familybot.db.repositories.job_runs import JobRunRepository
from familybot.scheduler.leader import CATCH_UP, Leadership
from familybot.sharding import ShardFilter
from tests.support.fakes import FakeClock

BACKUP_AT = CronTrigger(hour=3, minute=0, timezone="UTC")
DAY_START = datetime(2026, 11, 27, tzinfo=UTC)


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


@pytest.fixture
async def other(db: Database) -> AsyncIterator[Database]:
    """A second connection (pool) to the same database: another process's."""
    second = await Database.connect(getattr(db, "url", None) or db.path)
    yield second
    await second.close()


def peers_on(db: Database, clock: FakeClock) -> Peers:
    if db.is_postgres:
        return PostgresPeers(db.url)  # type: ignore[attr-defined]
    return LeasePeers(db, clock=clock)


async def kill(db: Database, peers: Peers, clock: FakeClock) -> None:
    """The process is gone: its liveness lock freed (PostgreSQL), its lease run out (SQLite)."""
    if isinstance(peers, PostgresPeers):
        pid = peers.backend_pid
        assert pid is not None
        conn = await asyncpg.connect(db.url)  # type: ignore[attr-defined]
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
            for _ in range(300):  # the server frees the locks as the backend exits
                if not await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
                ):
                    break
                await asyncio.sleep(0.01)
        finally:
            await conn.close()
        peers._conn = None  # the dead process's object makes no more round trips
    else:
        clock.advance(seconds=LEASE.total_seconds() + 1)


class Process:
    """One bot process's part here: its peers, its leadership and a backup job."""

    def __init__(
        self, db: Database, clock: FakeClock, backups: Path, *, hang: bool, at: Any = BACKUP_AT
    ) -> None:
        self.peers = peers_on(db, clock)
        self.lead = Leadership(
            AsyncIOScheduler(), self.peers, runs=JobRunRepository(db), clock=clock
        )
        self.hang = hang
        self._clock = clock
        self.started = asyncio.Event()
        self._backups = backups
        self.lead.add("backup", self.backup, at)
        self.fire: Callable[[], Awaitable[None]] = self.lead.only_leader("backup", self.backup)

    async def backup(self) -> None:
        self.started.set()
        if self.hang:  # killed mid-job: never returns
            await asyncio.Event().wait()
        day = f"{self._clock.now():%Y%m%d}"
        (self._backups / f"backup-{self.peers.token}-{day}.db").write_text("snapshot")


def written(folder: Path) -> list[str]:
    """The backup files in the folder: what the world sees of the job."""
    return sorted(f.name for f in folder.iterdir())


async def settle(*processes: Process) -> None:
    """Let the catch-up runs started by a tick finish."""
    for p in processes:
        for task in list(p.lead._running.values()):
            await task


async def test_a_leader_killed_mid_backup_is_taken_over_and_the_day_has_one_backup(
    db: Database, other: Database, clock: FakeClock, backups: Path
) -> None:
    clock.set(DAY_START + timedelta(hours=3))
    a = Process(db, clock, backups, hang=True)
    b = Process(other, clock, backups, hang=False)
    try:
        assert await a.peers.try_lead() and not await b.peers.try_lead()
        # 03:00: the backup fires in both; A leads, claims the day and dies mid-backup.
        cut = asyncio.create_task(a.fire())
        await b.fire()
        await a.started.wait()
        assert written(backups) == []
        await kill(db, a.peers, clock)
        # B's next try: it leads, finds the day's backup claimed by a gone process, runs it.
        assert await b.lead.tick()
        await settle(b)
        assert written(backups) == [f"backup-{b.peers.token}-20261127.db"]
        # Later the same day: B's ticks and another firing (a restart) run nothing more.
        clock.advance(minutes=10)
        assert await b.lead.tick()
        await b.fire()
        await settle(b)
        assert len(written(backups)) == 1
        row = await db.fetchone("SELECT claimed_by, finished_at, takeovers FROM job_runs")
        assert row is not None
        assert (row["claimed_by"], row["takeovers"]) == (b.peers.token, 1)
        assert row["finished_at"] is not None
        # The next day is a new period: one more backup.
        clock.set(DAY_START + timedelta(days=1, hours=3))
        await b.fire()
        await settle(b)
        assert len(written(backups)) == 2
        cut.cancel()
    finally:
        for p in (a, b):
            await p.peers.close()


async def test_a_firing_that_found_no_leader_is_run_by_the_next_leader(
    db: Database, other: Database, clock: FakeClock, backups: Path
) -> None:
    """The leader died just before 03:00: at the firing nobody leads yet (on SQLite its lease
    has not run out). The next leader runs the backup at its first tick."""
    clock.set(DAY_START + timedelta(hours=2, minutes=59, seconds=50))
    a = Process(db, clock, backups, hang=False)
    b = Process(other, clock, backups, hang=False)
    try:
        assert await a.peers.try_lead() and not await b.peers.try_lead()
        if isinstance(b.peers, LeasePeers):  # A dies: its lease holds on for a while
            clock.advance(seconds=10)
            await b.fire()
            assert written(backups) == []
            clock.advance(seconds=LEASE.total_seconds())
        else:
            await kill(db, a.peers, clock)
            clock.advance(seconds=10)
        assert clock.now() - (DAY_START + timedelta(hours=3)) <= CATCH_UP
        assert await b.lead.tick()
        await settle(b)
        assert written(backups) == [f"backup-{b.peers.token}-20261127.db"]
        await b.fire()  # the firing itself, for PostgreSQL: already done
        await settle(b)
        assert len(written(backups)) == 1
    finally:
        for p in (a, b):
            await p.peers.close()


@pytest.mark.parametrize(
    ("fires", "taken_over"),
    [
        (timedelta(hours=23, minutes=58), timedelta(days=1, minutes=1)),  # within CATCH_UP
        (timedelta(hours=23), timedelta(days=1, minutes=30)),  # 90 min after it fired
    ],
)
async def test_a_run_cut_just_before_its_period_ended_is_taken_over_after_it(
    db: Database,
    other: Database,
    clock: FakeClock,
    backups: Path,
    fires: timedelta,
    taken_over: timedelta,
) -> None:
    """The backup fires late in the UTC day and its leader dies mid-run; the next leader's
    first try comes after midnight, in the next period, however long after the firing. It
    takes over that day's run, once; the new day's backup still runs at its own time."""
    late = CronTrigger(hour=fires.seconds // 3600, minute=fires.seconds // 60 % 60, timezone="UTC")
    clock.set(DAY_START + fires)
    a = Process(db, clock, backups, hang=True, at=late)
    b = Process(other, clock, backups, hang=False, at=late)
    try:
        assert await a.peers.try_lead() and not await b.peers.try_lead()
        cut = asyncio.create_task(a.fire())
        await a.started.wait()
        await kill(db, a.peers, clock)
        clock.set(DAY_START + taken_over)
        assert await b.lead.tick()
        await settle(b)
        assert len(written(backups)) == 1
        clock.advance(seconds=LEADER_RETRY.total_seconds())
        assert await b.lead.tick()  # once only
        await settle(b)
        assert len(written(backups)) == 1
        (row,) = await db.fetchall(
            "SELECT period, claimed_by, finished_at, takeovers FROM job_runs"
        )
        assert row["period"] == int(DAY_START.timestamp())  # the day it was due
        assert (row["claimed_by"], row["takeovers"]) == (b.peers.token, 1)
        assert row["finished_at"] is not None
        clock.set(DAY_START + timedelta(days=1) + fires)
        await b.fire()  # (its file has the same day in its name as the caught-up one's)
        await settle(b)
        done = await db.fetchall("SELECT period FROM job_runs WHERE finished_at IS NOT NULL")
        assert sorted(r["period"] for r in done) == [
            int(DAY_START.timestamp()),
            int((DAY_START + timedelta(days=1)).timestamp()),
        ]
        cut.cancel()
    finally:
        for p in (a, b):
            await p.peers.close()


async def test_a_clean_stop_gives_the_run_a_grace_then_hands_it_over(
    db: Database, other: Database, clock: FakeClock, backups: Path
) -> None:
    """Stopping: a backup that ends within the grace ends and is stamped (not cancelled at
    once, as the scheduler's shutdown did); one that does not is cancelled and awaited (no
    task left running while another process takes its claim over), stamps nothing, and the
    other process, leading at its next try, runs it."""
    clock.set(DAY_START + timedelta(hours=3))
    a = Process(db, clock, backups, hang=False)
    b = Process(other, clock, backups, hang=False)
    release = asyncio.Event()

    async def slow() -> None:
        a.started.set()
        await release.wait()
        await a.backup()

    a.lead.add("backup", slow, BACKUP_AT)
    try:
        assert await a.peers.try_lead() and not await b.peers.try_lead()
        run = asyncio.create_task(a.lead.only_leader("backup", slow)())
        await a.started.wait()
        stopping = asyncio.create_task(a.lead.stop(grace=timedelta(minutes=1)))
        await asyncio.sleep(0)
        assert not run.done() and not stopping.done()
        release.set()
        await stopping  # as soon as the run ended, not after the grace
        assert run.done() and not run.cancelled()
        assert written(backups) == [f"backup-{a.peers.token}-20261127.db"]
        await a.lead.only_leader("backup", slow)()  # stopping: starts nothing
        (row,) = await db.fetchall("SELECT finished_at FROM job_runs")
        assert row["finished_at"] is not None

        await a.peers.close()  # a stopped; the next day, c leads and its run hangs
        clock.set(DAY_START + timedelta(days=1, hours=3))
        c = Process(db, clock, backups, hang=True)
        assert await c.peers.try_lead()
        hung = asyncio.create_task(c.fire())
        await c.started.wait()
        await c.lead.stop(grace=timedelta(seconds=0.05))
        assert hung.cancelled() and not c.lead._running
        await c.peers.close()  # the bot closes its peers next: the lead passes on
        assert await b.lead.tick()
        await settle(b)
        assert f"backup-{b.peers.token}-20261128.db" in written(backups)
        row = await db.fetchone(
            "SELECT claimed_by, takeovers FROM job_runs WHERE period = ?",
            (int((DAY_START + timedelta(days=1)).timestamp()),),
        )
        assert row is not None and (row["claimed_by"], row["takeovers"]) == (b.peers.token, 1)
    finally:
        for p in (a, b):
            await p.peers.close()


async def test_a_claim_is_taken_over_only_from_a_gone_process(
    db: Database, clock: FakeClock
) -> None:
    runs = JobRunRepository(db)
    live = {1, 2}

    async def alive(token: int) -> bool:
        return token in live

    period = 1_800_000_000
    assert await runs.claim("link-check", period, 1, clock.now(), alive)
    assert not await runs.claim("link-check", period, 2, clock.now(), alive)  # 1 lives
    assert await runs.claim("link-check", period, 1, clock.now(), alive)  # its own
    live.discard(1)
    assert await runs.claim("link-check", period, 2, clock.now(), alive)  # 1 is gone
    assert not await runs.claim("link-check", period, 3, clock.now(), alive)  # 2 lives
    assert not await runs.finish("link-check", period, 1, clock.now())  # no longer 1's
    assert await runs.finish("link-check", period, 2, clock.now())
    live.clear()
    assert not await runs.claim("link-check", period, 3, clock.now(), alive)  # finished
    assert await runs.claim("link-check", period + 86400, 3, clock.now(), alive)
    rows = await db.fetchall("SELECT period, claimed_by, takeovers FROM job_runs ORDER BY period")
    assert [tuple(r) for r in rows] == [(period, 2, 1), (period + 86400, 3, 0)]
    # Retention: periods begun before the cut-off go.
    assert await runs.prune(datetime.fromtimestamp(period + 1, UTC)) == 1


async def test_two_sqlite_processes_on_shard_0_elect_one_leader(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Same host, same file, both running shard 0 (a standby): exactly one leads, the lease
    keeps it while renewed, and passes on when it runs out or is given up."""
    from familybot.db.migrate import migrate

    path = tmp_path / "familybot.db"
    first = await Database.open(path)
    await migrate(first)
    second = await Database.open(path)
    shard0 = ShardFilter.of(2, [0])
    a = peers_for(first, None, shard0)
    b = peers_for(second, None, shard0)
    assert isinstance(a, LeasePeers) and isinstance(b, LeasePeers)
    a._clock = b._clock = clock
    try:
        assert sorted(await asyncio.gather(a.try_lead(), b.try_lead())) == [False, True]
        leader, standby = (a, b) if a.leading else (b, a)
        for _ in range(4):  # the leader renews every LEADER_RETRY: it keeps the lead
            clock.advance(seconds=LEADER_RETRY.total_seconds())
            assert await leader.try_lead() and not await standby.try_lead()
        # Killed (no more renewals): the standby leads once the lease runs out, not before.
        clock.advance(seconds=LEASE.total_seconds() - 1)
        assert not await standby.try_lead()
        clock.advance(seconds=1)
        assert await standby.try_lead()
        assert await standby.alive(standby.token) and not await standby.alive(leader.token)
        # The old leader, had it only stalled, finds the lease gone at its next try.
        assert not await leader.try_lead()
        # A clean stop gives the lease up: the other leads at its next try.
        await standby.close()
        assert await leader.try_lead()
    finally:
        await a.close()
        await b.close()
        await first.close()
        await second.close()


async def test_a_process_that_lost_the_lead_cuts_its_run(
    db: Database, other: Database, clock: FakeClock, backups: Path
) -> None:
    """A leader whose liveness went (a stalled connection, a lease run out) while its backup
    hung: another process takes the claim over and runs it; at the first one's next try, which
    finds the lead gone, its own run is cancelled, so the two never run on side by side."""
    clock.set(DAY_START + timedelta(hours=3))
    a = Process(db, clock, backups, hang=True)
    b = Process(other, clock, backups, hang=False)
    try:
        assert await a.lead.tick() and not await b.lead.tick()
        cut = asyncio.create_task(a.fire())
        await a.started.wait()
        assert "backup" in a.lead._running
        await kill(db, a.peers, clock)
        assert await b.lead.tick()  # takes the gone claimant's run over
        await settle(b)
        assert len(written(backups)) == 1
        assert not await a.lead.tick()  # b leads: a's hung run is cut
        await asyncio.wait_for(asyncio.gather(cut, return_exceptions=True), timeout=5)
        assert cut.done() and "backup" not in a.lead._running
        (row,) = await db.fetchall("SELECT claimed_by, finished_at FROM job_runs")
        assert row["claimed_by"] == b.peers.token and row["finished_at"] is not None
    finally:
        for p in (a, b):
            await p.peers.close()
