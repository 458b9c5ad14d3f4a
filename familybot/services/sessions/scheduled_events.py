"""Discord's Events panel: each group's next session mirrored as a guild scheduled event.

Optional per server (`/setup events on|off`). A group has at most one mirrored event, for
its next session, so a server stays far below Discord's limit of 100 scheduled events.

Mirroring is best effort and never blocks a command: changes are synced in the background
after the command's own work; Discord's refusals are logged with ids and retried on the
next sync (the periodic job also re-syncs groups whose mirrored session has started, so the
event rolls on to the next session).

Privacy: the Events panel is visible to the whole server. An event says that a group meets
and when (already public through `/group list`), never who belongs to it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from familybot.clock import Clock
from familybot.db.repositories.events import EventMirror, EventMirrorRepository
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.errors import DiscordActionFailed
from familybot.models import Group, SessionSeries
from familybot.models.events import EventSpec
from familybot.models.sessions import Occurrence
from familybot.services.reminders.rules import (
    effective_occurrences,
    next_effective_start_after,
)
from familybot.services.sessions.event_specs import discord_recurrence, event_spec, fingerprint
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

# Discord allows 100 scheduled (or active) events per server.
MAX_EVENTS = 100


class SyncResult(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    NONE = "none"  # nothing to show and nothing shown
    SKIPPED = "skipped"  # the server is at Discord's limit
    FAILED = "failed"  # Discord refused; tried again on the next sync


@dataclass
class GuildSync:
    shown: int = 0  # groups whose next session is in the Events panel afterwards
    removed: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, result: SyncResult) -> None:
        if result in (SyncResult.CREATED, SyncResult.UPDATED, SyncResult.UNCHANGED):
            self.shown += 1
        elif result is SyncResult.DELETED:
            self.removed += 1
        elif result is SyncResult.SKIPPED:
            self.skipped += 1
        elif result is SyncResult.FAILED:
            self.failed += 1


@dataclass(frozen=True)
class _Target:
    series: SessionSeries
    occurrence: Occurrence
    spec: EventSpec


class ScheduledEventsPort(Protocol):
    """Discord's Events panel, optional (/setup events)
    (familybot/discord/scheduled_events.py)."""

    async def create_scheduled_event(self, guild_id: int, spec: EventSpec) -> int:
        """Create a guild scheduled event; returns its id."""
        ...

    async def edit_scheduled_event(self, guild_id: int, event_id: int, spec: EventSpec) -> bool:
        """Make the event match `spec`; False when the event no longer exists on Discord."""
        ...

    async def delete_scheduled_event(self, guild_id: int, event_id: int) -> None:
        """Delete the event; an event that is already gone counts as deleted."""
        ...


class EventsService:
    def __init__(
        self,
        mirrors: EventMirrorRepository,
        settings: SettingsRepository,
        groups: GroupRepository,
        sessions: SessionRepository,
        discord: ScheduledEventsPort,
        clock: Clock,
        *,
        limit: int = MAX_EVENTS,
        shards: ShardFilter = ALL,
    ) -> None:
        # The periodic sync touches only servers on this process's shards (see sharding.py).
        self.shards = shards
        self._mirrors = mirrors
        self._settings = settings
        self._groups = groups
        self._sessions = sessions
        self._discord = discord
        self._clock = clock
        self.limit = limit
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retry: set[int] = set()
        # Groups a background sync will still reach (it reads their state when it gets there):
        # another change before then adds nothing (issue 15: /my forget's GroupChanged and the
        # SeriesChanged it sets off named each group twice).
        self._queued: set[int] = set()
        # Changes and sync starts in order: a series change needs a sync of its group begun
        # after it (one begun while its group was being looked up will do).
        self._ticks = itertools.count()
        self._began: dict[int, int] = {}  # group id -> tick its last sync began at
        self._swept = False  # sync_due reconciles everything once after a start

    # --- settings ------------------------------------------------------------------------
    async def enabled(self, guild_id: int) -> bool:
        return (await self._settings.get(guild_id)).scheduled_events

    async def set_enabled(self, guild_id: int, on: bool) -> GuildSync:
        """Turn mirroring on (every group's next session is added) or off (all removed)."""
        await self._settings.set(guild_id, "scheduled_events", int(on), self._clock.now())
        log.info("scheduled events guild=%d on=%s", guild_id, on)
        return await self.sync_guild(guild_id)

    # --- syncing -------------------------------------------------------------------------
    async def sync_guild(self, guild_id: int) -> GuildSync:
        group_ids = {g.id for g in await self._groups.list_active(guild_id)}
        group_ids |= {m.group_id for m in await self._mirrors.for_guild(guild_id)}
        report = GuildSync()
        for group_id in sorted(group_ids):
            report.add(await self.sync_group(group_id))
        return report

    async def sync_series(self, series_ids: Sequence[int]) -> None:
        found = await self._sessions.get_many(list(series_ids))
        for group_id in sorted({s.group_id for s in found.values()}):
            await self.sync_group(group_id)

    async def sync_due(self) -> int:
        """Periodic: roll on events whose session has started; retry earlier failures.

        The first run after a start reconciles every server that has mirroring on, so
        changes missed while the bot was down (or failures before a restart) are caught up.
        """
        stale = await self._mirrors.stale_group_ids(self._clock.now(), self.shards)
        group_ids = set(stale) | self._retry
        if not self._swept:
            self._swept = True
            for guild_id in await self._mirrors.enabled_guild_ids(self.shards):
                group_ids |= {g.id for g in await self._groups.list_active(guild_id)}
        for group_id in sorted(group_ids):
            await self.sync_group(group_id)
        return len(group_ids)

    async def sync_group(self, group_id: int) -> SyncResult:
        """Make the group's mirrored event match its next session. Never raises."""
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            try:
                result = await self._sync(group_id)
            except DiscordActionFailed:
                log.warning("scheduled event sync failed group=%d; will retry", group_id)
                result = SyncResult.FAILED
            except Exception:
                log.exception("scheduled event sync error group=%d; will retry", group_id)
                result = SyncResult.FAILED
        if result is SyncResult.FAILED:
            self._retry.add(group_id)
        else:
            self._retry.discard(group_id)
        return result

    async def _sync(self, group_id: int) -> SyncResult:
        group = await self._groups.get(group_id)
        mirror = await self._mirrors.get(group_id)
        if group is None:
            return SyncResult.NONE  # the mirror row went with it (ON DELETE CASCADE)
        target: _Target | None = None
        if group.is_active and await self.enabled(group.guild_id):
            target = await self._next(group)
        if target is None:
            if mirror is None:
                return SyncResult.NONE
            await self._discord.delete_scheduled_event(mirror.guild_id, mirror.event_id)
            await self._mirrors.delete(group_id)
            log.info("scheduled event deleted group=%d event=%d", group_id, mirror.event_id)
            return SyncResult.DELETED
        stamp = fingerprint(target.spec)
        recurring = target.spec.recurrence is not None
        if mirror is not None and mirror.fingerprint == stamp and mirror.recurring == recurring:
            if recurring and mirror.start != target.occurrence.start_utc:
                # Discord rolls a recurring event on by itself; note the next session so
                # the periodic sync looks again after it.
                await self._save(group, mirror.event_id, target, stamp)
            return SyncResult.UNCHANGED
        now = self._clock.now()
        same_kind = mirror is not None and mirror.recurring == recurring
        if mirror is not None and same_kind and (mirror.start > now or recurring):
            if await self._discord.edit_scheduled_event(
                group.guild_id, mirror.event_id, target.spec
            ):
                await self._save(group, mirror.event_id, target, stamp)
                log.info("scheduled event updated group=%d event=%d", group_id, mirror.event_id)
                return SyncResult.UPDATED
            log.info("scheduled event gone group=%d event=%d", group_id, mirror.event_id)
            await self._mirrors.delete(group_id)
        elif mirror is not None:
            # Its session has started: replace it rather than move it (Discord won't move an
            # event that is under way), which also starts the Interested list afresh.
            await self._discord.delete_scheduled_event(mirror.guild_id, mirror.event_id)
            await self._mirrors.delete(group_id)
        if await self._mirrors.count_for_guild(group.guild_id) >= self.limit:
            log.warning(
                "scheduled events at limit guild=%d; group=%d not mirrored",
                group.guild_id,
                group_id,
            )
            return SyncResult.SKIPPED
        event_id = await self._discord.create_scheduled_event(group.guild_id, target.spec)
        await self._save(group, event_id, target, stamp)
        log.info("scheduled event created group=%d event=%d", group_id, event_id)
        return SyncResult.CREATED

    async def _save(self, group: Group, event_id: int, target: _Target, stamp: str) -> None:
        await self._mirrors.save(
            group_id=group.id,
            guild_id=group.guild_id,
            event_id=event_id,
            series_id=target.series.id,
            occurrence_key=target.occurrence.key,
            start=target.occurrence.start_utc,
            fingerprint=stamp,
            now=self._clock.now(),
            recurring=target.spec.recurrence is not None,
        )

    async def _next(self, group: Group) -> _Target | None:
        """The group's next session over all its active series, after cancels and moves."""
        now = self._clock.now()
        series_list = await self._sessions.active_for_groups([group.id])
        overrides = await self._sessions.overrides([s.id for s in series_list])
        best: tuple[datetime, SessionSeries] | None = None
        for series in series_list:
            start = next_effective_start_after(series, overrides[series.id], now)
            if start is not None and (best is None or start < best[0]):
                best = (start, series)
        if best is None:
            return None
        start, series = best
        found = effective_occurrences(
            series, overrides[series.id], start, start + timedelta(seconds=1)
        )
        duration = timedelta(minutes=series.duration_minutes)
        occurrence = found[0] if found else Occurrence("", start, start + duration)
        # One recurring event when the group has one series and Discord can say it truly;
        # with two series the panel shows the group's next session (one event per group).
        recurrence = None
        if len(series_list) == 1 and found:
            recurrence = discord_recurrence(series, overrides[series.id], occurrence)
        return _Target(series, occurrence, event_spec(group, series, occurrence, recurrence))

    # --- background work -----------------------------------------------------------------
    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("scheduled event background sync failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def series_changed_soon(self, series_ids: Iterable[int]) -> None:
        self._spawn(self._queue_series(list(series_ids), next(self._ticks)))

    async def _queue_series(self, series_ids: Sequence[int], changed_at: int) -> None:
        found = await self._sessions.get_many(list(series_ids))
        groups = {s.group_id for s in found.values()}
        self.groups_changed_soon(g for g in groups if self._began.get(g, -1) < changed_at)

    def groups_changed_soon(self, group_ids: Iterable[int]) -> None:
        # One task syncing the groups in turn, not one task each: ten at once (one person
        # forgotten from ten groups) held the pool and slowed that /my forget (issue 15).
        new = sorted(set(group_ids) - self._queued)
        if new:
            self._queued.update(new)
            self._spawn(self._sync_groups(new))

    async def _sync_groups(self, group_ids: Sequence[int]) -> None:
        left = list(group_ids)
        try:
            while left:
                # From here on a change queues the group again: this sync may read it too early.
                self._queued.discard(left[0])
                self._began[left[0]] = next(self._ticks)
                await self.sync_group(left.pop(0))
        finally:  # cancelled (shutdown): what it never reached is not waiting any more
            self._queued.difference_update(left)

    async def settle(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait for background syncs (tests, and a clean shutdown); cancel any left after."""
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while self._tasks:
            left = None if deadline is None else deadline - asyncio.get_running_loop().time()
            if left is not None and left <= 0:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
                return
            await asyncio.wait(list(self._tasks), timeout=left)

    async def mirrored(self, guild_id: int) -> list[EventMirror]:
        return await self._mirrors.for_guild(guild_id)
