"""What makes `/my calendar` and the feed fast must not change a byte of what they write.

* The DST-edge scan looks only where a session can start near a change
  (``calendar_zones._may_start_between``); here it is compared with expanding the rule around every
  change of a decade, as it used to, over random series in zones with ordinary, half-hour
  and southern-hemisphere changes.
* Zone definitions and series' events are kept serialized between builds: a second build,
  a build after a change, and a restamped build must equal a build from empty caches.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from familybot.services.sessions import calendar, calendar_zones
from familybot.services.sessions.calendar import CalendarSeries, build_ics, restamp
from familybot.services.sessions.calendar_zones import at_a_change
from familybot.services.sessions.recurrence import Repeat, SeriesRule, occurrences

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a half-hour change
    "America/Santiago",  # changes at midnight
    "Asia/Kolkata",
]
TIMES = [time(0, 0), time(0, 30), time(1, 30), time(2, 0), time(2, 30), time(23, 30), time(18)]
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def naive_edges(rule: SeriesRule, instants: tuple[datetime, ...]) -> list[tuple[str, datetime]]:
    """The scan as it was: expand the rule around every change and test each session."""
    zone = ZoneInfo(rule.tz)
    length = timedelta(minutes=rule.duration_minutes)
    near = timedelta(hours=3)
    found: dict[str, datetime] = {}
    for change in instants:
        for occ in occurrences(rule, change - length - near, change + near):
            if at_a_change(rule, zone, occ, change):
                found[occ.key] = occ.start_utc
    return sorted(found.items())


@st.composite
def rules(draw: st.DrawFn) -> SeriesRule:
    tz = draw(st.sampled_from(ZONES))
    first_day = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)))
    first = datetime.combine(first_day, draw(st.sampled_from(TIMES)))
    until = None
    if draw(st.booleans()):
        until = first + timedelta(
            days=draw(st.integers(-3, 900)), minutes=draw(st.integers(-90, 90))
        )
    return SeriesRule(
        tz, first, draw(st.sampled_from(list(Repeat))), draw(st.integers(15, 480)), until
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule=rules())
def test_edge_scan_finds_what_expanding_around_every_change_finds(rule: SeriesRule) -> None:
    _ics, changes = calendar_zones.zone_definition(rule.tz, date(2023, 1, 1), date(2034, 1, 1))
    assert calendar_zones.edge_occurrences(rule, changes) == naive_edges(rule, changes.instants)


def test_the_edge_scan_is_not_vacuous() -> None:
    """A Sunday 02:30 New York series has a session in the spring gap every year (2024-2033)."""
    rule = SeriesRule("America/New_York", datetime(2024, 1, 7, 2, 30), Repeat.WEEKLY, 60)
    _ics, changes = calendar_zones.zone_definition(rule.tz, date(2023, 1, 1), date(2034, 1, 1))
    found = calendar_zones.edge_occurrences(rule, changes)
    assert len(found) == 10 and found == naive_edges(rule, changes.instants)


def series(n: int, tz: str, cancelled: tuple[str, ...] = ()) -> CalendarSeries:
    rule = SeriesRule(tz, datetime(2025, 3, 2 + n % 7, 1 + n % 3, 30), Repeat.WEEKLY, 90)
    return CalendarSeries(n, f"Title {n}", f"Group {n}", rule, cancelled_keys=cancelled)


def cold(items: list[CalendarSeries], **kwargs: object) -> bytes:
    calendar._series_block.cache_clear()
    calendar_zones.zone_definition.cache_clear()
    return build_ics(items, calendar_name="c", now=NOW, install_id="i", **kwargs)  # type: ignore[arg-type]


def test_kept_blocks_give_the_same_bytes_as_a_fresh_build() -> None:
    items = [series(n, ZONES[n % len(ZONES)]) for n in range(1, 13)]
    fresh = cold(items)
    again = build_ics(items, calendar_name="c", now=NOW, install_id="i")
    assert again == fresh
    # One date cancelled: only that series changes, and the result is a fresh build's.
    key = occurrences(items[3].rule, NOW, NOW + timedelta(days=8))[0].key
    changed = [*items[:3], series(4, ZONES[4], (key,)), *items[4:]]
    warm = build_ics(changed, calendar_name="c", now=NOW, install_id="i")
    assert warm != fresh and b"EXDATE" in warm
    assert warm == cold(changed)
    # Each DTSTAMP is the one asked for, in every event.
    later = NOW + timedelta(days=3, hours=1)
    assert build_ics(items, calendar_name="c", now=NOW, install_id="i", dtstamp=later) == cold(
        items, dtstamp=later
    )
    stamps = {line for line in fresh.decode().splitlines() if line.startswith("DTSTAMP")}
    assert stamps == {"DTSTAMP:20260601T120000Z"}


def test_restamp_equals_building_with_that_stamp() -> None:
    items = [series(n, ZONES[n % len(ZONES)]) for n in range(1, 5)]
    old, new = datetime(2000, 1, 1, tzinfo=UTC), datetime(2026, 7, 4, 9, 30, 15, tzinfo=UTC)
    built = build_ics(items, calendar_name="c", now=NOW, install_id="i", dtstamp=old)
    direct = build_ics(items, calendar_name="c", now=NOW, install_id="i", dtstamp=new)
    assert restamp(built, old, new) == direct
    assert direct.count(b"\r\nDTSTAMP:20260704T093015Z\r\n") == direct.count(b"BEGIN:VEVENT")
