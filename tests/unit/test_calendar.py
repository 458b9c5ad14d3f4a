"""Tests for familybot.services.sessions.calendar: the .ics feed builder.

The central check is equivalence: the feed is parsed back with ``icalendar`` and
expanded the way a calendar app does it (RRULE via dateutil, EXDATE, RECURRENCE-ID
overrides, STATUS:CANCELLED), and that must give exactly the instants
``recurrence.occurrences`` gives, with cancellations and moves applied.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rruleset, rrulestr  # type: ignore[import-untyped,unused-ignore]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Event

from familybot.services.sessions.calendar import (
    GROUP_NAME_MAX,
    PRODID,
    TITLE_MAX,
    CalendarSeries,
)
from familybot.services.sessions.calendar import build_ics as _build_ics
from familybot.services.sessions.calendar_text import clean_text
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    monthly_byday,
    occurrence_for_key,
    occurrences,
)

NY = "America/New_York"
LONDON = "Europe/London"
NOW = datetime(2025, 1, 1, 12, tzinfo=UTC)
WINDOW = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))

Instant = tuple[datetime, datetime]  # (start, end), aware UTC
INSTALL = "test"


def build_ics(series: Sequence[CalendarSeries], **kwargs: Any) -> bytes:
    """The writer with this file's install id (UIDs are series-{id}-test@...)."""
    return _build_ics(series, install_id=kwargs.pop("install_id", INSTALL), **kwargs)


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


# --------------------------------------------------------------------------- helpers


def _values(component: Event, name: str) -> list[Any]:
    value = component.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def exact(start: datetime, length: timedelta) -> Instant:
    """(start, end) in UTC. DURATION in hours/minutes is exact time (RFC 5545 3.3.6);
    Python's aware arithmetic would be wall-clock arithmetic, so add in UTC."""
    start_utc = start.astimezone(UTC)
    return start_utc, start_utc + length


def expand(ics: bytes, start: datetime, end: datetime) -> dict[str, list[Instant]]:
    """Expand a feed like a calendar app: UID -> sorted (start, end) in [start, end).

    RFC 5545 order: the recurrence set is DTSTART + RRULE minus EXDATE; an override
    (same UID + RECURRENCE-ID) replaces the instance it names, and only if that instance
    is in the set (an EXDATE'd instance stays gone, as in recurring-ical-events).
    STATUS:CANCELLED removes an event or an instance.
    """
    cal = Calendar.from_ical(ics)
    masters: dict[str, Event] = {}
    overrides: dict[str, list[Event]] = {}
    for event in cal.walk("VEVENT"):
        uid = str(event["UID"])
        if "RECURRENCE-ID" in event:
            overrides.setdefault(uid, []).append(event)
        else:
            assert uid not in masters, f"two master events for {uid}"
            masters[uid] = event
    assert set(overrides) <= set(masters), "override without a master event"

    margin = timedelta(days=60)
    result: dict[str, list[Instant]] = {}
    for uid, master in masters.items():
        dtstart: datetime = master["DTSTART"].dt
        assert isinstance(dtstart, datetime)
        assert dtstart.tzinfo is not None
        length: timedelta = master["DURATION"].dt
        if "RRULE" in master:
            rset = rruleset()
            rule_text = master["RRULE"].to_ical().decode()
            rset.rrule(rrulestr(rule_text, dtstart=dtstart))
            rset.rdate(dtstart)  # DTSTART is always the first instance
            for exdate in _values(master, "EXDATE"):
                for item in exdate.dts:
                    rset.exdate(item.dt)
            starts = list(rset.between(start - margin, end + margin, inc=True))
        else:
            starts = [dtstart]
        cancelled = str(master.get("STATUS", "")) == "CANCELLED"
        instances: dict[datetime, Instant | None] = {
            s.astimezone(UTC): None if cancelled else exact(s, length) for s in starts
        }
        for override in overrides.get(uid, []):
            rid = override["RECURRENCE-ID"].dt.astimezone(UTC)
            if rid not in instances:
                continue  # names no instance: ignored
            if str(override.get("STATUS", "")) == "CANCELLED":
                instances[rid] = None
                continue
            o_start: datetime = override["DTSTART"].dt
            instances[rid] = exact(o_start, override["DURATION"].dt)
        found = sorted(
            (s.astimezone(UTC), e.astimezone(UTC))
            for pair in instances.values()
            if pair is not None
            for s, e in [pair]
        )
        result[uid] = [(s, e) for s, e in found if start <= s < end]
    return result


