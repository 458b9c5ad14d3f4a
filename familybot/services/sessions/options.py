"""What facilitators and members type for sessions, read and checked: reminder times,
`/session edit`'s options, the week and until options, a typed occurrence date. Pure: a
kind UserFacingError for anything unreadable."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from familybot import i18n
from familybot.errors import NotFound, UserFacingError
from familybot.i18n import _, ngettext
from familybot.models import OccurrenceOverride, SessionSeries
from familybot.models.sessions import Occurrence
from familybot.services.moderation.durations import DurationError, parse_duration_list
from familybot.services.reminders.rules import rule_of
from familybot.services.sessions.local_input import parse_local_date, parse_local_time
from familybot.services.sessions.recurrence import (
    Repeat,
    from_utc,
    monthly_byday,
    monthly_week_of,
    occurrence_for_key,
)
from familybot.services.sessions.series_edit import RuleChange
from familybot.services.sessions.series_rules import (
    format_day,
    fourth_is_last,
    parse_until,
    parse_week,
    week_words,
)
from familybot.services.setup.timezones import resolve_timezone

TITLE_MAX = 100
REASON_MAX = 300
DURATION_MIN, DURATION_MAX = 15, 8 * 60
OFFSET_MIN, OFFSET_MAX = 5, 7 * 24 * 60
MAX_OFFSETS = 4
UPCOMING_DAYS = 28
SCHEDULE_DAYS = 14
SCHEDULE_AHEAD_MAX = timedelta(days=2 * 366)  # a first date further off is refused, kindly


def parse_offsets(text: str) -> tuple[int, ...]:
    """'24h, 1h' -> (1440, 60), in minutes, with the one duration parser (bare numbers are
    minutes; a comma, or a space before a number, starts the next reminder)."""
    try:
        found = [round(d.total_seconds() / 60) for d in parse_duration_list(text)]
    except DurationError as error:
        raise UserFacingError(str(error)) from error
    if not found:
        raise UserFacingError(_("Please give at least one reminder time, like `24h, 1h`."))
    if not all(OFFSET_MIN <= minutes <= OFFSET_MAX for minutes in found):
        raise UserFacingError(_("Reminders can be between 5 minutes and 7 days before a session."))
    unique = tuple(sorted(set(found), reverse=True))
    if len(unique) > MAX_OFFSETS:
        raise UserFacingError(
            ngettext(
                "Please choose at most {count} reminder time.",
                "Please choose at most {count} reminder times.",
                MAX_OFFSETS,
            ).format(count=MAX_OFFSETS)
        )
    return unique


def describe_offsets(offsets: Sequence[int]) -> str:
    """Reminder times in words, in the current language: "1 day and 2 hours" /
    "1 día y 2 horas"."""

    def one(m: int) -> str:
        if m % 1440 == 0:
            days = m // 1440
            return ngettext("{count} day", "{count} days", days).format(count=days)
        if m % 60 == 0:
            hours = m // 60
            return ngettext("{count} hour", "{count} hours", hours).format(count=hours)
        return ngettext("{count} minute", "{count} minutes", m).format(count=m)

    words = [one(m) for m in offsets]
    if len(words) <= 1:
        return "".join(words)
    return _("{first} and {last}").format(first=", ".join(words[:-1]), last=words[-1])


def unknown_zone(typed: str) -> str:
    return _("I don't know the time zone “{zone}”. Please pick one from the list.").format(
        zone=typed
    )


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
            raise UserFacingError(unknown_zone(tz_text.strip()[:60]))
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


def checked_week(text: str | None, repeat: Repeat, first_local: datetime) -> int | None:
    """The `week` option: monthly only, and the first date must be that week's weekday."""
    if not text:
        return None
    if repeat is not Repeat.MONTHLY:
        raise UserFacingError(
            _(
                "The week option is for monthly sessions (like the last Thursday of each month). "
                "Please leave it out, or choose repeat: monthly."
            )
        )
    try:
        week = parse_week(text)
    except ValueError as exc:
        raise UserFacingError(str(exc)) from exc
    day = first_local.date()
    if not monthly_week_of(day, week):
        _day, actual = monthly_byday(day, 4 if fourth_is_last(day) else None)
        better = _date_for_week(day, week)
        weekday = i18n.format_date(day, "EEEE")
        raise UserFacingError(
            _(
                "{day} is the {actual} {weekday} of the month, not the {week}. For the {week} "
                "{weekday}, start on {better} ({better_day}), or leave week out."
            ).format(
                day=format_day(day),
                actual=week_words(actual),
                weekday=weekday,
                week=week_words(week),
                better=better.isoformat(),
                better_day=format_day(better),
            )
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


def checked_until(text: str | None, repeat: Repeat, first_local: datetime) -> datetime | None:
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
            _("An end date is for repeating sessions. Please leave `until` out for a one-off.")
        )
    if until.date() < first_local.date():
        raise UserFacingError(
            _(
                "The end date {until} is before the first session ({first}). Please choose a "
                "later end date."
            ).format(until=until.date().isoformat(), first=first_local.date().isoformat())
        )
    return until


def occurrence_from_text(
    series: SessionSeries, overrides: dict[str, OccurrenceOverride], text: str
) -> Occurrence:
    """The occurrence a typed date names: its key, or the new date of a moved one."""
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
        raise NotFound(
            _("“{session}” doesn't meet on {day}. Pick a date from the list.").format(
                session=series.title, day=key
            )
        )
    new_start = override.new_start if override is not None else None
    if new_start is not None:
        return Occurrence(key, new_start, new_start + timedelta(minutes=series.duration_minutes))
    return occ
