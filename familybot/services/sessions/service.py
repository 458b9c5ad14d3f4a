"""Sessions: scheduling series, one-off changes, RSVPs, attendance and personal settings."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from familybot.clock import Clock
from familybot.db.connection import Database
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import PlannedReminder, ReminderRepository
from familybot.db.repositories.session_privacy import SessionPrivacyRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.errors import Conflict, NotAllowed, NotFound, UserFacingError
from familybot.events import EventBus, SeriesChanged
from familybot.models import (
    Group,
    LedgerRow,
    LedgerState,
    MembershipStatus,
    OccurrenceOverride,
    Rsvp,
    RsvpCounts,
    SeriesStatus,
    SessionSeries,
)
from familybot.models.notices import Notice
from familybot.models.sessions import EditOutcome, Occurrence, ScheduleOutcome, UpcomingOccurrence
from familybot.models.setup import Actor
from familybot.services.groups.service import GroupsService
from familybot.services.moderation.durations import DurationError, parse_duration_list
from familybot.services.reminders.rules import effective_occurrences, rule_of
from familybot.services.sessions.calendar import CalendarSeries, build_ics
from familybot.services.sessions.recurrence import (
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
from familybot.services.sessions.series_edit import RuleChange, old_start, partner_start, plan_edit
from familybot.services.sessions.series_rules import (
    describe_rule,
    format_day,
    fourth_is_last,
    parse_until,
    parse_week,
    week_name,
)
from familybot.services.sessions.session_schedule import SessionSchedule
from familybot.services.setup.service import SetupService
from familybot.services.setup.timezones import resolve_timezone

log = logging.getLogger(__name__)

TITLE_MAX = 100
REASON_MAX = 300
DURATION_MIN, DURATION_MAX = 15, 8 * 60
OFFSET_MIN, OFFSET_MAX = 5, 7 * 24 * 60
MAX_OFFSETS = 4
UPCOMING_DAYS = 28
SCHEDULE_DAYS = 14
SCHEDULE_AHEAD_MAX = timedelta(days=2 * 366)  # a first date further off is refused, kindly

# One answer for every RSVP press that isn't a member's: a session that doesn't exist, one of
# another server, or one of a group the presser isn't in. A forged button learns nothing.
NOT_YOUR_SESSION = (
    "Only the group's members can reply to its sessions, so nothing was saved. "
    "`/my schedule` shows the sessions of your groups."
)
SESSION_NOT_HERE = "I couldn't find that session on this server, so nothing was saved."


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


def parse_rule_change(
    *,
    day: int | None,
    time_text: str | None,
    tz_text: str | None,
    repeat: str | None,
    duration: int | None,
    until_text: str | None,
    week_text: str | None,
) -> RuleChange:
    """`/session edit`'s options as a RuleChange; a kind error for anything unreadable."""
    try:
        start_time = parse_local_time(time_text) if time_text else None
        week = parse_week(week_text) if week_text else None
        until = parse_until(until_text) if until_text else None
    except ValueError as exc:
        raise UserFacingError(str(exc)) from exc
    zone = None
    if tz_text and tz_text.strip():
        zone = resolve_timezone(tz_text)
        if zone is None:
            raise UserFacingError(
                f"I don't know the time zone “{tz_text.strip()[:60]}”. Please pick one from the list."
            )
    return RuleChange(
        weekday=day,
        start_time=start_time,
        tz=zone,
        repeat=Repeat(repeat) if repeat else None,
        duration_minutes=duration,
        week=week,
        until=until,
        clear_until=bool(until_text) and until is None,
    )


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
class ChangeOutcome:
    series: SessionSeries
    group: Group
    occurrence: Occurrence | None  # None: the whole series
    new_start: datetime | None
    told: int
    not_reached: int


_WENT_OUT = frozenset(
    {LedgerState.SENT, LedgerState.SENDING, LedgerState.UNDELIVERABLE, LedgerState.FAILED}
)


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