def expected(item: CalendarSeries, start: datetime, end: datetime) -> list[Instant]:
    """What recurrence says, with the series' cancellations and moves applied."""
    if item.series_cancelled:
        return []
    length = timedelta(minutes=item.rule.duration_minutes)
    margin = timedelta(days=60)
    found: list[Instant] = []
    for occ in occurrences(item.rule, start - margin, end + margin):
        if occ.key in item.cancelled_keys:
            continue
        new_start = item.moved.get(occ.key)
        s = new_start.astimezone(UTC) if new_start is not None else occ.start_utc
        found.append((s, s + length))
    return sorted((s, e) for s, e in found if start <= s < end)


def uid(series_id: int) -> str:
    return f"series-{series_id}-{INSTALL}@familybot.local"


def assert_equivalent(items: Sequence[CalendarSeries], start: datetime, end: datetime) -> None:
    ics = build_ics(items, calendar_name="Family circle", now=NOW)
    got = expand(ics, start, end)
    for item in items:
        want = expected(item, start, end)
        assert got.get(uid(item.series_id), []) == want, item


def series(
    rule: SeriesRule,
    series_id: int = 1,
    *,
    cancelled: Sequence[str] = (),
    moved: Mapping[str, datetime] | None = None,
    **kwargs: Any,
) -> CalendarSeries:
    return CalendarSeries(
        series_id=series_id,
        title="Evening circle",
        group_name="Parents of teens",
        rule=rule,
        cancelled_keys=cancelled,
        moved=moved or {},
        **kwargs,
    )


def only_event(ics: bytes, *, with_rid: bool = False) -> Event:
    events = [
        e for e in Calendar.from_ical(ics).walk("VEVENT") if ("RECURRENCE-ID" in e) == with_rid
    ]
    assert len(events) == 1
    event: Event = events[0]
    return event


# --------------------------------------------------------------------------- monthly_byday


@pytest.mark.parametrize(
    ("first", "byday"),
    [
        (date(2025, 1, 7), (1, 1)),  # 1st Tuesday
        (date(2025, 1, 14), (1, 2)),
        (date(2025, 1, 28), (1, 4)),  # 4th and last, stays 4th
        (date(2024, 12, 31), (1, -1)),  # 5th Tuesday -> last
        (date(2025, 3, 31), (0, -1)),  # 5th Monday -> last
        (datetime(2025, 2, 1, 18, 30), (5, 1)),  # datetimes work too
    ],
)
def test_monthly_byday(first: date, byday: tuple[int, int]) -> None:
    assert monthly_byday(first) == byday


def test_monthly_rrule_uses_monthly_byday() -> None:
    cases = {
        datetime(2025, 1, 14, 18): "FREQ=MONTHLY;BYDAY=2TU",
        datetime(2024, 12, 31, 18): "FREQ=MONTHLY;BYDAY=-1TU",
        datetime(2025, 3, 2, 10): "FREQ=MONTHLY;BYDAY=1SU",
    }
    for first, rrule_text in cases.items():
        ics = build_ics(
            [series(SeriesRule(NY, first, Repeat.MONTHLY, 60))], calendar_name="c", now=NOW
        )
        assert only_event(ics)["RRULE"].to_ical().decode() == rrule_text


# --------------------------------------------------------------------------- structure


