"""Members' replies (RSVP) to a session and facilitators' attendance sheets, for a session as
it was on its date (a date from before an edit belongs to the series the edit ended)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from familybot.clock import Clock
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import Conflict, NotAllowed, NotFound
from familybot.i18n import _, lazy_gettext
from familybot.models import MembershipStatus, Rsvp, SeriesStatus, SessionSeries
from familybot.models.sessions import AttendanceSheet, Occurrence, RsvpOutcome
from familybot.services.reminders.rules import rule_of
from familybot.services.sessions.options import occurrence_from_text
from familybot.services.sessions.ports import Resolve
from familybot.services.sessions.recurrence import occurrence_for_key
from familybot.services.sessions.session_schedule import SessionSchedule

# One answer for every RSVP press that isn't a member's: a session that doesn't exist, one of
# another server, or one of a group the presser isn't in. A forged button learns nothing.
NOT_YOUR_SESSION = lazy_gettext(
    "Only the group's members can reply to its sessions, so nothing was saved. "
    "`/my schedule` shows the sessions of your groups."
)
SESSION_NOT_HERE = lazy_gettext(
    "I couldn't find that session on this server, so nothing was saved."
)


class SessionAttendance:
    def __init__(
        self,
        sessions: SessionRepository,
        groups_repo: GroupRepository,
        clock: Clock,
        schedule: SessionSchedule,
        resolve: Resolve,
    ) -> None:
        self._sessions = sessions
        self._groups_repo = groups_repo
        self._clock = clock
        self._schedule = schedule
        self._resolve = resolve

    async def rsvp(
        self, series_id: int, key: str, user_id: int, response: Rsvp, *, guild_id: int | None
    ) -> RsvpOutcome:
        """A member's reply from a reminder's buttons. Membership (in this server's group) is
        checked before anything about the session is looked at or told."""
        # A button on a reminder sent before an edit answers the occurrence it became.
        for _hop in range(20):
            link = await self._sessions.link_of(series_id, key)
            if link is None:
                break
            series_id, key = link
        series = await self._sessions.get(series_id)
        group = await self._groups_repo.get(series.group_id) if series else None
        membership = await self._groups_repo.membership(group.id, user_id) if group else None
        if (
            series is None
            or group is None
            or guild_id is None
            or series.guild_id != guild_id
            or group.guild_id != guild_id
            or membership is None
            or membership.status is not MembershipStatus.MEMBER
        ):
            raise NotAllowed(str(NOT_YOUR_SESSION))
        if series.status is SeriesStatus.CANCELLED or not group.is_active:
            raise Conflict(
                _("This session is no longer scheduled, so there's nothing to reply to.")
            )
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        override = overrides.get(key)
        if override is not None and override.status == "cancelled":
            raise Conflict(_("This session was cancelled, so there's nothing to reply to."))
        occ = occurrence_for_key(rule_of(series), key)
        if override is not None and override.new_start is not None:
            occ = Occurrence(
                key,
                override.new_start,
                override.new_start + timedelta(minutes=series.duration_minutes),
            )
        if occ is None:
            raise NotFound(_("I couldn't find that session."))
        if occ.end_utc <= self._clock.now():
            raise Conflict(_("This session is over, so replies are closed. Thank you!"))
        await self._sessions.set_rsvp(series.id, key, user_id, response, self._clock.now())
        counts = (await self._sessions.rsvp_counts([(series.id, key)]))[(series.id, key)]
        return RsvpOutcome(series, group, occ, response, counts)

    async def lineage(self, series: SessionSeries) -> list[SessionSeries]:
        """The series and those it continues after edits, newest first."""
        found = [series]
        while found[-1].previous_series_id is not None and len(found) < 50:
            before = await self._sessions.get(found[-1].previous_series_id)
            if before is None:
                break
            found.append(before)
        return found

    async def occurrence_on(
        self, current: SessionSeries, date_text: str
    ) -> tuple[SessionSeries, Occurrence]:
        """The occurrence on that date, in the series as it was then: a date from before an
        edit belongs to the series the edit ended. Raises NotFound."""
        lineage = await self.lineage(current)
        all_overrides = await self._sessions.overrides([s.id for s in lineage])
        for series in lineage:
            try:
                return series, occurrence_from_text(series, all_overrides[series.id], date_text)
            except NotFound:
                if series is lineage[-1]:
                    raise
        raise NotFound(
            _("I couldn't find that session.")
        )  # unreachable: the lineage holds `current`

    async def attendance_sheet(self, guild_id: int, ref: str, date_text: str) -> AttendanceSheet:
        current, group = await self._resolve(guild_id, ref)
        series, occ = await self.occurrence_on(current, date_text)
        if occ.start_utc > self._clock.now():
            raise Conflict(_("You can take attendance once the session has started."))
        members = await self._groups_repo.list_by_status(group.id, MembershipStatus.MEMBER)
        present = await self._sessions.attendees(series.id, occ.key)
        return AttendanceSheet(series, group, occ, [m.user_id for m in members], present)

    async def mark_attendance(
        self,
        series_id: int,
        key: str,
        user_ids: Sequence[int],
        actor_id: int,
        *,
        guild_id: int | None,
    ) -> tuple[int, int]:
        """Record who attended; returns (marked, ignored because not members). Only for a
        session of the server the picker was used in, on a day it meets."""
        series = await self._sessions.get(series_id)
        if series is None or guild_id is None or series.guild_id != guild_id:
            raise NotFound(str(SESSION_NOT_HERE))
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        if occurrence_for_key(rule_of(series), key) is None and key not in overrides:
            raise NotFound(
                _("“{session}” doesn't meet on {day}, so nothing was saved.").format(
                    session=series.title, day=key
                )
            )
        members = {
            m.user_id
            for m in await self._groups_repo.list_by_status(
                series.group_id, MembershipStatus.MEMBER
            )
        }
        present = sorted({u for u in user_ids if u in members})
        await self._sessions.set_attendance(series.id, key, present, actor_id, self._clock.now())
        return len(present), len(set(user_ids)) - len(present)

    async def attendance_summary(self, group_id: int) -> tuple[dict[int, int], int]:
        return await self._schedule.attendance_summary(group_id)
