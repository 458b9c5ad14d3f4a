"""Time zones in a calendar feed: the VTIMEZONE definitions (as RFC 5545 reads them and as
calendar apps really parse them) and the occurrences at a DST change, which the feed pins
in UTC (see calendar.py, which builds the feed). Pure and deterministic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

from familybot.models.sessions import Occurrence
from familybot.services.sessions.recurrence import Repeat, SeriesRule, monthly_byday, occurrences


def local_start(naive: datetime, zone: ZoneInfo) -> datetime:
    """A nominal local wall time as an aware datetime (``fold=0``, like recurrence)."""
    return naive.replace(tzinfo=zone, fold=0)


def as_written(instant: datetime, zone: ZoneInfo) -> datetime:
    """``instant`` as it should be written: local time in ``zone`` if that round-trips.

    A TZID-qualified local time cannot say "the second 01:30" of an autumn DST change
    (readers take the first), so such an instant is written in UTC instead.
    """
    local = instant.astimezone(zone)
    if local.replace(fold=0).astimezone(UTC) == instant.astimezone(UTC):
        return local.replace(fold=0)
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class ZoneChanges:
    """When a VTIMEZONE's offset changes (UTC instants), and its smallest/largest offset."""

    instants: tuple[datetime, ...]
    min_offset: timedelta
    max_offset: timedelta


def last_nominal_start(rule: SeriesRule) -> datetime | None:
    """The latest nominal local start ``until_local`` allows (``<= until_local``)."""
    until = rule.until_local
    if until is None:
        return None
    last = datetime.combine(until.date(), rule.first_local.time())
    if last > until:
        last -= timedelta(days=1)
    return last


def edge_occurrences(rule: SeriesRule, changes: ZoneChanges | None) -> list[tuple[str, datetime]]:
    """Occurrences that start in a DST gap or repeated hour, or span a change.

    RFC 5545 says how to read such local times, but clients differ: ical.js takes the
    offset after a gap and the second of two repeated hours, dateutil the other way, and
    both add a DURATION on the wall clock. Each of these occurrences therefore gets an
    override (same UID and RECURRENCE-ID) whose DTSTART is the UTC instant the bot means,
    which every reader takes as it is. Only instants near the zone's changes are
    examined, and the rule is expanded only where :func:`_may_start_between` finds a
    possible session date (expanding it around each of a decade of changes was most of
    the cost of a feed).
    """
    if changes is None:
        return []
    zone = ZoneInfo(rule.tz)
    length = timedelta(minutes=rule.duration_minutes)
    near = timedelta(hours=3)
    found: dict[str, datetime] = {}
    for change in changes.instants:
        lo, hi = change - length - near, change + near
        if not _may_start_between(rule, lo + changes.min_offset, hi + changes.max_offset):
            continue
        for occ in occurrences(rule, lo, hi):
            if at_a_change(rule, zone, occ, change):
                found[occ.key] = occ.start_utc
    return sorted(found.items())


def at_a_change(rule: SeriesRule, zone: ZoneInfo, occ: Occurrence, change: datetime) -> bool:
    """Whether ``occ`` starts in a gap or a repeated hour, or runs across ``change``."""
    nominal = datetime.combine(date.fromisoformat(occ.key), rule.first_local.time())
    first = nominal.replace(tzinfo=zone, fold=0)
    in_gap = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != nominal
    repeated = nominal.replace(tzinfo=zone, fold=1).utcoffset() != first.utcoffset()
    return in_gap or repeated or occ.start_utc < change < occ.end_utc


def _may_start_between(rule: SeriesRule, lo: datetime, hi: datetime) -> bool:
    """False only if no nominal local start of ``rule`` lies in ``[lo, hi)`` (wall times,
    read from UTC instants shifted by the zone's smallest and largest offsets, so every
    session starting in the UTC window is inside).

    Date arithmetic only, no expansion: the nominal starts are ``first_local``'s time on
    the rule's dates (same weekday; biweekly keeps the week parity; monthly the nth or
    last weekday; ``until`` inclusive), as in :mod:`~familybot.services.sessions.recurrence`, whose
    ``occurrences`` then decides. Tests compare this with expanding around every change.
    """
    at = rule.first_local.time()
    wall_lo, wall_hi = lo.replace(tzinfo=None), hi.replace(tzinfo=None)
    day = wall_lo.date() if wall_lo.time() <= at else wall_lo.date() + timedelta(days=1)
    first = rule.first_local.date()
    last = last_nominal_start(rule)
    while datetime.combine(day, at) < wall_hi:
        if day >= first and (last is None or day <= last.date()) and _on_rule(rule, day):
            return True
        day += timedelta(days=1)
    return False


