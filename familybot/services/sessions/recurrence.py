"""Pure time and recurrence rules for FamilyBot sessions.

Nothing here touches Discord, the database or the clock: every function takes its
instants as arguments, so it is deterministic and easy to test.

A session series is described by a :class:`SeriesRule`: an IANA time zone, the naive
*local wall time* of the first occurrence, a :class:`Repeat` rule and a duration.
Occurrences are generated on naive local wall times (with ``dateutil.rrule``) and only
then turned into UTC instants, so a weekly 18:00 group stays at 18:00 local time all
year round; its UTC instant moves by an hour when daylight saving time starts or ends.

Policies
--------
Local time -> UTC (:func:`to_utc`, and every occurrence):

* **Nonexistent local time** (spring-forward gap): the time is shifted forward by the
  length of the gap. On 2025-03-09 in America/New_York a 02:30 session happens at
  03:30 EDT (07:30 UTC). This is exactly what Python's PEP 495 semantics give for
  ``fold=0`` (the pre-transition UTC offset is applied), and the result is the next
  valid wall time. The occurrence keeps its key (its nominal date).
* **Ambiguous local time** (autumn repeated hour): the first of the two instants is
  used (``fold=0``), so the session happens once. On 2025-11-02 in America/New_York a
  01:30 session happens at 01:30 EDT (05:30 UTC), never again at 01:30 EST.

Occurrence identity: an :class:`Occurrence` is addressed by ``key``, its *nominal local
date* in ISO form (``YYYY-MM-DD``). The date does not depend on UTC offsets, so the
key is stable across DST changes and tz database updates; it is what "cancel / move
one occurrence" refers to. A series has at most one occurrence per local date.

Monthly rule: "the same nth weekday of the month as the first date" (e.g. the first
date 2025-01-14 is the 2nd Tuesday, so the series is on every 2nd Tuesday). If the
first date is the *5th* such weekday, the rule becomes "the last <weekday> of the
month": most months have no 5th weekday, and silently skipping them would surprise a
group. A 4th weekday stays "4th", even if it happens to be the last in that month.
``monthly_week`` (1..4, or -1 for "last") makes the week explicit; the first date must
then be that week's weekday (checked by :func:`monthly_week_of`).

``until_local`` is inclusive: an occurrence is part of the series iff its nominal
local start is ``<= until_local``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import (  # type: ignore[import-untyped,unused-ignore]
    FR,
    MO,
    MONTHLY,
    SA,
    SU,
    TH,
    TU,
    WE,
    WEEKLY,
    rrule,
    weekday,
)

from familybot.models.sessions import Occurrence
from familybot.services.sessions.local_input import parse_local_date

__all__ = [
    "Occurrence",
    "Repeat",
    "SeriesRule",
    "discord_timestamp",
    "from_utc",
    "is_last_weekday",
    "monthly_byday",
    "monthly_week_of",
    "next_occurrence",
    "occurrence_for_key",
    "occurrences",
    "reminder_instants",
    "to_utc",
    "validate_tz",
]


class Repeat(StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


_PERIOD_DAYS = {Repeat.WEEKLY: 7, Repeat.BIWEEKLY: 14}

# Local dates examined around a UTC window. A UTC instant's local date differs from
# an occurrence's nominal date by at most the size of a DST/offset jump (< 1 day in
# any zone since 1900), so two days on each side is always enough.
_MARGIN = timedelta(days=2)

# Names ZoneInfo accepts on some hosts that are not portable IANA zones.
_NOT_IANA = frozenset({"localtime", "posixrules", "Factory"})


@dataclass(frozen=True, slots=True)
class SeriesRule:
    """A session series.

    ``first_local`` is the naive local wall time of the first occurrence in ``tz``;
    every occurrence starts at its wall-clock time. ``until_local`` (naive, local,
    inclusive) optionally ends the series.
    """

    tz: str
    first_local: datetime
    repeat: Repeat
    duration_minutes: int
    until_local: datetime | None = None
    monthly_week: int | None = None

    def __post_init__(self) -> None:
        if not validate_tz(self.tz):
            raise ValueError(f"unknown time zone {self.tz!r}")
        if self.first_local.tzinfo is not None:
            raise ValueError("first_local must be a naive local wall time")
        if self.until_local is not None and self.until_local.tzinfo is not None:
            raise ValueError("until_local must be a naive local wall time")
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive")
        # Accept the plain string values too ("weekly"), but store the enum.
        object.__setattr__(self, "repeat", Repeat(self.repeat))
        if self.monthly_week is not None:
            if self.repeat is not Repeat.MONTHLY:
                raise ValueError("monthly_week is only for monthly series")
            if self.monthly_week not in MONTHLY_WEEKS:
                raise ValueError("monthly_week must be 1..4 or -1 (last)")
            if not monthly_week_of(self.first_local.date(), self.monthly_week):
                raise ValueError("first_local is not on that week's weekday")


# --------------------------------------------------------------------------- time zones


def validate_tz(name: str) -> bool:
    """Return True if ``name`` is a usable IANA time zone name (e.g. "Europe/London")."""
    if not isinstance(name, str) or not name or name in _NOT_IANA:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)  # ZoneInfo caches instances by key.


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def to_utc(local_naive: datetime, tz: str) -> datetime:
    """Convert a naive local wall time in ``tz`` to an aware UTC instant.

    Gap (nonexistent) times move forward by the gap length; ambiguous times use the
    first instant. Both are Python's ``fold=0`` behaviour (see the module docstring).
    """
    if local_naive.tzinfo is not None:
        raise ValueError("to_utc expects a naive local wall time")
    return local_naive.replace(tzinfo=_zone(tz), fold=0).astimezone(UTC)


def from_utc(instant: datetime, tz: str) -> datetime:
    """Return the aware local datetime in ``tz`` for an aware instant."""
    _require_aware(instant, "instant")
    return instant.astimezone(_zone(tz))


# --------------------------------------------------------------------------- expansion


_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)


MONTHLY_WEEKS = (1, 2, 3, 4, -1)


def is_last_weekday(day: date) -> bool:
    """True if no later date in ``day``'s month falls on the same weekday."""
    return (day + timedelta(days=7)).month != day.month


