"""The facilitator's view of one group: who is coming (/session rsvps), who came and how the
group is doing (/group stats), and the attendance export for program reporting.

Only the group's own facilitators see these: people listed in group_facilitators for that
group (its creator and anyone added with /group add-facilitator) who still hold the
facilitator role, and server admins. A facilitator of another group is refused, kindly and
without learning anything about this one.

Read-only: these views store nothing new about anyone (the CSV export leaves one audit-log
entry, ids only, like every facilitator command).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from familybot.clock import Clock
from familybot.db.repositories.group_stats import GroupStatsRepository, SeriesHistory
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import NotAllowed, NotFound
from familybot.i18n import _, lazy_gettext
from familybot.models import Group, MembershipStatus, OccurrenceOverride, Rsvp, SessionSeries
from familybot.models.facilitator_views import GroupStats, RsvpRoster, SessionFigures
from familybot.models.sessions import Occurrence
from familybot.models.setup import Actor
from familybot.services.groups.attendance_csv import ExportRow
from familybot.services.reminders.rules import effective_occurrences, rule_of
from familybot.services.sessions.recurrence import from_utc, occurrence_for_key
from familybot.services.sessions.service import SessionsService
from familybot.services.setup.service import SetupService

log = logging.getLogger(__name__)

WEEKS_DEFAULT = 12
WEEKS_MAX = 52
NOT_THIS_GROUP = lazy_gettext(
    "Only this group's own facilitators can see that. If you should be one of them, one of "
    "its facilitators can add you with `/group add-facilitator`."
)


@dataclass(frozen=True)
class AttendanceExport:
    stats: GroupStats
    rows: list[ExportRow]
    user_ids: list[int] = field(default_factory=list)


def _start_of(
    series: SessionSeries, overrides: dict[str, OccurrenceOverride], key: str
) -> datetime | None:
    override = overrides.get(key)
    if override is not None and override.new_start is not None:
        return override.new_start
    occ = occurrence_for_key(rule_of(series), key)
    return occ.start_utc if occ is not None else None


class FacilitatorViewsService:
    def __init__(
        self,
        stats: GroupStatsRepository,
        groups: GroupRepository,
        sessions_repo: SessionRepository,
        sessions: SessionsService,
        setup: SetupService,
        clock: Clock,
    ) -> None:
        self._stats = stats
        self._groups = groups
        self._sessions_repo = sessions_repo
        self._sessions = sessions
        self._setup = setup
        self._clock = clock

    async def require_group_facilitator(self, guild_id: int, actor: Actor, group: Group) -> None:
        """Admins, and facilitators listed for this very group; nobody else."""
        if actor.is_admin:
            return
        if await self._setup.is_facilitator(
            guild_id, actor
        ) and await self._stats.is_group_facilitator(group.id, actor.user_id):
            return
        log.info("facilitator view refused guild=%d user=%d", guild_id, actor.user_id)
        raise NotAllowed(str(NOT_THIS_GROUP))

    # --- /session rsvps ---------------------------------------------------------------------
    async def rsvps(
        self, guild_id: int, actor: Actor, ref: str, date_text: str | None
    ) -> RsvpRoster:
        series, group = await self._sessions.resolve(guild_id, ref)
        await self.require_group_facilitator(guild_id, actor, group)
        if date_text and date_text.strip():
            series, occurrence = await self._sessions.attendance.occurrence_on(series, date_text)
        else:
            overrides = (await self._sessions_repo.overrides([series.id]))[series.id]
            now = self._clock.now()
            duration = timedelta(minutes=series.duration_minutes)
            upcoming = [
                o
                for o in effective_occurrences(
                    series, overrides, now - duration, now + timedelta(days=400)
                )
                if o.end_utc > now
            ]
            if not upcoming:
                raise NotFound(
                    _(
                        "“{session}” has no upcoming dates. Pick a past date to see its replies."
                    ).format(session=series.title)
                )
            occurrence = upcoming[0]
        seated = [
            m.user_id for m in await self._groups.list_by_status(group.id, MembershipStatus.MEMBER)
        ]
        members = set(seated)
        lists: dict[Rsvp, list[int]] = {r: [] for r in Rsvp}
        answered: set[int] = set()
        former = 0
        for user_id, reply in await self._stats.occurrence_rsvps(series.id, occurrence.key):
            if user_id not in members:
                former += 1
                continue
            lists[reply].append(user_id)
            answered.add(user_id)
        return RsvpRoster(
            series=series,
            group=group,
            occurrence=occurrence,
            going=lists[Rsvp.GOING],
            maybe=lists[Rsvp.MAYBE],
            cant=lists[Rsvp.NO],
            unanswered=[u for u in seated if u not in answered],
            former=former,
        )

    # --- /group stats -----------------------------------------------------------------------
    async def _group(self, guild_id: int, name: str) -> Group:
        group = await self._groups.find_active(guild_id, name)
        if group is None:
            # Reporting goes on after a group ends: its latest archived namesake counts too.
            group = await self._groups.find_latest_archived(guild_id, name)
        if group is None:
            shown = " ".join(name.split())[:50]
            raise NotFound(
                _(
                    "I couldn't find a group called “{group}”. `/group list` shows the open groups."
                ).format(group=shown)
            )
        return group

    async def stats(
        self, guild_id: int, actor: Actor, name: str, weeks: int | None = None
    ) -> GroupStats:
        return (await self._collect(guild_id, actor, name, weeks, with_rows=False)).stats

    async def export(
        self, guild_id: int, actor: Actor, name: str, weeks: int | None = None
    ) -> AttendanceExport:
        return await self._collect(guild_id, actor, name, weeks, with_rows=True)

    async def _collect(
        self, guild_id: int, actor: Actor, name: str, weeks: int | None, *, with_rows: bool
    ) -> AttendanceExport:
        group = await self._group(guild_id, name)
        await self.require_group_facilitator(guild_id, actor, group)
        weeks = max(1, min(weeks or WEEKS_DEFAULT, WEEKS_MAX))
        now = self._clock.now()
        since = now - timedelta(weeks=weeks)
        histories = await self._stats.series_of_group(group.id)
        ids = [h.series.id for h in histories]
        overrides = await self._sessions_repo.overrides(ids)
        held = self._held(histories, overrides, since, now)

        replies: dict[tuple[int, str], dict[int, Rsvp]] = {}
        for sid, key, uid, reply in await self._stats.rsvps(ids):
            replies.setdefault((sid, key), {})[uid] = reply
        present: dict[tuple[int, str], set[int]] = {}
        first_seen: dict[int, datetime] = {}
        by_id = {h.series.id: h.series for h in histories}
        starts: dict[tuple[int, str], datetime | None] = {}
        for sid, key, uid in await self._stats.attendance(ids):
            present.setdefault((sid, key), set()).add(uid)
            if (sid, key) not in starts:
                starts[(sid, key)] = _start_of(by_id[sid], overrides[sid], key)
            start = starts[(sid, key)]
            if start is not None and (uid not in first_seen or start < first_seen[uid]):
                first_seen[uid] = start

        figures: list[SessionFigures] = []
        for series, occ in held:
            these = replies.get((series.id, occ.key), {})
            figures.append(
                SessionFigures(
                    series_id=series.id,
                    key=occ.key,
                    title=series.title,
                    start_utc=occ.start_utc,
                    day=from_utc(occ.start_utc, series.tz).date(),
                    going=sum(1 for r in these.values() if r is Rsvp.GOING),
                    maybe=sum(1 for r in these.values() if r is Rsvp.MAYBE),
                    cant=sum(1 for r in these.values() if r is Rsvp.NO),
                    attended=len(present.get((series.id, occ.key), ())),
                )
            )
        members = await self._groups.list_by_status(group.id, MembershipStatus.MEMBER)
        seated = {m.user_id for m in members}
        # Who joined in the period. The bot keeps no history of who left, so this is today's
        # members who joined in it, plus anyone whose first attended session fell in it.
        joined = {m.user_id for m in members if m.joined_at is not None and m.joined_at >= since}
        joined |= {uid for uid, first in first_seen.items() if since <= first < now}
        came: set[int] = set()
        for series, occ in held:
            came |= present.get((series.id, occ.key), set())
        recorded = [f for f in figures if f.attended > 0]
        stats = GroupStats(
            group=group,
            weeks=weeks,
            since=since,
            until=now,
            sessions=figures,
            recorded=len(recorded),
            attended_once=len(came),
            joined=len(joined),
            retained=len(joined & seated),
            total_attendance=sum(f.attended for f in recorded),
        )
        if not with_rows:
            return AttendanceExport(stats, [])
        joined_at = {m.user_id: m.joined_at for m in members}
        rows: list[ExportRow] = []
        for series, occ in held:
            these = replies.get((series.id, occ.key), {})
            here = present.get((series.id, occ.key), set())
            # Members seated before it started, and anyone who replied or was marked present.
            people = {
                uid for uid, at in joined_at.items() if at is not None and at <= occ.start_utc
            }
            people |= set(these) | here
            day = from_utc(occ.start_utc, series.tz).date()
            rows.extend(
                ExportRow(day, series.title, uid, uid in here, these.get(uid))
                for uid in sorted(people)
            )
        log.info("attendance export guild=%d group=%d rows=%d", guild_id, group.id, len(rows))
        return AttendanceExport(stats, rows, sorted({r.user_id for r in rows}))

    @staticmethod
    def _held(
        histories: list[SeriesHistory],
        overrides: dict[int, dict[str, OccurrenceOverride]],
        since: datetime,
        now: datetime,
    ) -> list[tuple[SessionSeries, Occurrence]]:
        """Sessions that started in [since, now): not cancelled, not after their series was."""
        found: list[tuple[SessionSeries, Occurrence]] = []
        for history in histories:
            series = history.series
            for occ in effective_occurrences(series, overrides[series.id], since, now):
                if history.cancelled_at is not None and occ.start_utc >= history.cancelled_at:
                    continue
                found.append((series, occ))
        found.sort(key=lambda pair: (pair[1].start_utc, pair[0].id))
        return found
