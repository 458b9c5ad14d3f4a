"""Build an iCalendar (RFC 5545) feed of session series.

Pure and deterministic: everything, including "now" (for DTSTAMP), is an argument, and
the same input always gives the same bytes (series are sorted by id, exceptions by
date), so a feed can be served with a stable ETag.

The feed is built with the ``icalendar`` library, which does the RFC 5545 escaping,
line folding and encoding; this module never writes content lines by hand.

Mapping (see :func:`build_ics`):

* One VEVENT per series, ``UID:series-{id}-{install_id}@{domain}``: the install id (random,
  made once per database) keeps two installs' "series 1" apart in one calendar app. DTSTART carries ``TZID`` = the
  series' IANA zone at the first occurrence's local wall time, so calendar apps repeat
  the session at the same wall time across DST changes, exactly as
  :mod:`familybot.services.sessions.recurrence` does. Gap and ambiguous local times mean the
  same instant in both: RFC 5545 section 3.3.5 reads a nonexistent time with the offset
  from before the gap and an ambiguous one as its first occurrence, which is Python's
  ``fold=0``.
* Length is ``DURATION:PT{n}M``. RFC 5545 makes an hour/minute duration *exact*, so
  every instance is ``n`` real minutes long even on a DST day, where a wall-clock
  DTEND could be ambiguous or mean a different length.
* RRULE: weekly ``FREQ=WEEKLY``, biweekly ``FREQ=WEEKLY;INTERVAL=2``, monthly
  ``FREQ=MONTHLY;BYDAY=<n><day>`` from :func:`recurrence.monthly_byday`. ``until_local``
  becomes ``UNTIL`` in UTC (required when DTSTART has a TZID): the UTC instant of the
  last local date the series allows, at the session's wall time.
* A cancelled occurrence is an EXDATE (TZID, its nominal local start).
* A moved occurrence is an override VEVENT: same UID, ``RECURRENCE-ID`` = its
  nominal local start (TZID), the new DTSTART, ``SEQUENCE:1``. It is deliberately *not*
  also listed in EXDATE: RFC 5545 lets EXDATE remove an instance before overrides are
  applied, and some consumers (e.g. python ``recurring-ical-events``) then hide the
  moved session entirely. Google Calendar's own exports do the same (no EXDATE for
  moved instances).
* A "once" series has no RRULE; cancelling its only occurrence marks the event
  ``STATUS:CANCELLED`` and moving it moves DTSTART (``SEQUENCE:1``), since a lone event
  with an EXDATE or RECURRENCE-ID override is handled poorly by many clients.
* A cancelled series: ``STATUS:CANCELLED`` on the event and its overrides.

Keys in ``cancelled_keys`` / ``moved`` that are malformed or name no occurrence of the
rule are ignored (a stale row must not break the whole feed). If a key is both
cancelled and moved, the cancellation wins. A series whose ``until_local`` is before
its first occurrence has no occurrences and is left out.

User-supplied text is cleaned (calendar_text.py) and lengths capped (title 200, group
name 100, location 200, calendar name 200 characters); time zones: calendar_zones.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from familybot.i18n import _, lazy_gettext
from familybot.services.sessions.calendar_text import clean_text
from familybot.services.sessions.calendar_zones import (
    ZoneChanges,
    as_written,
    edge_occurrences,
    last_nominal_start,
    local_start,
    timezone_span,
    zone_definition,
)
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    monthly_byday,
    occurrence_for_key,
    to_utc,
)

__all__ = [
    "GROUP_NAME_MAX",
    "LOCATION_MAX",
    "NEUTRAL_SUMMARY",
    "PRODID",
    "TITLE_MAX",
    "CalendarSeries",
    "build_ics",
    "restamp",
]

PRODID = "-//FamilyBot//FamilyBot//EN"
TITLE_MAX = 200
GROUP_NAME_MAX = 100
LOCATION_MAX = 200
CALENDAR_NAME_MAX = 200
#: SUMMARY of every event with neutral titles: no group name, no session title.
NEUTRAL_SUMMARY = lazy_gettext("Support group session")

_ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class CalendarSeries:
    """One session series as it appears in a calendar feed."""

    series_id: int
    title: str
    group_name: str
    rule: SeriesRule
    #: Occurrence keys (``YYYY-MM-DD``) cancelled one at a time.
    cancelled_keys: Sequence[str] = ()
    #: Occurrence key -> new start (aware datetime, normally UTC) for moved occurrences.
    moved: Mapping[str, datetime] = field(default_factory=dict)
    #: Shown as LOCATION, e.g. "Discord voice channel: #circle-voice".
    location: str | None = None
    #: The whole series is cancelled -> STATUS:CANCELLED.
    series_cancelled: bool = False


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def _rrule(rule: SeriesRule) -> vRecur | None:
    if rule.repeat is Repeat.ONCE:
        return None
    recur = vRecur()
    if rule.repeat is Repeat.MONTHLY:
        day, n = monthly_byday(rule.first_local, rule.monthly_week)
        recur["FREQ"] = "MONTHLY"
        recur["BYDAY"] = f"{n}{_ICAL_DAYS[day]}"
    else:
        recur["FREQ"] = "WEEKLY"
        if rule.repeat is Repeat.BIWEEKLY:
            recur["INTERVAL"] = 2
    last = last_nominal_start(rule)
    if last is not None:
        # RFC 5545 3.3.10: with a TZID DTSTART, UNTIL MUST be in UTC. The last allowed
        # nominal start converted like any occurrence keeps the inclusive semantics.
        recur["UNTIL"] = to_utc(last, rule.tz)
    return recur


def _valid_keys(rule: SeriesRule, keys: Sequence[str] | Mapping[str, datetime]) -> list[str]:
    valid: set[str] = set()
    for key in keys:
        try:
            if occurrence_for_key(rule, key) is not None:
                valid.add(key)
        except ValueError:
            continue
    return sorted(valid)


def _description(group: str | None, cancelled: bool) -> str:
    """The DESCRIPTION; ``group`` None for neutral titles (no group name anywhere)."""
    if cancelled and group is None:
        return _(
            "This series of support group sessions has been cancelled. Thank you for being "
            "part of it."
        )
    if cancelled:
        return _(
            "This series of {group} sessions has been cancelled. Thank you for being part of it."
        ).format(group=group)
    if group is None:
        return _("A support group session. Times follow your calendar's time zone.")
    return _("A session of {group}. Times follow your calendar's time zone.").format(group=group)


def _base_event(
    uid: str, summary: str, description: str, location: str | None, dtstamp: datetime
) -> Event:
    event = Event()
    event.add("UID", uid)
    event.add("DTSTAMP", dtstamp)
    event.add("SUMMARY", summary)
    event.add("DESCRIPTION", description)
    if location:
        event.add("LOCATION", location)
    return event


def _series_events(
    item: _FrozenSeries,
    *,
    dtstamp: datetime,
    domain: str,
    install_id: str,
    neutral: bool,
    changes: ZoneChanges | None,
) -> list[Event]:
    rule = item.rule
    last = last_nominal_start(rule)
    if last is not None and last < rule.first_local:
        return []  # until_local is before the first occurrence: nothing to show

    zone = ZoneInfo(rule.tz)
    uid = f"series-{item.series_id}-{install_id}@{domain}"
    group: str | None = None
    if neutral:
        summary = str(NEUTRAL_SUMMARY)
    else:
        group = clean_text(item.group_name, GROUP_NAME_MAX)
        summary = f"{clean_text(item.title, TITLE_MAX)} ({group})"
    location = clean_text(item.location, LOCATION_MAX) if item.location is not None else None
    duration = timedelta(minutes=rule.duration_minutes)

    moved_to = dict(item.moved)
    cancelled = _valid_keys(rule, item.cancelled_keys)
    cancelled_set = set(cancelled)
    moved = [k for k in _valid_keys(rule, moved_to) if k not in cancelled_set]

    def new_event() -> Event:
        return _base_event(
            uid, summary, _description(group, item.series_cancelled), location, dtstamp
        )

    def nominal_start(key: str) -> datetime:
        return local_start(datetime.combine(date.fromisoformat(key), rule.first_local.time()), zone)

    master = new_event()
    recur = _rrule(rule)
    status_cancelled = item.series_cancelled
    if recur is None:
        # "once": the only occurrence is the first date; fold exceptions into the event.
        if cancelled:
            status_cancelled = True
        if moved:
            master.add("DTSTART", as_written(moved_to[moved[0]], zone))
            master.add("SEQUENCE", 1)
        else:
            master.add("DTSTART", local_start(rule.first_local, zone))
        master.add("DURATION", duration)
    else:
        master.add("DTSTART", local_start(rule.first_local, zone))
        master.add("DURATION", duration)
        master.add("RRULE", recur)
        for key in cancelled:
            master.add("EXDATE", nominal_start(key))
    if status_cancelled:
        master.add("STATUS", "CANCELLED")
    events = [master]

    if recur is not None:
        for key in moved:
            override = new_event()
            override.add("RECURRENCE-ID", nominal_start(key))
            override.add("DTSTART", as_written(moved_to[key], zone))
            override.add("DURATION", duration)
            override.add("SEQUENCE", 1)
            if item.series_cancelled:
                override.add("STATUS", "CANCELLED")
            events.append(override)
        handled = cancelled_set | set(moved)
        for key, start in edge_occurrences(rule, changes):
            if key in handled:
                continue
            # Pinned in UTC: readers disagree on local times at a DST change.
            override = new_event()
            override.add("RECURRENCE-ID", nominal_start(key))
            override.add("DTSTART", start)
            override.add("DURATION", duration)
            if item.series_cancelled:
                override.add("STATUS", "CANCELLED")
            events.append(override)
    return events


def build_ics(
    series: Sequence[CalendarSeries],
    *,
    calendar_name: str,
    now: datetime,
    install_id: str,
    domain: str = "familybot.local",
    neutral: bool = False,
    dtstamp: datetime | None = None,
) -> bytes:
    """Return an RFC 5545 calendar (UTF-8 bytes, CRLF lines) for ``series``.

    ``now`` (aware) sets how far the time-zone definitions reach and is every event's
    DTSTAMP unless ``dtstamp`` is given (a feed passes a stable one, so an unchanged
    calendar keeps the same bytes and ETag). ``neutral`` writes "Support group session"
    and no group name or session title anywhere, for calendars shared with family.
    Raises ValueError for a naive ``now``, ``dtstamp`` or moved start, or for two series
    with the same id.

    Each time zone's definition and each series' events are serialized once per distinct
    input and kept (bounded caches; the bytes are the same as building them afresh), so a
    member's calendar is rebuilt quickly after a change to one of their groups.
    """
    _require_aware(now, "now")
    stamp = dtstamp if dtstamp is not None else now
    _require_aware(stamp, "dtstamp")
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    ids = [item.series_id for item in series]
    if len(ids) != len(set(ids)):
        raise ValueError("series ids must be unique (they become event UIDs)")
    for item in series:
        for key, start in item.moved.items():
            _require_aware(start, f"moved[{key!r}]")
    domain = clean_text(domain, 200).replace(" ", "") or "familybot.local"
    install_id = clean_text(install_id, 64).replace(" ", "")
    if not install_id:
        raise ValueError("install_id is required (it keeps UIDs unique per install)")

    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("X-WR-CALNAME", clean_text(calendar_name, CALENDAR_NAME_MAX))
    head: bytes = cal.to_ical()
    assert head.endswith(_CALENDAR_END)

    ordered = sorted(series, key=lambda item: item.series_id)
    zones: list[bytes] = []
    changes: dict[str, ZoneChanges] = {}
    for tz, (first, last) in sorted(timezone_span(ordered, now).items()):
        if tz != "UTC":
            ics, changes[tz] = zone_definition(tz, first, last)
            zones.append(ics)
    events = b"".join(
        _series_block(_freeze(item), domain, install_id, neutral, changes.get(item.rule.tz))
        for item in ordered
    )
    # Blocks carry a placeholder DTSTAMP (so they can be kept); the real one goes in here.
    events = events.replace(_PLACEHOLDER_STAMP, _stamp_line(stamp))
    # The same bytes as icalendar writes for the whole calendar: the calendar's own lines,
    # then each component's, then END:VCALENDAR.
    return head[: -len(_CALENDAR_END)] + b"".join(zones) + events + _CALENDAR_END


def restamp(ics: bytes, old: datetime, new: datetime) -> bytes:
    """``ics`` (from :func:`build_ics` with ``dtstamp=old``) with DTSTAMP ``new`` instead:
    the same bytes as building it with ``dtstamp=new``."""
    return ics.replace(_stamp_line(old), _stamp_line(new))


def _stamp_line(stamp: datetime) -> bytes:
    # A property line of its own: user text never starts a line (CR/LF are cleaned and
    # icalendar folds with CRLF + space).
    return b"\r\nDTSTAMP:" + stamp.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ").encode() + b"\r\n"


_CALENDAR_END = b"END:VCALENDAR\r\n"
_PLACEHOLDER = datetime(1970, 1, 1, tzinfo=UTC)
_PLACEHOLDER_STAMP = _stamp_line(_PLACEHOLDER)


@dataclass(frozen=True)
class _FrozenSeries:
    """A :class:`CalendarSeries` with tuples in place of lists and dicts: a cache key."""

    series_id: int
    title: str
    group_name: str
    rule: SeriesRule
    cancelled_keys: tuple[str, ...]
    moved: tuple[tuple[str, datetime], ...]
    location: str | None
    series_cancelled: bool


def _freeze(item: CalendarSeries) -> _FrozenSeries:
    return _FrozenSeries(
        item.series_id,
        item.title,
        item.group_name,
        item.rule,
        tuple(item.cancelled_keys),
        tuple(sorted(item.moved.items())),
        item.location,
        item.series_cancelled,
    )


@lru_cache(maxsize=4096)
def _series_block(
    item: _FrozenSeries,
    domain: str,
    install_id: str,
    neutral: bool,
    changes: ZoneChanges | None,
) -> bytes:
    """One series' VEVENTs, serialized, with the placeholder DTSTAMP."""
    events = _series_events(
        item,
        dtstamp=_PLACEHOLDER,
        domain=domain,
        install_id=install_id,
        neutral=neutral,
        changes=changes,
    )
    return b"".join(event.to_ical() for event in events)
