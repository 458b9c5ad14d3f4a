"""A series' rule in plain words, and the small rules around monthly weeks and end dates.

Pure functions: no Discord, no database, no clock. Every confirmation that states a rule
(`/session schedule`, `/session edit`, the group channel's notice of an edit) uses
:func:`describe_rule`, so they all say the same thing.
"""

from __future__ import annotations

from datetime import date, datetime, time

from familybot import i18n
from familybot.i18n import _, pgettext
from familybot.models import SessionSeries
from familybot.services.sessions.local_input import parse_local_date
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    is_last_weekday,
    monthly_byday,
)

__all__ = [
    "WEEK_CHOICES",
    "describe_rule",
    "format_day",
    "fourth_is_last",
    "parse_until",
    "parse_week",
    "repeat_words",
    "session_label",
    "week_name",
    "week_words",
]

# Option value -> rule value (n, or -1 for "last").
WEEK_CHOICES: dict[str, int] = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "last": -1}
_WEEK_NAMES = {n: name for name, n in WEEK_CHOICES.items()}
_NO_END = frozenset({"none", "never", "no end", "-", "nunca", "ninguna", "ninguno", "sin fin"})


def week_name(week: int) -> str:
    """1 -> "1st" … 4 -> "4th", -1 -> "last"."""
    return _WEEK_NAMES[week]


def parse_week(text: str) -> int:
    """ "1st".."4th" or "last" -> 1..4 or -1; ValueError (kind message) otherwise."""
    value = WEEK_CHOICES.get(text.strip().lower())
    if value is None:
        raise ValueError(
            _("The week can be 1st, 2nd, 3rd, 4th or last. Please pick one from the list.")
        )
    return value


def parse_until(text: str) -> datetime | None:
    """An end date (YYYY-MM-DD, inclusive) as the last local instant of that day.

    "none" or "never" (for `/session edit`) removes the end: None.
    """
    if text.strip().lower() in _NO_END:
        return None
    day = parse_local_date(text)
    return datetime.combine(day, time(23, 59))


def fourth_is_last(day: date) -> bool:
    """The "last Thursday" trap: ``day`` is both the 4th and the last of its weekday."""
    return (day.day - 1) // 7 + 1 == 4 and is_last_weekday(day)


def format_day(day: date) -> str:
    """Tuesday 2 March 2027 / martes, 2 de marzo de 2027: CLDR's names (Babel) in the
    current language, whatever the host's locale. The pattern itself is in the catalog."""
    return i18n.format_date(day, pgettext("date-pattern", "EEEE d MMMM y"))


def _format_end(day: date) -> str:
    return i18n.format_date(day, pgettext("date-pattern", "d MMMM y"))


def week_words(week: int) -> str:
    """ "1st" … "last" in the current language (spelled out here so extraction finds them)."""
    words = {
        1: pgettext("week-of-month", "1st"),
        2: pgettext("week-of-month", "2nd"),
        3: pgettext("week-of-month", "3rd"),
        4: pgettext("week-of-month", "4th"),
        -1: pgettext("week-of-month", "last"),
    }
    return words[week]


def repeat_words(repeat: Repeat) -> str:
    """A series' repeat in a word or two, for autocomplete labels ("weekly" / "semanal")."""
    words = {
        Repeat.ONCE: pgettext("autocomplete", "once"),
        Repeat.WEEKLY: pgettext("autocomplete", "weekly"),
        Repeat.BIWEEKLY: pgettext("autocomplete", "every two weeks"),
        Repeat.MONTHLY: pgettext("autocomplete", "monthly"),
    }
    return words[repeat]


def session_label(group_name: str, series: SessionSeries) -> str:
    """An autocomplete label for a session: "Parents Circle · Weekly meeting (weekly)"."""
    return f"{group_name} · {series.title} ({repeat_words(Repeat(series.repeat))})"[:100]


def describe_rule(rule: SeriesRule) -> str:
    """The rule in words, in the current language, e.g. "every month on the last Thursday
    at 19:30 (Europe/London), until 30 June 2027" or "once, on Tuesday 2 March 2027 at
    18:00 (America/New_York)"."""
    first = rule.first_local
    places = {"time": f"{first:%H:%M}", "tz": rule.tz}
    weekday = i18n.format_date(first.date(), "EEEE")
    if rule.repeat is Repeat.ONCE:
        return _("once, on {day} at {time} ({tz})").format(day=format_day(first.date()), **places)
    if rule.repeat is Repeat.WEEKLY:
        words = _("every week on {weekday} at {time} ({tz})").format(weekday=weekday, **places)
    elif rule.repeat is Repeat.BIWEEKLY:
        words = _("every other week on {weekday} at {time} ({tz})").format(
            weekday=weekday, **places
        )
    else:
        _week, n = monthly_byday(first, rule.monthly_week)
        words = _("every month on the {week} {weekday} at {time} ({tz})").format(
            week=week_words(n), weekday=weekday, **places
        )
    if rule.until_local is not None:
        words = _("{rule}, until {day}").format(
            rule=words, day=_format_end(rule.until_local.date())
        )
    return words
