"""Reminders, exactly once: a planner fills the ledger, a dispatcher empties it.

The database is the truth. The planner writes one ledger row per (series, occurrence,
start, offset, target) for reminders due within a short horizon; the row's unique key
means planning twice changes nothing. The dispatcher sends due rows, recording each
attempt before the send and the result after it:

* a job that fires twice finds the rows already `sent` and sends nothing;
* a send that discord.py retries after a 5xx carries the same `nonce` with
  `enforce_nonce`, so Discord returns the first message instead of posting a second;
* a process killed between send and commit leaves the row `sending`; on restart the
  dispatcher resends with the same nonce while Discord still remembers it, and after
  that looks for the message (its buttons carry the ledger id) before sending again.

Missed work is handled on purpose: a reminder found late but before the session starts
is sent with a "sent late" line; after the session has started it is skipped and counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from familybot import i18n
from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import PlannedReminder, ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.models import (
    Group,
    LedgerRow,
    LedgerState,
    OccurrenceOverride,
    SeriesStatus,
    SessionSeries,
)
from familybot.models.reminders import Delivery, ReminderCard, ReminderTarget
from familybot.models.sessions import Occurrence
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    next_occurrence,
    occurrence_for_key,
    occurrences,
)
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

# Reminders due within this window are written to the ledger ahead of time.
PLAN_HORIZON = timedelta(minutes=30)
# How often the planner tops the ledger up (well inside the horizon).
PLAN_INTERVAL = timedelta(minutes=10)
# After downtime, reminders are reconstructed this far back (then sent late or skipped).
MISSED_LOOKBACK = timedelta(days=7)
# A reminder sent more than this after its due instant says it is late.
LATE_AFTER = timedelta(minutes=5)
# Discord remembers a nonce for "a few minutes": within this, resending is safe as is.
NONCE_MEMORY = timedelta(minutes=2)
# Results are committed in chunks: one commit per chunk, not per reminder.
CHUNK = 50
RECORD_MAX = 1000
RECORD_DELAY = 2.0  # seconds a commit may wait while sends are still being handed over
# Rows loaded and prepared per page: a burst of any size is prepared page by page, each
# page a short stretch of loop time between database reads that run off the loop.
DISPATCH_BATCH = 500
# Sends in flight at once (the sender paces them; a few overlap network round trips).
SEND_WORKERS = 8
PLAN_BATCH = 200
# Long CPU-only loops (planning, checking, handing over) give the event loop a turn this
# often, so no stretch holds it for long (issue 15: no stall over 50 ms).
YIELD_EVERY = 25
MAX_ATTEMPTS = 5

CHANNEL_TARGET = "channel"


def dm_target(user_id: int) -> str:
    return f"dm:{user_id}"


def rule_of(series: SessionSeries) -> SeriesRule:
    return SeriesRule(
        tz=series.tz,
        first_local=series.first_local,
        repeat=Repeat(series.repeat),
        duration_minutes=series.duration_minutes,
        until_local=series.until_local,
        monthly_week=series.monthly_week,
    )


def effective_occurrences(
    series: SessionSeries,
    overrides: dict[str, OccurrenceOverride],
    start: datetime,
    end: datetime,
) -> list[Occurrence]:
    """Occurrences starting in [start, end) after cancellations and moves."""
    rule = rule_of(series)
    duration = timedelta(minutes=series.duration_minutes)
    found = [o for o in occurrences(rule, start, end) if o.key not in overrides]
    for key, override in overrides.items():
        moved_here = override.new_start is not None and start <= override.new_start < end
        if override.status == "moved" and override.new_start is not None and moved_here:
            found.append(Occurrence(key, override.new_start, override.new_start + duration))
    found.sort(key=lambda o: o.start_utc)
    return found


def next_effective_start_after(
    series: SessionSeries, overrides: dict[str, OccurrenceOverride], after: datetime
) -> datetime | None:
    """The first effective occurrence start strictly after `after`."""
    rule = rule_of(series)
    candidate: datetime | None = None
    cursor = after
    for _ in range(60):  # skip over up to 60 cancelled/moved occurrences in a row
        occ = next_occurrence(rule, cursor)
        if occ is None:
            break
        if occ.key not in overrides:
            candidate = occ.start_utc
            break
        cursor = occ.start_utc
    for override in overrides.values():
        moved = override.new_start if override.status == "moved" else None
        if moved is not None and moved > after and (candidate is None or moved < candidate):
            candidate = moved
    return candidate


@dataclass
class PlanContext:
    groups: dict[int, Group]
    subscribers: dict[int, list[tuple[int, tuple[int, ...] | None]]]
    overrides: dict[int, dict[str, OccurrenceOverride]]


def targets_for(
    group: Group, subscribers: list[tuple[int, tuple[int, ...] | None]]
) -> list[tuple[str, int]]:
    """(target, offset) pairs: the group's channel at the group's offsets, DMs at each person's."""
    pairs = [(CHANNEL_TARGET, off) for off in group.reminder_offsets]
    for user_id, personal in subscribers:
        pairs += [(dm_target(user_id), off) for off in (personal or group.reminder_offsets)]
    return pairs


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
        for n, series in enumerate(batch, 1):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # recurrence maths is CPU work: let the loop run
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