def test_calendar_and_event_properties() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18, 30), Repeat.WEEKLY, 90)
    item = series(
        rule,
        7,
        cancelled=["2025-03-11"],
        moved={"2025-03-18": utc(2025, 3, 19, 22)},
        location="Discord voice channel: #circle-voice",
    )
    ics = build_ics([item], calendar_name="Family circle", now=NOW)
    assert ics.startswith(b"BEGIN:VCALENDAR\r\n")
    assert ics.endswith(b"END:VCALENDAR\r\n")
    cal = Calendar.from_ical(ics)
    assert str(cal["PRODID"]) == PRODID == "-//FamilyBot//FamilyBot//EN"
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["CALSCALE"]) == "GREGORIAN"
    assert str(cal["METHOD"]) == "PUBLISH"
    assert str(cal["X-WR-CALNAME"]) == "Family circle"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == [NY]
    assert cal.get_missing_tzids() == set()

    master = only_event(ics)
    assert str(master["UID"]) == "series-7-test@familybot.local"
    assert master["DTSTAMP"].dt == NOW
    assert master["DTSTART"].dt == datetime(2025, 3, 4, 18, 30, tzinfo=ZoneInfo(NY))
    assert master["DTSTART"].params["TZID"] == NY
    assert master["DURATION"].dt == timedelta(minutes=90)
    assert str(master["SUMMARY"]) == "Evening circle (Parents of teens)"
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY"
    assert [d.dt for d in master["EXDATE"].dts] == [
        datetime(2025, 3, 11, 18, 30, tzinfo=ZoneInfo(NY))
    ]
    assert master["EXDATE"].params["TZID"] == NY
    assert str(master["LOCATION"]) == "Discord voice channel: #circle-voice"
    assert "Parents of teens" in str(master["DESCRIPTION"])
    assert "STATUS" not in master

    override = only_event(ics, with_rid=True)
    assert str(override["UID"]) == "series-7-test@familybot.local"
    assert override["RECURRENCE-ID"].dt == datetime(2025, 3, 18, 18, 30, tzinfo=ZoneInfo(NY))
    assert override["RECURRENCE-ID"].params["TZID"] == NY
    assert override["DTSTART"].dt == datetime(2025, 3, 19, 18, tzinfo=ZoneInfo(NY))
    assert override["DTSTART"].dt.astimezone(UTC) == utc(2025, 3, 19, 22)
    assert override["DURATION"].dt == timedelta(minutes=90)
    assert override["SEQUENCE"] == 1
    assert str(override["SUMMARY"]) == "Evening circle (Parents of teens)"
    # A moved occurrence is replaced by its override, not also excluded.
    assert b"EXDATE;TZID=America/New_York:20250318T183000" not in ics


def test_description_is_plain_and_kind() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60)
    ics = build_ics([series(rule)], calendar_name="c", now=NOW)
    text = str(only_event(ics)["DESCRIPTION"])
    assert text == "A session of Parents of teens. Times follow your calendar's time zone."


@pytest.mark.parametrize(
    ("repeat", "rrule_text"),
    [
        (Repeat.WEEKLY, b"FREQ=WEEKLY"),
        (Repeat.BIWEEKLY, b"FREQ=WEEKLY;INTERVAL=2"),
        (Repeat.MONTHLY, b"FREQ=MONTHLY;BYDAY=1TU"),
    ],
)
def test_rrule_per_repeat(repeat: Repeat, rrule_text: bytes) -> None:
    rule = SeriesRule(LONDON, datetime(2025, 4, 1, 19), repeat, 60)
    assert only_event(build_ics([series(rule)], calendar_name="c", now=NOW))["RRULE"].to_ical() == (
        rrule_text
    )