class SessionsPort(Protocol):
    """What sessions ask of Discord: a notice in a group's channel, a private note
    (familybot/discord/notices.py)."""

    async def post_notice(self, channel_id: int, notice: Notice) -> bool:
        """Post a short notice (no names) in a group's private channel."""
        ...

    async def send_dm(self, user_id: int, notice: Notice) -> bool:
        """Send a private message; False when the person cannot receive DMs."""
        ...


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
            occs = []
            lineage = await self._lineage(series)
            all_overrides = await self._sessions.overrides([s.id for s in lineage])
            for one in lineage:
                occs += effective_occurrences(
                    one, all_overrides[one.id], now - timedelta(days=60), now + timedelta(hours=1)
                )
            occs.sort(key=lambda o: o.start_utc, reverse=True)
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
        first_utc = to_utc(first_local, zone)
        if first_utc <= now:
            raise UserFacingError(
                "That date and time have already passed (in "
                f"{zone}). Please choose a time in the future."
            )
        if first_utc > now + SCHEDULE_AHEAD_MAX:
            raise UserFacingError(
                "That's more than two years away. Please choose a first date within the next "
                "two years."
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
        first = effective_occurrences(series, {}, now, first_utc + timedelta(days=1))[0]
        log.info("series scheduled guild=%d group=%d series=%d", guild_id, group.id, series.id)
        await self._changed([series.id])
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
        await self._changed([series.id])
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
        await self._changed([series.id])
        return ChangeOutcome(series, group, occurrence, new_start, told, missed)

    # --- editing a series' future ------------------------------------------------------------
    async def require_group_facilitator(self, group: Group, actor: Actor) -> None:
        """Admins, and facilitators listed for this very group (its creator and those added
        with `/group add-facilitator`); nobody else, not a facilitator of another group."""
        if actor.is_admin:
            return
        listed = {f.user_id for f in await self._groups_repo.facilitators(group.id)}
        if actor.user_id in listed and await self._setup.is_facilitator(group.guild_id, actor):
            return
        log.info("series edit refused guild=%d user=%d", group.guild_id, actor.user_id)
        raise NotAllowed(
            f"Only the facilitators of “{group.name}” can change its sessions. If you should be "
            "one, ask a facilitator of that group to add you with `/group add-facilitator`."
        )

    async def autocomplete_editable(
        self, guild_id: int, actor: Actor, typed: str
    ) -> list[tuple[str, str]]:
        """Series of groups this person facilitates (every group for admins)."""
        found = await self._sessions.search(guild_id, typed.strip()[:50], limit=100)
        mine: set[int] | None = None
        if not actor.is_admin:
            mine = {
                g.id
                for g, _ in await self._groups_repo.facilitated_by(actor.user_id)
                if g.guild_id == guild_id
            }
        return [
            (f"{g} · {s.title} ({s.repeat})"[:100], str(s.id))
            for s, g in found
            if mine is None or s.group_id in mine
        ][:25]

    async def edit(
        self,
        *,
        guild_id: int,
        actor: Actor,
        ref: str,
        change: RuleChange,
        title: str | None = None,
        voice_channel_id: int | None = None,
        clear_voice: bool = False,
    ) -> EditOutcome:
        """Change a series from its next occurrence on (see services/sessions/series_edit.py)."""
        series, group = await self.resolve(guild_id, ref)
        await self.require_group_facilitator(group, actor)
        new_title = " ".join(title.split()) if title else series.title
        if not 1 <= len(new_title) <= TITLE_MAX:
            raise UserFacingError(
                f"Please give the session a title of 1 to {TITLE_MAX} characters."
            )
        if change.duration_minutes is not None and not (
            DURATION_MIN <= change.duration_minutes <= DURATION_MAX
        ):
            raise UserFacingError("A session can last from 15 minutes to 8 hours.")
        voice = None if clear_voice else (voice_channel_id or series.voice_channel_id)
        now = self._clock.now()
        old_rule = rule_of(series)
        try:
            plan = plan_edit(old_rule, change, now)
        except ValueError as exc:
            raise UserFacingError(str(exc)) from exc
        if (
            plan.new_rule.tz == old_rule.tz
            and plan.new_rule.repeat is old_rule.repeat
            and plan.new_rule.duration_minutes == old_rule.duration_minutes
            and plan.new_rule.until_local == old_rule.until_local
            and plan.new_rule.monthly_week in (old_rule.monthly_week, None)
            and all(p.new_rule_start == p.old.start_utc for p in plan.pairs)
            and not plan.unpaired
            and new_title == series.title
            and voice == series.voice_channel_id
        ):
            raise UserFacingError("That's how the session already is, so nothing changed.")
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        answered = await self._sessions.responders(series.id, None, (Rsvp.GOING, Rsvp.MAYBE))
        async with self._db.transaction():
            new = await self._sessions.create(
                group_id=group.id,
                guild_id=guild_id,
                title=new_title,
                tz=plan.new_rule.tz,
                first_local=plan.new_rule.first_local,
                repeat=plan.new_rule.repeat.value,
                duration_minutes=plan.new_rule.duration_minutes,
                voice_channel_id=voice,
                created_by=actor.user_id,
                now=now,
                until_local=plan.new_rule.until_local,
                monthly_week=plan.new_rule.monthly_week,
                previous_series_id=series.id,
            )
            await self._sessions.end_at(series.id, plan.old_until)
            changes: dict[str, tuple[datetime | None, datetime | None]] = {}
            for pair in plan.pairs:
                override = overrides.get(pair.old.key)
                if override is not None:
                    await self._sessions.copy_override(
                        override, new.id, pair.new_key, actor.user_id, now
                    )
                await self._sessions.move_occurrence_data(
                    series.id, pair.old.key, new.id, pair.new_key
                )
                before = old_start(pair, override)
                after = partner_start(pair, override)
                changes[pair.old.key] = (before, after)
                await self._hand_over_reminders(series, new, pair.old.key, pair.new_key, after, now)
            for occ in plan.unpaired:
                await self._reminders.cancel_occurrence(series.id, occ.key)
                override = overrides.get(occ.key)
                if override is None or override.status != "cancelled":
                    changes[occ.key] = (override.new_start if override else occ.start_utc, None)
            # A past date moved into the future stays a session. Its reminders and RSVPs move
            # to the new series (its copy of the override carries them); the ended series keeps
            # the override too, since only there is the date an occurrence: calendars and
            # stats read the move from it (the new rule has no such date, so it isn't doubled).
            for key, override in overrides.items():
                moved = override.new_start
                if (
                    override.status == "moved"
                    and moved is not None
                    and moved > now
                    and key not in changes
                    and date.fromisoformat(key) <= plan.old_until.date()
                ):
                    await self._sessions.copy_override(override, new.id, key, actor.user_id, now)
                    await self._sessions.move_occurrence_data(series.id, key, new.id, key)
                    await self._hand_over_reminders(series, new, key, key, moved, now)
        duration = timedelta(minutes=new.duration_minutes)
        old_duration = timedelta(minutes=series.duration_minutes)
        details_changed = (
            new.title != series.title
            or new.voice_channel_id != series.voice_channel_id
            or duration != old_duration
        )
        per_user: dict[int, list[str]] = {}
        for key, user_id in answered:
            if key not in changes:
                continue
            before, after = changes[key]
            if before is None or (after == before and not details_changed):
                continue
            if after is None:
                line = f"{discord_timestamp(before)} → no longer takes place"
            elif after == before:
                line = f"{discord_timestamp(before)} (same time; details changed)"
            else:
                line = f"{discord_timestamp(before)} → {discord_timestamp(after)}"
            per_user.setdefault(user_id, []).append(line)
        words = describe_rule(rule_of(new))
        told = missed = 0
        for user_id, lines in sorted(per_user.items()):
            shown_lines = lines[:5] + ([f"…and {len(lines) - 5} more"] if len(lines) > 5 else [])
            notice = Notice(
                f"{group.name}: session changed",
                f"**{new.title}** has changed. From now on it meets {words}.\n"
                "The session(s) you said you'd come to:\n"
                + "\n".join(shown_lines)
                + "\nYour reply still stands; you can change it from the next reminder.",
            )
            if await self._discord.send_dm(user_id, notice):
                told += 1
            else:
                missed += 1
                await self._reminders.record_dm_failure(user_id, "session-change", now)
        first = next(
            (
                o
                for o in effective_occurrences(
                    new,
                    (await self._sessions.overrides([new.id]))[new.id],
                    now,
                    now + timedelta(days=800),
                )
            ),
            None,
        )
        if group.channel_id:
            await self._discord.post_notice(
                group.channel_id,
                Notice(f"Changed: {new.title}", f"From now on, **{new.title}** meets {words}."),
            )
        log.info("series edited guild=%d old=%d new=%d", guild_id, series.id, new.id)
        await self._changed([series.id, new.id])
        return EditOutcome(new, group, words, first, told, missed, len(plan.unpaired))

    async def _hand_over_reminders(
        self,
        old: SessionSeries,
        new: SessionSeries,
        old_key: str,
        new_key: str,
        new_start: datetime | None,
        now: datetime,
    ) -> None:
        """Each (offset, target) goes out at most once per occurrence across the edit: a
        reminder already sent is not sent again for the moved occurrence, a pending one is
        moved to it (due at once if its new time has passed), none is planned twice."""
        rows = await self._reminders.for_occurrence(old.id, old_key)
        by_slot: dict[tuple[int, str], list[LedgerRow]] = {}
        for row in rows:
            by_slot.setdefault((row.offset_minutes, row.target), []).append(row)
        markers: list[PlannedReminder] = []
        for (offset, target), slot in by_slot.items():
            went_out = [r for r in slot if r.state in _WENT_OUT]
            pending = [r for r in slot if r.state is LedgerState.PENDING]
            cancel = [r.id for r in pending]
            if new_start is None:
                pass  # the partner is cancelled: nothing to send
            elif exact := [r for r in went_out if r.occurrence_start == new_start]:
                await self._reminders.move_row(
                    exact[0].id, new.id, new_key, new_start, exact[0].due_at
                )
            elif went_out:
                due = new_start - timedelta(minutes=offset)
                markers.append(PlannedReminder(new.id, new_key, new_start, offset, target, due))
            elif pending and new_start > now:
                due = max(now, new_start - timedelta(minutes=offset))
                await self._reminders.move_row(pending[0].id, new.id, new_key, new_start, due)
                cancel = [r.id for r in pending[1:]]
            await self._reminders.mark(cancel, LedgerState.CANCELLED)
        await self._reminders.mark_already_sent(markers)

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
        return await self._schedule.next_session_start(group_id)

    async def next_session_starts(self, group_ids: Sequence[int]) -> dict[int, datetime | None]:
        """Each group's next session (None when there is none), in two queries for all."""
        return await self._schedule.next_session_starts(group_ids)

    # --- RSVP and attendance ----------------------------------------------------------------
    async def rsvp(
        self, series_id: int, key: str, user_id: int, response: Rsvp, *, guild_id: int | None
    ) -> RsvpOutcome:
        """A member's reply from a reminder's buttons. Membership (in this server's group) is
        checked before anything about the session is looked at or told."""
        # A button on a reminder sent before an edit answers the occurrence it became.
        for _ in range(20):
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
            raise NotAllowed(NOT_YOUR_SESSION)
        if series.status is SeriesStatus.CANCELLED or not group.is_active:
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
        await self._sessions.set_rsvp(series.id, key, user_id, response, self._clock.now())
        counts = (await self._sessions.rsvp_counts([(series.id, key)]))[(series.id, key)]
        return RsvpOutcome(series, group, occ, response, counts)

    async def _lineage(self, series: SessionSeries) -> list[SessionSeries]:
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
        lineage = await self._lineage(current)
        all_overrides = await self._sessions.overrides([s.id for s in lineage])
        for series in lineage:
            try:
                return series, self._key_for(series, all_overrides[series.id], date_text)
            except NotFound:
                if series is lineage[-1]:
                    raise
        raise NotFound("No such session.")  # unreachable: the lineage holds `current`

    async def attendance_sheet(self, guild_id: int, ref: str, date_text: str) -> AttendanceSheet:
        current, group = await self.resolve(guild_id, ref)
        series, occ = await self.occurrence_on(current, date_text)
        if occ.start_utc > self._clock.now():
            raise Conflict("You can take attendance once the session has started.")
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
            raise NotFound(SESSION_NOT_HERE)
        overrides = (await self._sessions.overrides([series.id]))[series.id]
        if occurrence_for_key(rule_of(series), key) is None and key not in overrides:
            raise NotFound(f"“{series.title}” doesn't meet on {key}, so nothing was saved.")
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
                location="Discord voice channel" if s.voice_channel_id else "Discord",
            )
            for s in series_list
        ]
        ics = build_ics(
            items,
            calendar_name="FamilyBot sessions",
            now=self._clock.now(),
            install_id=await self._sessions.install_id(),
            neutral=neutral,
            dtstamp=dtstamp,
        )
        return ics, len(items)

    async def prefs_timezone(self, user_id: int) -> str | None:
        return (await self._reminders.prefs(user_id)).timezone

    async def group_changed(self, group_id: int) -> None:
        """Offsets, membership or status of a group changed: re-plan its series."""
        series = await self._sessions.active_for_groups([group_id])
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

    async def delete_user_data(self, user_id: int) -> int:
        return await self._privacy.forget(user_id)

    async def delete_user_guild_data(self, guild_id: int, user_id: int) -> int:
        return await self._privacy.forget(user_id, guild_id)
