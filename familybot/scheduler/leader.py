"""Database-wide jobs in exactly one live process: the leader (familybot/db/peers.py).

Every process schedules the database-wide jobs; when one fires, it runs only where the
process leads. A process that does not lead tries again every LEADER_RETRY (and once more
when a global job fires), so when the leader dies (its connection closes, its lock goes)
another process leads within that time. Becoming the leader runs `on_lead` (the command
sync: commands are global to the application, one process syncs them).

The same tick keeps this process's pace (`limiter`) at its part of the bot's rate budget,
which changes as processes running the same shards come and go (Peers.rate_share): it is
recounted every ROUTING_EVERY (db/peers.py RECOUNT), when this process also relearns which
processes run its shards, for the message features (familybot/routing.py).

Exactly once, whoever leads (`runs`, the job_runs table): each job runs once per *period*
(the UTC day; the week for the review digest). The leader claims (job, period) before it
starts and stamps it finished at the end, so a process that leads later the same period
(the old leader lost its lock mid-job, or died) does not run it again. What "once" means:

* backup: must not be skipped. A run whose process died before its end is taken over by
  the leader's next tick (within LEADER_RETRY of the claimant being seen gone) and written
  again from the start; a half-written file of the dead run never replaces a good one
  (familybot/backup.py writes to a temporary name first).
* link check: idempotent (it re-checks links and stores their state): taken over likewise.
* review digest: taken over likewise; each server's post is recorded with a nonce before it
  is sent, so a run again posts no second digest to a server reached
  (familybot/services/resources/digest.py).

A clean stop (`stop`) starts no more runs and gives those under way STOP_GRACE to end; one
still running then is cancelled, which stamps nothing, so the next leader runs it again.
Every run is a task this class holds and awaits there: none outlives the stop, so none runs
on while another process, seeing this one gone, takes its claim over.
* command sync (`on_lead`): on becoming the leader, not per period: it replaces the whole
  command list, so running it again is harmless.
* retention's database-wide part asks `Peers.try_lead` itself (services/privacy): age-based
  deletes, harmless to repeat.

A job whose firing found no leader (the old one's lease not yet expired, on SQLite) is run
by the next leader's tick if that comes within CATCH_UP of its time. So is the run of the
*previous* period left unfinished by a gone process, when the next leader's tick comes
after the period ended (a job at 23:58 UTC whose leader died mid-run): its claim is taken
over (job_runs, compare and set), so it runs once, for that period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from familybot.clock import Clock, SystemClock
from familybot.db.peers import LEADER_RETRY, Peers
from familybot.db.repositories.job_runs import JobRunRepository
from familybot.models import to_unix
from familybot.ratelimit import SlidingWindowLimiter
from familybot.routing import ROUTING_EVERY, MessageRouting
from familybot.scheduler.reminders import JOB_DEFAULTS

log = logging.getLogger(__name__)

LEADER_JOB = "leader"
ROUTING_JOB = "message-routing"
DAY = timedelta(days=1)
# A firing that found no leader is run by a new leader's tick up to this long after its time.
CATCH_UP = timedelta(minutes=5)
JOB_RUNS_KEEP = timedelta(days=30)  # job_runs rows older than this are pruned
STOP_GRACE = timedelta(seconds=5)  # a clean stop waits this long for the runs under way
# ...and then this long at most for those it cancelled (one inside a query on a stalled
# database can hang in the driver's clean-up until the database's bounded close cuts it).
STOP_WAIT = timedelta(seconds=2)


@dataclass
class GlobalJob:
    func: Callable[[], Awaitable[Any]]
    trigger: BaseTrigger
    period: timedelta  # once per period, periods counted from the Unix epoch (UTC)


class Leadership:
    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        peers: Peers,
        on_lead: Callable[[], Awaitable[Any]] | None = None,
        *,
        limiter: SlidingWindowLimiter | None = None,
        budget: int = 0,
        runs: JobRunRepository | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._scheduler = scheduler
        self.peers = peers
        self._on_lead = on_lead
        self._limiter = limiter
        self._budget = budget
        self._led = False  # whether this process led at the last try
        self.routing = MessageRouting(peers)
        self._runs = runs  # None: no claims (each leader runs what fires while it leads)
        self._clock: Clock = clock or SystemClock()
        self.jobs: dict[str, GlobalJob] = {}
        self._running: dict[str, asyncio.Task[Any]] = {}  # this process's runs under way
        self._stopping = False

    def claims(self, runs: JobRunRepository, clock: Clock) -> None:
        """Claim each job's run per period in `runs` from now on (see the module doc)."""
        self._runs, self._clock = runs, clock

    def add(
        self,
        job_id: str,
        func: Callable[[], Awaitable[Any]],
        trigger: BaseTrigger,
        period: timedelta = DAY,
    ) -> None:
        """Schedule a database-wide job: it fires in every process, runs in the leader only,
        once per period."""
        self.jobs[job_id] = GlobalJob(func, trigger, period)
        self._scheduler.add_job(
            self.only_leader(job_id, func),
            trigger,
            id=job_id,
            replace_existing=True,
            **JOB_DEFAULTS,
        )

    async def start(self) -> None:
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=LEADER_RETRY.total_seconds()),
            id=LEADER_JOB,
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        self._scheduler.add_job(
            self.recount,
            IntervalTrigger(seconds=ROUTING_EVERY.total_seconds()),
            id=ROUTING_JOB,
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        await self.tick()
        await self.routing.refresh()

    async def stop(self, grace: timedelta = STOP_GRACE) -> None:
        """A clean stop, before the scheduler's (which would cancel its runs at once): no
        new runs; those under way get `grace` to end, then are cancelled; all awaited."""
        self._stopping = True
        running = set(self._running.values())
        if not running:
            return
        log.info("stopping: waiting for database-wide jobs count=%d", len(running))
        _, late = await asyncio.wait(running, timeout=grace.total_seconds())
        for task in late:
            log.warning("database-wide job cut short by the stop: the next leader runs it")
            task.cancel()
        if late:  # a run cut inside a query on a stalled database can hang in the driver's
            # clean-up: the database's close (bounded) cuts it; the stop does not wait on it
            _, stuck = await asyncio.wait(late, timeout=STOP_WAIT.total_seconds())
            if stuck:
                log.warning("database-wide jobs still stopping count=%d", len(stuck))

    async def recount(self) -> None:
        """Every RECOUNT: who runs this process's shards, for the message routing and for
        this process's part of the rate budget (a newcomer waits SETTLE, two recounts)."""
        await self.routing.refresh()
        await self.pace()

    async def tick(self, *, catch_up: bool = True) -> bool:
        """Try to lead (or check that this process still does); True when it leads."""
        leading = await self.peers.try_lead()
        await self.pace()
        lost = self._led and not leading
        became, self._led = leading and not self._led, leading
        if lost and self._running:
            # The lead went (a stalled or dropped liveness connection): another process may
            # take these runs' claims over now, so they must not run on beside its runs.
            # Cancelled, they mark nothing finished: the claim's new holder runs them.
            log.warning("lost the lead: cutting database-wide jobs count=%d", len(self._running))
            for task in list(self._running.values()):
                task.cancel()
        if became and self._on_lead is not None:
            try:
                await self._on_lead()
            except Exception:
                log.exception("the leader's start-up work failed")
        if leading and catch_up and self._runs is not None:
            try:
                await self._catch_up()
            except Exception:
                log.exception("could not look for database-wide jobs left undone")
        return leading

    def period(self, job_id: str, now: datetime) -> int:
        """The start (Unix seconds) of the period `now` falls in, for this job."""
        job = self.jobs.get(job_id)
        length = int((job.period if job is not None else DAY).total_seconds())
        return to_unix(now) // length * length

    async def _catch_up(self) -> None:
        """Run what a gone process left unfinished this period, and what fired while no
        process led (within CATCH_UP), in the background (this tick keeps the lead)."""
        assert self._runs is not None
        now = self._clock.now()
        periods = {job_id: self.period(job_id, now) for job_id in self.jobs}
        # Claims left unfinished by a gone process: this period's and the previous one's (a
        # run cut short before its period ended, e.g. a backup begun at 23:00 and killed at
        # 23:40, is taken over after midnight, however late; the claim makes it run once).
        looked_at = {
            job_id: {period, period - int(self.jobs[job_id].period.total_seconds())}
            for job_id, period in periods.items()
        }
        todo: list[tuple[str, int]] = []
        for job_id, period, holder in await self._runs.unfinished(looked_at):
            # Its own claim, not running here: a run cut when the lead was lost.
            if holder == self.peers.token or not await self.peers.alive(holder):
                todo.append((job_id, period))
        for job_id, job in self.jobs.items():
            due = self._due(job, periods[job_id])
            if (
                due is not None
                and due <= now <= due + CATCH_UP
                and not await self._runs.exists(job_id, periods[job_id])
            ):
                todo.append((job_id, periods[job_id]))
        for job_id, period in todo:
            if job_id not in self._running and not self._stopping:
                log.info("database-wide job caught up job=%s period=%d", job_id, period)
                run = self._run_once(job_id, self.jobs[job_id].func, period)
                self._running[job_id] = asyncio.create_task(run)

    @staticmethod
    def _due(job: GlobalJob, period: int) -> datetime | None:
        """When the job fires in the period starting at `period` (Unix seconds)."""
        due: datetime | None = job.trigger.get_next_fire_time(
            None, datetime.fromtimestamp(period, UTC)
        )
        return due

    async def _run_once(
        self, job_id: str, func: Callable[[], Awaitable[Any]], period: int | None = None
    ) -> None:
        """Claim the job's run for `period` (by default the one now falls in), run it, stamp
        it finished."""
        current = asyncio.current_task()
        if current is not None:
            self._running.setdefault(job_id, current)
        try:
            if self._stopping:  # fired as the stop began: left to the next leader
                return
            if period is None:
                period = self.period(job_id, self._clock.now())
            token = self.peers.token
            if self._runs is not None and not await self._runs.claim(
                job_id, period, token, self._clock.now(), self.peers.alive
            ):
                log.info("database-wide job already run this period job=%s", job_id)
                return
            # One line per run with its start (Unix seconds) and period: the crash test
            # checks from these that each period's job ran to its end in one process only
            # (tests/crash/test_crash_failover.py).
            log.info(
                "database-wide job started job=%s at=%d period=%d",
                job_id,
                int(time.time()),
                period,
            )
            try:
                await func()
            except Exception:
                # Failed, not cut short: it logged why; it is not tried again this period.
                await self._finish(job_id, period, token)
                raise
            # Cancelled (a stop mid-job) stamps nothing: the next leader runs it again.
            await self._finish(job_id, period, token)
            log.info("database-wide job done job=%s", job_id)
        finally:
            if self._running.get(job_id) is current:
                del self._running[job_id]

    async def pace(self) -> None:
        """Set the limiter to this process's part of the budget (unchanged when unknown)."""
        if self._limiter is None:
            return
        share = await self.peers.rate_share(self._budget)
        if share is not None and share != self._limiter.limit:
            log.info("rate part now %d/s of %d/s", share, self._budget)
            self._limiter.set_limit(share)

    async def _finish(self, job_id: str, period: int, token: int) -> None:
        if self._runs is not None:
            await self._runs.finish(job_id, period, token, self._clock.now())
            await self._runs.prune(self._clock.now() - JOB_RUNS_KEEP)

    def only_leader(
        self, job_id: str, func: Callable[[], Awaitable[Any]]
    ) -> Callable[[], Awaitable[None]]:
        """`func` as a job that runs only in the leading process."""

        async def run() -> None:
            if self._stopping:
                return
            if not await self.tick(catch_up=False):  # this firing runs it, not a catch-up
                log.info("database-wide job left to the leader job=%s", job_id)
                return
            if job_id in self._running:  # a catch-up of the same job is under way here
                log.info("database-wide job already running job=%s", job_id)
                return
            await self._run_once(job_id, func)

        return run