def monthly_week_of(day: date, week: int) -> bool:
    """True if ``day`` is the ``week``-th (1..4) or last (-1) of its weekday in its month."""
    if week == -1:
        return is_last_weekday(day)
    return (day.day - 1) // 7 + 1 == week


def monthly_byday(first_local: date, week: int | None = None) -> tuple[int, int]:
    """The monthly rule's BYDAY for a series first held on ``first_local``.

    Returns ``(weekday, n)``: ``weekday`` is 0 (Monday) .. 6 (Sunday) and ``n`` is
    1..4 for "the nth <weekday>", or -1 for "the last <weekday>" (a 5th weekday
    becomes the last; see the module docstring). ``first_local`` may be a date or a
    naive local datetime. Shared with the calendar export so the two cannot disagree.
    An explicit ``week`` (a rule's ``monthly_week``) wins over the derived one.
    """
    if week is not None:
        return first_local.weekday(), week
    nth = (first_local.day - 1) // 7 + 1
    return first_local.weekday(), (-1 if nth == 5 else nth)


def _monthly_byweekday(first: date, week: int | None) -> weekday:
    """The rrule BYDAY for "same nth weekday as ``first``" (5th becomes last)."""
    day, n = monthly_byday(first, week)
    result: weekday = _WEEKDAYS[day](n)
    return result


