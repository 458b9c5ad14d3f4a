"""Sessions: finding and scheduling series, listing what is coming, personal settings and the
calendar file. One-off changes: occurrence_changes.py; edits: series_editor.py; RSVPs and
attendance: attendance.py; what people type: options.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.session_privacy import SessionPrivacyRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import NotAllowed, NotFound, UserFacingError
from familybot.events import EventBus, SeriesChanged
from familybot.i18n import _
from familybot.models import (
    Group,
    MembershipStatus,
    RsvpCounts,
    SeriesStatus,
    SessionSeries,
)
from familybot.models.sessions import Occurrence, ScheduleOutcome, UpcomingOccurrence
from familybot.services.groups.service import GroupsService
from familybot.services.reminders.rules import effective_occurrences, rule_of
from familybot.services.sessions.attendance import SessionAttendance
from familybot.services.sessions.local_input import parse_local_date, parse_local_time
from familybot.services.sessions.occurrence_changes import OccurrenceChanges
from familybot.services.sessions.options import (
    DURATION_MAX,
    DURATION_MIN,
    SCHEDULE_AHEAD_MAX,
    SCHEDULE_DAYS,
    TITLE_MAX,
    UPCOMING_DAYS,
    checked_until,
    checked_week,
    parse_offsets,
    unknown_zone,
)
from familybot.services.sessions.ports import SessionsPort
from familybot.services.sessions.recurrence import (
    Repeat,
    to_utc,
    validate_tz,
)
from familybot.services.sessions.series_editor import SeriesEditor
from familybot.services.sessions.series_rules import (
    describe_rule,
    fourth_is_last,
    session_label,
)
from familybot.services.sessions.session_schedule import SessionSchedule
from familybot.services.setup.service import SetupService
from familybot.services.setup.timezones import resolve_timezone

log = logging.getLogger(__name__)


class SessionsService:
    def __init__(
        self,
        db: Database,
        sessions: SessionRepository,
        groups_repo: GroupRepository,
        reminders: ReminderRepository,
        groups: GroupsService,
        setup: SetupService,
        discord: SessionsPort,
        clock: Clock,
        bus: EventBus,
        schedule: SessionSchedule,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._groups_repo = groups_repo
        self._reminders = reminders
        self._groups = groups
        self._setup = setup
        self._discord = discord
        self._clock = clock
        self._privacy = SessionPrivacyRepository(db)
        # SeriesChanged goes out whenever what is due may have changed (wiring.py: reminders
        # are re-planned, the Events panel re-synced).
        self._bus = bus
        self._schedule = schedule
        # One class per concern, reached as attributes (cogs: services.sessions.editor.edit).
        self.changes = OccurrenceChanges(
            db, sessions, reminders, discord, clock, self.resolve, self._changed
        )
        self.editor = SeriesEditor(
            db, sessions, groups_repo, reminders, setup, discord, clock, self.resolve, self._changed
        )
        self.attendance = SessionAttendance(sessions, groups_repo, clock, schedule, self.resolve)

    # --- lookups ----------------------------------------------------------------------------
    async def resolve(self, guild_id: int, ref: str) -> tuple[SessionSeries, Group]:
        """A session picked from autocomplete (its id) or typed as part of its title."""
        ref = ref.strip()
        series: SessionSeries | None = None
        if ref.isdigit():
            series = await self._sessions.get(int(ref))
            if series is not None and series.guild_id != guild_id:
                series = None
        if series is None and ref:
            matches = await self._sessions.search(guild_id, ref, limit=2)
            if len(matches) == 1:
                series = matches[0][0]
            elif len(matches) > 1:
                raise UserFacingError(
                    _(
                        "More than one session matches “{typed}”. Please pick one from the list."
                    ).format(typed=ref[:40])
                )
        if series is None or series.status is not SeriesStatus.ACTIVE:
            raise NotFound(
                _(
                    "I couldn't find an upcoming session called “{typed}”. "
                    "`/session list` shows what's scheduled."
                ).format(typed=ref[:40])
            )
        group = await self._groups_repo.get(series.group_id)
        if group is None or not group.is_active:
            raise NotFound(_("That session's group has been archived."))
        return series, group

    async def autocomplete(self, guild_id: int, typed: str) -> list[tuple[str, str]]:
        found = await self._sessions.search(guild_id, typed.strip()[:50], limit=25)
        return [(session_label(g, s), str(s.id)) for s, g in found]

    async def occurrence_dates(self, guild_id: int, ref: str, *, past: bool = False) -> list[str]:
        try:
            series, _group = await self.resolve(guild_id, ref)
        except UserFacingError:
            return []
        now = self._clock.now()
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        if past:
            occs = []
            lineage = await self.attendance.lineage(series)
            all_overrides = await self._sessions.overrides([s.id for s in lineage])
            for one in lineage:
                occs += effective_occurrences(
                    one, all_overrides[one.id], now - timedelta(days=60), now + timedelta(hours=1)
                )
            occs.sort(key=lambda o: o.start_utc, reverse=True)
        else:
            occs = effective_occurrences(series, overrides, now, now + timedelta(days=120))
        return [o.key for o in occs[:25]]

    # --- scheduling -----------------------------------------------------------------------
    async def schedule(
        self,
        *,
        guild_id: int,
        actor_id: int,
        group_name: str,
        title: str,
        date_text: str,
        time_text: str,
        repeat: Repeat,
        duration_minutes: int,
        tz: str | None = None,
        voice_channel_id: int | None = None,
        week_text: str | None = None,
        until_text: str | None = None,
    ) -> ScheduleOutcome:
        group = await self._groups.get_active(guild_id, group_name)
        title = " ".join(title.split())
        if not 1 <= len(title) <= TITLE_MAX:
            raise UserFacingError(
                _("Please give the session a title of 1 to {max} characters.").format(max=TITLE_MAX)
            )
        if not DURATION_MIN <= duration_minutes <= DURATION_MAX:
            raise UserFacingError(_("A session can last from 15 minutes to 8 hours."))
        typed = (tz or "").strip()
        zone = resolve_timezone(typed) if typed else await self._setup.timezone_for(guild_id)
        if zone is None or not validate_tz(zone):
            raise UserFacingError(unknown_zone((typed or str(zone))[:60]))
        try:
            first_local = datetime.combine(parse_local_date(date_text), parse_local_time(time_text))
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        now = self._clock.now()
        first_utc = to_utc(first_local, zone)
        if first_utc <= now:
            raise UserFacingError(
                _(
                    "That date and time have already passed (in {tz}). Please choose a time in "
                    "the future."
                ).format(tz=zone)
            )
        if first_utc > now + SCHEDULE_AHEAD_MAX:
            raise UserFacingError(
                _(
                    "That's more than two years away. Please choose a first date within the next "
                    "two years."
                )
            )
        week = checked_week(week_text, repeat, first_local)
        until_local = checked_until(until_text, repeat, first_local)
        series = await self._sessions.create(
            group_id=group.id,
            guild_id=guild_id,
            title=title,
            tz=zone,
            first_local=first_local,
            repeat=repeat.value,
            duration_minutes=duration_minutes,
            voice_channel_id=voice_channel_id,
            created_by=actor_id,
            now=now,
            until_local=until_local,
            monthly_week=week,
        )
        first = effective_occurrences(series, {}, now, first_utc + timedelta(days=1))[0]
        log.info("series scheduled guild=%d group=%d series=%d", guild_id, group.id, series.id)
        await self._changed([series.id])
        trap = repeat is Repeat.MONTHLY and week is None and fourth_is_last(first_local.date())
        return ScheduleOutcome(series, group, first, describe_rule(rule_of(series)), trap)

    # --- listing --------------------------------------------------------------------------
    async def _groups_for(self, guild_id: int, user_id: int) -> list[Group]:
        memberships = await self._groups_repo.memberships_of_user(guild_id, user_id)
        seated = [m.group_id for m in memberships if m.status is MembershipStatus.MEMBER]
        groups = await self._groups_repo.get_many(seated)
        return [g for g in groups.values() if g.is_active]

    async def upcoming(
        self, groups: Sequence[Group], user_id: int, days: int = UPCOMING_DAYS, limit: int = 25
    ) -> list[UpcomingOccurrence]:
        now = self._clock.now()
        by_id = {g.id: g for g in groups}
        series_list = await self._sessions.active_for_groups(sorted(by_id))
        overrides = await self._sessions.overrides([s.id for s in series_list])
        found: list[tuple[SessionSeries, Occurrence]] = []
        for s in series_list:
            for occ in effective_occurrences(s, overrides[s.id], now, now + timedelta(days=days)):
                found.append((s, occ))
        found.sort(key=lambda pair: pair[1].start_utc)
        found = found[:limit]
        pairs = [(s.id, o.key) for s, o in found]
        counts = await self._sessions.rsvp_counts(pairs)
        mine = await self._sessions.rsvps_of_user(user_id, sorted({s.id for s, _o in found}))
        return [
            UpcomingOccurrence(
                s,
                by_id[s.group_id],
                o,
                counts.get((s.id, o.key), RsvpCounts()),
                mine.get((s.id, o.key)),
                overrides[s.id].get(o.key) is not None,
            )
            for s, o in found
        ]

    async def list_for(
        self, guild_id: int, user_id: int, is_facilitator: bool, group_name: str | None
    ) -> list[UpcomingOccurrence]:
        if group_name:
            group = await self._groups.get_active(guild_id, group_name)
            membership = await self._groups_repo.membership(group.id, user_id)
            seated = membership is not None and membership.status is MembershipStatus.MEMBER
            if not seated and not is_facilitator:
                raise NotAllowed(
                    _(
                        "Sessions of “{group}” are shown to its members. You can join with "
                        "`/group join`."
                    ).format(group=group.name)
                )
            groups = [group]
        elif is_facilitator:
            groups = await self._groups_repo.list_active(guild_id)
        else:
            groups = await self._groups_for(guild_id, user_id)
        return await self.upcoming(groups, user_id)

    async def my_schedule(self, guild_id: int, user_id: int) -> list[UpcomingOccurrence]:
        return await self.upcoming(
            await self._groups_for(guild_id, user_id), user_id, days=SCHEDULE_DAYS
        )

    async def next_session_start(self, group_id: int) -> datetime | None:
        return await self._schedule.next_session_start(group_id)

    async def next_session_starts(self, group_ids: Sequence[int]) -> dict[int, datetime | None]:
        """Each group's next session (None when there is none), in two queries for all."""
        return await self._schedule.next_session_starts(group_ids)

    # --- personal settings --------------------------------------------------------------------
    async def set_my_timezone(self, user_id: int, tz: str) -> str:
        zone = resolve_timezone(tz)
        if zone is None:
            raise UserFacingError(unknown_zone(tz.strip()[:60]))
        await self._reminders.set_timezone(user_id, zone, self._clock.now())
        return zone

    async def set_my_reminders(
        self, guild_id: int, user_id: int, on: bool, offsets_text: str | None
    ) -> tuple[int, ...] | None:
        offsets = parse_offsets(offsets_text) if offsets_text else None
        await self._reminders.set_dm(user_id, on, offsets, self._clock.now())
        groups = await self._groups_for(guild_id, user_id)
        series = await self._sessions.active_for_groups([g.id for g in groups])
        await self._changed([s.id for s in series])
        return offsets

    async def calendar_for(
        self,
        guild_id: int,
        user_id: int,
        *,
        neutral: bool = False,
        dtstamp: datetime | None = None,
    ) -> tuple[bytes, int]:
        """An .ics file of the sessions of the person's groups, and how many series it holds.

        ``neutral``: "Support group session" titles, no group names (the member's choice,
        services/sessions/calendar_feed.py); ``dtstamp``: a fixed DTSTAMP (the live feed's)."""
        # icalendar is imported when a calendar is first built, not at start-up (issue 15).
        from familybot.services.sessions.calendar import CalendarSeries, build_ics

        groups = await self._groups_for(guild_id, user_id)
        by_id = {g.id: g for g in groups}
        series_list = await self._sessions.for_calendar(sorted(by_id))
        overrides = await self._sessions.overrides([s.id for s in series_list])
        items = [
            CalendarSeries(
                series_id=s.id,
                title=s.title,
                group_name=by_id[s.group_id].name,
                rule=rule_of(s),
                cancelled_keys=[k for k, o in overrides[s.id].items() if o.status == "cancelled"],
                moved={
                    k: o.new_start
                    for k, o in overrides[s.id].items()
                    if o.status == "moved" and o.new_start is not None
                },
                location=_("Discord voice channel") if s.voice_channel_id else "Discord",
            )
            for s in series_list
        ]
        ics = build_ics(
            items,
            calendar_name=_("FamilyBot sessions"),
            now=self._clock.now(),
            install_id=await self._sessions.install_id(),
            neutral=neutral,
            dtstamp=dtstamp,
        )
        return ics, len(items)

    async def prefs_timezone(self, user_id: int) -> str | None:
        return (await self._reminders.prefs(user_id)).timezone

    async def groups_changed(self, group_ids: Sequence[int]) -> None:
        """Offsets, membership or status of groups changed: re-plan their series together."""
        series = await self._sessions.active_for_groups(group_ids)
        if series:
            await self._changed([s.id for s in series])

    async def _changed(self, series_ids: Sequence[int]) -> None:
        await self._bus.publish(SeriesChanged(tuple(series_ids)))

    async def take_dm_failure_notice(self, user_id: int) -> bool:
        """True once after DMs to this person failed; the caller tells them privately."""
        if await self._reminders.unnotified_dm_failures(user_id) == 0:
            return False
        await self._reminders.mark_dm_failures_notified(user_id, self._clock.now())
        return True

    # --- privacy (services/privacy/service.py calls these) -----------------------------------------
    async def export_user_data(self, user_id: int) -> dict[str, object]:
        return await self._privacy.export(user_id)

    # Its forget runs statements only: /my forget runs it with the others in one transaction
    # (services/privacy/service.py, StatementsOnly).
    forgets_with_statements_only = True

    async def delete_user_data(self, user_id: int) -> int:
        return await self._privacy.forget(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._privacy.forget(user_id, guild_id)
