"""job_runs: each database-wide job once per period, whoever leads (familybot/scheduler/leader.py).

A run is claimed by inserting (job, period) before it starts and finished by stamping
finished_at once it returns. A claim that never finished belongs to a process that died (or
lost the lead) mid-job; once that process is gone (`alive` says no: its liveness lock on
PostgreSQL, the leader lease on SQLite) the next claim takes it over, so the period's run is
done again to its end rather than skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from familybot.db.connection import Database
from familybot.models import to_unix

log = logging.getLogger(__name__)


class JobRunRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self,
        job: str,
        period: int,
        token: int,
        now: datetime,
        alive: Callable[[int], Awaitable[bool]],
    ) -> bool:
        """True when the caller (process `token`) now holds the run of `job` for `period`:
        it was free, already the caller's (unfinished), or its claimant is gone."""
        at = to_unix(now)
        if await self._db.insert_once(
            "INSERT OR IGNORE INTO job_runs (job, period, claimed_by, claimed_at) "
            "VALUES (?, ?, ?, ?)",
            (job, period, token, at),
        ):
            return True
        row = await self._db.fetchone(
            "SELECT claimed_by, finished_at FROM job_runs WHERE job = ? AND period = ?",
            (job, period),
        )
        if row is None or row["finished_at"] is not None:
            return False  # done this period (or pruned: long past)
        holder = int(row["claimed_by"])
        if holder == token:
            return True
        if await alive(holder):
            return False  # running in another live process
        # Compare and set: of two processes taking over at once, one gets it.
        taken = await self._db.execute(
            "UPDATE job_runs SET claimed_by = ?, claimed_at = ?, takeovers = takeovers + 1 "
            "WHERE job = ? AND period = ? AND claimed_by = ? AND finished_at IS NULL",
            (token, at, job, period, holder),
        )
        if taken.rowcount == 1:
            log.warning("database-wide job taken over from a gone process job=%s", job)
            return True
        return False

    async def finish(self, job: str, period: int, token: int, now: datetime) -> bool:
        """Stamp the run finished; False when another process had taken it over meanwhile."""
        result = await self._db.execute(
            "UPDATE job_runs SET finished_at = ? "
            "WHERE job = ? AND period = ? AND claimed_by = ? AND finished_at IS NULL",
            (to_unix(now), job, period, token),
        )
        return result.rowcount == 1

    async def unfinished(self, periods: dict[str, set[int]]) -> list[tuple[str, int, int]]:
        """(job, period, claimant) of the unfinished claims among these jobs' periods."""
        rows = await self._db.fetchall(
            "SELECT job, period, claimed_by FROM job_runs WHERE finished_at IS NULL"
        )
        return [
            (str(r["job"]), int(r["period"]), int(r["claimed_by"]))
            for r in rows
            if int(r["period"]) in periods.get(str(r["job"]), set())
        ]

    async def exists(self, job: str, period: int) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM job_runs WHERE job = ? AND period = ?", (job, period)
        )
        return row is not None

    async def prune(self, before: datetime) -> int:
        """Forget the runs of periods that began before `before`; how many went."""
        result = await self._db.execute("DELETE FROM job_runs WHERE period < ?", (to_unix(before),))
        return max(result.rowcount, 0)
