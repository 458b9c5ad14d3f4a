"""APScheduler as a cache of what is due soon: one job per distinct due instant.

The planner job tops the ledger up every PLAN_INTERVAL; after each planning pass the
scheduler holds a DateTrigger job for every distinct instant at which reminders fall due,
and that job sends everything due by then. Jobs take only the due instant (unix seconds)
and reload everything else from the database. At start-up everything is rebuilt from the
database, and anything overdue goes out at once.

Processes running the same shards each send what they claimed (service.py). A run passes
over the rows another live process claimed; when that process dies or stops with some of
them unsent, nothing here would read them again before the next planning pass (10 minutes)
or a later instant's run. So every TAKEOVER_EVERY each process looks for claims of processes
now gone, and gives them a run when two looks in a row found them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from familybot.clock import Clock
from familybot.db.connection import DatabaseUnavailable
from familybot.db.repositories.reminders import ReminderRepository
from familybot.models import from_unix
from familybot.services.reminders.planner import PLAN_HORIZON, PLAN_INTERVAL, Planner
from familybot.services.reminders.service import Dispatcher

log = logging.getLogger(__name__)

PLANNER_JOB = "reminder-planner"
DISPATCH_LEAD = timedelta(seconds=2)
# Preparing (load, check, mark as sending) runs at a few thousand reminders a second on a
# 2-core machine, and at about a thousand when other work loads it: a larger burst starts
# that much earlier, so all of it is ready at its instant.
PREPARED_PER_SECOND = 1000
MAX_LEAD = timedelta(minutes=1)


def dispatch_lead(count: int) -> timedelta:
    """How long before its instant the run for `count` reminders starts preparing."""
    return min(DISPATCH_LEAD + timedelta(seconds=count / PREPARED_PER_SECOND), MAX_LEAD)


# A run that met a locked or full database left its reminders pending: try again soon
# rather than at the next planning pass, which may be minutes away.
DISPATCH_RETRY = timedelta(seconds=15)
FIRST_PASS_RETRY_JOB = "reminder-first-pass-retry"
# In the bot, the first planning pass waits for ready and the warm-up after it (issue 15:
# ready must not wait on a pass whose cost grows with the database, nor share the CPU with the
# log-in or the warm-up's workers), then this much more, for the rest of what on_ready starts. The
# ledger already holds the next PLAN_HORIZON's reminders planned before the stop, and their
# jobs exist before ready: what waits is only what the stop left unplanned.
FIRST_PASS_WAIT = 0.5  # seconds, by the loop's clock
# Ready never came (the Gateway down or slow): plan anyway, reminders go out over HTTP.
FIRST_PASS_LATEST = 30.0  # seconds after start(), by the loop's clock
STOP_WAIT = 2.0  # seconds: how long stop() waits for a cancelled first pass
# How often a process looks for reminders whose claimant is gone (one indexed query). A
# killed process's lock goes at once, a vanished host's within about 25 s (db/peers.py).
TAKEOVER_EVERY = timedelta(seconds=10)
TAKEOVER_JOB = "reminder-takeover"

# A job that runs late (after downtime, or a stalled loop) still runs: the dispatcher
# decides between "sent late" and "skipped". Two runs of one job coalesce into one.
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


DUE_JOB_PREFIX = "reminders-due:"


def due_job_id(instant: datetime) -> str:
    return f"{DUE_JOB_PREFIX}{int(instant.timestamp())}"


class ReminderScheduler:
    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        planner: Planner,
        dispatcher: Dispatcher,
        reminders: ReminderRepository,
        clock: Clock,
    ) -> None:
        self._scheduler = scheduler
        self._planner = planner
        self._dispatcher = dispatcher
        self._reminders = reminders
        self._clock = clock
        # Due-jobs only for instants of our shards' reminders (the dispatcher filters alike).
        self._shards = dispatcher.shards
        # A date job leaves the job store when it starts: these are the ones still running,
        # so a replan doesn't add a twin that APScheduler would refuse (max_instances).
        self._running: set[int] = set()
        # It leaves the store when APScheduler hands it to the executor, a moment before its
        # run starts: from that hand-over on it counts as running (a replan in that moment
        # once added a twin, refused with a warning on a loaded machine).
        scheduler.add_listener(self._handed_over, EVENT_JOB_SUBMITTED)
        # Running instants that got new rows after their run had read the ledger (a planning
        # pass during the run): the running job sends once more when its run ends.
        self._again: set[int] = set()
        # The processes (claim tokens) the last look found gone with reminders (take_over).
        self._orphans_seen: set[int] = set()
        # The first planning pass, running in the background after start().
        self.first_pass: asyncio.Task[None] | None = None

    def _handed_over(self, event: JobSubmissionEvent) -> None:
        if event.job_id.startswith(DUE_JOB_PREFIX):
            self._running.add(int(event.job_id.removeprefix(DUE_JOB_PREFIX)))

    async def start(self, ready: asyncio.Event | None = None) -> None:
        """Jobs for what the ledger already holds (one indexed query), then the first
        planning pass in the background: its cost is the number of series falling due in
        the horizon (about 800 at 1M sessions, 1 s of recurrence maths), so start-up does
        not wait for it (issue 15). Anything it adds gets its job when it ends. With `ready`
        (the bot's), the pass begins FIRST_PASS_WAIT after it is set (or FIRST_PASS_LATEST
        after now, if it never is)."""
        self._scheduler.add_job(
            self.plan_and_schedule,
            IntervalTrigger(seconds=PLAN_INTERVAL.total_seconds()),
            id=PLANNER_JOB,
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        self._scheduler.add_job(
            self.take_over,
            IntervalTrigger(seconds=TAKEOVER_EVERY.total_seconds()),
            id=TAKEOVER_JOB,
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        await self._schedule_due()
        self.first_pass = asyncio.create_task(self._first_pass(ready), name="reminder-first-pass")

    async def _first_pass(self, ready: asyncio.Event | None) -> None:
        if ready is not None:
            try:
                await asyncio.wait_for(ready.wait(), FIRST_PASS_LATEST)
                await asyncio.sleep(FIRST_PASS_WAIT)
            except TimeoutError:
                log.warning("not ready after %ds, planning reminders anyway", FIRST_PASS_LATEST)
        try:
            await self.plan_and_schedule()
        except Exception as error:
            # Not PLAN_INTERVAL later: a reminder due within it would be late or lost.
            log.warning(
                "first reminder planning pass failed, retrying in=%ds error=%s",
                DISPATCH_RETRY.total_seconds(),
                type(error).__name__,
            )
            self._scheduler.add_job(
                self.plan_and_schedule,
                DateTrigger(run_date=self._clock.now() + DISPATCH_RETRY),
                id=FIRST_PASS_RETRY_JOB,
                replace_existing=True,
                **JOB_DEFAULTS,
            )

    async def stop(self) -> None:
        """Stop a first planning pass still running (the database is about to close). It is
        waited for STOP_WAIT at most: a pass cut inside a query on a stalled connection can
        hang in the driver's clean-up until the database's close, bounded itself, cuts it."""
        if self.first_pass is not None and not self.first_pass.done():
            self.first_pass.cancel()
            done, _ = await asyncio.wait({self.first_pass}, timeout=STOP_WAIT)
            if not done:
                log.warning("first reminder planning pass still stopping; closing anyway")

    async def plan_and_schedule(self) -> None:
        await self._planner.plan()
        await self._schedule_due()

    async def series_changed(self, series_ids: Sequence[int]) -> None:
        await self._planner.replan(series_ids)
        await self._schedule_due()

    async def take_over(self) -> None:
        """Give the reminders of processes now gone a run (see the module's doc): one run
        for the latest such instant sends every one due by then."""
        now = self._clock.now()
        try:
            gone = await self._reminders.orphaned(
                now, self._shards, claimant=self._dispatcher.peers.token
            )
        except (sqlite3.OperationalError, DatabaseUnavailable) as error:
            # The next look, TAKEOVER_EVERY from now, tries again.
            log.warning(
                "could not look for reminders left by a process error=%s", type(error).__name__
            )
            return
        # Gone at two looks in a row, TAKEOVER_EVERY apart: a live process whose database
        # connection dropped for a moment (its lock freed, then taken again) keeps its claims
        # and sends them itself; taking them at the first look could send some twice.
        # Counted per process (its claim token): another's drop at the second look is not it.
        twice = [due for token, due in gone.items() if token in self._orphans_seen]
        self._orphans_seen = set(gone)
        until = max(twice, default=None)
        if until is not None and self._schedule_run(until, 0, now):
            log.info("taking over reminders left by a process due=%d", int(until.timestamp()))

    async def _schedule_due(self) -> None:
        now = self._clock.now()
        due = await self._reminders.pending_instant_counts(now + PLAN_HORIZON, self._shards)
        for instant, count in due:
            self._schedule_run(instant, count, now)

    def _schedule_run(self, instant: datetime, count: int, now: datetime) -> bool:
        """A run for `instant` (`count` reminders due then), unless one is due to start; if
        one is under way, it runs once more when it ends (it may have read past new rows).
        False when that was already so."""
        job_id = due_job_id(instant)
        if self._scheduler.get_job(job_id) is not None:
            return False
        unix = int(instant.timestamp())
        if unix in self._running:
            added = unix not in self._again
            self._again.add(unix)
            return added
        # Start a little early: the database work happens before the instant, and the
        # reminders are handed to the sender at the instant itself.
        self._scheduler.add_job(
            self.dispatch,
            DateTrigger(run_date=max(instant - dispatch_lead(count), now)),
            args=[int(instant.timestamp())],
            id=job_id,
            **JOB_DEFAULTS,
        )
        return True

    async def dispatch(self, due_unix: int | None = None) -> None:
        if due_unix is None:
            await self._dispatcher.dispatch(None)
            return
        self._running.add(due_unix)
        self._again.discard(due_unix)
        try:
            await self._dispatcher.dispatch(from_unix(due_unix))
            while due_unix in self._again:
                # Planned for this instant after the run read the ledger: send them now, in
                # this job (a second job for the instant would be refused while this runs).
                self._again.discard(due_unix)
                await self._dispatcher.dispatch(from_unix(due_unix))
        except (sqlite3.OperationalError, DatabaseUnavailable) as error:
            retry_at = self._clock.now() + DISPATCH_RETRY
            log.warning(
                "reminder run met a database error, retrying due=%d in=%ds error=%s",
                due_unix,
                DISPATCH_RETRY.total_seconds(),
                str(error).split(":")[0],
            )
            self._scheduler.add_job(
                self.dispatch,
                DateTrigger(run_date=retry_at),
                args=[due_unix],
                id=due_job_id(from_unix(due_unix)),
                replace_existing=True,
                **JOB_DEFAULTS,
            )
        finally:
            self._running.discard(due_unix)
            self._again.discard(due_unix)
