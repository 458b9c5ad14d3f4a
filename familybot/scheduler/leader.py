"""Database-wide jobs in exactly one live process: the leader (familybot/db/peers.py).

Every process schedules the database-wide jobs; when one fires, it runs only where the
process leads. A process that does not lead tries again every LEADER_RETRY (and once more
when a global job fires), so when the leader dies (its connection closes, its lock goes)
another process leads within that time. Becoming the leader runs `on_lead` (the command
sync: commands are global to the application, one process syncs them).

The same tick keeps this process's pace (`limiter`) at its part of the bot's rate budget,
which changes as processes running the same shards come and go (Peers.rate_share), and
every ROUTING_EVERY it relearns which processes run this process's shards, for the message
features (familybot/routing.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from familybot.db.peers import LEADER_RETRY, Peers
from familybot.ratelimit import SlidingWindowLimiter
from familybot.routing import ROUTING_EVERY, MessageRouting
from familybot.scheduler.reminders import JOB_DEFAULTS

log = logging.getLogger(__name__)

LEADER_JOB = "leader"
ROUTING_JOB = "message-routing"


class Leadership:
    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        peers: Peers,
        on_lead: Callable[[], Awaitable[Any]] | None = None,
        *,
        limiter: SlidingWindowLimiter | None = None,
        budget: int = 0,
    ) -> None:
        self._scheduler = scheduler
        self.peers = peers
        self._on_lead = on_lead
        self._limiter = limiter
        self._budget = budget
        self._led = False  # whether this process led at the last try
        self.routing = MessageRouting(peers)

    async def start(self) -> None:
        self._scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=LEADER_RETRY.total_seconds()),
            id=LEADER_JOB,
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        self._scheduler.add_job(
            self.routing.refresh,
            IntervalTrigger(seconds=ROUTING_EVERY.total_seconds()),
            id=ROUTING_JOB,
            replace_existing=True,
            **JOB_DEFAULTS,
        )
        await self.tick()
        await self.routing.refresh()

    async def tick(self) -> bool:
        """Try to lead (or check that this process still does); True when it leads."""
        leading = await self.peers.try_lead()
        await self.pace()
        became, self._led = leading and not self._led, leading
        if became and self._on_lead is not None:
            try:
                await self._on_lead()
            except Exception:
                log.exception("the leader's start-up work failed")
        return leading

    async def pace(self) -> None:
        """Set the limiter to this process's part of the budget (unchanged when unknown)."""
        if self._limiter is None:
            return
        share = await self.peers.rate_share(self._budget)
        if share is not None and share != self._limiter.limit:
            log.info("rate part now %d/s of %d/s", share, self._budget)
            self._limiter.set_limit(share)

    def only_leader(
        self, job_id: str, func: Callable[[], Awaitable[Any]]
    ) -> Callable[[], Awaitable[None]]:
        """`func` as a job that runs only in the leading process."""

        async def run() -> None:
            if not await self.tick():
                log.info("database-wide job left to the leader job=%s", job_id)
                return
            # One line per run with its start (Unix seconds): the crash test checks from these
            # that each firing ran in one process only (tests/crash/test_crash_failover.py).
            log.info("database-wide job started job=%s at=%d", job_id, int(time.time()))
            await func()
            log.info("database-wide job done job=%s", job_id)

        return run
