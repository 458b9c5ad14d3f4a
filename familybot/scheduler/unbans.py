"""Timed bans: one DateTrigger job per ban (`unban:{case_id}`), rebuilt from the database.

The scheduled_unbans rows are the truth. At start every pending row gets its job back, and
anything that fell due while the bot was down is lifted at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from familybot.clock import Clock
from familybot.scheduler.reminders import JOB_DEFAULTS
from familybot.services.moderation.service import ModerationService
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)


def unban_job_id(case_id: int) -> str:
    return f"unban:{case_id}"


class UnbanScheduler:
    def __init__(
        self,
        scheduler: AsyncIOScheduler,
        moderation: ModerationService,
        clock: Clock,
        shards: ShardFilter = ALL,
    ) -> None:
        # Each process lifts the bans of its own shards' servers; new bans come from commands,
        # which Discord delivers to the shard of the server anyway.
        self._shards = shards
        self._scheduler = scheduler
        self._moderation = moderation
        self._clock = clock

    async def start(self) -> None:
        now = self._clock.now()
        overdue = 0
        for case_id, due_at in await self._moderation.pending_unbans(self._shards):
            if due_at <= now:
                overdue += 1
                await self.lift(case_id)
            else:
                await self.schedule(case_id, due_at)
        if overdue:
            log.info("lifted timed bans that fell due while stopped count=%d", overdue)

    async def schedule(self, case_id: int, due_at: datetime) -> None:
        self._scheduler.add_job(
            self.lift,
            DateTrigger(run_date=max(due_at, self._clock.now())),
            args=[case_id],
            id=unban_job_id(case_id),
            replace_existing=True,
            **JOB_DEFAULTS,
        )

    async def cancel(self, case_ids: Sequence[int]) -> None:
        for case_id in case_ids:
            job = self._scheduler.get_job(unban_job_id(case_id))
            if job is not None:
                job.remove()

    async def lift(self, case_id: int) -> None:
        try:
            retry_at = await self._moderation.lift_timed_ban(case_id)
        except Exception:
            log.exception("timed ban job failed case=%d", case_id)
            return
        if retry_at is not None:
            await self.schedule(case_id, retry_at)