def test_until_is_utc_and_inclusive() -> None:
    # Until exactly the 2025-06-24 18:00 EDT occurrence: it is included, UNTIL is UTC.
    rule = SeriesRule(NY, datetime(2025, 6, 3, 18), Repeat.WEEKLY, 60, datetime(2025, 6, 24, 18))
    ics = build_ics([series(rule)], calendar_name="c", now=NOW)
    assert b"RRULE:FREQ=WEEKLY;UNTIL=20250624T220000Z" in ics
    got = expand(ics, *WINDOW)[uid(1)]
    assert [s for s, _ in got][-1] == utc(2025, 6, 24, 22)
    assert_equivalent([series(rule)], *WINDOW)
    # One minute earlier excludes it.
    earlier = SeriesRule(
        NY, datetime(2025, 6, 3, 18), Repeat.WEEKLY, 60, datetime(2025, 6, 24, 17, 59)
    )
    assert b"UNTIL=20250623T220000Z" in build_ics([series(earlier)], calendar_name="c", now=NOW)
    assert_equivalent([series(earlier)], *WINDOW)


def test_until_before_first_occurrence_leaves_series_out() -> None:
    rule = SeriesRule(NY, datetime(2025, 6, 3, 18), Repeat.WEEKLY, 60, datetime(2025, 6, 3, 17))
    ics = build_ics([series(rule)], calendar_name="c", now=NOW)
    assert Calendar.from_ical(ics).walk("VEVENT") == []
    assert expected(series(rule), *WINDOW) == []


def test_once_series() -> None:
    rule = SeriesRule(LONDON, datetime(2025, 7, 5, 14), Repeat.ONCE, 45)
    plain = only_event(build_ics([series(rule)], calendar_name="c", now=NOW))
    assert "RRULE" not in plain
    assert "EXDATE" not in plain
    assert plain["DTSTART"].dt == datetime(2025, 7, 5, 14, tzinfo=ZoneInfo(LONDON))

    cancelled = series(rule, cancelled=["2025-07-05"])
    event = only_event(build_ics([cancelled], calendar_name="c", now=NOW))
    assert str(event["STATUS"]) == "CANCELLED"

    moved = series(rule, moved={"2025-07-05": utc(2025, 7, 6, 9)})
    ics = build_ics([moved], calendar_name="c", now=NOW)
    event = only_event(ics)
    assert event["DTSTART"].dt == datetime(2025, 7, 6, 10, tzinfo=ZoneInfo(LONDON))
    assert event["SEQUENCE"] == 1
    assert not [e for e in Calendar.from_ical(ics).walk("VEVENT") if "RECURRENCE-ID" in e]
    for item in (series(rule), cancelled, moved):
        assert_equivalent([item], *WINDOW)


def test_series_cancelled() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60)
    item = series(rule, series_cancelled=True, moved={"2025-03-11": utc(2025, 3, 12, 22)})
    ics = build_ics([item], calendar_name="c", now=NOW)
    events = Calendar.from_ical(ics).walk("VEVENT")
    assert len(events) == 2
    assert all(str(e["STATUS"]) == "CANCELLED" for e in events)
    assert "cancelled" in str(events[0]["DESCRIPTION"])
    assert expand(ics, *WINDOW)[uid(1)] == []


def test_unknown_keys_are_ignored_and_cancel_beats_move() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60)
    item = series(
        rule,
        cancelled=["2025-03-05", "not-a-date", "2025-02-30", "2025-03-11"],
        moved={"2025-03-12": utc(2025, 3, 12, 22), "2025-03-11": utc(2025, 3, 12, 22)},
    )
    ics = build_ics([item], calendar_name="c", now=NOW)
    master = only_event(ics)
    assert [d.dt.date() for d in master["EXDATE"].dts] == [date(2025, 3, 11)]
    assert not [e for e in Calendar.from_ical(ics).walk("VEVENT") if "RECURRENCE-ID" in e]
    clean = series(rule, cancelled=["2025-03-11"])
    assert expand(ics, *WINDOW) == expand(build_ics([clean], calendar_name="c", now=NOW), *WINDOW)