@dataclass
class DispatchReport:
    sent: int = 0
    late: int = 0
    skipped: int = 0
    cancelled: int = 0
    undeliverable: int = 0
    retried: int = 0
    recovered: int = 0


@dataclass(frozen=True)
class _Job:
    row: LedgerRow
    target: ReminderTarget
    card: ReminderCard
    # A group's channel reads the server's language; a DM, the person's own choice.
    language: i18n.Language = i18n.DEFAULT_LANGUAGE


class ReminderPort(Protocol):
    """Reminders sent, and found again after a crash (familybot/discord/reminders.py)."""

    async def send_reminder(
        self, target: ReminderTarget, card: ReminderCard, nonce: str
    ) -> Delivery:
        """Send one reminder. `nonce` is stable per reminder, so a retried send is not doubled."""
        ...

    async def find_reminder(
        self, target: ReminderTarget, ledger_id: int, after: datetime
    ) -> int | None:
        """The id of a reminder message already sent for `ledger_id` after `after`, if any.

        Raises when Discord cannot be asked: not knowing must not count as "not sent".
        """
        ...


class Dispatcher:
    def __init__(
        self,
        db: Database,
        sessions: SessionRepository,
        groups: GroupRepository,
        reminders: ReminderRepository,
        discord: ReminderPort,
        clock: Clock,
        shards: ShardFilter = ALL,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._groups = groups
        self._reminders = reminders
        self._discord = discord
        self._clock = clock
        # Only rows of this process's shards: the lock below is per process, not per database.
        self.shards = shards
        self._lock = asyncio.Lock()
        self.totals = DispatchReport()
        # Waits for the due instant; a test with a fake clock replaces it.
        self.sleep: Callable[[float], Awaitable[object]] = asyncio.sleep

    async def dispatch(self, instant: datetime | None = None) -> DispatchReport:
        """Send every reminder due by `instant` (default: now). Safe to call any number of times.

        Called a little before `instant`, it does the database work first (load, check,
        mark as sending, a page at a time), waits for the instant, and only then hands the
        reminders to the sender, so a burst due at one second leaves on time. Pages not
        ready by the instant keep being prepared while the first ones are sent.
        """
        report = DispatchReport()
        async with self._lock:
            now = self._clock.now()
            at = max(now, instant) if instant is not None else now
            jobs: deque[_Job] = deque()
            added = asyncio.Event()
            preparing = True

            async def prepare() -> None:
                nonlocal preparing
                after: tuple[datetime, int] | None = None
                try:
                    while True:
                        rows = await self._reminders.due(
                            at, DISPATCH_BATCH, self.shards, after=after
                        )
                        if not rows:
                            break
                        after = (rows[-1].due_at, rows[-1].id)
                        page = await self._triage(rows, at, report)
                        if page:
                            await self._reminders.mark_sending(
                                [j.row.id for j in page], self._clock.now()
                            )
                            jobs.extend(page)
                            added.set()
                        if len(rows) < DISPATCH_BATCH:
                            break
                finally:
                    preparing = False
                    added.set()

            preparation = asyncio.create_task(prepare())
            try:
                wait = (at - self._clock.now()).total_seconds()
                if wait > 0:
                    await self.sleep(wait)
                await self._send_all(jobs, added, lambda: preparing, at, report)
            finally:
                await preparation  # its error (a locked database) reaches the caller
        for name in (
            "sent",
            "late",
            "skipped",
            "cancelled",
            "undeliverable",
            "retried",
            "recovered",
        ):
            setattr(self.totals, name, getattr(self.totals, name) + getattr(report, name))
        if report.sent or report.skipped or report.undeliverable:
            log.info(
                "reminders sent=%d late=%d skipped=%d cancelled=%d undeliverable=%d",
                report.sent,
                report.late,
                report.skipped,
                report.cancelled,
                report.undeliverable,
            )
        return report

    async def _triage(
        self, rows: list[LedgerRow], now: datetime, report: DispatchReport
    ) -> list[_Job]:
        series_map = await self._sessions.get_many(sorted({r.series_id for r in rows}))
        group_map = await self._groups.get_many(sorted({s.group_id for s in series_map.values()}))
        overrides = await self._sessions.overrides(sorted(series_map))
        subscribers = await self._reminders.dm_subscribers(sorted(group_map))
        counts = await self._sessions.rsvp_counts(
            sorted({(r.series_id, r.occurrence_key) for r in rows})
        )
        cancel: list[int] = []
        skip: list[int] = []
        jobs: list[_Job] = []
        # Rule starts by (series, occurrence): a burst shares a few occurrences.
        starts: dict[tuple[int, str], datetime | None] = {}
        for n, row in enumerate(rows, 1):
            if n % (4 * YIELD_EVERY) == 0:
                await asyncio.sleep(0)  # a page is a few hundred checks: let the loop run
            series = series_map.get(row.series_id)
            group = group_map.get(series.group_id) if series else None
            if (
                series is None
                or group is None
                or not self._still_wanted(
                    row,
                    series,
                    group,
                    overrides.get(series.id, {}),
                    subscribers.get(group.id, []),
                    starts,
                )
            ):
                cancel.append(row.id)
                continue
            if now >= row.occurrence_start:
                skip.append(row.id)
                log.warning(
                    "reminder skipped: session already started ledger=%d series=%d",
                    row.id,
                    row.series_id,
                )
                continue
            if row.dm_user_id is not None:
                target = ReminderTarget(user_id=row.dm_user_id)
            elif group.channel_id is not None:
                target = ReminderTarget(channel_id=group.channel_id)
            else:
                cancel.append(row.id)
                continue
            c = counts.get((row.series_id, row.occurrence_key))
            card = ReminderCard(
                ledger_id=row.id,
                series_id=series.id,
                occurrence_key=row.occurrence_key,
                group_name=group.name,
                title=series.title,
                start=row.occurrence_start,
                end=row.occurrence_start + timedelta(minutes=series.duration_minutes),
                voice_channel_id=series.voice_channel_id,
                going=c.going if c else 0,
                maybe=c.maybe if c else 0,
                no=c.no if c else 0,
                late=now - row.due_at > LATE_AFTER,
            )
            language = (
                i18n.for_dm(row.dm_user_id, series.guild_id)
                if row.dm_user_id is not None
                else i18n.for_guild(series.guild_id)
            )
            jobs.append(_Job(row, target, card, language))
        if cancel or skip:
            async with self._db.transaction():
                await self._reminders.mark(cancel, LedgerState.CANCELLED)
                await self._reminders.mark(skip, LedgerState.SKIPPED)
        report.cancelled += len(cancel)
        report.skipped += len(skip)
        return jobs

    @staticmethod
    def _still_wanted(
        row: LedgerRow,
        series: SessionSeries,
        group: Group,
        overrides: dict[str, OccurrenceOverride],
        subscribers: list[tuple[int, tuple[int, ...] | None]],
        starts: dict[tuple[int, str], datetime | None],
    ) -> bool:
        if series.status is SeriesStatus.CANCELLED or not group.is_active:
            return False
        override = overrides.get(row.occurrence_key)
        if override is not None:
            if override.status == "cancelled":
                return False
            if override.new_start != row.occurrence_start:
                return False
        else:
            # The occurrence must still be part of the series at that start: an edit may
            # have ended the series before it (`until`) or changed its rule.
            slot = (series.id, row.occurrence_key)
            if slot not in starts:
                occ = occurrence_for_key(rule_of(series), row.occurrence_key)
                starts[slot] = occ.start_utc if occ is not None else None
            if starts[slot] != row.occurrence_start:
                return False
        return (row.target, row.offset_minutes) in targets_for(group, subscribers)

    async def _send_all(
        self,
        jobs: deque[_Job],
        added: asyncio.Event,
        preparing: Callable[[], bool],
        at: datetime,
        report: DispatchReport,
    ) -> None:
        """A few workers take reminders in due order; the sender paces them for Discord.

        Workers rather than one task per reminder: handing over costs one loop step per
        worker, not per reminder, and only a few sends are in flight at once. Workers never
        wait on the database: a recorder commits their results in chunks alongside them.
        `jobs` may still be growing (`preparing()`); `added` is set whenever it grows.
        """
        done: list[tuple[_Job, str, int | None]] = []
        ready = asyncio.Event()
        finished = False

        async def worker() -> None:
            sent_here = 0
            while True:
                if not jobs:
                    if not preparing():
                        return
                    added.clear()
                    await added.wait()
                    continue
                job = jobs.popleft()
                outcome, message_id = await self._send_one(job, at)
                done.append((job, outcome, message_id))
                if len(done) >= CHUNK:
                    ready.set()
                sent_here += 1
                if sent_here % YIELD_EVERY == 0:
                    # A sender that answers at once never suspends: let the loop run.
                    await asyncio.sleep(0)

        async def recorder() -> None:
            while True:
                await ready.wait()
                ready.clear()
                while len(done) >= CHUNK or (finished and done):
                    waited = 0.0
                    while jobs and not finished and waited < RECORD_DELAY:
                        # Still handing over: a commit now would slow the hand-over (its
                        # thread takes the GIL), so let more be done first, up to a limit.
                        await asyncio.sleep(0.05)
                        waited += 0.05
                    # All that is done, up to RECORD_MAX: paced sends make chunks of about
                    # CHUNK, a burst to a quick sender a few large commits, not hundreds.
                    batch = done[:RECORD_MAX]
                    del done[:RECORD_MAX]
                    await self._record(batch, report)
                if finished and not done:
                    return

        if not jobs and not preparing():
            return
        recording = asyncio.create_task(recorder())
        try:
            await asyncio.gather(*(worker() for _ in range(SEND_WORKERS)))
        finally:
            finished = True
            ready.set()
            await recording

    async def _record(
        self, results: list[tuple[_Job, str, int | None]], report: DispatchReport
    ) -> None:
        sent: list[tuple[int, int | None, bool]] = []
        undeliverable: list[_Job] = []
        failed: list[int] = []
        for job, outcome, message_id in results:
            if outcome in ("sent", "recovered"):
                sent.append((job.row.id, message_id, job.card.late))
                report.sent += 1
                report.late += int(job.card.late)
                report.recovered += int(outcome == "recovered")
            elif outcome == "undeliverable":
                undeliverable.append(job)
                report.undeliverable += 1
            elif job.row.attempts + 1 >= MAX_ATTEMPTS:
                failed.append(job.row.id)
            else:
                # The send may or may not have reached Discord: the row stays `sending`, so
                # the next run resends with the same nonce, or looks for the message first.
                report.retried += 1
        done_at = self._clock.now()
        async with self._db.transaction():
            await self._reminders.mark_sent(sent, done_at)
            await self._reminders.mark([j.row.id for j in undeliverable], LedgerState.UNDELIVERABLE)
            await self._reminders.mark(failed, LedgerState.FAILED)
            for user_id in sorted({j.target.user_id for j in undeliverable if j.target.user_id}):
                await self._reminders.record_dm_failure(user_id, "reminder", done_at)
        for ledger_id in failed:
            log.error("reminder failed after %d attempts ledger=%d", MAX_ATTEMPTS, ledger_id)

    async def _send_one(self, job: _Job, now: datetime) -> tuple[str, int | None]:
        row = job.row
        # An earlier attempt may have reached Discord (the process died, or the send failed
        # ambiguously). Any message it made is at least as old as the first attempt. Within
        # Discord's nonce memory of that, a resend is answered with the first message; later,
        # look for the message before sending again.
        first = row.first_attempt_at or row.attempt_at
        if row.state is LedgerState.SENDING and first is not None and now - first > NONCE_MEMORY:
            try:
                found = await self._discord.find_reminder(
                    job.target, row.id, first - timedelta(seconds=5)
                )
            except Exception:
                # Not knowing is not "not sent": try again later rather than risk a double.
                log.warning("could not look for an interrupted reminder ledger=%d", row.id)
                return "retry", None
            if found is not None:
                log.info("reminder recovered after an interrupted send ledger=%d", row.id)
                return "recovered", found
        try:
            with i18n.using(job.language):  # the card is rendered in the reader's language
                delivery = await self._discord.send_reminder(
                    job.target, job.card, nonce=f"fbr{row.id}"
                )
        except Exception:
            log.exception("reminder send crashed ledger=%d", row.id)
            return "retry", None
        if delivery.ok:
            return "sent", delivery.message_id
        return ("undeliverable" if delivery.permanent else "retry"), None
