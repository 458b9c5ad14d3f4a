"""Tests for familybot.services.sessions.recurrence (pure: explicit instants, no clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
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
)
from hypothesis import given, settings
from hypothesis import strategies as st

from familybot.models.sessions import Occurrence
from familybot.services.sessions.local_input import parse_local_date, parse_local_time
from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    discord_timestamp,
    from_utc,
    next_occurrence,
    occurrence_for_key,
    occurrences,
    reminder_instants,
    to_utc,
    validate_tz,
)

NY = "America/New_York"
LONDON = "Europe/London"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local_walls(occs: list[Occurrence], tz: str) -> list[tuple[str, time]]:
    return [(o.key, from_utc(o.start_utc, tz).time().replace(tzinfo=None)) for o in occs]


def weekly(tz: str, first: datetime, until_local: datetime | None = None) -> SeriesRule:
    return SeriesRule(tz, first, Repeat.WEEKLY, 60, until_local)


# --------------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("tz", "first", "before_utc_hour", "after_utc_hour"),
    [
        # NY springs forward 2025-03-09; London 2025-03-30.
        (NY, datetime(2025, 3, 2, 18), 23, 22),
        (LONDON, datetime(2025, 3, 23, 18), 18, 17),
        # NY falls back 2025-11-02; London 2025-10-26.
        (NY, datetime(2025, 10, 26, 18), 22, 23),
        (LONDON, datetime(2025, 10, 19, 18), 17, 18),
    ],
)
def test_weekly_stays_at_local_wall_time_across_dst(
    tz: str, first: datetime, before_utc_hour: int, after_utc_hour: int
) -> None:
    rule = weekly(tz, first)
    occs = occurrences(rule, utc(2025, 1, 1), utc(2026, 1, 1), limit=3)
    assert [w for _, w in local_walls(occs, tz)] == [time(18)] * 3
    assert [o.start_utc.hour for o in occs] == [before_utc_hour, after_utc_hour, after_utc_hour]
    assert occs[1].start_utc - occs[0].start_utc != timedelta(days=7)  # the UTC instant moved
    assert [o.key for o in occs] == [
        (first.date() + timedelta(days=7 * i)).isoformat() for i in range(3)
    ]
    assert all(o.end_utc - o.start_utc == timedelta(minutes=60) for o in occs)


def test_spring_forward_gap_moves_to_next_valid_wall_time_ny() -> None:
    rule = weekly(NY, datetime(2025, 3, 2, 2, 30))
    occs = occurrences(rule, utc(2025, 3, 1), utc(2025, 3, 20))
    assert [o.key for o in occs] == ["2025-03-02", "2025-03-09", "2025-03-16"]
    gap_day = occs[1]
    assert gap_day.start_utc == utc(2025, 3, 9, 7, 30)
    assert from_utc(gap_day.start_utc, NY).time() == time(3, 30)  # 03:30 EDT
    assert from_utc(occs[2].start_utc, NY).time() == time(2, 30)  # back to 02:30
    assert to_utc(datetime(2025, 3, 9, 2, 30), NY) == utc(2025, 3, 9, 7, 30)


def test_spring_forward_gap_london() -> None:
    # 01:30 does not exist in London on 2025-03-30; it becomes 02:30 BST.
    rule = weekly(LONDON, datetime(2025, 3, 23, 1, 30))
    occ = occurrence_for_key(rule, "2025-03-30")
    assert occ is not None
    assert occ.start_utc == utc(2025, 3, 30, 1, 30)
    assert from_utc(occ.start_utc, LONDON).time() == time(2, 30)


@pytest.mark.parametrize(
    ("tz", "local", "first_instant"),
    [
        (NY, datetime(2025, 11, 2, 1, 30), utc(2025, 11, 2, 5, 30)),  # 01:30 EDT
        (LONDON, datetime(2025, 10, 26, 1, 30), utc(2025, 10, 26, 0, 30)),  # 01:30 BST
    ],
)
def test_fall_back_ambiguous_time_happens_once_at_first_instant(
    tz: str, local: datetime, first_instant: datetime
) -> None:
    rule = SeriesRule(tz, local - timedelta(days=7), Repeat.WEEKLY, 30)
    day = occurrences(
        rule, utc(2025, local.month, local.day - 1), utc(2025, local.month, local.day + 1)
    )
    assert len(day) == 1
    assert day[0].start_utc == first_instant
    assert day[0].key == local.date().isoformat()
    assert to_utc(local, tz) == first_instant
    # Asking from just after the first 01:30 does not find a second one that day.
    nxt = next_occurrence(rule, first_instant)
    assert nxt is not None and nxt.key == (local.date() + timedelta(days=7)).isoformat()


def test_reminder_24h_before_across_dst_is_24_real_hours() -> None:
    occ = occurrence_for_key(weekly(NY, datetime(2025, 3, 2, 18)), "2025-03-09")
    assert occ is not None
    [(offset, instant), (offset2, instant2)] = reminder_instants(occ, [24 * 60, 15])
    assert (offset, offset2) == (1440, 15)
    assert occ.start_utc - instant == timedelta(hours=24)
    assert instant == utc(2025, 3, 8, 22)
    # The day before was still EST, so the wall clock shows 17:00, not 18:00.
    assert from_utc(instant, NY).time() == time(17)
    assert instant2 == occ.start_utc - timedelta(minutes=15)


# --------------------------------------------------------------------------- rules


def test_biweekly() -> None:
    rule = SeriesRule(LONDON, datetime(2025, 1, 6, 19), Repeat.BIWEEKLY, 90)
    occs = occurrences(rule, utc(2025, 1, 1), utc(2025, 3, 1))
    assert [o.key for o in occs] == ["2025-01-06", "2025-01-20", "2025-02-03", "2025-02-17"]
    # Far from the start the phase is kept (jump-ahead arithmetic).
    later = occurrences(rule, utc(2027, 6, 1), utc(2027, 6, 30))
    assert all((date.fromisoformat(o.key) - date(2025, 1, 6)).days % 14 == 0 for o in later)
    assert len(later) == 2
    assert occurrence_for_key(rule, "2025-01-13") is None
    assert occurrence_for_key(rule, "2025-01-20") is not None


def test_monthly_second_tuesday_across_a_year() -> None:
    rule = SeriesRule(NY, datetime(2025, 1, 14, 18, 30), Repeat.MONTHLY, 60)
    occs = occurrences(rule, utc(2025, 1, 1), utc(2026, 1, 1))
    assert len(occs) == 12
    for o in occs:
        d = date.fromisoformat(o.key)
        assert d.weekday() == 1 and 8 <= d.day <= 14
        assert from_utc(o.start_utc, NY).time() == time(18, 30)
    assert occs[2].key == "2025-03-11"


def test_monthly_fifth_weekday_becomes_last_weekday() -> None:
    # 2025-01-31 is the 5th Friday of January; most months have no 5th Friday.
    rule = SeriesRule(LONDON, datetime(2025, 1, 31, 10), Repeat.MONTHLY, 60)
    keys = [o.key for o in occurrences(rule, utc(2025, 1, 1), utc(2025, 7, 1))]
    assert keys == [
        "2025-01-31",
        "2025-02-28",
        "2025-03-28",
        "2025-04-25",
        "2025-05-30",
        "2025-06-27",
    ]


def test_monthly_fourth_weekday_stays_fourth() -> None:
    # 2025-01-28 is the 4th (and last) Tuesday; April has 5 Tuesdays: keep the 4th.
    rule = SeriesRule(LONDON, datetime(2025, 1, 28, 10), Repeat.MONTHLY, 60)
    assert occurrence_for_key(rule, "2025-04-22") is not None
    assert occurrence_for_key(rule, "2025-04-29") is None


def test_weekly_from_jan_31_crosses_month_ends() -> None:
    rule = weekly(NY, datetime(2025, 1, 31, 18))
    keys = [o.key for o in occurrences(rule, utc(2025, 1, 1), utc(2025, 3, 10))]
    assert keys == [
        "2025-01-31",
        "2025-02-07",
        "2025-02-14",
        "2025-02-21",
        "2025-02-28",
        "2025-03-07",
    ]


def test_weekly_through_leap_day() -> None:
    rule = weekly(LONDON, datetime(2028, 2, 15, 12))
    keys = [o.key for o in occurrences(rule, utc(2028, 2, 1), utc(2028, 3, 15))]
    assert keys == ["2028-02-15", "2028-02-22", "2028-02-29", "2028-03-07", "2028-03-14"]


def test_monthly_from_leap_day_is_last_tuesday() -> None:
    # 2028-02-29 is the 5th Tuesday of February 2028 -> "last Tuesday".
    rule = SeriesRule(NY, datetime(2028, 2, 29, 19), Repeat.MONTHLY, 60)
    keys = [o.key for o in occurrences(rule, utc(2028, 1, 1), utc(2028, 6, 1))]
    assert keys == ["2028-02-29", "2028-03-28", "2028-04-25", "2028-05-30"]


def test_once() -> None:
    rule = SeriesRule(NY, datetime(2025, 5, 1, 18), Repeat.ONCE, 45)
    assert [o.key for o in occurrences(rule, utc(2020, 1, 1), utc(2030, 1, 1))] == ["2025-05-01"]
    assert occurrences(rule, utc(2025, 5, 2), utc(2030, 1, 1)) == []
    only = next_occurrence(rule, utc(2025, 1, 1))
    assert only == Occurrence("2025-05-01", utc(2025, 5, 1, 22), utc(2025, 5, 1, 22, 45))
    assert next_occurrence(rule, only.start_utc) is None
    assert occurrence_for_key(rule, "2025-05-08") is None


def test_until_local_is_inclusive() -> None:
    rule = weekly(NY, datetime(2025, 1, 6, 18), until_local=datetime(2025, 1, 27, 18))
    keys = [o.key for o in occurrences(rule, utc(2025, 1, 1), utc(2026, 1, 1))]
    assert keys == ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"]
    assert occurrence_for_key(rule, "2025-02-03") is None
    assert next_occurrence(rule, utc(2025, 1, 27, 23)) is None
    # An until on the last day but before the session's time excludes that day.
    earlier = weekly(NY, datetime(2025, 1, 6, 18), until_local=datetime(2025, 1, 27, 17, 59))
    assert occurrence_for_key(earlier, "2025-01-27") is None
    assert (
        next_occurrence(
            weekly(NY, datetime(2025, 1, 6, 18), until_local=datetime(2025, 1, 1)), utc(2024, 1, 1)
        )
        is None
    )


def test_window_is_half_open() -> None:
    rule = weekly("UTC", datetime(2025, 1, 6, 18))
    start = utc(2025, 1, 13, 18)
    assert [o.key for o in occurrences(rule, start, start + timedelta(days=7))] == ["2025-01-13"]
    assert occurrences(rule, start - timedelta(days=7), start)[-1].key == "2025-01-06"
    assert occurrences(rule, start + timedelta(microseconds=1), start + timedelta(days=7)) == []
    assert occurrences(rule, start, start) == []
    assert occurrences(rule, start, start - timedelta(days=1)) == []


def test_limit_and_before_first() -> None:
    rule = weekly(NY, datetime(2025, 1, 6, 18))
    assert len(occurrences(rule, utc(2020, 1, 1), utc(2030, 1, 1), limit=3)) == 3
    assert occurrences(rule, utc(2020, 1, 1), utc(2030, 1, 1), limit=0) == []
    assert occurrences(rule, utc(2020, 1, 1), utc(2025, 1, 1)) == []
    with pytest.raises(ValueError):
        occurrences(rule, utc(2020, 1, 1), utc(2030, 1, 1), limit=-1)


def test_next_occurrence_is_strictly_after() -> None:
    rule = SeriesRule(NY, datetime(2025, 1, 14, 18), Repeat.MONTHLY, 60)
    first = next_occurrence(rule, utc(2000, 1, 1))
    assert first is not None and first.key == "2025-01-14"
    second = next_occurrence(rule, first.start_utc)
    assert second is not None and second.key == "2025-02-11"
    assert next_occurrence(rule, first.start_utc - timedelta(microseconds=1)) == first
    far = next_occurrence(rule, utc(2031, 7, 20))
    assert far is not None and far.key == "2031-08-12"


def test_occurrence_for_key() -> None:
    rule = weekly(NY, datetime(2025, 1, 6, 18))
    occ = occurrence_for_key(rule, "2025-03-10")
    assert occ == occurrences(rule, utc(2025, 3, 10), utc(2025, 3, 11))[0]
    assert occurrence_for_key(rule, "2025-03-11") is None
    assert occurrence_for_key(rule, "2024-12-30") is None  # before the series
    with pytest.raises(ValueError):
        occurrence_for_key(rule, "not-a-date")


def test_rule_validation() -> None:
    with pytest.raises(ValueError):
        SeriesRule("Mars/Olympus", datetime(2025, 1, 1), Repeat.ONCE, 60)
    with pytest.raises(ValueError):
        SeriesRule(NY, datetime(2025, 1, 1, tzinfo=UTC), Repeat.ONCE, 60)
    with pytest.raises(ValueError):
        SeriesRule(NY, datetime(2025, 1, 1), Repeat.ONCE, 0)
    with pytest.raises(ValueError):
        SeriesRule(NY, datetime(2025, 1, 1), "fortnightly", 60)  # type: ignore[arg-type]
    assert SeriesRule(NY, datetime(2025, 1, 1), "weekly", 60).repeat is Repeat.WEEKLY  # type: ignore[arg-type]


# --------------------------------------------------------------------------- helpers


def test_validate_tz() -> None:
    assert validate_tz("Europe/London")
    assert validate_tz("UTC")
    for bad in ["", "Mars/Olympus", "America", "../etc/passwd", "/etc/localtime", "localtime"]:
        assert not validate_tz(bad), bad


def test_to_utc_from_utc_round_trip_and_naive_checks() -> None:
    instant = to_utc(datetime(2025, 7, 1, 18), NY)
    assert instant == utc(2025, 7, 1, 22) and instant.tzinfo is UTC
    local = from_utc(instant, NY)
    assert local.tzinfo == ZoneInfo(NY) and local.replace(tzinfo=None) == datetime(2025, 7, 1, 18)
    with pytest.raises(ValueError):
        to_utc(instant, NY)
    with pytest.raises(ValueError):
        from_utc(datetime(2025, 7, 1), NY)


def test_discord_timestamp() -> None:
    assert discord_timestamp(utc(2025, 1, 1)) == "<t:1735689600:F>"
    assert discord_timestamp(utc(2025, 1, 1, 0, 0, 1), "R") == "<t:1735689601:R>"
    assert discord_timestamp(from_utc(utc(2025, 1, 1), NY), "t") == "<t:1735689600:t>"
    with pytest.raises(ValueError):
        discord_timestamp(utc(2025, 1, 1), "x")
    with pytest.raises(ValueError):
        discord_timestamp(datetime(2025, 1, 1))


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:30", time(18, 30)),
        ("00:00", time(0)),
        ("23:59", time(23, 59)),
        ("6:05", time(6, 5)),
        ("18.30", time(18, 30)),
        ("6pm", time(18)),
        ("6 PM", time(18)),
        ("6:30 pm", time(18, 30)),
        ("6:30pm", time(18, 30)),
        ("6.30pm", time(18, 30)),
        ("6:30\u202fPM", time(18, 30)),  # narrow no-break space, as phones type it
        ("6:30 p.m.", time(18, 30)),
        ("12am", time(0)),
        ("12:15 am", time(0, 15)),
        ("12pm", time(12)),
        ("11:59pm", time(23, 59)),
        ("  7am ", time(7)),
    ],
)
def test_parse_local_time_good(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize(
    "text",
    ["25:00", "24:00", "18:60", "13pm", "0am", "6", "18", "six", "", "6:3", "18:30:00", "6:30 xm"],
)
def test_parse_local_time_bad(text: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_local_time(text)
    assert str(excinfo.value) == f"I couldn't read “{text.strip()}” as a time. Try 18:30 or 6:30pm."


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2025-03-14", date(2025, 3, 14)), (" 2028-02-29 ", date(2028, 2, 29))],
)
def test_parse_local_date_good(text: str, expected: date) -> None:
    assert parse_local_date(text) == expected


@pytest.mark.parametrize(
    "text", ["14/03/2025", "2025-3-14", "20250314", "tomorrow", "", "2025-03-14T10:00"]
)
def test_parse_local_date_bad_format(text: str) -> None:
    with pytest.raises(ValueError, match=r"couldn't read “.*” as a date\. Try year-month-day"):
        parse_local_date(text)


@pytest.mark.parametrize("text", ["2025-02-29", "2025-13-01", "2025-04-31", "2025-00-10"])
def test_parse_local_date_not_on_calendar(text: str) -> None:
    with pytest.raises(ValueError, match="isn't a date on the calendar"):
        parse_local_date(text)


def test_long_bad_input_is_shortened_in_message() -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_local_time("x" * 500)
    assert len(str(excinfo.value)) < 120


# --------------------------------------------------------------------------- property

ZONES = [
    "UTC",
    NY,
    LONDON,
    "Europe/Dublin",  # negative DST in the tz source
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Australia/Sydney",  # southern hemisphere
    "America/Santiago",  # DST transitions at midnight
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
]


def reference(rule: SeriesRule, start: datetime, end: datetime) -> list[Occurrence]:
    """Naive expansion from the first date (no jump-ahead), for comparison."""
    first = datetime.combine(rule.first_local.date(), time())
    if rule.repeat is Repeat.ONCE:
        dates = [first]
    elif rule.repeat is Repeat.MONTHLY:
        nth = (first.day - 1) // 7 + 1
        weekday = [MO, TU, WE, TH, FR, SA, SU][first.weekday()]
        dates = list(
            rrule(
                MONTHLY,
                dtstart=first,
                until=end.replace(tzinfo=None) + timedelta(days=3),
                byweekday=weekday(-1 if nth == 5 else nth),
            )
        )
    else:
        dates = list(
            rrule(
                WEEKLY,
                interval=1 if rule.repeat is Repeat.WEEKLY else 2,
                dtstart=first,
                until=end.replace(tzinfo=None) + timedelta(days=3),
            )
        )
    result = []
    for d in dates:
        nominal = datetime.combine(d.date(), rule.first_local.time())
        if rule.until_local is not None and nominal > rule.until_local:
            continue
        s = to_utc(nominal, rule.tz)
        if start <= s < end:
            result.append(
                Occurrence(d.date().isoformat(), s, s + timedelta(minutes=rule.duration_minutes))
            )
    return result


@st.composite
def rules_and_windows(draw: st.DrawFn) -> tuple[SeriesRule, datetime, datetime, datetime, datetime]:
    tz = draw(st.sampled_from(ZONES))
    first = draw(st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31)))
    first = first.replace(second=0, microsecond=0)
    repeat = draw(st.sampled_from(list(Repeat)))
    until = None
    if draw(st.booleans()):
        until_day = first.date() + timedelta(days=draw(st.integers(-30, 800)))
        until_time = draw(st.sampled_from([first.time(), time(0), time(23, 59)]) | st.times())
        until = datetime.combine(until_day, until_time)
    rule = SeriesRule(tz, first, repeat, draw(st.integers(1, 600)), until)
    # Windows mostly overlap the series: from a bit before its first date to ~6 years on.
    far = timedelta(days=draw(st.sampled_from([60, 2200])))
    offset = draw(st.timedeltas(min_value=timedelta(days=-60), max_value=far))
    start = (first + offset).replace(tzinfo=UTC)
    end = start + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
    a = start + (end - start) * draw(st.floats(0, 1))
    b = a + (end - a) * draw(st.floats(0, 1))
    return rule, start, end, a, b


@settings(max_examples=300, deadline=None)
@given(rules_and_windows())
def test_property_occurrences(
    case: tuple[SeriesRule, datetime, datetime, datetime, datetime],
) -> None:
    rule, start, end, a, b = case
    occs = occurrences(rule, start, end)
    starts = [o.start_utc for o in occs]
    assert starts == sorted(set(starts))  # strictly increasing
    assert len({o.key for o in occs}) == len(occs)
    assert occs == reference(rule, start, end)
    rule_time = rule.first_local.time()
    for o in occs:
        assert start <= o.start_utc < end
        assert o.start_utc.tzinfo is UTC
        nominal = datetime.combine(date.fromisoformat(o.key), rule_time)
        wall = from_utc(o.start_utc, rule.tz).replace(tzinfo=None)
        in_gap = from_utc(to_utc(nominal, rule.tz), rule.tz).replace(tzinfo=None) != nominal
        if in_gap:
            assert wall > nominal
        else:
            assert wall == nominal
        assert occurrence_for_key(rule, o.key) == o
    assert occurrences(rule, a, b) == [o for o in occs if a <= o.start_utc < b]
    if occs:
        assert next_occurrence(rule, occs[0].start_utc - timedelta(microseconds=1)) == occs[0]
        if len(occs) > 1:
            assert next_occurrence(rule, occs[0].start_utc) == occs[1]
        one = occs[-1].start_utc
        assert occurrences(rule, one, one + timedelta(microseconds=1)) == [occs[-1]]
        assert occurrences(rule, one - timedelta(days=1), one) == [
            o for o in occs[:-1] if o.start_utc >= one - timedelta(days=1)
        ]