def test_validation() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60)
    with pytest.raises(ValueError, match="now"):
        build_ics([series(rule)], calendar_name="c", now=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="unique"):
        build_ics([series(rule, 1), series(rule, 1)], calendar_name="c", now=NOW)
    with pytest.raises(ValueError, match="aware"):
        naive_move = series(rule, moved={"2025-03-11": datetime(2025, 3, 12, 18)})
        build_ics([naive_move], calendar_name="c", now=NOW)


def test_output_is_deterministic_and_sorted() -> None:
    a = series(SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60), 2)
    b = series(SeriesRule(LONDON, datetime(2025, 3, 5, 19), Repeat.MONTHLY, 60), 1)
    c = series(SeriesRule("Europe/Berlin", datetime(2025, 3, 5, 19), Repeat.ONCE, 60), 3)
    one = build_ics([a, b, c], calendar_name="c", now=NOW)
    assert one == build_ics([c, a, b], calendar_name="c", now=NOW)
    cal = Calendar.from_ical(one)
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [uid(1), uid(2), uid(3)]
    assert [str(t["TZID"]) for t in cal.walk("VTIMEZONE")] == [
        "America/New_York",
        "Europe/Berlin",
        "Europe/London",
    ]


def test_empty_calendar() -> None:
    cal = Calendar.from_ical(build_ics([], calendar_name="Nothing yet", now=NOW))
    assert cal.walk("VEVENT") == []
    assert str(cal["X-WR-CALNAME"]) == "Nothing yet"


def test_custom_domain() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60)
    ics = build_ics([series(rule, 5)], calendar_name="c", now=NOW, domain="bot.example.org")
    assert str(only_event(ics)["UID"]) == "series-5-test@bot.example.org"


# --------------------------------------------------------------------------- VTIMEZONE


@pytest.mark.parametrize("tz", [NY, LONDON, "Australia/Sydney", "Pacific/Auckland"])
def test_vtimezone_agrees_with_tz_database(tz: str) -> None:
    """An app that uses the feed's VTIMEZONE (not its own tz data) gets the same offsets."""
    rule = SeriesRule(tz, datetime(2025, 1, 7, 18), Repeat.WEEKLY, 60)
    cal = Calendar.from_ical(build_ics([series(rule)], calendar_name="c", now=NOW))
    (vtimezone,) = cal.walk("VTIMEZONE")
    from_feed = vtimezone.to_tz(lookup_tzid=False)
    assert not isinstance(from_feed, ZoneInfo)
    zone = ZoneInfo(tz)
    instant = utc(2025, 1, 1)
    while instant < utc(2027, 1, 1):
        assert instant.astimezone(from_feed).utcoffset() == instant.astimezone(zone).utcoffset()
        wall = instant.astimezone(zone).replace(tzinfo=None, fold=0)
        assert wall.replace(tzinfo=from_feed).utcoffset() == wall.replace(tzinfo=zone).utcoffset()
        instant += timedelta(minutes=30)


# --------------------------------------------------------------------------- equivalence


