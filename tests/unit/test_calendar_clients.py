"""Our .ics as calendar apps read it, with parsers that share no code with the writer.

The writer uses the ``icalendar`` library; reading the file back with it proved nothing
(it read the comma-separated RDATE lists that other clients don't). Here two independent
readers expand a year of sessions using only the VTIMEZONEs in the file:

* vobject + python-dateutil (vobject turns each VTIMEZONE into a dateutil ``tzical``);
* Mozilla's ical.js under Node (Thunderbird's calendar engine), from
  ``tests/support/icaljs`` (``npm ci`` there; ``.ci/run`` does it and sets
  ``FAMILYBOT_REQUIRE_ICALJS=1`` so CI fails rather than skip).

Each must list exactly the instants the bot means (the recurrence engine, with the
cancellations and moves applied), in northern and southern hemisphere zones, a zone
without DST, and at the DST edge hours.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import vobject
from dateutil import tz  # type: ignore[import-untyped,unused-ignore]

from familybot.services.sessions.calendar import CalendarSeries, build_ics
from familybot.services.sessions.recurrence import Repeat, SeriesRule, occurrences

Instant = tuple[datetime, datetime]
ICALJS_DIR = Path(__file__).resolve().parents[1] / "support" / "icaljs"
# The feed is written on 1 Jan 2026 for series that began in 2024: the year read is the
# third year the VTIMEZONE covers, where a reader of only the first RDATE value goes wrong.
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
YEAR = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=UTC)


def item(
    series_id: int,
    tz: str,
    first: datetime,
    repeat: Repeat,
    minutes: int = 60,
    *,
    cancelled: Sequence[str] = (),
    moved: Mapping[str, datetime] | None = None,
    until: datetime | None = None,
    week: int | None = None,
) -> CalendarSeries:
    return CalendarSeries(
        series_id=series_id,
        title="Evening circle",
        group_name="Parents of teens",
        rule=SeriesRule(tz, first, repeat, minutes, until_local=until, monthly_week=week),
        cancelled_keys=cancelled,
        moved=moved or {},
    )


CASES: dict[str, CalendarSeries] = {
    # North: New York changes on 8 Mar and 1 Nov 2026.
    "new-york weekly": item(
        1,
        "America/New_York",
        datetime(2024, 1, 2, 18),
        Repeat.WEEKLY,
        90,
        cancelled=["2026-03-10"],
        moved={"2026-11-03": utc(2026, 11, 4, 23, 30)},
    ),
    "new-york sunday 02:30 (spring gap)": item(
        2, "America/New_York", datetime(2024, 1, 7, 2, 30), Repeat.WEEKLY
    ),
    "new-york sunday 01:30 (autumn repeat)": item(
        3,
        "America/New_York",
        datetime(2024, 1, 7, 1, 30),
        Repeat.WEEKLY,
        # The ambiguous week moved to the *second* 01:30 (EST), written in UTC.
        moved={"2026-11-01": utc(2026, 11, 1, 6, 30)},
    ),
    "london biweekly sunday 01:30": item(
        4, "Europe/London", datetime(2024, 1, 7, 1, 30), Repeat.BIWEEKLY, 45
    ),
    "berlin monthly last tuesday": item(
        5, "Europe/Berlin", datetime(2024, 1, 30, 19), Repeat.MONTHLY, cancelled=["2026-06-30"]
    ),
    # South: Sydney leaves DST on 5 Apr and starts it on 4 Oct 2026 (02:00/03:00 edges).
    "sydney weekly sunday 02:30": item(
        6, "Australia/Sydney", datetime(2024, 1, 7, 2, 30), Repeat.WEEKLY
    ),
    "auckland biweekly": item(
        7,
        "Pacific/Auckland",
        datetime(2024, 1, 4, 19),
        Repeat.BIWEEKLY,
        moved={"2026-04-09": utc(2026, 4, 10, 8)},
    ),
    # No DST at all.
    "kolkata monthly 2nd wednesday": item(
        8, "Asia/Kolkata", datetime(2024, 1, 10, 18, 30), Repeat.MONTHLY
    ),
    # The "last Thursday" trap: 26 Feb 2026 is the 4th and the last Thursday. With
    # week:last, April (2, 9, 16, 23, 30), July and October meet on the 5th Thursday.
    "london monthly last thursday (week:last)": item(
        9, "Europe/London", datetime(2026, 2, 26, 19, 30), Repeat.MONTHLY, week=-1
    ),
    "london monthly 4th thursday (week:4th)": item(
        10, "Europe/London", datetime(2026, 2, 26, 19, 30), Repeat.MONTHLY, week=4
    ),
    # An end date (inclusive): the last session is on 29 Sep 2026, across the DST change.
    "chicago weekly until 2026-09-29": item(
        11,
        "America/Chicago",
        datetime(2025, 12, 2, 18),
        Repeat.WEEKLY,
        until=datetime(2026, 9, 29, 23, 59),
        cancelled=["2026-09-22"],
    ),
}


def expected(series: CalendarSeries, start: datetime, end: datetime) -> list[Instant]:
    """What the bot means: its recurrence engine with cancellations and moves applied."""
    length = timedelta(minutes=series.rule.duration_minutes)
    found = []
    for occ in occurrences(series.rule, start - timedelta(days=60), end + timedelta(days=60)):
        if occ.key in series.cancelled_keys:
            continue
        moved = series.moved.get(occ.key)
        s = moved.astimezone(UTC) if moved is not None else occ.start_utc
        found.append((s, s + length))
    return sorted(pair for pair in found if start <= pair[0] < end)


def uid_of(ics: bytes, series_id: int) -> str:
    prefix = f"UID:series-{series_id}-"
    for line in ics.decode().splitlines():
        if line.startswith(prefix):
            return line[4:]
    raise AssertionError(f"no UID for series {series_id}")


# --------------------------------------------------------------------------- reader 1


def read_with_vobject(ics: bytes, start: datetime, end: datetime) -> dict[str, list[Instant]]:
    """vobject + dateutil, applying overrides and STATUS as a calendar app does.

    vobject keeps one process-wide TZID registry and, for a TZID it has not seen, takes
    pytz's zone instead of the file's. Each VTIMEZONE in the file is registered first (as
    dateutil's ``tzical`` reads it), so what is tested is the file, not a zone database.
    """
    text = ics.decode()
    zones = tz.tzical(io.StringIO(text))
    for tzid in zones.keys():  # noqa: SIM118 (tzical is not a dict)
        vobject.icalendar.registerTzid(tzid, zones.get(tzid))
    cal = vobject.readOne(text)
    masters = {}
    overrides: dict[str, list[object]] = {}
    for event in cal.vevent_list:
        uid = event.uid.value
        if hasattr(event, "recurrence_id"):
            overrides.setdefault(uid, []).append(event)
        else:
            masters[uid] = event
    margin = timedelta(days=60)
    result: dict[str, list[Instant]] = {}
    for uid, event in masters.items():
        length = event.duration.value
        rset = event.getrruleset(addRDate=True)
        starts = (
            list(rset.between(start - margin, end + margin, inc=True))
            if rset is not None
            else [event.dtstart.value]
        )
        cancelled = getattr(getattr(event, "status", None), "value", "") == "CANCELLED"
        instances: dict[datetime, Instant | None] = {
            s.astimezone(UTC): None
            if cancelled
            else (s.astimezone(UTC), s.astimezone(UTC) + length)
            for s in starts
        }
        for override in overrides.get(uid, []):
            rid = override.recurrence_id.value.astimezone(UTC)  # type: ignore[attr-defined]
            if rid in instances:
                o_start = override.dtstart.value.astimezone(UTC)  # type: ignore[attr-defined]
                instances[rid] = (o_start, o_start + override.duration.value)  # type: ignore[attr-defined]
        # DURATION in hours/minutes is exact time (RFC 5545 3.3.6): add it in UTC.
        result[uid] = sorted(
            (s, e.astimezone(UTC))
            for pair in instances.values()
            if pair is not None
            for s, e in [pair]
            if start <= s < end
        )
    return result


# --------------------------------------------------------------------------- reader 2


def icaljs_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (ICALJS_DIR / "node_modules" / "ical.js").is_dir():
        return f"ical.js is not installed (run: npm ci --prefix {ICALJS_DIR})"
    return None


def read_with_icaljs(ics: bytes, start: datetime, end: datetime) -> dict[str, list[Instant]]:
    done = subprocess.run(
        ["node", str(ICALJS_DIR / "expand.mjs"), start.isoformat(), end.isoformat()],
        input=ics,
        capture_output=True,
        check=True,
        timeout=60,
    )
    raw: dict[str, list[list[object]]] = json.loads(done.stdout)

    def at(ms: object) -> datetime:
        assert isinstance(ms, int | float)
        return datetime.fromtimestamp(ms / 1000, UTC)

    return {
        uid: sorted((at(s), at(e)) for s, e, status in rows if status != "CANCELLED")
        for uid, rows in raw.items()
    }


Reader = Callable[[bytes, datetime, datetime], dict[str, list[Instant]]]


def reader(name: str) -> Reader:
    if name == "ical.js":
        reason = icaljs_reason()
        if reason is not None:
            if os.environ.get("FAMILYBOT_REQUIRE_ICALJS") == "1":
                pytest.fail(f"ical.js is required here: {reason}")
            pytest.skip(reason)
        return read_with_icaljs
    return read_with_vobject


READERS = ["vobject+dateutil", "ical.js"]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("reader_name", READERS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_client_reads_every_session_at_the_time_the_bot_means(
    reader_name: str, case: str
) -> None:
    series = CASES[case]
    ics = build_ics([series], calendar_name="c", now=NOW, install_id="a1b2c3")
    want = expected(series, *YEAR)
    assert len(want) >= 11  # a real year of sessions, not a vacuous comparison
    got = reader(reader_name)(ics, *YEAR).get(uid_of(ics, series.series_id), [])
    wrong = [
        (w[0].isoformat(), g[0].isoformat()) for w, g in zip(want, got, strict=False) if w != g
    ]
    assert got == want, f"{reader_name} reads {len(wrong)} of {len(want)} differently: {wrong[:5]}"


@pytest.mark.parametrize("reader_name", READERS)
def test_every_case_in_one_file_agrees(
    reader_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """One file with every zone (as `/my calendar` for a member of many groups), and the
    agreement table: sessions the bot means vs sessions each reader finds at that time."""
    read = reader(reader_name)
    items = list(CASES.values())
    ics = build_ics(items, calendar_name="c", now=NOW, install_id="a1b2c3")
    got = read(ics, *YEAR)
    rows = []
    for name, series in sorted(CASES.items()):
        want = expected(series, *YEAR)
        found = got.get(uid_of(ics, series.series_id), [])
        same = len(set(want) & set(found))
        rows.append((name, len(want), same))
    with capsys.disabled():
        print(f"\n{reader_name}: sessions expected / read at the bot's time")
        for name, want_n, same in rows:
            print(f"  {name:40} {want_n:4} {same:4}")
        print(f"  {'total':40} {sum(r[1] for r in rows):4} {sum(r[2] for r in rows):4}")
    assert all(want_n == same for _, want_n, same in rows), rows


def test_uids_are_unique_per_install() -> None:
    """Two installs' "series 1" must not overwrite each other in one calendar app."""
    series = CASES["new-york weekly"]
    one = build_ics([series], calendar_name="c", now=NOW, install_id="install-one")
    two = build_ics([series], calendar_name="c", now=NOW, install_id="install-two")
    assert uid_of(one, 1) != uid_of(two, 1)
    # Each VTIMEZONE onset is its own RDATE line: no comma lists for readers to misread.
    rdates = [line for line in one.decode().splitlines() if line.startswith("RDATE")]
    assert rdates and not any("," in line for line in rdates)


def test_neutral_titles_name_no_group_anywhere() -> None:
    """For calendars shared with family: vobject finds every session, at the right time,
    and no group name or session title in any property of any component."""
    from dataclasses import replace

    names = ["Parents of teens", "Grief Circle", "Eating Disorder Family Group"]
    items = [
        replace(series, title=f"{names[n % 3]} weekly", group_name=names[n % 3])
        for n, series in enumerate(CASES.values())
    ]
    full = build_ics(items, calendar_name="FamilyBot sessions", now=NOW, install_id="a1")
    neutral = build_ics(
        items, calendar_name="FamilyBot sessions", now=NOW, install_id="a1", neutral=True
    )
    unfolded = neutral.decode().replace("\r\n ", "")
    cal = vobject.readOne(neutral.decode())
    values = [
        str(prop.value)
        for component in cal.components()
        for prop in component.getChildren()
        if hasattr(prop, "value")
    ] + [str(prop.value) for prop in cal.getChildren() if hasattr(prop, "value")]
    for name in names:
        assert name.encode() in full  # the full file names them: the check can fail
        assert name not in unfolded and name.casefold() not in unfolded.casefold()
        assert not any(name.casefold() in value.casefold() for value in values)
    assert {e.summary.value for e in cal.vevent_list} == {"Support group session"}
    assert all("support group session" in e.description.value for e in cal.vevent_list)
    got = read_with_vobject(neutral, *YEAR)
    for series in items:
        assert got[uid_of(neutral, series.series_id)] == expected(series, *YEAR)