def _rule_dates(rule: SeriesRule, lo: date, hi: date) -> Iterator[date]:
    """Yield the series' nominal local dates in [lo, hi], ascending.

    Ignores ``until_local`` (the caller clamps ``hi``). Old series are not iterated
    from their first date: the rrule starts at the first rule date ``>= lo``.
    """
    first = rule.first_local.date()
    lo = max(lo, first)
    if hi < lo:
        return
    if rule.repeat is Repeat.ONCE:
        if lo == first:
            yield first
        return
    if rule.repeat is Repeat.MONTHLY:
        # interval is 1 and rrule drops matches before dtstart, so start at lo itself.
        dates = rrule(
            MONTHLY,
            dtstart=datetime.combine(lo, time()),
            until=datetime.combine(hi, time()),
            byweekday=_monthly_byweekday(first, rule.monthly_week),
        )
    else:
        period = _PERIOD_DAYS[rule.repeat]
        whole_periods = -(-(lo - first).days // period)  # ceil: first date >= lo
        start = first + timedelta(days=whole_periods * period)
        dates = rrule(
            WEEKLY,
            interval=period // 7,
            dtstart=datetime.combine(start, time()),
            until=datetime.combine(hi, time()),
        )
    for dt in dates:
        day: date = dt.date()
        yield day


def _occurrence(rule: SeriesRule, zone: ZoneInfo, day: date) -> Occurrence:
    nominal = datetime.combine(day, rule.first_local.time())
    start = nominal.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return Occurrence(
        key=day.isoformat(),
        start_utc=start,
        end_utc=start + timedelta(minutes=rule.duration_minutes),
    )


def _last_date(rule: SeriesRule, hi: date) -> date:
    """Clamp ``hi`` to the last local date ``until_local`` allows."""
    until = rule.until_local
    if until is None:
        return hi
    last = until.date()
    if until.time() < rule.first_local.time():
        last -= timedelta(days=1)
    return min(hi, last)


def occurrences(
    rule: SeriesRule,
    start_utc: datetime,
    end_utc: datetime,
    *,
    limit: int | None = None,
) -> list[Occurrence]:
    """Occurrences whose UTC start is in ``[start_utc, end_utc)``, sorted by start.

    ``limit`` keeps only the first ``limit`` of them.
    """
    _require_aware(start_utc, "start_utc")
    _require_aware(end_utc, "end_utc")
    if limit is not None and limit < 0:
        raise ValueError("limit must be >= 0")
    if end_utc <= start_utc or limit == 0:
        return []
    zone = _zone(rule.tz)
    lo = start_utc.astimezone(zone).date() - _MARGIN
    hi = _last_date(rule, end_utc.astimezone(zone).date() + _MARGIN)
    found: list[Occurrence] = []
    for day in _rule_dates(rule, lo, hi):
        occ = _occurrence(rule, zone, day)
        if occ.start_utc >= end_utc:
            break
        if occ.start_utc >= start_utc:
            found.append(occ)
            if limit is not None and len(found) >= limit:
                break
    return found


def next_occurrence(rule: SeriesRule, after_utc: datetime) -> Occurrence | None:
    """The first occurrence starting strictly after ``after_utc``, or None."""
    _require_aware(after_utc, "after_utc")
    zone = _zone(rule.tz)
    first_day = rule.first_local.date()
    if _last_date(rule, first_day) < first_day:
        return None  # until_local is before the first occurrence
    first = _occurrence(rule, zone, first_day)
    if first.start_utc > after_utc:
        return first
    if rule.repeat is Repeat.ONCE:
        return None
    # Consecutive occurrences are at most 35 days (+ a DST shift) apart, so if two
    # periods hold none, until_local has ended the series.
    span = timedelta(days=2 * _PERIOD_DAYS.get(rule.repeat, 36) + 3)
    found = occurrences(rule, after_utc + timedelta(microseconds=1), after_utc + span, limit=1)
    return found[0] if found else None


def occurrence_for_key(rule: SeriesRule, key: str) -> Occurrence | None:
    """The occurrence nominally on local date ``key`` (``YYYY-MM-DD``), or None.

    Raises ValueError if ``key`` is not a valid ``YYYY-MM-DD`` date.
    """
    day = parse_local_date(key)
    if _last_date(rule, day) < day or next(_rule_dates(rule, day, day), None) is None:
        return None
    return _occurrence(rule, _zone(rule.tz), day)


def reminder_instants(
    occ: Occurrence, offsets_minutes: Sequence[int]
) -> list[tuple[int, datetime]]:
    """``(offset, instant)`` pairs: ``offset`` minutes of real time before the start.

    The arithmetic is on the aware UTC instant on purpose. Python does *wall-clock*
    arithmetic on aware datetimes in the same zone, so "18:00 local minus 24h" would
    give 18:00 the previous day, which is 23h or 25h earlier across a DST change.
    """
    return [(m, occ.start_utc - timedelta(minutes=m)) for m in offsets_minutes]


_DISCORD_STYLES = frozenset("tTdDfFR")


def discord_timestamp(instant: datetime, style: str = "F") -> str:
    """Discord's ``<t:UNIX:STYLE>`` markup; Discord shows it in each reader's zone."""
    _require_aware(instant, "instant")
    if style not in _DISCORD_STYLES:
        raise ValueError(f"unknown Discord timestamp style {style!r}")
    return f"<t:{int(instant.timestamp() // 1)}:{style}>"