EQUIVALENCE_CASES = {
    # Weekly across both NY changes (2025-03-09, 2025-11-02), one cancelled, one moved.
    "ny-weekly-dst": series(
        SeriesRule(NY, datetime(2025, 1, 7, 18), Repeat.WEEKLY, 90),
        cancelled=["2025-03-11"],
        moved={"2025-11-04": utc(2025, 11, 5, 23, 30)},
    ),
    # Biweekly London across 2025-03-30 and 2025-10-26.
    "london-biweekly-dst": series(
        SeriesRule(LONDON, datetime(2025, 1, 5, 9, 30), Repeat.BIWEEKLY, 60),
        cancelled=["2025-03-30"],
        moved={"2025-10-26": utc(2025, 10, 26, 17)},
    ),
    # Monthly on the last Tuesday (first date is a 5th Tuesday).
    "ny-monthly-last-tuesday": series(
        SeriesRule(NY, datetime(2024, 12, 31, 19), Repeat.MONTHLY, 60),
        cancelled=["2025-05-27"],
        moved={"2025-09-30": utc(2025, 10, 1, 23)},
    ),
    "london-monthly-2nd-tuesday": series(
        SeriesRule(
            LONDON, datetime(2025, 1, 14, 20), Repeat.MONTHLY, 75, datetime(2025, 10, 14, 20)
        ),
    ),
    # Session at a nonexistent (02:30 on 2025-03-09) and ambiguous (01:30 on 2025-11-02)
    # New York time; the ambiguous week is moved to the *second* 01:30 (EST).
    "ny-weekly-sunday-0230": series(
        SeriesRule(NY, datetime(2025, 1, 5, 2, 30), Repeat.WEEKLY, 60),
    ),
    "ny-weekly-sunday-0130": series(
        SeriesRule(NY, datetime(2025, 1, 5, 1, 30), Repeat.WEEKLY, 60, datetime(2025, 12, 1)),
        moved={"2025-11-02": utc(2025, 11, 2, 6, 30)},
    ),
    "london-weekly-sunday-0130": series(
        SeriesRule(LONDON, datetime(2025, 1, 5, 1, 30), Repeat.WEEKLY, 45),
        cancelled=["2025-01-05"],  # the DTSTART itself
    ),
    "sydney-biweekly": series(
        SeriesRule("Australia/Sydney", datetime(2025, 1, 3, 2, 30), Repeat.BIWEEKLY, 30),
    ),
}


@pytest.mark.parametrize("name", sorted(EQUIVALENCE_CASES))
def test_feed_expands_to_recurrence_occurrences(name: str) -> None:
    item = EQUIVALENCE_CASES[name]
    assert_equivalent([item], *WINDOW)
    # And the cancellations/moves really were applied (the cases are not vacuous).
    plain = expected(series(item.rule), *WINDOW)
    assert len(plain) >= 9
    if item.cancelled_keys or item.moved:
        assert expected(item, *WINDOW) != plain


def test_all_cases_in_one_feed() -> None:
    items = [
        CalendarSeries(
            series_id=i,
            title=item.title,
            group_name=item.group_name,
            rule=item.rule,
            cancelled_keys=item.cancelled_keys,
            moved=item.moved,
        )
        for i, item in enumerate(EQUIVALENCE_CASES.values(), start=1)
    ]
    assert_equivalent(items, *WINDOW)


def test_dst_instants_spot_check() -> None:
    ics = build_ics([EQUIVALENCE_CASES["ny-weekly-dst"]], calendar_name="c", now=NOW)
    starts = [s for s, _ in expand(ics, *WINDOW)[uid(1)]]
    assert utc(2025, 3, 4, 23) in starts  # 18:00 EST
    assert utc(2025, 3, 11, 22) not in starts  # cancelled
    assert utc(2025, 3, 18, 22) in starts  # 18:00 EDT
    assert utc(2025, 11, 4, 23) not in starts  # moved away ...
    assert utc(2025, 11, 5, 23, 30) in starts  # ... to here
    ics = build_ics([EQUIVALENCE_CASES["ny-weekly-sunday-0130"]], calendar_name="c", now=NOW)
    (override,) = [
        e
        for e in Calendar.from_ical(ics).walk("VEVENT")
        if "RECURRENCE-ID" in e and e["RECURRENCE-ID"].dt.date() == date(2025, 11, 2)
    ]
    # The second 01:30 cannot be written as TZID local time, so it is written in UTC.
    assert override["DTSTART"].to_ical() == b"20251102T063000Z"


