"""Sessions: scheduling series, one-off changes, RSVPs, attendance and personal settings."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.session_privacy import SessionPrivacyRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import Conflict, NotAllowed, NotFound, UserFacingError
from familybot.models import (
    Group,
    MembershipStatus,
    OccurrenceOverride,
    Rsvp,
    RsvpCounts,
    SeriesStatus,
    SessionSeries,
)
from familybot.services.calendar import CalendarSeries, build_ics
from familybot.services.durations import DurationError, parse_duration_list
from familybot.services.groups import GroupsService
from familybot.services.ports import DiscordPort, Notice
from familybot.services.recurrence import (
    Occurrence,
    Repeat,
    discord_timestamp,
    from_utc,
    monthly_byday,
    monthly_week_of,
    occurrence_for_key,
    parse_local_date,
    parse_local_time,
    to_utc,
    validate_tz,
)
from familybot.services.reminders import effective_occurrences, next_effective_start_after, rule_of
from familybot.services.series_rules import (
    describe_rule,
    format_day,
    fourth_is_last,
    parse_until,
    parse_week,
    week_name,
)
from familybot.services.setup import SetupService
from familybot.services.timezones import resolve_timezone

log = logging.getLogger(__name__)

TITLE_MAX = 100
REASON_MAX = 300
DURATION_MIN, DURATION_MAX = 15, 8 * 60
OFFSET_MIN, OFFSET_MAX = 5, 7 * 24 * 60
MAX_OFFSETS = 4
UPCOMING_DAYS = 28
SCHEDULE_DAYS = 14

ChangeHook = Callable[[Sequence[int]], Awaitable[None]]


async def _no_hook(_series_ids: Sequence[int]) -> None:
    return None


def parse_offsets(text: str) -> tuple[int, ...]:
    """'24h, 1h' -> (1440, 60), in minutes, with the one duration parser (bare numbers are
    minutes; a comma, or a space before a number, starts the next reminder)."""
    try:
        found = [round(d.total_seconds() / 60) for d in parse_duration_list(text)]
    except DurationError as error:
        raise UserFacingError(str(error)) from error
    if not found:
        raise UserFacingError("Please give at least one reminder time, like `24h, 1h`.")
    if not all(OFFSET_MIN <= minutes <= OFFSET_MAX for minutes in found):
        raise UserFacingError("Reminders can be between 5 minutes and 7 days before a session.")
    unique = tuple(sorted(set(found), reverse=True))
    if len(unique) > MAX_OFFSETS:
        raise UserFacingError(f"Please choose at most {MAX_OFFSETS} reminder times.")
    return unique


def describe_offsets(offsets: Sequence[int]) -> str:
    def one(m: int) -> str:
        if m % 1440 == 0:
            return f"{m // 1440} day{'s' if m != 1440 else ''}"
        if m % 60 == 0:
            return f"{m // 60} hour{'s' if m != 60 else ''}"
        return f"{m} minutes"

    return " and ".join(one(m) for m in offsets)


def _checked_week(text: str | None, repeat: Repeat, first_local: datetime) -> int | None:
    """The `week` option: monthly only, and the first date must be that week's weekday."""
    if not text:
        return None
    if repeat is not Repeat.MONTHLY:
        raise UserFacingError(
            "The week option is for monthly sessions (like the last Thursday of each month). "
            "Please leave it out, or choose repeat: monthly."
        )
    try:
        week = parse_week(text)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from exc
    day = first_local.date()
    if not monthly_week_of(day, week):
        _, actual = monthly_byday(day, 4 if fourth_is_last(day) else None)
        better = _date_for_week(day, week)
        raise UserFacingError(
            f"{format_day(day)} is the {week_name(actual)} {day:%A} of the month, not the "
            f"{week_name(week)}. For the {week_name(week)} {day:%A}, start on "
            f"{better.isoformat()} ({format_day(better)}), or leave week out."
        )
    return week


