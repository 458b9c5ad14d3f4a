"""The planner: fills the reminder ledger for what is due within a short horizon
(see service.py for the ledger's guarantees)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import PlannedReminder, ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.models import (
    Group,
    OccurrenceOverride,
    SeriesStatus,
    SessionSeries,
)
from familybot.services.reminders.rules import (
    effective_occurrences,
    next_effective_start_after,
    targets_for,
)
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

# Reminders due within this window are written to the ledger ahead of time.
PLAN_HORIZON = timedelta(minutes=30)
# How often the planner tops the ledger up (well inside the horizon).
PLAN_INTERVAL = timedelta(minutes=10)
# After downtime, reminders are reconstructed this far back (then sent late or skipped).
MISSED_LOOKBACK = timedelta(days=7)
PLAN_BATCH = 200
# Recurrence maths is CPU work on the loop: give the loop a turn after this much of it (a
# series costs 0.2-1 ms, more on a loaded machine; issue 15: no stall over 50 ms).
PLAN_SLICE_SECONDS = 0.005


@dataclass
class PlanContext:
    groups: dict[int, Group]
    subscribers: dict[int, list[tuple[int, tuple[int, ...] | None]]]
    overrides: dict[int, dict[str, OccurrenceOverride]]


class Planner:
    def __init__(
        self,
        db: Database,
        sessions: SessionRepository,
        groups: GroupRepository,
        reminders: ReminderRepository,
        clock: Clock,
        shards: ShardFilter = ALL,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._groups = groups
        self._reminders = reminders
        self._clock = clock
        # Several processes may share the database: each plans only its shards' servers.
        self.shards = shards
        self._lock = asyncio.Lock()

    async def _context(self, batch: Sequence[SessionSeries]) -> PlanContext:
        group_ids = sorted({s.group_id for s in batch})
        return PlanContext(
            groups=await self._groups.get_many(group_ids),
            subscribers=await self._reminders.dm_subscribers(group_ids),
            overrides=await self._sessions.overrides([s.id for s in batch]),
        )

    def _plan_one(
        self, series: SessionSeries, ctx: PlanContext, lo: datetime, hi: datetime
    ) -> tuple[list[PlannedReminder], datetime | None]:
        """Reminders of `series` due in (lo, hi], and the first one due after hi."""
        group = ctx.groups.get(series.group_id)
        if group is None or not group.is_active:
            return [], None
        pairs = targets_for(group, ctx.subscribers.get(series.group_id, []))
        if not pairs:
            return [], None
        offsets = sorted({off for _, off in pairs})
        overrides = ctx.overrides.get(series.id, {})
        window_start = lo + timedelta(minutes=offsets[0])
        window_end = hi + timedelta(minutes=offsets[-1], seconds=1)
        planned: list[PlannedReminder] = []
        for occ in effective_occurrences(series, overrides, window_start, window_end):
            for target, off in pairs:
                due = occ.start_utc - timedelta(minutes=off)
                if lo < due <= hi:
                    planned.append(
                        PlannedReminder(series.id, occ.key, occ.start_utc, off, target, due)
                    )
        next_due: datetime | None = None
        for off in offsets:
            start = next_effective_start_after(series, overrides, hi + timedelta(minutes=off))
            if start is not None:
                due = start - timedelta(minutes=off)
                if next_due is None or due < next_due:
                    next_due = due
        return planned, next_due

    async def _plan_batch(
        self, batch: Sequence[SessionSeries], now: datetime, *, replan: bool
    ) -> int:
        ctx = await self._context(batch)
        hi = now + PLAN_HORIZON
        all_planned: list[PlannedReminder] = []
        plans: list[tuple[int, datetime, datetime | None]] = []
        ended: list[int] = []
        slice_start = time.perf_counter()
        for series in batch:
            if time.perf_counter() - slice_start > PLAN_SLICE_SECONDS:
                await asyncio.sleep(0)  # recurrence maths is CPU work: let the loop run
                slice_start = time.perf_counter()
            lo = max(series.planned_until, now - MISSED_LOOKBACK)
            owed = series.next_due is not None and series.next_due <= now
            if replan and not owed:
                # A change (new schedule, audience or offsets) applies from now on: a reminder
                # time that passed before someone opted in is not sent to them late. A series
                # still owed reminders from downtime keeps its catch-up window.
                lo = now
            until = max(hi, series.planned_until)
            planned, next_due = self._plan_one(series, ctx, lo, until)
            all_planned += planned
            plans.append((series.id, until, next_due))
            if next_due is None and series.repeat == "once":
                # A one-off stays active (cancellable, movable) until it has started; look
                # at it again once it has, and mark it ended then.
                upcoming = next_effective_start_after(series, ctx.overrides.get(series.id, {}), now)
                if upcoming is None:
                    ended.append(series.id)
                else:
                    plans[-1] = (series.id, until, upcoming + PLAN_HORIZON)
        async with self._db.transaction():
            await self._reminders.plan(all_planned)
            await self._sessions.set_plans(plans)
            if ended:
                await self._sessions.end_series(ended)
        return len(all_planned)

    async def plan(self, now: datetime | None = None) -> int:
        """Top the ledger up with every reminder due before now + horizon."""
        now = now or self._clock.now()
        total = 0
        async with self._lock:
            while True:
                batch = await self._sessions.due_for_planning(
                    now + PLAN_HORIZON, PLAN_BATCH, self.shards
                )
                if not batch:
                    break
                total += await self._plan_batch(batch, now, replan=False)
                await asyncio.sleep(0)  # let the gateway breathe between batches
        if total:
            log.info("planner wrote reminders count=%d", total)
        return total

    async def replan_ids(self, series_ids: Sequence[int]) -> None:
        await self.replan(series_ids)

    async def replan(self, series_ids: Sequence[int], now: datetime | None = None) -> int:
        """Plan again from now for series whose schedule, audience or offsets changed."""
        now = now or self._clock.now()
        async with self._lock:
            found = await self._sessions.get_many(list(series_ids))
            batch = [
                s
                for s in found.values()
                if s.status is SeriesStatus.ACTIVE and self.shards.owns(s.guild_id)
            ]
            if not batch:
                return 0
            return await self._plan_batch(batch, now, replan=True)