def test_dst_edge_occurrences_are_pinned_in_utc() -> None:
    """A session in the spring gap, the autumn repeat, or across a change gets an override
    whose DTSTART is the UTC instant the bot means (readers disagree on such local times)."""
    item = series(SeriesRule(NY, datetime(2025, 1, 5, 1, 30), Repeat.WEEKLY, 60))
    ics = build_ics([item], calendar_name="c", now=NOW)
    pinned = {
        e["RECURRENCE-ID"].dt.date(): e["DTSTART"].to_ical()
        for e in Calendar.from_ical(ics).walk("VEVENT")
        if "RECURRENCE-ID" in e
    }
    # 9 Mar 2025: 01:30-02:30 EST crosses the change; 2 Nov 2025: the repeated 01:30 (EDT).
    assert pinned[date(2025, 3, 9)] == b"20250309T063000Z"
    assert pinned[date(2025, 11, 2)] == b"20251102T053000Z"
    assert date(2025, 3, 16) not in pinned  # an ordinary Sunday stays a plain instance
    assert_equivalent([item], *WINDOW)


def test_moved_outside_window_and_into_it() -> None:
    rule = SeriesRule(NY, datetime(2025, 1, 7, 18), Repeat.WEEKLY, 60)
    item = series(
        rule, moved={"2025-12-30": utc(2026, 1, 2, 23), "2026-01-06": utc(2025, 12, 31, 23)}
    )
    assert_equivalent([item], *WINDOW)
    assert_equivalent([item], utc(2025, 12, 1), utc(2026, 2, 1))


# --------------------------------------------------------------------------- property

ZONES = [
    NY,
    LONDON,
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "UTC",
]
TIMES = [time(0, 30), time(1, 30), time(2, 0), time(2, 30), time(9, 15), time(18), time(23, 45)]


@st.composite
def calendar_series(draw: st.DrawFn) -> CalendarSeries:
    tz = draw(st.sampled_from(ZONES))
    first_day = draw(st.dates(min_value=date(2024, 10, 1), max_value=date(2025, 12, 31)))
    first = datetime.combine(first_day, draw(st.sampled_from(TIMES)))
    repeat = draw(st.sampled_from(list(Repeat)))
    until = None
    if draw(st.booleans()):
        until = first + timedelta(
            days=draw(st.integers(-3, 400)), minutes=draw(st.integers(-90, 90))
        )
    rule = SeriesRule(tz, first, repeat, draw(st.integers(15, 180)), until)
    keys = [o.key for o in occurrences(rule, utc(2024, 9, 1), utc(2027, 3, 1))]
    cancelled: list[str] = []
    moved: dict[str, datetime] = {}
    if keys:
        chosen = draw(st.lists(st.sampled_from(keys), max_size=4, unique=True))
        for key in chosen:
            if draw(st.booleans()):
                cancelled.append(key)
            else:
                occ = occurrence_for_key(rule, key)
                assert occ is not None
                shift = timedelta(minutes=draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)))
                moved[key] = occ.start_utc + shift
    return CalendarSeries(
        series_id=draw(st.integers(1, 10**9)),
        title="t",
        group_name="g",
        rule=rule,
        cancelled_keys=cancelled,
        moved=moved,
        series_cancelled=draw(st.booleans()) and draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    item=calendar_series(),
    window_start=st.dates(min_value=date(2024, 9, 1), max_value=date(2026, 1, 1)),
)
def test_property_feed_matches_recurrence(item: CalendarSeries, window_start: date) -> None:
    start = datetime.combine(window_start, time(), tzinfo=UTC)
    assert_equivalent([item], start, start + timedelta(days=365))


# --------------------------------------------------------------------------- hostile text

ALLOWED_EVENT_PROPS = {
    "UID",
    "DTSTAMP",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "DTSTART",
    "DURATION",
    "RRULE",
    "EXDATE",
    "RECURRENCE-ID",
    "SEQUENCE",
    "STATUS",
}
HOSTILE = (
    "Circle\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil@x\r\nSUMMARY:pwned\r\n"
    "\nATTENDEE;CN=x:mailto:a@b\n;RRULE:FREQ=DAILY,\\n\\\\;\x00\x07\x1b[31m\x7f\x85"
    "\u2028BEGIN:VALARM\u2029\u202eevil\ud800 "
) + "A" * 10_000