def _date_for_week(day: date, week: int) -> date:
    """The date in ``day``'s month that is the ``week``-th (or last) of its weekday."""
    first = day.replace(day=1)
    candidate = first + timedelta(days=(day.weekday() - first.weekday()) % 7)
    if week == -1:
        while (candidate + timedelta(days=7)).month == day.month:
            candidate += timedelta(days=7)
        return candidate
    return candidate + timedelta(days=7 * (week - 1))


def _checked_until(text: str | None, repeat: Repeat, first_local: datetime) -> datetime | None:
    """The `until` option: the last day a repeating series may meet (inclusive)."""
    if not text:
        return None
    try:
        until = parse_until(text)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from exc
    if until is None:
        return None
    if repeat is Repeat.ONCE:
        raise UserFacingError(
            "An end date is for repeating sessions. Please leave `until` out for a one-off."
        )
    if until.date() < first_local.date():
        raise UserFacingError(
            f"The end date {until.date().isoformat()} is before the first session "
            f"({first_local.date().isoformat()}). Please choose a later end date."
        )
    return until


@dataclass(frozen=True)
class UpcomingOccurrence:
    series: SessionSeries
    group: Group
    occurrence: Occurrence
    counts: RsvpCounts
    my_rsvp: Rsvp | None
    moved: bool


@dataclass(frozen=True)
class ScheduleOutcome:
    series: SessionSeries
    group: Group
    first: Occurrence
    rule_words: str  # the rule in words (series_rules.describe_rule)
    # The "last Thursday" trap: the first date is both the 4th and the last of its weekday
    # and no week was given, so the series means the 4th; the reply says so.
    fourth_or_last: bool = False


@dataclass(frozen=True)
class ChangeOutcome:
    series: SessionSeries
    group: Group
    occurrence: Occurrence | None  # None: the whole series
    new_start: datetime | None
    told: int
    not_reached: int


@dataclass(frozen=True)
class RsvpOutcome:
    series: SessionSeries
    group: Group
    occurrence: Occurrence
    response: Rsvp
    counts: RsvpCounts


@dataclass(frozen=True)
class AttendanceSheet:
    series: SessionSeries
    group: Group
    occurrence: Occurrence
    member_ids: list[int]
    present_ids: list[int]


