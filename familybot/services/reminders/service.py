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
* processes sharing the database (the same shards on several hosts) each send only the
  rows they claimed (`ReminderRepository.claim`); a claim stands while its process lives
  (familybot/db/peers.py) and passes to the others once it is gone.

Missed work is handled on purpose: a reminder found late but before the session starts
is sent with a "sent late" line; after the session has started it is skipped and counted.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from familybot import gc_quiet, i18n
from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.peers import Peers
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.models import (
    Group,
    LedgerRow,
    LedgerState,
    OccurrenceOverride,
    SeriesStatus,
    SessionSeries,
)
from familybot.models.reminders import DispatchReport, ReminderCard, ReminderTarget
from familybot.services.reminders.ports import ReminderPort
from familybot.services.reminders.recovery import Recovery
from familybot.services.reminders.rules import (
    YIELD_EVERY,
    rule_of,
    targets_for,
)
from familybot.services.reminders.sender import ReminderJob, note_interrupted, send_one
from familybot.services.sessions.recurrence import (
    occurrence_for_key,
)
from familybot.sharding import ALL, ShardFilter

log = logging.getLogger(__name__)

# A reminder sent more than this after its due instant says it is late.
LATE_AFTER = timedelta(minutes=5)
# Results are committed in chunks: one commit per chunk, not per reminder.
CHUNK = 50
RECORD_MAX = 1000
RECORD_DELAY = 2.0  # seconds a commit may wait while sends are still being handed over
# Rows loaded and prepared per page: a burst of any size is prepared page by page, each
# page a short stretch of loop time between database reads that run off the loop.
DISPATCH_BATCH = 500
# Sends in flight at once (the sender paces them; a few overlap network round trips).
SEND_WORKERS = 8
MAX_ATTEMPTS = 5


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
        peers: Peers | None = None,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._groups = groups
        self._reminders = reminders
        self._discord = discord
        self._clock = clock
        # Only rows of this process's shards: the lock below is per process, not per database.
        self.shards = shards
        # Another process may run the same shards: each sends only the rows it claimed.
        self.peers = peers if peers is not None else Peers()
        self._lock = asyncio.Lock()
        self._recovery = Recovery(discord)
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
            await self.peers.ensure_alive()  # claims stand only while this process's lock does
            now = self._clock.now()
            at = max(now, instant) if instant is not None else now
            jobs: deque[ReminderJob] = deque()
            added = asyncio.Event()
            preparing = True
            token = self.peers.token
            # Interrupted sends: one history read per place and run (recovery.py).
            self._recovery = Recovery.storing(self._discord, self._db, self._reminders, self._clock)

            async def prepare() -> None:
                nonlocal preparing
                after: tuple[datetime, int] | None = None
                try:
                    while True:
                        rows = await self._reminders.due(
                            at, DISPATCH_BATCH, self.shards, after=after, claimant=token
                        )
                        if not rows:
                            break
                        after = (rows[-1].due_at, rows[-1].id)
                        full = len(rows) == DISPATCH_BATCH
                        claimed = await self._reminders.claim([r.id for r in rows], token)
                        rows = [r for r in rows if r.id in claimed]
                        page = await self._triage(rows, at, report) if rows else []
                        if page:
                            await self._reminders.mark_sending(
                                [j.row.id for j in page], self._clock.now()
                            )
                            note_interrupted(self._recovery, page, at)
                            jobs.extend(page)
                            added.set()
                        if not full:
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
    ) -> list[ReminderJob]:
        series_map = await self._sessions.get_many(sorted({r.series_id for r in rows}))
        group_map = await self._groups.get_many(sorted({s.group_id for s in series_map.values()}))
        overrides = await self._sessions.overrides(sorted(series_map))
        subscribers = await self._reminders.dm_subscribers(sorted(group_map))
        counts = await self._sessions.rsvp_counts(
            sorted({(r.series_id, r.occurrence_key) for r in rows})
        )
        cancel: list[int] = []
        skip: list[int] = []
        jobs: list[ReminderJob] = []
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
            jobs.append(ReminderJob(row, target, card, language))
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
        jobs: deque[ReminderJob],
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
        done: list[tuple[ReminderJob, str, int | None]] = []
        ready = asyncio.Event()
        finished = False

        async def worker() -> None:
            # Names bound once: a burst runs this loop thousands of times in a row.
            discord, take, put = self._discord, jobs.popleft, done.append
            recovery = self._recovery
            sent_here = 0
            while True:
                if not jobs:
                    if not preparing():
                        return
                    added.clear()
                    await added.wait()
                    continue
                job = take()
                outcome, message_id = await send_one(discord, job, at, recovery)
                put((job, outcome, message_id))
                gc_quiet.bound_young()  # the collector is off: bounded pauses, not one long one
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
        # A full garbage collection walks every object alive: with a prepared burst that is
        # 100-250 ms of stalled loop in the middle of the hand-over (bench/reminders.py). No
        # collection runs while handing over (what it makes is bounded by the burst); the
        # collector is switched back on after. (Not gc.freeze/unfreeze: unfreeze would also
        # hand start-up's frozen objects, familybot/gc_quiet.py, back to every collection.)
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            await asyncio.gather(*(worker() for _ in range(SEND_WORKERS)))
        finally:
            if was_enabled:
                gc.enable()
            finished = True
            ready.set()
            await recording

    async def _record(
        self, results: list[tuple[ReminderJob, str, int | None]], report: DispatchReport
    ) -> None:
        sent: list[tuple[int, int | None, bool]] = []
        undeliverable: list[ReminderJob] = []
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