def _unfold(ics: bytes) -> list[str]:
    return ics.decode("utf-8").replace("\r\n ", "").split("\r\n")[:-1]


def test_hostile_text_cannot_inject() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60)
    item = CalendarSeries(
        series_id=1,
        title=HOSTILE,
        group_name=HOSTILE,
        rule=rule,
        moved={"2025-03-11": utc(2025, 3, 12, 22)},
        location=HOSTILE,
    )
    ics = build_ics([item], calendar_name=HOSTILE, now=NOW)

    # Physical lines: CRLF only, folded to <= 75 octets, no stray CR/LF or controls.
    for line in ics.split(b"\r\n")[:-1]:
        assert len(line) <= 75
        assert b"\r" not in line and b"\n" not in line
        assert not any(unicodedata.category(ch) == "Cc" for ch in line.decode())

    # Logical lines: only the expected components and properties exist.
    lines = _unfold(ics)
    names = [re.split(r"[;:]", line, maxsplit=1)[0] for line in lines]
    begins = [line for line in lines if line.startswith("BEGIN:")]
    assert begins.count("BEGIN:VEVENT") == 2
    assert "BEGIN:VALARM" not in begins
    assert not [n for n in names if n in {"ATTENDEE", "ORGANIZER"}]

    cal = Calendar.from_ical(ics)
    assert len(cal.walk("VCALENDAR")) == 1
    assert [c.name for c in cal.subcomponents] == ["VTIMEZONE", "VEVENT", "VEVENT"]
    for event in cal.walk("VEVENT"):
        assert set(event.keys()) <= ALLOWED_EVENT_PROPS
        assert str(event["UID"]) == uid(1)
        assert event.subcomponents == []
    master = only_event(ics)
    assert master["RRULE"].to_ical() == b"FREQ=WEEKLY"
    assert "STATUS" not in master

    # The text survives escaping exactly (after cleaning), capped in length.
    title, group = clean_text(HOSTILE, TITLE_MAX), clean_text(HOSTILE, GROUP_NAME_MAX)
    assert str(master["SUMMARY"]) == f"{title} ({group})"
    assert len(title) <= TITLE_MAX and len(group) <= GROUP_NAME_MAX
    assert "END:VEVENT" in title  # kept as harmless text, not as structure
    assert ";" in title and "," in title and "\\" in title
    assert len(str(cal["X-WR-CALNAME"])) <= 200
    assert len(str(master["LOCATION"])) <= 200


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("  Evening\r\n  circle\t ", "Evening circle"),
        ("a\x00b\x1bc\x7fd", "a b c d"),
        ("semi;colon,comma\\back", "semi;colon,comma\\back"),
        ("line\u2028sep\u2029para", "line sep para"),
        ("bidi\u202eevil", "bidi evil"),
        ("family 👨\u200d👩\u200d👧 ok", "family 👨\u200d👩\u200d👧 ok"),  # ZWJ emoji kept
    ],
)
def test_clean_text(text: str, cleaned: str) -> None:
    assert clean_text(text, 100) == cleaned


def test_clean_text_caps_length() -> None:
    assert clean_text("x" * 10_000, 200) == "x" * 199 + "…"
    assert len(clean_text("x" * 200, 200)) == 200


def test_unicode_title_round_trips() -> None:
    rule = SeriesRule(NY, datetime(2025, 3, 4, 18), Repeat.WEEKLY, 60)
    title = "Cercle du soir — 家族の会 👨‍👩‍👧 " * 5
    item = CalendarSeries(1, title, "Grupo de apoyo", rule)
    ics = build_ics([item], calendar_name="Família", now=NOW)
    assert str(only_event(ics)["SUMMARY"]) == f"{clean_text(title, TITLE_MAX)} (Grupo de apoyo)"
    assert all(len(line) <= 75 for line in ics.split(b"\r\n"))