class SessionsService:
    def __init__(
        self,
        db: Database,
        sessions: SessionRepository,
        groups_repo: GroupRepository,
        reminders: ReminderRepository,
        groups: GroupsService,
        setup: SetupService,
        discord: DiscordPort,
        clock: Clock,
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
        # Called with series ids whenever what is due may have changed (the bot re-plans
        # reminders and refreshes its scheduler there).
        self.on_change: ChangeHook = _no_hook

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
                    f"More than one session matches “{ref[:40]}”. Please pick one from the list."
                )
        if series is None or series.status is not SeriesStatus.ACTIVE:
            raise NotFound(
                f"I couldn't find an upcoming session called “{ref[:40]}”. "
                "`/session list` shows what's scheduled."
            )
        group = await self._groups_repo.get(series.group_id)
        if group is None or not group.is_active:
            raise NotFound("That session's group has been archived.")
        return series, group

    async def autocomplete(self, guild_id: int, typed: str) -> list[tuple[str, str]]:
        found = await self._sessions.search(guild_id, typed.strip()[:50], limit=25)
        return [(f"{g} · {s.title} ({s.repeat})"[:100], str(s.id)) for s, g in found]

    async def occurrence_dates(self, guild_id: int, ref: str, *, past: bool = False) -> list[str]:
        try:
            series, _ = await self.resolve(guild_id, ref)
        except UserFacingError:
            return []
        now = self._clock.now()
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        if past:
            occs = effective_occurrences(
                series, overrides, now - timedelta(days=60), now + timedelta(hours=1)
            )
            occs.reverse()
        else:
            occs = effective_occurrences(series, overrides, now, now + timedelta(days=120))
        return [o.key for o in occs[:25]]

    def _key_for(
        self, series: SessionSeries, overrides: dict[str, OccurrenceOverride], text: str
    ) -> Occurrence:
        try:
            day = parse_local_date(text)
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        key = day.isoformat()
        occ = occurrence_for_key(rule_of(series), key)
        override = overrides.get(key)
        if occ is None or (override is not None and override.status == "cancelled"):
            # Perhaps they typed the new date of a moved occurrence.
            for okey, ov in overrides.items():
                new_start = ov.new_start
                if new_start is not None and from_utc(new_start, series.tz).date() == day:
                    duration = timedelta(minutes=series.duration_minutes)
                    return Occurrence(okey, new_start, new_start + duration)
            raise NotFound(f"“{series.title}” doesn't meet on {key}. Pick a date from the list.")
        new_start = override.new_start if override is not None else None
        if new_start is not None:
            return Occurrence(
                key, new_start, new_start + timedelta(minutes=series.duration_minutes)
            )
        return occ

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
                f"Please give the session a title of 1 to {TITLE_MAX} characters."
            )
        if not DURATION_MIN <= duration_minutes <= DURATION_MAX:
            raise UserFacingError("A session can last from 15 minutes to 8 hours.")
        typed = (tz or "").strip()
        zone = resolve_timezone(typed) if typed else await self._setup.timezone_for(guild_id)
        if zone is None or not validate_tz(zone):
            raise UserFacingError(
                f"I don't know the time zone “{(typed or str(zone))[:60]}”. "
                "Please pick one from the list."
            )
        try:
            first_local = datetime.combine(parse_local_date(date_text), parse_local_time(time_text))
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        now = self._clock.now()
        if to_utc(first_local, zone) <= now:
            raise UserFacingError(
                "That date and time have already passed (in "
                f"{zone}). Please choose a time in the future."
            )
        week = _checked_week(week_text, repeat, first_local)
        until_local = _checked_until(until_text, repeat, first_local)
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
        first = effective_occurrences(series, {}, now, now + timedelta(days=400))[0]
        log.info("series scheduled guild=%d group=%d series=%d", guild_id, group.id, series.id)
        await self.on_change([series.id])
        trap = repeat is Repeat.MONTHLY and week is None and fourth_is_last(first_local.date())
        return ScheduleOutcome(series, group, first, describe_rule(rule_of(series)), trap)

    async def cancel(
        self,
        *,
        guild_id: int,
        actor_id: int,
        ref: str,
        date_text: str | None = None,
        reason: str | None = None,
    ) -> ChangeOutcome:
        series, group = await self.resolve(guild_id, ref)
        reason = (reason or "").strip()[:REASON_MAX] or None
        now = self._clock.now()
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        occurrence: Occurrence | None = None
        if date_text:
            occurrence = self._key_for(series, overrides, date_text)
            if occurrence.start_utc <= now:
                raise Conflict("That session has already started, so it can't be cancelled.")
            async with self._db.transaction():
                await self._sessions.set_override(
                    series.id, occurrence.key, "cancelled", None, reason, actor_id, now
                )
                await self._reminders.cancel_occurrence(series.id, occurrence.key)
            keys = [occurrence.key]
        else:
            async with self._db.transaction():
                await self._sessions.cancel(series.id, reason, now)
                await self._reminders.cancel_series([series.id])
            upcoming = effective_occurrences(series, overrides, now, now + timedelta(days=400))
            keys = [o.key for o in upcoming]
        when = (
            f"the session on {discord_timestamp(occurrence.start_utc, 'D')}"
            if occurrence
            else "all upcoming sessions"
        )
        because = f"\nThe facilitator's note: {reason}" if reason else ""
        notice = Notice(
            f"{group.name}: session cancelled",
            f"**{series.title}** ({when}) has been cancelled.{because}\n"
            "Thank you for letting us know you planned to come. 💙",
        )
        told, missed = await self._tell_responders(series, keys, notice)
        if group.channel_id:
            await self._discord.post_notice(
                group.channel_id,
                Notice(
                    f"Cancelled: {series.title}",
                    f"{when[0].upper()}{when[1:]} of **{series.title}** won't take place.{because}",
                ),
            )
        log.info("session cancelled series=%d one=%s", series.id, occurrence is not None)
        await self.on_change([series.id])
        return ChangeOutcome(series, group, occurrence, None, told, missed)

    async def reschedule(
        self,
        *,
        guild_id: int,
        actor_id: int,
        ref: str,
        date_text: str,
        new_date_text: str,
        new_time_text: str,
    ) -> ChangeOutcome:
        series, group = await self.resolve(guild_id, ref)
        now = self._clock.now()
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        occurrence = self._key_for(series, overrides, date_text)
        if occurrence.start_utc <= now:
            raise Conflict("That session has already started, so it can't be moved.")
        try:
            new_local = datetime.combine(
                parse_local_date(new_date_text), parse_local_time(new_time_text)
            )
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        new_start = to_utc(new_local, series.tz)
        if new_start <= now:
            raise UserFacingError(
                "The new date and time have already passed. Please choose a later time."
            )
        if new_start == occurrence.start_utc:
            raise UserFacingError("That's the time it already has, so nothing changed.")
        async with self._db.transaction():
            await self._sessions.set_override(
                series.id, occurrence.key, "moved", new_start, None, actor_id, now
            )
            await self._reminders.cancel_occurrence(series.id, occurrence.key)
        old = discord_timestamp(occurrence.start_utc)
        new = discord_timestamp(new_start)
        notice = Notice(
            f"{group.name}: session moved",
            f"**{series.title}**, planned for {old}, now takes place on {new}. "
            "Your reply still stands; you can change it from the next reminder.",
        )
        told, missed = await self._tell_responders(series, [occurrence.key], notice)
        if group.channel_id:
            await self._discord.post_notice(
                group.channel_id,
                Notice(
                    f"Moved: {series.title}",
                    f"The session planned for {old} now takes place on {new}.",
                ),
            )
        log.info("session moved series=%d", series.id)
        await self.on_change([series.id])
        return ChangeOutcome(series, group, occurrence, new_start, told, missed)

    async def _tell_responders(
        self, series: SessionSeries, keys: Sequence[str], notice: Notice
    ) -> tuple[int, int]:
        """DM everyone who said Going or Maybe; remember who could not be reached."""
        wanted = set(keys)
        people = {
            uid
            for key, uid in await self._sessions.responders(
                series.id, None, (Rsvp.GOING, Rsvp.MAYBE)
            )
            if key in wanted
        }
        told = missed = 0
        for user_id in sorted(people):
            if await self._discord.send_dm(user_id, notice):
                told += 1
            else:
                missed += 1
                await self._reminders.record_dm_failure(
                    user_id, "session-change", self._clock.now()
                )
        return told, missed

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
        mine = await self._sessions.rsvps_of_user(user_id, sorted({s.id for s, _ in found}))
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
                    f"Sessions of “{group.name}” are shown to its members. You can join with "
                    "`/group join`."
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
        now = self._clock.now()
        series_list = await self._sessions.active_for_groups([group_id])
        overrides = await self._sessions.overrides([s.id for s in series_list])
        starts = [
            start
            for s in series_list
            if (start := next_effective_start_after(s, overrides[s.id], now)) is not None
        ]
        return min(starts) if starts else None

    # --- RSVP and attendance ----------------------------------------------------------------
    async def rsvp(self, series_id: int, key: str, user_id: int, response: Rsvp) -> RsvpOutcome:
        series = await self._sessions.get(series_id)
        group = await self._groups_repo.get(series.group_id) if series else None
        if (
            series is None
            or group is None
            or series.status is SeriesStatus.CANCELLED
            or not group.is_active
        ):
            raise Conflict("This session is no longer scheduled, so there's nothing to reply to.")
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        override = overrides.get(key)
        if override is not None and override.status == "cancelled":
            raise Conflict("This session was cancelled, so there's nothing to reply to.")
        occ = occurrence_for_key(rule_of(series), key)
        if override is not None and override.new_start is not None:
            occ = Occurrence(
                key,
                override.new_start,
                override.new_start + timedelta(minutes=series.duration_minutes),
            )
        if occ is None:
            raise NotFound("I couldn't find that session.")
        if occ.end_utc <= self._clock.now():
            raise Conflict("This session is over, so replies are closed. Thank you!")
        membership = await self._groups_repo.membership(group.id, user_id)
        if membership is None or membership.status is not MembershipStatus.MEMBER:
            raise NotAllowed(f"Replies are for members of “{group.name}”.")
        await self._sessions.set_rsvp(series.id, key, user_id, response, self._clock.now())
        counts = (await self._sessions.rsvp_counts([(series.id, key)]))[(series.id, key)]
        return RsvpOutcome(series, group, occ, response, counts)

    async def attendance_sheet(self, guild_id: int, ref: str, date_text: str) -> AttendanceSheet:
        series, group = await self.resolve(guild_id, ref)
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        occ = self._key_for(series, overrides, date_text)
        if occ.start_utc > self._clock.now():
            raise Conflict("You can take attendance once the session has started.")
        members = await self._groups_repo.list_by_status(group.id, MembershipStatus.MEMBER)
        present = await self._sessions.attendees(series.id, occ.key)
        return AttendanceSheet(series, group, occ, [m.user_id for m in members], present)

    async def mark_attendance(
        self, series_id: int, key: str, user_ids: Sequence[int], actor_id: int
    ) -> tuple[int, int]:
        """Record who attended; returns (marked, ignored because not members)."""
        series = await self._sessions.get(series_id)
        if series is None:
            raise NotFound("That session no longer exists.")
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
        return await self._sessions.attendance_summary(group_id)

    # --- personal settings --------------------------------------------------------------------
    async def set_my_timezone(self, user_id: int, tz: str) -> str:
        zone = resolve_timezone(tz)
        if zone is None:
            raise UserFacingError(
                f"I don't know the time zone “{tz.strip()[:60]}”. Please pick one from the list."
            )
        await self._reminders.set_timezone(user_id, zone, self._clock.now())
        return zone

    async def set_my_reminders(
        self, guild_id: int, user_id: int, on: bool, offsets_text: str | None
    ) -> tuple[int, ...] | None:
        offsets = parse_offsets(offsets_text) if offsets_text else None
        await self._reminders.set_dm(user_id, on, offsets, self._clock.now())
        groups = await self._groups_for(guild_id, user_id)
        series = await self._sessions.active_for_groups([g.id for g in groups])
        await self.on_change([s.id for s in series])
        return offsets

    async def calendar_for(self, guild_id: int, user_id: int) -> tuple[bytes, int]:
        """An .ics file of the sessions of the person's groups, and how many series it holds."""
        groups = await self._groups_for(guild_id, user_id)
        by_id = {g.id: g for g in groups}
        series_list = await self._sessions.active_for_groups(sorted(by_id))
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
                location="Discord voice channel" if s.voice_channel_id else "Discord",
            )
            for s in series_list
        ]
        ics = build_ics(
            items,
            calendar_name="FamilyBot sessions",
            now=self._clock.now(),
            install_id=await self._sessions.install_id(),
        )
        return ics, len(items)

    async def prefs_timezone(self, user_id: int) -> str | None:
        return (await self._reminders.prefs(user_id)).timezone

    async def group_changed(self, group_id: int) -> None:
        """Offsets, membership or status of a group changed: re-plan its series."""
        series = await self._sessions.active_for_groups([group_id])
        if series:
            await self.on_change([s.id for s in series])

    async def take_dm_failure_notice(self, user_id: int) -> bool:
        """True once after DMs to this person failed; the caller tells them privately."""
        if await self._reminders.unnotified_dm_failures(user_id) == 0:
            return False
        await self._reminders.mark_dm_failures_notified(user_id, self._clock.now())
        return True

    # --- privacy (services/privacy.py calls these) -----------------------------------------
    async def export_user_data(self, user_id: int) -> dict[str, object]:
        return await self._privacy.export(user_id)

    async def delete_user_data(self, user_id: int) -> int:
        return await self._privacy.forget(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._privacy.forget(user_id, guild_id)