def _on_rule(rule: SeriesRule, day: date) -> bool:
    """Whether ``day`` (not before the first date) is one of the rule's dates."""
    offset = (day - rule.first_local.date()).days
    if rule.repeat is Repeat.ONCE:
        return offset == 0
    if rule.repeat is Repeat.WEEKLY:
        return offset % 7 == 0
    if rule.repeat is Repeat.BIWEEKLY:
        return offset % 14 == 0
    weekday, nth = monthly_byday(rule.first_local)
    if day.weekday() != weekday:
        return False
    if nth == -1:
        return (day + timedelta(days=7)).month != day.month
    return (day.day - 1) // 7 + 1 == nth


def _zone_changes(component: Timezone) -> ZoneChanges:
    """The UTC instants at which the offsets in a VTIMEZONE change, and its offset range."""
    found: list[datetime] = []
    offsets: set[timedelta] = set()
    for sub in component.subcomponents:
        if not isinstance(sub, TimezoneStandard | TimezoneDaylight):
            continue
        offsets |= {sub.TZOFFSETFROM, sub.TZOFFSETTO}
        if sub.TZOFFSETFROM == sub.TZOFFSETTO:
            continue
        for onset in [sub.DTSTART] + [start for start, _ in sub.rdates]:
            found.append((onset - sub.TZOFFSETFROM).replace(tzinfo=UTC))
    return ZoneChanges(
        tuple(sorted(found)),
        min(offsets, default=timedelta(0)),
        max(offsets, default=timedelta(0)),
    )


class Dated(Protocol):
    """What a zone's span is read from (calendar.CalendarSeries)."""

    @property
    def rule(self) -> SeriesRule: ...

    @property
    def moved(self) -> Mapping[str, datetime]: ...


def timezone_span(items: Sequence[Dated], now: datetime) -> dict[str, tuple[date, date]]:
    """For each zone used: a date range its VTIMEZONE must cover (with a margin)."""
    spans: dict[str, tuple[date, date]] = {}
    for item in items:
        rule = item.rule
        dates = [rule.first_local.date(), now.date()]
        dates += [moved.date() for moved in item.moved.values()]
        if rule.until_local is not None:
            dates.append(rule.until_local.date())
        lo, hi = min(dates), max(dates)
        if rule.tz in spans:
            lo, hi = min(lo, spans[rule.tz][0]), max(hi, spans[rule.tz][1])
        spans[rule.tz] = (lo, hi)
    # From the start of the year before the earliest date to ten years past the latest
    # (open-ended series keep going; apps use their own tz data for IANA TZIDs anyway).
    return {
        tz: (date(lo.year - 1, 1, 1), date(min(hi.year + 10, 9998), 1, 1))
        for tz, (lo, hi) in spans.items()
    }


@lru_cache(maxsize=256)
def zone_definition(tz: str, first: date, last: date) -> tuple[bytes, ZoneChanges]:
    """The VTIMEZONE for ``tz`` over ``[first, last)`` (serialized) and its changes.

    Generating a decade of onsets from the tz database is a large share of a feed's cost
    and depends only on these arguments (``last`` moves only once a year): made once.
    """
    component = _vtimezone(tz, first, last)
    ics: bytes = component.to_ical()
    return ics, _zone_changes(component)


def _vtimezone(tz: str, first: date, last: date) -> Timezone:
    """The VTIMEZONE for ``tz`` covering ``[first, last)``.

    ``Timezone.from_tzid`` (icalendar 7) writes a spring-forward onset as the first
    wall time *after* the gap (03:00 for New York), but RFC 5545 3.6.5 reads an onset
    in the local time in force before it (TZOFFSETFROM): 02:00, as in the RFC's own
    examples. Left alone, an app that trusts the VTIMEZONE would show the hour after
    each change with the old offset. So onsets that move clocks forward are shifted
    back by the size of the jump; fall-back onsets are already right.
    """
    component = Timezone.from_tzid(tz, first_date=first, last_date=last)
    for sub in component.subcomponents:
        if not isinstance(sub, TimezoneStandard | TimezoneDaylight):
            continue
        jump = sub.TZOFFSETTO - sub.TZOFFSETFROM
        if jump <= timedelta(0):
            continue
        onsets = [sub.DTSTART] + [start for start, _ in sub.rdates]
        sub.pop("DTSTART")
        sub.pop("RDATE", None)
        sub.DTSTART = onsets[0] - jump
        for onset in onsets[1:]:
            sub.add("RDATE", onset - jump)
    _one_rdate_per_line(component)
    return component


def _one_rdate_per_line(component: Timezone) -> None:
    """Write each onset as its own RDATE property.

    RFC 5545 allows ``RDATE:a,b,c``, but Mozilla's ical.js (Thunderbird) and vobject +
    dateutil read only the first value of such a list, and then show every session after
    the second year's DST change an hour off. One value per line reads the same everywhere.
    """
    for sub in component.subcomponents:
        if not isinstance(sub, TimezoneStandard | TimezoneDaylight):
            continue
        onsets = [start for start, _ in sub.rdates]
        sub.pop("RDATE", None)
        for onset in onsets:
            sub.add("RDATE", onset)
